"""Settings: email reminders, lead times, digest, time zone; reminder history; calendar feed; API link."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.urls import reverse

from milestones.models import Milestone, Reminder
from pathway.lib.times import days_between

pytestmark = pytest.mark.django_db
NOW = datetime(2026, 11, 21, 12, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _today(season_today):
    """Every test here runs in the middle of the 2027 season."""


def form(**changes):
    data = {"email_reminders": "on", "lead_mode": "defaults", "lead_days": "", "time_zone": "Africa/Cairo"}
    data.update(changes)
    return {name: value for name, value in data.items() if value is not None}


def test_it_shows_the_feed_the_api_link_and_your_data(client, amira_profile):
    client.force_login(amira_profile.user)
    response = client.get(reverse("applicant:settings"))
    assert response.status_code == 200
    body = response.content.decode()
    assert f"http://testserver/calendar/{amira_profile.calendar_token}.ics" in body
    assert f'action="{reverse("applicant:calendar_regenerate")}"' in body
    assert reverse("applicant:api_tokens") in body
    for name in ("export_json", "export_csv", "account_delete", "settings_profile"):
        assert reverse(f"applicant:{name}") in body


def test_custom_lead_times_digest_and_time_zone_are_saved(client, amira_profile):
    client.force_login(amira_profile.user)
    response = client.post(
        reverse("applicant:settings"),
        form(lead_mode="custom", lead_days="7, 30,1, 7", daily_digest="on", time_zone="Asia/Karachi"),
    )
    assert response.status_code == 302
    amira_profile.refresh_from_db()
    assert amira_profile.reminder_lead_days == [30, 7, 1]
    assert amira_profile.daily_digest is True
    assert amira_profile.time_zone == "Asia/Karachi"
    page = client.get(reverse("applicant:settings")).content.decode()
    assert 'value="30, 7, 1"' in page and "Reminder settings saved." in page


def test_the_defaults_and_turning_reminders_off(client, amira_profile):
    amira_profile.reminder_lead_days = [10]
    amira_profile.save()
    client.force_login(amira_profile.user)
    client.post(reverse("applicant:settings"), form(email_reminders=None, lead_days="10"))
    amira_profile.refresh_from_db()
    assert (amira_profile.email_reminders, amira_profile.reminder_lead_days) == (False, None)


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"lead_mode": "custom", "lead_days": ""}, "lead_days", "at least one lead time"),
        ({"lead_mode": "custom", "lead_days": "30, 0"}, "lead_days", "out of range"),
        ({"lead_mode": "custom", "lead_days": "400"}, "lead_days", "out of range"),
        ({"lead_mode": "custom", "lead_days": "1 week"}, "lead_days", "not a whole number"),
        ({"lead_mode": "custom", "lead_days": "2.5"}, "lead_days", "not a whole number"),
        ({"lead_mode": "sometimes"}, "lead_mode", "Select a valid choice"),
        ({"time_zone": "Europe/Atlantis"}, "time_zone", "Choose a time zone"),
    ],
)
def test_bad_settings_are_refused_and_nothing_changes(client, amira_profile, changes, field, message):
    client.force_login(amira_profile.user)
    response = client.post(reverse("applicant:settings"), form(daily_digest="on", **changes))
    assert response.status_code == 422
    assert message in " ".join(response.context["form"].errors[field])
    amira_profile.refresh_from_db()
    assert (amira_profile.daily_digest, amira_profile.reminder_lead_days) == (False, None)


def test_htmx_gets_the_notifications_section_alone(client, amira_profile):
    client.force_login(amira_profile.user)
    ok = client.post(reverse("applicant:settings"), form(daily_digest="on"), headers={"HX-Request": "true"})
    assert ok.status_code == 200
    assert b"<html" not in ok.content and b'id="notifications"' in ok.content
    refused = client.post(reverse("applicant:settings"), form(lead_mode="custom"), headers={"HX-Request": "true"})
    assert refused.status_code == 422 and b"<html" not in refused.content


def test_a_time_zone_change_replans_the_applicant_dated_deadlines(client, amira_profile):
    amira = amira_profile.user
    before = Milestone.objects.get(applicant=amira, template__key="graduation").due_at
    client.force_login(amira)
    client.post(reverse("applicant:settings"), form(time_zone="America/Los_Angeles"))
    after = Milestone.objects.get(applicant=amira, template__key="graduation").due_at
    assert after - before == timedelta(hours=10)  # end of 30 June in Los Angeles, not in Cairo


def test_sent_and_failed_reminders_are_listed(client, amira_profile):
    amira = amira_profile.user
    # Step 2 CK, due in March 2027: a deadline ahead, so the days counted are not clamped to "today".
    step1 = Milestone.objects.get(applicant=amira, template__key="usmle_step2ck")
    Reminder.objects.create(milestone=step1, lead_days=30, status="sent", scheduled_for=NOW, sent_at=NOW)
    Reminder.objects.create(
        milestone=step1, lead_days=7, status="failed", scheduled_for=NOW, last_error="550"
    )
    Reminder.objects.create(
        milestone=step1, lead_days=1, status="planned", scheduled_for=NOW + timedelta(days=9)
    )
    client.force_login(amira)
    body = client.get(reverse("applicant:settings")).content.decode()
    # Issue 9: the history counts days as the email did (from when it went out to the deadline), not
    # the planned lead time ("30 days before"); the planned one (9 days later) is not listed.
    days = days_between(NOW, step1.due_at, amira_profile.tz)
    assert body.count(f"due in {days} days") == 2 and f"due in {days - 9} days" not in body
    assert "Failed" in body and "Sent" in body


def test_other_roles_get_404(client, ben):
    client.force_login(ben)
    assert client.get(reverse("applicant:settings")).status_code == 404
    assert client.post(reverse("applicant:settings"), form()).status_code == 404
