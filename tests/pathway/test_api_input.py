"""Bad input to the JSON API gets a clear 4xx and changes nothing; the API refuses what the forms refuse.

Issue #10: NUL characters (unstorable on PostgreSQL), dates before 1950 or implausibly far ahead,
integers given as dates, a double-submitted exam attempt, the documented status codes, unknown paths
under /api/ and unknown milestone keys.
"""

from __future__ import annotations

import json
from datetime import date

import pytest
import time_machine

from milestones.models import EARLIEST_DATE, ExamAttempt, Milestone
from pathway.tokens import api_token_create

pytestmark = pytest.mark.django_db

# A fixed day in the 2027 cycle: the services judge dates against the applicant's today.
TODAY = "2026-10-01 12:00Z"
NUL_MESSAGE = "Null characters are not allowed."


@pytest.fixture(autouse=True)
def _fixed_today():
    with time_machine.travel(TODAY, tick=False):
        yield


@pytest.fixture
def auth(amira_profile) -> dict:
    _token, secret = api_token_create(user=amira_profile.user, name="tests")
    return {"Authorization": f"Bearer {secret}"}


def send(client, method, url, body, headers):
    data = body if isinstance(body, str) else json.dumps(body)
    return client.generic(method, url, data, content_type="application/json", headers=headers)


def snapshot(user) -> list[tuple]:
    """Everything the write endpoints could change, to prove a refused request changed nothing."""
    return [
        *Milestone.objects.filter(applicant=user)
        .order_by("pk")
        .values_list("pk", "status", "completed_on", "waived_reason"),
        *ExamAttempt.objects.filter(milestone__applicant=user)
        .order_by("pk")
        .values_list("pk", "test_date", "result_date", "passed", "score"),
    ]


def messages_for(response, field: str) -> str:
    return " ".join(error["msg"] for error in response.json()["detail"] if error["loc"][-1] == field)


# --- Text the database cannot store --------------------------------------------------------------


@pytest.mark.parametrize(
    "reason",
    [
        "exempt\x00by my program",  # PostgreSQL refuses NUL in text: a 500 on the old code
        "\x00",
        "exempt \ud800",  # a lone surrogate (valid in JSON's \u escapes) cannot be encoded as UTF-8
    ],
)
def test_a_waiver_reason_the_database_cannot_store_is_a_422(client, amira_profile, auth, reason):
    before = snapshot(amira_profile.user)

    response = send(client, "PATCH", "/api/v1/milestones/usce", {"status": "waived", "reason": reason}, auth)

    assert response.status_code == 422
    assert messages_for(response, "reason")
    assert snapshot(amira_profile.user) == before


def test_the_api_and_the_form_give_the_same_reason_for_a_nul(client, amira_profile, auth):
    api = send(client, "PATCH", "/api/v1/milestones/usce", {"status": "waived", "reason": "a\x00b"}, auth)
    client.force_login(amira_profile.user)
    page = client.post("/milestones/usce/status/", {"status-status": "waived", "status-reason": "a\x00b"})

    assert (api.status_code, page.status_code) == (422, 422)
    assert NUL_MESSAGE in messages_for(api, "reason")
    assert page.context["refused"].errors["reason"] == [NUL_MESSAGE]


# --- Dates ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "completed_on",
    [
        0,  # stored as 1 January 1970 on the old code
        86400,
        "0",
        "1700000000",
        1.0,
        "2026-09-15T00:00:00",  # a date-time is not a date
        "20260915",
        " 2026-09-15",
        "1949-12-31",
        "0001-01-01",
    ],
)
def test_a_completion_date_must_be_a_plausible_iso_date(client, amira_profile, auth, completed_on):
    before = snapshot(amira_profile.user)

    response = send(
        client,
        "PATCH",
        "/api/v1/milestones/school_eligibility_check",
        {"status": "done", "completed_on": completed_on},
        auth,
    )

    assert response.status_code == 422, response.json()
    assert messages_for(response, "completed_on")
    assert snapshot(amira_profile.user) == before


def test_the_earliest_date_itself_is_accepted(client, amira_profile, auth):
    response = send(
        client,
        "PATCH",
        "/api/v1/milestones/school_eligibility_check",
        {"status": "done", "completed_on": EARLIEST_DATE.isoformat()},
        auth,
    )

    assert response.status_code == 200, response.json()
    done = Milestone.objects.get(applicant=amira_profile.user, template__key="school_eligibility_check")
    assert done.completed_on == EARLIEST_DATE


