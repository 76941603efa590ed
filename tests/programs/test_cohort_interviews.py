"""The advisor's cohort counts the season's interviews (issue 13 in issue 14's table) against the target
the advisor set for the student's specialty, and the engine's cohort risks flag a student below it once
its date has come."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
import time_machine
from django.test import Client
from django.urls import reverse

from pathway.advising.flags import refresh_risk_flags
from pathway.advising.targets import set_interview_target
from pathway.models import StudentRiskFlag
from programs.season.applications import add_application, set_status
from programs.season.interviews import save_interview

from .season_b import make_programs, season_rules  # noqa: F401

pytestmark = pytest.mark.django_db

AFTER_TARGET = datetime(2026, 12, 16, 15, tzinfo=UTC)


def interview(amira, program, day: int):
    application, _ = add_application(applicant=amira, program=program, cycle=amira.profile.target_cycle)
    save_interview(application=application, by=amira, starts_local=datetime(2026, 12, day, 9))
    return application


def cohort_cell(advisor_client) -> str:
    page = advisor_client.get(reverse("advisor:cohort")).content.decode()
    row = page[page.index("Amira Haddad") :]
    return row[: row.index("</tr>")]


def flags(amira) -> set[str]:
    return set(StudentRiskFlag.objects.active().filter(applicant=amira).values_list("code", flat=True))


def test_the_cohort_counts_dated_interviews_and_flags_a_student_below_the_target(
    season_today, amira_profile, ben, season_rules  # noqa: F811
):
    amira = amira_profile.user
    programs = make_programs(3)
    set_interview_target(advisor=ben, specialty="Internal Medicine", interviews=2, by_date=date(2026, 12, 15))
    advisor = Client()
    advisor.force_login(ben)
    first = interview(amira, programs[0], 3)
    add_application(applicant=amira, program=programs[1], cycle=amira_profile.target_cycle)  # no interview

    assert "<td>1<br>" in cohort_cell(advisor)
    refresh_risk_flags(applicant_ids=[amira.pk])
    assert "interviews_below_target" not in flags(amira)  # the target's date has not come

    with time_machine.travel(AFTER_TARGET, tick=False):
        refresh_risk_flags(applicant_ids=[amira.pk])
        assert "interviews_below_target" in flags(amira)
        interview(amira, programs[2], 20)
        refresh_risk_flags(applicant_ids=[amira.pk])
        assert "interviews_below_target" not in flags(amira)  # two now
        set_status(application=first, status="withdrawn", by=amira)
        refresh_risk_flags(applicant_ids=[amira.pk])
        assert "interviews_below_target" in flags(amira)  # a withdrawn program's interview does not count
        advisor.force_login(ben)
        assert "<td>1<br>" in cohort_cell(advisor)


def test_saving_an_interview_or_an_application_refreshes_the_students_flags_after_commit(
    season_today, amira_profile, season_rules, monkeypatch  # noqa: F811
):
    from pathway.advising import flags as flag_module

    refreshed = []
    monkeypatch.setattr(flag_module, "refresh_after_commit", refreshed.append)
    amira = amira_profile.user
    (program,) = make_programs(1)

    application = interview(amira, program, 3)

    assert refreshed and set(refreshed) == {amira.pk}
    refreshed.clear()
    set_status(application=application, status="withdrawn", by=amira)
    assert refreshed
