"""The JSON API at /api/v1/: authentication, the pathway, status changes, exam attempts, cycles, schema."""

from __future__ import annotations

import json
from datetime import date, datetime

import pytest
import time_machine
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from milestones.models import ExamAttempt, Milestone
from pathway.tokens import api_token_create, api_token_revoke

from ..factories import PlannedProfileFactory

pytestmark = pytest.mark.django_db

# Every date-sensitive test runs on a fixed day in the 2027 cycle (the engine compares with "today").
TODAY = "2026-10-01 12:00Z"


@pytest.fixture(autouse=True)
def _fixed_today():
    with time_machine.travel(TODAY, tick=False):
        yield


def bearer(user) -> dict:
    _token, secret = api_token_create(user=user, name="tests")
    return {"Authorization": f"Bearer {secret}"}


def call(client, method, url, body=None, headers=None):
    data = "" if body is None else json.dumps(body)
    return client.generic(method.upper(), url, data, content_type="application/json", headers=headers or {})


def patch(client, url, body, headers=None):
    return client.patch(url, json.dumps(body), content_type="application/json", headers=headers or {})


def post(client, url, body, headers=None):
    return client.post(url, json.dumps(body), content_type="application/json", headers=headers or {})


def milestone(user, key) -> Milestone:
    return Milestone.objects.get(applicant=user, template__key=key)


@pytest.fixture
def amira_auth(amira_profile):
    return bearer(amira_profile.user)


@pytest.fixture
def carla_profile(carla, cycle_2027):
    """A US DO student: has COMLEX milestones that Amira (a non-US IMG) does not."""
    return PlannedProfileFactory(
        user=carla, applicant_type="US_DO", graduation_date=date(2027, 5, 15), target_cycle=cycle_2027
    )


def snapshot(user) -> list[tuple]:
    """Everything the write endpoints could change, to prove a refused request changed nothing."""
    return [
        *Milestone.objects.filter(applicant=user)
        .order_by("pk")
        .values_list("pk", "status", "completed_on", "waived_reason"),
        *ExamAttempt.objects.filter(milestone__applicant=user).values_list("pk", "test_date"),
    ]


# --- Authentication ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "url"),
    [
        ("get", "/api/v1/pathway"),
        ("patch", "/api/v1/milestones/usmle_step1"),
        ("post", "/api/v1/milestones/usmle_step2ck/attempts"),
        ("get", "/api/v1/cycles/2027"),
    ],
)
def test_every_endpoint_needs_credentials(client, amira_profile, method, url):
    response = call(client, method, url, {} if method != "get" else None)

    assert response.status_code == 401
    assert response.json() == {"detail": "Unauthorized"}


@pytest.mark.parametrize(
    "header", ["Bearer ppl_not-a-real-token", "Bearer ", "Token abc", "Basic YTpi", "bearer"]
)
def test_a_bad_authorization_header_is_401(client, amira_profile, header):
    assert client.get("/api/v1/pathway", headers={"Authorization": header}).status_code == 401


def test_a_revoked_token_is_401(client, amira_profile):
    token, secret = api_token_create(user=amira_profile.user, name="old")
    api_token_revoke(token=token)

    response = client.get("/api/v1/pathway", headers={"Authorization": f"Bearer {secret}"})

    assert response.status_code == 401


def test_a_bad_token_is_401_even_with_a_session(client, amira_profile):
    client.force_login(amira_profile.user)

    response = client.get("/api/v1/pathway", headers={"Authorization": "Bearer ppl_wrong"})

    assert response.status_code == 401


def test_a_token_updates_last_used(client, amira_profile):
    token, secret = api_token_create(user=amira_profile.user, name="cli")

    client.get("/api/v1/pathway", headers={"Authorization": f"Bearer {secret}"})

    token.refresh_from_db()
    assert token.last_used_at is not None


def test_the_session_works_for_reads(client, amira_profile):
    client.force_login(amira_profile.user)

    assert client.get("/api/v1/pathway").status_code == 200


def test_a_session_patch_needs_the_csrf_token(amira_profile):
    client = Client(enforce_csrf_checks=True)
    client.force_login(amira_profile.user)
    before = snapshot(amira_profile.user)

    refused = patch(client, "/api/v1/milestones/usmle_step1", {"status": "in_progress"})

    assert refused.status_code == 403
    assert snapshot(amira_profile.user) == before
    client.get("/settings/tokens/")  # any page that renders {% csrf_token %} sets the cookie
    csrf = client.cookies["csrftoken"].value
    accepted = patch(
        client, "/api/v1/milestones/usmle_step1", {"status": "in_progress"}, {"X-CSRFToken": csrf}
    )
    assert accepted.status_code == 200


