"""Deadline semantics: cycle events, milestone chains and applicant dates, on the right wall clock."""

from __future__ import annotations

import zoneinfo
from datetime import UTC, date, datetime

import pytest
import time_machine

from milestones.deadlines import (
    ET,
    ApplicantDates,
    DeadlineResolver,
    EventDate,
    Rule,
    parse_et,
    shift_wall_clock,
)
from milestones.models import CycleEvent, MilestoneTemplate

pytestmark = pytest.mark.django_db


@time_machine.travel(datetime(2026, 11, 21, 12, tzinfo=UTC), tick=False)
def test_rank_order_list_is_due_at_the_projected_2027_rol_deadline(planned_applicant, milestone_of):
    user = planned_applicant("US_MD")

    rol = milestone_of(user, "rank_order_list")

    assert rol.due_at == datetime(2027, 3, 4, 2, 0, tzinfo=UTC)  # 3 Mar 2027, 9 p.m. ET
    assert rol.due_at.astimezone(ET).strftime("%Y-%m-%d %H:%M") == "2027-03-03 21:00"
    assert rol.due_projected is True


def test_deadlines_equal_the_reference_events_plus_offsets(planned_applicant, milestone_of):
    user = planned_applicant("NON_US_IMG", needs_visa=True, visa_route="J1")

    for key, event_key in [
        ("usmle_step2ck", "nrmp_rol_deadline"),
        ("ecfmg_certification", "residency_start"),
    ]:
        template = MilestoneTemplate.objects.get(key=key)
        event = CycleEvent.objects.get(cycle__year=2027, key=event_key)
        expected = shift_wall_clock(event.at, template.deadline_offset_days, ET)
        assert milestone_of(user, key).due_at == expected
    # ERAS application: 3 days before programs may review (23 Sep 2026 09:00 ET).
    assert milestone_of(user, "eras_application").due_at.astimezone(ET) == datetime(2026, 9, 20, 9, tzinfo=ET)
    # Statement of need: 150 days before residency starts (1 Jul 2027, confirmed), not projected.
    statement = milestone_of(user, "statement_of_need")
    assert statement.due_at.astimezone(ET) == datetime(2027, 2, 1, 0, 0, tzinfo=ET)
    assert statement.due_projected is False


def test_an_offset_across_the_march_dst_change_keeps_the_et_wall_clock():
    rol = parse_et("2027-03-03 21:00")  # EST, UTC-5
    later = shift_wall_clock(rol, 30, ET)  # 2 Apr 2027 is EDT, UTC-4

    assert later.astimezone(ET).strftime("%Y-%m-%d %H:%M") == "2027-04-02 21:00"
    assert later == datetime(2027, 4, 3, 1, 0, tzinfo=UTC)  # not 02:00 UTC: a wall-clock shift, not 30 x 24 h


def test_a_negative_offset_across_the_november_change_keeps_the_wall_clock_too():
    at = parse_et("2026-11-10 09:00")
    assert shift_wall_clock(at, -14, ET).astimezone(ET).strftime("%Y-%m-%d %H:%M") == "2026-10-27 09:00"


def test_milestone_anchors_follow_their_anchor_and_inherit_projected():
    rules = {
        "a": Rule("event", "nrmp_rol_deadline", -10),
        "b": Rule("milestone", "a", 40),
        "c": Rule("milestone", "missing", 1),
        "d": Rule("none", "", 0),
    }
    events = {"nrmp_rol_deadline": EventDate(parse_et("2027-03-03 21:00"), True)}
    resolver = DeadlineResolver(rules=rules, events=events)

    b = resolver.resolve("b")
    assert b.at.astimezone(ET).strftime("%Y-%m-%d %H:%M") == "2027-04-02 21:00"
    assert b.projected
    assert resolver.resolve("c") is None
    assert resolver.resolve("d") is None


def test_graduation_anchor_is_the_end_of_that_day_where_the_applicant_lives():
    karachi = zoneinfo.ZoneInfo("Asia/Karachi")
    resolver = DeadlineResolver(
        rules={
            "graduation": Rule("applicant", "graduation_date", 0),
            "later": Rule("applicant", "graduation_date", 30),
        },
        events={},
        applicant=ApplicantDates(graduation_date=date(2025, 6, 30), tz=karachi),
    )

    assert resolver.resolve("graduation").at == datetime(2025, 6, 30, 23, 59, tzinfo=karachi)
    assert resolver.resolve("later").at == datetime(2025, 7, 30, 23, 59, tzinfo=karachi)
    assert resolver.resolve("graduation").projected is False


def test_a_milestone_without_a_deadline_stores_none(planned_applicant, milestone_of):
    user = planned_applicant("US_IMG")

    assert milestone_of(user, "school_eligibility_check").due_at is None
