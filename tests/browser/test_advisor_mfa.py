"""A new advisor's first logins in a real browser: the password, then being made to set up an
authenticator app (the test plays the app: it reads the secret off the page and computes the codes,
RFC 6238), then logging out and in again with a code. axe-core checks every page on the way."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from ..factories import PASSWORD, UserFactory
from ..mfa import fresh_totp_code


def test_a_new_advisor_sets_up_totp_and_logs_in_with_a_code(page, live_server, screenshot, axe):
    from allauth.account.models import EmailAddress
    from allauth.mfa.models import Authenticator

    # As an admin creates one: an advisor with a password and a verified address, and no second factor.
    advisor = UserFactory(advisor=True, totp=False, email="nora.advisor@example.com", name="Nora Advisor")
    EmailAddress.objects.create(user=advisor, email=advisor.email, verified=True, primary=True)

    # Log in with the password: the site asks for a second factor before anything else.
    page.goto("/accounts/login/")
    page.get_by_label("Email").fill(advisor.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign In").click()
    expect(page.get_by_role("status")).to_contain_text("Set up two-factor authentication to continue")
    # allauth confirms the password before any change to the second factors.
    expect(page).to_have_url(re.compile(r"/accounts/reauthenticate/"))
    axe.check(page, what="confirm password")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Confirm").click()

    # The setup page. No way round it: another page sends back here.
    expect(page).to_have_url(re.compile(r"/accounts/2fa/totp/activate/$"))
    page.goto("/students/")
    expect(page).to_have_url(re.compile(r"/accounts/2fa/totp/activate/$"))

    # A QR code, and the secret in words for an app that cannot scan (each visit shows a new one).
    expect(page.get_by_role("heading", level=1)).to_have_text("Activate Authenticator App")
    expect(page.locator("img[src^='data:image/svg+xml;base64,']")).to_be_visible()
    axe.check(page, what="TOTP setup")
    screenshot(page, "1-totp-setup")
    secret = page.get_by_label("Authenticator secret").input_value()
    assert re.fullmatch(r"[A-Z2-7]{32}", secret)
    page.get_by_label("Authenticator code").fill(fresh_totp_code(secret))
    page.get_by_role("button", name="Activate").click()

    # Recovery codes, to keep somewhere safe; the site is open now.
    expect(page).to_have_url(re.compile(r"/accounts/2fa/recovery-codes/$"))
    expect(page.get_by_label("Unused codes")).to_have_value(re.compile(r"\d{8}"))
    axe.check(page, what="recovery codes")
    screenshot(page, "2-recovery-codes")
    assert Authenticator.objects.filter(user=advisor, type="totp").exists()
    page.goto("/")
    expect(page.get_by_role("heading", level=1)).to_have_text("My students")
    axe.check(page, what="student list")

    # The account page tells the advisor it is on.
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Account").click()
    expect(page.get_by_text("Turned on")).to_be_visible()
    axe.check(page, what="account security")
    screenshot(page, "3-account-security")
    page.get_by_role("link", name="Manage two-factor authentication").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Two-Factor Authentication")
    axe.check(page, what="two-factor overview")
    page.go_back()
    page.get_by_role("link", name="Where you are signed in").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Sessions")
    axe.check(page, what="sessions")

    # Log out, and in again: the password, then a code.
    page.get_by_role("button", name="Log out").click()
    page.goto("/accounts/login/")
    page.get_by_label("Email").fill(advisor.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign In").click()
    expect(page).to_have_url(re.compile(r"/accounts/2fa/authenticate/$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Two-Factor Authentication")
    axe.check(page, what="code at login")
    screenshot(page, "4-code-at-login")

    # A wrong code is refused, and says so.
    wrong = "000000" if fresh_totp_code(secret) != "000000" else "111111"
    page.get_by_role("textbox").fill(wrong)
    page.get_by_role("button", name="Sign In").click()
    expect(page.get_by_text("Incorrect code.")).to_be_visible()

    page.get_by_role("textbox").fill(fresh_totp_code(secret))
    page.get_by_role("button", name="Sign In").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("My students")
    screenshot(page, "5-in-with-a-code")

    axe.assert_clean()


def test_an_advisor_may_use_a_security_key_instead(new_context, live_server, screenshot, axe):
    """WebAuthn where the browser offers it: Chromium's virtual authenticator (DevTools protocol) plays
    the security key."""
    from allauth.mfa.models import Authenticator

    advisor = UserFactory(advisor=True, totp=False, email="sam.advisor@example.com")
    context = new_context()
    page = context.new_page()
    devtools = context.new_cdp_session(page)
    devtools.send("WebAuthn.enable")
    options = {"protocol": "ctap2", "transport": "usb", "hasResidentKey": False, "hasUserVerification": True}
    devtools.send(
        "WebAuthn.addVirtualAuthenticator",
        {"options": {**options, "isUserVerified": True, "automaticPresenceSimulation": True}},
    )

    page.goto("/accounts/login/")
    page.get_by_label("Email").fill(advisor.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign In").click()
    page.get_by_label("Password").fill(PASSWORD)  # allauth confirms it before second factors change
    page.get_by_role("button", name="Confirm").click()
    expect(page).to_have_url(re.compile(r"/accounts/2fa/totp/activate/$"))
    page.get_by_role("link", name="Use it instead of an app").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Add Security Key")
    axe.check(page, what="add a security key")
    page.get_by_role("button", name="Add").click()
    expect(page.get_by_role("status")).to_contain_text("Security key added")
    assert Authenticator.objects.filter(user=advisor, type="webauthn").exists()
    page.goto("/")
    expect(page.get_by_role("heading", level=1)).to_have_text("My students")

    # Next time: the password, then the key.
    page.get_by_role("button", name="Log out").click()
    page.goto("/accounts/login/")
    page.get_by_label("Email").fill(advisor.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign In").click()
    expect(page).to_have_url(re.compile(r"/accounts/2fa/authenticate/$"))
    page.get_by_role("button", name="Use a security key").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("My students")
    screenshot(page, "in-with-a-key")

    axe.assert_clean()
