"""Projections: when a USMLE result should arrive, the latest sensible test date, USCE months.

USMLE releases scores on one weekday (Wednesday) for tests roughly four weeks earlier, never in the
week of 4 July or the last week of December, and says to contact them after eight weeks. The numbers
and the blackout weeks come from the ScoreReleaseRule row, so a changed policy is an admin edit.
"""

from __future__ import annotations

import calendar
from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import date, timedelta

from .models import ScoreReleaseRule
from .reference import reference_data
from .rules import ALL_EXAMS, in_force

# An average month, so a 1 Jan - 31 Mar elective counts as about 3 months whatever the month lengths.
DAYS_PER_MONTH = 365.25 / 12


def release_rule(
    *, exam: str, day: date, rules: Sequence[ScoreReleaseRule] | None = None
) -> ScoreReleaseRule:
    rows = rules if rules is not None else reference_data().score_release_rules
    # Without a row (fresh database before load_pathway) fall back to the model defaults rather than
    # failing a dashboard: 28/56 days, Wednesday, and no blackout weeks.
    return in_force(rows, day, exam=exam) or in_force(rows, day, exam=ALL_EXAMS) or ScoreReleaseRule()


def in_blackout(day: date, blackout: Iterable[str]) -> bool:
    """True when `day` falls in a no-release week.

    "MM-DD" means the Monday-to-Sunday week containing that date (e.g. "07-04", the week of 4 July);
    "MM-last" means the last seven days of that month (the last week of December).
    """
    for entry in blackout:
        month_text, _, day_text = entry.partition("-")
        month = int(month_text)
        if day_text == "last":
            last = calendar.monthrange(day.year, month)[1]
            if day.month == month and day.day > last - 7:
                return True
            continue
        anchor = date(day.year, month, int(day_text))
        monday = anchor - timedelta(days=anchor.weekday())
        if monday <= day <= monday + timedelta(days=6):
            return True
    return False


def expected_result_date(*, test_date: date, exam: str, rules=None) -> tuple[date, date]:
    """(typical, worst case) result dates for a USMLE test taken on `test_date`."""
    rule = release_rule(exam=exam, day=test_date, rules=rules)
    typical = test_date + timedelta(days=rule.typical_days)
    typical += timedelta(days=(rule.release_weekday - typical.weekday()) % 7)
    while in_blackout(typical, rule.blackout or []):
        typical += timedelta(days=7)
    return typical, test_date + timedelta(days=rule.worst_case_days)


def latest_test_date(*, result_by: date, exam: str, rules=None) -> date:
    """The latest test date whose typical result still arrives on or before `result_by`."""
    rule = release_rule(exam=exam, day=result_by, rules=rules)
    # Walk back from the last date that could possibly work; a blackout costs at most a few weeks.
    candidate = result_by - timedelta(days=rule.typical_days)
    while expected_result_date(test_date=candidate, exam=exam, rules=rules)[0] > result_by:
        candidate -= timedelta(days=1)
    return candidate


def usce_months_by_kind(entries: Iterable, *, until: date | None = None) -> dict[str, float]:
    """Months of US clinical experience per kind (elective, externship...), both end dates included.

    With `until` (today), only the days up to it count: a rotation booked for later is not experience
    yet (see `usce_planned_months`).
    """
    days: dict[str, int] = defaultdict(int)
    for entry in entries:
        end = min(entry.end_date, until) if until else entry.end_date
        if end >= entry.start_date:
            days[entry.kind] += (end - entry.start_date).days + 1
    return {kind: round(total / DAYS_PER_MONTH, 1) for kind, total in sorted(days.items())}


def usce_planned_months(entries: Iterable, *, after: date) -> float:
    """Months of US clinical experience booked after `after` (today): planned, not done."""
    days = sum(
        (e.end_date - max(e.start_date, after + timedelta(days=1))).days + 1
        for e in entries
        if e.end_date > after
    )
    return round(days / DAYS_PER_MONTH, 1)
