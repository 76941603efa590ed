"""Shared fixtures: named personas, the pathway data, and real-service switches.

Personas (used everywhere, including the authorization matrix):
- amira: applicant, non-US IMG needing a J-1, 2027 Match; advised by ben
- carla: another applicant (must never see amira's data)
- ben: advisor assigned to amira
- dan: advisor with no students
- root: admin
"""

from __future__ import annotations

import os
import socket
from datetime import date
from urllib.parse import urlparse

import pytest
from django.conf import settings
from django.core.management import call_command
from django.db import connection

REQUIRE_SERVICES = os.environ.get("REQUIRE_SERVICES") == "1"


def pytest_report_header(config):
    engine = settings.DATABASES["default"]["ENGINE"].rsplit(".", 1)[-1]
    broker = "redis" if settings.REDIS_URL else "filesystem (embedded)"
    return [f"database engine: {engine}; broker: {broker}; REQUIRE_SERVICES={int(REQUIRE_SERVICES)}"]


def missing_service(reason: str):
    """Skip a test whose service is missing, or fail it when CI demands real services."""
    if REQUIRE_SERVICES:
        pytest.fail(f"required service missing: {reason}")
    pytest.skip(reason)


@pytest.fixture(autouse=True)
def _fast_hashing(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def postgres():
    """For tests that only mean something on PostgreSQL (skip locked, query plans, benchmarks)."""
    if connection.vendor != "postgresql":
        missing_service("PostgreSQL (set DATABASE_URL)")


@pytest.fixture(scope="session")
def redis_url():
    url = os.environ.get("REDIS_URL", "")
    if not url:
        missing_service("Redis (set REDIS_URL)")
    parsed = urlparse(url)
    try:
        socket.create_connection((parsed.hostname or "127.0.0.1", parsed.port or 6379), timeout=2).close()
    except OSError as exc:
        missing_service(f"Redis at {url} does not answer: {exc}")
    return url


@pytest.fixture
def pathway_data(db):
    """The shipped cycles, templates and rules (loaded once per test database state)."""
    from milestones.models import MilestoneTemplate

    if not MilestoneTemplate.objects.exists():
        call_command("load_pathway", verbosity=0)


@pytest.fixture
def cycle_2027(pathway_data):
    from milestones.models import MatchCycle

    return MatchCycle.objects.get(year=2027)


def make_user(email, role, name=""):
    from pathway.models import User

    return User.objects.create_user(email=email, password="pw-for-tests-only", role=role, name=name)


@pytest.fixture
def amira(db):
    from pathway.models import User

    return make_user("amira@example.com", User.Role.APPLICANT, "Amira Haddad")


@pytest.fixture
def amira_profile(amira, cycle_2027):
    """Amira onboarded: non-US IMG, J-1, 2027 Match, with her milestones planned."""
    from milestones.models import ApplicantProfile
    from milestones.services import plan_pathway

    ApplicantProfile.objects.create(
        user=amira,
        applicant_type="NON_US_IMG",
        graduation_date=date(2025, 6, 30),
        needs_visa=True,
        visa_route="J1",
        target_cycle=cycle_2027,
        specialties=["Internal Medicine"],
        time_zone="Africa/Cairo",
    )
    plan_pathway(applicant=amira)
    return amira.profile


@pytest.fixture
def carla(db):
    from pathway.models import User

    return make_user("carla@example.com", User.Role.APPLICANT, "Carla Reyes")


@pytest.fixture
def ben(amira):
    from pathway.models import AdvisorAssignment, User

    advisor = make_user("ben@example.com", User.Role.ADVISOR, "Ben Okafor")
    AdvisorAssignment.objects.create(advisor=advisor, applicant=amira)
    return advisor


@pytest.fixture
def dan(db):
    from pathway.models import User

    return make_user("dan@example.com", User.Role.ADVISOR, "Dan Unassigned")


@pytest.fixture
def root(db):
    from pathway.models import User

    user = make_user("root@example.com", User.Role.ADMIN, "Root Admin")
    user.is_superuser = True
    user.save()
    return user
