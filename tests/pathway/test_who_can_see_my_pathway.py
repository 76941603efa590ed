"""Applicants see which advisors can see their pathway: User.objects.advisors_of and the settings page."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from pathway.models import AdvisorAssignment, User

from ..factories import UserFactory

pytestmark = pytest.mark.django_db
SETTINGS_URL = "/settings/"


def assign(advisor, applicant, *, since=None, ended=None):
    return AdvisorAssignment.objects.create(
        advisor=advisor,
        applicant=applicant,
        created_at=since or datetime(2026, 9, 1, tzinfo=UTC),
        accepted_at=since or datetime(2026, 9, 1, tzinfo=UTC),
        ended_at=ended,
    )


def test_they_are_the_advisors_with_an_active_assignment_to_the_applicant(amira, ben, dan, carla):
    former = UserFactory(advisor=True, name="Former Advisor")
    assign(former, amira, ended=datetime(2026, 10, 1, tzinfo=UTC))
    carlas = UserFactory(advisor=True, name="Carla's Advisor")
    assign(carlas, carla)
    departed = UserFactory(advisor=True, name="Left The Service", is_active=False)
    assign(departed, amira)
    AdvisorAssignment.objects.filter(advisor=ben).update(accepted_at=datetime(2026, 8, 15, tzinfo=UTC))

    advisors = list(User.objects.advisors_of(amira))

    assert advisors == [ben]
    assert advisors[0].advising_since == datetime(2026, 8, 15, tzinfo=UTC)
    # The same rule the advisor's side applies: exactly these advisors are let in.
    everyone = [ben, dan, former, carlas, departed]
    can_see = [a for a in everyone if User.objects.applicants_visible_to(a).filter(pk=amira.pk).exists()]
    assert can_see == [ben, departed]  # departed cannot log in: is_active is off
    assert User.objects.advisors_of(carla).get() == carlas


def test_an_applicant_with_no_advisor_has_none(amira, dan):
    assert not User.objects.advisors_of(amira).exists()


def test_the_settings_page_names_my_advisors(client, amira_profile, ben):
    former = UserFactory(advisor=True, name="Former Advisor", email="former@example.com")
    assign(former, amira_profile.user, ended=datetime(2026, 10, 1, tzinfo=UTC))
    AdvisorAssignment.objects.filter(advisor=ben).update(accepted_at=datetime(2026, 8, 15, 12, tzinfo=UTC))
    client.force_login(amira_profile.user)

    page = client.get(SETTINGS_URL).text

    assert "Who can see your pathway" in page
    assert "Ben Okafor" in page and "ben@example.com" in page and "15 Aug 2026" in page
    assert "Former Advisor" not in page and "former@example.com" not in page
    assert "administrators" in page


def test_the_settings_page_says_when_no_advisor_can_see_my_pathway(client, amira_profile):
    client.force_login(amira_profile.user)

    page = client.get(SETTINGS_URL).text

    assert "Who can see your pathway" in page
    assert "No advisor can see your pathway" in page


def count_queries(client) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(SETTINGS_URL).status_code == 200
    return len(queries)


def test_the_query_count_does_not_grow_with_the_advisors(client, amira_profile, ben):
    client.force_login(amira_profile.user)
    count_queries(client)  # warm caches (content types, sessions)
    one = count_queries(client)
    for n in range(3):
        assign(UserFactory(advisor=True, name=f"Advisor {n}"), amira_profile.user)

    assert count_queries(client) == one
    assert client.get(SETTINGS_URL).text.count("Advisor ") >= 3
