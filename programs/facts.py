"""What the eligibility checks know about an applicant, read once from the engine's profile and evidence.

Nothing here is typed twice: the visa route and graduation date come from the profile; Step scores and
attempts from the recorded exam attempts; US clinical experience from the USCE entries on the `usce`
milestone; the ECFMG certificate from the `ecfmg_certification` milestone (done, with its date). Three
queries, whatever the number of programs checked afterwards.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from milestones.models import ApplicantProfile, Exam, ExamAttempt, Milestone, USCEEntry
from pathway.lib.times import applicant_today

ECFMG_CERTIFICATE_KEY = "ecfmg_certification"
# Research counts as US experience but not as clinical experience (domain.md §7), so it is left out.
CLINICAL_USCE_KINDS = (
    USCEEntry.Kind.ELECTIVE,
    USCEEntry.Kind.SUB_INTERNSHIP,
    USCEEntry.Kind.EXTERNSHIP,
    USCEEntry.Kind.OBSERVERSHIP,
)
DAYS_PER_MONTH = 365.25 / 12
STEPS = (Exam.STEP1, Exam.STEP2CK, Exam.STEP3)


@dataclass(frozen=True)
class ApplicantFacts:
    today: date
    is_img: bool
    needs_visa: bool
    visa_route: str  # "J1", "H1B" or ""
    graduation_date: date
    years_since_graduation: int
    step2ck_score: int | None  # the score of the latest passed attempt, None when none is recorded
    step2ck_score_on: date | None
    attempts_per_step: int | None  # most attempts at any one Step; None when no attempt is recorded
    usce_months: int | None  # whole months of clinical USCE (IMGs); None for US graduates
    ecfmg_certified_on: date | None
    step3_passed_on: date | None

    @classmethod
    def of(cls, profile: ApplicantProfile, today: date | None = None) -> ApplicantFacts:
        today = today or applicant_today(profile.user)
        attempts = list(
            ExamAttempt.objects.filter(milestone__applicant_id=profile.user_id, exam__in=STEPS)
            .order_by("test_date", "pk")
            .values("exam", "test_date", "result_date", "passed", "score")
        )
        step2 = [a for a in attempts if a["exam"] == Exam.STEP2CK and a["passed"] and a["score"]]
        step3 = [a for a in attempts if a["exam"] == Exam.STEP3 and a["passed"]]
        counts = [sum(1 for a in attempts if a["exam"] == exam) for exam in STEPS]
        return cls(
            today=today,
            is_img=profile.is_img,
            needs_visa=profile.needs_visa,
            visa_route=profile.visa_route if profile.needs_visa else "",
            graduation_date=profile.graduation_date,
            years_since_graduation=whole_years(profile.graduation_date, today),
            step2ck_score=step2[-1]["score"] if step2 else None,
            step2ck_score_on=(step2[-1]["result_date"] or step2[-1]["test_date"]) if step2 else None,
            attempts_per_step=max(counts) if attempts else None,
            usce_months=_usce_months(profile.user_id) if profile.is_img else None,
            ecfmg_certified_on=_ecfmg_certified_on(profile.user_id) if profile.is_img else None,
            step3_passed_on=(step3[0]["result_date"] or step3[0]["test_date"]) if step3 else None,
        )


def whole_years(start: date, end: date) -> int:
    """Whole years from `start` to `end` (0 when `start` is in the future: a student has not graduated)."""
    if end <= start:
        return 0
    years = end.year - start.year
    return years - ((end.month, end.day) < (start.month, start.day))


def _usce_months(applicant_id: int) -> int:
    """Whole months of clinical US experience; overlapping rotations count once."""
    spans = sorted(
        USCEEntry.objects.filter(milestone__applicant_id=applicant_id, kind__in=CLINICAL_USCE_KINDS)
        .values_list("start_date", "end_date")
    )
    days, current_start, current_end = 0, None, None
    for start, end in spans:
        if current_end is not None and start <= current_end:
            current_end = max(current_end, end)
            continue
        if current_end is not None:
            days += (current_end - current_start).days + 1
        current_start, current_end = start, end
    if current_end is not None:
        days += (current_end - current_start).days + 1
    return int(days / DAYS_PER_MONTH)


def _ecfmg_certified_on(applicant_id: int) -> date | None:
    milestone = (
        Milestone.objects.applicable()
        .filter(applicant_id=applicant_id, template__key=ECFMG_CERTIFICATE_KEY, status=Milestone.Status.DONE)
        .values("completed_on")
        .first()
    )
    return milestone["completed_on"] if milestone else None
