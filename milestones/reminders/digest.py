"""Delivering one applicant's daily digest: every reminder attached to it for one local day, in one
email, with the same claim/send/mark steps as a single reminder."""

from __future__ import annotations

from datetime import datetime

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from pathway.lib.emails import send_templated_email

from ..models import DigestDelivery, Reminder
from . import smtp
from .content import digest_context, headers
from .delivery import claim, describe, release, why_not
from .schedule import next_retry_at

Status = Reminder.Status


def deliver_digest(*, digest_id: int, mailer=None) -> str:
    """Send one applicant's digest for one local day: every reminder attached to it, in one email."""
    now = timezone.now()
    if not claim(DigestDelivery, digest_id, now):
        return "skipped"
    digest = DigestDelivery.objects.select_related("user__profile").get(pk=digest_id)
    keep = _still_due(digest, now)
    if not keep:
        DigestDelivery.objects.filter(pk=digest_id).update(status=Status.CANCELLED)
        return "cancelled"
    try:
        _send(digest, keep, now, mailer)
    except BaseException as exc:
        release(DigestDelivery, digest_id, exc)
        raise
    _mark_sent(digest_id, keep, claimed_at=now)
    return "sent"


def _still_due(digest: DigestDelivery, now: datetime) -> list[Reminder]:
    """The digest's planned reminders that should still go out, soonest deadline first; the others
    are cancelled."""
    rows = list(
        digest.reminders.filter(status=Status.PLANNED)
        .select_related("milestone__template", "milestone__applicant__profile")
        .order_by("milestone__due_at")
    )
    keep, drop = [], []
    for row in rows:
        (drop if why_not(row, now) else keep).append(row)
    Reminder.objects.filter(pk__in=[r.pk for r in drop], status=Status.PLANNED).update(
        status=Status.CANCELLED, last_error="no longer due at digest time"
    )
    return keep


def _send(digest: DigestDelivery, keep: list[Reminder], now: datetime, mailer) -> None:
    context = digest_context(digest.user, keep, digest.local_date, now=now)
    with smtp.connection(mailer) as connection:
        send_templated_email(
            "reminder_digest",
            to=[digest.user.email],
            context=context,
            headers=headers(digest.message_id, context["unsubscribe_url"]),
            mailer=connection,
        )


def _mark_sent(digest_id: int, keep: list[Reminder], *, claimed_at: datetime) -> None:
    sent_at = timezone.now()
    with transaction.atomic():
        DigestDelivery.objects.filter(pk=digest_id, status=Status.SENDING).update(
            status=Status.SENT, sent_at=sent_at, last_error="", retry_at=None
        )
        Reminder.objects.filter(pk__in=[r.pk for r in keep], status=Status.PLANNED).update(
            status=Status.SENT,
            sent_at=sent_at,
            attempts=F("attempts") + 1,
            claimed_at=claimed_at,
            retry_at=None,
        )


def mark_digest_failed(*, digest_id: int, error: BaseException) -> None:
    """Retries ran out for a digest: it and its reminders show as failed, and the sweeper tries the
    digest again later while the last of its deadlines is ahead."""
    with transaction.atomic():
        digest = (
            DigestDelivery.objects.select_for_update().filter(pk=digest_id, status=Status.PLANNED).first()
        )
        if digest is None:
            return
        waiting = digest.reminders.filter(status=Status.PLANNED)
        last_deadline = max(waiting.values_list("due_at", flat=True), default=None)
        now = timezone.now()
        failures = digest.failures + 1
        retry_at = next_retry_at(now, failures, last_deadline) if last_deadline else None
        DigestDelivery.objects.filter(pk=digest_id).update(
            status=Status.FAILED, last_error=describe(error), failures=failures, retry_at=retry_at
        )
        waiting.update(status=Status.FAILED, last_error=describe(error), retry_at=retry_at)
