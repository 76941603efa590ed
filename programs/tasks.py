"""Celery tasks of the programs app (found by autodiscovery): the season's reminders. Each takes ids and
calls a service; new rows are enqueued after the planning transaction commits."""

from __future__ import annotations

import functools
import smtplib

from celery import shared_task
from django.db import InterfaceError, OperationalError, transaction

from .season import reminders

TRANSIENT = (smtplib.SMTPException, OSError, OperationalError, InterfaceError)


@shared_task(bind=True, acks_late=True, autoretry_for=TRANSIENT, retry_backoff=60, retry_backoff_max=300,
             retry_jitter=True, max_retries=6)
def send_season_reminder(self, reminder_id: int) -> str:
    """Deliver one season reminder (claimed under a lock: a duplicate message does nothing)."""
    return reminders.deliver_season_reminder(reminder_id=reminder_id)


def _enqueue(ids: list[int]) -> None:
    for pk in ids:
        send_season_reminder.delay(pk)


@shared_task
def plan_season_reminders() -> int:
    """Beat: plan the season reminders that have come due and enqueue them after commit."""
    with transaction.atomic():
        ids = reminders.plan_season_reminders()
        transaction.on_commit(functools.partial(_enqueue, ids))
    return len(ids)
