"""The pathway router: the applicant's own milestones, deadlines and risks; status changes; exam attempts.

Pathway endpoints exist for applicants only: advisors and admins get 404, as on the HTML pages.
"""

from __future__ import annotations

import json

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Prefetch
from django.http import Http404, HttpResponse
from ninja import Router, Status
from ninja.errors import HttpError
from ninja.responses import NinjaJSONEncoder

from milestones.models import EvidenceKind, Milestone, TemplatePrerequisite
from milestones.reference import ReferenceData, reference_data
from milestones.risks import pathway_risks
from milestones.services import pass_waiting_for, record_exam_attempt, set_status, waiting_sentence
from milestones.versions import page_state
from pathway.access import get_milestone_for, profile_of
from pathway.lib.times import ET
from pathway.models import User
from pathway.web.page_cache import cached_content

from .schemas import (
    READ_ERRORS,
    WRITE_ERRORS,
    AttemptIn,
    AttemptOut,
    AttemptRecordedOut,
    MilestoneOut,
    PathwayOut,
    StatusIn,
)

router = Router(tags=["pathway"])


def _applicant(request) -> User:
    """Pathway endpoints exist only for applicants: advisors and admins get 404, as on the pages."""
    user = request.auth
    if not user.is_applicant:
        raise Http404
    return user


def _with_prerequisites():
    """Milestones with their templates' hard prerequisites, in pathway order (one prefetch query)."""
    hard_prerequisites = Prefetch(
        "template__prerequisite_links",
        queryset=TemplatePrerequisite.objects.filter(kind=TemplatePrerequisite.Kind.HARD).select_related(
            "requires"
        ),
        to_attr="hard_prerequisites",
    )
    return Milestone.objects.prefetch_related(hard_prerequisites).order_by("template__order", "template__key")


def _milestone_for(applicant: User, key: str) -> Milestone:
    """One of the applicant's own milestones by template key; anyone else's (or none) is 404.

    The 404 names the key, so a script's typo is plain; it says the same for another applicant's
    milestone and for no milestone at all, so it tells nothing about other people's pathways.
    """
    try:
        return get_milestone_for(applicant, key, queryset=_with_prerequisites())
    except Http404:
        raise HttpError(404, f"No milestone '{key}' on your pathway.") from None


def _milestone_out(milestone: Milestone, own_keys: set[str], prerequisites=None) -> dict:
    """`prerequisites`: the keys of the template's hard prerequisites, when the caller has them."""
    if prerequisites is None:
        links = getattr(milestone.template, "hard_prerequisites", None)
        if links is None:
            links = milestone.template.prerequisite_links.filter(kind=TemplatePrerequisite.Kind.HARD)
        prerequisites = [link.requires.key for link in links]
    return {
        "key": milestone.template.key,
        "title": milestone.template.title,
        "phase": milestone.template.phase,
        "status": milestone.status,
        "due_at": milestone.due_at.astimezone(ET) if milestone.due_at else None,
        "projected": milestone.due_projected,
        # Only prerequisites this applicant actually has (a DO's COMLEX is not an IMG's concern).
        "prerequisites": [key for key in prerequisites if key in own_keys],
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


@router.get("/pathway", response={200: PathwayOut, **READ_ERRORS})
def get_pathway(request):
    """The applicant's profile summary, every milestone with its deadline, and the current risks."""
    applicant = _applicant(request)
    state = page_state(applicant.pk)
    if state is None:
        return Status(404, {"detail": "No pathway yet: finish onboarding at /onboarding/ first."})

    def build(now):
        out = _pathway_out(applicant, profile_of(applicant), reference_data(state.reference_stamp))
        return json.dumps(out, cls=NinjaJSONEncoder).encode(), None

    # The serialised answer comes from the per-applicant content cache (pathway/web/page_cache.py);
    # validated against PathwayOut when built, as ninja would, and handed back as it is.
    content = cached_content(kind="api-pathway", applicant_id=applicant.pk, state=state, build=build)
    return HttpResponse(content, content_type="application/json; charset=utf-8")


def _pathway_out(applicant: User, profile, reference: ReferenceData) -> dict:
    milestones = list(Milestone.objects.of_applicant(applicant).order_by("template__order", "template__key"))
    own_keys = {m.template.key for m in milestones}
    links = reference.hard_prerequisites
    risks = pathway_risks(applicant=applicant, milestones=milestones, profile=profile, reference=reference)
    return PathwayOut.model_validate(
        {
            "applicant": {
                "type": profile.applicant_type,
                "target_cycle": profile.target_cycle.year,
                "time_zone": profile.time_zone,
            },
            "milestones": [_milestone_out(m, own_keys, links.get(m.template.key, ())) for m in milestones],
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
    ).model_dump(by_alias=True)


# Keys are slugs, as on the pages: anything else (a NUL, a space) can be no milestone, and is a JSON 404
# (pathway.web.site.not_found) before it reaches the database, which cannot even store a NUL.
@router.patch("/milestones/{slug:key}", response={200: MilestoneOut, **WRITE_ERRORS})
def update_milestone(request, key: str, payload: StatusIn):
    """Change a milestone's status (not_started, in_progress, done, waived), as on the milestone page."""
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
    own_keys = set(Milestone.objects.of_applicant(applicant).values_list("template__key", flat=True))
    return _milestone_out(milestone, own_keys)


@router.post(
    "/milestones/{slug:key}/attempts",
    response={201: AttemptRecordedOut, **WRITE_ERRORS},
)
def create_attempt(request, key: str, payload: AttemptIn):
    """Record a USMLE attempt on an exam milestone; attempt-limit and timing rules are enforced."""
    applicant = _applicant(request)
    milestone = _milestone_for(applicant, key)
    if milestone.template.evidence != EvidenceKind.EXAM:
        return Status(
            422,
            {
                "detail": [
                    {"loc": ["path", "key"], "msg": f"{milestone.template.title} takes no exam attempts."}
                ]
            },
        )
    try:
        with transaction.atomic():
            attempt = record_exam_attempt(milestone=milestone, by=applicant, **payload.dict())
    except ValidationError as exc:
        return Status(422, _validation_error_response(exc))
    waiting = pass_waiting_for(milestone, passed=attempt.passed)
    milestone.refresh_from_db(fields=["status"])
    return Status(
        201,
        {
            **AttemptOut.from_orm(attempt).dict(),
            "milestone_status": milestone.status,
            "waiting_for": [m.template.key for m in waiting],
            "message": waiting_sentence(milestone, waiting),
        },
    )
