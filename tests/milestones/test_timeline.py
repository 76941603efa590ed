"""The timeline: a server-rendered, accessible SVG from today to residency start, plus a table."""

from __future__ import annotations

import zoneinfo
from datetime import UTC, date, datetime, timedelta

import pytest
from django.urls import reverse

from milestones.models import CycleEvent, Milestone
from pathway.web.applicant.timeline import build_timeline

pytestmark = pytest.mark.django_db
NOW = datetime(2026, 11, 21, 12, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _today(season_today):
    """Every test here runs in the middle of the 2027 season."""


def layout(applicant, cycle):
    milestones = list(Milestone.objects.applicable().filter(applicant=applicant).select_related("template"))
    events = list(CycleEvent.objects.filter(cycle=cycle))
    return build_timeline(milestones=milestones, events=events, tz=zoneinfo.ZoneInfo("Africa/Cairo"), now=NOW)


def test_the_axis_runs_from_before_today_to_residency_start(amira_profile):
    chart = layout(amira_profile.user, amira_profile.target_cycle)
    start = CycleEvent.objects.get(cycle=amira_profile.target_cycle, key="residency_start")
    assert chart.end == start.at.astimezone(zoneinfo.ZoneInfo("Africa/Cairo")).date()
    assert chart.start < date(2026, 11, 21) == chart.today
    assert chart.plot_left < chart.today_x < chart.plot_right
    assert all(chart.plot_left <= line.x <= chart.plot_right for line in chart.events)
    assert chart.ticks and all(chart.plot_left <= tick.x <= chart.plot_right for tick in chart.ticks)


def test_overdue_items_sit_at_the_left_edge_and_late_ones_at_the_right(amira_profile):
    amira = amira_profile.user
    Milestone.objects.filter(applicant=amira, template__key="letters_of_recommendation").update(
        due_at=NOW - timedelta(days=90)
    )
    chart = layout(amira, amira_profile.target_cycle)
    items = {item.milestone.template.key: item for item in chart.items}
    letters = items["letters_of_recommendation"]
    assert (letters.status, letters.edge, letters.x) == ("overdue", "earlier", chart.earlier_x)
    assert items["residency_completion"].edge == "later"
    # Rows go down the page in pathway order, one per milestone.
    ys = [item.y for item in chart.items]
    assert ys == sorted(ys) and len(set(ys)) == len(ys)


def test_crowded_event_labels_are_nudged_apart(amira_profile):
    chart = layout(amira_profile.user, amira_profile.target_cycle)
    label_xs = [line.label_x for line in chart.events]
    assert all(b - a >= 13 for a, b in zip(label_xs, label_xs[1:], strict=False))


def test_the_page_is_an_accessible_svg_with_links_and_a_table(client, amira_profile):
    client.force_login(amira_profile.user)
    response = client.get(reverse("applicant:timeline"))
    assert response.status_code == 200
    body = response.content.decode()
    assert '<svg role="group" aria-labelledby="tl-title tl-desc"' in body
    assert '<title id="tl-title">' in body and '<desc id="tl-desc">' in body
    step1 = reverse("applicant:milestone_detail", args=["usmle_step1"])
    assert f'<a href="{step1}" class="tl-item">' in body
    assert "The timeline as a list" in body and f'<a href="{step1}">USMLE Step 1</a>' in body
    assert "Today" in body and "Residency (GME) starts" in body
    assert "style=" not in body  # strict CSP: no inline styles


def test_it_needs_a_profile_and_an_applicant(client, amira, ben, pathway_data):
    client.force_login(amira)
    assert client.get(reverse("applicant:timeline")).url == reverse("applicant:onboarding")
    client.force_login(ben)
    assert client.get(reverse("applicant:timeline")).status_code == 404
