"""No stale page across issues 11, 13 and 14: the season's services bump the applicant's page version, so
the cached calendar feed shows an interview as soon as it is recorded or moved, the cached dashboard (the
applicant's and the advisor's copy) shows the match as soon as it is recorded, and the advisor's cohort
version moves with them.

Each test first opens the cached pages twice (the second time they come from the cache), changes the
season through the service the pages and the API call, and shows that the next page says so.
"""

from __future__ import annotations

from datetime import UTC, datetime

import icalendar
import pytest
import time_machine
from django.test import Client
from django.urls import reverse

from milestones.versions import page_state
from pathway.advising.versions import cohort_version
from programs.season import match
from programs.season.applications import add_application
from programs.season.interviews import save_interview

from .season_b import make_programs, mark_done, season_rules  # noqa: F401

pytestmark = pytest.mark.django_db

MATCH_DAY = datetime(2027, 3, 19, 17, 30, tzinfo=UTC)  # Friday 12:30 ET, after the NRMP's reveal


@pytest.fixture
def viewers(amira_profile, ben, season_rules):  # noqa: F811
    """Amira's own browser, and her advisor Ben's."""
    applicant, advisor = Client(), Client()
    applicant.force_login(amira_profile.user)
    advisor.force_login(ben)
    return applicant, advisor


def feed(amira) -> str:
    response = Client().get(reverse("applicant:calendar_feed", args=[amira.profile.calendar_token]))
    assert response.status_code == 200
    return response.content.decode()


def interview_starts(body: str) -> dict[str, datetime]:
    """Summary -> start of each interview in a feed."""
    calendar = icalendar.Calendar.from_ical(body)
    return {
        str(event["SUMMARY"]): event.decoded("DTSTART")
        for event in calendar.walk("VEVENT")
        if str(event["SUMMARY"]).startswith("Interview:")
    }


def test_an_interview_added_and_moved_shows_in_the_next_feed(season_today, viewers, amira_profile, ben):
    amira = amira_profile.user
    (program,) = make_programs(1)
    application, _ = add_application(applicant=amira, program=program, cycle=amira_profile.target_cycle)
    assert feed(amira) == feed(amira)  # cached
    assert interview_starts(feed(amira)) == {}
    version, cohort = page_state(amira.pk).applicant_version, cohort_version(ben)

    save_interview(application=application, by=amira, starts_local=datetime(2026, 12, 7, 9),
                   time_zone="America/Chicago")

    summary = f"Interview: {program.name} (virtual)"
    assert interview_starts(feed(amira)) == {summary: datetime(2026, 12, 7, 15, tzinfo=UTC)}
    assert page_state(amira.pk).applicant_version > version
    assert cohort_version(ben) != cohort  # the advisor's cohort is built afresh too
    assert feed(amira) == feed(amira)  # and cached again

    save_interview(application=application, by=amira, starts_local=datetime(2026, 12, 9, 13),
                   time_zone="America/Chicago")

    assert interview_starts(feed(amira)) == {summary: datetime(2026, 12, 9, 19, tzinfo=UTC)}


def test_an_interview_recorded_through_the_page_shows_in_the_next_feed(season_today, viewers, amira_profile):
    amira = amira_profile.user
    applicant, _ = viewers
    (program,) = make_programs(1)
    application, _ = add_application(applicant=amira, program=program, cycle=amira_profile.target_cycle)
    assert feed(amira) == feed(amira)

    response = applicant.post(
        reverse("applicant:season_interview", args=[application.pk]),
        {"invited_on": "2026-11-20", "day": "2026-12-08", "time": "10:00", "time_zone": "America/New_York",
         "duration_minutes": 240, "mode": "in_person"},
    )

    assert response.status_code == 302, response.content.decode()[:2000]
    assert list(interview_starts(feed(amira)).values()) == [datetime(2026, 12, 8, 15, tzinfo=UTC)]


def test_a_match_recorded_shows_on_the_next_dashboard_and_the_advisors_copy(viewers, amira_profile, ben):
    amira = amira_profile.user
    applicant, advisor = viewers
    mark_done(amira, "nrmp_registration", "rank_order_list")
    (program,) = make_programs(1)
    application, _ = add_application(applicant=amira, program=program, cycle=amira_profile.target_cycle)
    dashboard, student_page = reverse("applicant:dashboard"), reverse("advisor:student_detail", args=[amira.pk])
    with time_machine.travel(MATCH_DAY, tick=False):
        applicant.force_login(amira)  # the sessions of November have expired by March
        advisor.force_login(ben)
        for _ in range(2):  # the second time from the cache
            for client, url in ((applicant, dashboard), (advisor, student_page)):
                response = client.get(url)
                assert response.status_code == 200
                assert program.name not in response.content.decode()
        cohort = cohort_version(ben)

        match.record_match_status(applicant=amira, cycle=amira_profile.target_cycle, status="matched", by=amira)
        match.record_matched_program(
            applicant=amira, cycle=amira_profile.target_cycle, application_id=application.pk, by=amira
        )

        response = applicant.get(dashboard)
        assert response.status_code == 200, (response.status_code, response.get("Location"))
        page = response.content.decode()
        assert "You matched" in page and program.name in page
        page = advisor.get(student_page).content.decode()
        assert "Matched" in page and program.name in page
        assert cohort_version(ben) != cohort


def test_a_season_service_bumps_the_version_even_when_no_milestone_moves(season_today, amira_profile, specialties):
    """Notes on an application move no milestone: the bump is the season service's own."""
    from programs.season.applications import update_application

    amira = amira_profile.user
    (program,) = make_programs(1)
    application, _ = add_application(applicant=amira, program=program, cycle=amira_profile.target_cycle)
    version = page_state(amira.pk).applicant_version

    update_application(application=application, notes="Met the PD", letters_required=None)

    assert page_state(amira.pk).applicant_version == version + 1
