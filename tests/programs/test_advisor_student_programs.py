"""The advisor's read-only copy of a student's season list: third person, the student's notes only when
they share them, and a 404 as soon as the student ends the advisor's access."""

from __future__ import annotations

from datetime import datetime

import pytest
from django.urls import reverse

from pathway.models import AdvisorAssignment
from pathway.sharing import end_assignment, update_sharing
from programs.season.applications import add_application, update_application
from programs.season.interviews import save_interview

from .season_b import make_programs, season_rules  # noqa: F401

pytestmark = pytest.mark.django_db


def test_the_advisor_reads_the_list_in_the_third_person_as_shared(
    client, season_today, amira_profile, ben, season_rules  # noqa: F811
):
    amira = amira_profile.user
    program, other = make_programs(2)
    application, _ = add_application(applicant=amira, program=program, cycle=amira_profile.target_cycle)
    update_application(application=application, notes="private-note-8812", letters_required=None)
    save_interview(application=application, by=amira, starts_local=datetime(2026, 12, 7, 9))
    url = reverse("advisor:student_programs", args=[amira.pk])
    client.force_login(ben)

    page = client.get(url).content.decode()

    assert program.name in page and other.name not in page
    assert "<h1>Amira Haddad's programs</h1>" in page and "Interview scheduled" in page and "7 Dec 2026" in page
    assert "private-note-8812" not in page and "They do not share their notes with you." in page
    assert "your" not in page.split("<main", 1)[1].lower().split("</main>")[0].replace("your data", "")

    sharing = AdvisorAssignment.objects.get(advisor=ben, applicant=amira)
    update_sharing(assignment=sharing, shares={"shares_notes": True})
    assert "private-note-8812" in client.get(url).content.decode()

    end_assignment(assignment=sharing)
    assert client.get(url).status_code == 404


def test_interview_times_are_shown_in_the_programs_zone_and_the_students(
    client, season_today, amira_profile, ben, season_rules  # noqa: F811
):
    """An interview at 9:00 in New York is 14:00 UTC and 16:00 in Cairo, where Amira lives: the advisor
    reads the program's wall clock with its zone, and the student's, never a bare UTC time."""
    amira = amira_profile.user
    (program,) = make_programs(1)
    application, _ = add_application(applicant=amira, program=program, cycle=amira_profile.target_cycle)
    save_interview(application=application, by=amira, starts_local=datetime(2026, 12, 7, 9), time_zone="America/New_York")
    client.force_login(ben)

    page = client.get(reverse("advisor:student_programs", args=[amira.pk])).content.decode()

    assert "Mon 7 Dec 2026, 09:00</time> (America/New_York; 7 Dec, 16:00 the student's time)" in page
    assert 'datetime="2026-12-07T14:00:00+00:00"' in page
    assert "UTC" not in page.split("<main", 1)[1]
