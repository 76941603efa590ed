"""The demo applicant's season (2027 Match, as of late November 2026): 25 programs from the fictional demo
directory at every stage of the pipeline with dated histories, signals within the allowance, four letters
(one still to chase), interviews (done and scored on the applicant's own criteria, scheduled, two on one
day), and a draft rank order list of the interviewed programs, best score first.

Everything goes through the season's services, so the demo obeys the same rules as real data. Idempotent:
an applicant who already has applications this cycle is left alone.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

from django.core.exceptions import ValidationError
from django.db import transaction

from ..models import Origin, Program
from . import applications, interviews, letters, rol, signals
from .loader import load_season_rules
from .match_rules import load_match_rules
from .models import Application, Letter
from .models import Status as AppStatus

# (ACGME code, program type letter, how many): 25 programs, Internal Medicine first.
PICKS = [("140", "C", 5), ("700", "C", 5), ("120", "C", 5), ("140", "P", 5), ("420", "A", 2), ("999", "P", 3)]
APPLIED_AT = datetime(2026, 9, 2, 14, tzinfo=UTC)
CRITERIA = [("Teaching and supervision", 3), ("Visa (J-1) support", 3), ("Location", 2), ("Fellowship matches", 2)]
# Interviewed: (index in the list, interview day, start hour ET, scores per criterion); notes the same day.
INTERVIEWED = [
    (0, date(2026, 10, 14), 9, [5, 4, 3, 5]), (1, date(2026, 10, 21), 9, [4, 5, 4, 3]),
    (2, date(2026, 10, 28), 10, [3, 5, 5, 3]), (3, date(2026, 11, 4), 9, [4, 4, 2, 4]),
    (4, date(2026, 11, 11), 13, [3, 3, 4, 2]), (5, date(2026, 11, 12), 9, [4, 3, 3, 3]),
    (10, date(2026, 11, 18), 9, [3, 4, 5, 2]), (6, date(2026, 11, 19), 11, [2, 4, 3, 2]),
]
# Scheduled ahead, two of them on the same day (the interviews page flags them).
SCHEDULED = [(7, datetime(2026, 12, 9, 8)), (11, datetime(2026, 12, 9, 11)), (8, datetime(2027, 1, 13, 10))]
INVITED = [9, 12, 13, 15]
CONSIDERING = [24]
GOLD = [0, 1, 2]
SINGLE = [10, 11]  # Family Medicine signals


def demo_programs() -> list[Program]:
    chosen = []
    for code, letter, count in PICKS:
        chosen += list(
            Program.objects.filter(origin=Origin.DEMO, specialty__acgme_code=code, program_type=letter)
            .order_by("nrmp_code")[:count]
        )
    return chosen


@transaction.atomic
def load_demo_season(*, applicant) -> None:
    load_season_rules()
    load_match_rules()
    cycle = applicant.profile.target_cycle
    if Application.objects.filter(applicant=applicant, cycle=cycle).exists():
        return
    rows = [_apply(applicant, cycle, program, index) for index, program in enumerate(demo_programs())]
    for index in GOLD:
        signals.set_signal(application=rows[index], signal="gold", by=applicant)
    for index in SINGLE:
        signals.set_signal(application=rows[index], signal="signal", by=applicant)
    _letters(applicant, cycle, rows)
    _interviews(applicant, rows)
    _draft_rank_order_list(applicant, cycle, rows)


def _apply(applicant, cycle, program, index: int) -> Application:
    application, _ = applications.add_application(applicant=applicant, program=program, cycle=cycle, by=applicant,
                                                  at=datetime(2026, 8, 25, 12, tzinfo=UTC))
    if index not in CONSIDERING:
        application = applications.set_status(application=application, status=AppStatus.APPLIED, by=applicant,
                                              at=APPLIED_AT, note="Sent through ERAS.")
    return application


def _letters(applicant, cycle, rows) -> None:
    writers = [
        ("Dr Sana Malik", "Program director, Internal Medicine externship", Letter.Status.UPLOADED, date(2026, 8, 20)),
        ("Dr Robert Chen", "Attending, Brooklyn community teaching hospital", Letter.Status.UPLOADED, date(2026, 8, 24)),
        ("Dr Ayesha Raza", "Professor of Medicine, home school", Letter.Status.UPLOADED, date(2026, 9, 1)),
        ("Dr Imran Qureshi", "Chair of Medicine, home school", Letter.Status.ASKED, None),
    ]
    made = []
    for writer, role, status, uploaded_on in writers:
        made.append(letters.save_letter(letter=Letter(
            applicant=applicant, cycle=cycle, writer=writer, writer_role=role, status=status,
            asked_on=date(2026, 7, 1), uploaded_on=uploaded_on,
            nudge_on=date(2026, 12, 1) if uploaded_on is None else None,
        ), by=applicant))
    for application in rows[:15]:  # the IM and IM-Peds programs get the three uploaded letters
        for letter in made[:3]:
            letters.assign_letter(letter=letter, application=application, by=applicant)


def _interviews(applicant, rows) -> None:
    criteria = [interviews.save_criterion(applicant=applicant, name=name, weight=weight) for name, weight in CRITERIA]
    for index, day, hour, scores in INTERVIEWED:
        application = rows[index]
        # The history, dated as it happened: invited, then the date agreed (the services date changes now).
        _dated(applicant, application, AppStatus.INVITED, datetime(2026, 9, 30, 15, tzinfo=UTC))
        _dated(applicant, application, AppStatus.SCHEDULED, datetime(2026, 10, 1, 15, tzinfo=UTC))
        interview = interviews.save_interview(
            application=application, by=applicant, invited_on=date(2026, 9, 30),
            starts_local=datetime(day.year, day.month, day.day, hour), thank_you_on=day,
        )
        applications.set_status(application=application, status=AppStatus.INTERVIEWED, by=applicant,
                                at=datetime(day.year, day.month, day.day, 20, tzinfo=UTC))
        interviews.save_interview_notes(
            interview=interview, notes="Friendly residents; asked about J-1 sponsorship history.",
            scores={c.pk: s for c, s in zip(criteria, scores, strict=True)}, today=day,
        )
    for index, starts in SCHEDULED:
        _dated(applicant, rows[index], AppStatus.INVITED, datetime(2026, 11, 10, 15, tzinfo=UTC))
        interviews.save_interview(application=rows[index], by=applicant, invited_on=date(2026, 11, 10),
                                  starts_local=starts)
    for index in INVITED:
        _dated(applicant, rows[index], AppStatus.INVITED, datetime(2026, 11, 16, 15, tzinfo=UTC))
        interviews.save_interview(application=rows[index], by=applicant, invited_on=date(2026, 11, 16))


def _dated(applicant, application, status, at) -> None:
    applications.set_status(application=application, status=status, by=applicant, at=at)


def _draft_rank_order_list(applicant, cycle, rows) -> None:
    """The interviewed programs, best weighted score first: a draft (not certified)."""
    scores = interviews.scores_for(applicant=applicant, cycle=cycle)
    interviewed = [rows[index] for index, *_ in INTERVIEWED]
    interviewed.sort(key=lambda a: -(scores[a.pk].score or 0) if a.pk in scores else 0)
    try:
        for application in interviewed:
            current = rol.rank_order_list_of(applicant, cycle)
            rol.add_rank(applicant=applicant, cycle=cycle, application_id=application.pk,
                         version=current.version if current else 0, by=applicant)
    except ValidationError:
        # Run after the cycle's ROL deadline, the NRMP (and the planner) takes no more changes: the demo
        # then shows the season without a list rather than breaking the rule.
        return
