"""Evidence: exam attempts, OET results, documents and USCE entries, and their removal."""

from __future__ import annotations

from datetime import date, timedelta

from django.core.exceptions import ObjectDoesNotExist, ValidationError
from django.db import transaction

from pathway.lib.times import applicant_today

from .. import rules as rule_checks
from ..models import (
    USMLE_SCORE_MAX,
    USMLE_SCORE_MIN,
    ApplicantProfile,
    DocumentEvidence,
    EvidenceKind,
    Exam,
    ExamAttempt,
    Milestone,
    OETResult,
    USCEEntry,
)
from ..versions import changes_pathway, of_milestone
from .status import CLOSED, Status, _require_applicable, missing_hard_prerequisites, set_status

# How far ahead a booked test or a planned date may be entered; beyond that it is almost surely a typo.
MAX_DAYS_AHEAD = 365


def _progress_after_evidence(milestone: Milestone, *, passed: bool | None, on: date, by) -> None:
    """Evidence moves the milestone along: a pass completes it when the prerequisites allow.

    A pass recorded while a hard prerequisite is still open (e.g. Step 1 passed before the exam
    registration was ticked off) leaves the milestone in progress rather than refusing the evidence:
    the result is a fact, and the applicant can complete the step once the prerequisite is done.
    """
    if milestone.status in CLOSED:
        return
    if passed and not missing_hard_prerequisites(milestone):
        set_status(
            milestone=milestone,
            status=Status.DONE,
            by=by,
            completed_on=min(on, applicant_today(milestone.applicant)),
        )
    elif milestone.status == Status.NOT_STARTED:
        set_status(milestone=milestone, status=Status.IN_PROGRESS, by=by)


def _evidence_milestone(milestone: Milestone, kind: str, what: str) -> Milestone:
    milestone = Milestone.objects.select_related("template", "applicant__profile").get(pk=milestone.pk)
    _require_applicable(milestone)
    if milestone.template.evidence != kind:
        raise ValidationError(f"{milestone.template.title} does not record {what}.")
    return milestone


def _check_not_too_far_ahead(day: date | None, field: str, today: date) -> None:
    if day and day > today + timedelta(days=MAX_DAYS_AHEAD):
        raise ValidationError({field: "That date is more than a year ahead; check the year."})


@transaction.atomic
@changes_pathway(of_milestone)
def record_exam_attempt(
    *, milestone, test_date, result_date=None, passed=None, score=None, applied_on=None, retake_reason="", by
) -> ExamAttempt:
    """Record a USMLE attempt (booked or taken), checked against the rule tables in force on its date.

    Only a score: `passed` is derived from the passing standard in force on the test date. A pass
    completes the milestone when its hard prerequisites are done, otherwise it moves to in progress.

    One Step is sat at most once a day, so an attempt on a day already recorded is that attempt: a
    double submission returns the recorded row, and a result for a booked test fills it in (see
    `_same_day_attempt`).
    """
    milestone = _evidence_milestone(milestone, EvidenceKind.EXAM, "USMLE attempts")
    exam = milestone.template.exam
    if not exam:
        raise ValidationError(f"{milestone.template.title} has no USMLE Step configured.")
    _check_attempt_dates(
        test_date=test_date,
        result_date=result_date,
        has_result=passed is not None or score is not None,
        today=applicant_today(milestone.applicant),
    )
    if score is not None:
        passed = _passed_by_score(exam=exam, test_date=test_date, score=score, passed=passed)
    _check_step3_booking(milestone, test_date=test_date, today=applicant_today(milestone.applicant))
    _lock_exam_milestones(milestone)
    result = {"result_date": result_date, "passed": passed, "score": score}
    attempt = ExamAttempt.objects.filter(milestone=milestone, exam=exam, test_date=test_date).first()
    if attempt is not None:
        if not _same_day_attempt(attempt, result):
            return attempt
    else:
        _check_attempt_allowed(
            milestone, exam=exam, test_date=test_date, applied_on=applied_on, retake_reason=retake_reason
        )
        attempt = ExamAttempt.objects.create(
            milestone=milestone,
            exam=exam,
            test_date=test_date,
            applied_on=applied_on,
            retake_reason=retake_reason.strip(),
            **result,
        )
    _progress_after_evidence(milestone, passed=attempt.passed, on=attempt.result_date or test_date, by=by)
    return attempt


def _check_step3_booking(milestone: Milestone, *, test_date: date, today: date) -> None:
    """Step 3 cannot be booked before its hard prerequisites are done: the FSMB (or NBME) takes the
    application only from a graduate, and from an IMG only with the ECFMG certificate (the template's
    source). A result already out is a fact and is recorded whatever the ticks say."""
    if milestone.template.exam != Exam.STEP3 or test_date <= today:
        return
    missing = missing_hard_prerequisites(milestone)
    if missing:
        titles = "; ".join(m.template.title for m in missing)
        raise ValidationError(
            {"test_date": f"Step 3 can only be booked once these are done: {titles}. Mark them done first."}
        )


