"""Load the shipped cycles, templates and rule tables from milestones/data/*.yaml, idempotently.

Rows are matched by natural key (cycle year, event key, template key, rule exam + effective date...)
and saved only when a value differs, so a second run writes nothing and adds no history rows.
Everything is validated before the first write: a bad file leaves the database untouched.
Rows that exist in the database but not in the files (admin additions) are left alone.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import yaml
from django.db import transaction

from .deadlines import parse_et
from .graph import graph_problems
from .models import (
    ApplicantType,
    ApplicationService,
    AttemptLimit,
    Confidence,
    CycleEvent,
    DeadlineKind,
    ErasFeeSchedule,
    EvidenceKind,
    Exam,
    MatchCycle,
    MilestoneTemplate,
    OETSeasonWindow,
    OETThreshold,
    PassingStandard,
    PathwaySeason,
    Phase,
    ScoreReleaseRule,
    SignalAllowance,
    TemplatePrerequisite,
    TravelBanCountry,
    VisaRoute,
    VisaRule,
)
from .services import recompute_deadlines

DATA_DIR = Path(__file__).resolve().parent / "data"


class DataError(Exception):
    def __init__(self, problems: list[str]):
        super().__init__("\n".join(problems))
        self.problems = problems


@dataclass
class LoadReport:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    deadlines_changed: int = 0
    changes: list[str] = field(default_factory=list)

    @property
    def writes(self) -> int:
        return self.created + self.updated + self.deadlines_changed


def read_data(data_dir: Path = DATA_DIR) -> dict:
    data = {}
    for name in ("cycles", "templates", "rules"):
        with open(data_dir / f"{name}.yaml", encoding="utf-8") as handle:
            data[name] = yaml.safe_load(handle) or {}
    return data


def _day(value) -> date | None:
    if value is None or isinstance(value, date):
        return value
    return date.fromisoformat(str(value))


def template_values(raw: dict) -> dict:
    deadline = raw.get("deadline") or {}
    return {
        "title": raw["title"],
        "phase": raw["phase"],
        "order": raw["order"],
        "guidance": (raw.get("guidance") or "").strip(),
        "applies_to": list(raw.get("applies_to") or []),
        "visa_route": raw.get("visa_route") or "",
        "optional": bool(raw.get("optional", False)),
        "contingency": bool(raw.get("contingency", False)),
        "typical_days": int(raw.get("typical_days") or 0),
        "deadline_kind": deadline.get("kind") or DeadlineKind.NONE,
        "deadline_anchor": deadline.get("anchor") or "",
        "deadline_offset_days": deadline.get("offset_days") or 0,
        "evidence": raw.get("evidence") or EvidenceKind.NONE,
        "exam": raw.get("exam") or "",
        "reminder_lead_days": list(raw.get("reminder_lead_days") or []),
        "source_url": raw.get("source_url") or "",
    }


def validate(data: dict) -> list[str]:
    """Every problem in the files, worded for whoever edits them; empty when they can be loaded."""
    # Templates may anchor to events already in the database (an admin addition) or in the files.
    event_keys = set(CycleEvent.objects.values_list("key", flat=True).distinct())
    problems = _cycle_problems(data["cycles"].get("cycles", []), event_keys)
    templates, prerequisites = {}, {}
    for raw in data["templates"].get("templates", []):
        key = raw["key"]
        if key in templates:
            problems.append(f"{key}: defined twice.")
        values = template_values(raw)
        templates[key] = values
        prerequisites[key] = list(raw.get("hard_prerequisites") or []) + list(
            raw.get("soft_prerequisites") or []
        )
        problems += _template_problems(key, values)
    problems += graph_problems(templates=templates, prerequisites=prerequisites, event_keys=event_keys)
    return problems


def _cycle_problems(cycles: list[dict], event_keys: set[str]) -> list[str]:
    """Problems of the cycles' events; adds every event key seen to `event_keys`."""
    problems = []
    for cycle in cycles:
        for event in cycle.get("events", []):
            event_keys.add(event["key"])
            where = f"cycle {cycle['year']} event {event['key']}"
            if event.get("status") not in Confidence.values:
                problems.append(f"{where}: unknown status {event.get('status')!r}.")
            try:
                parse_et(event["at"])
            except (TypeError, ValueError):
                problems.append(f"{where}: 'at' must be 'YYYY-MM-DD HH:MM'.")
    return problems


