"""Issue 9, impossible plans: a step due before one of its hard prerequisites can be done is a risk that says
what to do, and booking Step 3 without its prerequisites is refused with the reason."""

from __future__ import annotations

from datetime import date

import pytest
from django.core.exceptions import ValidationError

from milestones.models import ExamAttempt, Milestone
from milestones.risks import pathway_risks
from milestones.services import record_exam_attempt

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _today(season_today):
    """21 November 2026, the 2027 season."""


def test_the_h1b_step_3_due_before_the_ecfmg_certificate_is_a_risk_that_says_what_to_do(planned_applicant):
    user = planned_applicant("NON_US_IMG", needs_visa=True, visa_route="H1B")
    step3 = Milestone.objects.get(applicant=user, template__key="usmle_step3_prematch")
    certificate = Milestone.objects.get(applicant=user, template__key="ecfmg_certification")
    assert step3.due_at < certificate.due_at  # the plan as the templates make it: Jan 2027 vs July 2027

    risks = [r for r in pathway_risks(applicant=user) if r.code == "prerequisite_due_later"]
    about_step3 = [r for r in risks if r.milestone == "usmle_step3_prematch"]
    assert about_step3, risks
    risk = about_step3[0]
    assert "ECFMG Certificate issued" in risk.message
    assert "Jan 2027" in risk.message and "Jul 2027" in risk.message
    assert "by" in risk.action and risk.action  # says what to do


def test_a_plan_in_a_possible_order_has_no_such_risk(planned_applicant):
    user = planned_applicant("US_MD")
    assert not [r for r in pathway_risks(applicant=user) if r.code == "prerequisite_due_later"]


def test_booking_step_3_without_its_prerequisites_is_refused_with_the_reason(planned_applicant):
    user = planned_applicant("NON_US_IMG", needs_visa=True, visa_route="H1B")
    step3 = Milestone.objects.get(applicant=user, template__key="usmle_step3_prematch")
    with pytest.raises(ValidationError) as refused:
        record_exam_attempt(milestone=step3, test_date=date(2027, 1, 20), by=user)
    assert "ECFMG Certificate issued" in " ".join(refused.value.messages)
    assert not ExamAttempt.objects.filter(milestone=step3).exists()
