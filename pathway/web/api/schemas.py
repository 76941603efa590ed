"""The API's request and response shapes (its OpenAPI schema is built from these)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from ninja import Field, Schema

from milestones.models import REASON_MAX_LENGTH, USMLE_SCORE_MAX, USMLE_SCORE_MIN, Milestone

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
    reason: str = Field("", max_length=REASON_MAX_LENGTH, description="Why, when waiving a milestone.")
    completed_on: date | None = None


class AttemptIn(Schema):
    test_date: date
    result_date: date | None = None
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
