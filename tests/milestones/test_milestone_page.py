"""The milestone page: guidance, prerequisites, the deadline and its anchor, evidence; access; query count."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from milestones.models import DocumentEvidence, ExamAttempt, Milestone
from pathway.models import AdvisorAssignment

from ..factories import PlannedProfileFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _today(season_today):
    """Every test here runs in the middle of the 2027 season."""


def url(key):
    return reverse("applicant:milestone_detail", args=[key])


def test_it_shows_guidance_prerequisites_and_the_deadline_anchor(client, amira_profile):
    client.force_login(amira_profile.user)
    response = client.get(url("usmle_step2ck"))
    assert response.status_code == 200
    body = response.content.decode()
    assert "<h1>USMLE Step 2 CK</h1>" in body
    assert "What to do" in body and "Step 2 CK" in body
    # Prerequisites with their state, linked; a prerequisite that does not apply (NBME) is left out.
    assert reverse("applicant:milestone_detail", args=["usmle_registration"]) in body
    assert "nbme_registration" not in body
    # "On the day of" the ROL deadline, shown on the ET clock it is defined on, with its projection.
    assert "on the day of “NRMP ROL certification deadline" in " ".join(body.split())
    assert "9:00 PM ET" in body
    assert "Passing standard in force today" in body
    assert 'name="attempt-test_date"' in body


def test_a_milestone_anchored_deadline_links_to_its_anchor(client, amira_profile):
    client.force_login(amira_profile.user)
    body = " ".join(client.get(url("usmle_step3")).content.decode().split())
    assert "540 days after" in body
    assert 'the deadline of <a href="' + reverse("applicant:milestone_detail", args=["residency_start"]) in body


def test_pending_attempts_show_the_expected_result_date(client, amira_profile):
    step1 = Milestone.objects.get(applicant=amira_profile.user, template__key="usmle_step1")
    ExamAttempt.objects.create(milestone=step1, exam="step1", test_date=date(2026, 11, 2))
    client.force_login(amira_profile.user)
    body = client.get(url("usmle_step1")).content.decode()
    assert "expected around" in body
    assert "pass/fail only" in body


def test_usce_months_are_summed_by_kind(client, amira_profile):
    from milestones.services import add_usce_entry

    usce = Milestone.objects.get(applicant=amira_profile.user, template__key="usce")
    for start, end in ((date(2026, 1, 1), date(2026, 1, 31)), (date(2026, 3, 1), date(2026, 3, 31))):
        add_usce_entry(
            milestone=usce,
            kind="externship",
            hands_on=True,
            specialty="IM",
            site="Queens",
            start_date=start,
            end_date=end,
            by=amira_profile.user,
        )
    client.force_login(amira_profile.user)
    body = client.get(url("usce")).content.decode()
    assert "Externship (graduate) 2.0 months" in body


def test_another_applicants_or_an_unknown_key_is_404(client, amira_profile, carla, cycle_2027):
    PlannedProfileFactory(
        user=carla, applicant_type="US_MD", graduation_date=date(2026, 5, 1), target_cycle=cycle_2027
    )
    client.force_login(carla)
    assert client.get(url("oet_medicine")).status_code == 404  # not on a US MD's pathway (Amira has it)
    assert client.get(url("no_such_step")).status_code == 404
    assert client.get(url("usmle_step1")).status_code == 200  # her own


def test_a_milestone_that_stopped_applying_is_404(client, amira_profile):
    Milestone.objects.filter(applicant=amira_profile.user, template__key="statement_of_need").update(
        is_applicable=False
    )
    client.force_login(amira_profile.user)
    assert client.get(url("statement_of_need")).status_code == 404


def test_the_advisor_copy_is_read_only(client, ben, dan, amira_profile):
    amira = amira_profile.user
    Milestone.objects.filter(applicant=amira, template__key="usmle_step1").update(note="Booked for March")
    student_url = reverse("advisor:student_milestone", args=[amira.pk, "usmle_step1"])
    client.force_login(ben)
    response = client.get(student_url)
    assert response.status_code == 200
    body = response.content.decode()
    assert "Booked for March" not in body  # private notes are not shared unless amira says so (issue 14)
    # The log-out button and the comment form only: nothing that changes amira's pathway.
    assert body.count("<form") == 2 and body.count('action="/students/') == 1 and "/comments/" in body
    assert "hx-get" not in body
    AdvisorAssignment.objects.filter(advisor=ben, applicant=amira).update(shares_notes=True)
    assert "Booked for March" in client.get(student_url).content.decode()
    # Advisors cannot use the applicant's own pages or post anything.
    assert client.get(url("usmle_step1")).status_code == 404
    assert client.post(reverse("applicant:milestone_note", args=["usmle_step1"]), {"note-note": "x"}).status_code == 404
    client.force_login(dan)
    assert client.get(student_url).status_code == 404


def _count(client, path) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(path).status_code == 200
    return len(queries)


@pytest.mark.parametrize("key", ["usmle_step2ck", "ecfmg_registration", "oet_medicine", "usce"])
def test_the_query_count_does_not_grow_with_the_evidence(
    client, planned_applicant, key, django_assert_max_num_queries
):
    small, large = planned_applicant(), planned_applicant()
    milestone = Milestone.objects.get(applicant=large, template__key=key)
    ExamAttempt.objects.bulk_create(
        ExamAttempt(milestone=milestone, exam="step2ck", test_date=date(2019, 1, 1) + timedelta(days=30 * i))
        for i in range(20)
    )
    DocumentEvidence.objects.bulk_create(
        DocumentEvidence(milestone=milestone, label=f"doc {i}") for i in range(30)
    )
    if key == "oet_medicine":
        from milestones.models import OETResult

        OETResult.objects.bulk_create(
            OETResult(
                milestone=milestone,
                test_date=date(2025, 1, 1),
                listening=300,
                reading=300,
                speaking=300,
                writing=300,
            )
            for _ in range(15)
        )
    if key == "usce":
        from milestones.models import USCEEntry

        USCEEntry.objects.bulk_create(
            USCEEntry(
                milestone=milestone,
                kind="elective",
                specialty="IM",
                site="x",
                start_date=date(2025, 1, 1),
                end_date=date(2025, 2, 1),
            )
            for _ in range(15)
        )
    client.force_login(small)
    _count(client, url(key))
    small_count = _count(client, url(key))
    client.force_login(large)
    _count(client, url(key))
    with django_assert_max_num_queries(20):
        large_count = _count(client, url(key))
    assert large_count == small_count


@pytest.mark.parametrize(
    ("key", "table"), [("usmle_step2ck", "examattempt"), ("oet_medicine", "applicantprofile")]
)
def test_the_evidence_reads_what_the_page_already_has_no_second_time(client, planned_applicant, key, table):
    """The exam page reads the applicant's attempts once (this step's are among those the attempt limits
    count, and only this step's are listed); the OET page takes the target season from the profile the
    page has read already."""
    applicant = planned_applicant()
    for step, day in (("usmle_step1", date(2024, 2, 1)), ("usmle_step2ck", date(2025, 3, 1))):
        milestone = Milestone.objects.get(applicant=applicant, template__key=step)
        ExamAttempt.objects.create(milestone=milestone, exam=step.removeprefix("usmle_"), test_date=day)
    client.force_login(applicant)
    assert client.get(url(key)).status_code == 200
    with CaptureQueriesContext(connection) as queries:
        page = client.get(url(key)).text
    assert sum(f'"milestones_{table}"' in query["sql"].split(" WHERE ")[0] for query in queries) == 1
    if key == "usmle_step2ck":
        assert "1 Mar 2025" in page and "1 Feb 2024" not in page
