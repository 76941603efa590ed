"""The two clocks of the planner, defined once.

- US Eastern time (`ET`): the NRMP and the AAMC publish their deadlines on the Eastern wall clock, so
  cycle events are entered, shown and exported in it.
- The applicant's own "today": the calendar date in the applicant's time zone. Days left, overdue,
  "not in the future" and reminder days are all counted on it, never on the server's date.
"""

from __future__ import annotations

import zoneinfo
from datetime import date, datetime

from django.conf import settings
from django.utils import timezone

ET = zoneinfo.ZoneInfo(settings.CYCLE_TIME_ZONE)


def et_date(moment: datetime) -> date:
    """The Eastern calendar day of an aware datetime (the day a Match deadline falls on)."""
    return moment.astimezone(ET).date()


def today_in(tz: zoneinfo.ZoneInfo | None, now: datetime | None = None) -> date:
    """Today's date on the wall clock of `tz` (the server's zone when None)."""
    now = now or timezone.now()
    return timezone.localdate(now, timezone=tz) if tz is not None else timezone.localdate(now)


def applicant_today(applicant, now: datetime | None = None) -> date:
    """Today for `applicant` (a user): the date in their profile's time zone, or the server's."""
    profile = getattr(applicant, "profile", None)
    return today_in(profile.tz if profile is not None else None, now)


def days_between(start: datetime, end: datetime, tz: zoneinfo.ZoneInfo) -> int:
    """Whole calendar days from `start` to `end` on the wall clock of `tz` (negative when `end` is past)."""
    return (end.astimezone(tz).date() - start.astimezone(tz).date()).days
