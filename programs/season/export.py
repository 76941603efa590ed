"""My programs as CSV: the filters applied on the first lines, one row per program with its dated status
history, every cell that a spreadsheet would run as a formula escaped."""

from __future__ import annotations

import csv
from zoneinfo import ZoneInfo

from ..exporter import escape_cell
from .models import Application, Criterion, InterviewScore, Letter, Payment, Status

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


def season_export(*, user) -> dict:
    """Everything the applicant entered for their seasons, for "your data" (a fixed number of queries):
    applications with their dated history, interviews and scores, letters with their programs, criteria,
    payments."""
    applications = Application.objects.filter(applicant=user).for_list().order_by("cycle__year", "program__name")
    scores: dict[int, dict] = {}
    for score in InterviewScore.objects.filter(interview__application__applicant=user).select_related(
        "criterion", "interview"
    ):
        scores.setdefault(score.interview.application_id, {})[score.criterion.name] = score.score
    letters = Letter.objects.filter(applicant=user).select_related("cycle", "specialty").prefetch_related(
        "assignments__application__program"
    )
    return {
        "applications": [_application(a, scores.get(a.pk, {})) for a in applications],
        "letters": [
            {
                "cycle": letter.cycle.year, "writer": letter.writer, "writer_role": letter.writer_role,
                "writer_email": letter.writer_email, "specialty": letter.specialty.name if letter.specialty else "",
                "status": letter.status, "asked_on": _iso(letter.asked_on), "nudge_on": _iso(letter.nudge_on),
                "uploaded_on": _iso(letter.uploaded_on), "note": letter.note,
                "programs": [a.application.program.name for a in letter.assignments.all()],
            }
            for letter in letters
        ],
        "criteria": [{"name": c.name, "weight": c.weight} for c in Criterion.objects.filter(applicant=user)],
        "payments": [
            {"cycle": p.cycle.year, "for": p.key, "service": p.service, "amount_usd": str(p.amount_usd),
             "paid_on": _iso(p.paid_on), "note": p.note}
            for p in Payment.objects.filter(applicant=user).select_related("cycle")
        ],
    }


def _iso(value) -> str | None:
    return value.isoformat() if value else None


def _application(application, scores: dict) -> dict:
    interview = getattr(application, "interview", None)
    return {
        "cycle": application.cycle.year, "program": application.program.name,
        "nrmp_code": application.program.nrmp_code, "service": application.service,
        "status": application.status, "signal": application.signal, "notes": application.notes,
        "letters_required": application.letters_required,
        "history": [
            {"at": c.at.isoformat(), "from": c.from_status, "to": c.to_status, "note": c.note}
            for c in application.changes.all()
        ],
        "interview": None if interview is None else {
            "invited_on": _iso(interview.invited_on), "starts_at": _iso(interview.starts_at),
            "time_zone": interview.time_zone, "mode": interview.mode, "thank_you_on": _iso(interview.thank_you_on),
            "letter_of_intent_on": _iso(interview.letter_of_intent_on), "notes": interview.notes, "scores": scores,
        },
    }
