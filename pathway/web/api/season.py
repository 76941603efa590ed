"""The season router: the applicant's applications (status, signal, letters), the rank order list, Match
Week and SOAP, with the same rules as the pages: every write calls the same programs.season service, so
a limit (300 ranks, 45 SOAP applications, 4 letters per program, the signal allowance) or a stale list
version is refused here exactly as there (422 with the reason), and nothing changes.

Season endpoints exist for applicants only: advisors and admins get 404, as on the pages. `cycle` (a Match
year) picks the season; by default the applicant's target Match.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import Http404
from ninja import Field, Query, Router, Schema, Status
from ninja.errors import HttpError
from pydantic import ConfigDict

from milestones.models import MatchCycle
from pathway.access import get_application_for, get_letter_for, profile_of
from pathway.lib.times import ET
from programs.season import applications as season_apps
from programs.season import letters as season_letters
from programs.season import match as match_services
from programs.season import rol as rol_services
from programs.season import signals as season_signals
from programs.season import soap as soap_services
from programs.season.match_models import MatchOutcome, SoapOffer
from programs.season.models import Application, Signal
from programs.season.models import Status as AppStatus
from programs.season.rol_read import ListView, overview

from .pathway import _applicant, _validation_error_response
from .schemas import ACTION_ERRORS, READ_ERRORS, WRITE_ERRORS, InputText, Message, ValidationErrorOut

router = Router(tags=["season"])

AppStatusValue = AppStatus  # the choices' values, for the schema
# Reads take ?cycle=YEAR, which the schema checks: a bad one is a 422 as well.
QUERY_ERRORS = {**READ_ERRORS, 422: ValidationErrorOut}
MAX_IDS = 1000  # more than any list may hold (300 ranks): a longer body is refused by the schema


# --- Shapes ----------------------------------------------------------------------------------------


class ProgramOut(Schema):
    id: int
    name: str
    nrmp_code: str | None
    specialty: str | None
    program_type: str


class ApplicationOut(Schema):
    id: int
    program: ProgramOut
    status: str
    status_changed_at: datetime
    signal: str
    service: str
    letters_required: int | None
    letters_assigned: int
    interview_at: datetime | None = Field(description="Start of the interview, ISO 8601 in US Eastern time.")


class ApplicationsOut(Schema):
    cycle: int
    applications: list[ApplicationOut]


class StatusIn(Schema):
    model_config = ConfigDict(extra="forbid")
    status: AppStatusValue
    note: InputText = Field("", max_length=500)


class SignalIn(Schema):
    model_config = ConfigDict(extra="forbid")
    signal: Signal = Field(description='"" (none), "gold", "silver" or "signal" (single tier).')


class SignalOut(Schema):
    application: ApplicationOut
    warnings: list[str]


class AssignmentIn(Schema):
    model_config = ConfigDict(extra="forbid")
    application: int = Field(ge=1)


class AssignmentOut(Schema):
    letter: int
    application: int


class RankOut(Schema):
    rank: int
    application: int
    program: ProgramOut
    interview_score: Decimal | None = Field(description="Weighted 1-5 score on the applicant's criteria.")


class RankListOut(Schema):
    id: int | None
    kind: str
    name: str
    advanced: list[int] = Field(description="Applications (advanced programs) a supplemental list is linked to.")
    ranks: list[RankOut]


class FigureOut(Schema):
    value: int | None
    status: str
    source: str


class MedianOut(Schema):
    report_year: int
    applicant_type: str
    specialty: str | None
    matched_median: Decimal
    unmatched_median: Decimal | None
    status: str
    source: str


class RankOrderListOut(Schema):
    cycle: int
    version: int = Field(description="Send it back with every change; an older version is refused.")
    certified: bool
    certified_at: datetime | None
    deadline: datetime | None
    max_ranks: FigureOut | None = Field(description="Null when no limit is recorded for the season.")
    extra_codes: int
    extra_cost_usd: int | None
    extra_code_fee: FigureOut | None
    contiguous_ranks: int
    preferred_specialty: str
    nrmp_median: MedianOut | None
    lists: list[RankListOut]


class OrderIn(Schema):
    model_config = ConfigDict(extra="forbid")
    version: int = Field(ge=0)
    order: list[int] = Field(max_length=MAX_IDS, description="Application ids, first choice first.")
    list_id: int | None = Field(None, ge=1, description="A supplemental list's id; the primary list by default.")


class RankIn(Schema):
    model_config = ConfigDict(extra="forbid")
    version: int = Field(ge=0)
    application: int = Field(ge=1)
    list_id: int | None = Field(None, ge=1, description="A supplemental list's id; the primary list by default.")


class VersionIn(Schema):
    model_config = ConfigDict(extra="forbid")
    version: int = Field(ge=0)


class SupplementalIn(Schema):
    model_config = ConfigDict(extra="forbid")
    version: int = Field(ge=0)
    name: InputText = Field(max_length=80)
    advanced: list[int] = Field(max_length=MAX_IDS)


class MatchIn(Schema):
    model_config = ConfigDict(extra="forbid")
    status: MatchOutcome.Status
    soap_eligible: bool = True


class MatchedProgramIn(Schema):
    model_config = ConfigDict(extra="forbid")
    application: int = Field(ge=1)


class SoapApplicationIn(Schema):
    model_config = ConfigDict(extra="forbid")
    program: int = Field(ge=1)


class SoapOfferIn(Schema):
    model_config = ConfigDict(extra="forbid")
    application: int = Field(ge=1, description="The SOAP application the offer is for.")


class OfferOut(Schema):
    id: int
    application: int
    program: ProgramOut
    round: int
    status: str
    expires_at: datetime


class SoapApplicationOut(Schema):
    id: int
    program: ProgramOut
    applied_at: datetime


class MatchOut(Schema):
    cycle: int
    status: str | None
    soap_eligible: bool | None
    matched_program: ProgramOut | None
    matched_via: str | None
    soap_limit: FigureOut | None
    soap_applications: list[SoapApplicationOut]
    offers: list[OfferOut]


# --- Helpers ---------------------------------------------------------------------------------------


def _cycle(applicant, year: int | None) -> MatchCycle:
    profile = profile_of(applicant)
    if profile is None:
        raise HttpError(404, "No pathway yet: finish onboarding at /onboarding/ first.")
    if year is None:
        return profile.target_cycle
    cycle = MatchCycle.objects.filter(year=year).first()
    if cycle is None:
        raise HttpError(404, f"No {year} Match cycle is known.")
    return cycle


def _refused(exc: ValidationError):
    return Status(422, _validation_error_response(exc))


def _et(moment):
    return moment.astimezone(ET) if moment else None


def _program(program) -> dict:
    return {
        "id": program.pk, "name": program.name, "nrmp_code": program.nrmp_code,
        "specialty": program.specialty.name if program.specialty_id else None, "program_type": program.program_type,
    }


def _application(application, letters_assigned: int | None = None) -> dict:
    interview = getattr(application, "interview", None) if _has_interview(application) else None
    if letters_assigned is None:
        letters_assigned = getattr(application, "letters_assigned", None)
    if letters_assigned is None:
        letters_assigned = application.letter_assignments.count()
    return {
        "id": application.pk, "program": _program(application.program), "status": application.status,
        "status_changed_at": _et(application.status_changed_at), "signal": application.signal,
        "service": application.service, "letters_required": application.letters_required,
        "letters_assigned": letters_assigned, "interview_at": _et(interview.starts_at) if interview else None,
    }


def _has_interview(application) -> bool:
    try:
        return application.interview is not None
    except Application.interview.RelatedObjectDoesNotExist:
        return False


def _figure(figure) -> dict | None:
    if figure is None:
        return None
    return {"value": figure.value, "status": figure.status, "source": figure.source_url}


# --- Applications ----------------------------------------------------------------------------------


@router.get("/applications", response={200: ApplicationsOut, **QUERY_ERRORS})
def list_applications(request, cycle: int | None = Query(None, ge=2000, le=2100)):
    """The applicant's programs for one Match (their status, signal, letters and interview)."""
    applicant = _applicant(request)
    season = _cycle(applicant, cycle)
    rows = Application.objects.of(applicant, season).for_list().order_by("program__name", "pk")
    return {"cycle": season.year, "applications": [_application(a) for a in rows]}


