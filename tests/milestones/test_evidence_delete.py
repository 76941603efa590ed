"""Removing an evidence row entered by mistake, from the milestone page.

POST /milestones/<key>/evidence/<kind>/<pk>/delete/: the applicant's own row of that milestone only (anything
else is a 404 and changes nothing); htmx gets the panel back, no-JS a redirect with a message. Removing the
only passing result of a done exam/OET milestone takes it back to in progress.
"""

from __future__ import annotations

import json
from datetime import date

import pytest
from django.urls import reverse

from milestones import services
from milestones.models import DocumentEvidence, ExamAttempt, Milestone, OETResult, USCEEntry

pytestmark = pytest.mark.django_db
HTMX = {"HX-Request": "true"}


@pytest.fixture(autouse=True)
def _today(season_today):
    """Every test here runs in the middle of the 2027 season (21 Nov 2026)."""


@pytest.fixture
def amira_client(client, amira_profile):
    client.force_login(amira_profile.user)
    return client


def milestone(user, key):
    return Milestone.objects.select_related("template").get(applicant=user, template__key=key)


def delete_url(key, kind, pk):
    return reverse("applicant:milestone_evidence_delete", args=[key, kind, pk])


def make_attempt(user, *, passed=None, key="usmle_step2ck", test_date=date(2026, 9, 15)):
    done = passed is not None
    return services.record_exam_attempt(
        milestone=milestone(user, key),
        test_date=test_date,
        result_date=date(2026, 11, 10) if done else None,
        passed=passed,
        by=user,
    )


def make_oet(user, score=400):
    return services.record_oet_result(
        milestone=milestone(user, "oet_medicine"),
        test_date=date(2026, 8, 1),
        listening=score,
        reading=score,
        speaking=score,
        writing=score,
        by=user,
    )


def make_document(user, key="ecfmg_registration"):
    return services.add_document(
        milestone=milestone(user, key), label="ECFMG ID typo", reference="0-1", by=user
    )


def make_usce(user):
    return services.add_usce_entry(
        milestone=milestone(user, "usce"),
        kind="observership",
        hands_on=False,
        specialty="Internal Medicine",
        site="Mercy Hospital",
        start_date=date(2026, 6, 1),
        end_date=date(2026, 6, 30),
        by=user,
    )


MAKERS = {
    "attempt": ("usmle_step2ck", ExamAttempt, lambda user: make_attempt(user, passed=False)),
    "oet": ("oet_medicine", OETResult, lambda user: make_oet(user, score=200)),
    "document": ("ecfmg_registration", DocumentEvidence, make_document),
    "usce": ("usce", USCEEntry, make_usce),
}


@pytest.mark.parametrize("kind", list(MAKERS))
def test_each_kind_is_removed_without_js_with_a_redirect_and_a_message(amira_client, amira_profile, kind):
    key, model, make = MAKERS[kind]
    row = make(amira_profile.user)
    response = amira_client.post(delete_url(key, kind, row.pk))
    assert response.status_code == 302
    assert response.url == reverse("applicant:milestone_detail", args=[key])
    assert not model.objects.filter(pk=row.pk).exists()
    page = amira_client.get(response.url)
    assert "Removed." in page.content.decode()


@pytest.mark.parametrize("kind", list(MAKERS))
def test_the_page_offers_a_named_remove_button_for_each_row(amira_client, amira_profile, kind):
    key, _model, make = MAKERS[kind]
    row = make(amira_profile.user)
    body = amira_client.get(reverse("applicant:milestone_detail", args=[key])).content.decode()
    url = delete_url(key, kind, row.pk)
    assert f'action="{url}"' in body
    assert f'hx-post="{url}"' in body
    assert "hx-confirm=" in body
    assert 'Remove<span class="visually-hidden"> ' in body


def test_with_htmx_only_the_panel_comes_back_and_the_progress_is_nudged(amira_client, amira_profile):
    doc = make_document(amira_profile.user)
    response = amira_client.post(delete_url("ecfmg_registration", "document", doc.pk), headers=HTMX)
    assert response.status_code == 200
    body = response.content.decode()
    assert "<html" not in body
    assert body.lstrip().startswith('<div id="milestone-panel"')
    assert "Removed." in body
    assert "ECFMG ID typo" not in body
    assert json.loads(response["HX-Trigger"]) == {"pathway-changed": {"target": "body"}}
    assert not DocumentEvidence.objects.filter(pk=doc.pk).exists()


