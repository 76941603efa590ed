"""The November 2026 domain audit (../shared/reference/domain-audit-2026-11.md): one test per finding."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
import time_machine
from django.urls import reverse

from milestones.deadlines import parse_et
from milestones.models import (
    ApplicationService,
    CycleEvent,
    Milestone,
    OETSeasonWindow,
    SignalAllowance,
    TemplatePrerequisite,
)
from milestones.risks import pathway_risks
from milestones.rules import judge_oet
from milestones.services import record_oet_result

pytestmark = pytest.mark.django_db
NOV_2026 = datetime(2026, 11, 21, 12, tzinfo=UTC)
GOOD = {"listening": 400, "reading": 400, "speaking": 400, "writing": 400}


# --- D1 / D10: the OET test-date window of each Pathways season ---------------------------------


def test_d1_the_oet_window_is_a_row_per_season_with_its_status(pathway_data):
    rows = {w.cycle_year: w for w in OETSeasonWindow.objects.all()}
    assert rows[2024].tests_from == date(2022, 1, 1) and rows[2024].status == "secondary"
    assert rows[2025].tests_from == date(2023, 1, 1) and rows[2025].status == "confirmed"
    assert rows[2026].tests_from == date(2024, 1, 1) and rows[2026].status == "projected"
    assert rows[2027].tests_from == date(2025, 1, 1) and rows[2027].status == "projected"
    assert all(w.source_url and w.last_verified for w in rows.values())


def test_d1_an_oet_before_the_target_seasons_window_does_not_meet_the_requirement(pathway_data):
    early = judge_oet(test_date=date(2024, 6, 1), season=2027, **GOOD)
    assert early.passed is False
    assert "2027 Match" in early.reason and "1 Jan 2025" in early.reason and "projected" in early.reason
    assert judge_oet(test_date=date(2025, 3, 1), season=2027, **GOOD).passed is True
    # The same test is fine for the 2026 season.
    assert judge_oet(test_date=date(2024, 6, 1), season=2026, **GOOD).passed is True


@time_machine.travel(NOV_2026, tick=False)
def test_d1_risks_and_the_milestone_page_say_a_recorded_oet_is_outside_the_window(
    make_applicant, milestone_of, client
):
    user = make_applicant("NON_US_IMG")
    oet = milestone_of(user, "oet_medicine")
    record_oet_result(milestone=oet, test_date=date(2024, 6, 1), by=user, **GOOD)

    oet.refresh_from_db()
    assert oet.status != Milestone.Status.DONE
    risk = next(r for r in pathway_risks(applicant=user) if r.code == "oet_outside_window")
    assert risk.severity == "red" and risk.milestone == "oet_medicine"
    assert "1 Jan 2025" in risk.message
    client.force_login(user)
    assert "1 Jan 2025" in client.get(reverse("applicant:dashboard")).content.decode()
    page = client.get(reverse("applicant:milestone_detail", args=["oet_medicine"])).content.decode()
    assert "before the 2027 Match" in page


@time_machine.travel(NOV_2026, tick=False)
def test_d10_the_oet_guidance_takes_its_example_from_the_target_seasons_row(make_applicant, client):
    user = make_applicant("NON_US_IMG")
    client.force_login(user)
    page = client.get(reverse("applicant:milestone_detail", args=["oet_medicine"])).content.decode()
    assert "the 2025 season accepted tests from 1 January 2023" not in page
    assert "1 Jan 2025" in page and "projected" in page


# --- D2 / D11: the Pathways application deadline ------------------------------------------------


def test_d2_each_cycle_has_a_pathways_application_deadline(pathway_data):
    event = CycleEvent.objects.get(cycle__year=2027, key="pathways_app_deadline")
    assert event.at == parse_et("2027-01-31 23:59")
    assert event.status == "projected"
    assert CycleEvent.objects.filter(cycle__year=2028, key="pathways_app_deadline").exists()


@time_machine.travel(NOV_2026, tick=False)
def test_d2_the_pathway_milestone_is_due_by_the_application_deadline(make_applicant, milestone_of):
    user = make_applicant("NON_US_IMG")
    pathway = milestone_of(user, "ecfmg_pathway")
    assert pathway.due_at == parse_et("2027-01-31 23:59")
    assert pathway.due_projected


@time_machine.travel(NOV_2026, tick=False)
def test_d11_the_pathway_guidance_names_this_seasons_opening_and_its_status(make_applicant, client):
    user = make_applicant("NON_US_IMG")
    client.force_login(user)
    page = client.get(reverse("applicant:milestone_detail", args=["ecfmg_pathway"])).content.decode()
    assert "the 2026 Pathways opened on 19 August 2025" not in page
    opening = CycleEvent.objects.get(cycle__year=2027, key="pathways_app_open")
    assert f"{opening.at:%-d %b %Y}" in page


# --- D6 / D7: prerequisites ---------------------------------------------------------------------


def kind_of(template, requires):
    return TemplatePrerequisite.objects.get(template__key=template, requires__key=requires).kind


def test_d6_usmle_registration_hard_requires_the_ecfmg_application(pathway_data):
    assert kind_of("usmle_registration", "ecfmg_registration") == "hard"


def test_d7_certifying_the_rol_is_not_blocked_by_ecfmg_verification(pathway_data):
    assert kind_of("rank_order_list", "ecfmg_exam_reqs_verified") == "soft"


# --- D8: Step 3 through the NBME for US graduates ----------------------------------------------


@time_machine.travel(NOV_2026, tick=False)
def test_d8_a_us_graduate_is_sent_to_the_nbme_for_step3(make_applicant, client):
    user = make_applicant("US_MD")
    client.force_login(user)
    page = client.get(reverse("applicant:milestone_detail", args=["usmle_step3"])).content.decode()
    assert "NBME" in page and "MyUSMLE" in page


# --- D9 / D13: Emergency Medicine applies through ResidencyCAS ----------------------------------


def test_d9_emergency_medicine_has_no_eras_signals_from_2026(pathway_data):
    assert not SignalAllowance.objects.filter(cycle_year__gte=2026, specialty="Emergency Medicine").exists()
    assert SignalAllowance.objects.filter(cycle_year=2025, specialty="Emergency Medicine").exists()
    cas = ApplicationService.objects.get(cycle_year=2027, service="ResidencyCAS")
    assert "Emergency Medicine" in cas.specialties
    assert cas.tiers and cas.source_url