def _own_application(applicant, pk: int):
    try:
        return get_application_for(applicant, pk)
    except Http404:
        raise HttpError(404, f"No application {pk} on your list.") from None


@router.patch("/applications/{int:pk}/status", response={200: ApplicationOut, **WRITE_ERRORS})
def update_application_status(request, pk: int, payload: StatusIn):
    """Move an application along the pipeline; the change is dated in its history."""
    applicant = _applicant(request)
    application = _own_application(applicant, pk)
    try:
        with transaction.atomic():
            application = season_apps.set_status(
                application=application, status=payload.status, by=applicant, note=payload.note
            )
    except ValidationError as exc:
        return _refused(exc)
    return _application(_own_application(applicant, application.pk))


@router.put("/applications/{int:pk}/signal", response={200: SignalOut, **WRITE_ERRORS})
def update_application_signal(request, pk: int, payload: SignalIn):
    """Give or clear a signal; over-allocation is refused, a risky signal comes back with warnings."""
    applicant = _applicant(request)
    application = _own_application(applicant, pk)
    try:
        with transaction.atomic():
            _application_row, warnings = season_signals.set_signal(
                application=application, signal=payload.signal, by=applicant
            )
    except ValidationError as exc:
        return _refused(exc)
    return {"application": _application(_own_application(applicant, pk)), "warnings": warnings}


