"""When a reminder goes out: the rules both planners share (the applicant's wall clock, lead times,
the digest hour), the row record they return, and when the sweeper tries a failed row again."""

from __future__ import annotations

import zoneinfo
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta

from django.conf import settings

from ..models import ApplicantProfile, MilestoneTemplate

EMAIL = "email"
# Individual reminders go out at 09:00 local time; the digest at 08:00 local, so its reminders are
# planned for 08:00 too (otherwise the 09:00 ones would wait for the next day's digest).
REMINDER_HOUR = time(9, 0)
DIGEST_HOUR = time(8, 0)
# Never remind in the last hour before a deadline: if 09:00 is later than that, remind one hour before.
LAST_CALL = timedelta(hours=1)
# Lead times above this are typos (a year is the longest sensible warning); they are ignored.
MAX_LEAD_DAYS = 3650


@dataclass(frozen=True)
class NewRow:
    """A reminder row a planner has just inserted, with what routing needs to know of its applicant."""

    id: int
    user_id: int
    daily_digest: bool
    time_zone: str


def zone(name: str) -> zoneinfo.ZoneInfo:
    """A zone by name; one that no longer exists falls back to UTC rather than dropping mail."""
    try:
        return zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return zoneinfo.ZoneInfo("UTC")


def applicant_tz(profile: ApplicantProfile) -> zoneinfo.ZoneInfo:
    return zone(profile.time_zone)


def reminder_send_at(due_at: datetime, lead_days: int, tz: zoneinfo.ZoneInfo, *, hour: time = REMINDER_HOUR):
    """09:00 (or `hour`) on the applicant's wall clock, `lead_days` calendar days before the deadline's
    local date, as a UTC instant; never later than one hour before the deadline.

    Built from a local date and a wall-clock time, not by subtracting 24-hour blocks, so it stays at
    09:00 across a daylight-saving change.
    """
    local_day = due_at.astimezone(tz).date() - timedelta(days=lead_days)
    wall_clock = datetime.combine(local_day, hour, tzinfo=tz)
    return min(wall_clock, due_at - LAST_CALL).astimezone(UTC)


def lead_days_for(profile: ApplicantProfile, template: MilestoneTemplate) -> list[int]:
    """The applicant's own lead times if set, else the template's; junk values are skipped."""
    raw = (
        profile.reminder_lead_days
        if isinstance(profile.reminder_lead_days, list)
        else template.reminder_lead_days
    )
    if not isinstance(raw, list):
        return []
    return sorted(
        {v for v in raw if isinstance(v, int) and not isinstance(v, bool) and 0 <= v <= MAX_LEAD_DAYS}
    )


def hour_for(profile: ApplicantProfile) -> time:
    """The wall-clock hour this applicant's reminders go out: the digest's, or the single reminders'."""
    return DIGEST_HOUR if profile.daily_digest else REMINDER_HOUR


def due_leads(profile: ApplicantProfile, template: MilestoneTemplate, due_at: datetime, now: datetime):
    """(lead time, send instant) of every lead time of this deadline whose moment has come by `now`."""
    tz, hour = applicant_tz(profile), hour_for(profile)
    return [
        (lead, send_at)
        for lead in lead_days_for(profile, template)
        if (send_at := reminder_send_at(due_at, lead, tz, hour=hour)) <= now
    ]


def longest_lead_days() -> int:
    """The longest lead time anyone uses: bounds the deadline range the sweep must look at."""
    longest = 0
    for raw in MilestoneTemplate.objects.values_list("reminder_lead_days", flat=True):
        longest = max([longest, *(v for v in raw or [] if isinstance(v, int))])
    custom = ApplicantProfile.objects.filter(email_reminders=True, reminder_lead_days__isnull=False)
    for raw in custom.values_list("reminder_lead_days", flat=True):
        if isinstance(raw, list):
            longest = max([longest, *(v for v in raw if isinstance(v, int))])
    return min(longest, MAX_LEAD_DAYS)


def digest_may_plan(due_at: datetime, now: datetime, tz: zoneinfo.ZoneInfo) -> bool:
    """Digest applicants' reminders wait for today's digest hour, unless the deadline comes first."""
    digest_today = datetime.combine(now.astimezone(tz).date(), DIGEST_HOUR, tzinfo=tz)
    return now >= digest_today or due_at < digest_today


def next_retry_at(now: datetime, failures: int, due_at: datetime) -> datetime | None:
    """When the sweeper tries a failed row again, after its `failures`-th failure: the first interval,
    doubled after each failure up to the maximum (an outage that outlasts the send task's own retries is
    usually long, and hammering a server that is down helps nobody). None when that comes too late,
    at or after the deadline."""
    first = getattr(settings, "REMINDER_FAILED_RETRY_SECONDS", 600)
    longest = getattr(settings, "REMINDER_FAILED_RETRY_MAX_SECONDS", 3 * 3600)
    delay = min(first * 2 ** max(failures - 1, 0), longest)
    retry_at = now + timedelta(seconds=delay)
    return retry_at if retry_at < due_at else None
