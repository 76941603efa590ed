"""My programs (status history, the CSV with its filters, history and escaped formulas) and interviews
(time zones, same-day and overlapping flags, weighted scores for the rank order list builder)."""

from __future__ import annotations

import csv
import io
import zoneinfo
from datetime import date, datetime
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from milestones.models import MatchCycle

from .season_a import apply_to, bulk_programs, season_data  # noqa: F401 (a fixture)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("season_data")]
CAIRO = zoneinfo.ZoneInfo("Africa/Cairo")


@pytest.fixture
def cycle(pathway_data):
    return MatchCycle.objects.get(year=2027)


def test_every_status_change_is_dated_in_the_history(amira_profile, cycle):
    from programs.season.applications import set_status

    user = amira_profile.user
    (application,) = apply_to(user, cycle, bulk_programs(1))
    set_status(application=application, status="applied", by=user)
    set_status(application=application, status="applied", by=user)  # the same status: nothing recorded
    set_status(application=application, status="withdrawn", by=user, note="Chose another program")
    steps = [(c.from_status, c.to_status) for c in application.changes.order_by("at", "pk")]
    assert steps == [("", "considering"), ("considering", "applied"), ("applied", "withdrawn")]
    with pytest.raises(ValidationError):
        set_status(application=application, status="accepted-by-magic", by=user)


def test_the_csv_states_its_filters_includes_history_and_escapes_formulas(amira_profile, cycle):
    from programs.season.applications import set_status, update_application
    from programs.season.export import export_applications_csv
    from programs.season.filters import ApplicationFilter
    from programs.season.models import Application

    user = amira_profile.user
    first, second, _ = apply_to(user, cycle, bulk_programs(3))
    update_application(application=first, notes="=HYPERLINK(\"http://evil\")", letters_required=None)
    set_status(application=first, status="applied", by=user)
    set_status(application=second, status="applied", by=user)
    set_status(application=second, status="invited", by=user)
    filterset = ApplicationFilter({"status": ["applied"]}, queryset=Application.objects.of(user, cycle).for_list())
    stream = io.StringIO()
    export_applications_csv(filterset.qs, stream, filters=filterset.described(), cycle=cycle)
    rows = list(csv.reader(io.StringIO(stream.getvalue())))
    assert rows[1] == ["Filters: Status: Applied"]
    header, body = rows[2], rows[3:]
    assert len(body) == 1
    row = dict(zip(header, body[0], strict=True))
    assert row["notes"].startswith("'=")  # a spreadsheet shows it, never runs it
    assert "Added as Considering" in row["history"] and "Considering → Applied" in row["history"]


def test_my_programs_page_runs_a_constant_number_of_queries(client, amira_profile, cycle, django_assert_max_num_queries):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from django.urls import reverse

    from programs.season.interviews import save_interview

    user = amira_profile.user
    client.force_login(user)
    url = reverse("applicant:season_programs") + "?cycle=2027"

    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert client.get(url).status_code == 200
        return len(queries)

    apps = apply_to(user, cycle, bulk_programs(2))
    save_interview(application=apps[0], by=user, starts_local=datetime(2026, 11, 3, 9), time_zone="America/Chicago")
    small = count()
    more = apply_to(user, cycle, bulk_programs(198, prefix=4000), status="applied")
    for index, application in enumerate(more[:20]):
        save_interview(application=application, by=user, starts_local=datetime(2026, 11, 4 + index % 20, 9))
    assert count() == small  # 2 programs or 200: the same queries


def test_interviews_in_their_own_zone_same_day_and_overlap(amira_profile, cycle):
    from programs.season.interviews import conflicts, save_interview
    from programs.season.models import Interview

    user = amira_profile.user
    chicago, boston, later = apply_to(user, cycle, bulk_programs(3))
    save_interview(application=chicago, by=user, invited_on=date(2026, 10, 1),
                   starts_local=datetime(2026, 11, 3, 9, 0), time_zone="America/Chicago", duration_minutes=180)
    # 10:30 in Boston is 09:30 in Chicago: overlaps.
    save_interview(application=boston, by=user, starts_local=datetime(2026, 11, 3, 10, 30),
                   time_zone="America/New_York", duration_minutes=120)
    # Same day in Cairo (the applicant's zone) but hours apart: flagged as same day, not overlapping.
    save_interview(application=later, by=user, starts_local=datetime(2026, 11, 3, 15, 0),
                   time_zone="America/Los_Angeles", duration_minutes=60)
    chicago.refresh_from_db()
    assert chicago.status == "scheduled"
    interviews = list(Interview.objects.select_related("application__program"))
    found = conflicts(interviews, zoneinfo.ZoneInfo("America/New_York"))
    by_program = {i.application_id: i.pk for i in interviews}
    chicago_flags = {(c.other.application_id, c.overlapping) for c in found[by_program[chicago.pk]]}
    assert chicago_flags == {(boston.pk, True), (later.pk, False)}
    stored = Interview.objects.get(application=chicago)
    assert stored.starts_at.astimezone(zoneinfo.ZoneInfo("America/Chicago")).hour == 9


def test_interview_dates_are_checked(amira_profile, cycle):
    from programs.season.interviews import save_interview

    user = amira_profile.user
    (application,) = apply_to(user, cycle, bulk_programs(1))
    with pytest.raises(ValidationError) as error:
        save_interview(application=application, by=user, invited_on=date(2026, 11, 5),
                       starts_local=datetime(2026, 11, 3, 9), thank_you_on=date(2026, 11, 1))
    assert set(error.value.error_dict) == {"invited_on", "thank_you_on"}
    with pytest.raises(ValidationError):
        save_interview(application=application, by=user, time_zone="Mars/Olympus_Mons")


def test_weighted_scores_for_the_rank_order_list(amira_profile, cycle):
    from programs.season.interviews import save_criterion, save_interview, save_interview_notes, scores_for

    user = amira_profile.user
    teaching = save_criterion(applicant=user, name="Teaching", weight=3)
    city = save_criterion(applicant=user, name="City", weight=1)
    with pytest.raises(ValidationError):
        save_criterion(applicant=user, name="teaching", weight=2)
    a, b = apply_to(user, cycle, bulk_programs(2))
    interview = save_interview(application=a, by=user, starts_local=datetime(2026, 11, 3, 9))
    save_interview_notes(interview=interview, notes="Great teaching", scores={teaching.pk: 5, city.pk: 1},
                         today=date(2026, 11, 3))
    with pytest.raises(ValidationError):
        save_interview_notes(interview=interview, notes="", scores={teaching.pk: 6}, today=date(2026, 11, 3))
    result = scores_for(applicant=user, cycle=cycle)
    assert result[a.pk].score == Decimal("4.00")  # (3×5 + 1×1) / 4
    assert result[a.pk].same_day and result[a.pk].scored == 2 and b.pk not in result
