"""The planning sweep: cancel the unsent rows of deadlines that moved, insert the reminders whose send
instant has come, and route each new row either to the broker alone or into the applicant's daily digest.

Planning enqueues nothing. It returns the new ids (`PlanResult`); the caller hands them to the broker
after commit (`milestones.tasks.plan_and_enqueue`), so a worker never sees an uncommitted row.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.db import connection, transaction
from django.db.models import F, Q
from django.utils import timezone

from ..models import DigestDelivery, Reminder
from . import portable, postgresql
from .schedule import DIGEST_HOUR, NewRow, longest_lead_days, zone


@dataclass
class PlanResult:
    """What one planning sweep did: the new rows (`planned`), those of them that go to the broker alone
    (`enqueued`), and the digests created for the rest (`digests`). The caller enqueues the last two."""

    planned: list[int] = field(default_factory=list)
    enqueued: list[int] = field(default_factory=list)
    digests: list[int] = field(default_factory=list)
    superseded: int = 0


def plan_due_reminders(*, now: datetime | None = None) -> PlanResult:
    """Insert the reminders whose send instant has come and route the new rows, in one transaction.

    When several lead times of one milestone are due at once (the applicant joined, or switched
    reminders on, late), only the smallest one is planned: the freshest reminder says everything the
    stale ones would, and three emails about one deadline in one morning read like a malfunction. The
    skipped lead times are never sent later either, because a smaller lead time stays the freshest.
    """
    now = now or timezone.now()
    horizon = now + timedelta(days=longest_lead_days() + 2)
    insert_due = postgresql.insert_due if connection.vendor == "postgresql" else portable.insert_due
    with transaction.atomic():
        superseded = supersede_moved()
        result = route(insert_due(now, horizon), now)
    result.superseded = superseded
    return result


def supersede_moved() -> int:
    """Cancel the unsent rows (planned, or failed and waiting for a retry) whose deadline instant is no
    longer their milestone's; returns how many.

    A reminder belongs to one deadline instant. When the deadline moves (recomputed from a cycle event,
    re-planned after a time-zone change), the insert that follows plans the new instant's own rows, so
    the old instant's unsent ones must not go out as well. The send-time check says the same for a row
    already on the broker; this makes the settings page and the database say it too.
    """
    moved = ~Q(due_at=F("milestone__due_at")) | Q(milestone__due_at__isnull=True)
    return Reminder.objects.filter(
        moved, status__in=[Reminder.Status.PLANNED, Reminder.Status.FAILED]
    ).update(status=Reminder.Status.CANCELLED, retry_at=None, last_error="deadline moved")


def route(rows: list[NewRow], now: datetime) -> PlanResult:
    """Send new rows alone, or attach them to today's digest for applicants who chose the digest."""
    result = PlanResult(planned=[r.id for r in rows])
    by_user: dict[int, list[NewRow]] = defaultdict(list)
    for row in rows:
        if row.daily_digest:
            by_user[row.user_id].append(row)
        else:
            result.enqueued.append(row.id)
    for user_id, user_rows in by_user.items():
        _route_to_digest(user_id, user_rows, now, result)
    return result


def _route_to_digest(user_id: int, rows: list[NewRow], now: datetime, result: PlanResult) -> None:
    ids = [r.id for r in rows]
    local_now = now.astimezone(zone(rows[0].time_zone))
    if local_now.time() < DIGEST_HOUR:
        # Only urgent rows are planned before the digest hour (their deadline comes first): they
        # cannot wait for the digest.
        result.enqueued.extend(ids)
        return
    digest, created = DigestDelivery.objects.get_or_create(user_id=user_id, local_date=local_now.date())
    # Lock the digest so its send task cannot claim it between this check and the attach.
    still_open = DigestDelivery.objects.select_for_update().filter(
        pk=digest.pk, status=Reminder.Status.PLANNED
    )
    if still_open.exists():
        Reminder.objects.filter(pk__in=ids).update(digest=digest)
        if created:
            result.digests.append(digest.pk)
    else:
        # Today's digest has gone already: a reminder that came due later in the day goes alone.
        result.enqueued.extend(ids)
