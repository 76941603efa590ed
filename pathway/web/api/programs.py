"""The programs router: the directory's search (the pages' filters), a program with the caller's verdict,
and an applicant's own list.

Any signed-in caller may read the directory (listed programs, plus the ones they added; advisors and
admins see every program). Verdicts are for applicants with a profile; others get `verdict: null`.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404, QueryDict
from django.utils import timezone
from ninja import Query, Router, Status
from ninja.errors import HttpError

from milestones.models import ApplicantProfile
from pathway.access import get_program_by_code_for, profile_of
from programs.eligibility import Verdict, check_eligibility, verdicts_for
from programs.filters import ProgramFilter
from programs.models import DirectorySettings, Program, Requirement
from programs.services.own import add_own_program
from programs.values import parse_value

from .pathway import _validation_error_response
from .schemas import (
    READ_ERRORS,
    WRITE_ERRORS,
    MyProgramIn,
    ProgramDetailOut,
    ProgramFilterIn,
    ProgramPageOut,
    ValidationErrorOut,
)

router = Router(tags=["programs"])
PAGE_SIZE = 25


def _profile(user) -> ApplicantProfile | None:
    return profile_of(user) if user.is_applicant else None


def _summary(program: Program, verdict: Verdict | None) -> dict:
    claims = {claim.requirement: claim for claim in program.claims.all()}
    return {
        "code": program.nrmp_code,
        "name": program.name,
        "eras_name": program.eras_name,
        "nrmp_name": program.nrmp_name,
        "institution": program.institution.name if program.institution else "",
        "city": program.city,
        "state": program.state,
        "specialty": program.specialty.acgme_code if program.specialty else None,
        "program_type": program.program_type,
        "track": program.track,
        "listed": program.listed,
        "visa_j1": _cell(claims.get(Requirement.VISA_J1)),
        "visa_h1b": _cell(claims.get(Requirement.VISA_H1B)),
        "verdict": verdict.outcome if verdict else None,
    }


def _cell(claim) -> str:
    return claim.display_value if claim else "Unknown"


def _query_dict(filters: ProgramFilterIn) -> QueryDict:
    data = QueryDict(mutable=True)
    for name, value in filters.dict(exclude_none=True).items():
        if name == "page":
            continue
        if isinstance(value, list):
            data.setlist(name, value)
        else:
            data[name] = str(value).lower() if isinstance(value, bool) else str(value)
    return data


@router.get("/programs", response={200: ProgramPageOut, 422: ValidationErrorOut, **READ_ERRORS})
def list_programs(request, filters: Query[ProgramFilterIn]):
    """The directory, filtered as on the search page, 25 programs a page, with the caller's verdict badge
    (`pass`, `fail`, `unknown`; null without an applicant profile). `eligible=true` needs a profile."""
    user = request.auth
    queryset = Program.objects.visible_to(user).with_related().with_claims().order_by("name", "pk")
    filterset = ProgramFilter(_query_dict(filters), queryset=queryset, request=request)
    if not filterset.is_valid():
        detail = [{"loc": ["query", field], "msg": msg} for field, msgs in filterset.errors.items() for msg in msgs]
        return Status(422, {"detail": detail})
    paginator = Paginator(filterset.qs, PAGE_SIZE)
    if filters.page > max(paginator.num_pages, 1):
        return Status(404, {"detail": f"No page {filters.page}: there are {paginator.num_pages}."})
    page = paginator.page(filters.page)
    programs = list(page.object_list)
    profile = _profile(user)
    verdicts = verdicts_for(profile=profile, programs=programs, facts=filterset.facts) if profile else {}
    return {
        "count": paginator.count,
        "page": page.number,
        "pages": paginator.num_pages,
        "results": [_summary(program, verdicts.get(program.pk)) for program in programs],
    }


@router.get("/programs/{slug:program_code}", response={200: ProgramDetailOut, **READ_ERRORS})
def get_program(request, program_code: str):
    """One program by NRMP code: every requirement with its value, source, kind of source, date observed,
    stale and verified markers, and the caller's verdict requirement by requirement."""
    user = request.auth
    try:
        program = get_program_by_code_for(user, program_code, queryset=Program.objects.with_related().with_claims())
    except Http404:
        raise HttpError(404, f"No program with the NRMP code '{program_code}' in the directory.") from None
    return _detail(program, user)


def _detail(program: Program, user) -> dict:
    """The program, every requirement with its provenance, and `user`'s verdict (program with_claims())."""
    profile = _profile(user)
    verdict = check_eligibility(profile=profile, program=program) if profile else None
    claims = {claim.requirement: claim for claim in program.claims.all()}
    settings_row, today = DirectorySettings.current(), timezone.localdate()
    return {
        **_summary(program, verdict),
        "positions": program.positions,
        "requirements": [
            _requirement(requirement, claims.get(requirement), settings_row, today) for requirement in Requirement.values
        ],
        "checks": [
            {
                "requirement": r.requirement,
                "outcome": r.outcome,
                "reason": r.reason,
                "observed_on": r.observed_on,
                "source_url": r.source_url,
                "stale": r.stale,
            }
            for r in (verdict.results if verdict else [])
        ],
        "summary": verdict.summary if verdict else None,
    }


def _requirement(requirement: str, claim, settings_row, today) -> dict:
    return {
        "requirement": requirement,
        "label": Requirement(requirement).label,
        "value": _cell(claim),
        "known": bool(claim) and not claim.is_unknown,
        "source_url": claim.source_url if claim else "",
        "source_kind": claim.source_kind if claim else None,
        "observed_on": claim.observed_on if claim else None,
        "stale": bool(claim) and claim.is_stale(today, settings_row),
        "verified": bool(claim) and claim.verified_by_id is not None,
    }


@router.post("/my-programs", response={201: ProgramDetailOut, 200: ProgramDetailOut, **WRITE_ERRORS})
def add_my_program(request, payload: MyProgramIn):
    """Put a program on the caller's own list, by NRMP code or name, with what they read about it (`claims`:
    requirement -> cell, as in the CSV import). 201 when the program was new to the directory, 200 when it
    was found. Applicants only."""
    user = request.auth
    if not user.is_applicant:
        raise Http404
    bad_cells = _bad_cells(payload.claims)
    if bad_cells:
        return Status(422, {"detail": bad_cells})
    try:
        entry, created = add_own_program(
            applicant=user, nrmp_code=payload.nrmp_code.strip(), name=payload.name.strip(), state=payload.state,
            claims=payload.claims, source_url=payload.source_url, source_kind=payload.source_kind,
            observed_on=payload.observed_on, note=payload.note,
        )
    except ValidationError as exc:
        return Status(422, _validation_error_response(exc))
    program = Program.objects.with_related().with_claims().get(pk=entry.program_id)
    return Status(201 if created else 200, _detail(program, user))



def _bad_cells(claims: dict[str, str]) -> list[dict]:
    """Each cell that is not a value of its requirement, located in the body (claims.<requirement>)."""
    errors = []
    for requirement, cell in claims.items():
        try:
            parse_value(requirement, cell)
        except ValidationError as exc:
            errors += [{"loc": ["body", "claims", requirement], "msg": msg} for msg in exc.messages]
    return errors
