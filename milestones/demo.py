"""The demo applicant's pathway: a non-US IMG (J-1) in the middle of the 2027 Match season.

Everything goes through the services, so the demo obeys the same rules as real data (prerequisites,
attempt limits, passing standards). Idempotent: each step is skipped when it is already recorded.
As of late November 2026 the dashboard shows Step 1, Step 2 CK and OET passed, the Pathway applied
for, ERAS submitted, interviews and NRMP registration under way, real upcoming deadlines (statement of
need, ROL), and an amber risk: the fourth letter of recommendation is overdue.
"""

from __future__ import annotations

from datetime import date

from django.db import transaction

from .models import ApplicantProfile, ApplicantType, MatchCycle, Milestone, USCEEntry, VisaRoute
from .services import (
    add_document,
    add_usce_entry,
    plan_pathway,
    record_exam_attempt,
    record_oet_result,
    set_status,
)

Status = Milestone.Status

# (template key, status, completed on, documents [(label, reference, date)])
DEMO_STEPS = [
    (
        "school_eligibility_check",
        Status.DONE,
        date(2024, 9, 10),
        [("World Directory Sponsor Note", "Covers graduation years 1995-2030", date(2024, 9, 10))],
    ),
    (
        "ecfmg_registration",
        Status.DONE,
        date(2024, 10, 1),
        [("USMLE/ECFMG ID", "0-912-345-6", date(2024, 10, 1))],
    ),
    (
        "usmle_registration",
        Status.DONE,
        date(2024, 11, 5),
        [("Step 1 eligibility period", "Jan-Mar 2025", date(2024, 11, 5))],
    ),
    (
        "graduation",
        Status.DONE,
        date(2025, 6, 30),
        [("Diploma", "MBBS, King Edward Medical University", date(2025, 6, 30))],
    ),
    ("usce", Status.DONE, date(2026, 5, 29), []),
    ("eras_token", Status.DONE, date(2026, 6, 8), [("ERAS token", "AAMC ID 15551234", date(2026, 6, 8))]),
    ("personal_statement", Status.DONE, date(2026, 8, 20), []),
    (
        "mspe_transcript_photo",
        Status.DONE,
        date(2026, 8, 28),
        [("MSPE and transcript uploaded by ECFMG", "", date(2026, 8, 28))],
    ),
    ("program_list", Status.DONE, date(2026, 8, 30), []),
    ("program_signals", Status.DONE, date(2026, 9, 1), []),
    (
        "eras_application",
        Status.DONE,
        date(2026, 9, 2),
        [("ERAS submission", "87 Internal Medicine programs", date(2026, 9, 2))],
    ),
    (
        "ecfmg_pathway",
        Status.IN_PROGRESS,
        None,
        [("Pathway 1 application submitted", "Licence: PMDC 123456-P", date(2026, 8, 25))],
    ),
    (
        "letters_of_recommendation",
        Status.IN_PROGRESS,
        None,
        [("Letters uploaded", "3 of 4 (chair's letter pending)", date(2026, 9, 15))],
    ),
    ("nrmp_registration", Status.IN_PROGRESS, None, [("NRMP ID", "N0912345", date(2026, 9, 16))]),
    (
        "interviews",
        Status.IN_PROGRESS,
        None,
        [("Interview invitation", "Community hospital IM program, 8 Dec 2026", date(2026, 11, 2))],
    ),
]


@transaction.atomic
def load_demo_pathway(*, applicant) -> None:
    _demo_profile(applicant)
    plan_pathway(applicant=applicant)
    milestones = {
        m.template.key: m for m in Milestone.objects.filter(applicant=applicant).select_related("template")
    }
    for key, status, on, documents in DEMO_STEPS[:3]:
        _demo_step(milestones[key], status, on, documents, by=applicant)
    # The exams come after their registrations so a pass completes them (hard prerequisites).
    _demo_exams(milestones, by=applicant)
    for key, status, on, documents in DEMO_STEPS[3:]:
        _demo_step(milestones[key], status, on, documents, by=applicant)


def _demo_profile(applicant) -> None:
    """The demo applicant's answers to onboarding; an existing profile is kept as it is."""
    ApplicantProfile.objects.get_or_create(
        user=applicant,
        defaults={
            "applicant_type": ApplicantType.NON_US_IMG,
            "graduation_date": date(2025, 6, 30),
            "needs_visa": True,
            "visa_route": VisaRoute.J1,
            "target_cycle": MatchCycle.objects.get(year=2027),
            "specialties": ["Internal Medicine"],
            "time_zone": "Asia/Karachi",
        },
    )


def _demo_step(milestone: Milestone, status, on: date | None, documents, *, by) -> None:
    """One row of DEMO_STEPS: its documents, the USCE entry for "usce", then its status."""
    # Anything already recorded means an earlier run (or the user) did it: leave the step alone.
    if milestone.documents.exists() or milestone.status != Status.NOT_STARTED:
        return
    for label, reference, day in documents:
        add_document(milestone=milestone, label=label, reference=reference, date=day, by=by)
    if milestone.template.key == "usce":
        _demo_usce(milestone, by=by)
    # Evidence may already have moved the status along.
    milestone.refresh_from_db()
    if milestone.status != status:
        set_status(milestone=milestone, status=status, by=by, completed_on=on)


def _demo_usce(milestone: Milestone, *, by) -> None:
    add_usce_entry(
        milestone=milestone,
        kind=USCEEntry.Kind.EXTERNSHIP,
        hands_on=True,
        specialty="Internal Medicine",
        site="Brooklyn community teaching hospital",
        start_date=date(2026, 3, 2),
        end_date=date(2026, 5, 29),
        supervisor="Program director (letter writer)",
        by=by,
    )


def _demo_exams(milestones: dict[str, Milestone], *, by) -> None:
    """Step 1 passed (pass/fail era), Step 2 CK with a score, OET above the ECFMG requirement."""
    if not milestones["usmle_step1"].attempts.exists():
        record_exam_attempt(
            milestone=milestones["usmle_step1"],
            test_date=date(2025, 2, 12),
            result_date=date(2025, 3, 12),
            passed=True,
            by=by,
        )
    if not milestones["usmle_step2ck"].attempts.exists():
        record_exam_attempt(
            milestone=milestones["usmle_step2ck"],
            test_date=date(2025, 9, 15),
            result_date=date(2025, 10, 15),
            score=236,
            by=by,
        )
    if not milestones["oet_medicine"].oet_results.exists():
        record_oet_result(
            milestone=milestones["oet_medicine"],
            test_date=date(2025, 11, 8),
            listening=380,
            reading=360,
            speaking=370,
            writing=340,
            candidate_number="OET-DEMO-0001",
            by=by,
        )
