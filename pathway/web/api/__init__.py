"""The JSON API (/api/v1/), for applicants' own scripts: read the pathway, record progress, read cycle dates.

Authentication: the browser session (with CSRF for unsafe methods) or a personal access token sent as
`Authorization: Bearer ppl_...` (created on /settings/tokens/). Pathway endpoints serve applicants only;
everyone else gets 404, as on the HTML pages. Times are ISO 8601 in US Eastern time, where the Match
defines its deadlines.
"""

from __future__ import annotations

import zoneinfo
from datetime import date, datetime
from typing import Literal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Prefetch
from django.http import Http404
from ninja import Field, NinjaAPI, Schema, Status
from ninja.security import APIKeyCookie, HttpBearer

from milestones.models import (
    ApplicantProfile,
    CycleEvent,
    EvidenceKind,
    MatchCycle,
    Milestone,
    TemplatePrerequisite,
)
from pathway.models import User
from pathway.tokens import api_token_authenticate

# --- Authentication ----------------------------------------------------------------------------


class TokenAuth(HttpBearer):
    """`Authorization: Bearer ppl_...`: a personal access token (only its SHA-256 digest is stored)."""

    def authenticate(self, request, token):
        api_token = api_token_authenticate(token)
        if api_token is None:
            return None
        # So that history records and anything else reading request.user see the token's owner.
        request.user = api_token.user
        return api_token.user


class SessionAuth(APIKeyCookie):
    """The logged-in browser session; unsafe methods must carry the CSRF token (X-CSRFToken header)."""

    param_name = settings.SESSION_COOKIE_NAME

    def __call__(self, request):
        # A request that sends a token is judged by the token alone: a bad token is a 401 even if a
        # session cookie happens to ride along, and nobody without a session is asked for CSRF.
        if "Authorization" in request.headers or not request.user.is_authenticated:
            return None
        return super().__call__(request)  # runs the CSRF check for POST/PATCH/...

    def authenticate(self, request, key):
        return request.user


api = NinjaAPI(
    title="Residency Pathway Planner API",
    version="1",
    description=__doc__,
    auth=[TokenAuth(), SessionAuth()],
    urls_namespace="api",
    # Swagger UI would load its assets from a CDN, which our CSP (and offline use) rules out.
    docs_url=None,
)


# --- Schemas -----------------------------------------------------------------------------------

StatusValue = Literal[tuple(Milestone.Status.values)]  # type: ignore[valid-type]


class ApplicantOut(Schema):
    type: str
    target_cycle: int
    time_zone: str


class MilestoneOut(Schema):
    key: str
    title: str
    phase: str
    status: str
    due_at: datetime | None = Field(description="ISO 8601 in US Eastern time, or null when undated.")
    projected: bool = Field(description="The deadline rests on a projected (estimated) date.")
    prerequisites: list[str] = Field(description="Keys of milestones that must be done first.")


class RiskOut(Schema):
    code: str
    severity: str
    message: str
    action: str = Field(description="What to do about it.")
    milestone: str | None = Field(description="Key of the milestone the risk is about, if any.")


class PathwayOut(Schema):
    applicant: ApplicantOut
    milestones: list[MilestoneOut]
    risks: list[RiskOut]


class StatusIn(Schema):
    status: StatusValue
    reason: str = Field("", max_length=300, description="Why, when waiving a milestone.")
    completed_on: date | None = None


class AttemptIn(Schema):
    test_date: date
    result_date: date | None = None
    passed: bool | None = None
    score: int | None = Field(None, ge=1, le=300, description="Three-digit USMLE score, 1-300.")


class AttemptOut(Schema):
    id: int
    exam: str
    test_date: date
    result_date: date | None
    passed: bool | None
    score: int | None


class CycleEventOut(Schema):
    key: str
    title: str
    at: datetime
    projected: bool
    source: str


class CycleOut(Schema):
    year: int
    name: str
    events: list[CycleEventOut]


class ErrorDetail(Schema):
    loc: list[str | int]
    msg: str


class ValidationErrorOut(Schema):
    detail: list[ErrorDetail]


class Message(Schema):
    detail: str


# --- Helpers -----------------------------------------------------------------------------------


def _eastern() -> zoneinfo.ZoneInfo:
    return zoneinfo.ZoneInfo(settings.CYCLE_TIME_ZONE)


def _applicant(request) -> User:
    """Pathway endpoints exist only for applicants: advisors and admins get 404, as on the pages."""
    user = request.auth
    if not user.is_applicant:
        raise Http404
    return user


def _milestones(applicant: User):
    hard_prerequisites = Prefetch(
        "template__prerequisite_links",
        queryset=TemplatePrerequisite.objects.filter(kind=TemplatePrerequisite.Kind.HARD).select_related("requires"),
        to_attr="hard_prerequisites",
    )
    return (
        Milestone.objects.applicable()
        .filter(applicant=applicant)
        .select_related("template")
        .prefetch_related(hard_prerequisites)
        .order_by("template__order", "template__key")
    )


def _milestone_for(applicant: User, key: str) -> Milestone:
    """One of the applicant's own milestones by template key; anyone else's (or none) is 404."""
    milestone = _milestones(applicant).filter(template__key=key).first()
    if milestone is None:
        raise Http404
    return milestone


