"""The dashboard: progress, next deadlines in the applicant's time zone, overdue, risks; fixed query count."""

from __future__ import annotations

import zoneinfo
from datetime import UTC, date, datetime, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from milestones.models import DocumentEvidence, ExamAttempt, Milestone
from pathway.web.applicant.dashboard import days_left, days_left_label, progress_of

pytestmark = pytest.mark.django_db
NOW = datetime(2026, 11, 21, 12, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _today(season_today):
    """Every test here runs in the middle of the 2027 season."""


def test_days_left_counts_calendar_days_on_the_applicants_clock():
    cairo, la = zoneinfo.ZoneInfo("Africa/Cairo"), zoneinfo.ZoneInfo("America/Los_Angeles")
    # 9 p.m. ET on 3 Dec is already 4 Dec in Cairo, and still 3 Dec in Los Angeles.
    due = datetime(2026, 12, 4, 2, tzinfo=UTC)
    assert days_left(due, cairo, NOW) == 13
    assert days_left(due, la, NOW) == 12
    assert days_left(NOW + timedelta(hours=3), cairo, NOW) == 0


@pytest.mark.parametrize(
    ("days", "label"),
    [(12, "in 12 days"), (1, "tomorrow"), (0, "today"), (-1, "1 day overdue"), (-3, "3 days overdue")],
)
def test_days_left_reads_as_words(days, label):
    assert days_left_label(days) == label


def test_progress_counts_done_and_waived_per_phase():
    progress = progress_of(
        [("done", "exams"), ("waived", "exams"), ("not_started", "exams"), ("in_progress", "match")]
    )
    assert (progress.done, progress.total, progress.percent) == (2, 4, 50)
    assert [(p.phase, p.done, p.total) for p in progress.phases] == [("exams", 2, 3), ("match", 0, 1)]


def test_it_shows_progress_next_deadlines_and_projected_badges(client, amira_profile):
    amira = amira_profile.user
    client.force_login(amira)
    response = client.get(reverse("applicant:dashboard"))
    assert response.status_code == 200
    body = response.content.decode()
    assert "Progress" in body and "0 of " in body
    deadlines = response.context["next_deadlines"]
    assert 0 < len(deadlines) <= 8
    assert [d.milestone.due_at for d in deadlines] == sorted(d.milestone.due_at for d in deadlines)
    first = deadlines[0]
    # Shown in Amira's time zone (Cairo), with the days left counted there.
    local = first.milestone.due_at.astimezone(zoneinfo.ZoneInfo("Africa/Cairo"))
    assert local.strftime("%-d %b %Y") in body
    assert first.label in body
    assert "Africa/Cairo" in body
    if any(d.milestone.due_projected for d in deadlines):
        assert "badge-projected" in body


def test_overdue_milestones_and_risks_are_listed_red_first(client, amira_profile):
    amira = amira_profile.user
    letters = Milestone.objects.get(applicant=amira, template__key="letters_of_recommendation")
    Milestone.objects.filter(pk=letters.pk).update(due_at=NOW - timedelta(days=3))
    step1 = Milestone.objects.get(applicant=amira, template__key="usmle_step1")
    for day in (date(2024, 1, 10), date(2024, 7, 10), date(2025, 1, 10), date(2025, 7, 10)):
        ExamAttempt.objects.create(milestone=step1, exam="step1", test_date=day, passed=False)
    client.force_login(amira)
    response = client.get(reverse("applicant:dashboard"))
    body = response.content.decode()
    overdue = response.context["overdue"]
    assert "letters_of_recommendation" in [d.milestone.template.key for d in overdue]
    assert [d.milestone.due_at for d in overdue] == sorted(d.milestone.due_at for d in overdue)
    assert "3 days overdue" in body
    assert response.context["red_risks"] and response.context["amber_risks"]
    red, amber = response.context["red_risks"][0], response.context["amber_risks"][0]
    assert body.index(red.message) < body.index(amber.message.replace("'", "&#x27;"))
    assert "What to do:" in body


def test_the_progress_partial_comes_alone_for_htmx(client, amira_profile):
    client.force_login(amira_profile.user)
    response = client.get(reverse("applicant:dashboard_progress"), headers={"HX-Request": "true"})
    assert response.status_code == 200
    assert b"<html" not in response.content
    assert b'id="progress"' in response.content
    assert client.get(reverse("applicant:dashboard_progress")).url == reverse("applicant:dashboard")


def test_the_advisor_copy_has_no_forms_and_links_to_read_only_pages(client, ben, amira_profile):
    client.force_login(ben)
    response = client.get(reverse("advisor:student_detail", args=[amira_profile.user.pk]))
    assert response.status_code == 200
    body = response.content.decode()
    assert "hx-post" not in body and "hx-get" not in body
    assert body.count("<form") == 1  # the log-out button only
    assert reverse("advisor:student_milestone", args=[amira_profile.user.pk, "usmle_step1"]) in body


def test_other_roles_get_404(client, ben, root):
    for user in (ben, root):
        client.force_login(user)
        assert client.get(reverse("applicant:dashboard")).status_code == 404


def _count_queries(client, url) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return len(queries)


def test_the_query_count_does_not_grow_with_the_pathway(
    client, planned_applicant, django_assert_max_num_queries
):
    # Same applicant type (the risk checks differ by type), but the J-1 route adds milestones.
    small = planned_applicant("NON_US_IMG")
    large = planned_applicant("NON_US_IMG", needs_visa=True, visa_route="J1")
    step1 = Milestone.objects.get(applicant=large, template__key="usmle_step1")
    ExamAttempt.objects.bulk_create(
        ExamAttempt(milestone=step1, exam="step1", test_date=date(2020, 1, 1) + timedelta(days=40 * i))
        for i in range(20)
    )
    for milestone in Milestone.objects.filter(applicant=large):
        DocumentEvidence.objects.bulk_create(
            DocumentEvidence(milestone=milestone, label=f"doc {i}") for i in range(3)
        )
    assert (
        Milestone.objects.filter(applicant=large).count() > Milestone.objects.filter(applicant=small).count()
    )

    url = reverse("applicant:dashboard")
    client.force_login(small)
    _count_queries(client, url)  # warm caches (content types, sessions)
    small_count = _count_queries(client, url)
    client.force_login(large)
    _count_queries(client, url)
    with django_assert_max_num_queries(20):
        large_count = _count_queries(client, url)
    assert large_count == small_count
