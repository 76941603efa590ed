"""My programs per cycle: adding a program to a season's list, moving it along the status pipeline (every
change dated in its history), notes. Transactional, keyword-only; refusals are ValidationErrors keyed by
field."""

from __future__ import annotations

from datetime import datetime

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from ..models import ApplicantProgram, Program, Service
from .models import Application, Status, StatusChange
from .pages import changes_pathway, of_applicant, of_application

NOTE_LIMIT = 4000


@transaction.atomic
@changes_pathway(of_applicant)
def add_application(
    *, applicant, program: Program, cycle, by=None, note: str = "", at: datetime | None = None
) -> tuple[Application, bool]:
    """Put `program` on `applicant`'s list for `cycle` (status "considering", dated `at`, default now);
    adding it twice returns the existing one. Also keeps the directory's own-list row (ApplicantProgram)."""
    at = at or timezone.now()
    if not Program.objects.visible_to(applicant).filter(pk=program.pk).exists():
        raise ValidationError({"program": "No such program in your directory."})
    entry, _ = ApplicantProgram.objects.get_or_create(applicant=applicant, program=program)
    specialty = program.specialty
    application, created = Application.objects.get_or_create(
        applicant=applicant, cycle=cycle, program=program,
        defaults={
            "entry": entry,
            "service": specialty.application_service if specialty else Service.ERAS,
            "notes": note[:NOTE_LIMIT],
            "added_at": at,
            "status_changed_at": at,
        },
    )
    if created:
        StatusChange.objects.create(application=application, to_status=application.status, by=by or applicant, at=at)
    return application, created


@transaction.atomic
@changes_pathway(of_application)
def set_status(*, application: Application, status: str, by, note: str = "", at: datetime | None = None) -> Application:
    """Move an application to `status`, recording the change with its date; the same status is a no-op."""
    if status not in Status.values:
        raise ValidationError({"status": f"Unknown status {status!r}."})
    application = Application.objects.select_for_update().get(pk=application.pk)
    if application.status == status:
        return application
    at = at or timezone.now()
    if at < application.status_changed_at:
        # The history reads in order: a change dated before the last one would rewrite it.
        raise ValidationError({"at": "A change cannot be dated before the previous one."})
    StatusChange.objects.create(
        application=application, from_status=application.status, to_status=status, at=at, by=by,
        note=note.strip()[:500],
    )
    application.status, application.status_changed_at = status, at
    application.save(update_fields=["status", "status_changed_at", "updated_at"])
    return application


def advance_to(*, application: Application, status: str, by) -> Application:
    """Move forward to `status` only if the application is not already past it (an interview being
    scheduled moves "applied" on, but never pulls a ranked program back)."""
    order = [Status.CONSIDERING, Status.APPLIED, Status.INVITED, Status.SCHEDULED, Status.INTERVIEWED]
    if application.status in order and order.index(application.status) < order.index(status):
        return set_status(application=application, status=status, by=by)
    return application


@transaction.atomic
@changes_pathway(of_application)
def update_application(*, application: Application, notes: str, letters_required: int | None) -> Application:
    """The applicant's notes and the number of letters the program asks for."""
    if len(notes) > NOTE_LIMIT:
        raise ValidationError({"notes": f"Notes are limited to {NOTE_LIMIT} characters."})
    if letters_required is not None and not 0 <= letters_required <= 10:
        raise ValidationError({"letters_required": "Between 0 and 10 letters."})
    application.notes, application.letters_required = notes, letters_required
    application.save(update_fields=["notes", "letters_required", "updated_at"])
    return application
