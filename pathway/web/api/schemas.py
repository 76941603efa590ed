"""The API's request and response shapes (its OpenAPI schema is built from these)."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from typing import Annotated, Literal

from django.core.exceptions import ValidationError
from django.core.validators import ProhibitNullCharactersValidator
from ninja import Field, Schema
from pydantic import AfterValidator, BeforeValidator, ConfigDict
from pydantic_core import PydanticCustomError

from milestones.models import EARLIEST_DATE, REASON_MAX_LENGTH, USMLE_SCORE_MAX, USMLE_SCORE_MIN, Milestone
from programs.codes import US_STATE_CODES
from programs.requirements import Requirement, SourceKind

StatusValue = Literal[tuple(Milestone.Status.values)]  # type: ignore[valid-type]

# --- Input types: the API refuses what the forms refuse -------------------------------------------

ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
# The check Django's form CharField runs on every text field: the forms and the API refuse NUL alike
# (PostgreSQL cannot store it), with the same message.
_prohibit_nul = ProhibitNullCharactersValidator()


def _iso_date_only(value):
    """Only "YYYY-MM-DD", as the forms' date fields: pydantic alone would read 0 or "0" as a Unix time
    (1 January 1970) and take a date-time for a date."""
    if isinstance(value, str) and ISO_DATE.fullmatch(value):
        return value
    raise PydanticCustomError("date_format", "Give the date as YYYY-MM-DD, e.g. 2026-09-15.")


def _not_before_earliest(value: date) -> date:
    if value < EARLIEST_DATE:
        raise PydanticCustomError(
            "date_too_early",
            "The date cannot be before {earliest}.",
            {"earliest": f"{EARLIEST_DATE:%-d %b %Y}"},
        )
    return value


def _storable_text(value: str) -> str:
    try:
        _prohibit_nul(value)
    except ValidationError as exc:
        raise PydanticCustomError("null_characters", exc.messages[0]) from None
    return value


# Upper limits depend on the applicant's today, so the services check them (for the forms as well).
InputDate = Annotated[date, BeforeValidator(_iso_date_only), AfterValidator(_not_before_earliest)]
InputText = Annotated[str, AfterValidator(_storable_text)]


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
    # An unknown field is refused, not ignored: a script's typo ("complete_on") would otherwise
    # silently save today's date.
    model_config = ConfigDict(extra="forbid")

    status: StatusValue
    reason: InputText = Field("", max_length=REASON_MAX_LENGTH, description="Why, when waiving a milestone.")
    completed_on: InputDate | None = Field(None, description="YYYY-MM-DD; defaults to today.")


class AttemptIn(Schema):
    model_config = ConfigDict(extra="forbid")

    test_date: InputDate = Field(description="YYYY-MM-DD. The same Step on the same day is one attempt.")
    result_date: InputDate | None = None
    passed: bool | None = None
    score: int | None = Field(
        None,
        ge=USMLE_SCORE_MIN,
        le=USMLE_SCORE_MAX,
        description=f"Three-digit USMLE score, {USMLE_SCORE_MIN}-{USMLE_SCORE_MAX}.",
    )


class AttemptOut(Schema):
    id: int
    exam: str
    test_date: date
    result_date: date | None
    passed: bool | None
    score: int | None


class AttemptRecordedOut(AttemptOut):
    """The attempt, and what it did to its milestone: a pass that could not complete the step names the
    open hard prerequisites (template keys) that keep it in progress."""

    milestone_status: str
    waiting_for: list[str]
    message: str


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


# The error answers, documented on every operation that can give them: 401 without valid credentials
# (all of them), 404 for an unknown or foreign object; with a body, 400 when it is not JSON, 403 for a
# session request without the CSRF token, 422 for input the types or the rules refuse.
READ_ERRORS = {401: Message, 404: Message}
WRITE_ERRORS = {400: Message, 401: Message, 403: Message, 404: Message, 422: ValidationErrorOut}
# A change without a body (DELETE, or a POST of an action named by its URL): no 400, since no body is parsed.
ACTION_ERRORS = {401: Message, 403: Message, 404: Message, 422: ValidationErrorOut}


# --- The program directory (programs router) ------------------------------------------------------

RequirementKey = Literal[tuple(Requirement.values)]  # type: ignore[valid-type]
StateCode = Literal[("", *sorted(US_STATE_CODES))]  # type: ignore[valid-type]
PersonSource = Literal[tuple(k for k in SourceKind.values if k not in ("import", "demo"))]  # type: ignore[valid-type]
Cell = Annotated[str, Field(max_length=500), AfterValidator(_storable_text)]


def _not_in_the_future(value: date | None) -> date | None:
    # A day of slack: the caller's "today" may be ahead of the server's (time zones).
    if value is not None and value > date.today() + timedelta(days=1):
        raise PydanticCustomError("date_in_future", "The date you read it cannot be in the future.")
    return value


class ProgramFilterIn(Schema):
    """The search page's filters, as query parameters."""

    q: InputText | None = Field(None, max_length=200, description="Name, ERAS/NRMP name, institution, city or code.")
    specialty: str | None = Field(None, pattern=r"^[0-9]{3}$", description="ACGME specialty code, e.g. 140.")
    state: list[str] = Field(default_factory=list, max_length=60, description="Two-letter state codes (repeat).")
    track: Literal[tuple(t for t in "CMPAR")] | None = Field(None, description="Program type letter.")  # type: ignore[valid-type]
    visa: Literal["J1", "H1B"] | None = Field(None, description="Sponsors this visa (unknown does not).")
    years_since_graduation: int | None = Field(None, ge=0, le=60)
    step2ck: int | None = Field(None, ge=1, le=USMLE_SCORE_MAX)
    usce_months: int | None = Field(None, ge=0, le=120)
    eligible: bool | None = Field(None, description="Only programs the caller is eligible for (needs a profile).")
    page: int = Field(1, ge=1, le=100_000)


