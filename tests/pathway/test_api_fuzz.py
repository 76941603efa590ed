"""schemathesis over /api/v1/openapi.json, through the WSGI app, with a real token of an onboarded applicant.

Every operation gets generated requests, valid and invalid (wrong types, NUL characters, huge numbers,
odd paths, unknown fields), and each answer must be no server error, with a status code, content type
and body that the schema documents. A short, reproducible pass runs with the suite (and so in CI);
`make fuzz` runs a long random one:

    FUZZ_EXAMPLES=1000 FUZZ_SEED=random .venv/bin/pytest tests/pathway/test_api_fuzz.py
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
import schemathesis
import time_machine
import yaml
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.config import SchemathesisConfig
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

import milestones
from pathway.tokens import api_token_create
from pathway.web.api import api

# The short pass: every operation's valid and invalid inputs in about half a minute on two cores.
MAX_EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "80"))
# Fixed by default so CI explores the same inputs every run (a failure reproduces); "random" for `make fuzz`.
DETERMINISTIC = os.environ.get("FUZZ_SEED", "fixed") != "random"

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]

# Inside the 2027 season, so that the pathway has open milestones and booked tests are plausible.
TODAY = "2026-10-01 12:00Z"

# Random keys and years are nearly all 404s, and the bodies sent with them would never reach the services
# and the database; so real ones (the shipped templates, the shipped cycles) are used most of the time.
TEMPLATES_YAML = Path(milestones.__file__).parent / "data" / "templates.yaml"
TEMPLATE_KEYS = sorted(row["key"] for row in yaml.safe_load(TEMPLATES_YAML.read_text())["templates"])
# Values that once reached a 500 or passed for something they are not, mixed into the generated bodies
# (in the valid requests where the schema allows them, in the invalid ones otherwise).
AWKWARD_TEXT = ["\x00", "exempt\x00by the program", "²", "١٢", " ", "exempt"]
AWKWARD_DATES = [
    "1949-12-31",
    "1950-01-01",
    "0001-01-01",
    "9999-12-31",
    "2026-02-30",
    "2026-09-15T00:00",
    "0",
    0,
    86400,
]
FUZZ_CONFIG = {
    "dictionaries": {
        "keys": {"values": TEMPLATE_KEYS},
        "years": {"values": [2026, 2027, 2028]},
        "text": {"values": AWKWARD_TEXT},
        "dates": {"values": AWKWARD_DATES},
    },
    "parameters": {
        "path.key": {"dictionary": "keys", "probability": 0.8},
        "path.year": {"dictionary": "years", "probability": 0.5},
        "body.reason": {"dictionary": "text", "probability": 0.5},
        **{
            f"body.{name}": {"dictionary": "dates", "probability": 0.2}
            for name in ("completed_on", "test_date", "result_date")
        },  # fmt: skip
    },
}

# What /api/v1/openapi.json serves (its view returns exactly this; checked below). Built from the API
# object rather than fetched, because the schema is loaded while pytest collects, before any database.
OPENAPI = api.get_openapi_schema()
schema = schemathesis.openapi.from_dict(OPENAPI, config=SchemathesisConfig.from_dict(FUZZ_CONFIG))
schema.config.generation.update(max_examples=MAX_EXAMPLES, deterministic=DETERMINISTIC)


@pytest.fixture
def wsgi_app(db):
    """The real WSGI application (the whole middleware stack), inside the test's transaction.

    A real request ends by closing old database connections, which would close the one holding the
    test's transaction; Django's test client holds these signals off the same way.
    """
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield get_wsgi_application()
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def token_headers(amira_profile) -> dict:
    """An onboarded applicant's personal access token, the way a script sends it."""
    _token, secret = api_token_create(user=amira_profile.user, name="fuzz")
    return {"Authorization": f"Bearer {secret}"}


@pytest.fixture(autouse=True)
def _fixed_today():
    with time_machine.travel(TODAY, tick=False):
        yield


@schema.parametrize()
# The fixtures are meant to be shared: the examples act on one applicant's pathway in turn, as a script
# would (attempts pile up, milestones change status), and the transaction is rolled back after them all.
@settings(suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_the_api_answers_every_generated_request_as_documented(case, wsgi_app, token_headers):
    case.call_and_validate(app=wsgi_app, headers=token_headers, checks=CHECKS)


def test_the_fuzzed_schema_is_the_one_served(client, db):
    assert client.get("/api/v1/openapi.json").json() == json.loads(json.dumps(OPENAPI))


def test_the_fuzzer_knows_the_real_keys(pathway_data):
    from milestones.models import MilestoneTemplate

    assert set(MilestoneTemplate.objects.values_list("key", flat=True)) == set(TEMPLATE_KEYS)
