"""Is the applicant's target Match still within reach, and if not, which is the earliest that is?

The gate is the NRMP rank order list deadline: every step on the pathway whose deadline is that event
(the templates' data: the certified list itself and, for an IMG, Step 2 CK, the Pathway and ECFMG's
confirmation to NRMP) must be done by then, or the applicant is not in that Match. The earliest a step can
be done is today plus the longest chain of `typical_days` (template data) along its hard prerequisites
that are still open; done, waived and non-applicable steps take no time.

The chain assumes independent steps run side by side, so it is the *quickest* plan: when even that misses
the deadline the Match is surely out of reach, and we never tell someone they cannot make it when they
could. Read in a fixed number of queries; the events and links come from the reference snapshot
(milestones/reference.py).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from django.utils import timezone

from pathway.lib.times import et_date

from .models import ApplicantProfile, DeadlineKind, MatchCycle, Milestone
from .reference import ReferenceData, reference_data

# The event the verdict is about (part of the data's API, like risks.ROL_EVENT).
GATE_EVENT = "nrmp_rol_deadline"


@dataclass(frozen=True)
class Verdict:
    reachable: bool
    target: MatchCycle
    gate_at: datetime  # the target's rank order list deadline
    earliest_finish: date  # the quickest the gate step can be done
    chain: list[str] = field(default_factory=list)  # titles of the steps that set that date, in order
    earliest: MatchCycle | None = None  # the earliest reachable Match when the target is not
    earliest_gate_at: datetime | None = None
    earliest_projected: bool = False


def judge_reachability(
    *,
    applicant,
    milestones=None,
    today: date | None = None,
    profile=None,
    reference: ReferenceData | None = None,
) -> Verdict | None:
    """The verdict on the applicant's target Match; None without a profile or a gate to judge. Pass the
    `profile` (with its target cycle) and the `reference` snapshot when the caller has them."""
    if profile is None:
        profile = ApplicantProfile.objects.select_related("target_cycle").filter(user=applicant).first()
    if profile is None:
        return None
    if milestones is None:
        milestones = Milestone.objects.of_applicant(applicant)
    reference = reference or reference_data()
    gate_events = {
        event.cycle.year: event
        for event in reference.events_named(GATE_EVENT)
        if event.cycle.year >= profile.target_cycle.year
    }
    return verdict_for(
        profile=profile,
        milestones=milestones,
        gate_events=gate_events,
        today=today or et_date(timezone.now()),
        links=reference.hard_prerequisites,
    )


def verdict_for(
    *, profile, milestones, gate_events: dict, today: date, links: dict | None = None
) -> Verdict | None:
    """The verdict from data already read (the cohort judges many applicants with one read of each table).

    `gate_events`: year -> the gate event of that Match (the target's and later ones), `links`: see
    `hard_prerequisites` (read here when not given)."""
    by_key = {m.template.key: m for m in milestones if m.is_applicable}
    gate_events = {year: e for year, e in sorted(gate_events.items()) if year >= profile.target_cycle.year}
    target_event = gate_events.get(profile.target_cycle.year)
    gates = [key for key, m in by_key.items() if _due_by_gate(m.template)]
    if not gates or target_event is None:
        return None
    links = hard_prerequisites() if links is None else links
    days, chain = max(_quickest(key, by_key, links) for key in gates)
    finish = today + timedelta(days=days)
    titles = [by_key[key].template.title for key in chain]
    if finish <= et_date(target_event.at):
        return Verdict(True, profile.target_cycle, target_event.at, finish, titles)
    later = next((e for e in gate_events.values() if et_date(e.at) >= finish), None)
    return Verdict(
        False,
        profile.target_cycle,
        target_event.at,
        finish,
        titles,
        earliest=later.cycle if later else None,
        earliest_gate_at=later.at if later else None,
        earliest_projected=bool(later and later.projected),
    )


def _due_by_gate(template) -> bool:
    """A step the gate needs done: due on (or a set time before) the gate event, and not a contingency."""
    return (
        template.deadline_kind == DeadlineKind.EVENT
        and template.deadline_anchor == GATE_EVENT
        and template.deadline_offset_days <= 0
        and not template.contingency
    )


def hard_prerequisites():
    """template key -> the keys of its hard prerequisites (from the reference snapshot)."""
    return reference_data().hard_prerequisites


def _quickest(key: str, by_key: dict[str, Milestone], links: dict[str, list[str]]) -> tuple[int, list[str]]:
    """(days, chain): the quickest `key` can be done from today, and the open steps that set it."""
    memo: dict[str, tuple[int, list[str]]] = {}

    def visit(current: str) -> tuple[int, list[str]]:
        if current in memo:
            return memo[current]
        milestone = by_key.get(current)
        if milestone is None or not milestone.is_open:
            memo[current] = (0, [])
            return memo[current]
        before = max((visit(required) for required in links.get(current, [])), default=(0, []))
        memo[current] = (before[0] + milestone.template.typical_days, [*before[1], current])
        return memo[current]

    return visit(key)
