"""The "done means" scenario in a real browser: sign up, onboard as a non-US IMG, read the dashboard and the
timeline, record a Step 2 CK attempt too late for the rank order list deadline through the htmx form, and
see the red risk. Plus the same form without JavaScript, and axe-core on every applicant page.

The scenario plays on a pinned clock (JOURNEY_NOW, in the 2027 season), never on today's date: it needs a
Match still ahead whose ROL deadline leaves room for a booked test date (11 days before that deadline, taken
from the cycle data) whose projected result (about four weeks later) lands after the deadline.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.conf import settings
from django.utils import timezone
from playwright.sync_api import expect

from ..factories import PlannedProfileFactory
from .conftest import log_in

ROL_EVENT = "nrmp_rol_deadline"
NEXT_DEADLINES_SHOWN = 8
# Three months before the 2027 Match's ROL deadline (3 March 2027), on any day the suite runs.
JOURNEY_NOW = datetime(2026, 11, 21, 12, tzinfo=UTC)


def target_cycle():
    """The Match the scenario plays in: the earliest one onboarding offers whose ROL deadline leaves room
    for a test date that is both ahead (bookable) and too late (result after the deadline)."""
    from milestones.models import CycleEvent
    from pathway.web.applicant.forms import next_cycle

    first = next_cycle()
    rol = CycleEvent.objects.filter(cycle=first, key=ROL_EVENT).first() if first else None
    today = timezone.localdate()
    if rol is None or not today + timedelta(days=30) < rol_day(rol) < today + timedelta(days=360):
        pytest.fail(f"no Match cycle in the shipped data has its ROL deadline 1-12 months after {today}")
    return first, rol


def late_test_date(rol) -> date:
    """11 days before the ROL deadline's day in ET (2027-02-20 for the 2027 Match): a result ~4 weeks
    later misses it."""
    return rol_day(rol) - timedelta(days=11)


def rol_day(rol) -> date:
    return rol.at.astimezone(ZoneInfo(settings.CYCLE_TIME_ZONE)).date()


@pytest.fixture
def journey_clock():
    """Pin the clock of this process: the test and the live server (a thread of it) both read it. It ticks, so
    the scenario's own seconds pass as usual. Chromium keeps the real clock, which nothing here depends on:
    no page script reads the date, and the cookies the server sets carry Max-Age."""
    with time_machine.travel(JOURNEY_NOW, tick=True):
        yield JOURNEY_NOW


@pytest.fixture
def cycle_and_rol(journey_clock, pathway_data):
    return target_cycle()


def nav(page, name: str):
    return page.get_by_role("navigation", name="Main").get_by_role("link", name=name, exact=True)


def expected_next_deadlines(user) -> list:
    from milestones.models import Milestone

    now = timezone.now()
    return list(
        Milestone.objects.open()
        # SOAP is a contingency (issue 9): on the pathway, but not a deadline the applicant works to.
        .filter(applicant=user, due_at__gt=now, template__contingency=False)
        .select_related("template")
        .order_by("due_at", "template__order")[:NEXT_DEADLINES_SHOWN]
    )


def test_a_new_non_us_img_plans_the_2027_match_and_sees_the_rol_risk(page, live_server, cycle_and_rol, screenshot, axe):
    from milestones.models import ExamAttempt, Milestone
    from pathway.models import User

    cycle, rol = cycle_and_rol

    # Sign up (allauth), which lands on onboarding.
    page.goto("/accounts/signup/")
    page.get_by_label("Email").fill("nadia@example.com")
    page.get_by_label("Password", exact=False).first.fill("a-long-unusual-passphrase-42")
    page.get_by_label("Password (again)").fill("a-long-unusual-passphrase-42")
    page.get_by_role("button", name="Sign Up").click()
    expect(page).to_have_url(re.compile(r"/onboarding/$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Set up your pathway")
    axe.check(page, what="onboarding")
    screenshot(page, "1-onboarding")

    # Onboard: non-US IMG, J-1, the target Match.
    page.get_by_label("Non-US international medical graduate").check()
    page.get_by_label("Medical school graduation date").fill("2025-06-30")
    page.get_by_label("I will need a US visa for residency").check()
    page.get_by_label("Visa route").select_option("J1")
    page.get_by_label("Target Match").select_option(label=cycle.name)
    page.get_by_label("Your time zone").select_option("Africa/Cairo")
    page.get_by_role("button", name="Plan my pathway").click()

    # The dashboard shows the right next deadlines, in order, at the stored instants.
    expect(page).to_have_url(re.compile(r"/dashboard/$"))
    user = User.objects.get(email="nadia@example.com")
    assert user.profile.target_cycle == cycle and user.profile.applicant_type == "NON_US_IMG"
    expected = expected_next_deadlines(user)
    assert expected
    next_section = page.locator("section", has=page.get_by_role("heading", name="Next deadlines"))
    expect(next_section.locator(".deadline-title")).to_have_text([m.template.title for m in expected])
    shown = next_section.locator("time").evaluate_all("els => els.map(e => e.getAttribute('datetime'))")
    assert [datetime.fromisoformat(value) for value in shown] == [m.due_at for m in expected]
    expect(page.locator(".risk-red")).to_have_count(0)
    axe.check(page, what="dashboard")
    screenshot(page, "2-dashboard")

    # The timeline lists the same deadlines and the cycle's ROL deadline.
    nav(page, "Timeline").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Your pathway on a timeline")
    table = page.locator("section", has=page.get_by_role("heading", name="The timeline as a list"))
    for milestone in expected:
        expect(table.get_by_role("link", name=milestone.template.title, exact=True)).to_be_visible()
    expect(table.get_by_text(rol.title)).to_be_visible()
    axe.check(page, what="timeline")
    screenshot(page, "3-timeline")

    # Open the Step 2 CK milestone and record a booked attempt too late for the ROL deadline, via htmx.
    nav(page, "Dashboard").click()
    page.get_by_role("link", name="USMLE Step 2 CK", exact=True).first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("USMLE Step 2 CK")
    axe.check(page, what="milestone page")
    page.evaluate("window.__noFullReload = 'still here'")  # a full page load would wipe this
    test_date = late_test_date(rol)
    form = page.locator("form", has=page.get_by_role("button", name="Record attempt"))
    form.get_by_label("Test date").fill(test_date.isoformat())
    with page.expect_response(lambda r: "/attempts/" in r.url and r.request.method == "POST") as posted:
        form.get_by_role("button", name="Record attempt").click()
    assert posted.value.status == 200
    assert posted.value.request.headers.get("hx-request") == "true"
    expect(page.get_by_role("status").filter(has_text="Exam attempt recorded.")).to_be_visible()
    attempts = page.locator("table", has=page.locator("caption", has_text="Your recorded attempts"))
    expect(attempts).to_contain_text(f"{test_date.day} {test_date:%b %Y}")
    assert page.evaluate("window.__noFullReload") == "still here"
    expect(page).to_have_url(re.compile(r"/milestones/usmle_step2ck/$"))
    step2 = Milestone.objects.get(applicant=user, template__key="usmle_step2ck")
    assert ExamAttempt.objects.filter(milestone=step2, test_date=test_date).count() == 1
    screenshot(page, "4-milestone-after-attempt", of=page.locator("#milestone-panel"))
    axe.check(page, what="milestone page after the htmx swap")

    # The dashboard now shows the red risk, worded by the engine.
    nav(page, "Dashboard").click()
    risk = page.locator(".risk-red", has_text="withdrawn from the")
    expect(risk).to_have_count(1)
    expect(risk).to_contain_text("Step 2 CK")
    expect(risk).to_contain_text(cycle.name)
    screenshot(page, "5-dashboard-red-risk")
    screenshot(page, "5-dashboard-full", full_page=True)
    axe.check(page, what="dashboard with a risk")

    # Settings (calendar feed, API tokens) and the token page are accessible too.
    nav(page, "Settings").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Settings")
    axe.check(page, what="settings")
    screenshot(page, "6-settings")
    page.get_by_role("link", name="Manage API tokens").click()
    page.get_by_label("Name").fill("my script")
    page.get_by_role("button", name="Create token").click()
    expect(page.get_by_label("Token", exact=True)).to_have_value(re.compile(r"^ppl_"))
    axe.check(page, what="API tokens")
    screenshot(page, "7-api-tokens")

    axe.assert_clean()


def test_recording_an_attempt_works_without_javascript(new_context, live_server, cycle_and_rol, screenshot):
    from milestones.models import ExamAttempt, Milestone

    cycle, rol = cycle_and_rol
    user = PlannedProfileFactory(
        user__email="omar@example.com",
        applicant_type="NON_US_IMG",
        graduation_date=date(2025, 6, 30),
        visa_route="J1",
        target_cycle=cycle,
        time_zone="Asia/Karachi",
    ).user
    context = new_context(java_script_enabled=False)
    log_in(context, live_server, user)
    page = context.new_page()

    page.goto("/milestones/usmle_step2ck/")
    test_date = late_test_date(rol)
    form = page.locator("form", has=page.get_by_role("button", name="Record attempt"))
    form.get_by_label("Test date").fill(test_date.isoformat())
    with page.expect_navigation():
        form.get_by_role("button", name="Record attempt").click()

    # A full-page POST, then a redirect back to the milestone page with the message (PRG).
    expect(page).to_have_url(re.compile(r"/milestones/usmle_step2ck/$"))
    expect(page.get_by_text("Exam attempt recorded.")).to_be_visible()
    step2 = Milestone.objects.get(applicant=user, template__key="usmle_step2ck")
    assert list(ExamAttempt.objects.filter(milestone=step2).values_list("test_date", flat=True)) == [test_date]
    screenshot(page, "milestone-no-js", of=page.locator("#milestone-panel"))
    page.goto("/dashboard/")
    expect(page.locator(".risk-red", has_text="withdrawn from the")).to_have_count(1)
