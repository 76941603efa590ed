"""Helpers for the program-directory tests: specialties loaded, programs with claims, applicants with
recorded evidence, and the clock pinned in the 2027 season."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
import time_machine

from ..factories import PlannedProfileFactory

SEASON_NOW = datetime(2026, 11, 21, 12, tzinfo=UTC)
OBSERVED = date(2026, 11, 1)


@pytest.fixture(autouse=True)
def season_today():
    with time_machine.travel(SEASON_NOW, tick=False):
        yield SEASON_NOW


@pytest.fixture
def specialties(db):
    from programs.loader import load_specialties

    load_specialties()


@pytest.fixture
def make_program(specialties):
    """make_program("9999140C0", visa_j1="yes", ...) -> a listed program whose claims are those cells."""
    from programs.models import Institution, Program, Specialty
    from programs.services.claims import record_claim

    def make(code="9999140C0", name=None, state="NY", observed_on=OBSERVED, **cells):
        institution, _ = Institution.objects.get_or_create(name="Fictional Test Hospital", state=state)
        program = Program.objects.create(
            nrmp_code=code, name=name or f"Fictional program {code}", institution=institution, state=state,
            specialty=Specialty.objects.get(acgme_code=code[4:7]), origin="admin",
        )
        for requirement, cell in cells.items():
            record_claim(program=program, requirement=requirement, value=cell,
                         source_url=f"https://example.org/{code}", source_kind="program_website",
                         observed_on=observed_on)
        return program

    return make


@pytest.fixture
def applicant(pathway_data):
    """applicant(visa_route="H1B", ...) -> a planned applicant's profile (non-US IMG by default)."""

    def make(applicant_type="NON_US_IMG", **fields):
        return PlannedProfileFactory(applicant_type=applicant_type, **fields)

    return make


def milestone(user, key):
    from milestones.models import Milestone

    return Milestone.objects.get(applicant=user, template__key=key)


def record_step(user, key, *, score=None, passed=None, test_date=date(2025, 9, 1), result_date=None):
    from milestones.services import record_exam_attempt

    return record_exam_attempt(
        milestone=milestone(user, key), test_date=test_date, score=score, passed=passed,
        result_date=result_date or date(test_date.year, test_date.month, 28), by=user,
    )