def _own_letter(applicant, pk: int):
    try:
        return get_letter_for(applicant, pk)
    except Http404:
        raise HttpError(404, f"No letter {pk} of yours.") from None


@router.post("/letters/{int:pk}/assignments", response={201: AssignmentOut, **WRITE_ERRORS})
def assign_letter(request, pk: int, payload: AssignmentIn):
    """Send a letter to one of the season's programs (at most the season's limit per program)."""
    applicant = _applicant(request)
    letter = _own_letter(applicant, pk)
    application = Application.objects.filter(applicant=applicant, pk=payload.application).first()
    if application is None:
        return _refused(ValidationError({"application": "That program is not on your list."}))
    try:
        with transaction.atomic():
            season_letters.assign_letter(letter=letter, application=application, by=applicant)
    except ValidationError as exc:
        return _refused(exc)
    return Status(201, {"letter": letter.pk, "application": application.pk})


# Path ids only (Django converters: anything else is a 404) and a service that refuses nothing: no 400 or 422.
@router.delete(
    "/letters/{int:pk}/assignments/{int:application}", response={204: None, 401: Message, 403: Message, 404: Message}
)
def unassign_letter(request, pk: int, application: int):
    """Take a letter off a program."""
    applicant = _applicant(request)
    letter = _own_letter(applicant, pk)
    row = Application.objects.filter(applicant=applicant, pk=application).first()
    if row is None:
        raise HttpError(404, f"No application {application} on your list.")
    with transaction.atomic():
        season_letters.unassign_letter(letter=letter, application=row, by=applicant)
    return Status(204, None)


# --- Rank order list -------------------------------------------------------------------------------


def _rank_list(view: ListView) -> dict:
    rank_list = view.rank_list
    return {
        "id": view.pk, "kind": rank_list.kind if rank_list else "primary", "name": view.name,
        "advanced": [a.pk for a in view.advanced],
        "ranks": [
            {"rank": row.rank, "application": row.application.pk, "program": _program(row.application.program),
             "interview_score": row.score.score if row.score else None}
            for row in view.rows
        ],
    }


def _rol_out(applicant, season) -> dict:
    view = overview(applicant=applicant, cycle=season)
    median = view.median
    return {
        "cycle": season.year, "version": view.version, "certified": view.certified,
        "certified_at": _et(view.rol.certified_at) if view.certified else None,
        "deadline": _et(view.deadline.at) if view.deadline else None,
        "max_ranks": _figure(view.limit), "extra_codes": view.extra_codes, "extra_cost_usd": view.extra_cost,
        "extra_code_fee": _figure(view.per_extra_code), "contiguous_ranks": view.contiguous,
        "preferred_specialty": view.preferred_specialty,
        "nrmp_median": {
            "report_year": median.report_year, "applicant_type": median.applicant_type,
            "specialty": median.specialty.name if median.specialty_id else None,
            "matched_median": median.matched_median, "unmatched_median": median.unmatched_median,
            "status": median.status, "source": median.source_url,
        } if median else None,
        "lists": [_rank_list(view.primary), *(_rank_list(v) for v in view.supplemental)],
    }


