"""Interviews: invitation, date and time in the interview's own time zone, mode, thank-you and letter of
intent dates; same-day and overlapping interviews flagged; short notes scored the same day on the
applicant's own weighted criteria (`scores_for` gives the rank order list builder one score per program)."""

from __future__ import annotations

import zoneinfo
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal

from django.core.exceptions import ValidationError
from django.db import transaction

from milestones.models import validate_time_zone

from .applications import advance_to
from .models import Application, Criterion, Interview, InterviewScore, Status
from .pages import changes_pathway, of_applicant, of_application, of_interview

SCORE_MIN, SCORE_MAX = 1, 5


@transaction.atomic
@changes_pathway(of_application)
def save_interview(
    *, application: Application, by, invited_on: date | None = None, starts_local: datetime | None = None,
    time_zone: str = "America/New_York", duration_minutes: int = 240, mode: str = Interview.Mode.VIRTUAL,
    thank_you_on: date | None = None, letter_of_intent_on: date | None = None,
) -> Interview:
    """Record the interview of `application`. `starts_local` is a wall-clock time in `time_zone` (the
    program's). Moves the application on to "interview invited" / "interview scheduled"."""
    try:
        validate_time_zone(time_zone)
    except ValidationError as error:
        raise ValidationError({"time_zone": error.messages}) from None
    starts_at = starts_local.replace(tzinfo=zoneinfo.ZoneInfo(time_zone)) if starts_local else None
    _check_dates(invited_on, starts_at, thank_you_on, letter_of_intent_on, time_zone)
    interview, _ = Interview.objects.select_for_update().get_or_create(application=application)
    interview.invited_on, interview.starts_at, interview.time_zone = invited_on, starts_at, time_zone
    interview.duration_minutes, interview.mode = duration_minutes, mode
    interview.thank_you_on, interview.letter_of_intent_on = thank_you_on, letter_of_intent_on
    interview.full_clean(exclude=["application"])
    interview.save()
    if starts_at:
        advance_to(application=application, status=Status.SCHEDULED, by=by)
    elif invited_on:
        advance_to(application=application, status=Status.INVITED, by=by)
    return interview


def _check_dates(invited_on, starts_at, thank_you_on, loi_on, time_zone: str) -> None:
    errors = {}
    day = starts_at.astimezone(zoneinfo.ZoneInfo(time_zone)).date() if starts_at else None
    if invited_on and day and invited_on > day:
        errors["invited_on"] = "The invitation cannot come after the interview."
    if thank_you_on and day and thank_you_on < day:
        errors["thank_you_on"] = "A thank-you note comes after the interview."
    if thank_you_on and not day:
        errors["thank_you_on"] = "Give the interview's date first."
    if errors:
        raise ValidationError(errors)


@dataclass(frozen=True)
class Conflict:
    other: Interview
    overlapping: bool  # the two time ranges overlap (else: only the same day)

    @property
    def label(self) -> str:
        kind = "Overlaps with" if self.overlapping else "Same day as"
        return f"{kind} {self.other.application.program.name}"


def conflicts(interviews: list[Interview], tz: zoneinfo.ZoneInfo) -> dict[int, list[Conflict]]:
    """For each interview (by pk), the others on the same day in the applicant's zone `tz`, and whether
    their time ranges overlap. Withdrawn applications do not count."""
    dated = sorted(
        (i for i in interviews if i.starts_at and i.application.status != Status.WITHDRAWN),
        key=lambda i: i.starts_at,
    )
    by_day: dict[date, list[Interview]] = defaultdict(list)
    for interview in dated:
        by_day[interview.starts_at.astimezone(tz).date()].append(interview)
    found: dict[int, list[Conflict]] = defaultdict(list)
    for same_day in by_day.values():
        for a in same_day:
            for b in same_day:
                if a.pk != b.pk:
                    found[a.pk].append(Conflict(b, _overlaps(a, b)))
    return dict(found)


