"""State changes of the pathway engine. Every function here is the only way to make that change.

Views, the API, the loader and the demo call these, never raw saves: the rules (prerequisites, attempt
limits, date sanity) live in one place. Each writes in one transaction and takes keyword arguments only.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import date, datetime, timedelta

from django.core.exceptions import ObjectDoesNotExist, ValidationError
from django.db import transaction
from django.db.models import Case, Q, Value, When
from django.utils import timezone
from simple_history.utils import bulk_create_with_history, bulk_update_with_history

from . import rules as rule_checks
from .deadlines import (
    ApplicantDates,
    DeadlineResolver,
    EventDate,
    Rule,
    dependants_by_anchor,
    depends_on_applicant,
)
from .models import (
    ApplicantProfile,
    Confidence,
    CycleEvent,
    DocumentEvidence,
    EvidenceKind,
    ExamAttempt,
    MatchCycle,
    Milestone,
    MilestoneTemplate,
    OETResult,
    Reminder,
    TemplatePrerequisite,
    USCEEntry,
)
from .yearly import next_year_dates

Status = Milestone.Status
CLOSED = (Status.DONE, Status.WAIVED)
# How far ahead a booked test or a planned date may be entered; beyond that it is almost surely a typo.
MAX_DAYS_AHEAD = 365
# SQLite refuses statements with more than 32,766 parameters; keep each CASE update well below that.
UPDATE_CHUNK = 2000


class PrerequisiteMissing(ValidationError):
    """Completing a milestone whose hard prerequisites are not done (or waived) yet."""


# --- Planning ----------------------------------------------------------------------------------


def template_applies(template: MilestoneTemplate, profile: ApplicantProfile) -> bool:
    if not template.is_active or profile.applicant_type not in (template.applies_to or []):
        return False
    if template.visa_route and not (profile.needs_visa and profile.visa_route == template.visa_route):
        return False
    return not template.optional or template.key in (profile.opted_in or [])


def cycle_events(cycle_ids: Iterable[int]) -> dict[int, dict[str, EventDate]]:
    events: dict[int, dict[str, EventDate]] = defaultdict(dict)
    for cycle_id, key, at, status in CycleEvent.objects.filter(cycle_id__in=list(cycle_ids)).values_list(
        "cycle_id", "key", "at", "status"
    ):
        events[cycle_id][key] = EventDate(at, status == "projected")
    return events


def applicant_dates(profile: ApplicantProfile) -> ApplicantDates:
    return ApplicantDates(graduation_date=profile.graduation_date, tz=profile.tz)


@transaction.atomic
def plan_pathway(*, applicant) -> None:
    """Create the applicant's milestones from the templates that apply and (re)compute every deadline.

    Idempotent. On a re-plan (type, visa or cycle change) a milestone that stops applying is hidden
    (is_applicable=False) with its evidence kept, and comes back if it applies again.
    """
    # Locking the profile serialises two concurrent plans of the same applicant (double submit).
    profile = ApplicantProfile.objects.select_for_update().get(user=applicant)
    templates = list(MilestoneTemplate.objects.all())
    existing = {m.template_id: m for m in Milestone.objects.filter(applicant=applicant)}
    resolver = DeadlineResolver(
        rules={t.key: Rule.of(t) for t in templates},
        events=cycle_events([profile.target_cycle_id])[profile.target_cycle_id],
        applicant=applicant_dates(profile),
    )
    new, changed = [], []
    for template in templates:
        deadline = resolver.resolve(template.key)
        values = {
            "is_applicable": template_applies(template, profile),
            "due_at": deadline.at if deadline else None,
            "due_projected": deadline.projected if deadline else False,
        }
        milestone = existing.get(template.id)
        if milestone is None:
            if values["is_applicable"]:
                new.append(Milestone(applicant=applicant, template=template, **values))
        elif any(getattr(milestone, name) != value for name, value in values.items()):
            for name, value in values.items():
                setattr(milestone, name, value)
            changed.append(milestone)
    if new:
        bulk_create_with_history(new, Milestone, default_user=applicant)
    if changed:
        bulk_update_with_history(
            changed, Milestone, ["is_applicable", "due_at", "due_projected"], default_user=applicant
        )


def _differs(at: datetime | None, projected: bool) -> Q:
    """Rows whose stored deadline is not already (at, projected): only those are written."""
    other_at = Q(due_at__isnull=False) if at is None else ~Q(due_at=at) | Q(due_at__isnull=True)
    return other_at | ~Q(due_projected=projected)


@transaction.atomic
def recompute_deadlines(*, cycle=None, template=None, applicants=None) -> int:
    """Recompute stored deadlines in bulk after an event date or a template rule changed.

    Returns the number of milestones whose deadline changed. Deadlines that hang from cycle events are
    the same for every applicant of a cycle, so each distinct value is one UPDATE over all of them: the
    number of queries depends on the number of templates, never on the number of applicants. Only
    deadlines hanging from an applicant's own dates are resolved row by row (in Python, over values()).
    Deadline changes are not written to the edit history: they are derived data, and the edit of the
    event or the template that caused them is.
    """
    rows = list(
        MilestoneTemplate.objects.values(
            "id", "key", "deadline_kind", "deadline_anchor", "deadline_offset_days"
        )
    )
    rules = {row["key"]: Rule.of(row) for row in rows}
    template_ids = {row["key"]: row["id"] for row in rows}
    keys = dependants_by_anchor(rules, {template.key}) if template is not None else set(rules)

    profiles = ApplicantProfile.objects.all()
    if cycle is not None:
        profiles = profiles.filter(target_cycle=cycle)
    if applicants is not None:
        profiles = profiles.filter(user__in=applicants)
    cycle_ids = (
        [cycle.pk]
        if cycle is not None
        else list(profiles.values_list("target_cycle_id", flat=True).distinct())
    )
    events = cycle_events(cycle_ids)
    changed = 0

    cycle_keys = sorted(k for k in keys if not depends_on_applicant(k, rules))
    for cycle_id in cycle_ids:
        resolver = DeadlineResolver(rules=rules, events=events[cycle_id])
        by_value: dict[tuple, list[int]] = defaultdict(list)
        for key in cycle_keys:
            deadline = resolver.resolve(key)
            by_value[(deadline.at, deadline.projected) if deadline else (None, False)].append(
                template_ids[key]
            )
        in_cycle = profiles.filter(target_cycle_id=cycle_id).values("user_id")
        for (at, projected), ids in by_value.items():
            changed += (
                Milestone.objects.filter(template_id__in=ids, applicant_id__in=in_cycle)
                .filter(_differs(at, projected))
                .update(due_at=at, due_projected=projected)
            )

    applicant_keys = [k for k in keys if depends_on_applicant(k, rules)]
    if applicant_keys:
        keys_by_id = {template_ids[k]: k for k in applicant_keys}
        changed += _recompute_applicant_anchored(rules, keys_by_id, profiles)
    return changed


def _recompute_applicant_anchored(rules, keys_by_id: dict[int, str], profiles) -> int:
    dates = {
        row["user_id"]: (row["graduation_date"], row["time_zone"])
        for row in profiles.values("user_id", "graduation_date", "time_zone")
    }
    resolvers: dict[tuple, DeadlineResolver] = {}
    updates: dict[int, tuple] = {}
    for row in Milestone.objects.filter(
        template_id__in=list(keys_by_id), applicant_id__in=profiles.values("user_id")
    ).values("id", "applicant_id", "template_id", "due_at", "due_projected"):
        graduation, tz_name = dates[row["applicant_id"]]
        resolver = resolvers.get((graduation, tz_name))
        if resolver is None:
            profile = ApplicantProfile(graduation_date=graduation, time_zone=tz_name)
            resolver = resolvers[(graduation, tz_name)] = DeadlineResolver(
                rules=rules, events={}, applicant=applicant_dates(profile)
            )
        deadline = resolver.resolve(keys_by_id[row["template_id"]])
        value = (deadline.at, deadline.projected) if deadline else (None, False)
        if value != (row["due_at"], row["due_projected"]):
            updates[row["id"]] = value
    pks = list(updates)
    for start in range(0, len(pks), UPDATE_CHUNK):
        chunk = pks[start : start + UPDATE_CHUNK]
        Milestone.objects.filter(pk__in=chunk).update(
            due_at=Case(*[When(pk=pk, then=Value(updates[pk][0])) for pk in chunk]),
            due_projected=Case(*[When(pk=pk, then=Value(updates[pk][1])) for pk in chunk]),
        )
    return len(pks)


# --- Status --------------------------------------------------------------------------------------


def local_today(applicant) -> date:
    profile = getattr(applicant, "profile", None)
    return timezone.localdate(timezone=profile.tz) if profile else timezone.localdate()


def missing_hard_prerequisites(milestone: Milestone) -> list[Milestone]:
    """The applicant's applicable hard prerequisites of `milestone` that are neither done nor waived.

    A prerequisite template that does not apply to this applicant (e.g. NBME registration for an IMG)
    is not required.
    """
    required = TemplatePrerequisite.objects.filter(
        template_id=milestone.template_id, kind=TemplatePrerequisite.Kind.HARD
    ).values("requires_id")
    return list(
        Milestone.objects.applicable()
        .filter(applicant_id=milestone.applicant_id, template_id__in=required)
        .exclude(status__in=CLOSED)
        .select_related("template")
        .order_by("template__order")
    )


def _require_applicable(milestone: Milestone) -> None:
    if not milestone.is_applicable:
        raise ValidationError("This step no longer applies to your pathway, so it cannot be changed.")


@transaction.atomic
def set_status(*, milestone: Milestone, status: str, by, reason: str = "", completed_on: date | None = None):
    """Move a milestone to `status`. Completing it needs its hard prerequisites done or waived."""
    if status not in Status.values:
        raise ValidationError({"status": f"Unknown status {status!r}."})
    milestone = (
        Milestone.objects.select_for_update().select_related("template", "applicant").get(pk=milestone.pk)
    )
    _require_applicable(milestone)
    reason = reason.strip()
    if status == Status.DONE:
        missing = missing_hard_prerequisites(milestone)
        if missing:
            titles = ", ".join(m.template.title for m in missing)
            raise PrerequisiteMissing(f"Complete these first: {titles}.", code="prerequisite_missing")
    if status == Status.WAIVED and not reason:
        raise ValidationError({"reason": "Say why this step is waived (for example: exempt by the program)."})
    if status in CLOSED:
        today = local_today(milestone.applicant)
        completed_on = completed_on or today
        if completed_on > today:
            raise ValidationError({"completed_on": "The completion date cannot be in the future."})
        milestone.completed_on = completed_on
        # Nothing left to remind about; cancelled in the same transaction so no reminder slips out.
        milestone.reminders.pending().update(status=Reminder.Status.CANCELLED)
    else:
        milestone.completed_on = None
        if milestone.status in CLOSED:
            # Reopened: the reminders cancelled at completion were never sent, so let the planner
            # plan them again (the unique constraint would otherwise keep them cancelled for good).
            milestone.reminders.filter(status=Reminder.Status.CANCELLED).delete()
    milestone.status = status
    milestone.waived_reason = reason if status == Status.WAIVED else ""
    milestone._history_user = by
    milestone._change_reason = reason[:100] if reason else f"status: {status}"
    milestone.save(update_fields=["status", "waived_reason", "completed_on", "updated_at"])
    return milestone


def _progress_after_evidence(milestone: Milestone, *, passed: bool | None, on: date, by) -> None:
    """Evidence moves the milestone along: a pass completes it when the prerequisites allow.

    A pass recorded while a hard prerequisite is still open (e.g. Step 1 passed before the exam
    registration was ticked off) leaves the milestone in progress rather than refusing the evidence:
    the result is a fact, and the applicant can complete the step once the prerequisite is done.
    """
    if milestone.status in CLOSED:
        return
    if passed and not missing_hard_prerequisites(milestone):
        set_status(
            milestone=milestone,
            status=Status.DONE,
            by=by,
            completed_on=min(on, local_today(milestone.applicant)),
        )
    elif milestone.status == Status.NOT_STARTED:
        set_status(milestone=milestone, status=Status.IN_PROGRESS, by=by)


def _evidence_milestone(milestone: Milestone, kind: str, what: str) -> Milestone:
    milestone = Milestone.objects.select_related("template", "applicant__profile").get(pk=milestone.pk)
    _require_applicable(milestone)
    if milestone.template.evidence != kind:
        raise ValidationError(f"{milestone.template.title} does not record {what}.")
    return milestone


def _check_not_too_far_ahead(day: date | None, field: str, today: date) -> None:
    if day and day > today + timedelta(days=MAX_DAYS_AHEAD):
        raise ValidationError({field: "That date is more than a year ahead; check the year."})


# --- Evidence ------------------------------------------------------------------------------------


@transaction.atomic
def record_exam_attempt(
    *, milestone, test_date, result_date=None, passed=None, score=None, by
) -> ExamAttempt:
    """Record a USMLE attempt (booked or taken), checked against the rule tables in force on its date.

    Only a score: `passed` is derived from the passing standard in force on the test date. A pass
    completes the milestone when its hard prerequisites are done, otherwise it moves to in progress.
    """
    milestone = _evidence_milestone(milestone, EvidenceKind.EXAM, "USMLE attempts")
    exam = milestone.template.exam
    if not exam:
        raise ValidationError(f"{milestone.template.title} has no USMLE Step configured.")
    today = local_today(milestone.applicant)
    _check_not_too_far_ahead(test_date, "test_date", today)
    if test_date > today and (passed is not None or score is not None or result_date):
        raise ValidationError({"passed": "A result cannot be recorded for a test that has not happened yet."})
    if result_date and result_date < test_date:
        raise ValidationError({"result_date": "The result cannot come before the test date."})
    if result_date and result_date > today:
        raise ValidationError({"result_date": "The result date cannot be in the future."})
    if score is not None:
        if not 1 <= score <= 300:
            raise ValidationError({"score": "USMLE scores run from 1 to 300."})
        judgement = rule_checks.judge_score(exam=exam, test_date=test_date, score=score)
        standard = rule_checks.standard_in_force(exam=exam, day=test_date)
        if standard is not None and standard.pass_fail_only:
            raise ValidationError({"score": judgement.reason})
        if judgement.passed is not None:
            if passed is not None and passed != judgement.passed:
                raise ValidationError({"passed": f"That does not match the score: {judgement.reason}"})
            passed = judgement.passed
    # Lock the applicant's exam milestones so two concurrent submissions cannot both pass the limit.
    list(
        Milestone.objects.select_for_update().filter(
            applicant_id=milestone.applicant_id, template__evidence=EvidenceKind.EXAM
        )
    )
    previous = [
        rule_checks.PastAttempt(a.exam, a.test_date, a.passed)
        for a in ExamAttempt.objects.filter(milestone__applicant_id=milestone.applicant_id)
    ]
    rule_checks.check_new_attempt(exam=exam, test_date=test_date, attempts=previous)
    attempt = ExamAttempt.objects.create(
        milestone=milestone,
        exam=exam,
        test_date=test_date,
        result_date=result_date,
        passed=passed,
        score=score,
    )
    _progress_after_evidence(milestone, passed=passed, on=result_date or test_date, by=by)
    return attempt


@transaction.atomic
def record_oet_result(
    *, milestone, test_date, listening, reading, speaking, writing, candidate_number="", by
) -> OETResult:
    milestone = _evidence_milestone(milestone, EvidenceKind.OET, "OET results")
    scores = {"listening": listening, "reading": reading, "speaking": speaking, "writing": writing}
    errors = {
        name: "OET sub-test scores run from 0 to 500."
        for name, value in scores.items()
        if not 0 <= value <= 500
    }
    if errors:
        raise ValidationError(errors)
    if test_date > local_today(milestone.applicant):
        raise ValidationError({"test_date": "Results can only be recorded for a test that has taken place."})
    result = OETResult.objects.create(
        milestone=milestone, test_date=test_date, candidate_number=candidate_number.strip(), **scores
    )
    judgement = rule_checks.judge_oet(test_date=test_date, **scores)
    _progress_after_evidence(milestone, passed=judgement.passed, on=test_date, by=by)
    return result


@transaction.atomic
def add_document(*, milestone, label, reference="", date=None, note="", by) -> DocumentEvidence:
    """A date or a number for any milestone (IDs, submission dates, certificates): not only 'document' ones."""
    milestone = Milestone.objects.select_related("applicant__profile").get(pk=milestone.pk)
    _require_applicable(milestone)
    if not label.strip():
        raise ValidationError({"label": "Say what this is (for example: ECFMG ID)."})
    _check_not_too_far_ahead(date, "date", local_today(milestone.applicant))
    document = DocumentEvidence.objects.create(
        milestone=milestone, label=label.strip(), reference=reference.strip(), date=date, note=note.strip()
    )
    _progress_after_evidence(milestone, passed=False, on=date or local_today(milestone.applicant), by=by)
    return document


@transaction.atomic
def add_usce_entry(
    *, milestone, kind, hands_on, specialty, site, start_date, end_date, supervisor="", by
) -> USCEEntry:
    milestone = _evidence_milestone(milestone, EvidenceKind.USCE, "US clinical experience")
    if kind not in USCEEntry.Kind.values:
        raise ValidationError({"kind": f"Unknown kind {kind!r}."})
    errors = {}
    if not specialty.strip():
        errors["specialty"] = "Give the specialty."
    if not site.strip():
        errors["site"] = "Give the hospital or clinic."
    if end_date < start_date:
        errors["end_date"] = "The end date cannot be before the start date."
    if errors:
        raise ValidationError(errors)
    _check_not_too_far_ahead(start_date, "start_date", local_today(milestone.applicant))
    entry = USCEEntry.objects.create(
        milestone=milestone,
        kind=kind,
        hands_on=hands_on,
        specialty=specialty.strip(),
        site=site.strip(),
        supervisor=supervisor.strip(),
        start_date=start_date,
        end_date=end_date,
    )
    _progress_after_evidence(milestone, passed=False, on=start_date, by=by)
    return entry


EVIDENCE_MODELS = {
    "attempt": ExamAttempt,
    "oet": OETResult,
    "document": DocumentEvidence,
    "usce": USCEEntry,
}


def _is_passing(kind: str, row) -> bool:
    if kind == "attempt":
        return bool(row.passed)
    if kind == "oet":
        return bool(rule_checks.judge_oet_result(row).passed)
    return False


@transaction.atomic
def remove_evidence(*, milestone, kind: str, evidence_id: int, by) -> None:
    """Remove one evidence row (entered by mistake) from `milestone`.

    `kind` is one of EVIDENCE_MODELS ("attempt", "oet", "document", "usce"). The row must belong to that
    milestone, otherwise ObjectDoesNotExist is raised (the view answers 404: a foreign row does not exist).

    Status rule, kept deliberately simple: removing a *passing* exam attempt or OET result from a milestone
    that is done, when no other passing result remains on that milestone, moves it back to in progress
    (the pass was taken to be why it was done; set_status clears the completion date). Anything else
    leaves the status alone: a failed or pending result never completed a milestone, a waived one stays
    waived, and documents and USCE entries never complete one.
    """
    model = EVIDENCE_MODELS.get(kind)
    if model is None:
        raise ObjectDoesNotExist(f"Unknown kind of evidence {kind!r}.")
    milestone = (
        Milestone.objects.select_for_update().select_related("template", "applicant").get(pk=milestone.pk)
    )
    row = model.objects.filter(pk=evidence_id, milestone=milestone).first()
    if row is None:
        raise model.DoesNotExist("No such evidence on this milestone.")
    _require_applicable(milestone)
    was_passing = _is_passing(kind, row)
    row.delete()
    if not (was_passing and milestone.status == Status.DONE):
        return
    remaining = model.objects.filter(milestone=milestone)
    if kind == "attempt":
        still_passed = remaining.filter(passed=True).exists()
    else:
        still_passed = any(_is_passing(kind, other) for other in remaining)
    if not still_passed:
        set_status(milestone=milestone, status=Status.IN_PROGRESS, by=by, reason="passing result removed")


# --- Cycles ----------------------------------------------------------------------------------------


@transaction.atomic
def copy_cycle_to_next_year(*, cycle: MatchCycle) -> MatchCycle:
    """The next Match cycle, with every event moved by its yearly pattern and marked projected."""
    year = cycle.year + 1
    if MatchCycle.objects.filter(year=year).exists():
        raise ValidationError(f"The {year} cycle already exists; nothing was copied from {cycle.name}.")
    name = (
        cycle.name.replace(str(cycle.year), str(year)) if str(cycle.year) in cycle.name else f"{year} Match"
    )
    new = MatchCycle.objects.create(year=year, name=name)
    events = list(cycle.events.all())
    moved = next_year_dates({event.key: event.at for event in events})
    CycleEvent.objects.bulk_create(
        CycleEvent(
            cycle=new,
            key=event.key,
            title=event.title,
            at=moved[event.key],
            status=Confidence.PROJECTED,
            source_url=event.source_url,
            note=f"Projected from the {cycle.year} date by the yearly pattern; confirm against the source.",
        )
        for event in events
    )
    return new