def test_a_future_completion_date_is_refused_whatever_the_status(client, amira_profile, auth):
    """The milestone form refuses a completion date in the future before it looks at the status."""
    before = snapshot(amira_profile.user)

    response = send(
        client,
        "PATCH",
        "/api/v1/milestones/school_eligibility_check",
        {"status": "in_progress", "completed_on": "9999-12-31"},
        auth,
    )

    assert response.status_code == 422, response.json()
    assert "future" in messages_for(response, "completed_on")
    assert snapshot(amira_profile.user) == before


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"test_date": 0}, "test_date"),
        ({"test_date": "0"}, "test_date"),
        ({"test_date": "1949-12-31"}, "test_date"),
        ({"test_date": "2026-08-03T00:00:00"}, "test_date"),
        ({"test_date": "9999-12-31"}, "test_date"),
        # 30 days after the epoch: stored as 31 January 1970 on the old code.
        ({"test_date": "1970-01-01", "result_date": 2592000, "passed": False}, "result_date"),
        ({"test_date": "2026-08-03", "result_date": "9999-12-31", "passed": False}, "result_date"),
    ],
)
def test_attempt_dates_must_be_plausible_iso_dates(client, amira_profile, auth, body, field):
    response = send(client, "POST", "/api/v1/milestones/usmle_step2ck/attempts", body, auth)

    assert response.status_code == 422, response.json()
    assert messages_for(response, field)
    assert not ExamAttempt.objects.exists()


def test_an_unknown_field_is_refused_not_ignored(client, amira_profile, auth):
    """A typo ("complete_on") once saved today's date instead of the one meant."""
    before = snapshot(amira_profile.user)

    response = send(
        client,
        "PATCH",
        "/api/v1/milestones/school_eligibility_check",
        {"status": "done", "complete_on": "2026-09-15"},
        auth,
    )

    assert response.status_code == 422
    assert messages_for(response, "complete_on")
    assert snapshot(amira_profile.user) == before


# --- A double-submitted exam attempt ------------------------------------------------------------------


def test_a_double_submitted_attempt_is_recorded_once(client, amira_profile, auth):
    body = {"test_date": "2026-08-03", "result_date": "2026-09-02", "score": 250}
    url = "/api/v1/milestones/usmle_step2ck/attempts"

    first = send(client, "POST", url, body, auth)
    second = send(client, "POST", url, body, auth)

    assert (first.status_code, second.status_code) == (201, 201)
    assert first.json() == second.json()
    assert ExamAttempt.objects.filter(milestone__applicant=amira_profile.user).count() == 1


def test_a_result_for_a_booked_test_completes_that_attempt(client, amira_profile, auth):
    url = "/api/v1/milestones/usmle_step2ck/attempts"
    booked = send(client, "POST", url, {"test_date": "2026-08-03"}, auth)

    result = send(
        client, "POST", url, {"test_date": "2026-08-03", "result_date": "2026-09-02", "score": 250}, auth
    )

    assert result.status_code == 201, result.json()
    assert result.json()["id"] == booked.json()["id"]
    assert (result.json()["passed"], result.json()["score"]) == (True, 250)
    [attempt] = ExamAttempt.objects.filter(milestone__applicant=amira_profile.user)
    assert (attempt.result_date, attempt.score) == (date(2026, 9, 2), 250)


def test_a_different_result_for_the_same_day_is_refused(client, amira_profile, auth):
    url = "/api/v1/milestones/usmle_step2ck/attempts"
    send(client, "POST", url, {"test_date": "2026-08-03", "result_date": "2026-09-02", "score": 250}, auth)
    before = snapshot(amira_profile.user)

    response = send(
        client, "POST", url, {"test_date": "2026-08-03", "result_date": "2026-09-02", "score": 200}, auth
    )

    assert response.status_code == 422
    assert "already recorded" in messages_for(response, "test_date")
    assert snapshot(amira_profile.user) == before


# --- Not found ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "url"),
    [
        ("PATCH", "/api/v1/milestones/nosuch"),
        ("POST", "/api/v1/milestones/nosuch/attempts"),
        ("PATCH", "/api/v1/milestones/comlex_level1"),  # a real key, but not on a non-US IMG's pathway
    ],
)
def test_an_unknown_milestone_says_what_was_not_found(client, amira_profile, auth, method, url):
    key = url.split("/")[4]
    body = {"status": "in_progress"} if method == "PATCH" else {"test_date": "2026-08-03"}

    response = send(client, method, url, body, auth)

    assert response.status_code == 404
    assert f"'{key}'" in response.json()["detail"]


@pytest.mark.parametrize(
    ("method", "url"),
    [
        ("GET", "/api/"),
        ("GET", "/api/nosuch"),
        ("GET", "/api/v1/nosuch"),
        ("GET", "/api/v1/pathway/extra"),
        ("GET", "/api/v1/cycles/-5"),
        ("GET", "/api/v1/cycles/2027/"),
        ("POST", "/api/v2/milestones/usce/attempts"),
    ],
)
def test_an_unknown_path_under_api_is_a_json_404(client, amira_profile, auth, method, url):
    for headers in (auth, {}):
        response = send(client, method, url, "", headers)

        assert response.status_code == 404, url
        assert response["Content-Type"].startswith("application/json")
        assert response.json() == {"detail": "Not Found"}