def test_a_token_patch_needs_no_csrf_token(amira_profile, amira_auth):
    client = Client(enforce_csrf_checks=True)

    response = patch(client, "/api/v1/milestones/usmle_step1", {"status": "in_progress"}, amira_auth)

    assert response.status_code == 200


@pytest.mark.parametrize("persona", ["ben", "dan", "root"])
@pytest.mark.parametrize(
    ("method", "url", "body"),
    [
        ("get", "/api/v1/pathway", None),
        ("patch", "/api/v1/milestones/usmle_step1", {"status": "in_progress"}),
        ("post", "/api/v1/milestones/usmle_step2ck/attempts", {"test_date": "2026-12-01"}),
    ],
)
def test_the_pathway_endpoints_are_404_for_non_applicants(
    client, request, amira_profile, persona, method, url, body
):
    headers = bearer(request.getfixturevalue(persona))
    before = snapshot(amira_profile.user)

    response = call(client, method, url, body, headers)

    assert response.status_code == 404
    assert snapshot(amira_profile.user) == before


def test_an_applicant_who_has_not_onboarded_gets_a_clear_404(client, carla):
    response = client.get("/api/v1/pathway", headers=bearer(carla))

    assert response.status_code == 404
    assert "onboarding" in response.json()["detail"]


# --- GET /pathway ------------------------------------------------------------------------------


def test_the_pathway_has_the_profile_the_milestones_and_the_risks(client, amira_profile, amira_auth):
    response = client.get("/api/v1/pathway", headers=amira_auth)

    assert response.status_code == 200
    body = response.json()
    assert body["applicant"] == {"type": "NON_US_IMG", "target_cycle": 2027, "time_zone": "Africa/Cairo"}
    mine = Milestone.objects.applicable().filter(applicant=amira_profile.user)
    assert {m["key"] for m in body["milestones"]} == set(mine.values_list("template__key", flat=True))
    assert set(body["milestones"][0]) == {
        "key",
        "title",
        "phase",
        "status",
        "due_at",
        "projected",
        "prerequisites",
    }
    assert isinstance(body["risks"], list)
    for risk in body["risks"]:
        assert set(risk) >= {"code", "severity", "message", "milestone"}


def test_deadlines_are_iso_8601_with_an_offset_and_the_stored_instant(client, amira_profile, amira_auth):
    body = client.get("/api/v1/pathway", headers=amira_auth).json()

    stored = {
        m.template.key: m
        for m in Milestone.objects.filter(applicant=amira_profile.user).select_related("template")
    }
    dated = [m for m in body["milestones"] if m["due_at"]]
    assert dated and any(m["due_at"] is None for m in body["milestones"])
    for item in dated:
        at = datetime.fromisoformat(item["due_at"])
        assert at.utcoffset() is not None and item["due_at"][-6] in "+-"
        assert at == stored[item["key"]].due_at
        assert item["projected"] == stored[item["key"]].due_projected


def test_prerequisites_list_the_hard_ones_this_applicant_has(client, amira_profile, amira_auth):
    from milestones.models import TemplatePrerequisite

    body = client.get("/api/v1/pathway", headers=amira_auth).json()

    own = {m["key"] for m in body["milestones"]}
    for item in body["milestones"]:
        hard = set(
            TemplatePrerequisite.objects.filter(template__key=item["key"], kind="hard").values_list(
                "requires__key", flat=True
            )
        )
        assert set(item["prerequisites"]) == hard & own
    assert any(item["prerequisites"] for item in body["milestones"])


def test_a_red_risk_shows_up_with_its_milestone(client, amira_profile, amira_auth):
    step2 = milestone(amira_profile.user, "usmle_step2ck")
    with time_machine.travel("2027-01-10 12:00Z", tick=False):
        ExamAttempt.objects.create(milestone=step2, exam="step2ck", test_date=date(2027, 2, 20))
        body = client.get("/api/v1/pathway", headers=amira_auth).json()

    red = [r for r in body["risks"] if r["severity"] == "red"]
    assert red
    assert "usmle_step2ck" in {r["milestone"] for r in red}


