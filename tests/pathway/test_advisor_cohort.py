"""The advisor's cohort: who is listed, the filters, sorting and pages, the htmx partial, the CSV export,
the cohort picture, and a query count that does not grow with the cohort."""

from __future__ import annotations

import csv
import io

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from pathway.models import AdvisorAssignment, StudentRiskFlag
from pathway.web.advisor.cohort import FORMULA_STARTS, csv_cell

from ..factories import UserFactory
from .cohort_world import seed_cohort

pytestmark = pytest.mark.django_db


@pytest.fixture
def advisor(pathway_data):
    return UserFactory(advisor=True, email="cohort-advisor@example.com", name="Cora Advisor")


def count_queries(client, url) -> tuple[int, object]:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200, url
    return len(queries), response


@pytest.mark.parametrize(
    "url",
    [
        reverse("advisor:cohort"),
        reverse("advisor:cohort") + "?risk=any&sort=-overdue&page=2",
        reverse("advisor:cohort") + "?type=NON_US_IMG&specialty=Pediatrics&phase=application&cycle=2027",
        reverse("advisor:cohort_csv") + "?risk=rol_not_certified",
        reverse("advisor:cohort_picture"),
    ],
)
def test_the_query_count_does_not_grow_with_the_cohort(client, advisor, url):
    client.force_login(advisor)
    # Another page first: whether the advisor has a second factor is then in the cache (issue 11), as on
    # every request but a session's first.
    assert client.get(reverse("advisor:workspace_settings")).status_code == 200
    seed_cohort(advisor, 10)
    small, _ = count_queries(client, url)
    seed_cohort(advisor, 490, start=10)
    large, response = count_queries(client, url)
    assert small == large, f"{url}: {small} queries for 10 students, {large} for 500"
    if url == reverse("advisor:cohort"):
        assert b"500 students" in response.content
        assert response.content.count(b"<tr>") == 51  # the heading row and a page of 50


def test_only_students_who_share_with_the_advisor_are_listed(client, amira_profile, ben, carla):
    from django.utils import timezone

    ended = UserFactory(email="ended@example.com", name="Enid Ended")
    AdvisorAssignment.objects.create(advisor=ben, applicant=ended, accepted_at=timezone.now(), ended_at=timezone.now())
    pending = UserFactory(email="pending@example.com", name="Pia Pending")
    AdvisorAssignment.objects.create(advisor=ben, applicant=pending)  # an admin's, not accepted yet
    client.force_login(ben)
    body = client.get(reverse("advisor:cohort")).content.decode()
    assert "Amira Haddad" in body
    for stranger in ("Carla Reyes", "Enid Ended", "Pia Pending"):
        assert stranger not in body
    assert "1 student" in body


def test_the_risk_filter_lists_only_students_with_that_flag(client, advisor):
    students = seed_cohort(advisor, 30, flagged_every=3)
    StudentRiskFlag.objects.create(applicant=students[1], code="match_unreachable", severity="red")
    client.force_login(advisor)
    page = client.get(reverse("advisor:cohort"), {"risk": "rol_not_certified"}).content.decode()
    assert "10 students matching the filters" in page
    assert "Student 00000" in page and "Student 00001" not in page
    assert "Student 00001" in client.get(reverse("advisor:cohort"), {"risk": "any"}).content.decode()
    assert "11 students" in client.get(reverse("advisor:cohort"), {"risk": "any"}).content.decode()
    # The control the browser test uses: a labelled select.
    assert '<label for="id_risk">Risk</label>' in page


def test_a_cleared_flag_no_longer_counts(client, advisor):
    from django.utils import timezone

    seed_cohort(advisor, 6, flagged_every=3)
    StudentRiskFlag.objects.filter(applicant__email="student00000@cohort.test").update(cleared_at=timezone.now())
    client.force_login(advisor)
    assert "1 student matching" in client.get(reverse("advisor:cohort"), {"risk": "any"}).content.decode()


def test_a_value_that_is_not_a_choice_is_reported_and_ignored(client, advisor):
    seed_cohort(advisor, 4)
    client.force_login(advisor)
    response = client.get(reverse("advisor:cohort"), {"risk": "<script>", "sort": "password", "page": "x", "cycle": "abc"})
    assert response.status_code == 200
    body = response.content.decode()
    assert "That is not one of the choices, so this filter is not applied." in body
    assert "4 students" in body and "<script>" not in body


