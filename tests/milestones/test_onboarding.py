"""Onboarding (/onboarding/) and changing the profile later (/settings/profile/)."""

from __future__ import annotations

from datetime import date

import pytest
from django.urls import reverse

from milestones.models import ApplicantProfile, DocumentEvidence, MatchCycle, Milestone
from milestones.services import add_document

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _today(season_today):
    """Every test here runs in the middle of the 2027 season."""


def answers(cycle, **changes):
    data = {
        "applicant_type": "NON_US_IMG",
        "graduation_date": "2025-06-30",
        "needs_visa": "on",
        "visa_route": "J1",
        "target_cycle": str(cycle.pk),
        "specialties": ["Internal Medicine"],
        "other_specialties": "Sleep Medicine",
        "time_zone": "Africa/Cairo",
    }
    data.update(changes)
    return {name: value for name, value in data.items() if value is not None}


def test_the_dashboard_sends_a_new_applicant_to_onboarding(client, amira, pathway_data):
    client.force_login(amira)
    response = client.get(reverse("applicant:dashboard"))
    assert response.status_code == 302
    assert response.url == reverse("applicant:onboarding")


def test_it_offers_the_next_cycle_and_new_york_time_by_default(client, amira, cycle_2027):
    client.force_login(amira)
    response = client.get(reverse("applicant:onboarding"))
    assert response.status_code == 200
    form = response.context["form"]
    assert form["target_cycle"].value() == cycle_2027.pk
    assert form["time_zone"].value() == "America/New_York"
    # The 2026 Match is over (Match Day March 2026): it is not offered to a new applicant.
    assert [c.year for c in form.fields["target_cycle"].queryset] == [2027, 2028]


def test_it_creates_the_profile_and_plans_the_pathway(client, amira, cycle_2027):
    client.force_login(amira)
    response = client.post(reverse("applicant:onboarding"), answers(cycle_2027))
    assert response.status_code == 302
    assert response.url == reverse("applicant:dashboard")
    profile = ApplicantProfile.objects.get(user=amira)
    assert profile.visa_route == "J1"
    assert profile.time_zone == "Africa/Cairo"
    assert profile.specialties == ["Internal Medicine", "Sleep Medicine"]
    assert Milestone.objects.applicable().filter(applicant=amira, template__key="statement_of_need").exists()
    assert client.get(reverse("applicant:dashboard")).status_code == 200


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"visa_route": ""}, "visa_route", "Choose the visa route"),
        ({"needs_visa": None}, "visa_route", "only applies when you need a visa"),
        ({"graduation_date": "1949-12-31"}, "graduation_date", "cannot be before 1 Jan 1950"),
        ({"graduation_date": "2032-11-22"}, "graduation_date", "cannot be after 21 Nov 2032"),
        ({"graduation_date": "2026-02-30"}, "graduation_date", "Enter a real date"),
        ({"graduation_date": "soon"}, "graduation_date", "Enter a real date"),
        ({"applicant_type": "ALIEN"}, "applicant_type", "Select a valid choice"),
        ({"time_zone": "Mars/Olympus_Mons"}, "time_zone", "Choose a time zone from the list"),
        ({"target_cycle": "99999"}, "target_cycle", "Choose one of the Matches"),
        ({"other_specialties": "x" * 81}, "other_specialties", "too long"),
    ],
)
def test_it_refuses_bad_answers_next_to_the_field_and_creates_nothing(
    client, amira, cycle_2027, changes, field, message
):
    client.force_login(amira)
    response = client.post(reverse("applicant:onboarding"), answers(cycle_2027, **changes))
    assert response.status_code == 422
    assert message in " ".join(response.context["form"].errors[field])
    # The error is tied to its field for screen readers.
    assert f'id="id_{field}_error"' in response.content.decode()
    assert not ApplicantProfile.objects.filter(user=amira).exists()
    assert not Milestone.objects.filter(applicant=amira).exists()


def test_onboarding_twice_goes_to_the_profile_settings(client, amira_profile):
    client.force_login(amira_profile.user)
    response = client.get(reverse("applicant:onboarding"))
    assert response.status_code == 302
    assert response.url == reverse("applicant:settings_profile")


def test_profile_settings_without_a_profile_go_to_onboarding(client, amira, pathway_data):
    client.force_login(amira)
    assert client.get(reverse("applicant:settings_profile")).url == reverse("applicant:onboarding")


def test_a_change_of_type_replans_and_keeps_the_evidence(client, amira_profile):
    amira = amira_profile.user
    statement = Milestone.objects.get(applicant=amira, template__key="statement_of_need")
    add_document(milestone=statement, label="Ministry letter", reference="SON-1", by=amira)
    client.force_login(amira)

    # A US citizen IMG needs no visa: the J-1 Statement of Need stops applying, its evidence stays.
    response = client.post(
        reverse("applicant:settings_profile"),
        answers(amira_profile.target_cycle, applicant_type="US_IMG", needs_visa=None, visa_route=""),
    )
    assert response.status_code == 302
    statement.refresh_from_db()
    assert not statement.is_applicable
    assert DocumentEvidence.objects.filter(milestone=statement, reference="SON-1").exists()

    client.post(reverse("applicant:settings_profile"), answers(amira_profile.target_cycle))
    statement.refresh_from_db()
    assert statement.is_applicable
    assert statement.documents.get().reference == "SON-1"


def test_a_change_of_cycle_replans_the_deadlines(client, amira_profile, pathway_data):
    amira = amira_profile.user
    cycle_2026 = MatchCycle.objects.get(year=2026)
    before = Milestone.objects.get(applicant=amira, template__key="rank_order_list").due_at
    # Amira's own current cycle stays selectable; switching to a past one is refused (not offered).
    client.force_login(amira)
    response = client.post(reverse("applicant:settings_profile"), answers(cycle_2026))
    assert response.status_code == 422
    assert Milestone.objects.get(applicant=amira, template__key="rank_order_list").due_at == before


def test_a_specialty_only_change_saves_without_replanning(client, amira_profile, monkeypatch):
    from milestones import services

    calls = []
    monkeypatch.setattr(services, "plan_pathway", lambda **kwargs: calls.append(kwargs))
    client.force_login(amira_profile.user)
    response = client.post(
        reverse("applicant:settings_profile"),
        answers(amira_profile.target_cycle, specialties=["Pediatrics"], other_specialties=""),
    )
    assert response.status_code == 302
    amira_profile.refresh_from_db()
    assert amira_profile.specialties == ["Pediatrics"]
    assert calls == []


def test_other_roles_get_404(client, ben, root):
    for user in (ben, root):
        client.force_login(user)
        assert client.get(reverse("applicant:onboarding")).status_code == 404
        assert client.post(reverse("applicant:settings_profile"), {}).status_code == 404


def test_graduation_date_limits_follow_today():
    from pathway.web.applicant.forms import years_from

    assert years_from(date(2024, 2, 29), 6) == date(2030, 2, 28)
