"""The cohort's flags (milestones.risks.cohort_risks): one per advisor's question, judged for many
applicants in a fixed number of queries, and the same judgement as the student's own dashboard."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from milestones.models import Milestone
from milestones.reachability import judge_reachability
from milestones.risks import cohort_risks, pathway_risks
from milestones.services import record_exam_attempt

pytestmark = pytest.mark.django_db
NOV_2026 = datetime(2026, 11, 21, 12, tzinfo=UTC)


def flags(user, now=None) -> set[str]:
    return {r.code for r in cohort_risks(applicant_ids=[user.pk], now=now)[user.pk]}


def set_status(user, key, status):
    Milestone.objects.filter(applicant=user, template__key=key).update(status=status)


def test_ecfmg_requirements_not_verified_once_eras_opens(planned_applicant):
    with time_machine.travel(datetime(2026, 5, 1, tzinfo=UTC), tick=False):
        img, md = planned_applicant("NON_US_IMG"), planned_applicant("US_MD")
    assert "ecfmg_unverified" not in flags(img, now=datetime(2026, 6, 2, 12, tzinfo=UTC))  # ERAS not open yet
    assert "ecfmg_unverified" in flags(img, now=datetime(2026, 6, 3, 14, tzinfo=UTC))  # opened 9 a.m. ET
    assert "ecfmg_unverified" not in flags(md, now=datetime(2026, 6, 3, 14, tzinfo=UTC))  # not an IMG
    set_status(img, "ecfmg_exam_reqs_verified", "done")
    assert "ecfmg_unverified" not in flags(img, now=datetime(2026, 6, 3, 14, tzinfo=UTC))


@time_machine.travel(NOV_2026, tick=False)
def test_a_result_projected_after_the_rank_order_list_deadline_is_the_dashboards_gate(planned_applicant, milestone_of):
    user = planned_applicant("NON_US_IMG", needs_visa=True, visa_route="J1")
    record_exam_attempt(milestone=milestone_of(user, "usmle_step2ck"), test_date=date(2027, 2, 10), by=user)
    assert "img_rol_gate" in flags(user)
    assert any(r.code == "img_rol_gate" for r in pathway_risks(applicant=user))  # the same judgement


@time_machine.travel(NOV_2026, tick=False)
def test_an_early_enough_result_is_no_gate_flag(planned_applicant, milestone_of):
    user = planned_applicant("US_IMG")
    record_exam_attempt(milestone=milestone_of(user, "usmle_step2ck"), test_date=date(2027, 1, 20), by=user)
    assert "img_rol_gate" not in flags(user)


def test_the_list_not_certified_three_days_before_the_deadline(planned_applicant):
    with time_machine.travel(NOV_2026, tick=False):
        user = planned_applicant("US_MD")
    # The 2027 deadline: Wed 3 Mar 2027, 9 p.m. ET (02:00 UTC on the 4th).
    assert "rol_not_certified" not in flags(user, now=datetime(2027, 2, 28, 12, tzinfo=UTC))
    assert "rol_not_certified" in flags(user, now=datetime(2027, 3, 1, 3, tzinfo=UTC))
    set_status(user, "rank_order_list", "done")
    assert "rol_not_certified" not in flags(user, now=datetime(2027, 3, 1, 3, tzinfo=UTC))


def test_unmatched_in_match_week(planned_applicant):
    with time_machine.travel(NOV_2026, tick=False):
        user = planned_applicant("US_DO")
    match_week = datetime(2027, 3, 16, 12, tzinfo=UTC)
    assert "unmatched" not in flags(user, now=match_week)
    set_status(user, "soap", "in_progress")
    assert "unmatched" in flags(user, now=match_week)
    assert "unmatched" not in flags(user, now=datetime(2027, 4, 10, tzinfo=UTC))  # Match Week is over
    set_status(user, "match_result", "done")  # matched through SOAP
    assert "unmatched" not in flags(user, now=match_week)


def test_a_target_match_out_of_reach_is_the_reachability_verdict(planned_applicant):
    with time_machine.travel(datetime(2026, 6, 1, tzinfo=UTC), tick=False):
        user = planned_applicant("NON_US_IMG")
    for moment in (datetime(2026, 7, 1, tzinfo=UTC), datetime(2027, 2, 20, tzinfo=UTC)):
        with time_machine.travel(moment, tick=False):
            verdict = judge_reachability(applicant=user)
            assert ("match_unreachable" in flags(user)) is (not verdict.reachable)
    with time_machine.travel(datetime(2027, 2, 20, tzinfo=UTC), tick=False):
        assert "match_unreachable" in flags(user)


def test_many_applicants_cost_no_more_queries_than_one(planned_applicant):
    with time_machine.travel(NOV_2026, tick=False):
        first = planned_applicant("NON_US_IMG")
        cohort_risks(applicant_ids=[first.pk])  # warm: rule tables are read once per process
        with CaptureQueriesContext(connection) as one:
            cohort_risks(applicant_ids=[first.pk])
        others = [planned_applicant(kind) for kind in ("US_MD", "US_DO", "US_IMG", "NON_US_IMG", "NON_US_IMG")]
        with CaptureQueriesContext(connection) as six:
            judged = cohort_risks(applicant_ids=[first.pk, *(u.pk for u in others)])
    assert len(six) == len(one)
    assert set(judged) == {first.pk, *(u.pk for u in others)}
