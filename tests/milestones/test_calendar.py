"""The .ics calendar feed and regenerating its secret URL."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
from django.conf import settings
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from icalendar import Calendar

from milestones.models import CycleEvent, Milestone
from pathway.web.applicant.dashboard import dashboard_context

from ..factories import PlannedProfileFactory

pytestmark = pytest.mark.django_db


def feed_url(profile) -> str:
    return reverse("applicant:calendar_feed", args=[profile.calendar_token])


def fetch_feed(client, profile) -> Calendar:
    response = client.get(feed_url(profile))
    assert response.status_code == 200
    return Calendar.from_ical(response.content)


def events_by_uid(cal: Calendar) -> dict:
    return {str(event["UID"]): event for event in cal.events}


@pytest.fixture
def carla_profile(carla, cycle_2027):
    return PlannedProfileFactory(
        user=carla,
        applicant_type="US_DO",
        graduation_date=date(2027, 5, 15),
        target_cycle=cycle_2027,
        time_zone="America/Chicago",
    )


def test_it_serves_a_parseable_rfc5545_calendar(client, amira_profile):
    response = client.get(feed_url(amira_profile))

    assert response.status_code == 200
    assert response["Content-Type"] == "text/calendar; charset=utf-8"
    assert "private" in response["Cache-Control"]
    cal = Calendar.from_ical(response.content)
    assert cal["VERSION"] == "2.0"
    assert cal["PRODID"]
    assert [tz.tz_name for tz in cal.timezones] == ["America/New_York"]
    assert cal.events
    for event in cal.events:
        assert event["UID"] and event["DTSTAMP"] and event["SUMMARY"]
        assert event["DTSTART"].params["TZID"] == "America/New_York"
    # Every line is folded to at most 75 octets and ends with CRLF, as RFC 5545 requires.
    lines = response.content.split(b"\r\n")
    assert all(len(line) <= 75 for line in lines)


def test_it_contains_every_dated_deadline_of_the_dashboard_at_the_same_instant(client, amira_profile):
    dashboard = dashboard_context(applicant=amira_profile.user)
    expected = [m for m in dashboard["milestones"] if m.due_at and m.status != Milestone.Status.WAIVED]
    assert any(m.is_open for m in expected)

    events = events_by_uid(fetch_feed(client, amira_profile))

    for milestone in expected:
        event = events[f"milestone-{milestone.pk}@pathway-planner"]
        assert event.start == milestone.due_at
        assert str(event["SUMMARY"]) == milestone.template.title
        assert f"Status: {milestone.get_status_display()}" in str(event["DESCRIPTION"])
    milestone_uids = {uid for uid in events if uid.startswith("milestone-")}
    assert milestone_uids == {f"milestone-{m.pk}@pathway-planner" for m in expected}


def test_it_links_each_deadline_to_its_milestone_page(client, amira_profile):
    milestone = Milestone.objects.filter(applicant=amira_profile.user, due_at__isnull=False).first()

    event = events_by_uid(fetch_feed(client, amira_profile))[f"milestone-{milestone.pk}@pathway-planner"]

    url = settings.SITE_URL + reverse("applicant:milestone_detail", args=[milestone.template.key])
    assert str(event["URL"]) == url
    assert url in str(event["DESCRIPTION"])


def test_it_says_projected_for_projected_deadlines(client, amira_profile):
    projected = Milestone.objects.filter(
        applicant=amira_profile.user, due_at__isnull=False, due_projected=True
    )
    firm = Milestone.objects.filter(applicant=amira_profile.user, due_at__isnull=False, due_projected=False)
    assert projected.exists() and firm.exists()

    events = events_by_uid(fetch_feed(client, amira_profile))

    for milestone in projected:
        assert "Projected date" in str(events[f"milestone-{milestone.pk}@pathway-planner"]["DESCRIPTION"])
    for milestone in firm:
        assert "Projected date" not in str(events[f"milestone-{milestone.pk}@pathway-planner"]["DESCRIPTION"])


def test_it_keeps_done_deadlines_and_leaves_out_waived_ones(client, amira_profile):
    done, waived = Milestone.objects.filter(applicant=amira_profile.user, due_at__isnull=False)[:2]
    Milestone.objects.filter(pk=done.pk).update(status=Milestone.Status.DONE)
    Milestone.objects.filter(pk=waived.pk).update(status=Milestone.Status.WAIVED)

    events = events_by_uid(fetch_feed(client, amira_profile))

    assert "Status: Done" in str(events[f"milestone-{done.pk}@pathway-planner"]["DESCRIPTION"])
    assert f"milestone-{waived.pk}@pathway-planner" not in events


def test_it_contains_every_event_of_the_target_cycle(client, amira_profile):
    cycle_events = list(CycleEvent.objects.filter(cycle=amira_profile.target_cycle))
    assert any(e.projected for e in cycle_events) and any(not e.projected for e in cycle_events)

    events = events_by_uid(fetch_feed(client, amira_profile))

    for cycle_event in cycle_events:
        event = events[f"cycle-event-{cycle_event.pk}@pathway-planner"]
        title = f"{cycle_event.title} (projected)" if cycle_event.projected else cycle_event.title
        assert str(event["SUMMARY"]) == title
        assert event.start == cycle_event.at
        assert str(event["URL"]) == cycle_event.source_url
        assert cycle_event.source_url in str(event["DESCRIPTION"])
    assert len([uid for uid in events if uid.startswith("cycle-event-")]) == len(cycle_events)


def test_it_keeps_the_eastern_wall_clock_on_both_sides_of_daylight_saving(client, amira_profile):
    body = client.get(feed_url(amira_profile)).content.decode()

    # The ROL deadline (EST) and Match Day (after the 14 Mar 2027 switch to EDT) keep their ET times.
    assert "DTSTART;TZID=America/New_York:20270303T210000" in body
    assert "DTSTART;TZID=America/New_York:20270319T120000" in body


def test_it_never_includes_another_applicants_milestones(client, amira_profile, carla_profile):
    carla_uids = {
        f"milestone-{pk}@pathway-planner"
        for pk in Milestone.objects.filter(applicant=carla_profile.user).values_list("pk", flat=True)
    }

    amira_uids = set(events_by_uid(fetch_feed(client, amira_profile)))

    assert carla_uids
    assert not carla_uids & amira_uids


def test_it_answers_404_for_an_unknown_token(client, amira_profile):
    assert client.get(reverse("applicant:calendar_feed", args=["not-a-real-token"])).status_code == 404


def test_it_answers_404_once_the_applicant_is_deactivated(client, amira_profile):
    amira_profile.user.is_active = False
    amira_profile.user.save()

    assert client.get(feed_url(amira_profile)).status_code == 404


def test_its_query_count_does_not_grow_with_the_data(client, amira_profile):
    def count_queries() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert client.get(feed_url(amira_profile)).status_code == 200
        return len(queries)

    before = count_queries()
    cycle = amira_profile.target_cycle
    for n in range(5):
        CycleEvent.objects.create(
            cycle=cycle,
            key=f"extra-{n}",
            title=f"Extra {n}",
            at=cycle.events.first().at + timedelta(days=n),
            source_url="https://example.org/",
        )
    Milestone.objects.filter(applicant=amira_profile.user).update(status=Milestone.Status.DONE)
    _add_interviews(amira_profile, 3)

    assert count_queries() == before  # built afresh: the new events bumped the reference version
    # The profile by its token, the page state, the profile again (read after the state), the milestones,
    # the events, the interviews (issue 13).
    assert before <= 6
    assert count_queries() == 2  # unchanged since: the profile and the versions, then the cache


def _add_interviews(profile, count: int) -> None:
    from programs.loader import ensure_specialties
    from programs.models import Program
    from programs.season.applications import add_application
    from programs.season.interviews import save_interview

    ensure_specialties()
    for n in range(count):
        program = Program.objects.create(name=f"Fictional feed program {n}", origin="demo")
        application, _ = add_application(applicant=profile.user, program=program, cycle=profile.target_cycle)
        save_interview(application=application, by=profile.user, starts_local=datetime(2026, 11, 3 + n, 9))


# --- Regenerating the secret URL --------------------------------------------------------------


def test_regenerating_kills_the_old_url_and_makes_a_new_one(client, amira_profile):
    old_url = feed_url(amira_profile)
    client.force_login(amira_profile.user)

    response = client.post(reverse("applicant:calendar_regenerate"))

    assert response.status_code == 302
    assert response["Location"] == reverse("applicant:settings")
    amira_profile.refresh_from_db()
    assert feed_url(amira_profile) != old_url
    assert client.get(old_url).status_code == 404
    assert client.get(feed_url(amira_profile)).status_code == 200


def test_regenerating_over_htmx_redirects_the_client(client, amira_profile):
    client.force_login(amira_profile.user)

    response = client.post(reverse("applicant:calendar_regenerate"), headers={"HX-Request": "true"})

    assert response.status_code == 200
    assert response["HX-Redirect"] == reverse("applicant:settings")


def test_regenerating_needs_a_post(client, amira_profile):
    client.force_login(amira_profile.user)
    token = amira_profile.calendar_token

    assert client.get(reverse("applicant:calendar_regenerate")).status_code == 405
    amira_profile.refresh_from_db()
    assert amira_profile.calendar_token == token


def test_regenerating_needs_a_login(client, amira_profile):
    response = client.post(reverse("applicant:calendar_regenerate"))

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login"))


def test_regenerating_is_for_applicants_only(client, ben):
    client.force_login(ben)

    assert client.post(reverse("applicant:calendar_regenerate")).status_code == 404


def test_regenerating_touches_only_my_own_token(client, amira_profile, carla_profile):
    carla_token = carla_profile.calendar_token
    client.force_login(amira_profile.user)

    client.post(reverse("applicant:calendar_regenerate"))

    carla_profile.refresh_from_db()
    assert carla_profile.calendar_token == carla_token
