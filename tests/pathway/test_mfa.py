"""Second factors (allauth.mfa): required for advisors and admins, offered to applicants."""

from __future__ import annotations

import pytest
from allauth.account.models import EmailAddress
from allauth.mfa.models import Authenticator
from allauth.mfa.totp.internal.auth import TOTP
from django.core.cache import cache
from django.urls import reverse

from ..factories import PASSWORD, TOTP_SECRET, UserFactory
from ..mfa import fresh_totp_code

pytestmark = pytest.mark.django_db
SETUP = "/accounts/2fa/totp/activate/"


@pytest.fixture(autouse=True)
def _fresh_cache():
    # Rate limits and used TOTP codes live in the cache, which outlives a test's transaction.
    cache.clear()
    yield
    cache.clear()


def log_in(client, user):
    """The real login, as a browser does it: the password, then (when asked) the current code."""
    response = client.post(reverse("account_login"), {"login": user.email, "password": PASSWORD})
    if response.get("Location") == reverse("mfa_authenticate"):
        response = client.post(reverse("mfa_authenticate"), {"code": fresh_totp_code(TOTP_SECRET)})
    return response


def start_totp_setup(client) -> str:
    """Open the setup page, confirming the password first as allauth asks; the secret it shows."""
    response = client.get(SETUP)
    if response.status_code == 302 and response["Location"].startswith(reverse("account_reauthenticate")):
        client.post(response["Location"], {"password": PASSWORD})
        response = client.get(SETUP)
    assert response.status_code == 200
    assert "data:image/svg+xml;base64," in response.content.decode()  # the QR code
    return client.session["mfa.totp.secret"]  # allauth keeps the new secret here until it is confirmed


@pytest.fixture
def new_advisor(db):
    return UserFactory(advisor=True, totp=False, email="new.advisor@example.com")


@pytest.fixture
def new_admin(db):
    return UserFactory(admin=True, totp=False, email="new.admin@example.com")


@pytest.mark.parametrize("page", ["/", "/advisor/", "/admin/", "/accounts/password/change/"])
@pytest.mark.parametrize("who", ["new_advisor", "new_admin"])
def test_advisors_and_admins_without_a_second_factor_are_sent_to_set_one_up(client, request, who, page):
    user = request.getfixturevalue(who)
    log_in(client, user)
    response = client.get(page)
    assert response.status_code == 302
    assert response["Location"] == SETUP


def test_they_are_told_why(client, new_advisor):
    log_in(client, new_advisor)
    response = client.get("/advisor/", follow=True)
    assert response.status_code == 200
    assert "Set up two-factor authentication to continue" in response.content.decode()


def test_the_requirement_holds_for_a_session_that_skipped_the_login_form(client, new_advisor):
    client.force_login(new_advisor)
    assert client.get("/advisor/")["Location"] == SETUP


def test_an_advisor_with_an_unverified_address_is_told_to_verify_it_and_can(client, new_advisor):
    # allauth refuses a second factor until the address is verified; the way there stays open.
    EmailAddress.objects.create(user=new_advisor, email=new_advisor.email, verified=False, primary=True)
    log_in(client, new_advisor)
    response = client.get(SETUP, follow=True)
    assert response.redirect_chain[-1][0] == reverse("mfa_index")
    assert "until you have verified your email address" in response.content.decode()
    assert client.get(reverse("account_email")).status_code == 200
    assert client.get("/advisor/")["Location"] == SETUP


def test_an_advisor_may_still_log_out_before_setting_up(client, new_advisor):
    log_in(client, new_advisor)
    client.post(reverse("account_logout"))
    assert "_auth_user_id" not in client.session


def test_setting_up_totp_opens_the_site(client, new_advisor, ben):
    log_in(client, new_advisor)
    secret = start_totp_setup(client)
    response = client.post(SETUP, {"code": "000000" if fresh_totp_code(secret) != "000000" else "111111"})
    assert response.status_code == 200 and response.context["form"].errors["code"]  # a wrong code: no
    assert not Authenticator.objects.filter(user=new_advisor).exists()

    response = client.post(SETUP, {"code": fresh_totp_code(secret)})
    assert response["Location"] == reverse("mfa_view_recovery_codes")  # keep these somewhere safe
    assert Authenticator.objects.filter(user=new_advisor, type="totp").exists()
    assert Authenticator.objects.filter(user=new_advisor, type="recovery_codes").exists()
    assert client.get(reverse("advisor:cohort")).status_code == 200


def test_an_advisor_with_totp_is_asked_for_a_code_at_login(client, ben):
    response = client.post(reverse("account_login"), {"login": ben.email, "password": PASSWORD})
    assert response["Location"] == reverse("mfa_authenticate")
    assert "_auth_user_id" not in client.session
    response = client.post(reverse("mfa_authenticate"), {"code": "not-a-code"})
    assert "_auth_user_id" not in client.session
    response = client.post(reverse("mfa_authenticate"), {"code": fresh_totp_code(TOTP_SECRET)})
    assert response.status_code == 302
    assert client.get(reverse("advisor:cohort")).status_code == 200


def test_the_remembered_answer_goes_when_a_factor_is_removed_elsewhere(client, ben):
    # Whether someone has a second factor is kept in the cache (read on every request of theirs); an
    # authenticator deleted anywhere else (the admin, a script) must end it at once, not an hour later.
    log_in(client, ben)
    cohort = reverse("advisor:cohort")  # the advisor's home since issue 14 (/students/ redirects there)
    assert client.get(cohort).status_code == 200
    for authenticator in Authenticator.objects.filter(user=ben):
        authenticator.delete()
    assert client.get(cohort)["Location"] == SETUP


@pytest.mark.parametrize("who", ["ben", "root"])
def test_advisors_and_admins_cannot_switch_their_only_second_factor_off(client, request, who):
    user = request.getfixturevalue(who)
    log_in(client, user)
    client.post(reverse("account_reauthenticate"), {"password": PASSWORD})  # allauth asks first
    response = client.post(reverse("mfa_deactivate_totp"))
    assert "You cannot deactivate two-factor authentication." in response.content.decode()
    assert Authenticator.objects.filter(user=user, type="totp").exists()


def test_an_applicant_is_offered_a_second_factor_and_not_forced(client, amira_profile):
    amira = amira_profile.user
    log_in(client, amira)
    assert client.get(reverse("applicant:dashboard")).status_code == 200
    body = client.get(reverse("applicant:settings")).content.decode()
    assert "Two-factor authentication" in body
    assert f'href="{SETUP}"' in body
    assert "Not set up" in body


def test_an_applicant_may_set_it_up_and_then_is_asked_for_codes(client, amira_profile):
    amira = amira_profile.user
    log_in(client, amira)
    secret = start_totp_setup(client)
    client.post(SETUP, {"code": fresh_totp_code(secret)})
    assert "Turned on" in client.get(reverse("applicant:settings")).content.decode()
    client.post(reverse("account_logout"))
    response = client.post(reverse("account_login"), {"login": amira.email, "password": PASSWORD})
    assert response["Location"] == reverse("mfa_authenticate")


def test_an_applicant_may_switch_it_off_again(client, amira_profile):
    amira = amira_profile.user
    TOTP.activate(amira, TOTP_SECRET)
    log_in(client, amira)
    client.post(reverse("account_reauthenticate"), {"password": PASSWORD})  # allauth asks first
    response = client.post(reverse("mfa_deactivate_totp"))
    assert response.status_code == 302
    assert not Authenticator.objects.filter(user=amira, type="totp").exists()
