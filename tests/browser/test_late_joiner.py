"""Issue 9 in a real browser: the late joiner (30 November 2026, non-US IMG, 2027 Match, nothing done) onboards,
reads that the 2027 Match is out of reach, switches to the 2028 Match with one button, and adds and removes the
couples match on the settings page. axe-core checks every page this touches.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
import time_machine
from playwright.sync_api import expect

from ..factories import UserFactory
from .conftest import log_in

LATE = datetime(2026, 11, 30, 12, tzinfo=UTC)


@pytest.fixture
def late_clock(pathway_data):
    with time_machine.travel(LATE, tick=True):
        yield


def test_the_late_joiner_switches_to_the_2028_match_in_one_step(
    new_context, live_server, late_clock, axe, screenshot
):
    from milestones.models import ApplicantProfile, MatchCycle

    user = UserFactory(email="late@example.com", name="Lena Late")
    context = new_context()
    log_in(context, live_server, user)
    page = context.new_page()

    page.goto("/onboarding/")
    page.get_by_label("Non-US international medical graduate").check()
    page.get_by_label("Medical school graduation date (expected or past)").fill("2025-06-30")
    page.get_by_label("Target Match").select_option(label="2027 Match")
    expect(page.get_by_role("group", name="Where you are now")).to_be_visible()
    axe.check(page, what="onboarding with the already-done questions")
    page.get_by_role("button", name="Plan my pathway").click()
    expect(page).to_have_url(re.compile(r"/dashboard/$"))

    verdict = page.get_by_role("region", name=re.compile("no longer within reach"))
    expect(verdict).to_contain_text("The earliest Match you can reach is the 2028 Match")
    expect(page.get_by_role("heading", name="Overdue", exact=False)).to_be_visible()
    expect(page.get_by_text("Medical school graduation (diploma date)")).to_have_count(1)  # the table only
    axe.check(page, what="dashboard with the verdict")
    screenshot(page, "1-verdict", full_page=True)

    page.get_by_role("button", name="Switch to the 2028 Match").click()
    expect(page).to_have_url(re.compile(r"/dashboard/$"))
    expect(page.get_by_role("status").or_(page.locator(".message-success")).first).to_contain_text(
        "2028 Match"
    )
    expect(page.get_by_role("region", name=re.compile("no longer within reach"))).to_have_count(0)
    assert ApplicantProfile.objects.get(user=user).target_cycle == MatchCycle.objects.get(year=2028)
    axe.check(page, what="dashboard after the switch")

    page.goto("/settings/")
    optional = page.get_by_role("region", name="Optional steps")
    optional.get_by_role("button", name=re.compile("Add .*couple", re.I)).click()
    expect(page.get_by_role("region", name="Optional steps").get_by_text("on your pathway")).to_be_visible()
    axe.check(page, what="settings with an optional step added")
    page.get_by_role("region", name="Optional steps").get_by_role("button", name=re.compile("Remove")).click()
    expect(page.get_by_role("region", name="Optional steps").get_by_text("on your pathway")).to_have_count(0)
    axe.assert_clean()