def test_filters_by_type_specialty_and_phase(client, advisor):
    seed_cohort(advisor, 16)
    client.force_login(advisor)
    assert "4 students matching" in client.get(reverse("advisor:cohort"), {"type": "US_DO"}).content.decode()
    body = client.get(reverse("advisor:cohort"), {"specialty": "Pediatrics", "type": "US_DO"}).content.decode()
    assert "4 students matching" in body  # the seed gives every DO Pediatrics
    body = client.get(reverse("advisor:cohort"), {"specialty": "Pediatrics", "type": "US_MD"}).content.decode()
    assert "No student matches these filters" in body
    phases = [client.get(reverse("advisor:cohort"), {"phase": p}).content.decode() for p in ("eligibility", "exams", "match")]
    assert any("matching the filters" in p and "No student matches" not in p for p in phases)


def test_sorting_by_a_column_and_back(client, advisor):
    seed_cohort(advisor, 12)
    client.force_login(advisor)
    ascending = client.get(reverse("advisor:cohort"), {"sort": "name"}).content.decode()
    descending = client.get(reverse("advisor:cohort"), {"sort": "-name"}).content.decode()
    assert ascending.index("Student 00000") < ascending.index("Student 00011")
    assert descending.index("Student 00011") < descending.index("Student 00000")
    assert 'aria-sort="ascending"' in ascending and 'aria-sort="descending"' in descending
    # The heading of the current sort links to the other direction, keeping the filters.
    assert 'href="?sort=-name"' in ascending


def test_htmx_gets_the_table_alone(client, advisor):
    seed_cohort(advisor, 3)
    client.force_login(advisor)
    response = client.get(reverse("advisor:cohort"), {"sort": "-overdue"}, headers={"HX-Request": "true"})
    body = response.content.decode()
    assert body.lstrip().startswith('<section id="cohort-table"')
    assert "<html" not in body and "3 students" in body


def test_pages_of_fifty(client, advisor):
    seed_cohort(advisor, 60)
    client.force_login(advisor)
    second = client.get(reverse("advisor:cohort"), {"sort": "name", "page": 2}).content.decode()
    assert "Page 2 of 2" in second and "Student 00059" in second and "Student 00000" not in second
    assert 'rel="prev" href="?sort=name&amp;page=1"' in second


@pytest.mark.parametrize("start", FORMULA_STARTS)
def test_csv_cells_that_a_spreadsheet_would_run_are_escaped(start):
    assert csv_cell(f"{start}HYPERLINK(\"http://evil\")").startswith("'")
    assert csv_cell("Plain") == "Plain" and csv_cell(None) == "" and csv_cell(42) == "42"


def test_the_csv_export_applies_the_filters_and_escapes_formulas(client, advisor):
    students = seed_cohort(advisor, 8)
    students[2].name = '=HYPERLINK("http://evil.example","click")'
    students[2].save()
    client.force_login(advisor)
    response = client.get(reverse("advisor:cohort_csv"), {"type": "US_IMG"})
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert rows[0][0] == "Student" and "Risk flags" in rows[0]
    assert len(rows) == 1 + 2  # the two US IMGs of eight
    assert {r[2] for r in rows[1:]} == {"US citizen international medical graduate"}
    names = [r[0] for r in rows[1:]]
    assert "'=HYPERLINK(\"http://evil.example\",\"click\")" in names
    assert all(r[13].split(";")[0] == "0" for r in rows[1:])  # no interviews recorded yet


def test_the_cohort_picture_counts_each_milestone_and_reads_without_colour(client, advisor):
    from milestones.models import Milestone

    seed_cohort(advisor, 8)
    client.force_login(advisor)
    body = client.get(reverse("advisor:cohort_picture")).content.decode()
    done = Milestone.objects.filter(template__key="personal_statement", status="done").count()
    total = Milestone.objects.filter(template__key="personal_statement").count()
    assert f"{done} of {total} (" in body  # the figure written beside the bar
    assert "<svg" in body and 'role="img"' in body and '<pattern id="hatch"' in body
    assert "<title id=\"funnel-title\">" in body and "The same as a table" in body
    assert "Deadlines of the coming weeks" in body


def test_an_applicant_and_a_stranger_get_404(client, amira_profile, advisor):
    client.force_login(amira_profile.user)
    for name in ("advisor:cohort", "advisor:cohort_csv", "advisor:cohort_picture", "advisor:workspace_settings"):
        assert client.get(reverse(name)).status_code == 404
