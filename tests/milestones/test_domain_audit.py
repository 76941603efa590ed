"""The November 2026 domain audit (../shared/reference/domain-audit-2026-11.md): one test per finding."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import pytest
import time_machine
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.urls import reverse

from milestones.deadlines import parse_et
from milestones.guidance import render_guidance
from milestones.models import (
    ApplicationService,
    AttemptLimit,
    CycleEvent,
    ErasFeeSchedule,
    Milestone,
    MilestoneTemplate,
    OETSeasonWindow,
    OETThreshold,
    PassingStandard,
    PathwaySeason,
    ScoreReleaseRule,
    SignalAllowance,
    TemplatePrerequisite,
    TravelBanCountry,
    VisaRule,
)
from milestones.risks import pathway_risks
from milestones.rules import PastAttempt, check_new_attempt, judge_oet
from milestones.services import record_oet_result
from milestones.yearly import next_year_dates
from pathway.lib.times import et_date

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
    planned_applicant, milestone_of, client
):
    user = planned_applicant("NON_US_IMG")
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
def test_d10_the_oet_guidance_takes_its_example_from_the_target_seasons_row(planned_applicant, client):
    user = planned_applicant("NON_US_IMG")
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
def test_d2_the_pathway_milestone_is_due_by_the_application_deadline(planned_applicant, milestone_of):
    user = planned_applicant("NON_US_IMG")
    pathway = milestone_of(user, "ecfmg_pathway")
    assert pathway.due_at == parse_et("2027-01-31 23:59")
    assert pathway.due_projected


@time_machine.travel(NOV_2026, tick=False)
def test_d11_the_pathway_guidance_names_this_seasons_opening_and_its_status(planned_applicant, client):
    user = planned_applicant("NON_US_IMG")
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
def test_d8_a_us_graduate_is_sent_to_the_nbme_for_step3(planned_applicant, client):
    user = planned_applicant("US_MD")
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


# --- D3 / D4: visas as dated data ---------------------------------------------------------------


def test_d3_the_travel_ban_is_a_dated_row_per_country_with_the_visa_classes(pathway_data):
    rows = {r.country: r for r in TravelBanCountry.objects.all()}
    assert len(rows) == 39  # 19 full + Palestinian Authority documents + 19 partial
    assert rows["Nigeria"].level == "partial" and "J" in rows["Nigeria"].visa_classes
    assert rows["Afghanistan"].level == "full" and {"B", "J", "H"} <= set(rows["Afghanistan"].visa_classes)
    assert "Turkmenistan" not in rows
    assert all(r.in_force_from == date(2026, 1, 1) and r.source_url and r.last_verified for r in rows.values())


@time_machine.travel(NOV_2026, tick=False)
def test_d3_a_listed_nationality_on_the_j1_path_is_a_red_risk(planned_applicant):
    user = planned_applicant("NON_US_IMG", needs_visa=True, visa_route="J1", nationality="nigeria")
    risk = next(r for r in pathway_risks(applicant=user) if r.code == "visa_travel_ban")
    assert (risk.severity, risk.milestone) == ("red", "visa_j1")
    assert "Nigeria" in risk.message and "1 Jan 2026" in risk.message
    other = planned_applicant("NON_US_IMG", needs_visa=True, visa_route="J1", nationality="India")
    assert not any(r.code == "visa_travel_ban" for r in pathway_risks(applicant=other))
    unknown = planned_applicant("NON_US_IMG", needs_visa=True, visa_route="J1")
    assert not any(r.code == "visa_travel_ban" for r in pathway_risks(applicant=unknown))


@time_machine.travel(NOV_2026, tick=False)
def test_d3_a_listed_nationality_on_the_h1b_path_is_a_red_risk_because_of_step3(planned_applicant):
    user = planned_applicant("NON_US_IMG", needs_visa=True, visa_route="H1B", nationality="Iran")
    risk = next(r for r in pathway_risks(applicant=user) if r.code == "visa_travel_ban")
    assert (risk.severity, risk.milestone) == ("red", "visa_h1b")
    assert "Step 3" in risk.message


@time_machine.travel(NOV_2026, tick=False)
def test_d3_the_profile_form_asks_for_the_optional_nationality(planned_applicant, client):
    user = planned_applicant("NON_US_IMG")
    client.force_login(user)
    page = client.get(reverse("applicant:settings_profile")).content.decode()
    assert 'name="nationality"' in page


@time_machine.travel(NOV_2026, tick=False)
def test_d3_d4_visa_guidance_reads_the_rows(planned_applicant, client):
    j1 = planned_applicant("NON_US_IMG", needs_visa=True, visa_route="J1")
    client.force_login(j1)
    page = client.get(reverse("applicant:milestone_detail", args=["visa_j1"])).content.decode()
    assert "can cause delays" not in page
    assert "Nigeria" in page and "country of nationality or residence" in page
    h1b = planned_applicant("NON_US_IMG", needs_visa=True, visa_route="H1B")
    client.force_login(h1b)
    page = client.get(reverse("applicant:milestone_detail", args=["visa_h1b"])).content.decode()
    assert "initial term to 21 Sep 2026" in page and "last checked" in page


def test_d4_the_h1b_payment_is_a_dated_row(pathway_data):
    rule = VisaRule.objects.get(key="h1b_payment")
    assert rule.amount_usd == 100_000
    assert (rule.in_force_from, rule.initial_term_to) == (date(2025, 9, 21), date(2026, 9, 21))
    assert rule.last_verified and "uscis.gov" in rule.source_url
    assert VisaRule.objects.get(key="visa_interview_location").in_force_from == date(2025, 9, 6)


# --- D5 / D12: guidance never states an unconfirmed rule as settled -----------------------------


@time_machine.travel(NOV_2026, tick=False)
def test_d5_the_step2ck_page_shows_218_with_its_secondary_status(planned_applicant, client):
    user = planned_applicant("NON_US_IMG")
    client.force_login(user)
    page = client.get(reverse("applicant:milestone_detail", args=["usmle_step2ck"])).content.decode()
    assert "218 for tests from 1 Jul 2025 (secondary source" in page


def test_d5_no_guidance_restates_a_number_a_secondary_rule_row_holds(pathway_data):
    unconfirmed = PassingStandard.objects.exclude(status="confirmed").exclude(min_score=None)
    for template in MilestoneTemplate.objects.all():
        for row in unconfirmed:
            assert f"passing score of {row.min_score}" not in template.guidance, template.key
            assert f"score is {row.min_score}" not in template.guidance, template.key


def test_d12_soap_times_come_from_the_cycle_events_with_their_status(pathway_data):
    soap = MilestoneTemplate.objects.get(key="soap")
    assert "9 a.m. ET; an accepted offer" not in soap.guidance
    text = render_guidance(soap.guidance, season=2027, today=date(2026, 11, 30))
    offers = CycleEvent.objects.get(cycle__year=2027, key="soap_offer_rounds")
    assert f"{et_date(offers.at):%-d %b %Y}" in text and "projected" in text


# --- D14-D17: the yearly projector -----------------------------------------------------------


def projected(key, at):
    return et_date(next_year_dates({key: parse_et(at)})[key])


def test_d14_eras_opens_the_first_wednesday_on_or_after_3_june():
    official = ["2022-06-08", "2023-06-07", "2024-06-05", "2025-06-04", "2026-06-03"]
    for before, after in zip(official, official[1:], strict=False):
        assert projected("eras_season_open", f"{before} 09:00") == date.fromisoformat(after)
    assert projected("eras_season_open", "2026-06-03 09:00") == date(2027, 6, 9)


def test_d15_nrmp_registration_moves_to_the_next_business_day():
    assert projected("nrmp_registration_open", "2023-09-15 12:00") == date(2024, 9, 16)  # NRMP, Sep 2024
    assert projected("nrmp_registration_open", "2028-09-15 12:00") == date(2029, 9, 17)  # not a Saturday


def test_d16_the_fellowship_match_is_the_first_wednesday_of_december():
    assert projected("mpsm_match_day", "2024-12-04 12:00") == date(2025, 12, 3)
    assert projected("mpsm_match_day", "2027-12-01 12:00") == date(2028, 12, 6)


def test_d17_each_shipped_projection_is_what_the_projector_gives(pathway_data):
    def events(year):
        return {e.key: e.at for e in CycleEvent.objects.filter(cycle__year=year)}

    assert events(2028) == next_year_dates(events(2027))
    assert events(2027)["residencycas_release"] == next_year_dates(events(2026))["residencycas_release"]


# --- D18-D22: sources and last_verified -------------------------------------------------------


def test_d18_official_or_secondary_is_derived_from_the_source():
    from milestones.sources import source_kind  # here, so that the other tests run before it exists

    assert source_kind("https://www.usmle.org/common-questions/scores") == "official"
    assert source_kind("https://ecfmg.org/certification-pathways/info-applicants.html") == "official"
    assert source_kind("https://medvily.com/?p=296") == "secondary"
    assert source_kind("https://usmle.org.example.com/") == "secondary"
    assert source_kind("") == "none"


@time_machine.travel(NOV_2026, tick=False)
def test_d18_the_step2ck_page_does_not_call_a_vendor_blog_official(planned_applicant, client):
    user = planned_applicant("NON_US_IMG")
    client.force_login(user)
    page = client.get(reverse("applicant:milestone_detail", args=["usmle_step2ck"])).content.decode()
    assert "Official source: <a href=\"https://medvily.com" not in page
    assert "Secondary source" in page


def test_d19_no_date_cites_a_medical_schools_home_page_and_every_row_was_verified(pathway_data):
    assert not CycleEvent.objects.filter(source_url__contains="md.rcm.upr.edu").exists()
    assert not CycleEvent.objects.filter(last_verified=None).exists()
    for model in (PassingStandard, AttemptLimit, OETThreshold, ScoreReleaseRule, ErasFeeSchedule, SignalAllowance):
        assert not model.objects.filter(last_verified=None).exists(), model.__name__


def test_d21_d22_unverified_start_dates_are_not_confirmed(pathway_data):
    step3_198 = PassingStandard.objects.get(exam="step3", min_score=198)
    assert step3_198.status == "secondary"
    assert PassingStandard.objects.get(exam="step3", min_score=196).effective_from == date(2016, 1, 1)
    assert "assumed" not in OETThreshold.objects.get(effective_from=date(2018, 7, 1)).note
    assert "assumed" not in PassingStandard.objects.get(exam="step1", min_score=194).note


# --- The generated rules page (README -> docs/rules.md) ------------------------------------


def test_the_committed_rules_page_is_what_the_shipped_data_generates(pathway_data, tmp_path):
    committed = Path(settings.BASE_DIR) / "docs" / "rules.md"
    call_command("rules_report", output=tmp_path / "rules.md", verbosity=0)
    generated = (tmp_path / "rules.md").read_text(encoding="utf-8")
    assert committed.read_text(encoding="utf-8") == generated
    assert "| USMLE Step 2 CK | 218 | 2025-07-01 to now | secondary | [secondary](https://medvily.com/?p=296) | 2026-11-30 |" in generated
    assert "docs/rules.md" in (Path(settings.BASE_DIR) / "README.md").read_text(encoding="utf-8")


# --- D23-D25: attempts ------------------------------------------------------------------------


def test_d23_a_passed_step_cannot_be_retaken_without_a_state_board_waiver(pathway_data):
    passed = [PastAttempt("step1", date(2025, 1, 10), True)]
    with pytest.raises(ValidationError) as refused:
        check_new_attempt(exam="step1", test_date=date(2026, 3, 1), attempts=passed)
    assert "passed" in str(refused.value) and "usmle.org" in str(refused.value)
    with pytest.raises(ValidationError):
        check_new_attempt(exam="step1", test_date=date(2026, 3, 1), attempts=passed, retake_waiver_reason="  ")
    check_new_attempt(
        exam="step1",
        test_date=date(2026, 3, 1),
        attempts=passed,
        retake_waiver_reason="My state board requires a Step 1 score within 7 years of licensure.",
    )


def test_d23_the_spacing_rule_binds_the_4th_attempt_and_later_not_only_the_last(pathway_data):
    # The 2012-2021 rule allowed 6 attempts; the 12/6-month spacing applied from the 4th.
    failed = [PastAttempt("step1", date(2015, m, 10), False) for m in (1, 4, 8)]
    with pytest.raises(ValidationError) as refused:
        check_new_attempt(exam="step1", test_date=date(2016, 1, 20), attempts=failed)
    assert "10 Feb 2016" in str(refused.value)
    check_new_attempt(exam="step1", test_date=date(2016, 2, 10), attempts=failed)
    # The audit's worked example under today's rule: a 4th no earlier than 10 Feb 2027.
    now = [PastAttempt("step2ck", date(2026, m, 10), False) for m in (1, 4, 8)]
    with pytest.raises(ValidationError) as refused:
        check_new_attempt(exam="step2ck", test_date=date(2027, 1, 20), attempts=now)
    assert "10 Feb 2027" in str(refused.value)


def test_d24_the_rule_in_force_on_the_application_date_decides(pathway_data):
    four = [PastAttempt("step1", day, False) for day in (date(2018, 1, 10), date(2018, 7, 10), date(2019, 1, 20), date(2019, 8, 20))]
    with pytest.raises(ValidationError):  # by the test date: the 4-attempt rule of July 2021
        check_new_attempt(exam="step1", test_date=date(2021, 7, 20), attempts=four)
    # Applied in June 2021: the 6-attempt rule still applied.
    check_new_attempt(exam="step1", test_date=date(2021, 7, 20), attempts=four, applied_on=date(2021, 6, 15))


def test_d25_the_step1_guidance_counts_attempts_not_failures(pathway_data):
    guidance = MilestoneTemplate.objects.get(key="usmle_step1").guidance
    assert "4 failures" not in guidance and "attempts without a pass" in guidance


def test_d5_emails_never_show_a_raw_placeholder(pathway_data):
    """Reminder emails quote the first sentences of the guidance raw: the placeholders come later."""
    from milestones.reminders.content import _guidance

    for template in MilestoneTemplate.objects.all():
        assert "[[" not in " ".join(_guidance(template)), template.key


def test_d13_d26_d29_d30_guidance_wording(pathway_data):
    def guidance(key):
        return MilestoneTemplate.objects.get(key=key).guidance

    assert "Certification of Identification" not in guidance("ecfmg_registration")
    assert "MyIntealth" in guidance("ecfmg_registration") and "couple of weeks" not in guidance("ecfmg_registration")
    assert "opens on 15 September" not in guidance("nrmp_registration")
    assert "reported for information only from 2024" in guidance("school_eligibility_check")
    assert "30 to 90 days" not in guidance("ecfmg_certification")


@time_machine.travel(NOV_2026, tick=False)
def test_d2_each_pathways_season_has_its_own_rules_row_shown_with_its_status(planned_applicant, client):
    seasons = {s.cycle_year: s for s in PathwaySeason.objects.all()}
    assert seasons[2024].pathways_3_5_graduated_from == date(2022, 1, 1)
    assert seasons[2027].status == "projected" and seasons[2027].last_verified
    user = planned_applicant("NON_US_IMG")
    client.force_login(user)
    page = client.get(reverse("applicant:milestone_detail", args=["ecfmg_pathway"])).content.decode()
    assert "for the 2027 Match, Pathways 3 to 5 need a graduation window not yet published" in page


@time_machine.travel(NOV_2026, tick=False)
def test_d1_recording_an_oet_outside_the_window_is_not_announced_as_a_pass(planned_applicant, client):
    from django.contrib.messages import get_messages

    user = planned_applicant("NON_US_IMG")
    client.force_login(user)
    form = {"oet-test_date": "2024-06-01", "oet-listening": 400, "oet-reading": 400, "oet-speaking": 400, "oet-writing": 400}
    response = client.post(reverse("applicant:milestone_oet", args=["oet_medicine"]), form)
    assert [str(m) for m in get_messages(response.wsgi_request)] == ["OET result recorded."]


@time_machine.travel(NOV_2026, tick=False)
def test_d23_d24_the_service_records_the_application_date_and_the_waiver_reason(planned_applicant, milestone_of, client):
    from milestones.services import record_exam_attempt

    user = planned_applicant("NON_US_IMG")
    step1 = milestone_of(user, "usmle_step1")
    record_exam_attempt(milestone=step1, test_date=date(2025, 3, 1), result_date=date(2025, 3, 25), passed=True, by=user)
    with pytest.raises(ValidationError):
        record_exam_attempt(milestone=step1, test_date=date(2026, 12, 10), by=user)
    retake = record_exam_attempt(
        milestone=step1,
        test_date=date(2026, 12, 10),
        applied_on=date(2026, 9, 1),
        retake_reason="The Texas board asks for a Step 1 pass within 7 years of licensure.",
        by=user,
    )
    assert retake.applied_on == date(2026, 9, 1) and "Texas" in retake.retake_reason
    client.force_login(user)
    page = client.get(reverse("applicant:milestone_detail", args=["usmle_step1"])).content.decode()
    assert 'name="attempt-applied_on"' in page and 'name="attempt-retake_reason"' in page
