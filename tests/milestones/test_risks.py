"""pathway_risks: the IMG rank-order-list gate, overdue steps, attempts running out; constant queries."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from milestones.risks import pathway_risks
from milestones.services import record_exam_attempt, record_oet_result

pytestmark = pytest.mark.django_db
NOV_2026 = datetime(2026, 11, 21, 12, tzinfo=UTC)


def codes(user):
    return {(r.code, r.milestone, r.severity) for r in pathway_risks(applicant=user)}


@time_machine.travel(NOV_2026, tick=False)
def test_a_step2ck_result_due_after_the_rol_deadline_is_a_red_withdrawal_risk(planned_applicant, milestone_of):
    user = planned_applicant("NON_US_IMG", needs_visa=True, visa_route="J1")
    record_exam_attempt(milestone=milestone_of(user, "usmle_step2ck"), test_date=date(2027, 2, 10), by=user)

    gate = [r for r in pathway_risks(applicant=user) if r.code == "img_rol_gate"]

    assert len(gate) == 1
    risk = gate[0]
    assert (risk.severity, risk.milestone) == ("red", "usmle_step2ck")
    assert "Wed 10 Mar 2027" in risk.message
    assert "withdrawn from the 2027 Match" in risk.message
    assert "2028 Match" in risk.action
    assert pathway_risks(applicant=user)[0] == risk  # red first


@time_machine.travel(NOV_2026, tick=False)
def test_an_early_enough_booking_is_no_gate_risk(planned_applicant, milestone_of):
    user = planned_applicant("US_IMG")
    record_exam_attempt(milestone=milestone_of(user, "usmle_step2ck"), test_date=date(2027, 1, 20), by=user)

    assert not any(code == "img_rol_gate" for code, *_ in codes(user))


def test_no_step2ck_attempt_past_the_latest_sensible_date_is_a_gate_risk(planned_applicant):
    with time_machine.travel(datetime(2026, 11, 21, tzinfo=UTC), tick=False):
        user = planned_applicant("NON_US_IMG")
    with time_machine.travel(datetime(2027, 2, 15, 12, tzinfo=UTC), tick=False):
        assert ("img_rol_gate", "usmle_step2ck", "red") in codes(user)


def test_us_graduates_have_no_img_gate(planned_applicant):
    with time_machine.travel(datetime(2027, 2, 15, 12, tzinfo=UTC), tick=False):
        user = planned_applicant("US_MD")
        assert not any(code == "img_rol_gate" for code, *_ in codes(user))


def test_no_oet_pass_after_the_december_sitting_puts_oet_and_the_pathway_at_risk(
    planned_applicant, milestone_of
):
    with time_machine.travel(datetime(2026, 12, 20, 12, tzinfo=UTC), tick=False):
        user = planned_applicant("NON_US_IMG")
        record_oet_result(
            milestone=milestone_of(user, "oet_medicine"),
            test_date=date(2026, 10, 3),
            listening=360, reading=350, speaking=340, writing=310,
            by=user,
        )  # fmt: skip
        found = codes(user)

    assert ("img_rol_gate", "oet_medicine", "red") in found
    assert ("img_rol_gate", "ecfmg_pathway", "red") in found


@time_machine.travel(NOV_2026, tick=False)
def test_an_open_milestone_past_its_deadline_is_an_amber_risk(planned_applicant):
    user = planned_applicant("US_MD")

    assert ("overdue", "personal_statement", "amber") in codes(user)


@time_machine.travel(NOV_2026, tick=False)
def test_the_last_allowed_attempt_is_red(planned_applicant, milestone_of):
    user = planned_applicant("US_MD")
    step2 = milestone_of(user, "usmle_step2ck")
    for day in [date(2024, 1, 10), date(2024, 3, 10)]:
        record_exam_attempt(milestone=step2, test_date=day, passed=False, by=user)
    assert ("attempts_running_low", "usmle_step2ck", "amber") in codes(user)

    record_exam_attempt(milestone=step2, test_date=date(2024, 9, 10), passed=False, by=user)
    assert ("last_attempt", "usmle_step2ck", "red") in codes(user)


@time_machine.travel(NOV_2026, tick=False)
def test_it_runs_a_constant_number_of_queries(planned_applicant, milestone_of):
    bare = planned_applicant("US_IMG")
    busy = planned_applicant("NON_US_IMG", needs_visa=True, visa_route="J1")
    for day in [date(2024, 1, 10), date(2024, 3, 10), date(2024, 9, 10)]:
        record_exam_attempt(milestone=milestone_of(busy, "usmle_step1"), test_date=day, passed=False, by=busy)
    record_exam_attempt(milestone=milestone_of(busy, "usmle_step2ck"), test_date=date(2027, 2, 10), by=busy)

    pathway_risks(applicant=bare)  # the rule tables are read once per process (milestones/reference.py)
    counts = []
    for user in (bare, busy):
        with CaptureQueriesContext(connection) as ctx:
            pathway_risks(applicant=user)
        counts.append(len(ctx.captured_queries))

    # The reference stamp, the profile, the milestones, their attempts and the OET results. On SQLite a
    # snapshot built inside a transaction (the test's) is not kept, so the rule tables are read again.
    assert counts[0] == counts[1] <= (5 if connection.vendor == "postgresql" else 11)
