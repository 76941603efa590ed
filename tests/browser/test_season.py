"""The season in a real browser (issue 13, "done means"): a new applicant adds three programs from the
directory, records two interviews on the same day and sees the conflict, ranks the programs with the
keyboard only (number inputs, Enter, the move buttons; no mouse, no drag), certifies the list; then in
Match Week (time-machine) records "not matched", builds a SOAP list, records and accepts an offer, and the
dashboard shows the match. axe-core checks every page on the way.

The clock is pinned (and ticks) on the 2027 Match's own dates: ranking open in February, Match Week Monday
after the NRMP's 10 a.m. ET release, Thursday inside SOAP offer round 1 (milestones/data/cycles.yaml).
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime

import pytest
import time_machine
from playwright.sync_api import expect

from ..factories import PlannedProfileFactory
from .conftest import log_in

RANKING = datetime(2027, 2, 10, 15, tzinfo=UTC)  # ranking open, before the 3 March deadline
MONDAY = datetime(2027, 3, 15, 15, tzinfo=UTC)  # Match Week Monday, 11:00 ET
THURSDAY = datetime(2027, 3, 18, 13, 30, tzinfo=UTC)  # SOAP offer round 1, 09:30 ET
INTERVIEW_DAY = date(2027, 1, 12)


@pytest.fixture
def season(pathway_data):
    from programs.demo import load_demo_programs
    from programs.season.loader import load_season_rules
    from programs.season.match_rules import load_match_rules

    load_demo_programs()
    load_season_rules()
    load_match_rules()


@pytest.fixture
def nadia(season):
    """A new applicant: a planned pathway, nothing in her season yet. She registered with the NRMP (its
    milestone page has its own browser test), which certifying a list needs."""
    from milestones.models import Milestone
    from milestones.services import set_status

    with time_machine.travel(RANKING, tick=False):
        user = PlannedProfileFactory(
            user__email="nadia@example.com", applicant_type="NON_US_IMG", graduation_date=date(2025, 6, 30),
            specialties=["Internal Medicine"], time_zone="America/New_York",
        ).user
        set_status(milestone=Milestone.objects.get(applicant=user, template__key="nrmp_registration"),
                   status="done", by=user)
    return user


def nav(page, name: str):
    return page.get_by_role("navigation", name="Main").get_by_role("link", name=name, exact=True)


def subnav(page, name: str):
    return page.get_by_role("navigation", name="Application season").get_by_role("link", name=name, exact=True)


def press(locator, key="Enter"):
    """Keyboard only: focus the control (as Tab would) and press a key."""
    locator.focus()
    locator.press(key)


def add_three_programs(page, axe, screenshot) -> list[str]:
    nav(page, "My programs").click()
    subnav(page, "Add a program").click()
    names = []
    for _ in range(3):
        page.get_by_label("Find a program by name, city or NRMP code").fill("Internal Medicine Program")
        page.get_by_role("button", name="Search", exact=True).click()
        results = page.locator("table", has=page.locator("caption", has_text="Programs matching your search"))
        row = results.locator("tbody tr", has=page.get_by_role("button", name=re.compile(r"^Add"))).first
        names.append(row.locator("th").inner_text().split("\n")[0].strip())
        if len(names) == 1:
            axe.check(page, what="add a program")
            screenshot(page, "1-add-program")
        row.get_by_role("button", name=re.compile(r"^Add")).click()
        expect(page.get_by_role("heading", level=1)).to_contain_text(names[-1])
        page.goto("/season/programs/add/")
    return names


def record_interview(page, name: str, start: str):
    nav(page, "My programs").click()
    page.get_by_role("link", name=name, exact=True).first.click()
    form = page.locator("form", has=page.get_by_role("button", name="Save interview"))
    form.get_by_label("Interview date").fill(INTERVIEW_DAY.isoformat())
    form.get_by_label("Start time").fill(start)
    form.get_by_label("Mode").select_option("virtual")
    form.get_by_role("button", name="Save interview").click()
    expect(page.locator("#application-panel")).to_contain_text("12 Jan 2027")


def test_a_season_from_directory_to_match(new_context, live_server, nadia, screenshot, axe):
    from programs.season.match_models import MatchOutcome, Rank
    from programs.season.models import Application

    with time_machine.travel(RANKING, tick=True):
        context = new_context()
        log_in(context, live_server, nadia)
        page = context.new_page()
        page.goto("/dashboard/")

        # Three programs from the directory.
        names = add_three_programs(page, axe, screenshot)
        assert len(set(names)) == 3

        # Two interviews on the same day: the interviews page flags them.
        record_interview(page, names[0], "09:00")
        axe.check(page, what="a program's page")
        record_interview(page, names[1], "14:00")
        nav(page, "My programs").click()
        subnav(page, "Interviews").click()
        expect(page.get_by_text(f"Same day as {names[1]}")).to_be_visible()
        expect(page.get_by_text(f"Same day as {names[0]}")).to_be_visible()
        axe.check(page, what="interviews")
        screenshot(page, "2-interviews-conflict")

        # The rank order list, keyboard only.
        subnav(page, "Rank order list").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Rank order list: 2027 Match")
        for name in names:
            application = Application.objects.get(applicant=nadia, program__name=name)
            page.get_by_label("Add a program").select_option(value=str(application.pk))
            press(page.get_by_role("button", name="Add to primary list"))
            expect(page.get_by_role("status")).to_contain_text(f"{name} added at rank")
        rank_of = {name: page.get_by_label(f"Rank of {name}") for name in names}
        expect(rank_of[names[2]]).to_have_value("3")
        # Type 1 for the third program and press Enter: it goes first.
        rank_of[names[2]].fill("1")
        rank_of[names[2]].press("Enter")
        expect(page.get_by_role("status")).to_contain_text("Order saved.")
        expect(page.get_by_label(f"Rank of {names[2]}")).to_have_value("1")
        # Then move the (now third) second program up one place with its button.
        press(page.get_by_role("button", name=re.compile(rf"move {re.escape(names[1])} up$")))
        expect(page.get_by_role("status")).to_contain_text("Order saved.")
        wanted = [names[2], names[1], names[0]]
        for position, name in enumerate(wanted, 1):
            expect(page.get_by_label(f"Rank of {name}")).to_have_value(str(position))
        assert [r.application.program.name for r in Rank.objects.filter(rank_list__rol__applicant=nadia)
                .order_by("rank").select_related("application__program")] == wanted
        axe.check(page, what="rank order list")
        screenshot(page, "3-rank-order-list")
        page.set_viewport_size({"width": 390, "height": 844})  # a phone: the table scrolls, nothing is cut
        screenshot(page, "3-rank-order-list-390", full_page=True)
        axe.check(page, what="rank order list on a phone")
        page.set_viewport_size({"width": 1280, "height": 900})

        press(page.get_by_role("button", name="Certify this list"))
        expect(page.get_by_role("status")).to_contain_text("Rank order list certified")
        expect(page.locator(".badge-done", has_text="Certified")).to_be_visible()
        axe.check(page, what="certified rank order list")
        screenshot(page, "4-certified", full_page=True)

    # Match Week Monday: not matched; a SOAP list.
    with time_machine.travel(MONDAY, tick=True):
        log_in(context, live_server, nadia)  # a session of a month before has expired
        page.goto("/season/match-week/")
        expect(page.get_by_role("heading", level=1)).to_have_text("Match Week and SOAP: 2027 Match")
        axe.check(page, what="match week before the status")
        page.get_by_label("Not matched", exact=True).check()
        page.get_by_role("button", name="Record my status").click()
        expect(page.get_by_role("status")).to_contain_text("Recorded: not matched.")
        for _ in range(2):
            page.get_by_label("Search the directory").fill("Family Medicine")
            page.get_by_role("button", name="Search", exact=True).click()
            page.get_by_role("button", name=re.compile(r"^Apply in SOAP")).first.click()
            expect(page.get_by_role("status")).to_contain_text("SOAP application to")
        expect(page.get_by_text("2 of at most 45 applications")).to_be_visible()
        outcome = MatchOutcome.objects.get(applicant=nadia)
        soap_programs = [a.program.name for a in outcome.soap_applications.order_by("pk")]
        assert len(set(soap_programs)) == 2
        axe.check(page, what="SOAP list")
        screenshot(page, "5-soap-list", full_page=True)

    # Thursday, offer round 1: record the offer and accept it.
    with time_machine.travel(THURSDAY, tick=True):
        log_in(context, live_server, nadia)
        page.goto("/season/match-week/")
        expect(page.get_by_text("Offer round 1 is open")).to_be_visible()
        page.get_by_role("button", name=re.compile(rf"^Record an offer from {re.escape(soap_programs[0])}")).click()
        expect(page.get_by_role("status")).to_contain_text("Round 1 offer")
        axe.check(page, what="an open SOAP offer")
        page.get_by_role("button", name=f"Accept the offer from {soap_programs[0]}").click()
        expect(page.get_by_role("heading", name="You matched")).to_be_visible()
        screenshot(page, "6-matched", full_page=True)
        page.set_viewport_size({"width": 390, "height": 844})
        screenshot(page, "6-matched-390", full_page=True)
        page.set_viewport_size({"width": 1280, "height": 900})
        axe.check(page, what="matched")

        nav(page, "Dashboard").click()
        card = page.locator("section", has=page.get_by_role("heading", name="You matched"))
        expect(card).to_contain_text(soap_programs[0])
        expect(card).to_contain_text("through SOAP")
        axe.check(page, what="dashboard with the match")
        screenshot(page, "7-dashboard-match", full_page=True)

    outcome = MatchOutcome.objects.get(applicant=nadia)
    assert (outcome.status, outcome.matched_via, outcome.matched_program.name) == ("unmatched", "soap", soap_programs[0])
    axe.assert_clean()


def test_drag_and_drop_where_javascript_runs_posts_the_same_form(new_context, live_server, nadia):
    """The enhancement: dragging the third row onto the first renumbers the inputs and submits the form."""
    from programs.models import Program
    from programs.season.match_models import Rank
    from programs.season.models import Application

    cycle = nadia.profile.target_cycle
    with time_machine.travel(RANKING, tick=True):
        programs = list(Program.objects.filter(specialty__acgme_code="140", program_type="C").order_by("nrmp_code")[:3])
        apps = [Application.objects.create(applicant=nadia, cycle=cycle, program=p, status="interviewed") for p in programs]
        from programs.season.rol import add_rank, rank_order_list_of

        for application in apps:
            rol = rank_order_list_of(nadia, cycle)
            add_rank(applicant=nadia, cycle=cycle, application_id=application.pk, version=rol.version if rol else 0,
                     by=nadia)
        context = new_context()
        log_in(context, live_server, nadia)
        page = context.new_page()
        page.goto("/season/rank-order-list/")
        rows = page.locator("tr[data-rol-row]")
        expect(rows.first).to_have_attribute("draggable", "true")
        rows.nth(2).drag_to(rows.nth(0), target_position={"x": 20, "y": 5})
        expect(page.get_by_role("status")).to_contain_text("Order saved.")
        order = list(Rank.objects.filter(rank_list__rol__applicant=nadia).order_by("rank")
                     .values_list("application_id", flat=True))
        assert order == [apps[2].pk, apps[0].pk, apps[1].pk]