def test_the_pathway_query_count_does_not_grow_with_the_data(client, amira_profile, amira_auth):
    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert client.get("/api/v1/pathway", headers=amira_auth).status_code == 200
        return len(queries)

    count()  # the first use of a token also writes last_used_at
    before = count()
    step2 = milestone(amira_profile.user, "usmle_step2ck")
    for year in (2023, 2024):
        ExamAttempt.objects.create(milestone=step2, exam="step2ck", test_date=date(year, 3, 1), passed=False)
    Milestone.objects.filter(applicant=amira_profile.user, template__key__in=["usce", "usmle_step1"]).update(
        status="in_progress"
    )

    assert count() == before
    # 13: one more than before issue 9, for the hard-prerequisite links the "due before its
    # prerequisite" risk reads (one query, whatever the size of the pathway).
    assert before <= 13


# --- PATCH /milestones/{key} -------------------------------------------------------------------


def test_it_changes_a_status(client, amira_profile, amira_auth):
    response = patch(client, "/api/v1/milestones/usmle_step1", {"status": "in_progress"}, amira_auth)

    assert response.status_code == 200
    assert response.json()["key"] == "usmle_step1"
    assert response.json()["status"] == "in_progress"
    assert milestone(amira_profile.user, "usmle_step1").status == "in_progress"


def test_it_completes_a_milestone_on_a_given_date(client, amira_profile, amira_auth):
    response = patch(
        client,
        "/api/v1/milestones/school_eligibility_check",
        {"status": "done", "completed_on": "2026-09-15"},
        amira_auth,
    )

    assert response.status_code == 200, response.json()
    m = milestone(amira_profile.user, "school_eligibility_check")
    assert (m.status, m.completed_on) == ("done", date(2026, 9, 15))


def test_it_waives_with_a_reason(client, amira_profile, amira_auth):
    response = patch(
        client, "/api/v1/milestones/usce", {"status": "waived", "reason": "Program exempts me"}, amira_auth
    )

    assert response.status_code == 200
    assert milestone(amira_profile.user, "usce").waived_reason == "Program exempts me"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"status": 5}, "status"),
        ({"status": "finished"}, "status"),
        ({}, "status"),
        ({"status": "done", "completed_on": "2026-02-30"}, "completed_on"),
        ({"status": "done", "completed_on": "last week"}, "completed_on"),
        ({"status": "waived", "reason": ["a"]}, "reason"),
        ({"status": "waived", "reason": "x" * 301}, "reason"),
    ],
)
def test_it_refuses_badly_typed_input_and_changes_nothing(client, amira_profile, amira_auth, body, field):
    before = snapshot(amira_profile.user)

    response = patch(client, "/api/v1/milestones/ecfmg_registration", body, amira_auth)

    assert response.status_code == 422
    assert any(error["loc"][-1] == field for error in response.json()["detail"])
    assert snapshot(amira_profile.user) == before


def test_it_refuses_a_malformed_json_body(client, amira_profile, amira_auth):
    response = client.patch(
        "/api/v1/milestones/usmle_step1", "{not json", content_type="application/json", headers=amira_auth
    )

    assert 400 <= response.status_code < 500


@pytest.mark.parametrize(
    ("body", "field", "words"),
    [
        ({"status": "waived"}, "reason", "why"),
        ({"status": "done", "completed_on": "2026-12-01"}, "completed_on", "future"),
    ],
)
def test_it_turns_rule_violations_into_a_422_naming_the_field(
    client, amira_profile, amira_auth, body, field, words
):
    before = snapshot(amira_profile.user)

    response = patch(client, "/api/v1/milestones/school_eligibility_check", body, amira_auth)

    assert response.status_code == 422
    [error] = response.json()["detail"]
    assert error["loc"] == ["body", field]
    assert words in error["msg"].lower()
    assert snapshot(amira_profile.user) == before


def test_it_refuses_to_complete_before_the_hard_prerequisites(client, amira_profile, amira_auth):
    body = client.get("/api/v1/pathway", headers=amira_auth).json()
    blocked = next(m for m in body["milestones"] if m["prerequisites"] and m["status"] == "not_started")
    before = snapshot(amira_profile.user)

    response = patch(client, f"/api/v1/milestones/{blocked['key']}", {"status": "done"}, amira_auth)

    assert response.status_code == 422
    assert "complete these first" in response.json()["detail"][0]["msg"].lower()
    assert snapshot(amira_profile.user) == before


