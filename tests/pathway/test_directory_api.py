"""The programs API: the directory's search with the pages' filters, a program with the caller's verdict,
and an applicant's own programs; bad input is a clear 4xx in JSON and changes nothing."""

from __future__ import annotations

import json
from datetime import date

import pytest

from pathway.tokens import api_token_create
from programs.models import ApplicantProgram, OutdatedReport, Program, RequirementClaim

from ..factories import PlannedProfileFactory
from .directory_helpers import FRIENDLY_CODE, FRIENDLY_ERAS, H1B_STEP3_CODE, demo_programs, program, season  # noqa: F401 (fixtures)

# Every test here reads the fictional demo programs, on a day in the 2027 season.
pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("season", "demo_programs")]
LIST = "/api/v1/programs"


@pytest.fixture
def auth(amira_profile) -> dict:
    _token, secret = api_token_create(user=amira_profile.user, name="tests")
    return {"Authorization": f"Bearer {secret}"}


def post(client, body, headers):
    data = body if isinstance(body, str) else json.dumps(body)
    return client.post("/api/v1/my-programs", data, content_type="application/json", headers=headers)


def state_of_the_directory():
    return (
        list(Program.objects.order_by("pk").values_list("pk", "name", "listed")),
        list(RequirementClaim.objects.order_by("pk").values_list("pk", "state", "value_bool", "value_int", "observed_on")),
        list(ApplicantProgram.objects.order_by("pk").values_list("pk", "program_id")),
        list(OutdatedReport.objects.order_by("pk").values_list("pk", "status")),
    )


def test_the_list_takes_the_pages_filters_and_pages_by_25(client, auth):
    everything = client.get(LIST, headers=auth).json()
    assert everything["count"] == Program.objects.count() and len(everything["results"]) == 25
    assert everything["pages"] == (everything["count"] + 24) // 25
    second = client.get(LIST, {"page": 2}, headers=auth).json()
    assert {r["code"] for r in second["results"]}.isdisjoint({r["code"] for r in everything["results"]})

    found = client.get(LIST, {"q": FRIENDLY_ERAS, "state": ["NY", "TX"], "visa": "J1"}, headers=auth).json()
    assert FRIENDLY_CODE in [r["code"] for r in found["results"]]
    assert all(r["state"] in ("NY", "TX") and r["visa_j1"] == "Yes" for r in found["results"])
    friendly = next(r for r in found["results"] if r["code"] == FRIENDLY_CODE)
    assert friendly["verdict"] == "pass" and friendly["eras_name"] == FRIENDLY_ERAS

    eligible = client.get(LIST, {"eligible": "true"}, headers=auth).json()
    assert eligible["count"] == Program.objects.eligible_for(program_owner(auth)).count() > 0
    assert {r["verdict"] for r in eligible["results"]} == {"pass"}


def program_owner(auth):
    from pathway.tokens import api_token_authenticate

    return api_token_authenticate(auth["Authorization"].split()[1]).user.profile


def test_one_program_with_its_requirements_and_the_callers_verdict(client, pathway_data):
    user = PlannedProfileFactory(visa_route="H1B", graduation_date=date(2024, 6, 30)).user
    _token, secret = api_token_create(user=user, name="tests")
    response = client.get(f"{LIST}/{H1B_STEP3_CODE.lower()}", headers={"Authorization": f"Bearer {secret}"})
    body = response.json()
    assert response.status_code == 200 and body["code"] == H1B_STEP3_CODE
    assert body["verdict"] == "fail" and "Step 3" in body["summary"]
    step3 = next(c for c in body["checks"] if c["requirement"] == "step3_before_ranking")
    assert step3["outcome"] == "fail" and step3["observed_on"] == "2026-11-02"
    assert step3["source_url"] == f"https://example.org/fictional-programs/{H1B_STEP3_CODE}"
    visa = next(r for r in body["requirements"] if r["requirement"] == "visa_j1")
    assert visa == {
        "requirement": "visa_j1", "label": "J-1 visa sponsorship", "value": "No", "known": True,
        "source_url": f"https://example.org/fictional-programs/{H1B_STEP3_CODE}", "source_kind": "demo",
        "observed_on": "2026-11-02", "stale": False, "verified": False,
    }