def test_another_applicants_row_is_a_404_and_stays(amira_client, planned_applicant):
    other = planned_applicant("NON_US_IMG")
    doc = make_document(other)
    response = amira_client.post(delete_url("ecfmg_registration", "document", doc.pk))
    assert response.status_code == 404
    assert DocumentEvidence.objects.filter(pk=doc.pk).exists()


def test_a_row_of_another_of_her_milestones_is_a_404_and_stays(amira_client, amira_profile):
    doc = make_document(amira_profile.user, key="ecfmg_registration")
    attempt = make_attempt(amira_profile.user, passed=False)
    for url in (
        delete_url("usmle_step2ck", "document", doc.pk),
        delete_url("ecfmg_registration", "attempt", attempt.pk),
    ):
        assert amira_client.post(url).status_code == 404
    assert DocumentEvidence.objects.filter(pk=doc.pk).exists()
    assert ExamAttempt.objects.filter(pk=attempt.pk).exists()


def test_an_unknown_kind_or_id_is_a_404(amira_client, amira_profile):
    doc = make_document(amira_profile.user)
    assert amira_client.post(delete_url("ecfmg_registration", "photo", doc.pk)).status_code == 404
    assert amira_client.post(delete_url("ecfmg_registration", "document", doc.pk + 1000)).status_code == 404
    assert amira_client.post(delete_url("ecfmg_registration", "document", 2**63)).status_code == 404
    assert DocumentEvidence.objects.filter(pk=doc.pk).exists()


def test_an_advisor_gets_a_404_and_nothing_changes(client, ben, amira_profile):
    doc = make_document(amira_profile.user)
    client.force_login(ben)
    assert client.post(delete_url("ecfmg_registration", "document", doc.pk)).status_code == 404
    assert DocumentEvidence.objects.filter(pk=doc.pk).exists()


def test_the_advisors_read_only_copy_has_no_remove_buttons(client, ben, amira_profile):
    make_document(amira_profile.user)
    client.force_login(ben)
    page = client.get(reverse("advisor:student_milestone", args=[amira_profile.user.pk, "ecfmg_registration"]))
    body = page.content.decode()
    assert "ECFMG ID typo" in body
    assert "link-button-danger" not in body


def test_get_is_405(amira_client, amira_profile):
    doc = make_document(amira_profile.user)
    assert amira_client.get(delete_url("ecfmg_registration", "document", doc.pk)).status_code == 405
    assert DocumentEvidence.objects.filter(pk=doc.pk).exists()


def _close_prerequisites(user, key):
    for prerequisite in services.missing_hard_prerequisites(milestone(user, key)):
        services.set_status(milestone=prerequisite, status="waived", reason="set up by the test", by=user)


def test_removing_the_only_passing_step2ck_attempt_reopens_the_milestone(amira_client, amira_profile):
    user = amira_profile.user
    _close_prerequisites(user, "usmle_step2ck")
    failed = make_attempt(user, passed=False, test_date=date(2026, 3, 2))
    passed = make_attempt(user, passed=True)
    assert milestone(user, "usmle_step2ck").status == "done"

    response = amira_client.post(delete_url("usmle_step2ck", "attempt", passed.pk), headers=HTMX)
    assert response.status_code == 200
    reopened = milestone(user, "usmle_step2ck")
    assert (reopened.status, reopened.completed_on) == ("in_progress", None)
    assert "In progress" in response.content.decode()
    assert ExamAttempt.objects.filter(pk=failed.pk).exists()


def test_removing_a_failed_attempt_leaves_a_done_milestone_done(amira_client, amira_profile):
    user = amira_profile.user
    _close_prerequisites(user, "usmle_step2ck")
    failed = make_attempt(user, passed=False, test_date=date(2026, 3, 2))
    make_attempt(user, passed=True)
    amira_client.post(delete_url("usmle_step2ck", "attempt", failed.pk))
    assert milestone(user, "usmle_step2ck").status == "done"


def test_removing_one_of_two_passing_oet_results_keeps_it_done(amira_client, amira_profile):
    user = amira_profile.user
    _close_prerequisites(user, "oet_medicine")
    first, second = make_oet(user), make_oet(user)
    assert milestone(user, "oet_medicine").status == "done"
    amira_client.post(delete_url("oet_medicine", "oet", first.pk))
    assert milestone(user, "oet_medicine").status == "done"
    amira_client.post(delete_url("oet_medicine", "oet", second.pk))
    assert milestone(user, "oet_medicine").status == "in_progress"
