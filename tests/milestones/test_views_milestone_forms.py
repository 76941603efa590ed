"""The milestone page's forms: status, exam attempts, OET, documents, USCE, notes.

Each works without JavaScript (post, redirect, message) and with htmx (the panel alone comes back and the
progress figures are told to refresh). Refusals come back with status 422, the reason next to the field,
and nothing changed.
"""

from __future__ import annotations

import json
from datetime import date

import pytest
from django.urls import reverse

from milestones.models import DocumentEvidence, ExamAttempt, Milestone, OETResult, USCEEntry

pytestmark = pytest.mark.django_db
HTMX = {"HX-Request": "true"}


@pytest.fixture(autouse=True)
def _today(season_today):
    """Every test here runs in the middle of the 2027 season."""


@pytest.fixture
def amira_client(client, amira_profile):
    client.force_login(amira_profile.user)
    return client


def post_url(name, key):
    return reverse(f"applicant:{name}", args=[key])


def milestone(user, key):
    return Milestone.objects.get(applicant=user, template__key=key)


def field_errors(response, form_name, field):
    return " ".join(response.context[form_name].errors.get(field, []))


# --- Status ----------------------------------------------------------------------------------------------


def test_a_status_change_without_js_redirects_back_with_a_message(amira_client, amira_profile):
    response = amira_client.post(
        post_url("milestone_status", "usmle_step1"), {"status-status": "in_progress"}
    )
    assert response.status_code == 302
    assert response.url == reverse("applicant:milestone_detail", args=["usmle_step1"])
    assert milestone(amira_profile.user, "usmle_step1").status == "in_progress"
    page = amira_client.get(response.url)
    assert "Status saved." in page.content.decode()


def test_a_status_change_with_htmx_returns_the_panel_and_nudges_the_progress(amira_client, amira_profile):
    response = amira_client.post(
        post_url("milestone_status", "school_eligibility_check"),
        {"status-status": "done", "status-completed_on": "2026-11-01"},
        headers=HTMX,
    )
    assert response.status_code == 200
    body = response.content.decode()
    assert "<html" not in body
    assert body.lstrip().startswith('<div id="milestone-panel"')
    assert "Status saved." in body
    assert json.loads(response["HX-Trigger"]) == {"pathway-changed": {"target": "body"}}
    done = milestone(amira_profile.user, "school_eligibility_check")
    assert (done.status, done.completed_on) == ("done", date(2026, 11, 1))


def test_completion_with_missing_prerequisites_is_refused_next_to_the_status(amira_client, amira_profile):
    response = amira_client.post(
        post_url("milestone_status", "usmle_step1"), {"status-status": "done"}, headers=HTMX
    )
    assert response.status_code == 422
    assert "<html" not in response.content.decode()
    assert "Complete these first" in field_errors(response, "status_form", "status")
    assert 'id="id_status-status_error"' in response.content.decode()
    assert "HX-Trigger" not in response
    assert milestone(amira_profile.user, "usmle_step1").status == "not_started"


def test_a_refusal_without_js_renders_the_whole_page_with_422(amira_client, amira_profile):
    response = amira_client.post(post_url("milestone_status", "usmle_step1"), {"status-status": "waived"})
    assert response.status_code == 422
    assert "<html" in response.content.decode()
    assert "Say why" in field_errors(response, "status_form", "reason")
    assert milestone(amira_profile.user, "usmle_step1").status == "not_started"


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"status-status": "finished"}, "status", "Choose a status from the list"),
        ({"status-status": "done", "status-completed_on": "2026-02-30"}, "completed_on", "Enter a real date"),
        ({"status-status": "done", "status-completed_on": "2027-01-05"}, "completed_on", "cannot be after"),
        ({"status-status": "waived", "status-reason": "x" * 301}, "reason", "at most 300 characters"),
    ],
)
def test_bad_status_input_is_refused(amira_client, amira_profile, data, field, message):
    response = amira_client.post(post_url("milestone_status", "school_eligibility_check"), data, headers=HTMX)
    assert response.status_code == 422
    assert message in field_errors(response, "status_form", field)
    assert milestone(amira_profile.user, "school_eligibility_check").status == "not_started"


# --- Exam attempts -----------------------------------------------------------------------------------------


def test_an_attempt_is_recorded_and_shows_its_expected_result(amira_client, amira_profile):
    response = amira_client.post(
        post_url("milestone_attempt", "usmle_step2ck"), {"attempt-test_date": "2026-11-10"}, headers=HTMX
    )
    assert response.status_code == 200
    assert "expected around" in response.content.decode()
    assert ExamAttempt.objects.filter(milestone__applicant=amira_profile.user, exam="step2ck").count() == 1


