"""The season pages as an applicant uses them: adding from the directory, the forms refusing what the
services refuse (signals and letters at and past their limits: 422, nothing changed), the htmx panel, the
CSV download, and interviews in the calendar feed."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import time_machine
from django.urls import reverse

from milestones.models import MatchCycle

from ..programs.season_a import apply_to, bulk_programs, season_data  # noqa: F401 (a fixture)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("season_data")]


@pytest.fixture(autouse=True)
def _in_the_season():
    with time_machine.travel(datetime(2026, 10, 1, 12, tzinfo=UTC), tick=False):
        yield


@pytest.fixture
def amira_in(client, amira_profile):
    client.force_login(amira_profile.user)
    return amira_profile.user


def test_every_season_page_renders_without_javascript(client, amira_in):
    cycle = MatchCycle.objects.get(year=2027)
    (application,) = apply_to(amira_in, cycle, bulk_programs(1))
    for name in ("season_programs", "season_add", "season_costs", "season_signals", "season_letters",
                 "season_interviews"):
        response = client.get(reverse(f"applicant:{name}"))
        assert response.status_code == 200, name
        assert b"<form" in response.content or name == "season_signals"
    page = client.get(reverse("applicant:season_application", args=[application.pk]))
    assert page.status_code == 200 and application.program.name in page.content.decode()


def test_add_a_program_from_the_directory(client, amira_in):
    (program,) = bulk_programs(1)
    found = client.get(reverse("applicant:season_add"), {"q": program.nrmp_code[:7]})
    assert program.name in found.content.decode()
    response = client.post(reverse("applicant:season_add"), {"program": program.pk, "cycle": 2027})
    assert response.status_code == 302
    assert amira_in.applications.get().program == program
    refused = client.post(reverse("applicant:season_add"), {"program": "999999"})
    assert refused.status_code == 302 and amira_in.applications.count() == 1


def test_programs_kept_on_the_directory_list_are_offered_for_the_season(client, amira_in):
    from programs.models import ApplicantProgram

    kept, added = bulk_programs(2)
    ApplicantProgram.objects.create(applicant=amira_in, program=kept)
    apply_to(amira_in, MatchCycle.objects.get(year=2027), [added])
    page = client.get(reverse("applicant:season_add")).content.decode()
    assert "From your directory list" in page and kept.name in page and added.name not in page


def test_the_signal_form_at_and_past_the_allowance(client, amira_in):
    cycle = MatchCycle.objects.get(year=2027)
    apps = apply_to(amira_in, cycle, bulk_programs(4, specialty="040"))  # Anesthesiology: 5 gold + 10 silver
    for application in apps[:3]:
        url = reverse("applicant:season_signal", args=[application.pk])
        assert client.post(url, {"signal": "gold"}).status_code == 302
    from programs.season.models import SeasonSignalAllowance

    SeasonSignalAllowance.objects.filter(cycle_year=2027, specialty__acgme_code="040").update(gold=3, total=13)
    past = client.post(reverse("applicant:season_signal", args=[apps[3].pk]), {"signal": "gold"})
    assert past.status_code == 422
    assert "All 3 gold" in past.content.decode()
    apps[3].refresh_from_db()
    assert apps[3].signal == ""
    htmx = client.post(reverse("applicant:season_signal", args=[apps[3].pk]), {"signal": "silver"},
                       headers={"HX-Request": "true"})
    assert htmx.status_code == 200 and b"<html" not in htmx.content and b"application-panel" in htmx.content


def test_the_letter_assign_form_at_and_past_four(client, amira_in):
    from programs.season.letters import save_letter
    from programs.season.models import Letter

    cycle = MatchCycle.objects.get(year=2027)
    (application,) = apply_to(amira_in, cycle, bulk_programs(1))
    letters = [save_letter(letter=Letter(applicant=amira_in, cycle=cycle, writer=f"Dr {n}", status="uploaded"))
               for n in range(5)]
    for letter in letters[:4]:
        response = client.post(reverse("applicant:season_letter_assign", args=[letter.pk]),
                               {"application": application.pk})
        assert response.status_code == 302
    past = client.post(reverse("applicant:season_letter_assign", args=[letters[4].pk]),
                       {"application": application.pk})
    assert past.status_code == 422 and "at most 4" in past.content.decode()
    assert application.letter_assignments.count() == 4


def test_a_specialty_letter_sent_to_another_specialty_is_flagged(client, amira_in):
    from programs.models import Specialty
    from programs.season.letters import assign_letter, save_letter
    from programs.season.models import Letter

    cycle = MatchCycle.objects.get(year=2027)
    (im,) = apply_to(amira_in, cycle, bulk_programs(1, specialty="140"))
    (fm,) = apply_to(amira_in, cycle, bulk_programs(1, specialty="120", prefix=3000))
    letter = save_letter(letter=Letter(applicant=amira_in, cycle=cycle, writer="Dr IM", status="uploaded",
                                       specialty=Specialty.objects.get(acgme_code="140")))
    assign_letter(letter=letter, application=im)
    page = client.get(reverse("applicant:season_letter", args=[letter.pk])).content.decode()
    assert "Written for" not in page
    assign_letter(letter=letter, application=fm)
    page = client.get(reverse("applicant:season_letter", args=[letter.pk])).content.decode()
    assert "Written for Internal Medicine; this is a Family Medicine program" in page


def test_what_the_services_refuse_comes_back_on_each_form_with_422_and_changes_nothing(client, amira_in):
    """The forms the services can refuse past the form's own checks: the page (or the htmx panel) again,
    status 422, the reason shown, no redirect and nothing saved."""
    from programs.season.letters import save_letter
    from programs.season.models import Criterion, Interview, Letter

    cycle = MatchCycle.objects.get(year=2027)
    (application,) = apply_to(amira_in, cycle, bulk_programs(1))
    late_invitation = {"day": "2026-11-03", "time": "09:00", "time_zone": "America/Chicago",
                       "duration_minutes": 240, "mode": "virtual", "invited_on": "2026-11-04"}
    url = reverse("applicant:season_interview", args=[application.pk])
    for headers, page in (({}, b"<html"), ({"HX-Request": "true"}, b"application-panel")):
        refused = client.post(url, late_invitation, headers=headers)
        assert refused.status_code == 422 and page in refused.content
        assert "The invitation cannot come after the interview." in refused.content.decode()
    assert not Interview.objects.filter(application=application).exists()

    url = reverse("applicant:season_interviews")
    assert client.post(url, {"name": "Teaching", "weight": 3}).status_code == 302
    again = client.post(url, {"name": "Teaching", "weight": 5})
    assert again.status_code == 422 and "You already have a criterion with this name." in again.content.decode()
    assert list(Criterion.objects.filter(applicant=amira_in).values_list("weight", flat=True)) == [3]

    letter = save_letter(letter=Letter(applicant=amira_in, cycle=cycle, writer="Dr Ada", status="agreed"))
    url = reverse("applicant:season_letter", args=[letter.pk])
    unassigned = client.post(url, {"writer": "Dr Ada", "status": "assigned"})
    assert unassigned.status_code == 422 and "Assign the letter to a program first." in unassigned.content.decode()
    letter.refresh_from_db()
    assert letter.status == "agreed"


def test_a_letter_added_through_the_form_and_bad_input_refused(client, amira_in):
    url = reverse("applicant:season_letters")
    bad = client.post(url, {"writer": "", "status": "asked", "writer_email": "not-an-email"})
    assert bad.status_code == 422
    ok = client.post(url, {"writer": "Dr Ada Lovelace", "status": "agreed", "nudge_on": "2026-09-20"})
    assert ok.status_code == 302
    page = client.get(url)
    assert "Dr Ada Lovelace" in page.content.decode() and "nudge" in page.content.decode()


def test_csv_download_keeps_the_filters(client, amira_in):
    from programs.season.applications import set_status

    cycle = MatchCycle.objects.get(year=2027)
    first, _ = apply_to(amira_in, cycle, bulk_programs(2))
    set_status(application=first, status="applied", by=amira_in)
    response = client.get(reverse("applicant:season_programs_csv"), {"status": "applied", "cycle": 2027})
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    text = response.content.decode()
    assert "Filters: Status: Applied" in text and first.program.name in text
    table = client.get(reverse("applicant:season_programs"), {"status": "applied"}, headers={"HX-Request": "true"})
    assert b"programs-table" in table.content and b"<html" not in table.content


def test_interview_form_and_the_calendar_feed(client, amira_in):
    cycle = MatchCycle.objects.get(year=2027)
    first, second = apply_to(amira_in, cycle, bulk_programs(2))
    url = reverse("applicant:season_interview", args=[first.pk])
    data = {"day": "2026-11-03", "time": "09:00", "time_zone": "America/Chicago", "duration_minutes": 240,
            "mode": "virtual", "invited_on": "2026-10-01"}
    assert client.post(url, data).status_code == 302
    data_b = dict(data, time="10:30", time_zone="America/New_York")
    assert client.post(reverse("applicant:season_interview", args=[second.pk]), data_b).status_code == 302
    page = client.get(reverse("applicant:season_application", args=[second.pk])).content.decode()
    assert "Overlaps with" in page
    # The program's own time in its own zone; the applicant's (Cairo) beside it.
    first_page = client.get(reverse("applicant:season_application", args=[first.pk])).content.decode()
    assert "Tuesday 3 Nov 2026, 09:00</strong> (America/Chicago; 3 Nov, 17:00 your time)" in first_page
    listing = client.get(reverse("applicant:season_interviews")).content.decode()
    assert listing.count("Overlaps with") == 2
    bad = client.post(url, dict(data, time_zone="Nowhere/Atlantis"))
    assert bad.status_code == 422
    feed = client.get(reverse("applicant:calendar_feed", args=[amira_in.profile.calendar_token])).content.decode()
    assert f"Interview: {first.program.name}" in feed and "TZID=America/Chicago:20261103T090000" in feed
    assert "BEGIN:VALARM" in feed


def test_your_data_export_carries_the_season(client, amira_in):
    import json

    from programs.season.applications import update_application
    from programs.season.interviews import save_interview
    from programs.season.letters import assign_letter, save_letter
    from programs.season.models import Letter

    cycle = MatchCycle.objects.get(year=2027)
    (application,) = apply_to(amira_in, cycle, bulk_programs(1))
    update_application(application=application, notes="=cmd|' /C calc'!A0", letters_required=2)
    save_interview(application=application, by=amira_in, starts_local=datetime(2026, 11, 3, 9))
    letter = save_letter(letter=Letter(applicant=amira_in, cycle=cycle, writer="Dr Export", status="uploaded"))
    assign_letter(letter=letter, application=application)
    data = json.loads(client.get(reverse("applicant:export_json")).content)
    (exported,) = data["season"]["applications"]
    assert exported["program"] == application.program.name and exported["interview"]["time_zone"]
    assert [h["to"] for h in exported["history"]] == ["considering", "scheduled"]
    assert data["season"]["letters"][0]["programs"] == [application.program.name]
    text = client.get(reverse("applicant:export_csv")).content.decode()
    assert "Season applications" in text and "Dr Export" in text
    assert "'=cmd" in text and ",=cmd" not in text
