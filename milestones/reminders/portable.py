"""Planning in Python: the same selection as `postgresql.insert_due`, for SQLite (`make run`).

Fine for thousands of milestones; a test checks on PostgreSQL that both plan exactly the same rows.
"""

from __future__ import annotations

from datetime import datetime

from django.db.models import Q

from ..models import Milestone, Reminder
from .schedule import EMAIL, NewRow, applicant_tz, digest_may_plan, due_leads


def insert_due(now: datetime, horizon: datetime) -> list[NewRow]:
    """Insert the due reminders not planned before; returns the rows this call inserted."""
    wanted = [row for milestone in _candidates(now, horizon) if (row := _freshest_due(milestone, now))]
    fresh = _not_planned_yet(wanted)
    if not fresh:
        return []
    return _insert(fresh, now)


def _candidates(now: datetime, horizon: datetime):
    """Open milestones near their deadline whose applicant is active and wants email reminders."""
    return (
        Milestone.objects.open()
        .filter(
            due_at__gt=now,
            due_at__lte=horizon,
            applicant__is_active=True,
            applicant__profile__email_reminders=True,
        )
        .select_related("template", "applicant__profile")
    )


def _freshest_due(milestone: Milestone, now: datetime) -> Reminder | None:
    """The reminder for the smallest lead time of the current deadline whose send instant has come."""
    profile = milestone.applicant.profile
    if profile.daily_digest and not digest_may_plan(milestone.due_at, now, applicant_tz(profile)):
        return None
    due = due_leads(profile, milestone.template, milestone.due_at, now)
    if not due:
        return None
    lead, send_at = min(due)
    return Reminder(
        milestone=milestone, due_at=milestone.due_at, lead_days=lead, channel=EMAIL, scheduled_for=send_at
    )


def _not_planned_yet(wanted: list[Reminder]) -> list[Reminder]:
    """Those of `wanted` with no row for their deadline instant and lead time; cancelled rows do not
    count (the unique constraint ignores them too)."""
    if not wanted:
        return []
    existing = set(
        Reminder.objects.filter(milestone__in=[r.milestone_id for r in wanted], channel=EMAIL)
        .exclude(status=Reminder.Status.CANCELLED)
        .values_list("milestone_id", "due_at", "lead_days")
    )
    return [r for r in wanted if (r.milestone_id, r.due_at, r.lead_days) not in existing]


def _insert(fresh: list[Reminder], now: datetime) -> list[NewRow]:
    for reminder in fresh:
        reminder.created_at = now
    # ignore_conflicts returns no ids; the rows are found again by their keys and this sweep's stamp.
    Reminder.objects.bulk_create(fresh, ignore_conflicts=True)
    keys = Q()
    for r in fresh:
        keys |= Q(milestone_id=r.milestone_id, due_at=r.due_at, lead_days=r.lead_days)
    inserted = Reminder.objects.filter(
        keys, channel=EMAIL, created_at=now, status=Reminder.Status.PLANNED
    ).select_related("milestone__applicant__profile")
    return [
        NewRow(
            r.pk,
            r.milestone.applicant_id,
            r.milestone.applicant.profile.daily_digest,
            r.milestone.applicant.profile.time_zone,
        )
        for r in inserted
    ]
