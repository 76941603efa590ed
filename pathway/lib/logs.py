"""Logging without secrets: the calendar feed and the unsubscribe link carry their credential in the URL
path, and access logs (runserver's django.server, gunicorn.access) and Django's 4xx/5xx warnings
(django.request) write paths down. Log files are kept longer and read by more people than the database.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping

# The path segment after these prefixes is a secret (see pathway.web.applicant.urls). Unanchored, so a
# Referer header or a full URL is masked as well as a bare path.
SECRET_PATH = re.compile(r"(/calendar/|/reminders/unsubscribe/)[^/\s?#\"']+")
MASK = r"\1[secret]"


def mask_secret_paths(text: str) -> str:
    return SECRET_PATH.sub(MASK, text)


def _masked(value):
    return mask_secret_paths(value) if isinstance(value, str) else value


class SecretPathFilter(logging.Filter):
    """Masks the secrets in a record's message and arguments; never drops a record.

    Arguments are a tuple (Django) or one mapping of "atoms" (gunicorn's access log, whose class
    answers "-" for unknown keys, so it is changed in place rather than copied).
    """

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = _masked(record.msg)
        if isinstance(record.args, Mapping):
            for key, value in record.args.items():
                record.args[key] = _masked(value)
        elif isinstance(record.args, tuple):
            record.args = tuple(_masked(arg) for arg in record.args)
        return True
