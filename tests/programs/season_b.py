"""Helpers for the season's end (rank order list, Match Week, SOAP): many programs and applications made in
a few statements, the season's rules loaded, and the moments of the 2027 Match the tests travel to."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

# The 2027 Match (milestones/data/cycles.yaml): ranking opens 1 Feb 2027 12:00 ET, the ROL deadline is
# 3 Mar 2027 21:00 ET, Match Week Monday is 15 Mar 2027 (status at 10:00 ET), SOAP rounds on Thursday 18 Mar
# from 09:00 ET, three hours apart, SOAP ends at 21:00 ET.
DRAFTING = datetime(2026, 12, 10, 15, tzinfo=UTC)
RANKING = datetime(2027, 2, 10, 15, tzinfo=UTC)
AFTER_DEADLINE = datetime(2027, 3, 4, 3, tzinfo=UTC)  # 3 Mar 22:00 ET
MONDAY = datetime(2027, 3, 15, 15, tzinfo=UTC)  # 11:00 ET
BEFORE_STATUS = datetime(2027, 3, 15, 13, 30, tzinfo=UTC)  # 09:30 ET
ROUND_1 = datetime(2027, 3, 18, 13, 30, tzinfo=UTC)  # 09:30 ET
ROUND_2 = datetime(2027, 3, 18, 16, 30, tzinfo=UTC)  # 12:30 ET
AFTER_SOAP = datetime(2027, 3, 19, 2, tzinfo=UTC)  # 22:00 ET Thursday


@pytest.fixture
def season_rules(specialties):
    from programs.season.loader import load_season_rules
    from programs.season.match_rules import load_match_rules

    load_season_rules()
    load_match_rules()


def make_programs(count: int, *, specialty="140", letter="C", start=0, prefix=1000):
    """`count` listed programs with valid NRMP codes (institution code varies, so tracks stay short)."""
    from programs.models import Program, Specialty

    spec = Specialty.objects.get(acgme_code=specialty)
    programs = []
    for index in range(start, start + count):
        code = f"{prefix + index // 100:04d}{specialty}{letter}{index % 100}"
        programs.append(Program(
            nrmp_code=code, program_type=letter, track=str(index % 100), name=f"Fictional {code}",
            specialty=spec, state="NY", origin="admin",
        ))
    return Program.objects.bulk_create(programs)


def make_applications(user, cycle, programs, *, status="interviewed"):
    from programs.season.models import Application

    return Application.objects.bulk_create(
        Application(applicant=user, cycle=cycle, program=program, status=status) for program in programs
    )


def fill_primary(user, cycle, applications):
    """Put `applications` on the primary list in one statement (as a long list built over weeks would be)."""
    from programs.season.match_models import Rank, RankList, RankOrderList

    rol, _ = RankOrderList.objects.get_or_create(applicant=user, cycle=cycle)
    primary, _ = RankList.objects.get_or_create(rol=rol, kind="primary")
    Rank.objects.bulk_create(
        Rank(rank_list=primary, rank=i, application=application) for i, application in enumerate(applications, 1)
    )
    return rol


def mark_done(user, *keys):
    from milestones.models import Milestone
    from milestones.services import set_status

    for key in keys:
        set_status(milestone=Milestone.objects.get(applicant=user, template__key=key), status="done", by=user)


def milestone_status(user, key) -> str:
    from milestones.models import Milestone

    return Milestone.objects.get(applicant=user, template__key=key).status
