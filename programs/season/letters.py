"""Letters of recommendation: writers and their status, assignment to programs (at most the season's
`letters_per_program`, 4, enforced under a row lock on the application), warnings for programs asking
for more letters than assigned, and the letters milestone kept in step through the engine's status
service."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from django.core.exceptions import ValidationError
from django.db import transaction

from milestones.models import Milestone
from milestones.services import PrerequisiteMissing
from milestones.services import Status as MilestoneStatus
from milestones.services import set_status as set_milestone_status

from .models import Application, Letter, LetterAssignment, SeasonLimit
from .pages import changes_pathway, of_letter

LETTERS_MILESTONE = "letters_of_recommendation"


def season_limit(cycle_year: int, key: str) -> SeasonLimit:
    """The season's limit, or the latest earlier season's standing in for it (shown as that row)."""
    row = SeasonLimit.objects.filter(key=key, cycle_year__lte=cycle_year).order_by("-cycle_year").first()
    if row is None:
        raise ValidationError(f"No {key.replace('_', ' ')} limit is recorded for the {cycle_year} season.")
    return row


@transaction.atomic
@changes_pathway(of_letter)
def save_letter(*, letter: Letter, by=None) -> Letter:
    """Create or update a letter (writer, status, dates); keeps the letters milestone in step."""
    if letter.uploaded_on and letter.status not in (Letter.Status.UPLOADED, Letter.Status.ASSIGNED):
        letter.status = Letter.Status.UPLOADED
    if letter.status == Letter.Status.ASSIGNED and letter.pk and not letter.assignments.exists():
        raise ValidationError({"status": "Assign the letter to a program first."})
    letter.full_clean()
    letter.save()
    sync_letters_milestone(applicant=letter.applicant, cycle=letter.cycle, by=by or letter.applicant)
    return letter


@transaction.atomic
@changes_pathway(of_letter)
def assign_letter(*, letter: Letter, application: Application, by=None) -> LetterAssignment:
    """Send `letter` to `application`'s program. Refused past the season's letters-per-program limit."""
    if letter.applicant_id != application.applicant_id or letter.cycle_id != application.cycle_id:
        raise ValidationError({"application": "That program is not on this season's list."})
    application = Application.objects.select_for_update().select_related("cycle").get(pk=application.pk)
    existing = LetterAssignment.objects.filter(letter=letter, application=application).first()
    if existing is not None:
        return existing
    limit = season_limit(application.cycle.year, SeasonLimit.Key.LETTERS_PER_PROGRAM)
    if application.letter_assignments.count() >= limit.value:
        raise ValidationError({"application": (
            f"{application.program.name} already has {limit.value} letters: at most {limit.value} can be "
            "assigned to one program."
        )})
    assignment = LetterAssignment.objects.create(letter=letter, application=application)
    if letter.status == Letter.Status.UPLOADED:
        letter.status = Letter.Status.ASSIGNED
        letter.save(update_fields=["status"])
    sync_letters_milestone(applicant=letter.applicant, cycle=letter.cycle, by=by or letter.applicant)
    return assignment


@transaction.atomic
@changes_pathway(of_letter)
def unassign_letter(*, letter: Letter, application: Application, by=None) -> None:
    LetterAssignment.objects.filter(letter=letter, application=application).delete()
    if letter.status == Letter.Status.ASSIGNED and not letter.assignments.exists():
        letter.status = Letter.Status.UPLOADED
        letter.save(update_fields=["status"])
    sync_letters_milestone(applicant=letter.applicant, cycle=letter.cycle, by=by or letter.applicant)


@transaction.atomic
@changes_pathway(of_letter)
def delete_letter(*, letter: Letter, by=None) -> None:
    applicant, cycle = letter.applicant, letter.cycle
    letter.delete()
    sync_letters_milestone(applicant=applicant, cycle=cycle, by=by or applicant)


@dataclass(frozen=True)
class LetterShortfall:
    application: Application
    required: int
    assigned: int


def shortfalls(*, applicant, cycle) -> list[LetterShortfall]:
    """Programs on the list (not withdrawn) asking for more letters than are assigned to them."""
    rows = (
        Application.objects.of(applicant, cycle).for_list()
        .filter(letters_required__isnull=False).exclude(status__in=["withdrawn", "considering"])
    )
    return [
        LetterShortfall(a, a.letters_required, a.letters_assigned)
        for a in rows if a.letters_assigned < a.letters_required
    ]


def letters_state(*, applicant, cycle) -> str | None:
    """What the letters milestone should say: None (no letters recorded: leave it to the applicant),
    in progress, or done (every letter uploaded, and assigned where it is needed, no shortfall)."""
    letters = list(Letter.objects.filter(applicant=applicant, cycle=cycle))
    if not letters:
        return None
    all_in = all(letter.is_uploaded for letter in letters)
    any_assigned = any(letter.status == Letter.Status.ASSIGNED for letter in letters)
    if all_in and any_assigned and not shortfalls(applicant=applicant, cycle=cycle):
        return MilestoneStatus.DONE
    return MilestoneStatus.IN_PROGRESS


def sync_letters_milestone(*, applicant, cycle, by) -> Milestone | None:
    """Move the letters milestone with the letters' state (the engine's status service does the move:
    prerequisites, completion date, reminders). A waived milestone is the applicant's choice: left alone."""
    milestone = Milestone.objects.of_applicant(applicant).filter(template__key=LETTERS_MILESTONE).first()
    state = letters_state(applicant=applicant, cycle=cycle)
    if milestone is None or state is None or milestone.status in (state, MilestoneStatus.WAIVED):
        return milestone
    try:
        return set_milestone_status(milestone=milestone, status=state, by=by, reason="letters")
    except PrerequisiteMissing:
        if milestone.status != MilestoneStatus.IN_PROGRESS:
            return set_milestone_status(milestone=milestone, status=MilestoneStatus.IN_PROGRESS, by=by)
        return milestone


def letters_due_for_nudge(*, applicant, cycle, today: date) -> list[Letter]:
    """Letters not uploaded whose nudge day has come."""
    return list(
        Letter.objects.filter(applicant=applicant, cycle=cycle, nudge_on__lte=today)
        .exclude(status__in=[Letter.Status.UPLOADED, Letter.Status.ASSIGNED])
    )