def test_an_unknown_key_is_404(client, amira_profile, amira_auth):
    response = patch(client, "/api/v1/milestones/no_such_step", {"status": "done"}, amira_auth)

    assert response.status_code == 404


def test_another_applicants_milestone_is_404_and_untouched(client, amira_profile, amira_auth, carla_profile):
    # COMLEX exists only on Carla's (a DO's) path; the key must not reach her milestone through Amira.
    assert milestone(carla_profile.user, "comlex_level1").is_applicable
    assert (
        not Milestone.objects.applicable()
        .filter(applicant=amira_profile.user, template__key="comlex_level1")
        .exists()
    )
    before = snapshot(carla_profile.user)

    response = patch(client, "/api/v1/milestones/comlex_level1", {"status": "in_progress"}, amira_auth)

    assert response.status_code == 404
    assert snapshot(carla_profile.user) == before


def test_a_shared_key_changes_only_my_own_milestone(client, amira_profile, amira_auth, carla_profile):
    before = snapshot(carla_profile.user)

    patch(client, "/api/v1/milestones/usmle_step1", {"status": "in_progress"}, amira_auth)

    assert milestone(amira_profile.user, "usmle_step1").status == "in_progress"
    assert snapshot(carla_profile.user) == before


# --- POST /milestones/{key}/attempts -----------------------------------------------------------


def test_it_records_a_booked_attempt(client, amira_profile, amira_auth):
    response = post(
        client, "/api/v1/milestones/usmle_step2ck/attempts", {"test_date": "2026-12-10"}, amira_auth
    )

    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["exam"] == "step2ck" and body["test_date"] == "2026-12-10"
    assert body["passed"] is None and body["score"] is None
    assert ExamAttempt.objects.get(pk=body["id"]).milestone.applicant == amira_profile.user


def test_it_records_a_passed_attempt_with_its_score(client, amira_profile, amira_auth):
    body = {"test_date": "2026-08-03", "result_date": "2026-09-02", "score": 250}

    response = post(client, "/api/v1/milestones/usmle_step2ck/attempts", body, amira_auth)

    assert response.status_code == 201, response.json()
    assert response.json()["passed"] is True
    assert response.json()["score"] == 250


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "test_date"),
        ({"test_date": 20261210}, "test_date"),
        ({"test_date": "2026-02-30"}, "test_date"),
        ({"test_date": "tomorrow"}, "test_date"),
        ({"test_date": "2026-08-03", "result_date": "2026-13-01"}, "result_date"),
        ({"test_date": "2026-08-03", "score": 0}, "score"),
        ({"test_date": "2026-08-03", "score": 301}, "score"),
        ({"test_date": "2026-08-03", "score": "high"}, "score"),
        ({"test_date": "2026-08-03", "passed": "maybe"}, "passed"),
    ],
)
def test_it_refuses_badly_typed_attempts_and_records_nothing(client, amira_profile, amira_auth, body, field):
    response = post(client, "/api/v1/milestones/usmle_step2ck/attempts", body, amira_auth)

    assert response.status_code == 422
    assert any(error["loc"][-1] == field for error in response.json()["detail"])
    assert not ExamAttempt.objects.exists()


@pytest.mark.parametrize(
    ("body", "field", "words"),
    [
        ({"test_date": "2026-08-03", "result_date": "2026-07-01"}, "result_date", "before the test"),
        ({"test_date": "2026-12-10", "passed": True}, "passed", "not happened yet"),
        ({"test_date": "2028-06-01"}, "test_date", "more than a year ahead"),
    ],
)
def test_it_refuses_impossible_attempts(client, amira_profile, amira_auth, body, field, words):
    response = post(client, "/api/v1/milestones/usmle_step2ck/attempts", body, amira_auth)

    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", field]
    assert words in response.json()["detail"][0]["msg"]
    assert not ExamAttempt.objects.exists()