@router.get("/rank-order-list", response={200: RankOrderListOut, **QUERY_ERRORS})
def get_rank_order_list(request, cycle: int | None = Query(None, ge=2000, le=2100)):
    """The rank order list: its lists and ranks, version, certification, the NRMP's limit and extra-code fee
    (data rows with their sources), contiguous ranks in the preferred specialty and the NRMP median."""
    applicant = _applicant(request)
    return _rol_out(applicant, _cycle(applicant, cycle))


def _rol_write(request, cycle, change):
    applicant = _applicant(request)
    season = _cycle(applicant, cycle)
    try:
        change(applicant, season)
    except ValidationError as exc:
        return _refused(exc)
    return _rol_out(applicant, season)


@router.put("/rank-order-list/order", response={200: RankOrderListOut, **WRITE_ERRORS})
def reorder_rank_order_list(request, payload: OrderIn, cycle: int | None = Query(None, ge=2000, le=2100)):
    """A new order of the programs on a list, sent with the version read; an older version is refused."""
    return _rol_write(request, cycle, lambda applicant, season: rol_services.reorder(
        applicant=applicant, cycle=season, order=payload.order, version=payload.version, by=applicant,
        list_id=payload.list_id))


@router.post("/rank-order-list/ranks", response={200: RankOrderListOut, **WRITE_ERRORS})
def add_rank(request, payload: RankIn, cycle: int | None = Query(None, ge=2000, le=2100)):
    """Put a program (one of the season's applications) at the end of a list."""
    return _rol_write(request, cycle, lambda applicant, season: rol_services.add_rank(
        applicant=applicant, cycle=season, application_id=payload.application, version=payload.version,
        by=applicant, list_id=payload.list_id))


@router.delete("/rank-order-list/ranks/{int:application}", response={200: RankOrderListOut, **ACTION_ERRORS})
def remove_rank(request, application: int, version: int | None = Query(None, ge=0), list_id: int | None = Query(None, ge=1),
                cycle: int | None = Query(None, ge=2000, le=2100)):
    """Take a program off a list (send the version read as ?version=)."""
    return _rol_write(request, cycle, lambda applicant, season: rol_services.remove_rank(
        applicant=applicant, cycle=season, application_id=application, version=version, by=applicant, list_id=list_id))


@router.post("/rank-order-list/supplemental", response={200: RankOrderListOut, **WRITE_ERRORS})
def create_supplemental_list(request, payload: SupplementalIn, cycle: int | None = Query(None, ge=2000, le=2100)):
    """A supplemental list of preliminary programs, linked to advanced programs on the primary list."""
    return _rol_write(request, cycle, lambda applicant, season: rol_services.create_supplemental_list(
        applicant=applicant, cycle=season, name=payload.name, advanced_ids=payload.advanced,
        version=payload.version, by=applicant))


@router.post("/rank-order-list/certify", response={200: RankOrderListOut, **WRITE_ERRORS})
def certify_rank_order_list(request, payload: VersionIn, cycle: int | None = Query(None, ge=2000, le=2100)):
    """Certify the list at the version read; completes the rank order list milestone."""
    return _rol_write(request, cycle, lambda applicant, season: rol_services.certify(
        applicant=applicant, cycle=season, version=payload.version, by=applicant))


# --- Match Week and SOAP ---------------------------------------------------------------------------


