"""Your data: everything an applicant entered, as JSON or CSV, and deleting the account with all of it.

The export reads in a fixed number of queries (profile, milestones with templates, one per evidence kind).
"""

from __future__ import annotations

import csv
from datetime import date, datetime

from django.db.models import Prefetch
from django.utils import timezone

from milestones.models import ApplicantProfile, ExamAttempt, Milestone
from programs.season.export import season_export

PROFILE_FIELDS = [
    "applicant_type",
    "graduation_date",
    "needs_visa",
    "visa_route",
    "target_cycle",
    "specialties",
    "time_zone",
    "opted_in",
    "email_reminders",
    "reminder_lead_days",
    "daily_digest",
    "created_at",
]
MILESTONE_FIELDS = [
    "key",
    "title",
    "phase",
    "status",
    "waived_reason",
    "due_at",
    "due_projected",
    "completed_on",
    "note",
    "applies_to_you",
]
EVIDENCE = {
    "exam_attempts": ("attempts", ["exam", "test_date", "result_date", "passed", "score", "created_at"]),
    "oet_results": (
        "oet_results",
        ["test_date", "listening", "reading", "speaking", "writing", "candidate_number", "created_at"],
    ),
    "documents": ("documents", ["label", "reference", "date", "note", "created_at"]),
    "usce_entries": (
        "usce_entries",
        ["kind", "hands_on", "specialty", "site", "supervisor", "start_date", "end_date", "created_at"],
    ),
    # Not evidence, but the applicant's data too: what their advisors said on each milestone (issue 14).
    "advisor_comments": ("comments", ["author_name", "body", "created_at"]),
}
# A spreadsheet runs a cell starting with one of these as a formula (OWASP "CSV injection").
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def plain(value):
    """JSON-ready value: dates as ISO strings."""
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


def export_data(*, user) -> dict:
    profile = ApplicantProfile.objects.select_related("target_cycle").filter(user=user).first()
    milestones = (
        Milestone.objects.filter(applicant=user)
        .select_related("template")
        .prefetch_related(Prefetch("attempts", queryset=ExamAttempt.objects.order_by("test_date", "pk")))
        .prefetch_related("oet_results", "documents", "usce_entries", "comments")
        .order_by("template__order", "template__key")
    )
    data = {
        "exported_at": timezone.now().isoformat(),
        "account": {"email": user.email, "name": user.name, "date_joined": plain(user.date_joined)},
        "profile": None,
        "milestones": [],
    }
    if profile is not None:
        data["profile"] = {name: plain(getattr(profile, name)) for name in PROFILE_FIELDS}
        data["profile"]["target_cycle"] = profile.target_cycle.year
    for milestone in milestones:
        row = {
            "key": milestone.template.key,
            "title": milestone.template.title,
            "phase": milestone.template.phase,
            "status": milestone.status,
            "waived_reason": milestone.waived_reason,
            "due_at": plain(milestone.due_at),
            "due_projected": milestone.due_projected,
            "completed_on": plain(milestone.completed_on),
            "note": milestone.note,
            "applies_to_you": milestone.is_applicable,
        }
        for section, (related, fields) in EVIDENCE.items():
            row[section] = [
                {name: plain(getattr(item, name)) for name in fields}
                for item in getattr(milestone, related).all()
            ]
        data["milestones"].append(row)
    data["season"] = season_export(user=user)
    return data


def safe_cell(value) -> str:
    """A CSV cell a spreadsheet shows as text: formula-looking strings get a leading apostrophe."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list):
        value = ", ".join(str(v) for v in value)
    text = str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def write_csv(data: dict, out) -> None:
    """One file, one table after another (profile, milestones, then each kind of evidence)."""
    writer = csv.writer(out)

    def table(title: str, header: list[str], rows: list[list]) -> None:
        writer.writerow([safe_cell(title)])
        writer.writerow([safe_cell(name) for name in header])
        writer.writerows([safe_cell(value) for value in row] for row in rows)
        writer.writerow([])

    table("Account", ["field", "value"], [[name, value] for name, value in data["account"].items()])
    profile = data["profile"] or {}
    table("Profile", ["field", "value"], [[name, value] for name, value in profile.items()])
    milestones = data["milestones"]
    table("Milestones", MILESTONE_FIELDS, [[m[name] for name in MILESTONE_FIELDS] for m in milestones])
    for section, (_, fields) in EVIDENCE.items():
        rows = [[m["key"], *(item[name] for name in fields)] for m in milestones for item in m[section]]
        table(section.replace("_", " ").capitalize(), ["milestone", *fields], rows)
    _season_tables(data.get("season") or {}, table)


def _season_tables(season: dict, table) -> None:
    """The application season: one table per kind (nested parts flattened into one cell each)."""
    for title, key in (("Season applications", "applications"), ("Season letters", "letters"),
                       ("Interview criteria", "criteria"), ("Season payments", "payments")):
        rows = season.get(key) or []
        header = list(rows[0]) if rows else []
        table(title, header, [[_flat(row[name]) for name in header] for row in rows])


def _flat(value):
    if isinstance(value, dict):
        return "; ".join(f"{k}: {_flat(v)}" for k, v in value.items())
    if isinstance(value, list):
        return "; ".join(str(_flat(v)) for v in value)
    return value


def filename(extension: str) -> str:
    return f"pathway-export-{timezone.localdate():%Y-%m-%d}.{extension}"