def _template_problems(key: str, values: dict) -> list[str]:
    """Problems of one template's own values (its links are checked with the whole graph)."""
    problems = []
    if values["phase"] not in Phase.values:
        problems.append(f"{key}: unknown phase {values['phase']!r}.")
    if unknown := set(values["applies_to"]) - set(ApplicantType.values):
        problems.append(f"{key}: unknown applicant types {sorted(unknown)}.")
    if values["visa_route"] and values["visa_route"] not in VisaRoute.values:
        problems.append(f"{key}: unknown visa route {values['visa_route']!r}.")
    if values["evidence"] not in EvidenceKind.values:
        problems.append(f"{key}: unknown evidence kind {values['evidence']!r}.")
    if (values["evidence"] == EvidenceKind.EXAM) != bool(values["exam"]) or (
        values["exam"] and values["exam"] not in Exam.values
    ):
        problems.append(f"{key}: exam milestones need a Step (step1, step2ck, step3), and only they.")
    return problems


class _Upserter:
    """update_or_create that writes only when a value differs (so re-runs leave no history rows)."""

    def __init__(self, report: LoadReport):
        self.report = report

    def __call__(self, model, existing: dict, natural_key: tuple, lookup: dict, values: dict):
        obj = existing.get(natural_key)
        if obj is None:
            obj = model.objects.create(**lookup, **values)
            existing[natural_key] = obj
            self.report.created += 1
            self.report.changes.append(f"created {model.__name__} {natural_key}")
            return obj
        diff = [name for name, value in values.items() if getattr(obj, name) != value]
        if diff:
            for name in diff:
                setattr(obj, name, values[name])
            obj.save(update_fields=diff)
            self.report.updated += 1
            self.report.changes.append(f"updated {model.__name__} {natural_key}: {', '.join(diff)}")
        else:
            self.report.unchanged += 1
        return obj


def _rule_rows(upsert, model, rows, key_fields, fields):
    existing = {tuple(getattr(obj, f) for f in key_fields): obj for obj in model.objects.all()}
    for raw in rows:
        # The files say `cycle` where the models say `cycle_year`.
        raw = {("cycle_year" if name == "cycle" else name): value for name, value in raw.items()}
        values = {name: raw[name] for name in fields if name in raw}
        for name in DATE_FIELDS:
            if name in values:
                values[name] = _day(values[name])
        if "note" in values:
            values["note"] = values["note"] or ""
        lookup = {name: values.pop(name, raw.get(name)) for name in key_fields}
        upsert(model, existing, tuple(lookup[name] for name in key_fields), lookup, values)