@pytest.mark.parametrize(
    ("method", "url"), [("PATCH", "/api/v1/milestones/a%00b"), ("POST", "/api/v1/milestones/%00/attempts")]
)
def test_a_key_the_database_cannot_store_is_a_404(client, amira_profile, auth, method, url):
    body = {"status": "in_progress"} if method == "PATCH" else {"test_date": "2026-08-03"}

    response = send(client, method, url, body, auth)

    assert response.status_code == 404
    assert response["Content-Type"].startswith("application/json")


def test_an_unknown_path_elsewhere_is_still_the_html_page(client, db):
    response = client.get("/no-such-page/")

    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html")


# --- The documented status codes -------------------------------------------------------------------


def test_the_openapi_schema_documents_every_status_the_api_answers_with(client, db):
    operations = {
        (method.upper(), path): set(map(int, operation["responses"]))
        for path, methods in client.get("/api/v1/openapi.json").json()["paths"].items()
        for method, operation in methods.items()
    }

    assert operations == {
        ("GET", "/api/v1/pathway"): {200, 401, 404},
        ("PATCH", "/api/v1/milestones/{key}"): {200, 400, 401, 403, 404, 422},
        ("POST", "/api/v1/milestones/{key}/attempts"): {201, 400, 401, 403, 404, 422},
        ("GET", "/api/v1/cycles/{year}"): {200, 401, 404},
        # The program directory (issue 12): filters are a query (422), a program a path.
        ("GET", "/api/v1/programs"): {200, 401, 404, 422},
        ("GET", "/api/v1/programs/{program_code}"): {200, 401, 404},
        ("POST", "/api/v1/my-programs"): {200, 201, 400, 401, 403, 404, 422},
        # The season (issue 13): reads take ?cycle= (422); changes with a body can be unparseable (400);
        # changes without one (DELETE, an offer's accept/decline) cannot.
        ("GET", "/api/v1/applications"): {200, 401, 404, 422},
        ("PATCH", "/api/v1/applications/{pk}/status"): {200, 400, 401, 403, 404, 422},
        ("PUT", "/api/v1/applications/{pk}/signal"): {200, 400, 401, 403, 404, 422},
        ("POST", "/api/v1/letters/{pk}/assignments"): {201, 400, 401, 403, 404, 422},
        ("DELETE", "/api/v1/letters/{pk}/assignments/{application}"): {204, 401, 403, 404},
        ("GET", "/api/v1/rank-order-list"): {200, 401, 404, 422},
        ("PUT", "/api/v1/rank-order-list/order"): {200, 400, 401, 403, 404, 422},
        ("POST", "/api/v1/rank-order-list/ranks"): {200, 400, 401, 403, 404, 422},
        ("DELETE", "/api/v1/rank-order-list/ranks/{application}"): {200, 401, 403, 404, 422},
        ("POST", "/api/v1/rank-order-list/supplemental"): {200, 400, 401, 403, 404, 422},
        ("POST", "/api/v1/rank-order-list/certify"): {200, 400, 401, 403, 404, 422},
        ("GET", "/api/v1/match"): {200, 401, 404, 422},
        ("POST", "/api/v1/match/status"): {200, 400, 401, 403, 404, 422},
        ("POST", "/api/v1/match/program"): {200, 400, 401, 403, 404, 422},
        ("POST", "/api/v1/soap/applications"): {201, 400, 401, 403, 404, 422},
        ("POST", "/api/v1/soap/offers"): {201, 400, 401, 403, 404, 422},
        ("POST", "/api/v1/soap/offers/{pk}/accept"): {200, 401, 403, 404, 422},
        ("POST", "/api/v1/soap/offers/{pk}/decline"): {200, 401, 403, 404, 422},
    }


@pytest.mark.parametrize(
    ("method", "url"),
    [
        ("DELETE", "/api/v1/rank-order-list/ranks/1"),
        ("DELETE", "/api/v1/letters/1/assignments/1"),
        ("POST", "/api/v1/soap/offers/1/accept"),
    ],
)
def test_a_change_without_a_body_ignores_a_broken_one_so_never_answers_400(client, amira_profile, auth, method, url):
    """The schema documents no 400 for these: what they answer instead is documented (here, 404 or 422)."""
    response = send(client, method, url, "{not json", auth)

    assert response.status_code in (404, 422), response.content


def test_a_body_that_is_not_json_is_a_400_with_a_detail(client, amira_profile, auth):
    before = snapshot(amira_profile.user)

    response = send(client, "PATCH", "/api/v1/milestones/usce", "{not json", auth)

    assert response.status_code == 400
    assert response.json() == {"detail": "Cannot parse request body"}
    assert snapshot(amira_profile.user) == before
