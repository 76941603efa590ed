"""Eligibility explained: per requirement pass / fail / unknown with the claim and its date; unknown is
never a pass; the SQL filter agrees with the explanation."""

from __future__ import annotations

from datetime import date

import pytest

from milestones.services import add_usce_entry, save_profile
from programs.eligibility import Outcome, check_eligibility
from programs.facts import ApplicantFacts
from programs.models import Program

from .conftest import OBSERVED, milestone, record_step

pytestmark = pytest.mark.django_db

FRIENDLY = {
    "visa_j1": "yes", "visa_h1b": "yes", "max_years_since_graduation": "5", "min_step2ck": "none",
    "max_attempts": "none", "usce_months_required": "0", "ecfmg_certificate_by": "none",
    "step3_before_ranking": "no",
}


def outcomes(verdict):
    return {r.requirement: r.outcome for r in verdict.results}


def test_h1b_applicant_without_step3_is_not_eligible_where_step3_comes_before_ranking(applicant, make_program):
    profile = applicant(visa_route="H1B")
    program = make_program("9999140C0", **(FRIENDLY | {"visa_j1": "no", "step3_before_ranking": "yes"}))

    verdict = check_eligibility(profile=profile, program=program)

    assert verdict.outcome == Outcome.FAIL
    assert outcomes(verdict)["visa_h1b"] == Outcome.PASS
    visa = next(r for r in verdict.results if r.requirement == "visa_h1b")
    assert "petition also needs Step 3" in visa.reason  # the engine's H-1B rule, said where it matters
    step3 = next(r for r in verdict.failures if r.requirement == "step3_before_ranking")
    assert "Step 3" in step3.reason and step3.observed_on == OBSERVED
    assert step3.claim.source_url == "https://example.org/9999140C0"
    assert "Step 3" in verdict.summary
    assert not Program.objects.eligible_for(profile).exists()


def test_switching_the_profile_to_j1_changes_the_verdict(applicant, make_program):
    profile = applicant(visa_route="H1B")
    h1b_only = make_program("9999140C0", **(FRIENDLY | {"visa_j1": "no"}))
    j1_only = make_program("9999140C1", **(FRIENDLY | {"visa_h1b": "no"}))
    assert check_eligibility(profile=profile, program=h1b_only).outcome == Outcome.PASS
    assert check_eligibility(profile=profile, program=j1_only).outcome == Outcome.FAIL
    assert list(Program.objects.eligible_for(profile)) == [h1b_only]

    profile.visa_route = "J1"
    save_profile(profile=profile, replan=True, by=profile.user)

    verdict = check_eligibility(profile=profile, program=h1b_only)
    assert verdict.outcome == Outcome.FAIL
    assert [r.requirement for r in verdict.failures] == ["visa_j1"]
    assert "J-1" in verdict.failures[0].reason
    assert check_eligibility(profile=profile, program=j1_only).outcome == Outcome.PASS
    assert list(Program.objects.eligible_for(profile)) == [j1_only]


def test_an_unknown_requirement_is_unknown_never_a_pass(applicant, make_program):
    profile = applicant(visa_route="J1")
    stated_unknown = make_program("9999140C0", **(FRIENDLY | {"visa_j1": ""}))  # claim absent
    program = make_program("9999140C1", **FRIENDLY)
    from programs.services.claims import record_claim

    record_claim(program=program, requirement="max_years_since_graduation", value="", source_kind="list",
                 observed_on=date(2026, 11, 10))  # now explicitly unknown

    for candidate, requirement in ((stated_unknown, "visa_j1"), (program, "max_years_since_graduation")):
        verdict = check_eligibility(profile=profile, program=candidate)
        assert outcomes(verdict)[requirement] == Outcome.UNKNOWN
        assert verdict.outcome == Outcome.UNKNOWN and not verdict.eligible
    assert not Program.objects.eligible_for(profile).exists()
    assert set(Program.objects.eligible_for(profile, include_unknown=True)) == {stated_unknown, program}


def test_scores_attempts_and_usce_come_from_the_recorded_evidence(applicant, make_program):
    profile = applicant(visa_route="J1", graduation_date=date(2020, 6, 30))
    user = profile.user
    record_step(user, "usmle_step1", passed=False, test_date=date(2024, 1, 10))
    record_step(user, "usmle_step1", passed=True, test_date=date(2024, 9, 10))
    record_step(user, "usmle_step2ck", score=238, test_date=date(2025, 3, 3))
    add_usce_entry(milestone=milestone(user, "usce"), kind="externship", hands_on=True, specialty="IM",
                   site="Fictional Clinic", start_date=date(2026, 1, 1), end_date=date(2026, 3, 31), by=user)
    facts = ApplicantFacts.of(profile)
    assert (facts.years_since_graduation, facts.step2ck_score, facts.attempts_per_step, facts.usce_months) == (
        6, 238, 2, 2,
    )
    program = make_program("9999140C0", **(FRIENDLY | {
        "max_years_since_graduation": "5", "min_step2ck": "240", "max_attempts": "1", "usce_months_required": "3",
    }))

    verdict = check_eligibility(profile=profile, program=program)

    assert {r.requirement for r in verdict.failures} == {
        "max_years_since_graduation", "min_step2ck", "max_attempts", "usce_months_required",
    }
    assert "238" in next(r.reason for r in verdict.failures if r.requirement == "min_step2ck")


