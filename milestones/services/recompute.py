"""Bulk recomputation of stored deadlines after an event date or a template rule changed."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import Case, Q, Value, When

from pathway.lib.times import ET

from ..deadlines import DeadlineResolver, EventDate, Rule, dependants_by_anchor, depends_on_applicant
from ..models import ApplicantProfile, Milestone, MilestoneTemplate
from ..versions import pathway_changed, reference_changed
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
    # Bulk UPDATEs send no signals: the pages of everyone concerned must be built afresh.
    if applicants is None:
        reference_changed()
    elif changed:
        pathway_changed(*profiles.values_list("user_id", flat=True))
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
    updates = {row["id"]: value for row, value in _applicant_anchored_changes(rules, keys_by_id, profiles)}
    _write_deadlines(updates)
    return len(updates)


def _applicant_anchored_changes(rules, keys_by_id: dict[int, str], profiles, milestones=None):
    """(milestone row, new (due_at, due_projected)) for each applicant-anchored deadline that differs."""
    milestones = Milestone.objects.all() if milestones is None else milestones
    dates = {
        row["user_id"]: (row["graduation_date"], row["time_zone"])
        for row in profiles.values("user_id", "graduation_date", "time_zone")
    }
    # Applicants sharing a graduation date and a time zone share a resolver (and its memo).
    resolvers: dict[tuple, DeadlineResolver] = {}
    for row in milestones.filter(
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
            yield row, value


def _write_deadlines(updates: dict[int, tuple]) -> None:
    """Write {milestone pk: (due_at, due_projected)} with one CASE UPDATE per chunk of rows."""
    pks = list(updates)
    for start in range(0, len(pks), UPDATE_CHUNK):
        chunk = pks[start : start + UPDATE_CHUNK]
        Milestone.objects.filter(pk__in=chunk).update(
            due_at=Case(*[When(pk=pk, then=Value(updates[pk][0])) for pk in chunk]),
            due_projected=Case(*[When(pk=pk, then=Value(updates[pk][1])) for pk in chunk]),
        )


# --- Preview: the same computation, nothing written ---------------------------------------------


@dataclass(frozen=True)
class DeadlineMove:
    """One applicant's deadline before and after the edit (an example in the preview)."""

    applicant: str
    milestone: str
    before: datetime | None
    after: datetime | None
    shift: str


@dataclass(frozen=True)
class DeadlinePreview:
    """What an edit would do to the deadlines applicants see (their applicable milestones)."""

    milestones: int
    applicants: int
    shifts: list[tuple[str, int]]  # ("3 days later", 120), the most common first
    examples: list[DeadlineMove]


def preview_deadline_changes(
    *, cycle=None, events: Mapping[str, EventDate] | None = None, template_key: str | None = None,
    rule: Rule | None = None, examples: int = 5,
) -> DeadlinePreview:  # fmt: skip
    """The deadlines `recompute_deadlines` would move if `cycle`'s events were `events` (every event of
    the cycle, by key) or template `template_key`'s rule were `rule`. Reads only: the admin shows this
    before the edit is saved. Same resolver, same grouping into one query per distinct value."""
    rules, template_ids = _template_rules()
    if template_key is not None and rule is not None:
        rules[template_key] = rule
    keys = dependants_by_anchor(rules, {template_key}) if template_key is not None else set(rules)
    profiles = _affected_profiles(cycle=cycle, applicants=None)
    cycle_ids = (
        [cycle.pk]
        if cycle is not None
        else list(profiles.values_list("target_cycle_id", flat=True).distinct())
    )
    all_events = cycle_events(cycle_ids)
    if cycle is not None and events is not None:
        all_events[cycle.pk] = dict(events)
    shown = Milestone.objects.filter(is_applicable=True)
    changes: list[tuple] = []  # (milestone id, applicant id, before, after)
    cycle_keys = sorted(k for k in keys if not depends_on_applicant(k, rules))
    for cycle_id in cycle_ids:
        resolver = DeadlineResolver(rules=rules, events=all_events[cycle_id])
        in_cycle = profiles.filter(target_cycle_id=cycle_id).values("user_id")
        for (at, projected), ids in _template_ids_by_deadline(resolver, cycle_keys, template_ids).items():
            rows = shown.filter(template_id__in=ids, applicant_id__in=in_cycle).filter(
                _differs(at, projected)
            )
            changes += [
                (pk, who, before, at) for pk, who, before in rows.values_list("id", "applicant_id", "due_at")
            ]
    keys_by_id = {template_ids[k]: k for k in keys if depends_on_applicant(k, rules)}
    if keys_by_id:
        for row, (at, _projected) in _applicant_anchored_changes(rules, keys_by_id, profiles, shown):
            changes.append((row["id"], row["applicant_id"], row["due_at"], at))
    return _summarise(changes, examples)


def _summarise(changes: list[tuple], examples: int) -> DeadlinePreview:
    shifts = Counter(describe_shift(before, after) for _, _, before, after in changes)
    # A few examples, from as many different milestones as possible.
    rows = {
        pk: (name or email, title)
        for pk, email, name, title in Milestone.objects.filter(pk__in=[c[0] for c in changes])
        .order_by("template__order", "applicant__email")
        .values_list("id", "applicant__email", "applicant__name", "template__title")[: examples * 20]
    }
    picked, seen_titles = [], set()
    by_id = {c[0]: c for c in changes}
    for pk, (who, title) in rows.items():
        if title not in seen_titles and len(picked) < examples:
            seen_titles.add(title)
            _, _, before, after = by_id[pk]
            picked.append(DeadlineMove(who, title, before, after, describe_shift(before, after)))
    return DeadlinePreview(
        milestones=len(changes),
        applicants=len({c[1] for c in changes}),
        shifts=shifts.most_common(),
        examples=picked,
    )


def describe_shift(before: datetime | None, after: datetime | None) -> str:
    """ "3 days later", "4 h 30 min earlier", on the US Eastern wall clock (the cycle's clock), so a
    30-day move across a DST change still reads as 30 days."""
    if before is None:
        return "gets a deadline"
    if after is None:
        return "loses its deadline"
    delta = after.astimezone(ET).replace(tzinfo=None) - before.astimezone(ET).replace(tzinfo=None)
    if not delta:
        return "same time, status changes (projected or confirmed)"
    direction = "later" if delta > timedelta(0) else "earlier"
    delta = abs(delta)
    days, rest = delta.days, delta.seconds
    parts = [f"{days} day{'s' if days != 1 else ''}"] if days else []
    if rest // 3600:
        parts.append(f"{rest // 3600} h")
    if rest % 3600 // 60:
        parts.append(f"{rest % 3600 // 60} min")
    return f"{' '.join(parts)} {direction}"
