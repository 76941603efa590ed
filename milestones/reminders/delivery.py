"""Delivering one reminder: claim the row (recording the attempt and its Message-ID), check the world
again, send, mark it sent; when the send task's retries run out, mark it failed with the sweeper's next
try.

The claim/cancel/mark/release steps serve every ClaimedDelivery: the digest (`digest.py`), advisors'
comments (`comments.py`), and pathway's advisor digest and invitation emails; the send-time check is
shared with the digest.
"""

from __future__ import annotations

import smtplib
from collections.abc import Callable
from datetime import datetime

from django.db import connection
from django.db.models import F
from django.utils import timezone

from pathway.lib.emails import send_templated_email

from ..models import ClaimedDelivery, DigestDelivery, MilestoneComment, Reminder
from . import smtp
from .content import headers, message_id_for, reminder_context
from .rows import load_for_delivery
from .schedule import due_leads, next_retry_at

Status = ClaimedDelivery.Status


def claim(model: type[ClaimedDelivery], pk: int, now: datetime, *, kind: str | None = None) -> bool:
    """planned -> sending, committed at once: only one worker can hold a row. False when another
    worker holds it, or it was sent or cancelled already.

    The attempt is recorded before anything is sent: its count, its time and, the first time, the
    Message-ID that every attempt of this row will carry. `model` is Reminder, DigestDelivery,
    MilestoneComment, or any other ClaimedDelivery, which then names its `kind` (the Message-ID's
    prefix, unique per table).
    """
    kind = kind or {DigestDelivery: "digest", MilestoneComment: "comment"}.get(model, "reminder")
    # Plain SQL, the statement the ORM would write: compiling the ORM's UPDATE cost more CPU than the
    # round trip itself, on every email (BENCHMARKS.md).
    sql = (
        "UPDATE {table} SET status = %s, attempts = attempts + 1, claimed_at = %s,"
        " message_id = CASE WHEN message_id = '' THEN %s ELSE message_id END"
        " WHERE id = %s AND status = %s"
    )
    params = [Status.SENDING, _db_time(now), message_id_for(kind, pk), pk, Status.PLANNED]
    return _execute(model, sql, params) == 1


def mark_sent(model: type[ClaimedDelivery], pk: int) -> None:
    """sending -> sent, at once after the server accepted the message (plain SQL, like `claim`)."""
    sql = "UPDATE {table} SET status = %s, sent_at = %s, last_error = '', retry_at = NULL WHERE id = %s AND status = %s"
    _execute(model, sql, [Status.SENT, _db_time(timezone.now()), pk, Status.SENDING])


def cancel(model: type[ClaimedDelivery], pk: int, reason: str) -> None:
    """sending -> cancelled: the send-time check found the email no longer wanted; `reason` says why."""
    model.objects.filter(pk=pk, status=Status.SENDING).update(status=Status.CANCELLED, last_error=reason)


def mark_failed(
    model: type[ClaimedDelivery], pk: int, error: BaseException, *, give_up_at: Callable[[ClaimedDelivery], datetime]
) -> None:
    """planned -> failed, when the send task's retries ran out: the error, one failure more, and the
    sweeper's next try (`next_retry_at`) before `give_up_at(row)`; none if the address is refused for good."""
    row = model.objects.filter(pk=pk, status=Status.PLANNED).first()
    if row is None:
        return
    retry_at = None if refused_for_good(error) else next_retry_at(timezone.now(), row.failures + 1, give_up_at(row))
    model.objects.filter(pk=pk, status=Status.PLANNED).update(
        status=Status.FAILED, last_error=describe(error), failures=F("failures") + 1, retry_at=retry_at
    )


def _db_time(at: datetime):
    return connection.ops.adapt_datetimefield_value(at)


def _execute(model, sql: str, params: list) -> int:
    with connection.cursor() as cursor:
        cursor.execute(sql.format(table=connection.ops.quote_name(model._meta.db_table)), params)
        return cursor.rowcount


def release(model: type[ClaimedDelivery], pk: int, exc: BaseException) -> None:
    """Back to planned after a failed send, so that Celery's retry (or the sweeper) can claim it again."""
    model.objects.filter(pk=pk, status=Status.SENDING).update(status=Status.PLANNED, last_error=describe(exc))


def why_not(reminder: Reminder, now: datetime) -> str:
    """Assert the world again at send time: why this reminder must not go out now, or ""."""
    milestone = reminder.milestone
    user = milestone.applicant
    profile = getattr(user, "profile", None)
    if not milestone.is_open or not milestone.is_applicable:
        return "milestone is no longer open"
    if milestone.due_at != reminder.due_at:
        # Its text would name a deadline that is not the milestone's any more; the planner plans the
        # new deadline's own reminders.
        return "deadline moved"
    if milestone.due_at <= now:
        return "deadline has passed"
    if not user.is_active:
        return "account is inactive"
    if profile is None or not profile.email_reminders:
        return "applicant turned email reminders off"
    if fresher := _fresher_lead(reminder, profile, now):
        return f"superseded by the {fresher}-day reminder"
    return ""


def _fresher_lead(reminder: Reminder, profile, now: datetime) -> int | None:
    """A smaller lead time of the same deadline whose moment has come too (this row waited out an
    outage, or a lost broker message): that reminder says everything this one would, and fresher. The
    planner plans it (it plans the smallest due lead time), so this one is dropped, not sent as well."""
    due = [lead for lead, _ in due_leads(profile, reminder.milestone.template, reminder.due_at, now)]
    fresher = [lead for lead in due if lead < reminder.lead_days]
    return min(fresher) if fresher else None


def describe(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"[:500]


def refused_for_good(exc: BaseException) -> bool:
    """The server refused every recipient with a permanent (5xx) reply: the address is wrong, and
    trying again later changes nothing. Anything else (down, busy, timed out) may pass."""
    return isinstance(exc, smtplib.SMTPRecipientsRefused) and all(
        code >= 500 for code, _ in exc.recipients.values()
    )


def deliver_reminder(*, reminder_id: int, mailer=None) -> str:
    """Claim, re-check, send and mark one reminder; returns what happened ("sent", "skipped", ...)."""
    now = timezone.now()
    if not claim(Reminder, reminder_id, now):
        return "skipped"  # sent, cancelled, or another worker holds it
    # One query: the row, what why_not and the email need, and the deadline an earlier reminder named.
    reminder = load_for_delivery(reminder_id)
    if reason := why_not(reminder, now):
        cancel(Reminder, reminder_id, reason)
        return "cancelled"
    try:
        _send(reminder, now, mailer)
    except BaseException as exc:
        release(Reminder, reminder_id, exc)
        raise
    # Marked right after the server accepted the message, before anything else (even SMTP QUIT):
    # this short gap is the whole at-least-once window described in the package docstring.
    mark_sent(Reminder, reminder_id)
    return "sent"


def _send(reminder: Reminder, now: datetime, mailer) -> None:
    # Rendered from the milestone as it is now, which why_not has just checked is this row's deadline.
    context = reminder_context(reminder, now=now)
    with smtp.connection(mailer) as connection:
        send_templated_email(
            "milestone_reminder",
            to=[reminder.milestone.applicant.email],
            context=context,
            headers=headers(reminder.message_id, context["unsubscribe_url"]),
            mailer=connection,
        )


def mark_reminder_failed(*, reminder_id: int, error: BaseException) -> None:
    """The send task's retries ran out: the applicant sees the row as failed, with why, on their
    settings page, and the sweeper tries it again later (`next_retry_at`) while its deadline is ahead."""
    mark_failed(Reminder, reminder_id, error, give_up_at=lambda row: row.due_at)
