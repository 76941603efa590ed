"""How each cycle event moves from one Match year to the next (for "copy this cycle to next year").

The patterns below are data: each is the rule that held for 2023-2026 (domain.md §4.1, §10). An event
without a pattern moves by 52 weeks, which keeps its weekday (most ERAS dates are "the same Wednesday").
Times of day are kept on the US Eastern wall clock. Business days ignore US holidays (not modelled).
"""

from __future__ import annotations

import calendar
from datetime import UTC, date, datetime, timedelta

from pathway.lib.times import ET, et_date

YEARLY_PATTERNS: dict[str, dict] = {
    # NRMP: Match Day is the third Friday of March; Match Week runs Monday to Friday before it.
    "match_day": {"rule": "nth_weekday", "month": 3, "weekday": calendar.FRIDAY, "n": 3},
    "match_status_release": {"rule": "relative", "to": "match_day", "days": -4},
    "soap_apps_open": {"rule": "relative", "to": "match_day", "days": -4},
    "soap_program_review": {"rule": "relative", "to": "match_day", "days": -3},
    "soap_offer_rounds": {"rule": "relative", "to": "match_day", "days": -1},
    "soap_round_2": {"rule": "relative", "to": "match_day", "days": -1},
    "soap_round_3": {"rule": "relative", "to": "match_day", "days": -1},
    "soap_round_4": {"rule": "relative", "to": "match_day", "days": -1},
    "soap_end": {"rule": "relative", "to": "match_day", "days": -1},
    # The ROL certification deadline is the Wednesday 16 days before Match Day.
    "nrmp_rol_deadline": {"rule": "relative", "to": "match_day", "days": -16},
    "nrmp_ranking_open": {"rule": "first_business_day", "month": 2},
    "nrmp_quota_deadline": {"rule": "business_day_on_or_before", "month": 1, "day": 31},
    "nrmp_standard_reg_deadline": {"rule": "business_day_on_or_before", "month": 1, "day": 31},
    # 15 September, or the next business day (16 Sep 2024: the 15th was a Sunday; audit D15).
    "nrmp_registration_open": {"rule": "business_day_on_or_after", "month": 9, "day": 15},
    # ERAS: the season opens the first Wednesday on or after 3 June (fits 2022-2026: 8 Jun 2022 although
    # 1 Jun 2022 was a Wednesday; audit D14); submission opens the first Wednesday of September;
    # programs see applications three weeks later.
    "eras_season_open": {"rule": "weekday_on_or_after", "month": 6, "day": 3, "weekday": calendar.WEDNESDAY},
    "residencycas_open": {"rule": "relative", "to": "eras_season_open", "days": 0},
    "eras_submit_open": {"rule": "nth_weekday", "month": 9, "weekday": calendar.WEDNESDAY, "n": 1},
    "eras_program_review_open": {"rule": "relative", "to": "eras_submit_open", "days": 21},
    "eras_season_end": {"rule": "fixed"},
    "residency_start": {"rule": "fixed"},
    "conrad30_fy_open": {"rule": "fixed"},
    # The fellowship (MPSM) Match Day: the first Wednesday of December (4 Dec 2024, 3 Dec 2025; audit D16).
    "mpsm_match_day": {"rule": "nth_weekday", "month": 12, "weekday": calendar.WEDNESDAY, "n": 1},
    # ECFMG Pathways application deadline for Match purposes: projected as 31 January (audit D2).
    "pathways_app_deadline": {"rule": "fixed"},
}
DEFAULT_SHIFT = timedelta(weeks=52)


def _nth_weekday(year: int, month: int, weekday: int, n: int) -> date:
    first = date(year, month, 1)
    return first + timedelta(days=(weekday - first.weekday()) % 7 + 7 * (n - 1))


def _business_day_on_or_before(day: date) -> date:
    while day.weekday() >= calendar.SATURDAY:
        day -= timedelta(days=1)
    return day


def _business_day_on_or_after(day: date) -> date:
    while day.weekday() >= calendar.SATURDAY:
        day += timedelta(days=1)
    return day


def _day_for(pattern: dict, year: int) -> date | None:
    """The day a calendar rule gives in `year` (None for the rules that need the old date)."""
    rule = pattern.get("rule")
    if rule == "nth_weekday":
        return _nth_weekday(year, pattern["month"], pattern["weekday"], pattern["n"])
    if rule == "weekday_on_or_after":
        start = date(year, pattern["month"], pattern["day"])
        return start + timedelta(days=(pattern["weekday"] - start.weekday()) % 7)
    if rule == "first_business_day":
        return _business_day_on_or_after(date(year, pattern["month"], 1))
    if rule == "business_day_on_or_before":
        return _business_day_on_or_before(date(year, pattern["month"], pattern["day"]))
    if rule == "business_day_on_or_after":
        return _business_day_on_or_after(date(year, pattern["month"], pattern["day"]))
    return None


def next_year_dates(events: dict[str, datetime]) -> dict[str, datetime]:
    """Each event's date one Match year later (aware UTC datetimes in and out)."""
    local = {key: at.astimezone(ET) for key, at in events.items()}
    result: dict[str, datetime] = {}

    def move(key: str) -> datetime:
        if key in result:
            return result[key]
        old = local[key]
        pattern = YEARLY_PATTERNS.get(key, {})
        rule, year = pattern.get("rule"), old.year + 1
        day = _day_for(pattern, year)
        if day is not None:
            pass
        elif rule == "relative" and pattern["to"] in local:
            day = et_date(move(pattern["to"])) + timedelta(days=pattern["days"])
        elif rule == "fixed":
            day = date(year, old.month, old.day)
        else:
            day = (old + DEFAULT_SHIFT).date()
        result[key] = datetime.combine(day, old.time(), tzinfo=ET).astimezone(UTC)
        return result[key]

    for key in local:
        move(key)
    return result
