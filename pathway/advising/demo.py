"""The demo advisor's cohort: about forty fictional students in varied states, so `make run` shows what
the cohort is for. US MD, DO, US IMG and non-US IMG students (J-1 and H-1B), on track, late and at risk.

Everything goes through the services (onboarding's "already done", exam attempts, status changes, the
students' invitations and the advisor's acceptance), so the demo obeys the rules real data does, and
relative to today: a student "on track" has done every step due by now, a "late" one left some open,
an "at risk" one booked Step 2 CK too late or is far behind. Idempotent: existing students are kept.
"""

from __future__ import annotations

from datetime import date, timedelta

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from milestones.models import ApplicantProfile, ApplicantType, MatchCycle, Milestone, VisaRoute
from milestones.services import plan_pathway, record_exam_attempt, record_steps_already_done, set_status

from ..models import User
from ..sharing import accept_invitation, invite_advisor
from .flags import refresh_risk_flags

FIRST = [
    "Aisha", "Bruno", "Chen", "Dalia", "Emeka", "Farah", "Goran", "Hana", "Ivan", "Jae",
    "Kofi", "Lena", "Mateo", "Nadia", "Omar", "Priya", "Quinn", "Rosa", "Samir", "Tara",
]  # fmt: skip
LAST = ["Abara", "Brandt", "Castillo", "Dubois", "Eze", "Fonseca", "Gupta", "Haddad", "Ito", "Jovanovic"]
SPECIALTIES = ["Internal Medicine", "Pediatrics", "Family Medicine", "Psychiatry", "General Surgery"]
# (applicant type, visa route) in turn: every kind of student the issue names.
KINDS = [
    (ApplicantType.US_MD, ""),
    (ApplicantType.US_DO, ""),
    (ApplicantType.US_IMG, ""),
    (ApplicantType.NON_US_IMG, VisaRoute.J1),
    (ApplicantType.US_MD, ""),
    (ApplicantType.NON_US_IMG, VisaRoute.H1B),
    (ApplicantType.US_DO, ""),
    (ApplicantType.NON_US_IMG, VisaRoute.J1),
]
# How far along each student is, in turn: most on track, some late, a few at risk.
STATES = ["on_track", "on_track", "late", "on_track", "at_risk", "on_track", "late", "behind"]
COHORT_SIZE = 40
AHEAD = ["usmle_step2ck", "oet_medicine", "ecfmg_pathway", "ecfmg_exam_reqs_verified", "nrmp_registration"]
PASS_DATES = {"step1": date(2025, 3, 4), "step2ck": date(2025, 10, 7), "step3": date(2025, 12, 2)}


def load_demo_cohort(*, advisor: User, size: int = COHORT_SIZE) -> int:
    """Create the cohort's students that do not exist yet and share their pathways with `advisor`;
    returns how many were created."""
    cycle = MatchCycle.objects.get(year=2027)
    created = []
    for index in range(size):
        first, last = FIRST[index % len(FIRST)], LAST[(index + index // len(FIRST)) % len(LAST)]
        email = f"{first.lower()}.{last.lower()}@example.com"
        if User.objects.filter(email=email).exists():
            continue
        created.append(_student(index, f"{first} {last}", email, cycle, advisor))
    refresh_risk_flags(applicant_ids=[s.pk for s in created])
    return len(created)


@transaction.atomic
def _student(index: int, name: str, email: str, cycle, advisor) -> User:
    kind, visa = KINDS[index % len(KINDS)]
    student = User.objects.create_user(
        email=email, password=None, name=name, role=User.Role.APPLICANT
    )
    ApplicantProfile.objects.create(
        user=student,
        applicant_type=kind,
        graduation_date=date(2026, 5, 29) if kind in (ApplicantType.US_MD, ApplicantType.US_DO) else date(2025, 6, 30),
        needs_visa=bool(visa),
        visa_route=visa,
        target_cycle=cycle,
        specialties=[SPECIALTIES[index % len(SPECIALTIES)]],
    )
    plan_pathway(applicant=student)
    # The states turn at another pace than the kinds, so every kind meets every state.
    _progress(student, STATES[(index + index // len(KINDS)) % len(STATES)], index)
    # Most share everything but their notes (the default); every fifth keeps their scores to themselves.
    invitation = invite_advisor(applicant=student, email=advisor.email, shares={"shares_scores": index % 5 != 0})
    accept_invitation(advisor=advisor, invitation=invitation)
    return student


def _progress(student: User, state: str, index: int) -> None:
    now = timezone.now()
    horizon = {"on_track": now + timedelta(days=10), "late": now - timedelta(days=60 + index)}.get(state, now)
    if state == "behind":
        horizon = now - timedelta(days=200)
    steps = Milestone.objects.of_applicant(student).filter(template__contingency=False).order_by("template__order")
    due = [m for m in steps if m.due_at and m.due_at < horizon]
    last = max((m.template.order for m in due), default=-1)
    # Undated steps (the school check, COMLEX) come with the dated ones around them.
    for milestone in steps:
        if milestone in due or (milestone.due_at is None and milestone.template.order < last):
            _done(student, milestone.template.key)
    if state == "on_track":
        # The front runners: their exams and Pathway verified by ECFMG already (IMGs).
        for key in AHEAD:
            _done(student, key)
    if state == "at_risk":
        step2 = Milestone.objects.of_applicant(student).filter(template__key="usmle_step2ck").first()
        if step2 is not None and step2.is_open:
            # Booked so late that the result is projected after the rank order list deadline.
            record_exam_attempt(milestone=step2, test_date=now.date() + timedelta(days=75), by=student)
        elif step2 is None:
            _leave_in_progress(student, "interviews")


def _done(student: User, key: str) -> None:
    """Mark one step done through onboarding's service; a step its rules refuse (a prerequisite left
    open on purpose) stays open."""
    try:
        with transaction.atomic():
            record_steps_already_done(applicant=student, keys=[key], pass_dates=PASS_DATES, by=student)
    except ValidationError:
        pass


def _leave_in_progress(student: User, key: str) -> None:
    milestone = Milestone.objects.of_applicant(student).filter(template__key=key).first()
    if milestone is not None and milestone.is_open:
        set_status(milestone=milestone, status=Milestone.Status.IN_PROGRESS, by=student)