def test_ecfmg_certificate_date_is_judged_against_the_milestone(applicant, make_program):
    from milestones.services import set_status

    profile = applicant(visa_route="J1")
    due = make_program("9999140C0", **(FRIENDLY | {"ecfmg_certificate_by": "2027-02-24"}))
    past = make_program("9999140C1", **(FRIENDLY | {"ecfmg_certificate_by": "2026-10-01"}))
    assert outcomes(check_eligibility(profile=profile, program=due))["ecfmg_certificate_by"] == Outcome.UNKNOWN
    assert outcomes(check_eligibility(profile=profile, program=past))["ecfmg_certificate_by"] == Outcome.FAIL

    certificate = milestone(profile.user, "ecfmg_certification")
    certificate.status = "in_progress"
    certificate.save()
    from milestones.models import Milestone

    Milestone.objects.filter(applicant=profile.user).exclude(pk=certificate.pk).update(status="done")
    set_status(milestone=certificate, status="done", by=profile.user, completed_on=date(2026, 11, 1))
    assert outcomes(check_eligibility(profile=profile, program=due))["ecfmg_certificate_by"] == Outcome.PASS


def test_us_graduates_are_not_judged_on_visa_usce_or_ecfmg(applicant, make_program):
    profile = applicant("US_MD", graduation_date=date(2026, 5, 15))
    program = make_program("9999140C0", max_years_since_graduation="1", step3_before_ranking="no",
                           min_step2ck="none", max_attempts="none")
    verdict = check_eligibility(profile=profile, program=program)
    assert set(outcomes(verdict)) == {
        "max_years_since_graduation", "min_step2ck", "max_attempts", "step3_before_ranking",
    }
    assert verdict.outcome == Outcome.PASS


@pytest.mark.parametrize("applicant_type, route", [("NON_US_IMG", "J1"), ("NON_US_IMG", "H1B"), ("NON_US_IMG", ""),
                                                   ("US_MD", "")])
def test_the_sql_filter_agrees_with_the_explanation_on_the_demo_set(applicant, specialties, route, applicant_type):
    from programs.demo import load_demo_programs
    from programs.eligibility import verdicts_for

    load_demo_programs()
    profile = applicant(applicant_type, visa_route=route)
    record_step(profile.user, "usmle_step2ck", score=236, test_date=date(2025, 9, 1))
    programs = list(Program.objects.with_claims())
    verdicts = verdicts_for(profile=profile, programs=programs)

    strict = {p.pk for p in programs if verdicts[p.pk].outcome == Outcome.PASS}
    not_failed = {p.pk for p in programs if verdicts[p.pk].outcome != Outcome.FAIL}
    assert set(Program.objects.eligible_for(profile).values_list("pk", flat=True)) == strict
    assert set(Program.objects.eligible_for(profile, include_unknown=True).values_list("pk", flat=True)) == not_failed
    assert strict and not_failed - strict and len(not_failed) < len(programs)  # the demo shows every outcome


def test_the_sql_columns_follow_every_change_of_a_claim(applicant, make_program, client, root):
    """Recorded, changed in the admin, deleted: "eligible only" always reads the current claim."""
    from django.urls import reverse

    from programs.models import RequirementClaim

    profile = applicant(visa_route="J1")
    program = make_program("9999140C0", **FRIENDLY)
    assert list(Program.objects.eligible_for(profile)) == [program]

    claim = RequirementClaim.objects.get(program=program, requirement="visa_j1")
    client.force_login(root)
    response = client.post(reverse("admin:programs_requirementclaim_change", args=[claim.pk]), {
        "program": program.pk, "requirement": "visa_j1", "state": "known", "value_bool": "false",
        "value_int": "", "value_date": "", "value_text": "", "source_url": "https://example.org/x",
        "source_kind": "advisor", "observed_on": "2026-11-20", "note": "",
    })
    assert response.status_code == 302, response.context["adminform"].form.errors
    assert not Program.objects.eligible_for(profile).exists()
    assert check_eligibility(profile=profile, program=program).failures[0].claim.verified_by == root

    RequirementClaim.objects.get(pk=claim.pk).delete()
    program.refresh_from_db()
    assert program.req_visa_j1 is None
    assert not Program.objects.eligible_for(profile).exists()
    assert list(Program.objects.eligible_for(profile, include_unknown=True)) == [program]
