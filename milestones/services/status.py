"""Milestone status: the prerequisite rule and the one way to move a milestone between states."""

from __future__ import annotations

from datetime import date

from django.core.exceptions import ValidationError
from django.db import transaction

from pathway.lib.times import applicant_today

from ..models import Milestone, Reminder, TemplatePrerequisite
from ..versions import changes_pathway, of_milestone

Status = Milestone.Status
CLOSED = (Status.DONE, Status.WAIVED)


class PrerequisiteMissing(ValidationError):
    """Completing a milestone whose hard prerequisites are not done (or waived) yet."""


def missing_hard_prerequisites(milestone: Milestone) -> list[Milestone]:
    """The applicant's applicable hard prerequisites of `milestone` that are neither done nor waived.

    A prerequisite template that does not apply to this applicant (e.g. NBME registration for an IMG)
    is not required.
    """
    required = TemplatePrerequisite.objects.filter(
        template_id=milestone.template_id, kind=TemplatePrerequisite.Kind.HARD
    ).values("requires_id")
    return list(
        Milestone.objects.of_applicant(milestone.applicant_id)
        .filter(template_id__in=required)
        .exclude(status__in=CLOSED)
        .order_by("template__order")
    )


def pass_waiting_for(milestone: Milestone, *, passed: bool | None) -> list[Milestone]:
    """The open hard prerequisites that kept a recorded pass from completing `milestone` (else [])."""
    milestone = Milestone.objects.select_related("template").get(pk=milestone.pk)
    if not passed or not milestone.is_open:
        return []
    return missing_hard_prerequisites(milestone)


def waiting_sentence(milestone: Milestone, waiting: list[Milestone]) -> str:
    """Say why a pass left the step in progress, naming what is missing ('' when nothing is)."""
    if not waiting:
        return ""
    titles = "; ".join(m.template.title for m in waiting)
    return (
        f"Pass recorded, but {milestone.template.title} stays in progress until these are done: {titles}. "
        "Mark them done (or waived), then mark this step done."
    )


def _require_applicable(milestone: Milestone) -> None:
    if not milestone.is_applicable:
        raise ValidationError("This step no longer applies to your pathway, so it cannot be changed.")


@transaction.atomic
@changes_pathway(of_milestone)
def set_status(*, milestone: Milestone, status: str, by, reason: str = "", completed_on: date | None = None):
    """Move a milestone to `status`. Completing it needs its hard prerequisites done or waived."""
    if status not in Status.values:
        raise ValidationError({"status": f"Unknown status {status!r}."})
    milestone = (
        Milestone.objects.select_for_update().select_related("template", "applicant").get(pk=milestone.pk)
    )
    _require_applicable(milestone)
    reason = reason.strip()
    if status == Status.DONE:
        missing = missing_hard_prerequisites(milestone)
        if missing:
            titles = ", ".join(m.template.title for m in missing)
            raise PrerequisiteMissing(f"Complete these first: {titles}.", code="prerequisite_missing")
    if status == Status.WAIVED and not reason:
        raise ValidationError({"reason": "Say why this step is waived (for example: exempt by the program)."})
    today = applicant_today(milestone.applicant)
    # Checked whatever the status, as the milestone form does: a future date is a mistake even where
    # the status makes it unused.
    if completed_on and completed_on > today:
        raise ValidationError({"completed_on": "The completion date cannot be in the future."})
    if status in CLOSED:
        milestone.completed_on = completed_on or today
        # Nothing left to remind about; cancelled in the same transaction so no reminder slips out.
        milestone.reminders.pending().update(status=Reminder.Status.CANCELLED)
    else:
        milestone.completed_on = None
        if milestone.status in CLOSED:
            # Reopened: the reminders cancelled at completion were never sent, so let the planner
            # plan them again (the unique constraint would otherwise keep them cancelled for good).
            milestone.reminders.filter(status=Reminder.Status.CANCELLED).delete()
    milestone.status = status
    milestone.waived_reason = reason if status == Status.WAIVED else ""
    milestone._history_user = by
    milestone._change_reason = reason[:100] if reason else f"status: {status}"
    milestone.save(update_fields=["status", "waived_reason", "completed_on", "updated_at"])
    return milestone