def _milestone_out(milestone: Milestone, own_keys: set[str]) -> dict:
    prerequisites = getattr(milestone.template, "hard_prerequisites", None)
    if prerequisites is None:
        prerequisites = milestone.template.prerequisite_links.filter(kind=TemplatePrerequisite.Kind.HARD)
    return {
        "key": milestone.template.key,
        "title": milestone.template.title,
        "phase": milestone.template.phase,
        "status": milestone.status,
        "due_at": milestone.due_at.astimezone(_eastern()) if milestone.due_at else None,
        "projected": milestone.due_projected,
        # Only prerequisites this applicant actually has (a DO's COMLEX is not an IMG's concern).
        "prerequisites": [link.requires.key for link in prerequisites if link.requires.key in own_keys],
    }


def _validation_error_response(exc: ValidationError) -> dict:
    """A service's ValidationError in the same shape as ninja's own 422s: [{"loc": [...], "msg": ...}]."""
    if hasattr(exc, "error_dict"):
        return {
            "detail": [
                {"loc": ["body"] if field == "__all__" else ["body", field], "msg": message}
                for field, errors in exc.message_dict.items()
                for message in errors
            ]
        }
    return {"detail": [{"loc": ["body"], "msg": message} for message in exc.messages]}


# --- Endpoints ---------------------------------------------------------------------------------


@api.get("/pathway", response={200: PathwayOut, 404: Message}, tags=["pathway"])
def get_pathway(request):
    """The applicant's profile summary, every milestone with its deadline, and the current risks."""
    from milestones.risks import pathway_risks

    applicant = _applicant(request)
    profile = ApplicantProfile.objects.select_related("target_cycle").filter(user=applicant).first()
    if profile is None:
        return Status(404, {"detail": "No pathway yet: finish onboarding at /onboarding/ first."})
    milestones = list(_milestones(applicant))
    own_keys = {m.template.key for m in milestones}
    risks = pathway_risks(applicant=applicant, milestones=milestones)
    return {
        "applicant": {
            "type": profile.applicant_type,
            "target_cycle": profile.target_cycle.year,
            "time_zone": profile.time_zone,
        },
        "milestones": [_milestone_out(m, own_keys) for m in milestones],
        "risks": [
            {
                "code": risk.code,
                "severity": risk.severity,
                "message": risk.message,
                "action": risk.action,
                "milestone": risk.milestone or None,
            }
            for risk in risks
        ],
    }


@api.patch(
    "/milestones/{key}", response={200: MilestoneOut, 404: Message, 422: ValidationErrorOut}, tags=["pathway"]
)
def update_milestone(request, key: str, payload: StatusIn):
    """Change a milestone's status (not_started, in_progress, done, waived), as on the milestone page."""
    from milestones.services import set_status

    applicant = _applicant(request)
    milestone = _milestone_for(applicant, key)
    try:
        # Atomic here as well, so a rule violation found half-way leaves nothing behind.
        with transaction.atomic():
            set_status(
                milestone=milestone,
                status=payload.status,
                by=applicant,
                reason=payload.reason,
                completed_on=payload.completed_on,
            )
    except ValidationError as exc:
        return Status(422, _validation_error_response(exc))
    milestone = _milestone_for(applicant, key)
    own_keys = set(Milestone.objects.applicable().filter(applicant=applicant).values_list("template__key", flat=True))
    return _milestone_out(milestone, own_keys)


@api.post(
    "/milestones/{key}/attempts",
    response={201: AttemptOut, 404: Message, 422: ValidationErrorOut},
    tags=["pathway"],
)
def create_attempt(request, key: str, payload: AttemptIn):
    """Record a USMLE attempt on an exam milestone; attempt-limit and timing rules are enforced."""
    from milestones.services import record_exam_attempt

    applicant = _applicant(request)
    milestone = _milestone_for(applicant, key)
    if milestone.template.evidence != EvidenceKind.EXAM:
        return Status(422, {"detail": [{"loc": ["path", "key"], "msg": f"{milestone.template.title} takes no exam attempts."}]})
    try:
        with transaction.atomic():
            attempt = record_exam_attempt(milestone=milestone, by=applicant, **payload.dict())
    except ValidationError as exc:
        return Status(422, _validation_error_response(exc))
    return Status(201, attempt)


@api.get("/cycles/{int:year}", response={200: CycleOut, 404: Message}, tags=["cycles"])
def get_cycle(request, year: int):
    """A Match cycle's dated events. Public reference data: any signed-in user or token may read it."""
    cycle = MatchCycle.objects.filter(year=year).first()
    if cycle is None:
        return Status(404, {"detail": f"No {year} Match cycle is known."})
    events = CycleEvent.objects.filter(cycle=cycle).order_by("at", "key")
    return {
        "year": cycle.year,
        "name": cycle.name,
        "events": [
            {
                "key": event.key,
                "title": event.title,
                "at": event.at.astimezone(_eastern()),
                "projected": event.projected,
                "source": event.source_url,
            }
            for event in events
        ],
    }