def test_a_scored_attempt_without_js_redirects(amira_client, amira_profile):
    response = amira_client.post(
        post_url("milestone_attempt", "usmle_step2ck"),
        {
            "attempt-test_date": "2026-09-01",
            "attempt-result_date": "2026-10-01",
            "attempt-passed": "yes",
            "attempt-score": "240",
        },
    )
    assert response.status_code == 302
    attempt = ExamAttempt.objects.get(milestone__applicant=amira_profile.user)
    assert (attempt.passed, attempt.score) == (True, 240)


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"attempt-test_date": "2026-02-30"}, "test_date", "Enter a real date"),
        ({"attempt-test_date": "next week"}, "test_date", "Enter a real date"),
        ({"attempt-test_date": ""}, "test_date", "This field is required"),
        ({"attempt-test_date": "1900-01-01"}, "test_date", "cannot be before"),
        (
            {"attempt-test_date": "2026-09-01", "attempt-passed": "yes", "attempt-score": "301"},
            "score",
            "between 1 and 300",
        ),
        (
            {"attempt-test_date": "2026-09-01", "attempt-passed": "yes", "attempt-score": "0"},
            "score",
            "between 1 and 300",
        ),
        (
            {"attempt-test_date": "2026-09-01", "attempt-passed": "no", "attempt-score": "two hundred"},
            "score",
            "whole number",
        ),
        # (A score without passed/failed is no longer refused: it is judged from the score, issue 9.)
        ({"attempt-test_date": "2026-09-01", "attempt-passed": "maybe"}, "passed", "Choose passed, failed"),
        (
            {"attempt-test_date": "2026-09-01", "attempt-result_date": "2026-08-01"},
            "result_date",
            "before the test date",
        ),
        # The service's rules: a 3-digit score that contradicts "passed", a result for a future test.
        (
            {"attempt-test_date": "2026-09-01", "attempt-passed": "yes", "attempt-score": "200"},
            "passed",
            "does not match the score",
        ),
        ({"attempt-test_date": "2026-12-20", "attempt-passed": "yes"}, "passed", "has not happened yet"),
    ],
)
def test_bad_attempts_are_refused_and_nothing_is_recorded(amira_client, amira_profile, data, field, message):
    response = amira_client.post(post_url("milestone_attempt", "usmle_step2ck"), data, headers=HTMX)
    assert response.status_code == 422
    assert message in field_errors(response, "attempt_form", field)
    assert not ExamAttempt.objects.filter(milestone__applicant=amira_profile.user).exists()


def test_an_attempt_over_the_limit_is_refused_naming_the_rule(amira_client, amira_profile):
    step1 = milestone(amira_profile.user, "usmle_step1")
    for day in (date(2024, 1, 10), date(2024, 7, 10), date(2025, 1, 10), date(2025, 7, 10)):
        ExamAttempt.objects.create(milestone=step1, exam="step1", test_date=day, passed=False)
    response = amira_client.post(
        post_url("milestone_attempt", "usmle_step1"), {"attempt-test_date": "2026-11-01"}
    )
    assert response.status_code == 422
    message = field_errors(response, "attempt_form", "test_date")
    assert "at most 4 attempts" in message and "source:" in message
    assert ExamAttempt.objects.filter(milestone=step1).count() == 4


def test_attempts_cannot_be_posted_to_a_milestone_without_exams(amira_client, amira_profile):
    response = amira_client.post(
        post_url("milestone_attempt", "ecfmg_registration"), {"attempt-test_date": "2026-11-01"}
    )
    assert response.status_code == 404
    assert not ExamAttempt.objects.exists()


# --- OET, documents, USCE, notes -----------------------------------------------------------------------------

OET = {
    "oet-test_date": "2026-10-03",
    "oet-listening": "360",
    "oet-reading": "350",
    "oet-speaking": "370",
    "oet-writing": "350",
}


