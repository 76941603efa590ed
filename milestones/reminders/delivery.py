"""Delivering one reminder: claim the row, check the world again, send, mark it sent.

The claim/send/mark steps and the send-time check are shared with the digest (`digest.py`).
"""

from __future__ import annotations

from datetime import datetime

from django.db.models import F
from django.utils import timezone

from pathway.lib.emails import send_templated_email

from ..models import DigestDelivery, Reminder
from . import smtp
from .content import headers, reminder_context

Status = Reminder.Status


def claim(model: type[Reminder] | type[DigestDelivery], pk: int, now: datetime) -> bool:
    """planned -> sending, committed at once: only one worker can hold a row. False when another
    worker holds it, or it was sent or cancelled already."""
    return bool(
        model.objects.filter(pk=pk, status=Status.PLANNED).update(
            status=Status.SENDING, attempts=F("attempts") + 1, claimed_at=now
        )
    )


def release(model: type[Reminder] | type[DigestDelivery], pk: int, exc: BaseException) -> None:
    """Back to planned after a failed send, so that Celery's retry (or the sweeper) can claim it again."""
    model.objects.filter(pk=pk, status=Status.SENDING).update(status=Status.PLANNED, last_error=describe(exc))


def why_not(reminder: Reminder, now: datetime) -> str:
    """Assert the world again at send time: why this reminder must not go out now, or ""."""
    milestone = reminder.milestone
    user = milestone.applicant
    profile = getattr(user, "profile", None)
    if not milestone.is_open or not milestone.is_applicable:
        return "milestone is no longer open"
    if milestone.due_at is None or milestone.due_at <= now:
        return "deadline has passed"
    if not user.is_active:
        return "account is inactive"
    if profile is None or not profile.email_reminders:
        return "applicant turned email reminders off"
    return ""


def describe(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"[:500]


def deliver_reminder(*, reminder_id: int, mailer=None) -> str:
    """Claim, re-check, send and mark one reminder; returns what happened ("sent", "skipped", ...)."""
    now = timezone.now()
    if not claim(Reminder, reminder_id, now):
        return "skipped"  # sent, cancelled, or another worker holds it
    reminder = Reminder.objects.select_related("milestone__template", "milestone__applicant__profile").get(
        pk=reminder_id
    )
    if reason := why_not(reminder, now):
        Reminder.objects.filter(pk=reminder_id, status=Status.SENDING).update(
            status=Status.CANCELLED, last_error=reason
        )
        return "cancelled"
    try:
        _send(reminder, now, mailer)
    except BaseException as exc:
        release(Reminder, reminder_id, exc)
        raise
    # Marked right after the server accepted the message, before anything else (even SMTP QUIT):
    # this short gap is the whole at-least-once window described in the package docstring.
    Reminder.objects.filter(pk=reminder_id, status=Status.SENDING).update(
        status=Status.SENT, sent_at=timezone.now(), last_error=""
    )
    return "sent"


def _send(reminder: Reminder, now: datetime, mailer) -> None:
    context = reminder_context(reminder, now=now)
    with smtp.connection(mailer) as connection:
        send_templated_email(
            "milestone_reminder",
            to=[reminder.milestone.applicant.email],
            context=context,
            headers=headers(f"reminder-{reminder.pk}", context["unsubscribe_url"]),
            mailer=connection,
        )


def mark_reminder_failed(*, reminder_id: int, error: BaseException) -> None:
    """Retries ran out: the applicant sees it as failed on their settings page."""
    Reminder.objects.filter(pk=reminder_id, status=Status.PLANNED).update(
        status=Status.FAILED, last_error=describe(error)
    )
