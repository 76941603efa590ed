"""Double clicks and retries arriving at the same time, on real PostgreSQL with one connection per request.

Four concurrent onboarding POSTs once gave three 500s (the profile's unique user, hit by the losers);
two concurrent identical exam attempts were both recorded.
"""

from __future__ import annotations

import json
import threading

import pytest
import time_machine
from django.db import connections
from django.test import Client
from django.urls import reverse

from milestones.models import ApplicantProfile, ExamAttempt, Milestone
from pathway.tokens import api_token_create

pytestmark = pytest.mark.django_db(transaction=True)

TODAY = "2026-11-21 12:00Z"


@pytest.fixture(autouse=True)
def _fixed_today():
    with time_machine.travel(TODAY, tick=False):
        yield


def concurrently(calls) -> list:
    """Run each call in its own thread (so its own database connection), all released at once.

    Returns the responses in order; an exception in a thread is returned in its place.
    """
    barrier = threading.Barrier(len(calls))
    results: list = [None] * len(calls)

    def run(index, call):
        try:
            barrier.wait(timeout=10)
            results[index] = call()
        except Exception as exc:  # reported by the test, not lost in the thread
            results[index] = exc
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(i, call)) for i, call in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results


def logged_in(user) -> Client:
    # 500s come back as responses, so every thread's outcome can be compared.
    client = Client(raise_request_exception=False)
    client.force_login(user)
    return client


def statuses(results) -> list:
    return [getattr(result, "status_code", result) for result in results]


def test_four_concurrent_onboardings_create_one_profile_and_all_answer(postgres, amira, cycle_2027):
    answers = {
        "applicant_type": "NON_US_IMG",
        "graduation_date": "2025-06-30",
        "needs_visa": "on",
        "visa_route": "J1",
        "target_cycle": str(cycle_2027.pk),
        "time_zone": "Africa/Cairo",
    }
    clients = [logged_in(amira) for _ in range(4)]

    results = concurrently([lambda c=c: c.post(reverse("applicant:onboarding"), answers) for c in clients])

    assert statuses(results) == [302] * 4
    assert {result.url for result in results} <= {
        reverse("applicant:dashboard"),
        reverse("applicant:settings_profile"),
    }
    assert ApplicantProfile.objects.filter(user=amira).count() == 1
    keys = list(Milestone.objects.filter(applicant=amira).values_list("template__key", flat=True))
    assert keys and len(keys) == len(set(keys))


def test_a_double_submitted_attempt_arriving_at_once_is_recorded_once(postgres, amira_profile):
    _token, secret = api_token_create(user=amira_profile.user, name="retries")
    body = json.dumps({"test_date": "2026-08-03", "result_date": "2026-09-02", "score": 250})
    url = "/api/v1/milestones/usmle_step2ck/attempts"
    form_url = reverse("applicant:milestone_attempt", args=["usmle_step2ck"])
    form = {"attempt-test_date": "2026-08-03", "attempt-result_date": "2026-09-02", "attempt-passed": "yes",
            "attempt-score": "250"}  # fmt: skip
    api_clients = [
        Client(raise_request_exception=False, headers={"Authorization": f"Bearer {secret}"}) for _ in range(2)
    ]
    page_clients = [logged_in(amira_profile.user) for _ in range(2)]

    results = concurrently(
        [lambda c=c: c.post(url, body, content_type="application/json") for c in api_clients]
        + [lambda c=c: c.post(form_url, form) for c in page_clients]
    )

    assert statuses(results) == [201, 201, 302, 302]
    assert ExamAttempt.objects.filter(milestone__applicant=amira_profile.user).count() == 1
