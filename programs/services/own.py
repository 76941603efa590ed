"""An applicant's own programs: the ones they apply to, found by NRMP code or name, or added when the
directory lacks them. A program an applicant adds is theirs (unlisted) until an admin lists it; what they
record about it goes straight onto its claims. What they record about a listed program goes to the review
queue instead: one applicant's reading never silently changes everyone's directory."""

from __future__ import annotations

from datetime import date

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from ..codes import normalize_nrmp_code, parse_nrmp_code
from ..models import ApplicantProgram, Origin, Program, Specialty
from ..requirements import SourceKind
from .claims import record_claim
from .reports import report_outdated


@transaction.atomic
def add_own_program(
    *,
    applicant,
    nrmp_code: str = "",
    name: str = "",
    state: str = "",
    claims: dict[str, str] | None = None,
    source_url: str = "",
    source_kind: str = SourceKind.PROGRAM_WEBSITE,
    observed_on: date | None = None,
    note: str = "",
) -> tuple[ApplicantProgram, bool]:
    """Put a program on `applicant`'s list, by NRMP code or by name. Returns (entry, program_created).

    `claims` maps requirements to cells ("yes", "240", "none"...): what the applicant read, at
    `source_url` on `observed_on`. Adding the same program twice returns the existing entry."""
    program, created = _find_or_create(applicant=applicant, nrmp_code=nrmp_code, name=name.strip(), state=state)
    entry, _ = ApplicantProgram.objects.get_or_create(applicant=applicant, program=program, defaults={"note": note})
    observed_on = observed_on or timezone.localdate()
    for requirement, cell in (claims or {}).items():
        if not (cell or "").strip():
            continue
        if program.listed:
            report_outdated(
                program=program, requirement=requirement, by=applicant, proposed_value=cell,
                source_url=source_url, source_kind=source_kind, observed_on=observed_on,
                message="Recorded by an applicant adding the program to their list.",
            )
        else:
            record_claim(
                program=program, requirement=requirement, value=cell, source_url=source_url,
                source_kind=source_kind, observed_on=observed_on, by=applicant,
            )
    return entry, created


def _find_or_create(*, applicant, nrmp_code: str, name: str, state: str) -> tuple[Program, bool]:
    visible = Program.objects.visible_to(applicant)
    if nrmp_code:
        try:
            parsed = parse_nrmp_code(nrmp_code)
        except ValidationError as error:
            raise ValidationError({"nrmp_code": error.messages}) from None
        program = visible.filter(nrmp_code=parsed.code).first()
        if program is not None:
            return program, False
        if Program.objects.filter(nrmp_code=parsed.code).exists():
            raise ValidationError({"nrmp_code": "Another applicant added this code; ask an advisor to list it."})
        if not name:
            raise ValidationError({"name": "This code is not in the directory yet: give the program's name too."})
        specialty = Specialty.objects.filter(acgme_code=parsed.specialty_code).first()
        return _create(applicant, name=name, state=state, nrmp_code=parsed.code, specialty=specialty), True
    if not name:
        raise ValidationError({"name": "Give the program's NRMP code or its name."})
    named = visible.filter(Q(name__iexact=name) | Q(eras_name__iexact=name) | Q(nrmp_name__iexact=name))
    matches = list(named[:2])
    if len(matches) == 1:
        return matches[0], False
    if len(matches) > 1:
        raise ValidationError({"name": "Several programs have this name: add it by its NRMP code."})
    return _create(applicant, name=name, state=state, nrmp_code=None, specialty=None), True


def _create(applicant, *, name, state, nrmp_code, specialty) -> Program:
    program = Program(
        nrmp_code=nrmp_code and normalize_nrmp_code(nrmp_code), name=name, state=state, specialty=specialty,
        listed=False, origin=Origin.APPLICANT, added_by=applicant,
    )
    program.full_clean(exclude=["institution", "specialty", "added_by"])
    program._history_user = applicant
    try:
        with transaction.atomic():
            program.save()
    except IntegrityError:
        raise ValidationError({"nrmp_code": "This program was just added; try again."}) from None
    return program


@transaction.atomic
def remove_own_program(*, applicant, program: Program) -> None:
    ApplicantProgram.objects.filter(applicant=applicant, program=program).delete()
