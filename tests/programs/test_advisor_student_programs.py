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
