"""The sweeper: return rows whose worker died to the queue, find planned rows nobody is working on, and
try failed rows again when their time comes.

Like planning, sweeping enqueues nothing: it returns the ids (`Requeued`) for the caller to enqueue
after commit (`milestones.tasks.requeue_and_enqueue`).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from ..models import DigestDelivery, MilestoneComment, Reminder
from .delivery import why_not
from .smtp import send_time_limits

log = logging.getLogger(__name__)
Status = Reminder.Status


def stuck_after() -> timedelta:
    """How long a row may sit in "sending" before the sweeper assumes its worker died.

    Longer than the send task's hard time limit and the longest retry backoff, so that a live task is
    never swept from under itself: never less than that limit and a minute, whatever the setting says.
    """
    configured = getattr(settings, "REMINDER_STUCK_AFTER_SECONDS", 600)
    return timedelta(seconds=max(configured, send_time_limits()[1] + 60))


@dataclass
class Requeued:
    """What one sweep found: the planned reminders and digests to enqueue again (`reminder_ids`,
    `digest_ids`), and how many of them had been stuck in "sending"."""

    reminder_ids: list[int] = field(default_factory=list)
    digest_ids: list[int] = field(default_factory=list)
    comment_ids: list[int] = field(default_factory=list)
    stuck: int = 0
    stuck_digests: int = 0
    stuck_comments: int = 0
    retried: int = 0

    @property
    def count(self) -> int:
        return len(self.reminder_ids) + len(self.digest_ids) + len(self.comment_ids)


def requeue_stuck(*, now: datetime | None = None, older_than: timedelta | None = None) -> Requeued:
    """Return rows stuck in "sending" to "planned", list the planned rows nobody is working on, and
    return failed rows whose retry time has come to "planned" too.

    A row stays in "sending" when its worker was killed mid-send; a planned row is orphaned when its
    broker message was lost (a worker killed with the message reserved, a failed enqueue after commit);
    a row is failed when the send task's retries ran out (an SMTP outage longer than them).
    Enqueueing a row twice is harmless: only one task can claim it.
    """
    now = now or timezone.now()
    cutoff = now - (older_than if older_than is not None else stuck_after())
    idle = Q(claimed_at__lt=cutoff) | Q(claimed_at__isnull=True, created_at__lt=cutoff)
    with transaction.atomic():
        result = Requeued(
            stuck=_return_to_planned(Reminder, cutoff),
            stuck_digests=_return_to_planned(DigestDelivery, cutoff),
        )
        result.reminder_ids = list(
            Reminder.objects.filter(idle, status=Status.PLANNED, digest__isnull=True).values_list(
                "pk", flat=True
            )
        )
        result.digest_ids = list(
            DigestDelivery.objects.filter(idle, status=Status.PLANNED).values_list("pk", flat=True)
        )
        retried = _retry_failed_reminders(now)
        retried_digests = _retry_failed_digests(now)
        result.stuck_comments, result.comment_ids, retried_comments = _sweep_comments(now, cutoff, idle)
    result.comment_ids += [pk for pk in retried_comments if pk not in set(result.comment_ids)]
    result.reminder_ids += [pk for pk in retried if pk not in set(result.reminder_ids)]
    result.digest_ids += [pk for pk in retried_digests if pk not in set(result.digest_ids)]
    result.retried = len(retried) + len(retried_digests) + len(retried_comments)
    if result.stuck_comments:
        log.warning("requeued %d stuck comment emails", result.stuck_comments)
    if result.stuck or result.stuck_digests:
        log.warning("requeued %d stuck reminders and %d stuck digests", result.stuck, result.stuck_digests)
    if result.retried:
        log.info("retrying %d failed reminders and digests", result.retried)
    return result


def _retry_failed_reminders(now: datetime) -> list[int]:
    """Failed reminders whose retry time has come go back to "planned"; returns their ids.

    Each is asked the send-time question first: one whose deadline has passed stays failed for good
    (the applicant's settings page says so), one that is no longer wanted (the deadline moved, a fresher
    reminder is due, the milestone was closed, reminders were switched off) is cancelled.
    """
    rows = list(
        Reminder.objects.select_for_update(skip_locked=True, of=("self",))
        .filter(status=Status.FAILED, retry_at__lte=now, digest__isnull=True)
        .select_related("milestone__template", "milestone__applicant__profile")
    )
    retry, passed, unwanted = [], [], {}
    for row in rows:
        reason = why_not(row, now)
        if not reason:
            retry.append(row.pk)
        elif reason == "deadline has passed":
            passed.append(row.pk)
        else:
            unwanted[row.pk] = reason
    Reminder.objects.filter(pk__in=retry).update(status=Status.PLANNED, retry_at=None)
    Reminder.objects.filter(pk__in=passed).update(retry_at=None)
    for pk, reason in unwanted.items():
        Reminder.objects.filter(pk=pk).update(status=Status.CANCELLED, retry_at=None, last_error=reason)
    return retry


def _retry_failed_digests(now: datetime) -> list[int]:
    """Failed digests whose retry time has come go back to "planned" with their failed reminders (the
    digest's send-time check drops those no longer due); returns their ids."""
    ids = list(
        DigestDelivery.objects.select_for_update(skip_locked=True)
        .filter(status=Status.FAILED, retry_at__lte=now)
        .values_list("pk", flat=True)
    )
    DigestDelivery.objects.filter(pk__in=ids).update(status=Status.PLANNED, retry_at=None)
    Reminder.objects.filter(digest_id__in=ids, status=Status.FAILED).update(
        status=Status.PLANNED, retry_at=None
    )
    return ids


def _sweep_comments(now: datetime, cutoff: datetime, idle: Q) -> tuple[int, list[int], list[int]]:
    """The emails about advisors' comments, swept like reminders: stuck ones back to "planned", the
    planned ones nobody is working on, and failed ones whose retry time has come (the retry time is
    only set while the comment is recent, see `comments.mark_comment_failed`)."""
    stuck = _return_to_planned(MilestoneComment, cutoff)
    orphaned = list(MilestoneComment.objects.filter(idle, status=Status.PLANNED).values_list("pk", flat=True))
    retry = list(
        MilestoneComment.objects.select_for_update(skip_locked=True)
        .filter(status=Status.FAILED, retry_at__lte=now)
        .values_list("pk", flat=True)
    )
    MilestoneComment.objects.filter(pk__in=retry).update(status=Status.PLANNED, retry_at=None)
    return stuck, orphaned, retry


def _return_to_planned(model: type[Reminder | DigestDelivery | MilestoneComment], cutoff: datetime) -> int:
    """Rows of `model` claimed before `cutoff` and still "sending" go back to "planned"; returns how many."""
    # skip_locked: a row a live worker is marking sent right now is not stuck; leave it alone.
    stuck = list(
        model.objects.select_for_update(skip_locked=True)
        .filter(status=Status.SENDING, claimed_at__lt=cutoff)
        .values_list("pk", flat=True)
    )
    model.objects.filter(pk__in=stuck).update(status=Status.PLANNED)
    return len(stuck)
