"""Issue 9: evidence that cannot complete its step says why; a score alone is judged from the score on the
form as in the API; US clinical experience dated in the future is not counted as done."""

from __future__ import annotations

import json

import pytest
from django.urls import reverse

from milestones.models import ExamAttempt, Milestone
from pathway.tokens import api_token_create

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _today(season_today):
    """The middle of the 2027 season (21 November 2026)."""


@pytest.fixture
def img(planned_applicant):
    """A non-US IMG with nothing done: Step 1's hard prerequisite (USMLE registration) is open."""
    return planned_applicant("NON_US_IMG")


def test_a_pass_that_cannot_complete_step_1_names_the_missing_prerequisite_on_the_page(client, img):
    client.force_login(img)
    response = client.post(
        reverse("applicant:milestone_attempt", args=["usmle_step1"]),
        {"attempt-test_date": "2026-10-01", "attempt-result_date": "2026-10-29", "attempt-passed": "yes"},
        follow=True,
    )
    assert Milestone.objects.get(applicant=img, template__key="usmle_step1").status == "in_progress"
    html = response.content.decode()
    assert "stays in progress until" in html
    assert "Register for USMLE Step 1 / Step 2 CK (FSMB for IMGs)" in html


def test_a_pass_that_cannot_complete_its_step_says_why_in_the_api(client, img):
    _token, secret = api_token_create(user=img, name="tests")
    response = client.post(
        "/api/v1/milestones/usmle_step1/attempts",
        json.dumps({"test_date": "2026-10-01", "result_date": "2026-10-29", "passed": True}),
        content_type="application/json",
        headers={"Authorization": f"Bearer {secret}"},
    )
    assert response.status_code == 201
    body = response.json()
    assert body["milestone_status"] == "in_progress"
    assert body["waiting_for"] == ["usmle_registration"]
    assert "Register for USMLE Step 1 / Step 2 CK" in body["message"]


def test_a_score_without_a_result_is_judged_from_the_score_on_the_form(client, img):
    client.force_login(img)
    response = client.post(
        reverse("applicant:milestone_attempt", args=["usmle_step2ck"]),
        {"attempt-test_date": "2026-09-01", "attempt-result_date": "2026-10-01", "attempt-score": "240"},
    )
    assert response.status_code == 302
    assert ExamAttempt.objects.get(milestone__applicant=img, exam="step2ck").passed is True


def test_us_clinical_experience_in_the_future_is_not_counted_as_done(client, img):
    from milestones.services import add_usce_entry

    usce = Milestone.objects.get(applicant=img, template__key="usce")
    add_usce_entry(
        milestone=usce,
        kind="observership",
        hands_on=False,
        specialty="Internal Medicine",
        site="General Hospital",
        start_date=__import__("datetime").date(2027, 1, 4),
        end_date=__import__("datetime").date(2027, 1, 31),
        by=img,
    )
    client.force_login(img)
    context = client.get(reverse("applicant:milestone_detail", args=["usce"])).context
    assert context["usce_total"] == 0
    assert context["usce_planned_total"] > 0
