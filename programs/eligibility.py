"""Eligibility explained: an applicant against a program, requirement by requirement.

Each requirement gives pass, fail or unknown, with the reason in words and the claim (and the day it was
observed) it rests on. "Unknown" is never a pass: a program is eligible only when every requirement that
applies passes. The same judgement runs in SQL for "eligible only" (programs.querysets.program_conditions);
the tests check the two agree.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date

from django.db import models

from .facts import ApplicantFacts
from .models import DirectorySettings, Program, RequirementClaim
from .querysets import JUDGED_REQUIREMENTS
from .requirements import ClaimState, Requirement


class Outcome(models.TextChoices):
    PASS = "pass", "Meets it"
    FAIL = "fail", "Does not meet it"
    UNKNOWN = "unknown", "Unknown"


@dataclass(frozen=True)
class RequirementResult:
    requirement: str
    label: str
    outcome: str
    reason: str
    claim: RequirementClaim | None
    observed_on: date | None
    stale: bool

    @property
    def source_url(self) -> str:
        return self.claim.source_url if self.claim else ""


@dataclass(frozen=True)
class Verdict:
    """The overall outcome: fail if any requirement fails, else unknown if any is unknown, else pass."""

    outcome: str
    results: list[RequirementResult] = field(default_factory=list)

    @property
    def eligible(self) -> bool:
        return self.outcome == Outcome.PASS

    @property
    def failures(self) -> list[RequirementResult]:
        return [r for r in self.results if r.outcome == Outcome.FAIL]

    @property
    def unknowns(self) -> list[RequirementResult]:
        return [r for r in self.results if r.outcome == Outcome.UNKNOWN]

    @property
    def summary(self) -> str:
        if self.failures:
            return "Not eligible: " + "; ".join(r.reason for r in self.failures)
        if self.unknowns:
            names = ", ".join(r.label for r in self.unknowns)
            return f"No requirement you fail is known, but these are unknown: {names}."
        return "Eligible: you meet every requirement the directory knows of."


def check_eligibility(
    *, profile, program: Program, facts: ApplicantFacts | None = None, settings_row: DirectorySettings | None = None
) -> Verdict:
    """Judge `profile` (ApplicantProfile) against `program`. Pass `facts` (ApplicantFacts.of(profile)) when
    judging many programs; `program.claims` is used as prefetched when it is (Program.objects.with_claims())."""
    facts = facts or ApplicantFacts.of(profile)
    claims = {claim.requirement: claim for claim in program.claims.all()}
    stale_after = settings_row or DirectorySettings.current()
    results = []
    for requirement in JUDGED_REQUIREMENTS:
        result = judge(requirement, claims.get(requirement), facts, stale_after)
        if result is not None:
            results.append(result)
    return Verdict(_overall(results), results)


def verdicts_for(*, profile, programs: Iterable[Program], facts: ApplicantFacts | None = None) -> dict[int, Verdict]:
    """Verdicts for a page of programs (fetched with .with_claims()): a constant number of queries. Pass
    the `facts` the "eligible only" filter already read (ProgramFilter.facts) to save reading them again."""
    facts, settings_row = facts or ApplicantFacts.of(profile), DirectorySettings.current()
    return {
        program.pk: check_eligibility(profile=profile, program=program, facts=facts, settings_row=settings_row)
        for program in programs
    }


def _overall(results: list[RequirementResult]) -> str:
    outcomes = {r.outcome for r in results}
    if Outcome.FAIL in outcomes:
        return Outcome.FAIL
    return Outcome.UNKNOWN if Outcome.UNKNOWN in outcomes else Outcome.PASS


def judge(requirement, claim, facts: ApplicantFacts, settings_row) -> RequirementResult | None:
    judgement = _JUDGES[requirement](claim, facts)
    if judgement is None:
        return None
    outcome, reason = judgement
    return RequirementResult(
        requirement=requirement,
        label=Requirement(requirement).label,
        outcome=outcome,
        reason=reason,
        claim=claim,
        observed_on=claim.observed_on if claim else None,
        stale=bool(claim) and claim.is_stale(facts.today, settings_row),
    )


def _unknown(claim, what: str) -> tuple[str, str] | None:
    if claim is None or claim.state == ClaimState.UNKNOWN:
        return Outcome.UNKNOWN, f"The directory does not know {what}."
    return None


def _visa(route: str, label: str):
    def judge_visa(claim, facts: ApplicantFacts):
        if not facts.needs_visa or facts.visa_route != route:
            return None
        unknown = _unknown(claim, f"whether the program sponsors the {label}")
        if unknown:
            return unknown
        if claim.value_bool:
            return Outcome.PASS, f"You need the {label}, and the program sponsors it." + _h1b_note(route, facts)
        return Outcome.FAIL, f"You need the {label}, and the program does not sponsor it."

    return judge_visa


def _h1b_note(route: str, facts: ApplicantFacts) -> str:
    # The engine's visa rule (template usmle_step3_prematch): an H-1B petition needs all three Steps passed.
    if route != "H1B" or facts.step3_passed_on is not None:
        return ""
    return " An H-1B petition also needs Step 3 passed, and none is recorded yet."


def _years(claim, facts: ApplicantFacts):
    years = facts.years_since_graduation
    unknown = _unknown(claim, "a limit on years since graduation")
    if unknown:
        return unknown
    if claim.state == ClaimState.NONE or claim.value_int >= years:
        return Outcome.PASS, f"You graduated {years} year(s) ago; the program's limit is {_limit(claim)}."
    return Outcome.FAIL, f"You graduated {years} years ago; the program accepts at most {claim.value_int}."


def _step2(claim, facts: ApplicantFacts):
    unknown = _unknown(claim, "a minimum Step 2 CK score")
    if unknown:
        return unknown
    if claim.state == ClaimState.NONE:
        return Outcome.PASS, "The program sets no minimum Step 2 CK score."
    score = facts.step2ck_score
    if score is None:
        return Outcome.UNKNOWN, f"The program wants at least {claim.value_int}; you have no Step 2 CK pass recorded."
    if score >= claim.value_int:
        return Outcome.PASS, f"Your Step 2 CK score {score} reaches the program's minimum of {claim.value_int}."
    return Outcome.FAIL, f"Your Step 2 CK score {score} is below the program's minimum of {claim.value_int}."


def _attempts(claim, facts: ApplicantFacts):
    unknown = _unknown(claim, "how many attempts the program accepts")
    if unknown:
        return unknown
    if claim.state == ClaimState.NONE:
        return Outcome.PASS, "The program sets no limit on attempts."
    attempts = facts.attempts_per_step
    if attempts is None:
        return Outcome.UNKNOWN, f"The program accepts {claim.value_int} attempt(s) per Step; you have none recorded."
    if attempts <= claim.value_int:
        return Outcome.PASS, f"Your most attempts at one Step: {attempts}; the program accepts {claim.value_int}."
    return Outcome.FAIL, f"You took a Step {attempts} times; the program accepts at most {claim.value_int}."


def _usce(claim, facts: ApplicantFacts):
    if not facts.is_img:
        return None
    unknown = _unknown(claim, "how much US clinical experience the program requires")
    if unknown:
        return unknown
    months = facts.usce_months
    if claim.state == ClaimState.NONE or claim.value_int <= months:
        return Outcome.PASS, f"You have {months} month(s) of US clinical experience; the program asks {_limit(claim)}."
    return Outcome.FAIL, f"You have {months} month(s) of US clinical experience; the program asks {claim.value_int}."


def _ecfmg(claim, facts: ApplicantFacts):
    if not facts.is_img:
        return None
    unknown = _unknown(claim, "by when the program needs your ECFMG certificate")
    if unknown:
        return unknown
    if claim.state == ClaimState.NONE:
        return Outcome.PASS, "The program needs the certificate only by the start of residency."
    needed, certified = claim.value_date, facts.ecfmg_certified_on
    if certified is not None and certified <= needed:
        return Outcome.PASS, f"Your ECFMG certificate (issued {certified}) is in time for {needed}."
    if certified is not None:
        return Outcome.FAIL, f"Your ECFMG certificate was issued {certified}, after the program's date {needed}."
    if needed < facts.today:
        return Outcome.FAIL, f"The program needed the ECFMG certificate by {needed}; none is recorded."
    return Outcome.UNKNOWN, f"The program needs the ECFMG certificate by {needed}; yours is not recorded yet."


def _step3(claim, facts: ApplicantFacts):
    if facts.step3_passed_on is not None:
        # Met whatever the program asks, so not a guess about an unknown claim.
        return Outcome.PASS, f"You passed Step 3 ({facts.step3_passed_on}), so this is met whatever the program asks."
    unknown = _unknown(claim, "whether the program wants Step 3 before ranking")
    if unknown:
        return unknown
    if claim.state == ClaimState.NONE or not claim.value_bool:
        return Outcome.PASS, "The program does not need Step 3 before ranking."
    return Outcome.FAIL, "The program needs Step 3 passed before it ranks you; you have no Step 3 pass recorded."


def _limit(claim) -> str:
    return "none" if claim.state == ClaimState.NONE else str(claim.value_int)


_JUDGES = {
    Requirement.VISA_J1: _visa("J1", "J-1"),
    Requirement.VISA_H1B: _visa("H1B", "H-1B"),
    Requirement.MAX_YEARS_SINCE_GRADUATION: _years,
    Requirement.MIN_STEP2CK: _step2,
    Requirement.MAX_ATTEMPTS: _attempts,
    Requirement.USCE_MONTHS: _usce,
    Requirement.ECFMG_CERTIFICATE_BY: _ecfmg,
    Requirement.STEP3_BEFORE_RANKING: _step3,
}