def _same_day_attempt(attempt: ExamAttempt, result: dict) -> bool:
    """Merge a submission into the attempt already recorded on its day; True when that changed it.

    What the submission leaves empty stays as recorded (a repeated booking changes nothing); what the
    record leaves empty is filled in (the result of a booked test). A value that contradicts the
    recorded one is refused: guessing which is right could hide a mistake, so the applicant removes
    the wrong attempt first.
    """
    changed = {}
    for name, value in result.items():
        recorded = getattr(attempt, name)
        if value is None or value == recorded:
            continue
        if recorded is not None:
            raise ValidationError(
                {
                    "test_date": f"An attempt on {attempt.test_date:%-d %b %Y} is already recorded with "
                    "another result; remove it first if it is wrong."
                }
            )
        changed[name] = value
    if not changed:
        return False
    for name, value in changed.items():
        setattr(attempt, name, value)
    attempt.save(update_fields=list(changed))
    return True


def _check_attempt_dates(*, test_date: date, result_date: date | None, has_result: bool, today: date) -> None:
    """A booked test may lie ahead (within a year); a result needs a test that took place, and a date."""
    _check_not_too_far_ahead(test_date, "test_date", today)
    if test_date > today and (has_result or result_date):
        raise ValidationError({"passed": "A result cannot be recorded for a test that has not happened yet."})
    if result_date and result_date < test_date:
        raise ValidationError({"result_date": "The result cannot come before the test date."})
    if result_date and result_date > today:
        raise ValidationError({"result_date": "The result date cannot be in the future."})


def _passed_by_score(*, exam: str, test_date: date, score: int, passed: bool | None) -> bool | None:
    """`passed` as the score decides it under the standard in force on the test date.

    The score wins over what the applicant ticked; a contradiction is refused rather than guessed at.
    Without a standard on file the score cannot be judged, so the applicant's `passed` stands.
    """
    if not USMLE_SCORE_MIN <= score <= USMLE_SCORE_MAX:
        raise ValidationError({"score": f"USMLE scores run from {USMLE_SCORE_MIN} to {USMLE_SCORE_MAX}."})
    judgement = rule_checks.judge_score(exam=exam, test_date=test_date, score=score)
    standard = rule_checks.standard_in_force(exam=exam, day=test_date)
    if standard is not None and standard.pass_fail_only:
        raise ValidationError({"score": judgement.reason})
    if judgement.passed is None:
        return passed
    if passed is not None and passed != judgement.passed:
        raise ValidationError({"passed": f"That does not match the score: {judgement.reason}"})
    return judgement.passed


def _lock_exam_milestones(milestone: Milestone) -> None:
    """Lock the applicant's exam milestones: concurrent submissions (a double click, a script's retry)
    then run one after the other, so they cannot both pass the attempt limit, nor both miss the
    attempt the other is recording on the same day."""
    list(
        Milestone.objects.select_for_update().filter(
            applicant_id=milestone.applicant_id, template__evidence=EvidenceKind.EXAM
        )
    )


def _check_attempt_allowed(
    milestone: Milestone, *, exam: str, test_date: date, applied_on=None, retake_reason: str = ""
) -> None:
    """The attempt-limit rules, over all the applicant's attempts at every Step (under the lock above),
    by the rule in force on the application date when it is given; a retake of a passed Step needs a reason."""
    previous = [
        rule_checks.PastAttempt(a.exam, a.test_date, a.passed)
        for a in ExamAttempt.objects.filter(milestone__applicant_id=milestone.applicant_id)
    ]
    rule_checks.check_new_attempt(
        exam=exam,
        test_date=test_date,
        attempts=previous,
        applied_on=applied_on,
        retake_waiver_reason=retake_reason,
    )


@transaction.atomic
@changes_pathway(of_milestone)
def record_oet_result(
    *, milestone, test_date, listening, reading, speaking, writing, candidate_number="", by
) -> OETResult:
    milestone = _evidence_milestone(milestone, EvidenceKind.OET, "OET results")
    scores = {"listening": listening, "reading": reading, "speaking": speaking, "writing": writing}
    errors = {
        name: "OET sub-test scores run from 0 to 500."
        for name, value in scores.items()
        if not 0 <= value <= 500
    }
    if errors:
        raise ValidationError(errors)
    if test_date > applicant_today(milestone.applicant):
        raise ValidationError({"test_date": "Results can only be recorded for a test that has taken place."})
    result = OETResult.objects.create(
        milestone=milestone, test_date=test_date, candidate_number=candidate_number.strip(), **scores
    )
    judgement = rule_checks.judge_oet(test_date=test_date, season=target_season(milestone), **scores)
    _progress_after_evidence(milestone, passed=judgement.passed, on=test_date, by=by)
    return result