DATE_FIELDS = (
    "effective_from",
    "effective_to",
    "tests_from",
    "pathways_3_5_graduated_from",
    "in_force_from",
    "in_force_to",
    "initial_term_to",
    "last_verified",
)
RULE_COMMON = ("effective_from", "effective_to", "status", "source_url", "last_verified", "note")
DATED = ("status", "source_url", "last_verified", "note")
# Each rule table of rules.yaml: (model, its section in the file, natural key, fields loaded).
RULE_TABLES = (
    (
        PassingStandard,
        "passing_standards",
        ("exam", "effective_from"),
        ("exam", "min_score", "pass_fail_only", *RULE_COMMON),
    ),
    (
        AttemptLimit,
        "attempt_limits",
        ("exam", "effective_from"),
        (
            "exam",
            "max_attempts",
            "max_in_12_months",
            "min_months_after_first_for_last",
            "min_months_after_previous_for_last",
            "spacing_from_attempt",
            "retake_after_pass_allowed",
            "retake_source_url",
            *RULE_COMMON,
        ),
    ),
    (
        OETThreshold,
        "oet_thresholds",
        ("effective_from",),
        ("listening", "reading", "speaking", "writing", "one_sitting", *RULE_COMMON),
    ),
    (
        ScoreReleaseRule,
        "score_release",
        ("exam", "effective_from"),
        ("exam", "typical_days", "worst_case_days", "release_weekday", "blackout", *RULE_COMMON),
    ),
    (ErasFeeSchedule, "eras_fees", ("cycle_year",), ("tiers", "status", "source_url", "last_verified")),
    (
        SignalAllowance,
        "signal_allowances",
        ("cycle_year", "specialty"),
        ("specialty", "gold", "silver", "total", "status", "source_url", "last_verified"),
    ),
    (OETSeasonWindow, "oet_windows", ("cycle_year",), ("tests_from", *DATED)),
    (PathwaySeason, "pathway_seasons", ("cycle_year",), ("pathways_3_5_graduated_from", "fee_usd", *DATED)),
    (ApplicationService, "application_services", ("cycle_year", "service"), ("specialties", "tiers", *DATED)),
    (
        TravelBanCountry,
        "travel_bans",
        ("country", "in_force_from"),
        ("country", "level", "visa_classes", "in_force_from", "in_force_to", *DATED),
    ),
    (
        VisaRule,
        "visa_rules",
        ("key",),
        ("title", "visa_route", "summary", "amount_usd", "in_force_from", "initial_term_to", *DATED),
    ),
)


@transaction.atomic
def load_pathway(data_dir: Path = DATA_DIR) -> LoadReport:
    data = read_data(data_dir)
    problems = validate(data)
    if problems:
        raise DataError(problems)
    report = LoadReport()
    upsert = _Upserter(report)
    _load_cycles(upsert, data["cycles"].get("cycles", []))
    raw_templates = data["templates"].get("templates", [])
    templates = _load_templates(upsert, raw_templates)
    _load_prerequisites(upsert, raw_templates, templates)
    for model, section, key_fields, fields in RULE_TABLES:
        _rule_rows(upsert, model, data["rules"].get(section, []), key_fields, fields)
    # Event dates or template rules may have moved: bring every stored deadline in line, in bulk.
    report.deadlines_changed = recompute_deadlines()
    return report


def _load_cycles(upsert: _Upserter, raw_cycles: list[dict]) -> None:
    cycles = {c.year: c for c in MatchCycle.objects.all()}
    events = {(e.cycle.year, e.key): e for e in CycleEvent.objects.select_related("cycle")}
    for raw in raw_cycles:
        cycle = upsert(MatchCycle, cycles, raw["year"], {"year": raw["year"]}, {"name": raw["name"]})
        for event in raw.get("events", []):
            values = {
                "title": event["title"],
                "at": parse_et(event["at"]),
                "status": event["status"],
                "source_url": event.get("source_url") or "",
                "last_verified": _day(event.get("last_verified")),
                "note": event.get("note") or "",
            }
            upsert(
                CycleEvent, events, (raw["year"], event["key"]), {"cycle": cycle, "key": event["key"]}, values
            )


def _load_templates(upsert: _Upserter, raw_templates: list[dict]) -> dict[str, MilestoneTemplate]:
    """Upsert every template; returns all templates by key (the database's, the files' included)."""
    templates = {t.key: t for t in MilestoneTemplate.objects.all()}
    for raw in raw_templates:
        upsert(MilestoneTemplate, templates, raw["key"], {"key": raw["key"]}, template_values(raw))
    return templates


def _load_prerequisites(upsert: _Upserter, raw_templates: list[dict], templates: dict) -> None:
    # After every template is saved: a prerequisite may be defined further down the file.
    links = {(p.template_id, p.requires_id): p for p in TemplatePrerequisite.objects.all()}
    for raw in raw_templates:
        template = templates[raw["key"]]
        for kind in TemplatePrerequisite.Kind.values:
            for required in raw.get(f"{kind}_prerequisites") or []:
                requires = templates[required]
                upsert(
                    TemplatePrerequisite,
                    links,
                    (template.pk, requires.pk),
                    {"template": template, "requires": requires},
                    {"kind": kind},
                )