def test_advisors_read_programs_without_a_verdict(client, ben):
    _token, secret = api_token_create(user=ben, name="tests")
    headers = {"Authorization": f"Bearer {secret}"}
    assert {r["verdict"] for r in client.get(LIST, headers=headers).json()["results"]} == {None}
    body = client.get(f"{LIST}/{FRIENDLY_CODE}", headers=headers).json()
    assert body["verdict"] is None and body["checks"] == []
    assert post(client, {"nrmp_code": FRIENDLY_CODE}, headers).status_code == 404


# One test each (a loop, not parametrized): loading the demo programs is the slow part.
BAD_FILTERS = [
    ({"state": "ZZ"}, "state"),
    ({"specialty": "12"}, "specialty"),
    ({"specialty": "123"}, "specialty"),
    ({"visa": "F1"}, "visa"),
    ({"step2ck": "abc"}, "step2ck"),
    ({"step2ck": "301"}, "step2ck"),
    ({"q": "a\x00b"}, "q"),
    ({"page": "0"}, "page"),
]


def test_filters_it_cannot_read_are_422_naming_the_parameter(client, auth):
    for query, field in BAD_FILTERS:
        response = client.get(LIST, query, headers=auth)
        assert response.status_code == 422, (query, response.content)
        assert field in [error["loc"][-1] for error in response.json()["detail"]], query


def test_unknown_pages_and_codes_are_404_in_json(client, auth):
    response = client.get(LIST, {"page": 99}, headers=auth)
    assert response.status_code == 404 and "No page 99" in response.json()["detail"]
    response = client.get(f"{LIST}/1234140C0", headers=auth)
    assert response.status_code == 404 and "1234140C0" in response.json()["detail"]
    assert client.get(LIST).status_code == 401


def test_an_applicant_adds_programs_by_code_or_name(client, auth, amira_profile):
    response = post(client, {"nrmp_code": FRIENDLY_CODE}, auth)
    assert response.status_code == 200 and response.json()["code"] == FRIENDLY_CODE
    assert response.json()["verdict"] == "pass"
    response = post(client, {
        "name": "Fictional Larkspur Pediatrics", "state": "VT", "claims": {"visa_j1": "yes", "min_step2ck": "none"},
        "source_url": "https://example.org/larkspur", "observed_on": "2026-11-20",
    }, auth)
    assert response.status_code == 201
    body = response.json()
    assert body["listed"] is False and body["code"] is None
    assert {r["requirement"]: r["value"] for r in body["requirements"] if r["known"]} == {
        "visa_j1": "Yes", "min_step2ck": "No minimum",
    }
    assert set(ApplicantProgram.objects.filter(applicant=amira_profile.user).values_list("program__name", flat=True)) == {
        program(FRIENDLY_CODE).name, "Fictional Larkspur Pediatrics",
    }


BAD_BODIES = [
    ({}, 422, "name"),
    ({"nrmp_code": "12AB"}, 422, "nrmp_code"),
    ({"nrmp_code": "1234140C0"}, 422, "name"),
    ({"name": "Fictional Y", "claims": {"visa_j1": "maybe"}}, 422, "visa_j1"),
    ({"name": "Fictional Y", "claims": {"max_attempts": "99"}}, 422, "max_attempts"),
    ({"name": "Fictional Y", "claims": {"not_a_requirement": "1"}}, 422, "not_a_requirement"),
    ({"name": "Fictional Y", "state": "ZZ"}, 422, "state"),
    ({"name": "Fictional Y", "observed_on": "2031-01-01"}, 422, "observed_on"),
    ({"name": "Fictional Y", "colour": "red"}, 422, "colour"),
    ({"name": "Fictional\x00Y"}, 422, "name"),
    ("{not json", 400, None),
]


def test_bad_input_to_my_programs_is_refused_and_changes_nothing(client, auth):
    before = state_of_the_directory()
    for body, status, where in BAD_BODIES:
        response = post(client, body, auth)
        assert response.status_code == status, (body, response.content)
        if where:
            located = [str(part) for error in response.json()["detail"] for part in error["loc"]]
            assert where in located, (body, response.json())
        assert state_of_the_directory() == before, body
