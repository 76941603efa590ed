"""Nothing personal is kept by browser or proxy caches: `Cache-Control: private, no-store`.

Every response to a signed-in user (session or API token) carries it, and so do the pages whose URL is
the credential (the calendar feed, the unsubscribe link). Static files stay cacheable.
"""

from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils.cache import get_max_age

from milestones.reminders import unsubscribe_token
from pathway.tokens import api_token_create

pytestmark = pytest.mark.django_db


def assert_private_no_store(response):
    directives = {part.strip() for part in response.get("Cache-Control", "").split(",")}
    assert {"private", "no-store"} <= directives, (response.request["PATH_INFO"], directives)
    assert "public" not in directives


@pytest.mark.parametrize(
    ("persona", "url"),
    [
        ("amira", "/dashboard/"),
        ("amira", "/timeline/"),
        ("amira", "/settings/"),
        ("amira", "/settings/profile/"),
        ("amira", "/milestones/usmle_step2ck/"),
        ("amira", "/settings/tokens/"),
        ("amira", "/api/v1/pathway"),
        ("amira", "/accounts/email/"),
        ("amira", "/"),  # the front door redirects a signed-in user: still personal
        ("ben", "/advisor/"),
        ("ben", "/advisor/cohort.csv"),
        ("ben", "/advisor/picture/"),
        ("root", "/admin/"),
    ],
)
def test_every_page_for_a_signed_in_user_is_private_and_not_stored(
    client, request, amira_profile, persona, url
):
    client.force_login(request.getfixturevalue(persona))

    response = client.get(url)

    assert response.status_code in {200, 302}, (url, response.status_code)
    assert_private_no_store(response)


def test_a_form_refused_with_422_is_not_stored_either(client, amira_profile):
    client.force_login(amira_profile.user)

    response = client.post("/settings/", {"time_zone": "Not/AZone"})

    assert response.status_code == 422
    assert_private_no_store(response)


def test_the_api_answered_to_a_personal_access_token_is_not_stored(client, amira_profile):
    _token, secret = api_token_create(user=amira_profile.user, name="script")

    response = client.get("/api/v1/pathway", headers={"Authorization": f"Bearer {secret}"})

    assert response.status_code == 200
    assert_private_no_store(response)


def test_the_calendar_feed_whose_url_is_the_credential_is_not_stored(client, amira_profile):
    response = client.get(reverse("applicant:calendar_feed", args=[amira_profile.calendar_token]))

    assert response.status_code == 200
    assert_private_no_store(response)


def test_the_unsubscribe_page_whose_url_is_the_credential_is_not_stored(client, amira):
    response = client.get(reverse("applicant:reminder_unsubscribe", args=[unsubscribe_token(amira)]))

    assert response.status_code == 200
    assert amira.email in response.text
    assert_private_no_store(response)


def test_static_files_stay_cacheable_for_a_signed_in_user(client, settings, amira):
    # WhiteNoise answers before the rest of the middleware: serve from the finders, as `make run` does.
    settings.WHITENOISE_USE_FINDERS = True
    settings.WHITENOISE_MAX_AGE = 3600
    client.force_login(amira)

    response = client.get("/static/vendor/htmx-4.0.1.min.js")

    assert response.status_code == 200
    assert "no-store" not in response["Cache-Control"]
    assert get_max_age(response) == 3600
