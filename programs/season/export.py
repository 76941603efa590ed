"""My programs as CSV: the filters applied on the first lines, one row per program with its dated status
history, every cell that a spreadsheet would run as a formula escaped."""

from __future__ import annotations

import csv
from zoneinfo import ZoneInfo

from ..exporter import escape_cell
from .models import Status

COLUMNS = [
    "program", "nrmp_code", "institution", "city", "state", "specialty", "service", "status", "status_since",
    "signal", "interview_at", "interview_time_zone", "interview_mode", "letters_required", "letters_assigned",
    "notes", "history",
]
LABELS = dict(Status.choices)


def history_text(application) -> str:
    """"2026-09-03 Considering → Applied; ..." from the prefetched changes."""
    parts = []
    for change in application.changes.all():
        start = LABELS.get(change.from_status, "Added")
        step = f"{start} → {LABELS[change.to_status]}" if change.from_status else f"Added as {LABELS[change.to_status]}"
        parts.append(f"{change.at:%Y-%m-%d} {step}" + (f" ({change.note})" if change.note else ""))
    return "; ".join(parts)


def export_applications_csv(applications, stream, *, filters: list[tuple[str, str]], cycle) -> None:
    writer = csv.writer(stream)
    writer.writerow([escape_cell(f"My programs, {cycle}")])
    writer.writerow([escape_cell("Filters: " + ("; ".join(f"{k}: {v}" for k, v in filters) or "none"))])
    writer.writerow(COLUMNS)
    for application in applications:
        writer.writerow([escape_cell(value) for value in _row(application)])


def _row(application) -> list:
    program = application.program
    interview = getattr(application, "interview", None)
    return [
        program.name, program.nrmp_code or "", program.institution.name if program.institution else "",
        program.city, program.state, program.specialty.name if program.specialty else "", application.service,
        application.get_status_display(), f"{application.status_changed_at:%Y-%m-%d}",
        application.get_signal_display() if application.signal else "",
        interview.starts_at.astimezone(ZoneInfo(interview.time_zone)).isoformat()
        if interview and interview.starts_at else "",
        interview.time_zone if interview and interview.starts_at else "",
        interview.get_mode_display() if interview else "",
        "" if application.letters_required is None else application.letters_required,
        application.letters_assigned, application.notes, history_text(application),
    ]
