"""Issue 9, words: the settings page's reminder history counts days as the emails do, and a US graduate's
Step 2 CK page does not talk to them as an IMG."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import time_machine
from django.urls import reverse

from milestones.models import Milestone, Reminder
from milestones.reminders.content import item

pytestmark = pytest.mark.django_db
NOW = datetime(2026, 11, 21, 12, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _today():
    with time_machine.travel(NOW, tick=False):
        yield


def test_the_reminder_history_counts_days_as_the_email_did(client, amira_profile):
    step2 = Milestone.objects.get(applicant=amira_profile.user, template__key="usmle_step2ck")
    # Planned 136 days ahead, but sent only now (the deadline moved, or the applicant joined late).
    Reminder.objects.create(
        milestone=step2, due_at=step2.due_at, lead_days=136, status="sent", scheduled_for=NOW, sent_at=NOW
    )
    email_days = item(step2, amira_profile.tz, NOW)["days_left"]
    assert email_days != 136
    client.force_login(amira_profile.user)
    html = client.get(reverse("applicant:settings")).content.decode()
    assert f"due in {email_days} days" in html
    assert "136 days before" not in html


def test_a_us_graduates_step_2_ck_page_does_not_say_as_an_img(client, planned_applicant):
    user = planned_applicant("US_MD")
    client.force_login(user)
    html = client.get(reverse("applicant:milestone_detail", args=["usmle_step2ck"])).content.decode()
    assert "As an IMG" not in html and "as an IMG" not in html
    assert "Step 2 CK" in html


def test_an_imgs_step_2_ck_page_keeps_the_img_gate(client, amira_profile):
    client.force_login(amira_profile.user)
    html = client.get(reverse("applicant:milestone_detail", args=["usmle_step2ck"])).content.decode()
    assert "As an IMG this is a hard gate" in html