@transaction.atomic
@changes_pathway(of_milestone)
def add_document(*, milestone, label, reference="", date=None, note="", by) -> DocumentEvidence:
    """A date or a number for any milestone (IDs, submission dates, certificates): not only 'document' ones."""
    milestone = Milestone.objects.select_related("applicant__profile").get(pk=milestone.pk)
    _require_applicable(milestone)
    if not label.strip():
        raise ValidationError({"label": "Say what this is (for example: ECFMG ID)."})
    _check_not_too_far_ahead(date, "date", applicant_today(milestone.applicant))
    document = DocumentEvidence.objects.create(
        milestone=milestone, label=label.strip(), reference=reference.strip(), date=date, note=note.strip()
    )
    _progress_after_evidence(milestone, passed=False, on=date or applicant_today(milestone.applicant), by=by)
    return document


@transaction.atomic
@changes_pathway(of_milestone)
def add_usce_entry(
    *, milestone, kind, hands_on, specialty, site, start_date, end_date, supervisor="", by
) -> USCEEntry:
    milestone = _evidence_milestone(milestone, EvidenceKind.USCE, "US clinical experience")
    if kind not in USCEEntry.Kind.values:
        raise ValidationError({"kind": f"Unknown kind {kind!r}."})
    errors = {}
    if not specialty.strip():
        errors["specialty"] = "Give the specialty."
    if not site.strip():
        errors["site"] = "Give the hospital or clinic."
    if end_date < start_date:
        errors["end_date"] = "The end date cannot be before the start date."
    if errors:
        raise ValidationError(errors)
    _check_not_too_far_ahead(start_date, "start_date", applicant_today(milestone.applicant))
    entry = USCEEntry.objects.create(
        milestone=milestone,
        kind=kind,
        hands_on=hands_on,
        specialty=specialty.strip(),
        site=site.strip(),
        supervisor=supervisor.strip(),
        start_date=start_date,
        end_date=end_date,
    )
    _progress_after_evidence(milestone, passed=False, on=start_date, by=by)
    return entry


EVIDENCE_MODELS = {
    "attempt": ExamAttempt,
    "oet": OETResult,
    "document": DocumentEvidence,
    "usce": USCEEntry,
}


def target_season(milestone) -> int | None:
    """The Match year the milestone's applicant aims at: OET is judged against that season's window."""
    return (
        ApplicantProfile.objects.filter(user_id=milestone.applicant_id)
        .values_list("target_cycle__year", flat=True)
        .first()
    )


def _is_passing(kind: str, row) -> bool:
    if kind == "attempt":
        return bool(row.passed)
    if kind == "oet":
        return bool(rule_checks.judge_oet_result(row, season=target_season(row.milestone)).passed)
    return False


@transaction.atomic
@changes_pathway(of_milestone)
def remove_evidence(*, milestone, kind: str, evidence_id: int, by) -> None:
    """Remove one evidence row (entered by mistake) from `milestone`.

    `kind` is one of EVIDENCE_MODELS ("attempt", "oet", "document", "usce"). The row must belong to that
    milestone, otherwise ObjectDoesNotExist is raised (the view answers 404: a foreign row does not exist).

    Status rule, kept deliberately simple: removing a *passing* exam attempt or OET result from a milestone
    that is done, when no other passing result remains on that milestone, moves it back to in progress
    (the pass was taken to be why it was done; set_status clears the completion date). Anything else
    leaves the status alone: a failed or pending result never completed a milestone, a waived one stays
    waived, and documents and USCE entries never complete one.
    """
    model = EVIDENCE_MODELS.get(kind)
    if model is None:
        raise ObjectDoesNotExist(f"Unknown kind of evidence {kind!r}.")
    milestone = (
        Milestone.objects.select_for_update().select_related("template", "applicant").get(pk=milestone.pk)
    )
    row = model.objects.filter(pk=evidence_id, milestone=milestone).first()
    if row is None:
        raise model.DoesNotExist("No such evidence on this milestone.")
    _require_applicable(milestone)
    was_passing = _is_passing(kind, row)
    row.delete()
    if not (was_passing and milestone.status == Status.DONE):
        return
    remaining = model.objects.filter(milestone=milestone)
    if kind == "attempt":
        still_passed = remaining.filter(passed=True).exists()
    else:
        still_passed = any(_is_passing(kind, other) for other in remaining)
    if not still_passed:
        set_status(milestone=milestone, status=Status.IN_PROGRESS, by=by, reason="passing result removed")
