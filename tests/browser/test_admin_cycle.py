"""An admin edits the 2027 cycle in a real browser: saving it unchanged twice moves no event (the form
used to show UTC and read US Eastern time, so each save moved every event 4-5 hours later); moving the
rank order list deadline shows its effect on applicants' deadlines first, and once confirmed the demo
applicant's deadline follows. axe-core checks the pages added to the admin (the preview, the graph)."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

from playwright.sync_api import expect

from ..factories import PASSWORD, TOTP_SECRET, UserFactory
from ..mfa import fresh_totp_code
from .conftest import log_in

DEMO_APPLICANT = "applicant@example.com"  # pathway.management.commands.load_demo


def _event_times(page) -> dict[str, str]:
    response = page.request.get("/api/v1/cycles/2027")
    assert response.ok, response.text()
    return {event["key"]: event["at"] for event in response.json()["events"]}


def _demo_rol_deadline(new_context, live_server) -> str:
    """The demo applicant's rank order list deadline, as the applicant's API gives it."""
    from pathway.models import User

    context = new_context()
    log_in(context, live_server, User.objects.get(email=DEMO_APPLICANT))
    response = context.request.get(f"{live_server.url}/api/v1/pathway")
    assert response.ok, response.text()
    return next(m["due_at"] for m in response.json()["milestones"] if m["key"] == "rank_order_list")


def _log_in_as_admin(page):
    from allauth.account.models import EmailAddress

    admin = UserFactory(admin=True, email="dana.admin@example.com", name="Dana Admin")
    EmailAddress.objects.create(user=admin, email=admin.email, verified=True, primary=True)
    page.goto("/accounts/login/?next=/admin/")
    page.get_by_label("Email").fill(admin.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign In").click()
    expect(page).to_have_url(re.compile(r"/accounts/2fa/authenticate/$"))
    page.get_by_role("textbox").fill(fresh_totp_code(TOTP_SECRET))
    page.get_by_role("button", name="Sign In").click()
    expect(page).to_have_url(re.compile(r"/admin/$"))


def _open_2027_cycle(page):
    page.goto("/admin/milestones/matchcycle/")
    page.get_by_role("link", name="2027 Match").click()
    expect(page.get_by_role("heading", level=2, name="2027 Match")).to_be_visible()


def _rol_row(page) -> str:
    """The inline form prefix of the rank order list deadline (events-N)."""
    key_input = page.locator("input[name$='-key'][value='nrmp_rol_deadline']")
    return key_input.get_attribute("name").removesuffix("-key")


def test_an_admin_saves_the_2027_cycle_and_moves_the_rol_deadline(
    page, new_context, live_server, pathway_data, screenshot, axe
):
    from django.core.management import call_command

    call_command("load_demo", verbosity=0)
    _log_in_as_admin(page)
    before = _event_times(page)

    # Save twice without touching anything: no event moves.
    for _ in range(2):
        _open_2027_cycle(page)
        page.get_by_role("button", name="Save and continue editing").click()
        expect(page.locator(".messagelist")).to_contain_text("was changed successfully")
        assert _event_times(page) == before
    demo_before = _demo_rol_deadline(new_context, live_server)
    assert demo_before == before["nrmp_rol_deadline"]

    # Move the rank order list deadline two days earlier; the admin reads the effect before saving.
    _open_2027_cycle(page)
    row = _rol_row(page)
    date_input = page.locator(f"input[name='{row}-at_0']")
    old_day = datetime.strptime(date_input.input_value(), "%Y-%m-%d").date()
    date_input.fill((old_day - timedelta(days=2)).isoformat())
    page.get_by_role("button", name="Save", exact=True).click()

    preview = page.get_by_role("region", name="Before you save: the effect on applicants' deadlines")
    expect(preview).to_be_visible()
    expect(preview).to_contain_text(re.compile(r"This change moves \d+ deadlines? of \d+ applicants?"))
    expect(preview).to_contain_text("2 days earlier")
    expect(preview.get_by_role("table")).to_contain_text("Amira Haddad")  # the demo applicant
    assert _event_times(page) == before  # nothing saved yet
    screenshot(page, "1-preview", full_page=True)
    # Scoped to the preview we add: Django's tabular inline (the event rows) has unlabelled inputs and
    # an empty header cell of its own, which we do not own (django/contrib/admin/.../tabular.html).
    axe.check(page, what="cycle change preview", within="section.deadline-preview")

    preview.get_by_role("button", name="Confirm and save").click()
    expect(page.locator(".messagelist")).to_contain_text("was changed successfully")
    after = _event_times(page)
    moved = datetime.fromisoformat(after["nrmp_rol_deadline"])
    assert moved == datetime.fromisoformat(before["nrmp_rol_deadline"]) - timedelta(days=2)
    assert {k: v for k, v in after.items() if k != "nrmp_rol_deadline"} == {
        k: v for k, v in before.items() if k != "nrmp_rol_deadline"
    }
    # The demo applicant's deadline followed.
    assert datetime.fromisoformat(_demo_rol_deadline(new_context, live_server)) == moved

    # The template graph, linked from the template list.
    page.goto("/admin/milestones/milestonetemplate/")
    page.get_by_role("link", name="View the template graph").click()
    expect(page.get_by_role("img", name="Milestone template graph")).to_be_visible()
    expect(page.get_by_role("heading", name="The graph in words")).to_be_visible()
    screenshot(page, "2-graph", full_page=True)
    axe.check(page, what="template graph")

    axe.assert_clean()
