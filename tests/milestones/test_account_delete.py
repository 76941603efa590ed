"""Deleting the account: confirmation by email address and password, then nothing of the applicant remains."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from allauth.account.models import EmailAddress
from django.urls import reverse

from milestones.models import (
    ApplicantProfile,
    DigestDelivery,
    DocumentEvidence,
    ExamAttempt,
    Milestone,
    Reminder,
)
from milestones.services import add_document, set_status
from pathway.models import AdvisorAssignment, ApiToken, User

from ..factories import PASSWORD, PlannedProfileFactory

pytestmark = pytest.mark.django_db
NOW = datetime(2026, 11, 21, 12, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _today(season_today):
    """Every test here runs in the middle of the 2027 season."""


@pytest.fixture
def amira_everything(amira_profile, ben):
    amira = amira_profile.user
    step1 = Milestone.objects.get(applicant=amira, template__key="usmle_step1")
    reg = Milestone.objects.get(applicant=amira, template__key="school_eligibility_check")
    ExamAttempt.objects.create(milestone=step1, exam="step1", test_date=date(2026, 1, 5))
    add_document(milestone=reg, label="Sponsor note", by=amira)
    set_status(milestone=reg, status="done", by=amira)
    Reminder.objects.create(milestone=step1, lead_days=7, status="sent", scheduled_for=NOW)
    DigestDelivery.objects.create(user=amira, local_date=date(2026, 11, 21))
    ApiToken.objects.create(user=amira, name="script", digest="d" * 64, prefix="abc")
    EmailAddress.objects.create(user=amira, email=amira.email, verified=True, primary=True)
    return amira


@pytest.fixture
def carla_planned(carla, cycle_2027):
    PlannedProfileFactory(
        user=carla, applicant_type="US_MD", graduation_date=date(2026, 5, 1), target_cycle=cycle_2027
    )
    return carla


def test_it_asks_for_the_email_address_first(client, amira_everything):
    client.force_login(amira_everything)
    response = client.get(reverse("applicant:account_delete"))
    assert response.status_code == 200
    assert "Type your email address to confirm" in response.content.decode()
    assert "Your password" in response.content.decode()


@pytest.mark.parametrize("typed", ["", "carla@example.com", "not an email"])
def test_a_wrong_confirmation_deletes_nothing(client, amira_everything, typed):
    client.force_login(amira_everything)
    response = client.post(reverse("applicant:account_delete"), {"email": typed, "password": PASSWORD})
    assert response.status_code == 422
    assert response.context["form"].errors["email"]
    assert User.objects.filter(pk=amira_everything.pk).exists()
    assert Milestone.objects.filter(applicant=amira_everything).exists()


@pytest.mark.parametrize("password", ["", "wrong-password", PASSWORD.upper()])
def test_without_the_right_password_nothing_is_deleted(client, amira_everything, password):
    client.force_login(amira_everything)
    data = {"email": amira_everything.email, "password": password}
    response = client.post(reverse("applicant:account_delete"), data)
    assert response.status_code == 422
    assert response.context["form"].errors["password"]
    assert User.objects.filter(pk=amira_everything.pk).exists()
    assert Milestone.objects.filter(applicant=amira_everything).exists()
    assert response.wsgi_request.user.is_authenticated


def test_password_guesses_here_are_limited_too(client, amira_everything):
    from django.core.cache import cache

    cache.clear()
    client.force_login(amira_everything)
    for attempt in range(10):
        data = {"email": amira_everything.email, "password": f"guess-{attempt}"}
        client.post(reverse("applicant:account_delete"), data)
    data = {"email": amira_everything.email, "password": PASSWORD}
    response = client.post(reverse("applicant:account_delete"), data)
    cache.clear()
    assert response.status_code == 422
    assert "Too many attempts" in " ".join(response.context["form"].errors["password"])
    assert User.objects.filter(pk=amira_everything.pk).exists()


def test_it_deletes_everything_logs_out_and_says_so(client, amira_everything, carla_planned):
    amira_id = amira_everything.pk
    carla_milestones = Milestone.objects.filter(applicant=carla_planned).count()
    client.force_login(amira_everything)
    response = client.post(
        reverse("applicant:account_delete"), {"email": "Amira@Example.com", "password": PASSWORD}, follow=True
    )
    assert response.redirect_chain == [(reverse("home"), 302)]
    assert "Your account and everything in it have been deleted." in response.content.decode()
    assert not response.wsgi_request.user.is_authenticated

    assert not User.objects.filter(pk=amira_id).exists()
    assert not ApplicantProfile.objects.filter(user_id=amira_id).exists()
    assert not Milestone.objects.filter(applicant_id=amira_id).exists()
    assert not ExamAttempt.objects.filter(milestone__applicant_id=amira_id).exists()
    assert not DocumentEvidence.objects.exists()
    assert not Reminder.objects.exists()
    assert not DigestDelivery.objects.filter(user_id=amira_id).exists()
    assert not ApiToken.objects.filter(user_id=amira_id).exists()
    assert not EmailAddress.objects.filter(email="amira@example.com").exists()
    assert not AdvisorAssignment.objects.filter(applicant_id=amira_id).exists()
    assert not Milestone.history.filter(applicant_id=amira_id).exists()
    assert not ApplicantProfile.history.filter(user_id=amira_id).exists()
    # Nobody else's data goes with it.
    assert Milestone.objects.filter(applicant=carla_planned).count() == carla_milestones
    assert Milestone.history.filter(applicant_id=carla_planned.pk).exists()


def test_only_applicants_delete_here(client, ben):
    client.force_login(ben)
    data = {"email": "ben@example.com", "password": PASSWORD}
    assert client.post(reverse("applicant:account_delete"), data).status_code == 404
    assert User.objects.filter(pk=ben.pk).exists()
