"""Advisors and admins must use a second factor: until they have one, they reach only the pages that set
one up (and logging out). Applicants may add one on their settings page.

A middleware rather than a login step, so the rule holds for every session, however it began, and also
for someone made advisor or admin while signed in.
"""

from __future__ import annotations

from django.contrib import messages
from django.shortcuts import redirect

from pathway.accounts import has_second_factor

SETUP = "mfa_activate_totp"
# What someone without a second factor may still open: setting one up (an authenticator app, or a
# security key where the browser offers WebAuthn), confirming their password (allauth asks before any
# change to second factors), verifying their email address (allauth refuses a second factor until then),
# and logging out.
OPEN_VIEWS = frozenset(
    {
        "mfa_index",
        SETUP,
        "mfa_add_webauthn",
        "account_reauthenticate",
        "account_email",
        "account_confirm_email",
        "account_email_verification_sent",
        "account_logout",
    }
)
WHY = (
    "Set up two-factor authentication to continue. Advisors and admins see applicants' records, "
    "so a password alone is not enough."
)


class RequireSecondFactorMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        user = request.user
        if not (user.is_authenticated and user.requires_mfa):
            return None
        if request.resolver_match.view_name in OPEN_VIEWS or has_second_factor(user):
            return None
        messages.warning(request, WHY)
        return redirect(SETUP)
