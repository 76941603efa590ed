"""Helpers for the pathway-engine tests: applicants of every type, planned through the real service."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
import time_machine

# The middle of the 2027 season: applications are in, interviews under way, the ROL deadline ahead.
SEASON_NOW = datetime(2026, 11, 21, 12, tzinfo=UTC)


@pytest.fixture
def season_today():
    with time_machine.travel(SEASON_NOW, tick=False):
        yield SEASON_NOW


@pytest.fixture
def make_applicant(pathway_data):
    """make_applicant("US_MD") -> a user with a profile and a planned pathway (2027 Match by default)."""
    from milestones.models import ApplicantProfile, MatchCycle
    from milestones.services import plan_pathway
    from pathway.models import User

    counter = iter(range(1, 10_000))

    def make(
        applicant_type="NON_US_IMG",
        *,
        needs_visa=False,
        visa_route="",
        year=2027,
        tz="America/New_York",
        **extra,
    ):
        user = User.objects.create_user(email=f"applicant{next(counter)}@example.com", password="x")
        ApplicantProfile.objects.create(
            user=user,
            applicant_type=applicant_type,
            graduation_date=extra.pop("graduation_date", date(2025, 6, 30)),
            needs_visa=needs_visa,
            visa_route=visa_route,
            target_cycle=MatchCycle.objects.get(year=year),
            time_zone=tz,
            **extra,
        )
        plan_pathway(applicant=user)
        return user

    return make


@pytest.fixture
def milestone_of(db):
    """milestone_of(user, "usmle_step1") -> that applicant's milestone, fresh from the database."""
    from milestones.models import Milestone

    def get(user, key):
        return Milestone.objects.select_related("template", "applicant").get(
            applicant=user, template__key=key
        )

    return get
