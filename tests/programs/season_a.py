"""Helpers for the season's first half (my programs, fees, signals, letters, interviews): the season's
rules loaded, fictional programs made in bulk, and applications added through the service."""

from __future__ import annotations

import pytest


@pytest.fixture
def season_data(pathway_data):
    """The shipped specialties and the season's rules (fees, limits, signal allowances)."""
    from programs.loader import load_specialties
    from programs.season.loader import load_season_rules

    load_specialties()
    load_season_rules()


def bulk_programs(count: int, *, specialty="140", prefix=2000, state="NY"):
    """`count` listed fictional programs of one specialty (valid NRMP codes), in one statement."""
    from programs.models import Program, Specialty

    spec = Specialty.objects.get(acgme_code=specialty)
    made = [
        Program(
            nrmp_code=f"{prefix + i // 100:04d}{specialty}C{i % 100}", program_type="C", track=str(i % 100),
            name=f"Fictional {specialty} program {i:03d}", specialty=spec, state=state, origin="admin",
        )
        for i in range(count)
    ]
    return Program.objects.bulk_create(made)


def apply_to(user, cycle, programs, *, status=None):
    """Add each program through the service (and move it to `status` if given)."""
    from programs.season.applications import add_application, set_status

    result = []
    for program in programs:
        application, _ = add_application(applicant=user, program=program, cycle=cycle, by=user)
        if status:
            application = set_status(application=application, status=status, by=user)
        result.append(application)
    return result