def _overlaps(a: Interview, b: Interview) -> bool:
    a_end = a.starts_at + timedelta(minutes=a.duration_minutes)
    b_end = b.starts_at + timedelta(minutes=b.duration_minutes)
    return a.starts_at < b_end and b.starts_at < a_end


# --- Criteria and scores ---------------------------------------------------------------------------


@transaction.atomic
@changes_pathway(of_applicant)
def save_criterion(*, applicant, name: str, weight: int, criterion: Criterion | None = None) -> Criterion:
    name = name.strip()
    if not name:
        raise ValidationError({"name": "Name the criterion (e.g. Teaching, Location, Visa support)."})
    duplicate = Criterion.objects.filter(applicant=applicant, name__iexact=name)
    if criterion is not None:
        duplicate = duplicate.exclude(pk=criterion.pk)
    if duplicate.exists():
        raise ValidationError({"name": "You already have a criterion with this name."})
    criterion = criterion or Criterion(applicant=applicant, order=Criterion.objects.filter(applicant=applicant).count())
    criterion.name, criterion.weight = name, weight
    criterion.full_clean()
    criterion.save()
    return criterion


@transaction.atomic
@changes_pathway(of_interview)
def save_interview_notes(*, interview: Interview, notes: str, scores: dict[int, int | None], today: date) -> Interview:
    """The short notes and a score (1-5, or none) per criterion of the applicant's; dated `today`."""
    criteria = {c.pk: c for c in Criterion.objects.filter(applicant_id=interview.application.applicant_id)}
    errors = {}
    for pk, score in scores.items():
        if pk not in criteria:
            errors["scores"] = "Unknown criterion."
        elif score is not None and not SCORE_MIN <= score <= SCORE_MAX:
            errors[f"score_{pk}"] = f"Scores go from {SCORE_MIN} to {SCORE_MAX}."
    if len(notes) > 2000:
        errors["notes"] = "Keep the notes short: at most 2,000 characters."
    if errors:
        raise ValidationError(errors)
    interview.notes, interview.notes_on = notes, today
    interview.save(update_fields=["notes", "notes_on", "updated_at"])
    for pk, score in scores.items():
        if score is None:
            InterviewScore.objects.filter(interview=interview, criterion_id=pk).delete()
        else:
            InterviewScore.objects.update_or_create(interview=interview, criterion_id=pk, defaults={"score": score})
    return interview


@dataclass(frozen=True)
class ProgramScore:
    """An interview's weighted score (1-5, two decimals) on the applicant's criteria."""

    score: Decimal | None
    scored: int  # criteria scored
    of: int  # criteria the applicant has
    notes_on: date | None
    same_day: bool  # notes written on the interview's day


def weighted(scores: list[tuple[int, int]]) -> Decimal | None:
    """Weighted mean of (weight, score) pairs; None when nothing is scored."""
    weights = sum(w for w, _ in scores)
    if not weights:
        return None
    return (Decimal(sum(w * s for w, s in scores)) / weights).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def scores_for(*, applicant, cycle) -> dict[int, ProgramScore]:
    """application pk -> ProgramScore for every interview of the cycle (2 queries, whatever the count)."""
    count = Criterion.objects.filter(applicant=applicant).count()
    pairs: dict[int, list[tuple[int, int]]] = defaultdict(list)
    interviews = {}
    rows = InterviewScore.objects.filter(
        interview__application__applicant=applicant, interview__application__cycle=cycle
    ).select_related("criterion", "interview")
    for row in rows:
        pairs[row.interview.application_id].append((row.criterion.weight, row.score))
        interviews[row.interview.application_id] = row.interview
    result = {}
    for application_id, scored in pairs.items():
        interview = interviews[application_id]
        day = interview.starts_at.astimezone(zoneinfo.ZoneInfo(interview.time_zone)).date() if interview.starts_at else None
        result[application_id] = ProgramScore(
            score=weighted(scored), scored=len(scored), of=count, notes_on=interview.notes_on,
            same_day=bool(day and interview.notes_on == day),
        )
    return result
