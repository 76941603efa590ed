"""Absolute URLs for links that leave the site (emails, the calendar feed): built from SITE_URL."""

from __future__ import annotations

from django.conf import settings
from django.urls import reverse


def absolute_url(viewname: str, *args, **kwargs) -> str:
    return settings.SITE_URL + reverse(viewname, args=args or None, kwargs=kwargs or None)
