"""A new password, or "sign out everywhere", shuts every other door: API tokens are revoked (with a notice),
and "sign out everywhere" ends every session of the account too."""

from __future__ import annotations

import re

import pytest
from allauth.mfa.recovery_codes.internal.auth import RecoveryCodes
from django.contrib.messages import get_messages
from django.core import mail
from django.core.cache import cache
from django.test import Client
from django.urls import reverse

from pathway.models import ApiToken
from pathway.tokens import api_token_create, api_token_revoke

from ..factories import PASSWORD, TOTP_SECRET
from ..mfa import fresh_totp_code

pytestmark = pytest.mark.django_db
SIGN_OUT_EVERYWHERE = "/accounts/sign-out-everywhere/"
ACCOUNT_SECURITY = "/accounts/security/"
NEW_PASSWORD = "brand-new-passphrase-7"


@pytest.fixture(autouse=True)
def _fresh_cache():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def amira_tokens(amira):
    """Two live tokens and one revoked long ago; returns the live secrets."""
    _old, _secret = api_token_create(user=amira, name="old")
    api_token_revoke(token=_old)
    return [api_token_create(user=amira, name=name)[1] for name in ("script", "sheet")]


def api_status(secret: str) -> int:
    return Client().get("/api/v1/pathway", headers={"authorization": f"Bearer {secret}"}).status_code


def shown(response) -> str:
    return " ".join(str(message) for message in get_messages(response.wsgi_request))


def log_in(user, *, code: str | None = None) -> Client:
    """A browser of its own, logged in through the real login (with `code`, or the current TOTP code,
    when a second factor is asked for)."""
    browser = Client()
    response = browser.post(reverse("account_login"), {"login": user.email, "password": PASSWORD})
    if response.get("Location") == reverse("mfa_authenticate"):
        browser.post(reverse("mfa_authenticate"), {"code": code or fresh_totp_code(TOTP_SECRET)})
    assert "_auth_user_id" in browser.session
    return browser


def signed_in(browser: Client) -> bool:
    return "_auth_user_id" in browser.session


# --- A new password revokes the API tokens ------------------------------------------------------------


def test_changing_the_password_revokes_every_api_token_and_says_so(client, amira_profile, amira_tokens):
    amira = amira_profile.user
    assert [api_status(secret) for secret in amira_tokens] == [200, 200]
    client.force_login(amira)
    response = client.post(
        reverse("account_change_password"),
        {"oldpassword": PASSWORD, "password1": NEW_PASSWORD, "password2": NEW_PASSWORD},
        follow=True,
    )
    assert response.status_code == 200
    assert "Your 2 API tokens were revoked" in response.content.decode()
    assert [api_status(secret) for secret in amira_tokens] == [401, 401]
    assert not ApiToken.objects.active().filter(user=amira).exists()


def test_a_refused_password_change_revokes_nothing(client, amira, amira_tokens):
    client.force_login(amira)
    client.post(
        reverse("account_change_password"),
        {"oldpassword": "wrong", "password1": NEW_PASSWORD, "password2": NEW_PASSWORD},
    )
    assert ApiToken.objects.active().filter(user=amira).count() == 2


def test_resetting_the_password_revokes_every_api_token_and_says_so(client, amira, amira_tokens):
    client.post(reverse("account_reset_password"), {"email": amira.email})
    link = re.search(r"http://testserver(/accounts/password/reset/key/\S+/)", mail.outbox[0].body).group(1)
    form_url = client.get(link).url
    response = client.post(form_url, {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD}, follow=True)
    assert "Your 2 API tokens were revoked" in response.content.decode()
    assert [api_status(secret) for secret in amira_tokens] == [401, 401]


def test_an_admin_setting_a_new_password_revokes_every_api_token_and_says_so(client, root, amira, amira_tokens):
    """An admin sets a new password for an applicant who says theirs leaked (the admin's own password form):
    the tokens go too, as when the applicant changes it, and the admin is told."""
    client.force_login(root)
    url = reverse("admin:auth_user_password_change", args=[amira.pk])
    response = client.post(
        url, {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD, "usable_password": "true"}, follow=True
    )
    assert response.status_code == 200
    assert "2 API tokens of amira@example.com were revoked" in shown(response)
    assert [api_status(secret) for secret in amira_tokens] == [401, 401]


def test_an_admin_password_form_refused_revokes_nothing(client, root, amira, amira_tokens):
    client.force_login(root)
    url = reverse("admin:auth_user_password_change", args=[amira.pk])
    response = client.post(url, {"password1": NEW_PASSWORD, "password2": "something-else-9", "usable_password": "true"})
    assert response.status_code == 200 and "didn’t match" in response.content.decode()
    assert ApiToken.objects.active().filter(user=amira).count() == 2


def test_no_notice_when_there_was_no_token(client, carla):
    client.force_login(carla)
    response = client.post(
        reverse("account_change_password"),
        {"oldpassword": PASSWORD, "password1": NEW_PASSWORD, "password2": NEW_PASSWORD},
    )
    assert "API token" not in shown(response)


# --- Sign out everywhere ------------------------------------------------------------------------------------


def test_sign_out_everywhere_ends_every_session_and_revokes_every_token(amira_profile, amira_tokens):
    amira = amira_profile.user
    laptop, phone = log_in(amira), log_in(amira)
    response = laptop.post(SIGN_OUT_EVERYWHERE, follow=True)
    assert response.redirect_chain[-1][0] == reverse("account_login")
    body = response.content.decode()
    assert "You are signed out everywhere" in body and "2 API tokens were revoked" in body
    assert not signed_in(laptop)
    assert phone.get(reverse("applicant:dashboard"))["Location"].startswith("/accounts/login/")
    assert [api_status(secret) for secret in amira_tokens] == [401, 401]


def test_sign_out_everywhere_leaves_other_people_signed_in(amira, carla):
    amira_browser, carla_browser = log_in(amira), log_in(carla)
    amira_browser.post(SIGN_OUT_EVERYWHERE)
    assert signed_in(carla_browser)


@pytest.mark.parametrize("who", ["ben", "root"])
def test_every_role_can_sign_out_everywhere(request, who):
    user = request.getfixturevalue(who)
    # A TOTP code counts once, so the second browser uses a recovery code (it would wait 30 s otherwise).
    recovery_code = RecoveryCodes.activate(user).get_unused_codes()[0]
    here, there = log_in(user), log_in(user, code=recovery_code)
    here.post(SIGN_OUT_EVERYWHERE)
    assert not signed_in(here)
    assert there.get("/students/")["Location"].startswith("/accounts/login/")


@pytest.mark.parametrize("who", ["amira", "ben", "root"])
def test_every_role_finds_it_on_the_account_security_page(client, request, who):
    client.force_login(request.getfixturevalue(who))
    body = client.get(ACCOUNT_SECURITY).content.decode()
    assert f'action="{SIGN_OUT_EVERYWHERE}"' in body
    assert f'href="{ACCOUNT_SECURITY}"' in body  # in the main navigation


def test_sign_out_everywhere_is_a_post(client, amira):
    client.force_login(amira)
    assert client.get(SIGN_OUT_EVERYWHERE).status_code == 405
    assert signed_in(client)


def test_the_settings_page_offers_it(client, amira_profile):
    client.force_login(amira_profile.user)
    body = client.get(reverse("applicant:settings")).content.decode()
    assert f'action="{SIGN_OUT_EVERYWHERE}"' in body
