"""Helpers for the pathway-engine tests: applicants of every type, planned through the real service."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import time_machine

from ..factories import PlannedProfileFactory

# The middle of the 2027 season: applications are in, interviews under way, the ROL deadline ahead.
SEASON_NOW = datetime(2026, 11, 21, 12, tzinfo=UTC)


@pytest.fixture
def season_today():
    with time_machine.travel(SEASON_NOW, tick=False):
        yield SEASON_NOW


@pytest.fixture
def planned_applicant(pathway_data):
    """planned_applicant("US_MD") -> a new applicant (the user) with a profile and a planned pathway.

    Keyword arguments are PlannedProfileFactory's (year=2027 by default, visa_route="J1",
    graduation_date=..., opted_in=[...]); tz= is the profile's time zone (New York by default).
    """

    def make(applicant_type="NON_US_IMG", *, tz="America/New_York", **fields):
        return PlannedProfileFactory(applicant_type=applicant_type, time_zone=tz, **fields).user

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