def _match_out(applicant, season) -> dict:
    outcome = match_services.outcome_of(applicant, season)
    applications, offers = [], []
    if outcome is not None:
        applications = outcome.soap_applications.select_related("program__specialty")
        offers = SoapOffer.objects.filter(outcome=outcome).select_related("application__program__specialty")
    return {
        "cycle": season.year,
        "status": outcome.status if outcome else None,
        "soap_eligible": outcome.soap_eligible if outcome else None,
        "matched_program": _program(outcome.matched_program) if outcome and outcome.matched_program_id else None,
        "matched_via": (outcome.matched_via or None) if outcome else None,
        "soap_limit": _figure(soap_services.shown_soap_limit(season)),
        "soap_applications": [
            {"id": a.pk, "program": _program(a.program), "applied_at": _et(a.applied_at)} for a in applications
        ],
        "offers": [
            {"id": o.pk, "application": o.application_id, "program": _program(o.application.program),
             "round": o.round, "status": o.status, "expires_at": _et(o.expires_at)}
            for o in offers
        ],
    }


def _match_write(request, cycle, change, *, created: bool = False):
    applicant = _applicant(request)
    season = _cycle(applicant, cycle)
    try:
        change(applicant, season)
    except ValidationError as exc:
        return _refused(exc)
    return Status(201 if created else 200, _match_out(applicant, season))


@router.get("/match", response={200: MatchOut, **QUERY_ERRORS})
def get_match(request, cycle: int | None = Query(None, ge=2000, le=2100)):
    """Match Week: the recorded status, where the applicant matched, SOAP applications and offers."""
    applicant = _applicant(request)
    return _match_out(applicant, _cycle(applicant, cycle))


@router.post("/match/status", response={200: MatchOut, **WRITE_ERRORS})
def record_match_status(request, payload: MatchIn, cycle: int | None = Query(None, ge=2000, le=2100)):
    """What the NRMP showed on the Monday of Match Week (from its release time on)."""
    return _match_write(request, cycle, lambda applicant, season: match_services.record_match_status(
        applicant=applicant, cycle=season, status=payload.status, soap_eligible=payload.soap_eligible, by=applicant))


@router.post("/match/program", response={200: MatchOut, **WRITE_ERRORS})
def record_matched_program(request, payload: MatchedProgramIn, cycle: int | None = Query(None, ge=2000, le=2100)):
    """Where a matched applicant matched (from Match Day on): one of the season's applications."""
    return _match_write(request, cycle, lambda applicant, season: match_services.record_matched_program(
        applicant=applicant, cycle=season, application_id=payload.application, by=applicant))


@router.post("/soap/applications", response={201: MatchOut, **WRITE_ERRORS})
def add_soap_application(request, payload: SoapApplicationIn, cycle: int | None = Query(None, ge=2000, le=2100)):
    """Apply to a program in SOAP (at most the season's limit, 45 in recent Matches)."""
    return _match_write(request, cycle, lambda applicant, season: soap_services.add_soap_application(
        applicant=applicant, cycle=season, program_id=payload.program, by=applicant), created=True)


@router.post("/soap/offers", response={201: MatchOut, **WRITE_ERRORS})
def record_soap_offer(request, payload: SoapOfferIn, cycle: int | None = Query(None, ge=2000, le=2100)):
    """An offer received in the round open now."""
    return _match_write(request, cycle, lambda applicant, season: soap_services.record_offer(
        applicant=applicant, cycle=season, application_id=payload.application, by=applicant), created=True)


@router.post("/soap/offers/{int:pk}/accept", response={200: MatchOut, **ACTION_ERRORS})
def accept_soap_offer(request, pk: int, cycle: int | None = Query(None, ge=2000, le=2100)):
    """Accept an open offer: binding; records the match and closes the Match milestones."""
    return _match_write(request, cycle, lambda applicant, season: soap_services.answer_offer(
        applicant=applicant, cycle=season, offer_id=pk, accept=True, by=applicant))


@router.post("/soap/offers/{int:pk}/decline", response={200: MatchOut, **ACTION_ERRORS})
def decline_soap_offer(request, pk: int, cycle: int | None = Query(None, ge=2000, le=2100)):
    """Decline an open offer."""
    return _match_write(request, cycle, lambda applicant, season: soap_services.answer_offer(
        applicant=applicant, cycle=season, offer_id=pk, accept=False, by=applicant))

