"""Deadline semantics: how a template's rule and a cycle's events become an aware due date.

Offsets are added on a wall clock, never as 24-hour blocks: "9 p.m. ET, 30 days later" must still be
9 p.m. ET after a DST change, because that is how the NRMP and AAMC publish their deadlines.
Event-anchored deadlines use the US Eastern clock (the cycle's clock); applicant-date deadlines use the
applicant's own clock, and a milestone-anchored deadline keeps the clock of the chain it hangs from.
"""

from __future__ import annotations

import zoneinfo
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from pathway.lib.times import ET

from .models import DeadlineKind

# An applicant date ("graduation on 30 June") counts until the end of that day where they live.
END_OF_DAY = time(23, 59)


def shift_wall_clock(at: datetime, days: int, tz: zoneinfo.ZoneInfo) -> datetime:
    """`at` moved by `days` calendar days on `tz`'s wall clock, returned as an aware UTC datetime."""
    local = at.astimezone(tz).replace(tzinfo=None) + timedelta(days=days)
    return local.replace(tzinfo=tz).astimezone(UTC)


def parse_et(value: str) -> datetime:
    """A "YYYY-MM-DD HH:MM" US Eastern wall-clock time (as in cycles.yaml) as an aware UTC datetime."""
    return datetime.strptime(value, "%Y-%m-%d %H:%M").replace(tzinfo=ET).astimezone(UTC)


@dataclass(frozen=True)
class Rule:
    kind: str
    anchor: str
    offset: int

    @classmethod
    def of(cls, template) -> Rule:
        """From a MilestoneTemplate or a values() dict of one."""
        get = template.get if isinstance(template, Mapping) else lambda name: getattr(template, name)
        return cls(get("deadline_kind"), get("deadline_anchor") or "", get("deadline_offset_days") or 0)


@dataclass(frozen=True)
class EventDate:
    at: datetime
    projected: bool


@dataclass(frozen=True)
class ApplicantDates:
    graduation_date: date | None
    tz: zoneinfo.ZoneInfo


@dataclass(frozen=True)
class Deadline:
    at: datetime
    projected: bool
    # The wall clock the chain started on; a milestone anchored to this one shifts on the same clock.
    tz: zoneinfo.ZoneInfo


class DeadlineResolver:
    """Resolves every template's deadline for one cycle (and optionally one applicant).

    Milestone anchors are followed recursively with memoisation, which visits the anchor graph in
    topological order; a loop (refused by the admin and the loader, but possible in hand-edited data)
    resolves to None instead of recursing forever.
    """

    def __init__(
        self,
        *,
        rules: Mapping[str, Rule],
        events: Mapping[str, EventDate],
        applicant: ApplicantDates | None = None,
    ):
        self.rules = rules
        self.events = events
        self.applicant = applicant
        self._memo: dict[str, Deadline | None] = {}
        self._visiting: set[str] = set()

    def resolve(self, key: str) -> Deadline | None:
        if key in self._memo:
            return self._memo[key]
        if key in self._visiting:
            return None
        self._visiting.add(key)
        try:
            result = self._compute(self.rules.get(key))
        finally:
            self._visiting.discard(key)
        self._memo[key] = result
        return result

    def _compute(self, rule: Rule | None) -> Deadline | None:
        if rule is None or rule.kind == DeadlineKind.NONE:
            return None
        if rule.kind == DeadlineKind.EVENT:
            event = self.events.get(rule.anchor)
            if event is None:
                return None
            return Deadline(shift_wall_clock(event.at, rule.offset, ET), event.projected, ET)
        if rule.kind == DeadlineKind.MILESTONE:
            anchor = self.resolve(rule.anchor)
            if anchor is None:
                return None
            return Deadline(shift_wall_clock(anchor.at, rule.offset, anchor.tz), anchor.projected, anchor.tz)
        if rule.kind == DeadlineKind.APPLICANT:
            value = getattr(self.applicant, rule.anchor, None) if self.applicant else None
            if value is None:
                return None
            tz = self.applicant.tz
            start = datetime.combine(value, END_OF_DAY, tzinfo=tz)
            return Deadline(shift_wall_clock(start, rule.offset, tz), False, tz)
        return None


def depends_on_applicant(key: str, rules: Mapping[str, Rule]) -> bool:
    """True when the chain of milestone anchors from `key` ends at an applicant date.

    Everything else depends only on the cycle, so it is the same for every applicant of that cycle:
    the bulk recomputation exploits this to update thousands of rows with one statement.
    """
    seen = set()
    rule = rules.get(key)
    while rule is not None and rule.kind == DeadlineKind.MILESTONE and rule.anchor not in seen:
        seen.add(rule.anchor)
        rule = rules.get(rule.anchor)
    return rule is not None and rule.kind == DeadlineKind.APPLICANT


def dependants_by_anchor(rules: Mapping[str, Rule], keys: set[str]) -> set[str]:
    """`keys` plus every template whose deadline hangs (directly or not) from one of them."""
    result = set(keys)
    changed = True
    while changed:
        changed = False
        for key, rule in rules.items():
            if key not in result and rule.kind == DeadlineKind.MILESTONE and rule.anchor in result:
                result.add(key)
                changed = True
    return result
