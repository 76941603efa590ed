"""Shared fixtures: named personas, the pathway data, and real-service switches.

Personas (used everywhere, including the authorization matrix):
- amira: applicant, non-US IMG needing a J-1, 2027 Match; advised by ben
- carla: another applicant (must never see amira's data)
- ben: advisor assigned to amira
- dan: advisor with no students
- root: admin
They are built with tests/factories.py (UserFactory, PlannedProfileFactory), as any other user should be.

The pathway data (cycles, templates, rules) is loaded once per test database, when it is created
(`django_db_setup`); request `pathway_data` (or `cycle_2027`, `amira_profile`...) to have it, otherwise a
test sees none of it. Dates: tests pin the clock (time-machine) rather than depend on today's date.
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

from .factories import PlannedProfileFactory, UserFactory

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


@pytest.fixture(autouse=True, scope="session")
def _fast_hashing():
    """MD5 instead of a deliberately slow hasher, for the whole session: also for set-ups wider than a
    test (a module's world, the database set-up), which a function-scoped override would miss."""
    from django.test import override_settings

    with override_settings(PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"]):
        yield


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


# Tables the shipped pathway data lives in, children before parents; filled by django_db_setup.
PATHWAY_TABLES: list[str] = []

DB_FIXTURES = (
    "db",
    "transactional_db",
    "live_server",
    "django_db_reset_sequences",
    "django_db_serialized_rollback",
)


def _row_counts() -> dict:
    from django.apps import apps

    return {
        model: model._default_manager.count()
        for model in apps.get_models(include_auto_created=True)
        if model._meta.managed and not model._meta.proxy
    }


def _children_first(models: set) -> list:
    """Order `models` so that a model comes before every model it has a foreign key to."""
    ordered, remaining = [], set(models)
    while remaining:
        referenced = {
            field.related_model
            for model in remaining
            for field in model._meta.concrete_fields
            if field.is_relation
            and field.related_model is not model
            and getattr(field, "db_constraint", True)
        }
        leaves = sorted(remaining - referenced, key=lambda m: m._meta.label) or sorted(
            remaining, key=lambda m: m._meta.label
        )
        ordered += leaves
        remaining -= set(leaves)
    return ordered


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    """Load the shipped pathway data once per test database, right after it is created.

    Every `db` test then starts with it (its transaction rolls back whatever the test changes); the
    `pathway_data` fixture costs nothing there. The tables it filled are remembered so a test that
    does not ask for the data can be given an empty pathway (see `_pathway_data_only_when_asked`).
    """
    with django_db_blocker.unblock():
        before = _row_counts()
        call_command("load_pathway", verbosity=0)
        # What the load wrote; with --reuse-db it may find everything there already: the milestones
        # tables then hold nothing but the pathway data (tests roll back or flush what they add).
        filled = {
            model
            for model, count in _row_counts().items()
            if count > before[model] or (count and model._meta.app_label == "milestones")
        }
    PATHWAY_TABLES[:] = [model._meta.db_table for model in _children_first(filled)]


def _uses_db(request) -> bool:
    return request.node.get_closest_marker("django_db") is not None or any(
        name in request.fixturenames for name in DB_FIXTURES
    )


@pytest.fixture(autouse=True)
def _empty_cache():
    """Each test starts with an empty cache: the pages' content cache is keyed by version numbers that
    start again from 0 when a test's transaction rolls back (and allauth's rate limits live there too)."""
    from django.core.cache import cache

    cache.clear()


@pytest.fixture(autouse=True)
def _no_reference_snapshot():
    """Each test starts without the process's reference snapshot (milestones/reference.py), so a test's
    query count does not depend on which test ran before it."""
    from milestones.reference import forget

    forget()


@pytest.fixture(autouse=True)
def _pathway_data_only_when_asked(request):
    """A database test that does not request `pathway_data` sees none of it, as when each test loaded
    its own: the preloaded rows are deleted inside the test's transaction (rolled back after it; in a
    transactional test the flush after it would remove them anyway). A few milliseconds."""
    if "pathway_data" in request.fixturenames or not _uses_db(request):
        return
    request.getfixturevalue("db")  # the test's transaction (or transactional database) first
    with connection.cursor() as cursor:
        for table in PATHWAY_TABLES:
            cursor.execute(f"DELETE FROM {connection.ops.quote_name(table)}")


@pytest.fixture
def pathway_data(db):
    """The shipped cycles, templates and rules.

    Loaded once per test database by `django_db_setup`, so free in a `db` test. pytest-django runs the
    transactional tests (live_server, django_db(transaction=True)) after all the others, and each of
    them flushes the database when it ends: there the data is loaded again (about half a second).
    """
    from milestones.models import MilestoneTemplate

    if not MilestoneTemplate.objects.exists():
        call_command("load_pathway", verbosity=0)


@pytest.fixture
def cycle_2027(pathway_data):
    from milestones.models import MatchCycle

    return MatchCycle.objects.get(year=2027)


# The personas as plain functions as well, for set-ups wider than one test (the authorization matrix).
def make_amira():
    return UserFactory(email="amira@example.com", name="Amira Haddad")


def make_amira_profile(amira, cycle):
    return PlannedProfileFactory(
        user=amira,
        applicant_type="NON_US_IMG",
        graduation_date=date(2025, 6, 30),
        visa_route="J1",
        target_cycle=cycle,
        specialties=["Internal Medicine"],
        time_zone="Africa/Cairo",
    )


def make_carla():
    return UserFactory(email="carla@example.com", name="Carla Reyes")


def make_ben(amira):
    from django.utils import timezone

    from pathway.models import AdvisorAssignment

    advisor = UserFactory(advisor=True, email="ben@example.com", name="Ben Okafor")
    AdvisorAssignment.objects.create(advisor=advisor, applicant=amira, accepted_at=timezone.now())
    return advisor


def make_dan():
    return UserFactory(advisor=True, email="dan@example.com", name="Dan Unassigned")


def make_root():
    return UserFactory(admin=True, email="root@example.com", name="Root Admin")


@pytest.fixture
def amira(db):
    return make_amira()


@pytest.fixture
def amira_profile(amira, cycle_2027):
    """Amira onboarded: non-US IMG, J-1, 2027 Match, with her milestones planned."""
    return make_amira_profile(amira, cycle_2027)


@pytest.fixture
def carla(db):
    return make_carla()


@pytest.fixture
def ben(amira):
    return make_ben(amira)


@pytest.fixture
def dan(db):
    return make_dan()


@pytest.fixture
def root(db):
    return make_root()
