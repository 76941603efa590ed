"""The cohort table is cached per viewer under the cohort's version (pathway/advising/versions.py): a
repeated request is served from the cache, and every change of a student, of their sharing, of their
stored risk flags, of the advisor's targets, and the passing of a deadline shows on the next request.

Each check compares the table served after the change with the table built afresh (cache cleared) and
with the table before: never stale, and the change is really there."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
import time_machine
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from milestones.models import Milestone
from milestones.risks import RED, Risk
from milestones.services import set_status
from pathway.advising import flags
from pathway.advising.targets import set_interview_target
from pathway.models import AdvisorAssignment
from pathway.sharing import end_assignment, update_sharing

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def amira(client, amira_profile, ben):
    client.force_login(ben)
    return amira_profile.user


def table(client, **params) -> str:
    response = client.get(reverse("advisor:cohort"), params, **HTMX)
    assert response.status_code == 200
    return response.content.decode()


def fresh_table(client, **params) -> str:
    """The table built from the database alone."""
    cache.clear()
    return table(client, **params)


def assert_next_table_follows(client, before: str, **params) -> str:
    served = table(client, **params)
    assert served == fresh_table(client, **params), "the cached table is stale"
    assert served != before, "the change is not on the table"
    return served


def test_a_repeated_request_is_served_from_the_cache(client, amira):
    table(client)
    with CaptureQueriesContext(connection) as first:
        cache.clear()
        page = client.get(reverse("advisor:cohort"))
    with CaptureQueriesContext(connection) as second:
        again = client.get(reverse("advisor:cohort"))
    assert page.status_code == again.status_code == 200
    assert len(second) < len(first) - 3, (len(first), len(second))
    # The layout is never cached: each response has its own CSP nonce.
    assert "Amira Haddad" in again.text and again.text != page.text


def test_the_cache_key_ignores_unknown_parameters_and_their_order(client, amira):
    table(client, risk="any", sort="name")
    with CaptureQueriesContext(connection) as queries:
        response = client.get(reverse("advisor:cohort") + "?sort=name&utm=x&risk=any", **HTMX)
    assert response.status_code == 200
    assert not any("milestones_milestone" in q["sql"] for q in queries.captured_queries)


def test_a_students_status_change_shows_on_the_next_request(client, amira):
    before = table(client)
    step = Milestone.objects.filter(applicant=amira, status="not_started", template__key="usmle_step1").get()
    set_status(milestone=step, status="waived", reason="Exempt", by=amira)
    assert_next_table_follows(client, before)


def test_a_changed_stored_risk_flag_shows_on_the_next_request(client, amira, monkeypatch):
    flags.refresh_risk_flags(applicant_ids=[amira.pk])
    before = table(client)
    risk = Risk("match_unreachable", RED, "unreachable", "switch", "rank_order_list")
    monkeypatch.setattr(flags, "cohort_risks", lambda applicant_ids, now, **_: {amira.pk: [risk]})
    flags.refresh_risk_flags(applicant_ids=[amira.pk])
    after = assert_next_table_follows(client, before)
    assert "Target Match no longer reachable" in after

    monkeypatch.setattr(flags, "cohort_risks", lambda applicant_ids, now, **_: {amira.pk: []})
    flags.refresh_risk_flags(applicant_ids=[amira.pk])  # cleared
    assert "Target Match no longer reachable" not in assert_next_table_follows(client, after)


def test_ending_access_drops_the_student_from_the_next_request(client, amira, ben):
    before = table(client)
    assert "Amira Haddad" in before
    end_assignment(assignment=AdvisorAssignment.objects.get(advisor=ben, applicant=amira))
    assert "Amira Haddad" not in assert_next_table_follows(client, before)


def test_a_new_sharing_and_changed_choices_show_on_the_next_request(client, amira, ben, carla):
    before = table(client)
    AdvisorAssignment.objects.create(advisor=ben, applicant=carla, accepted_at=timezone.now())
    after = assert_next_table_follows(client, before)
    assert "Carla Reyes" in after
    # A choice the table does not show changes nothing on it, but never serves it stale either.
    update_sharing(assignment=AdvisorAssignment.objects.get(advisor=ben, applicant=amira), shares={"shares_visa": False})
    assert table(client) == fresh_table(client)


def test_a_students_new_name_shows_on_the_next_request(client, amira):
    before = table(client)
    amira.name = "Amira H. Haddad"
    amira.save()
    assert "Amira H. Haddad" in assert_next_table_follows(client, before)


def test_a_changed_interview_target_shows_on_the_next_request(client, amira, ben):
    before = table(client)
    set_interview_target(advisor=ben, specialty="Internal Medicine", interviews=12, by_date=date(2027, 1, 15))
    assert "target 12 by" in assert_next_table_follows(client, before)


def test_a_deadline_passing_shows_on_the_next_request(client, amira, ben):
    now = timezone.now()
    due = (
        Milestone.objects.filter(applicant=amira, status__in=["not_started", "in_progress"], due_at__gt=now)
        .order_by("due_at")
        .values_list("due_at", flat=True)
        .first()
    )
    assert due is not None
    with time_machine.travel(due - timedelta(minutes=1), tick=False):
        client.force_login(ben)  # a session of that day
        before = table(client)
    with time_machine.travel(due + timedelta(minutes=1), tick=False):
        assert_next_table_follows(client, before)
