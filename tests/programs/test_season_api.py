"""The season's JSON API: the same rules as the forms (the same services), at and past each limit (300
ranks, 45 SOAP applications, 4 letters per program, the signal allowance), stale versions refused, clear
422s, and the rank order list read in a constant number of queries with 300 ranks."""

from __future__ import annotations

import json

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from pathway.tokens import api_token_create
from programs.season.match_models import MatchOutcome, Rank
from programs.season.models import Letter, LetterAssignment

from .season_b import (
    MONDAY,
    ROUND_1,
    fill_primary,
    make_applications,
    make_programs,
    mark_done,
    season_rules,  # noqa: F401
)

API = "/api/v1"


@pytest.fixture
def amira(applicant, season_rules):  # noqa: F811
    return applicant(specialties=["Internal Medicine"]).user


@pytest.fixture
def api(client, amira):
    _token, secret = api_token_create(user=amira, name="season-tests")
    headers = {"Authorization": f"Bearer {secret}"}

    class Api:
        def get(self, path, **params):
            return client.get(API + path, params, headers=headers)

        def send(self, method, path, body=None):
            return getattr(client, method)(API + path, json.dumps(body or {}), content_type="application/json",
                                           headers=headers)

    return Api()


def test_applications_and_status_changes(api, amira):
    cycle = amira.profile.target_cycle
    (application,) = make_applications(amira, cycle, make_programs(1), status="applied")
    body = api.get("/applications").json()
    assert body["cycle"] == 2027
    assert [(a["id"], a["status"], a["program"]["specialty"]) for a in body["applications"]] == [
        (application.pk, "applied", "Internal Medicine")
    ]
    response = api.send("patch", f"/applications/{application.pk}/status", {"status": "interviewed"})
    assert response.status_code == 200 and response.json()["status"] == "interviewed"
    response = api.send("patch", f"/applications/{application.pk}/status", {"status": "hired"})
    assert response.status_code == 422
    assert api.send("patch", "/applications/999999/status", {"status": "applied"}).status_code == 404
    assert api.get("/applications", cycle=1999).status_code == 422


def test_rank_order_list_read_is_constant_with_300_ranks(api, amira):
    cycle = amira.profile.target_cycle
    applications = make_applications(amira, cycle, make_programs(300))
    fill_primary(amira, cycle, applications[:3])
    api.get("/rank-order-list")  # the token's last use is written at most once a minute: not counted
    with CaptureQueriesContext(connection) as few:
        assert len(api.get("/rank-order-list").json()["lists"][0]["ranks"]) == 3
    Rank.objects.all().delete()
    fill_primary(amira, cycle, applications)
    with CaptureQueriesContext(connection) as many:
        body = api.get("/rank-order-list").json()
    assert len(body["lists"][0]["ranks"]) == 300
    assert len(many) == len(few)
    assert body["max_ranks"] == {"value": 300, "status": "projected", "source": "https://www.nrmp.org/couples-in-the-match/"}
    assert (body["extra_codes"], body["extra_cost_usd"]) == (280, 280 * 30)
    assert body["nrmp_median"]["matched_median"] == "5.0"


def test_ranks_at_and_past_300_through_the_api(api, amira):
    cycle = amira.profile.target_cycle
    applications = make_applications(amira, cycle, make_programs(301))
    fill_primary(amira, cycle, applications[:299])
    version = api.get("/rank-order-list").json()["version"]
    response = api.send("post", "/rank-order-list/ranks", {"version": version, "application": applications[299].pk})
    assert response.status_code == 200
    body = response.json()
    assert len(body["lists"][0]["ranks"]) == 300
    response = api.send("post", "/rank-order-list/ranks", {"version": body["version"], "application": applications[300].pk})
    assert response.status_code == 422
    assert "at most 300 ranks" in response.json()["detail"][0]["msg"]
    assert Rank.objects.count() == 300


def test_reorder_with_a_stale_version_is_refused_and_certify_needs_the_version(api, amira):
    cycle = amira.profile.target_cycle
    a, b = make_applications(amira, cycle, make_programs(2))
    fill_primary(amira, cycle, [a, b])
    version = api.get("/rank-order-list").json()["version"]
    response = api.send("put", "/rank-order-list/order", {"version": version, "order": [b.pk, a.pk]})
    assert response.status_code == 200
    assert [r["application"] for r in response.json()["lists"][0]["ranks"]] == [b.pk, a.pk]
    response = api.send("put", "/rank-order-list/order", {"version": version, "order": [a.pk, b.pk]})
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "version"]
    assert api.send("put", "/rank-order-list/order", {"version": "x", "order": []}).status_code == 422
    assert api.send("put", "/rank-order-list/order", {"version": 1, "order": [a.pk], "extra": 1}).status_code == 422
    response = api.send("delete", f"/rank-order-list/ranks/{a.pk}?version={version + 1}")
    assert response.status_code == 200 and len(response.json()["lists"][0]["ranks"]) == 1


def test_soap_at_and_past_45_through_the_api_and_an_accepted_offer(api, amira):
    mark_done(amira, "nrmp_registration", "rank_order_list")
    programs = make_programs(46)
    with time_machine.travel(MONDAY, tick=False):
        assert api.send("post", "/match/status", {"status": "unmatched"}).status_code == 200
        for program in programs[:45]:
            assert api.send("post", "/soap/applications", {"program": program.pk}).status_code == 201
        response = api.send("post", "/soap/applications", {"program": programs[45].pk})
        assert response.status_code == 422
        assert "at most 45 applications" in response.json()["detail"][0]["msg"]
    first = MatchOutcome.objects.get().soap_applications.order_by("pk").first()
    with time_machine.travel(ROUND_1, tick=False):
        body = api.send("post", "/soap/offers", {"application": first.pk}).json()
        offer = body["offers"][0]
        body = api.send("post", f"/soap/offers/{offer['id']}/accept").json()
    assert body["matched_program"]["id"] == first.program_id and body["matched_via"] == "soap"


def test_letters_at_and_past_four_per_program_through_the_api(api, amira):
    cycle = amira.profile.target_cycle
    (application,) = make_applications(amira, cycle, make_programs(1))
    letters = [Letter.objects.create(applicant=amira, cycle=cycle, writer=f"Dr {n}", status="uploaded") for n in range(5)]
    for letter in letters[:4]:
        assert api.send("post", f"/letters/{letter.pk}/assignments", {"application": application.pk}).status_code == 201
    response = api.send("post", f"/letters/{letters[4].pk}/assignments", {"application": application.pk})
    assert response.status_code == 422
    assert LetterAssignment.objects.count() == 4
    assert api.send("delete", f"/letters/{letters[0].pk}/assignments/{application.pk}").status_code == 204
    assert LetterAssignment.objects.count() == 3


def test_signals_past_the_allowance_through_the_api(api, amira):
    cycle = amira.profile.target_cycle
    # Internal Medicine: 3 gold + 12 silver (season data).
    applications = make_applications(amira, cycle, make_programs(4))
    for application in applications[:3]:
        assert api.send("put", f"/applications/{application.pk}/signal", {"signal": "gold"}).status_code == 200
    response = api.send("put", f"/applications/{applications[3].pk}/signal", {"signal": "gold"})
    assert response.status_code == 422
    assert api.send("put", f"/applications/{applications[3].pk}/signal", {"signal": "platinum"}).status_code == 422
