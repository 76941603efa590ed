"""Bad input to the applicant's forms gets a clear message next to the field and changes nothing (issue #10)."""

from __future__ import annotations

import pytest
import time_machine
from django.urls import reverse

from milestones.models import EARLIEST_DATE, ExamAttempt

pytestmark = pytest.mark.django_db

# The middle of the 2027 season, as in the settings-page tests.
TODAY = "2026-11-21 12:00Z"


@pytest.fixture(autouse=True)
def _fixed_today():
    with time_machine.travel(TODAY, tick=False):
        yield


def settings_form(**changes) -> dict:
    return {"email_reminders": "on", "lead_mode": "custom", "time_zone": "Africa/Cairo"} | changes


# --- Lead times -------------------------------------------------------------------------------------


@pytest.mark.parametrize("lead_days", ["²", "7, ²", "³⁰", "½", "①"])
def test_lead_days_that_only_look_like_digits_are_refused(client, amira_profile, lead_days):
    """str.isdigit() is true for superscripts and circled digits, which int() cannot read: once a 500."""
    client.force_login(amira_profile.user)

    response = client.post(reverse("applicant:settings"), settings_form(lead_days=lead_days))

    assert response.status_code == 422
    assert "not a whole number" in " ".join(response.context["form"].errors["lead_days"])
    amira_profile.refresh_from_db()
    assert amira_profile.reminder_lead_days is None


def test_lead_days_in_other_decimal_scripts_are_read(client, amira_profile):
    """Arabic-Indic digits are real decimal digits: an applicant typing them means 30 and 7."""
    client.force_login(amira_profile.user)

    response = client.post(reverse("applicant:settings"), settings_form(lead_days="٣٠, ٧"))

    assert response.status_code == 302
    amira_profile.refresh_from_db()
    assert amira_profile.reminder_lead_days == [30, 7]


# --- Text the database cannot store ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url_name", "key", "data", "field"),
    [
        ("milestone_status", "usce", {"status-status": "waived", "status-reason": "no\x00"}, "reason"),
        ("milestone_note", "usce", {"note-note": "a\x00b"}, "note"),
        (
            "milestone_document",
            "ecfmg_registration",
            {"document-label": "ECFMG\x00ID", "document-reference": "1"},
            "label",
        ),
    ],
)
def test_a_nul_character_in_a_form_is_refused(client, amira_profile, url_name, key, data, field):
    client.force_login(amira_profile.user)

    response = client.post(reverse(f"applicant:{url_name}", args=[key]), data)

    assert response.status_code == 422
    assert response.context["refused"].errors[field] == ["Null characters are not allowed."]


# --- Dates ----------------------------------------------------------------------------------------------


def test_the_forms_earliest_date_is_the_apis(client, amira_profile):
    """Both faces take the limit from milestones.models.EARLIEST_DATE."""
    client.force_login(amira_profile.user)
    url = reverse("applicant:milestone_attempt", args=["usmle_step2ck"])

    too_early = client.post(url, {"attempt-test_date": "1949-12-31"})

    assert too_early.status_code == 422
    assert f"{EARLIEST_DATE:%-d %b %Y}" in " ".join(too_early.context["refused"].errors["test_date"])


# --- A double-submitted exam attempt ------------------------------------------------------------------


def test_a_double_submitted_attempt_form_records_one_attempt(client, amira_profile):
    client.force_login(amira_profile.user)
    url = reverse("applicant:milestone_attempt", args=["usmle_step2ck"])
    data = {
        "attempt-test_date": "2026-08-03",
        "attempt-result_date": "2026-09-02",
        "attempt-passed": "yes",
        "attempt-score": "250",
    }

    first, second = client.post(url, data), client.post(url, data)

    assert (first.status_code, second.status_code) == (302, 302)
    assert ExamAttempt.objects.filter(milestone__applicant=amira_profile.user).count() == 1