def test_an_oet_result_is_recorded(amira_client, amira_profile):
    response = amira_client.post(post_url("milestone_oet", "oet_medicine"), OET, headers=HTMX)
    assert response.status_code == 200
    assert OETResult.objects.filter(milestone__applicant=amira_profile.user).count() == 1


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"oet-listening": "501"}, "listening", "0 to 500"),
        ({"oet-writing": "-1"}, "writing", "0 to 500"),
        ({"oet-reading": "B+"}, "reading", "whole number"),
        ({"oet-test_date": "2026-13-01"}, "test_date", "Enter a real date"),
        ({"oet-test_date": "2027-01-01"}, "test_date", "cannot be after"),
    ],
)
def test_bad_oet_results_are_refused(amira_client, amira_profile, changes, field, message):
    response = amira_client.post(post_url("milestone_oet", "oet_medicine"), {**OET, **changes}, headers=HTMX)
    assert response.status_code == 422
    assert message in field_errors(response, "oet_form", field)
    assert not OETResult.objects.exists()


def test_a_document_is_added_and_a_blank_one_refused(amira_client, amira_profile):
    url = post_url("milestone_document", "ecfmg_registration")
    refused = amira_client.post(url, {"document-label": "  ", "document-date": "2026-11-01"}, headers=HTMX)
    assert refused.status_code == 422
    assert "required" in field_errors(refused, "document_form", "label")
    assert not DocumentEvidence.objects.exists()
    saved = amira_client.post(url, {"document-label": "USMLE/ECFMG ID", "document-reference": "1-234-567-8"})
    assert saved.status_code == 302
    assert DocumentEvidence.objects.get().reference == "1-234-567-8"
    # Progress moves along with the evidence: not started -> in progress.
    assert milestone(amira_profile.user, "ecfmg_registration").status == "in_progress"


USCE = {
    "usce-kind": "externship",
    "usce-hands_on": "on",
    "usce-specialty": "Internal Medicine",
    "usce-site": "Queens Hospital, NY",
    "usce-start_date": "2026-03-01",
    "usce-end_date": "2026-05-31",
}


def test_a_usce_entry_is_added(amira_client, amira_profile):
    response = amira_client.post(post_url("milestone_usce", "usce"), USCE, headers=HTMX)
    assert response.status_code == 200
    assert "3.0 months" in response.content.decode()
    assert USCEEntry.objects.get().hands_on is True


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"usce-end_date": "2026-02-01"}, "end_date", "before the start date"),
        ({"usce-kind": "vacation"}, "kind", "Choose a type"),
        ({"usce-start_date": "2026-02-30"}, "start_date", "Enter a real date"),
        ({"usce-site": ""}, "site", "required"),
    ],
)
def test_bad_usce_entries_are_refused(amira_client, changes, field, message):
    response = amira_client.post(post_url("milestone_usce", "usce"), {**USCE, **changes}, headers=HTMX)
    assert response.status_code == 422
    assert message in field_errors(response, "usce_form", field)
    assert not USCEEntry.objects.exists()


def test_notes_are_saved_and_an_overlong_note_refused(amira_client, amira_profile):
    url = post_url("milestone_note", "usmle_step1")
    assert amira_client.post(url, {"note-note": "Ask Dr K about NBME forms"}, headers=HTMX).status_code == 200
    assert milestone(amira_profile.user, "usmle_step1").note == "Ask Dr K about NBME forms"
    refused = amira_client.post(url, {"note-note": "x" * 5001}, headers=HTMX)
    assert refused.status_code == 422
    assert "at most 5000 characters" in field_errors(refused, "note_form", "note")
    assert milestone(amira_profile.user, "usmle_step1").note == "Ask Dr K about NBME forms"


# --- Access ------------------------------------------------------------------------------------------------------


def test_another_applicant_cannot_post_to_amiras_milestones(client, amira_profile, carla):
    client.force_login(carla)
    for name, data in [
        ("milestone_status", {"status-status": "in_progress"}),
        ("milestone_note", {"note-note": "hi"}),
        ("milestone_document", {"document-label": "x"}),
    ]:
        assert client.post(post_url(name, "ecfmg_registration"), data).status_code == 404
    untouched = milestone(amira_profile.user, "ecfmg_registration")
    assert (untouched.status, untouched.note, untouched.documents.count()) == ("not_started", "", 0)


def test_advisors_and_strangers_cannot_post(client, amira_profile, ben):
    client.force_login(ben)
    assert (
        client.post(post_url("milestone_status", "usmle_step1"), {"status-status": "in_progress"}).status_code
        == 404
    )
    client.logout()
    response = client.post(post_url("milestone_status", "usmle_step1"), {"status-status": "in_progress"})
    assert response.status_code == 302 and "/accounts/login/" in response.url
    assert milestone(amira_profile.user, "usmle_step1").status == "not_started"


def test_get_is_not_allowed_on_the_post_endpoints(amira_client):
    assert amira_client.get(post_url("milestone_status", "usmle_step1")).status_code == 405