def test_it_names_the_rule_and_its_source_when_the_attempt_limit_is_reached(
    client, amira_profile, amira_auth
):
    step2 = milestone(amira_profile.user, "usmle_step2ck")
    for year in (2022, 2023, 2024, 2025):
        ExamAttempt.objects.create(milestone=step2, exam="step2ck", test_date=date(year, 1, 10), passed=False)
    before = snapshot(amira_profile.user)

    response = post(
        client, "/api/v1/milestones/usmle_step2ck/attempts", {"test_date": "2026-12-10"}, amira_auth
    )

    assert response.status_code == 422
    [error] = response.json()["detail"]
    assert error["loc"] == ["body", "test_date"]
    assert "at most 4 attempts" in error["msg"]
    assert "usmle.org" in error["msg"]
    assert snapshot(amira_profile.user) == before


def test_an_attempt_on_a_milestone_without_exams_is_422(client, amira_profile, amira_auth):
    response = post(
        client, "/api/v1/milestones/ecfmg_registration/attempts", {"test_date": "2026-12-10"}, amira_auth
    )

    assert response.status_code == 422
    assert "no exam attempts" in response.json()["detail"][0]["msg"]
    assert not ExamAttempt.objects.exists()


def test_an_attempt_on_an_unknown_or_foreign_key_is_404(client, amira_profile, amira_auth, carla_profile):
    for key in ("no_such_step", "comlex_level1"):
        response = post(client, f"/api/v1/milestones/{key}/attempts", {"test_date": "2026-12-10"}, amira_auth)
        assert response.status_code == 404
    assert not ExamAttempt.objects.exists()


# --- GET /cycles/{year} ------------------------------------------------------------------------


def test_it_lists_a_cycles_events_in_eastern_time(client, amira_profile, amira_auth):
    response = client.get("/api/v1/cycles/2027", headers=amira_auth)

    assert response.status_code == 200
    body = response.json()
    assert body["year"] == 2027
    rol = next(e for e in body["events"] if e["key"] == "nrmp_rol_deadline")
    assert rol["at"] == "2027-03-03T21:00:00-05:00"
    assert rol["projected"] is True
    assert rol["source"].startswith("https://")
    assert [e["at"] for e in body["events"]] == sorted(e["at"] for e in body["events"])


@pytest.mark.parametrize("persona", ["ben", "dan", "root"])
def test_any_signed_in_user_may_read_a_cycle(client, request, cycle_2027, persona):
    client.force_login(request.getfixturevalue(persona))

    assert client.get("/api/v1/cycles/2027").status_code == 200


@pytest.mark.parametrize("year", ["1999", "2099"])
def test_an_unknown_cycle_is_404(client, amira_profile, amira_auth, year):
    assert client.get(f"/api/v1/cycles/{year}", headers=amira_auth).status_code == 404


def test_a_non_numeric_cycle_is_not_found(client, amira_profile, amira_auth):
    assert client.get("/api/v1/cycles/next", headers=amira_auth).status_code == 404


# --- Schema and docs ---------------------------------------------------------------------------


def test_the_openapi_schema_is_served_with_every_path(client, db):
    response = client.get("/api/v1/openapi.json")

    assert response.status_code == 200
    schema = response.json()
    assert set(schema["paths"]) == {
        "/api/v1/pathway",
        "/api/v1/milestones/{key}",
        "/api/v1/milestones/{key}/attempts",
        "/api/v1/cycles/{year}",
        # The program directory (issue 12).
        "/api/v1/programs",
        "/api/v1/programs/{program_code}",
        "/api/v1/my-programs",
        # The application season (issue 13).
        "/api/v1/applications",
        "/api/v1/applications/{pk}/status",
        "/api/v1/applications/{pk}/signal",
        "/api/v1/letters/{pk}/assignments",
        "/api/v1/letters/{pk}/assignments/{application}",
        "/api/v1/rank-order-list",
        "/api/v1/rank-order-list/order",
        "/api/v1/rank-order-list/ranks",
        "/api/v1/rank-order-list/ranks/{application}",
        "/api/v1/rank-order-list/supplemental",
        "/api/v1/rank-order-list/certify",
        "/api/v1/match",
        "/api/v1/match/status",
        "/api/v1/match/program",
        "/api/v1/soap/applications",
        "/api/v1/soap/offers",
        "/api/v1/soap/offers/{pk}/accept",
        "/api/v1/soap/offers/{pk}/decline",
    }
    assert {"TokenAuth", "SessionAuth"} <= set(schema["components"]["securitySchemes"])


def test_there_is_no_swagger_page_loading_assets_from_a_cdn(client, db):
    assert client.get("/api/v1/docs").status_code == 404
