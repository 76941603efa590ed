"""The engine's reference data (rule tables, prerequisite links, cycles and their events), read once per
process and kept until an edit changes it.

Every page built afresh used to read the same rule rows again (eight small queries for the dashboard);
they change a few times a year. The snapshot is keyed by the reference stamp (milestones/versions.py):
the "reference" version, which every save or delete of reference data bumps in the same transaction,
and on PostgreSQL the transaction that wrote that version (the row's xmin). The version alone could come
back with other data: a transaction that bumped it and rolled back leaves the number free for the next
edit (the tests do that all the time), so a snapshot built inside the first would be taken for the
second. With the writer in the stamp no two edits share a stamp. On other databases (SQLite, for `make
run`) there is no writer to read, so a snapshot built inside a transaction is used for that call only.

`reference_data(stamp)` checks the stamp the caller read (page_state reads it with the page's versions:
no query) or reads it (one tiny query), and builds a new snapshot when it differs from the kept one.
Each table is read the first time a caller needs it, so a page that needs three tables reads three. A
table read later than the stamp can only be newer than the stamp says, never older: a caller that read
the newer stamp builds its own snapshot anyway.

Thread-safe without a lock: a snapshot is swapped in by one assignment; two threads may build the same
one (or read the same table) at the same time, and one of the results is kept. The rows are shared by
every request of the process: read them, never change them (copy a row to change it for one response).
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import cached_property
from types import MappingProxyType

from django.db import connection

from .models import (
    AttemptLimit,
    CycleEvent,
    MatchCycle,
    OETSeasonWindow,
    OETThreshold,
    PassingStandard,
    PathwaySeason,
    ScoreReleaseRule,
    TemplatePrerequisite,
    TravelBanCountry,
    VisaRule,
)
from .versions import ReferenceStamp, reference_stamp


def _all(model) -> cached_property:
    """A snapshot attribute: every row of `model` (a tuple, in its default order), read on first use."""
    return cached_property(lambda self: tuple(model.objects.all()))


class ReferenceData:
    """The reference rows of one stamp, each table read on first use, in its model's default order."""

    def __init__(self, stamp: ReferenceStamp):
        self.stamp = stamp

    # --- Rule tables --------------------------------------------------------------------------------

    passing_standards = _all(PassingStandard)
    attempt_limits = _all(AttemptLimit)
    score_release_rules = _all(ScoreReleaseRule)
    oet_thresholds = _all(OETThreshold)
    oet_windows = _all(OETSeasonWindow)
    travel_bans = _all(TravelBanCountry)

    @cached_property
    def visa_rules(self) -> Mapping[str, VisaRule]:
        return MappingProxyType({rule.key: rule for rule in VisaRule.objects.all()})

    @cached_property
    def pathway_seasons(self) -> Mapping[int, PathwaySeason]:
        return MappingProxyType({season.cycle_year: season for season in PathwaySeason.objects.all()})

    def standards_of(self, exam: str) -> tuple[PassingStandard, ...]:
        return tuple(row for row in self.passing_standards if row.exam == exam)

    def oet_windows_of(self, season: int | None) -> tuple[OETSeasonWindow, ...]:
        return tuple(window for window in self.oet_windows if window.cycle_year == season)

    # --- Template links ------------------------------------------------------------------------------

    @cached_property
    def links(self) -> tuple[tuple[int, int, str, str, str], ...]:
        """Every prerequisite link: (template id, required template id, kind, template key, required key)."""
        return tuple(
            TemplatePrerequisite.objects.order_by("pk").values_list(
                "template_id", "requires_id", "kind", "template__key", "requires__key"
            )
        )

    @cached_property
    def hard_links(self) -> tuple[tuple[str, str], ...]:
        """(template key, required key) of every hard link."""
        hard = TemplatePrerequisite.Kind.HARD
        return tuple((key, required) for _, _, kind, key, required in self.links if kind == hard)

    @cached_property
    def hard_prerequisites(self) -> Mapping[str, tuple[str, ...]]:
        """template key -> the keys of its hard prerequisites."""
        links: dict[str, list[str]] = {}
        for key, required in self.hard_links:
            links.setdefault(key, []).append(required)
        return MappingProxyType({key: tuple(required) for key, required in links.items()})

    def links_of(self, template_id: int) -> tuple[tuple[int, int, str], ...]:
        """(template id, required id, kind) of the links to and from one template."""
        return tuple(
            (owner, required, kind)
            for owner, required, kind, _, _ in self.links
            if template_id in (owner, required)
        )

    # --- Cycles and their events ---------------------------------------------------------------------

    @cached_property
    def events(self) -> Mapping[int, tuple[CycleEvent, ...]]:
        """cycle id -> its events in time order, each with its cycle (no query to reach it); the cycles in
        year order. One query."""
        by_cycle: dict[int, list[CycleEvent]] = {}
        cycles: dict[int, MatchCycle] = {}
        for event in CycleEvent.objects.select_related("cycle").order_by("at", "pk"):
            event.cycle = cycles.setdefault(event.cycle_id, event.cycle)
            by_cycle.setdefault(event.cycle_id, []).append(event)
        in_year_order = sorted(by_cycle, key=lambda pk: cycles[pk].year)
        return MappingProxyType({pk: tuple(by_cycle[pk]) for pk in in_year_order})

    def events_of(self, cycle_id: int) -> tuple[CycleEvent, ...]:
        return self.events.get(cycle_id, ())

    def event(self, cycle_id: int, key: str) -> CycleEvent | None:
        return next((e for e in self.events_of(cycle_id) if e.key == key), None)

    def events_named(self, key: str) -> list[CycleEvent]:
        """The event `key` of every cycle that has it, in cycle-year order."""
        return [e for events in self.events.values() for e in events if e.key == key]

    def event_of_year(self, year: int, key: str) -> CycleEvent | None:
        return next((e for e in self.events_named(key) if e.cycle.year == year), None)


_kept: ReferenceData | None = None


def reference_data(stamp: ReferenceStamp | None = None) -> ReferenceData:
    """The snapshot of the current reference data. Pass the stamp the caller already read
    (`PageState.reference_stamp`, read before the applicant's data); without it, it is read here."""
    global _kept
    if stamp is None:
        stamp = reference_stamp()
    kept = _kept
    if kept is not None and kept.stamp == stamp:
        return kept
    fresh = ReferenceData(stamp)
    if stamp.writer or not connection.in_atomic_block:
        _kept = fresh
    return fresh


def forget() -> None:
    """Drop the kept snapshot (tests start from none, so their query counts do not depend on order)."""
    global _kept
    _kept = None
