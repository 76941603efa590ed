"""Property tests: loops are always refused, deadlines follow their anchors, prerequisites always hold."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
from django.core.exceptions import ValidationError
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from milestones.deadlines import DeadlineResolver, EventDate, Rule
from milestones.graph import find_cycle, graph_problems
from pathway.lib.times import ET

NODES = [f"m{i}" for i in range(7)]
graphs = st.dictionaries(st.sampled_from(NODES), st.sets(st.sampled_from(NODES), max_size=4), max_size=7)


def has_cycle(edges) -> bool:
    """Reference answer by Kahn's algorithm: peel nodes with no outgoing edges until stuck."""
    remaining = {n: set(v) for n, v in edges.items()}
    for targets in edges.values():
        for t in targets:
            remaining.setdefault(t, set())
    while True:
        sinks = {n for n, v in remaining.items() if not v}
        if not sinks:
            return bool(remaining)
        remaining = {n: v - sinks for n, v in remaining.items() if n not in sinks}


@given(graphs)
def test_loops_are_always_found_and_real(edges):
    loop = find_cycle(edges)

    assert (loop is not None) == has_cycle(edges)
    if loop:
        assert loop[0] == loop[-1]
        assert all(b in edges.get(a, ()) for a, b in zip(loop, loop[1:], strict=False))


@given(graphs)
def test_the_graph_validator_refuses_every_loop(edges):
    templates = {
        n: {"deadline_kind": "none", "deadline_anchor": "", "deadline_offset_days": 0} for n in NODES
    }
    problems = graph_problems(templates=templates, prerequisites=edges, event_keys=set())

    assert any("loop" in p or "require itself" in p for p in problems) == has_cycle(edges)


# Wall-clock hours outside 1-3 a.m., where DST makes a local time missing or ambiguous.
local_times = st.builds(
    lambda day, hour, minute: datetime.combine(day, datetime.min.time()).replace(hour=hour, minute=minute),
    st.dates(min_value=date(2024, 1, 1), max_value=date(2030, 12, 31)),
    st.integers(4, 23),
    st.integers(0, 59),
)


@given(local_times, st.lists(st.integers(-400, 400), min_size=1, max_size=5), st.booleans())
def test_deadlines_equal_the_anchor_plus_the_offsets(event_local, offsets, projected):
    rules = {"k0": Rule("event", "evt", offsets[0])}
    for i, offset in enumerate(offsets[1:], start=1):
        rules[f"k{i}"] = Rule("milestone", f"k{i - 1}", offset)
    events = {"evt": EventDate(event_local.replace(tzinfo=ET), projected)}

    deadline = DeadlineResolver(rules=rules, events=events).resolve(f"k{len(offsets) - 1}")

    expected = event_local + timedelta(days=sum(offsets))
    if 1 <= expected.hour < 4:
        return  # landed in a DST gap/fold hour: covered by the dedicated DST tests
    assert deadline.at.astimezone(ET).replace(tzinfo=None) == expected
    assert deadline.projected is projected


@pytest.mark.django_db
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    edges=st.dictionaries(st.integers(1, 5), st.sets(st.integers(0, 4), max_size=3), max_size=5),
    statuses=st.lists(
        st.sampled_from(["not_started", "in_progress", "done", "waived"]), min_size=6, max_size=6
    ),
    inapplicable=st.sets(st.integers(0, 5), max_size=2),
    target=st.integers(0, 5),
)
def test_completion_never_bypasses_a_hard_prerequisite(amira, edges, statuses, inapplicable, target):
    from milestones.models import (
        ApplicantProfile,
        MatchCycle,
        Milestone,
        MilestoneTemplate,
        TemplatePrerequisite,
    )
    from milestones.services import set_status

    with transaction.atomic():
        cycle = MatchCycle.objects.create(year=2099, name="2099 Match")
        ApplicantProfile.objects.create(
            user=amira, applicant_type="US_MD", graduation_date=date(2025, 1, 1), target_cycle=cycle
        )
        templates = [
            MilestoneTemplate.objects.create(
                key=f"t{i}", title=f"Step {i}", phase="exams", guidance="-", applies_to=["US_MD"]
            )
            for i in range(6)
        ]
        milestones = [
            Milestone.objects.create(
                applicant=amira, template=t, status=s, is_applicable=i not in inapplicable
            )
            for i, (t, s) in enumerate(zip(templates, statuses, strict=True))
        ]
        # Only edges to lower numbers: a DAG, as the validators guarantee. Half of them hard.
        for node, requires in edges.items():
            for r in requires:
                if r < node:
                    kind = "hard" if (node + r) % 2 else "soft"
                    TemplatePrerequisite.objects.create(
                        template=templates[node], requires=templates[r], kind=kind
                    )
        blockers = [
            r
            for r in edges.get(target, ())
            if r < target
            and (target + r) % 2
            and r not in inapplicable
            and statuses[r] in ("not_started", "in_progress")
        ]

        refusal = None
        try:
            set_status(milestone=milestones[target], status="done", by=amira)
        except ValidationError as exc:
            refusal = " ".join(exc.messages)

        if target in inapplicable:
            assert refusal is not None
        else:
            assert (refusal is None) == (not blockers)
            assert all(f"Step {r}" in refusal for r in blockers) if blockers else True
        transaction.set_rollback(True)
