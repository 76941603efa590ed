"""plan_pathway: exactly the milestones that apply, per applicant type and visa route; re-planning."""

from __future__ import annotations

from datetime import date

import pytest

from milestones.models import ApplicantProfile, MatchCycle, Milestone
from milestones.services import add_document, plan_pathway, save_profile

pytestmark = pytest.mark.django_db

COMMON = {
    "graduation", "eras_token", "personal_statement", "letters_of_recommendation", "mspe_transcript_photo",
    "program_list", "program_signals", "eras_application", "nrmp_registration", "interviews", "rank_order_list",
    "match_week", "match_result", "contract_onboarding", "state_training_license", "residency_start",
    "full_license", "residency_completion", "board_certification",
    "soap",  # issue 9: a contingency on every pathway (it was an opt-in nothing could turn on)
}  # fmt: skip
USMLE = {"usmle_step1", "usmle_step2ck", "usmle_step3"}
IMG = COMMON | USMLE | {
    "school_eligibility_check", "ecfmg_registration", "usmle_registration", "oet_medicine", "ecfmg_pathway",
    "ecfmg_exam_reqs_verified", "ecfmg_certification", "usce", "ecfmg_permanent_validation",
}  # fmt: skip
EXPECTED = {
    ("US_MD", ""): COMMON | USMLE | {"nbme_registration"},
    ("US_DO", ""): COMMON | {"comlex_level1", "comlex_level2ce"},
    ("US_IMG", ""): IMG,
    ("NON_US_IMG", "J1"): IMG | {"statement_of_need", "visa_j1", "j1_212e_resolution"},
    ("NON_US_IMG", "H1B"): IMG | {"usmle_step3_prematch", "visa_h1b"},
    ("NON_US_IMG", ""): IMG,  # green-card holder: the NRMP category, but no visa milestones
}


def keys(user):
    return set(Milestone.objects.applicable().filter(applicant=user).values_list("template__key", flat=True))


@pytest.mark.parametrize(("applicant_type", "visa_route"), list(EXPECTED))
def test_it_creates_exactly_the_milestones_that_apply(planned_applicant, applicant_type, visa_route):
    user = planned_applicant(applicant_type, needs_visa=bool(visa_route), visa_route=visa_route)

    assert keys(user) == EXPECTED[(applicant_type, visa_route)]


def test_optional_milestones_come_only_when_opted_in(planned_applicant):
    user = planned_applicant("US_MD", opted_in=["couples_link"])

    assert keys(user) == EXPECTED[("US_MD", "")] | {"couples_link"}


def test_it_is_idempotent_and_cheap(planned_applicant, django_assert_max_num_queries):
    user = planned_applicant("NON_US_IMG", needs_visa=True, visa_route="J1")
    before = list(Milestone.objects.filter(applicant=user).values_list("pk", "due_at", "is_applicable"))

    # Profile, templates, milestones, events: a handful, not one per milestone.
    with django_assert_max_num_queries(8):
        plan_pathway(applicant=user)

    assert (
        list(Milestone.objects.filter(applicant=user).values_list("pk", "due_at", "is_applicable")) == before
    )


def test_replanning_hides_what_no_longer_applies_and_keeps_its_evidence(planned_applicant, milestone_of):
    user = planned_applicant("NON_US_IMG", needs_visa=True, visa_route="J1")
    add_document(milestone=milestone_of(user, "statement_of_need"), label="Request sent", by=user)

    ApplicantProfile.objects.filter(user=user).update(needs_visa=False, visa_route="")
    plan_pathway(applicant=user)

    hidden = milestone_of(user, "statement_of_need")
    assert not hidden.is_applicable
    assert hidden.documents.count() == 1
    assert keys(user) == EXPECTED[("NON_US_IMG", "")]

    ApplicantProfile.objects.filter(user=user).update(needs_visa=True, visa_route="J1")
    plan_pathway(applicant=user)
    assert milestone_of(user, "statement_of_need").is_applicable


def test_switching_cycle_moves_every_anchored_deadline(planned_applicant, milestone_of):
    user = planned_applicant("NON_US_IMG", needs_visa=True, visa_route="J1")
    rol_2027 = milestone_of(user, "rank_order_list").due_at
    graduation = milestone_of(user, "graduation").due_at

    ApplicantProfile.objects.filter(user=user).update(target_cycle=MatchCycle.objects.get(year=2026))
    plan_pathway(applicant=user)

    assert milestone_of(user, "rank_order_list").due_at.isoformat() == "2026-03-05T02:00:00+00:00"
    assert milestone_of(user, "rank_order_list").due_at != rol_2027
    # Applicant-date deadlines do not depend on the cycle.
    assert milestone_of(user, "graduation").due_at == graduation


def test_a_deactivated_template_stops_applying(planned_applicant, milestone_of):
    from milestones.models import MilestoneTemplate

    user = planned_applicant("US_MD", graduation_date=date(2026, 5, 20))
    MilestoneTemplate.objects.filter(key="interviews").update(is_active=False)
    plan_pathway(applicant=user)

    assert not milestone_of(user, "interviews").is_applicable


def test_save_profile_saves_and_replans_in_one_go_when_asked(planned_applicant):
    user = planned_applicant("NON_US_IMG", needs_visa=True, visa_route="J1")
    profile = ApplicantProfile.objects.get(user=user)
    profile.visa_route = "H1B"

    save_profile(profile=profile, replan=False, by=user)
    assert ApplicantProfile.objects.get(user=user).visa_route == "H1B"
    assert "visa_j1" in keys(user)  # not re-planned: the caller said the answers did not change the plan

    save_profile(profile=profile, replan=True, by=user)
    assert keys(user) == EXPECTED[("NON_US_IMG", "H1B")]
    assert profile.history.latest().history_user == user


def test_save_profile_is_one_transaction(planned_applicant, monkeypatch):
    from milestones.services import profiles

    user = planned_applicant("US_MD")
    profile = ApplicantProfile.objects.get(user=user)
    profile.specialties = ["Pediatrics"]

    def fail(**kwargs):
        raise RuntimeError("planning failed")

    monkeypatch.setattr(profiles, "plan_pathway", fail)
    with pytest.raises(RuntimeError):
        save_profile(profile=profile, replan=True, by=user)
    assert ApplicantProfile.objects.get(user=user).specialties != ["Pediatrics"]
