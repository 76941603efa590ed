"""Steps already done when an applicant joins: a US MD senior or a mid-season IMG starts from the truth.

Each step is marked through the ordinary services, with their rules: an exam by a passing attempt on
its date (so the attempt-limit and passing rules apply, and the pass is on file), anything else by
`set_status`. A step whose hard prerequisites are not among the steps done is refused with the reason,
and the caller's transaction then changes nothing.
"""

from __future__ import annotations

from datetime import date

from django.core.exceptions import ValidationError
from django.db import transaction

from ..models import EvidenceKind, Milestone
from ..versions import changes_pathway
from .evidence import record_exam_attempt
from .status import CLOSED, Status, missing_hard_prerequisites, set_status


@transaction.atomic
@changes_pathway(lambda kw: kw["applicant"])
def record_steps_already_done(*, applicant, keys, pass_dates: dict[str, date], by) -> list[Milestone]:
    """Mark the applicant's milestones `keys` done, in pathway order; `pass_dates` maps an exam code
    (step1, step2ck...) to the date it was passed. Keys of steps not on the pathway are ignored (the
    onboarding form lists the steps of every applicant type)."""
    milestones = list(
        Milestone.objects.of_applicant(applicant)
        .filter(template__key__in=list(keys))
        .order_by("template__order")
    )
    for milestone in milestones:
        _mark_done(milestone, pass_dates, by)
    return milestones


def _mark_done(milestone: Milestone, pass_dates: dict[str, date], by) -> None:
    template = milestone.template
    if template.evidence == EvidenceKind.EXAM and template.exam:
        passed_on = pass_dates.get(template.exam)
        if passed_on is None:
            raise ValidationError({template.exam: f"Give the date you passed {template.title}."})
        record_exam_attempt(milestone=milestone, test_date=passed_on, passed=True, by=by)
        milestone.refresh_from_db()
        if milestone.status not in CLOSED:
            missing = ", ".join(m.template.title for m in missing_hard_prerequisites(milestone))
            raise ValidationError(f"{template.title} can only be done after: {missing}. Tick those too.")
        return
    try:
        set_status(milestone=milestone, status=Status.DONE, by=by)
    except ValidationError as exc:
        raise ValidationError(f"{template.title}: {' '.join(exc.messages)} Tick those too.") from exc
