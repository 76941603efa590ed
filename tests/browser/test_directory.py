"""The directory's "done means" in a real browser: a new applicant (a non-US IMG who needs an H-1B and has
no Step 3) finds a program by its ERAS name, filters by state and visa (htmx updates the results and the
URL), opens it, reads why they are not eligible, reports an outdated requirement; an admin logs in with
the password and an authenticator code and finds the report in the review queue, and accepts it. Plus the
search without JavaScript. axe-core checks every page on the way."""

from __future__ import annotations

import re
from datetime import date

import pytest
import time_machine
from playwright.sync_api import expect

from ..factories import PASSWORD, TOTP_SECRET, PlannedProfileFactory, UserFactory
from ..mfa import fresh_totp_code
from ..pathway.directory_helpers import H1B_STEP3_CODE, SEASON_NOW
from .conftest import log_in

ERAS_NAME = "Copperkettle General Surgery Residency - Demo"  # demo row 5: H-1B only, Step 3 before ranking


@pytest.fixture
def directory(pathway_data):
    """The fictional demo programs, with the clock in the 2027 season (it ticks: the scenario's seconds pass)."""
    from programs.demo import load_demo_programs

    with time_machine.travel(SEASON_NOW, tick=True):
        load_demo_programs()
        yield


def nav(page, name: str):
    return page.get_by_role("navigation", name="Main").get_by_role("link", name=name, exact=True)


def test_a_new_applicant_finds_a_program_learns_why_and_reports_it_then_an_admin_reviews(
    new_context, live_server, directory, screenshot, axe
):
    from programs.models import OutdatedReport, Program

    applicant = PlannedProfileFactory(visa_route="H1B", graduation_date=date(2024, 6, 30)).user
    target = Program.objects.get(nrmp_code=H1B_STEP3_CODE)
    context = new_context()
    log_in(context, live_server, applicant)
    page = context.new_page()

    # From the dashboard to the directory.
    page.goto("/dashboard/")
    nav(page, "Programs").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Program directory")
    axe.check(page, what="directory")

    # By ERAS name; then state and visa. htmx swaps the results and keeps the URL up to date.
    page.get_by_label("Search by name, ERAS name, city or NRMP code").fill(ERAS_NAME)
    results = page.locator("#results")
    expect(results.get_by_role("link", name=target.name)).to_be_visible()
    page.get_by_label("State").select_option("MI")
    expect(page).to_have_url(re.compile(r"state=MI"))
    page.get_by_label("Visa").select_option("H1B")
    expect(page).to_have_url(re.compile(r"visa=H1B"))
    expect(results.get_by_role("status")).to_have_text(re.compile(r"^1 program\b"))
    row = results.locator(".program-row").filter(has_text=target.name)
    expect(row.locator(".verdict-badge")).to_contain_text("Not eligible")
    axe.check(page, what="directory, filtered")
    screenshot(page, "1-filtered", full_page=True)
    # The URL is the search: opened afresh, it shows the same result.
    page.goto(page.url)
    expect(page.locator("#results .program-row")).to_have_count(1)

    # The program page says why.
    results = page.locator("#results")
    results.get_by_role("link", name=target.name).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(target.name)
    verdict = page.get_by_role("region", name="Are you eligible?")
    expect(verdict).to_contain_text("Not eligible")
    expect(verdict).to_contain_text("The program needs Step 3 passed before it ranks you")
    expect(verdict).to_contain_text("You need the H-1B, and the program sponsors it.")
    expect(verdict).to_contain_text("observed 2 Nov 2026")
    axe.check(page, what="program page")
    screenshot(page, "2-program", full_page=True)

    # Report the Step 3 requirement as outdated.
    page.get_by_role("link", name="Report step 3 passed before ranking as outdated").click()
    form = page.get_by_role("region", name="Report outdated information")
    expect(form.get_by_label("Which requirement is outdated")).to_have_value("step3_before_ranking")
    form.get_by_label("What it is now").fill("no")
    form.get_by_label("What changed").fill("The program's FAQ no longer asks for Step 3 before ranking.")
    form.get_by_label("Where you read it (link)").fill("https://example.org/copperkettle-faq")
    form.get_by_role("button", name="Send the report").click()
    expect(page.get_by_role("status").first).to_contain_text("your report is in the review queue")
    axe.check(page, what="program page after a report")
    report = OutdatedReport.objects.get()
    assert (report.requirement, report.proposed_value, report.status) == ("step3_before_ranking", "no", "open")

    # An admin: the password, then a code from the authenticator app; then the review queue.
    from allauth.account.models import EmailAddress

    admin = UserFactory(admin=True, email="rhea.admin@example.com", name="Rhea Admin")
    EmailAddress.objects.create(user=admin, email=admin.email, verified=True, primary=True)
    page = new_context().new_page()
    page.goto("/accounts/login/")
    page.get_by_label("Email").fill(admin.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign In").click()
    expect(page).to_have_url(re.compile(r"/accounts/2fa/authenticate/$"))
    page.get_by_role("textbox").fill(fresh_totp_code(TOTP_SECRET))
    page.get_by_role("button", name="Sign In").click()
    nav(page, "Review queue").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Review queue")
    item = page.get_by_role("article").filter(has_text=target.name)
    expect(item).to_contain_text("Step 3 passed before ranking")
    expect(item).to_contain_text("The program's FAQ no longer asks for Step 3 before ranking.")
    axe.check(page, what="review queue")
    screenshot(page, "3-review-queue", full_page=True)
    item.get_by_role("button", name=re.compile(r"^Accept")).click()
    expect(page.get_by_text("No open reports")).to_be_visible()
    report.refresh_from_db()
    assert report.status == "accepted" and report.reviewed_by == admin
    assert target.claims.get(requirement="step3_before_ranking").value_bool is False

    axe.assert_clean()


def test_the_search_works_without_javascript(new_context, live_server, pathway_data):
    """A plain GET form and plain links. (axe-core needs scripts: it checks these pages in the test above.)"""
    from programs.demo import load_demo_programs
    from programs.models import Program

    load_demo_programs()  # on today's date: nothing here depends on the season

    applicant = PlannedProfileFactory(visa_route="J1").user
    expected = Program.objects.search("Marigold").in_states("NY").eligible_for(applicant.profile).count()
    assert expected >= 1
    context = new_context(java_script_enabled=False)
    log_in(context, live_server, applicant)
    page = context.new_page()
    page.goto("/programs/")
    page.get_by_label("Search by name, ERAS name, city or NRMP code").fill("Marigold")
    page.get_by_label("State").select_option("NY")
    page.get_by_label("Only programs I am eligible for").check()
    with page.expect_navigation():
        page.get_by_role("button", name="Search").click()
    for param in ("q=Marigold", "state=NY", "eligible=true"):  # the whole search is in the URL
        expect(page).to_have_url(re.compile(param))
    expect(page.locator("#results .program-row")).to_have_count(expected)
    expect(page.get_by_label("Only programs I am eligible for")).to_be_checked()
    # Past the first page with a plain link.
    page.goto("/programs/")
    with page.expect_navigation():
        page.get_by_role("navigation", name="Pages of results").get_by_role("link", name="Next").click()
    expect(page).to_have_url(re.compile(r"page=2"))
    expect(page.locator("#results .program-row")).to_have_count(25)
