"""No stale page (issue 11): the cached content of the dashboard, the timeline, the calendar feed, the
API's pathway and the advisor's copy of the dashboard follows every change to the pathway.

Each test first opens every cached page (so the content is in the cache), changes the pathway the way
a person does (the applicant's forms, the admin's change forms, or the service they call), then shows
that the next page says so. The cache is the project's configured one (process memory in the tests).
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime

import pytest
import time_machine
from django.core.cache import cache
from django.test import Client
from django.urls import reverse

from milestones import services
from milestones.models import MatchCycle, Milestone, MilestoneTemplate, PassingStandard
from milestones.reminders import unsubscribe_from_reminders
from milestones.versions import page_state
from pathway.lib.times import ET
from pathway.web.page_cache import CSRF_PLACEHOLDER

from .test_admin import confirmed_post, cycle_form, post_template

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _today(season_today):
    """The middle of the 2027 season."""


@pytest.fixture
def viewers(amira_profile, ben):
    """Amira's own browser, and her advisor Ben's."""
    applicant, advisor = Client(), Client()
    applicant.force_login(amira_profile.user)
    advisor.force_login(ben)
    return applicant, advisor


def open_pages(viewers, amira) -> dict[str, str]:
    """Every cached page as its viewer sees it now."""
    applicant, advisor = viewers
    feed = reverse("applicant:calendar_feed", args=[amira.profile.calendar_token])
    pages = {
        "dashboard": applicant.get(reverse("applicant:dashboard")),
        "timeline": applicant.get(reverse("applicant:timeline")),
        "api": applicant.get("/api/v1/pathway"),
        "calendar": Client().get(feed),
        "advisor": advisor.get(reverse("advisor:student_detail", args=[amira.pk])),
    }
    for name, response in pages.items():
        assert response.status_code == 200, name
    return {name: _without_per_response_values(response.content.decode()) for name, response in pages.items()}


def _without_per_response_values(body: str) -> str:
    """The page without what differs in every response anyway (the layout's CSRF token and CSP nonce),
    so that comparing two pages compares what they say."""
    body = re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", body)
    body = re.sub(r'"X-CSRFToken": "[^"]+"', "", body)
    return re.sub(r'nonce="[^"]+"', "", body)


def cached(viewers, amira) -> dict[str, str]:
    """Open the pages twice: the second time every one of them comes from the cache."""
    first = open_pages(viewers, amira)
    assert open_pages(viewers, amira) == first
    return first


def milestone(amira, key: str) -> Milestone:
    return Milestone.objects.of_applicant(amira).get(template__key=key)


def api_status(body: str, key: str) -> str:
    return next(m["status"] for m in json.loads(body)["milestones"] if m["key"] == key)


def progress(body: str) -> str:
    return re.search(r"(\d+) of (\d+) milestones done or waived", body).group(0)


# --- The applicant's own changes ------------------------------------------------------------------


def test_a_status_change_shows_on_every_page_at_once(viewers, amira_profile):
    amira = amira_profile.user
    before = cached(viewers, amira)
    key = "usmle_step1"  # a step with a deadline: in the feed too
    assert api_status(before["api"], key) == "not_started"

    response = viewers[0].post(reverse("applicant:milestone_status", args=[key]), {"status-status": "in_progress"})
    assert response.status_code == 302

    after = open_pages(viewers, amira)
    assert api_status(after["api"], key) == "in_progress"
    assert after["dashboard"].count("status-in_progress") == before["dashboard"].count("status-in_progress") + 1
    assert after["advisor"].count("status-in_progress") == before["advisor"].count("status-in_progress") + 1
    assert after["calendar"].count("Status: In progress") == before["calendar"].count("Status: In progress") + 1


def test_evidence_added_and_removed_shows_at_once(viewers, amira_profile):
    amira = amira_profile.user
    key = "school_eligibility_check"
    before = cached(viewers, amira)
    row = services.add_document(milestone=milestone(amira, key), label="ECFMG ID 0-123-456-7", by=amira)

    moved = open_pages(viewers, amira)
    assert api_status(moved["api"], key) == "in_progress"  # evidence moves the step along
    assert progress(moved["dashboard"]) == progress(before["dashboard"])

    services.set_status(milestone=milestone(amira, key), status="done", by=amira)
    done = open_pages(viewers, amira)
    assert progress(done["dashboard"]) != progress(before["dashboard"])
    assert progress(done["advisor"]) == progress(done["dashboard"])

    services.remove_evidence(milestone=milestone(amira, key), kind="document", evidence_id=row.pk, by=amira)
    assert page_state(amira.pk).applicant_version > 0
    assert open_pages(viewers, amira)["dashboard"] is not None


def test_an_exam_pass_shows_at_once(viewers, amira_profile):
    amira = amira_profile.user
    for key in ("school_eligibility_check", "ecfmg_registration", "usmle_registration"):
        services.set_status(milestone=milestone(amira, key), status="done", by=amira)
    before = cached(viewers, amira)

    services.record_exam_attempt(
        milestone=milestone(amira, "usmle_step1"), test_date=datetime(2026, 10, 1).date(), passed=True, by=amira
    )

    after = open_pages(viewers, amira)
    assert api_status(after["api"], "usmle_step1") == "done"
    assert progress(after["dashboard"]) != progress(before["dashboard"])
    assert after["timeline"].count("tl-done") > before["timeline"].count("tl-done")


def test_notes_change_the_version_and_show_on_the_next_page(viewers, amira_profile):
    amira = amira_profile.user
    cached(viewers, amira)
    version = page_state(amira.pk).applicant_version
    key = "ecfmg_registration"

    viewers[0].post(reverse("applicant:milestone_note", args=[key]), {"note-note": "Call the registrar first"})

    assert page_state(amira.pk).applicant_version > version
    assert "Call the registrar first" in viewers[0].get(reverse("applicant:milestone_detail", args=[key])).content.decode()


def test_a_profile_change_shows_at_once(viewers, amira_profile):
    amira = amira_profile.user
    before = cached(viewers, amira)
    assert "Africa/Cairo" in before["dashboard"]

    profile = amira.profile
    profile.time_zone = "Asia/Karachi"
    services.save_profile(profile=profile, replan=True, by=amira)

    after = open_pages(viewers, amira)
    assert "Asia/Karachi" in after["dashboard"] and "Asia/Karachi" in after["timeline"]
    assert json.loads(after["api"])["applicant"]["time_zone"] == "Asia/Karachi"
    assert "Asia/Karachi" in after["advisor"]


def test_reminder_settings_show_at_once(viewers, amira_profile):
    amira = amira_profile.user
    cached(viewers, amira)
    settings_url = reverse("applicant:settings")
    data = {"lead_mode": "defaults", "lead_days": "", "time_zone": "Europe/London"}  # reminders off

    response = viewers[0].post(settings_url, data)

    assert response.status_code == 302
    assert "Europe/London" in open_pages(viewers, amira)["dashboard"]  # a time zone re-plans
    assert 'name="email_reminders" id="id_email_reminders" checked' not in viewers[0].get(settings_url).content.decode()
    version = page_state(amira.pk).applicant_version
    unsubscribe_from_reminders(user=amira)  # the one-click link in every email
    assert page_state(amira.pk).applicant_version > version


# --- The admin's changes (templates, cycles and events, rule tables) -------------------------------


@pytest.fixture
def admin_client(root, pathway_data):
    client = Client()
    client.force_login(root)
    return client


def test_an_admin_edit_of_a_template_shows_at_once(viewers, amira_profile, admin_client):
    amira = amira_profile.user
    before = cached(viewers, amira)
    template = MilestoneTemplate.objects.get(key="rank_order_list")
    assert "Certify your rank order list" in before["dashboard"]

    response, _ = post_template(admin_client, template, title="Certify the list", deadline_offset_days=-2)

    assert response.status_code == 302
    after = open_pages(viewers, amira)
    for name in ("dashboard", "timeline", "calendar", "advisor", "api"):
        assert "Certify the list" in after[name], name


def test_an_admin_move_of_a_cycle_event_shows_at_once(viewers, amira_profile, admin_client, cycle_2027):
    amira = amira_profile.user
    before = cached(viewers, amira)
    url = reverse("admin:milestones_matchcycle_change", args=[cycle_2027.pk])
    moved = datetime(2027, 2, 24, 21, tzinfo=ET)

    response = confirmed_post(admin_client, url, cycle_form(cycle_2027, nrmp_rol_deadline=moved))

    assert response.status_code == 302
    after = open_pages(viewers, amira)
    assert "20270225T020000Z" in after["calendar"] or "20270224T210000" in after["calendar"]
    assert after["calendar"] != before["calendar"]
    assert after["timeline"] != before["timeline"] and after["dashboard"] != before["dashboard"]


def test_copying_a_cycle_and_editing_a_rule_table_rebuild_every_page(viewers, amira_profile, cycle_2027):
    amira = amira_profile.user
    cached(viewers, amira)
    version = page_state(amira.pk).reference_version

    services.copy_cycle_to_next_year(cycle=MatchCycle.objects.order_by("-year").first())
    standard = PassingStandard.objects.first()
    standard.note = "checked again"
    standard.save()

    assert page_state(amira.pk).reference_version >= version + 2


# --- Within a day, between viewers, and the layout -------------------------------------------------


def test_a_deadline_passing_during_the_day_shows_as_overdue(viewers, amira_profile):
    amira = amira_profile.user
    row = milestone(amira, "school_eligibility_check")
    Milestone.objects.filter(pk=row.pk).update(due_at=datetime(2026, 11, 21, 15, tzinfo=UTC))
    # Moved by hand (no version bump): only the passing of the moment itself can make the page change.
    with time_machine.travel(datetime(2026, 11, 21, 13, tzinfo=UTC), tick=False):
        cache.clear()
        assert "overdue today" not in open_pages(viewers, amira)["dashboard"]
    with time_machine.travel(datetime(2026, 11, 21, 16, tzinfo=UTC), tick=False):
        assert "overdue today" in open_pages(viewers, amira)["dashboard"]


def test_the_applicant_and_the_advisor_each_get_their_own_copy(viewers, amira_profile):
    pages = cached(viewers, amira_profile.user)
    assert "Your pathway" in pages["dashboard"] and "Amira Haddad's pathway" not in pages["dashboard"]
    assert "Amira Haddad's pathway" in pages["advisor"]
    assert "Change your profile" not in pages["advisor"]


def test_cached_forms_carry_each_requests_own_csrf_token(late_joiner_clients):
    first, second = late_joiner_clients
    bodies = [client.get(reverse("applicant:dashboard")).content.decode() for client in (first, first, second)]
    tokens = [re.findall(r'name="csrfmiddlewaretoken" value="([^"]+)"', body) for body in bodies]
    assert all(tokens) and all(CSRF_PLACEHOLDER not in body for body in bodies)
    # The switch form (cached content) and the log-out form (layout) both carry this request's token:
    # a masked form of the session's secret, different in every response.
    assert len({*tokens[0], *tokens[1], *tokens[2]}) == 6
    response = first.post(
        reverse("applicant:switch_cycle"), {"target_cycle": "999999", "csrfmiddlewaretoken": tokens[1][0]}
    )
    assert response.status_code != 403


@pytest.fixture
def late_joiner_clients(planned_applicant):
    with time_machine.travel(datetime(2026, 11, 30, 12, tzinfo=UTC), tick=False):
        user = planned_applicant("NON_US_IMG", graduation_date=datetime(2025, 6, 30).date())
        clients = []
        for _ in range(2):
            client = Client(enforce_csrf_checks=True)
            client.force_login(user)
            clients.append(client)
        assert "Switch to the 2028 Match" in clients[0].get(reverse("applicant:dashboard")).content.decode()
        yield clients


def test_a_cached_page_reads_only_the_session_user_and_page_state(viewers, amira_profile, django_assert_num_queries):
    amira = amira_profile.user
    cached(viewers, amira)
    with django_assert_num_queries(2):  # the user, the page state (the session is in the cache)
        viewers[0].get(reverse("applicant:dashboard"))
    with django_assert_num_queries(2):
        viewers[0].get(reverse("applicant:timeline"))
    # The advisor's copies too: the student, what they share with this advisor and their page state
    # come in the one query that checks the advisor's access.
    with django_assert_num_queries(2):
        viewers[1].get(reverse("advisor:student_detail", args=[amira.pk]))
    viewers[1].get(reverse("advisor:student_timeline", args=[amira.pk]))  # not among the pages cached above
    with django_assert_num_queries(2):
        viewers[1].get(reverse("advisor:student_timeline", args=[amira.pk]))
