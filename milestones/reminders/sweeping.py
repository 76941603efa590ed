"""The sweeper: return rows whose worker died to the queue, and find planned rows nobody is working on.

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

from ..models import DigestDelivery, Reminder

log = logging.getLogger(__name__)


def stuck_after() -> timedelta:
    """How long a row may sit in "sending" before the sweeper assumes its worker died.

    Longer than the send task's hard time limit and the longest retry backoff, so that a live task is
    never swept from under itself.
    """
    return timedelta(seconds=getattr(settings, "REMINDER_STUCK_AFTER_SECONDS", 600))


@dataclass
class Requeued:
    """What one sweep found: the planned reminders and digests to enqueue again (`reminder_ids`,
    `digest_ids`), and how many of them had been stuck in "sending"."""

    reminder_ids: list[int] = field(default_factory=list)
    digest_ids: list[int] = field(default_factory=list)
    stuck: int = 0
    stuck_digests: int = 0

    @property
    def count(self) -> int:
        return len(self.reminder_ids) + len(self.digest_ids)


def requeue_stuck(*, now: datetime | None = None, older_than: timedelta | None = None) -> Requeued:
    """Return rows stuck in "sending" to "planned" and list the planned rows nobody is working on.

    A row stays in "sending" when its worker was killed mid-send; a planned row is orphaned when its
    broker message was lost (a worker killed with the message reserved, a failed enqueue after commit).
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
            Reminder.objects.filter(idle, status=Reminder.Status.PLANNED, digest__isnull=True).values_list(
                "pk", flat=True
            )
        )
        result.digest_ids = list(
            DigestDelivery.objects.filter(idle, status=Reminder.Status.PLANNED).values_list("pk", flat=True)
        )
    if result.stuck or result.stuck_digests:
        log.warning("requeued %d stuck reminders and %d stuck digests", result.stuck, result.stuck_digests)
    return result


def _return_to_planned(model: type[Reminder] | type[DigestDelivery], cutoff: datetime) -> int:
    """Rows of `model` claimed before `cutoff` and still "sending" go back to "planned"; returns how many."""
    # skip_locked: a row a live worker is marking sent right now is not stuck; leave it alone.
    stuck = list(
        model.objects.select_for_update(skip_locked=True)
        .filter(status=Reminder.Status.SENDING, claimed_at__lt=cutoff)
        .values_list("pk", flat=True)
    )
    model.objects.filter(pk__in=stuck).update(status=Reminder.Status.PLANNED)
    return len(stuck)
