"""Personal access tokens: the settings page, the services, and what the API does with them."""

from __future__ import annotations

import hashlib
from datetime import timedelta

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from pathway.models import ApiToken
from pathway.tokens import api_token_authenticate, api_token_create, api_token_revoke

pytestmark = pytest.mark.django_db

TOKENS_URL = "/settings/tokens/"


def revoke_url(token) -> str:
    return reverse("applicant:api_token_revoke", args=[token.pk])


def test_the_url_names_resolve_to_the_documented_paths():
    assert reverse("applicant:api_tokens") == TOKENS_URL
    assert reverse("applicant:api_token_revoke", args=[7]) == "/settings/tokens/7/revoke/"


def test_it_creates_a_prefixed_token_and_stores_only_its_digest(amira):
    token, secret = api_token_create(user=amira, name="  my script ")

    assert secret.startswith("ppl_") and len(secret) >= 4 + 43
    assert token.name == "my script"
    assert token.digest == hashlib.sha256(secret.encode()).hexdigest()
    assert secret.startswith(token.prefix) and len(token.prefix) < len(secret) // 2
    assert secret not in {token.digest, token.prefix, token.name}


def test_each_token_is_different(amira):
    secrets = {api_token_create(user=amira, name="t")[1] for _ in range(5)}

    assert len(secrets) == 5


def test_it_authenticates_an_active_token_only(amira):
    token, secret = api_token_create(user=amira, name="t")

    assert api_token_authenticate(secret) == token
    assert api_token_authenticate(secret + "x") is None
    assert api_token_authenticate("not-ppl-" + secret) is None
    api_token_revoke(token=token)
    assert api_token_authenticate(secret) is None


def test_it_refuses_tokens_of_deactivated_users(amira):
    _token, secret = api_token_create(user=amira, name="t")
    amira.is_active = False
    amira.save()

    assert api_token_authenticate(secret) is None


def test_it_records_last_use_at_most_once_a_minute(amira, django_assert_num_queries):
    token, secret = api_token_create(user=amira, name="t")
    start = timezone.now()

    with time_machine.travel(start, tick=False):
        api_token_authenticate(secret)
        token.refresh_from_db()
        assert token.last_used_at == start
    with time_machine.travel(start + timedelta(seconds=30), tick=False), django_assert_num_queries(1):
        api_token_authenticate(secret)  # a read, no write
    token.refresh_from_db()
    assert token.last_used_at == start
    with time_machine.travel(start + timedelta(seconds=61), tick=False):
        api_token_authenticate(secret)
    token.refresh_from_db()
    assert token.last_used_at == start + timedelta(seconds=61)


def test_revoking_twice_keeps_the_first_time(amira):
    token, _secret = api_token_create(user=amira, name="t")
    api_token_revoke(token=token)
    first = token.revoked_at

    api_token_revoke(token=token)

    token.refresh_from_db()
    assert token.revoked_at == first


# --- The page --------------------------------------------------------------------------------


def test_the_page_lists_my_active_tokens_without_their_secrets(client, amira, carla):
    mine, my_secret = api_token_create(user=amira, name="spreadsheet")
    revoked, _ = api_token_create(user=amira, name="old laptop")
    api_token_revoke(token=revoked)
    api_token_create(user=carla, name="carla's bot")
    client.force_login(amira)

    response = client.get(TOKENS_URL)

    assert response.status_code == 200
    html = response.content.decode()
    assert "spreadsheet" in html and mine.prefix in html
    assert "old laptop" not in html and "carla" not in html
    assert my_secret not in html
    assert "Never" in html  # last used


def test_creating_shows_the_new_token_once_on_the_response_page(client, amira):
    client.force_login(amira)

    response = client.post(TOKENS_URL, {"name": "my script"})

    assert response.status_code == 200  # rendered, not redirected: the secret never goes into a URL
    token = ApiToken.objects.get(user=amira)
    secret = response.context["new_secret"]
    assert token.digest == hashlib.sha256(secret.encode()).hexdigest()
    assert secret in response.content.decode()
    assert "no-store" in response["Cache-Control"]
    assert secret not in client.get(TOKENS_URL).content.decode()


def test_creating_needs_a_name(client, amira):
    client.force_login(amira)

    response = client.post(TOKENS_URL, {"name": "  "})

    assert response.status_code == 200
    assert response.context["form"].errors["name"]
    assert response.context["new_secret"] is None
    assert not ApiToken.objects.exists()


def test_a_created_token_works_on_the_api(client, amira_profile):
    client.force_login(amira_profile.user)
    secret = client.post(TOKENS_URL, {"name": "cli"}).context["new_secret"]
    client.logout()

    response = client.get("/api/v1/pathway", headers={"Authorization": f"Bearer {secret}"})

    assert response.status_code == 200


def test_revoking_my_token_stops_it_working(client, amira_profile):
    token, secret = api_token_create(user=amira_profile.user, name="cli")
    client.force_login(amira_profile.user)

    response = client.post(revoke_url(token))

    assert response.status_code == 302 and response["Location"] == TOKENS_URL
    token.refresh_from_db()
    assert token.revoked_at is not None
    client.logout()
    assert client.get("/api/v1/pathway", headers={"Authorization": f"Bearer {secret}"}).status_code == 401


def test_revoking_someone_elses_token_is_404(client, amira, carla):
    token, _secret = api_token_create(user=carla, name="carla's")
    client.force_login(amira)

    assert client.post(revoke_url(token)).status_code == 404
    token.refresh_from_db()
    assert token.revoked_at is None


def test_revoking_needs_a_post(client, amira):
    token, _secret = api_token_create(user=amira, name="t")
    client.force_login(amira)

    assert client.get(revoke_url(token)).status_code == 405
    token.refresh_from_db()
    assert token.revoked_at is None


def test_the_page_needs_a_login(client):
    response = client.get(TOKENS_URL)

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login"))


@pytest.mark.parametrize("persona", ["ben", "dan", "root"])
def test_the_page_is_for_applicants_only(client, request, persona):
    client.force_login(request.getfixturevalue(persona))

    assert client.get(TOKENS_URL).status_code == 404
    assert client.post(TOKENS_URL, {"name": "x"}).status_code == 404
    assert not ApiToken.objects.exists()
