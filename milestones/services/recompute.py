"""Bulk recomputation of stored deadlines after an event date or a template rule changed."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime

from django.db import transaction
from django.db.models import Case, Q, Value, When

from ..deadlines import DeadlineResolver, Rule, dependants_by_anchor, depends_on_applicant
from ..models import ApplicantProfile, Milestone, MilestoneTemplate
from .planning import applicant_dates, cycle_events

# SQLite refuses statements with more than 32,766 parameters; keep each CASE update well below that.
UPDATE_CHUNK = 2000


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
    rules, template_ids = _template_rules()
    # A changed template moves its own deadline and every deadline chained to it, nothing else.
    keys = dependants_by_anchor(rules, {template.key}) if template is not None else set(rules)
    profiles = _affected_profiles(cycle=cycle, applicants=applicants)
    cycle_ids = (
        [cycle.pk]
        if cycle is not None
        else list(profiles.values_list("target_cycle_id", flat=True).distinct())
    )
    cycle_keys = sorted(k for k in keys if not depends_on_applicant(k, rules))
    changed = _recompute_cycle_anchored(rules, template_ids, cycle_keys, cycle_ids, profiles)
    applicant_keys = [k for k in keys if depends_on_applicant(k, rules)]
    if applicant_keys:
        keys_by_id = {template_ids[k]: k for k in applicant_keys}
        changed += _recompute_applicant_anchored(rules, keys_by_id, profiles)
    return changed


def _template_rules() -> tuple[dict[str, Rule], dict[str, int]]:
    """Every template's deadline rule and id, by key (one query over values(), no model instances)."""
    rows = list(
        MilestoneTemplate.objects.values(
            "id", "key", "deadline_kind", "deadline_anchor", "deadline_offset_days"
        )
    )
    return {row["key"]: Rule.of(row) for row in rows}, {row["key"]: row["id"] for row in rows}


def _affected_profiles(*, cycle, applicants):
    profiles = ApplicantProfile.objects.all()
    if cycle is not None:
        profiles = profiles.filter(target_cycle=cycle)
    if applicants is not None:
        profiles = profiles.filter(user__in=applicants)
    return profiles


def _recompute_cycle_anchored(rules, template_ids: dict[str, int], keys, cycle_ids, profiles) -> int:
    """One UPDATE per distinct (deadline, projected) value per cycle, over all its applicants."""
    events = cycle_events(cycle_ids)
    changed = 0
    for cycle_id in cycle_ids:
        resolver = DeadlineResolver(rules=rules, events=events[cycle_id])
        in_cycle = profiles.filter(target_cycle_id=cycle_id).values("user_id")
        for (at, projected), ids in _template_ids_by_deadline(resolver, keys, template_ids).items():
            changed += (
                Milestone.objects.filter(template_id__in=ids, applicant_id__in=in_cycle)
                .filter(_differs(at, projected))
                .update(due_at=at, due_projected=projected)
            )
    return changed


def _template_ids_by_deadline(resolver: DeadlineResolver, keys, template_ids) -> dict[tuple, list[int]]:
    """Templates grouped by the deadline they resolve to, so templates sharing one share an UPDATE."""
    by_value: dict[tuple, list[int]] = defaultdict(list)
    for key in keys:
        deadline = resolver.resolve(key)
        by_value[(deadline.at, deadline.projected) if deadline else (None, False)].append(template_ids[key])
    return by_value


def _recompute_applicant_anchored(rules, keys_by_id: dict[int, str], profiles) -> int:
    """Deadlines hanging from an applicant's own dates: resolved per row, written in chunked CASEs."""
    dates = {
        row["user_id"]: (row["graduation_date"], row["time_zone"])
        for row in profiles.values("user_id", "graduation_date", "time_zone")
    }
    # Applicants sharing a graduation date and a time zone share a resolver (and its memo).
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
    _write_deadlines(updates)
    return len(updates)


def _write_deadlines(updates: dict[int, tuple]) -> None:
    """Write {milestone pk: (due_at, due_projected)} with one CASE UPDATE per chunk of rows."""
    pks = list(updates)
    for start in range(0, len(pks), UPDATE_CHUNK):
        chunk = pks[start : start + UPDATE_CHUNK]
        Milestone.objects.filter(pk__in=chunk).update(
            due_at=Case(*[When(pk=pk, then=Value(updates[pk][0])) for pk in chunk]),
            due_projected=Case(*[When(pk=pk, then=Value(updates[pk][1])) for pk in chunk]),
        )