class ProgramSummaryOut(Schema):
    code: str | None = Field(description="NRMP program code; null for a program added by name.")
    name: str
    eras_name: str
    nrmp_name: str
    institution: str
    city: str
    state: str
    specialty: str | None = Field(description="ACGME specialty code.")
    program_type: str
    track: str
    listed: bool = Field(description="False for a program an applicant added, not yet listed by an admin.")
    visa_j1: str
    visa_h1b: str
    verdict: Literal["pass", "fail", "unknown"] | None = Field(description="The caller's eligibility; null without a profile.")


class ProgramPageOut(Schema):
    count: int
    page: int
    pages: int
    results: list[ProgramSummaryOut]


class RequirementOut(Schema):
    requirement: str
    label: str
    value: str = Field(description="In words; 'Unknown' when nothing is known.")
    known: bool
    source_url: str
    source_kind: str | None
    observed_on: date | None
    stale: bool
    verified: bool = Field(description="An advisor or admin checked the claim against its source.")


class CheckOut(Schema):
    requirement: str
    outcome: Literal["pass", "fail", "unknown"]
    reason: str
    observed_on: date | None = Field(description="The day the claim used was observed.")
    source_url: str
    stale: bool


class ProgramDetailOut(ProgramSummaryOut):
    positions: int | None
    requirements: list[RequirementOut]
    checks: list[CheckOut] = Field(description="The caller's verdict, requirement by requirement.")
    summary: str | None


class MyProgramIn(Schema):
    model_config = ConfigDict(extra="forbid")

    nrmp_code: InputText = Field("", max_length=20, description="9-11 characters, e.g. 1234140C0.")
    name: InputText = Field("", max_length=200, description="Needed when the code is not in the directory.")
    state: StateCode = ""
    claims: dict[RequirementKey, Cell] = Field(
        default_factory=dict, max_length=len(Requirement.values),
        description="What you read: requirement -> cell (yes, no, 240, none, 2027-02-15; empty = unknown).",
    )
    source_url: InputText = Field("", max_length=500)
    source_kind: PersonSource = "program_website"
    observed_on: Annotated[InputDate | None, AfterValidator(_not_in_the_future)] = Field(None, description="YYYY-MM-DD; today if left out.")
    note: InputText = Field("", max_length=500)
