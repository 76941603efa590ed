"""Issue 9, "What new users met": late joiners, contingencies and optional steps.

The late joiner signs up on 30 November 2026 as a non-US IMG for the 2027 Match with nothing done: the
2027 Match is out of reach (the rank order list deadline is in early March 2027 and the exams, OET and
the Pathway cannot all be done and reported by then), the earliest reachable Match is 2028.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
import time_machine
from django.urls import reverse

from milestones.demo import load_demo_pathway
from milestones.models import MatchCycle, Milestone, Phase
from milestones.risks import pathway_risks

pytestmark = pytest.mark.django_db

LATE = datetime(2026, 11, 30, 12, tzinfo=UTC)


@pytest.fixture
def late_clock():
    with time_machine.travel(LATE, tick=False):
        yield


@pytest.fixture
def late_joiner(late_clock, planned_applicant):
    return planned_applicant("NON_US_IMG", graduation_date=date(2025, 6, 30))


def test_the_late_joiner_reads_that_2027_is_out_of_reach_and_2028_is_the_earliest(client, late_joiner):
    client.force_login(late_joiner)
    response = client.get(reverse("applicant:dashboard"))
    verdict = response.context["reachability"]
    assert verdict.reachable is False
    assert verdict.earliest.year == 2028
    html = response.content.decode()
    assert "The 2027 Match is no longer within reach" in html
    assert "Switch to the 2028 Match" in html


def test_the_late_joiner_switches_to_2028_in_one_step(client, late_joiner):
    client.force_login(late_joiner)
    cycle_2028 = MatchCycle.objects.get(year=2028)
    response = client.post(reverse("applicant:switch_cycle"), {"target_cycle": cycle_2028.pk})
    assert response.status_code == 302
    late_joiner.profile.refresh_from_db()
    assert late_joiner.profile.target_cycle == cycle_2028
    rol = Milestone.objects.get(applicant=late_joiner, template__key="rank_order_list")
    assert rol.due_at.year == 2028  # re-planned on the new cycle
    response = client.get(reverse("applicant:dashboard"))
    assert response.context["reachability"].reachable is True


def test_switching_to_an_unknown_cycle_changes_nothing(client, late_joiner):
    client.force_login(late_joiner)
    before = late_joiner.profile.target_cycle_id
    response = client.post(reverse("applicant:switch_cycle"), {"target_cycle": "999999"}, follow=True)
    late_joiner.profile.refresh_from_db()
    assert late_joiner.profile.target_cycle_id == before
    assert "Choose one of the Matches" in response.content.decode()


def test_a_past_graduation_is_never_overdue(client, late_joiner):
    client.force_login(late_joiner)
    context = client.get(reverse("applicant:dashboard")).context
    assert "graduation" not in [d.milestone.template.key for d in context["overdue"]]
    assert "graduation" not in [
        r.milestone for r in pathway_risks(applicant=late_joiner) if r.code == "overdue"
    ]


def test_the_overdue_list_is_grouped_by_phase_and_sorted_by_date(client, late_joiner):
    client.force_login(late_joiner)
    context = client.get(reverse("applicant:dashboard")).context
    groups = context["overdue_groups"]
    assert len(groups) > 1
    phases = [group.phase for group in groups]
    assert phases == sorted(phases, key=Phase.values.index)
    for group in groups:
        dues = [d.milestone.due_at for d in group.deadlines]
        assert dues == sorted(dues)
    html = client.get(reverse("applicant:dashboard")).content.decode()
    assert html.count('class="overdue-phase"') == len(groups)


def test_an_applicant_early_in_the_season_is_on_track(planned_applicant):
    from milestones.reachability import judge_reachability

    with time_machine.travel(datetime(2026, 3, 1, 12, tzinfo=UTC), tick=False):
        user = planned_applicant("NON_US_IMG")
        verdict = judge_reachability(applicant=user)
    assert verdict.reachable is True


# --- Onboarding: what is already done ---------------------------------------------------------------


def onboarding_answers(cycle, **changes):
    data = {
        "applicant_type": "US_MD",
        "graduation_date": "2027-05-15",
        "visa_route": "",
        "target_cycle": str(cycle.pk),
        "time_zone": "America/New_York",
    }
    data.update(changes)
    return data


def test_a_us_md_senior_marks_earlier_steps_done_at_onboarding(client, amira, late_clock, cycle_2027):
    client.force_login(amira)
    done = [
        "nbme_registration",
        "usmle_step1",
        "usmle_step2ck",
        "eras_token",
        "personal_statement",
        "letters_of_recommendation",
        "mspe_transcript_photo",
        "program_list",
        "program_signals",
        "eras_application",
    ]
    response = client.post(
        reverse("applicant:onboarding"),
        onboarding_answers(
            cycle_2027, already_done=done, step1_passed_on="2025-03-10", step2ck_passed_on="2026-07-20"
        ),
    )
    assert response.status_code == 302
    status = dict(Milestone.objects.filter(applicant=amira).values_list("template__key", "status"))
    assert all(status[key] == "done" for key in done), status
    step2 = Milestone.objects.get(applicant=amira, template__key="usmle_step2ck")
    assert step2.attempts.get().test_date == date(2026, 7, 20)
    assert step2.completed_on == date(2026, 7, 20)
    context = client.get(reverse("applicant:dashboard")).context
    assert not {d.milestone.template.key for d in context["overdue"]} & set(done)


def test_an_exam_marked_done_needs_its_pass_date(client, amira, late_clock, cycle_2027):
    client.force_login(amira)
    response = client.post(
        reverse("applicant:onboarding"),
        onboarding_answers(cycle_2027, already_done=["nbme_registration", "usmle_step1"]),
    )
    assert response.status_code == 422
    assert "step1_passed_on" in response.context["form"].errors
    assert not Milestone.objects.filter(applicant=amira).exists()


# --- Contingencies and optional steps -----------------------------------------------------------------


def test_soap_is_on_every_pathway_as_a_contingency(client, late_joiner):
    client.force_login(late_joiner)
    assert client.get(reverse("applicant:milestone_detail", args=["soap"])).status_code == 200
    context = client.get(reverse("applicant:dashboard")).context
    assert "soap" in [row.milestone.template.key for row in context["contingencies"]]
    shown = [d.milestone.template.key for d in context["overdue"] + context["next_deadlines"]]
    assert "soap" not in shown


def test_the_demo_img_has_soap_in_the_api_and_pages(client, amira, late_clock, pathway_data):
    load_demo_pathway(applicant=amira)
    client.force_login(amira)
    assert client.get("/milestones/soap/").status_code == 200
    keys = [m["key"] for m in client.get("/api/v1/pathway").json()["milestones"]]
    assert "soap" in keys


def test_an_applicant_adds_and_removes_the_couples_match(client, late_joiner):
    client.force_login(late_joiner)
    url = reverse("applicant:optional_step")
    assert client.post(url, {"key": "couples_link", "action": "add"}).status_code == 302
    assert Milestone.objects.get(applicant=late_joiner, template__key="couples_link").is_applicable
    assert "couples_link" in client.get(reverse("applicant:settings")).content.decode()
    assert client.post(url, {"key": "couples_link", "action": "remove"}).status_code == 302
    assert not Milestone.objects.get(applicant=late_joiner, template__key="couples_link").is_applicable


def test_a_required_step_cannot_be_removed(client, late_joiner):
    client.force_login(late_joiner)
    client.post(reverse("applicant:optional_step"), {"key": "usmle_step1", "action": "remove"})
    assert Milestone.objects.get(applicant=late_joiner, template__key="usmle_step1").is_applicable
