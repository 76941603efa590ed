"""Account security for every role: the second factor's state, password, sessions, "sign out everywhere"."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from pathway import accounts
from pathway.tokens import revocation_notice


@login_required
@require_GET
def security(request):
    return render(
        request,
        "pathway/account_security.html",
        {"has_second_factor": accounts.has_second_factor(request.user)},
    )


@login_required
@require_POST
def sign_out_everywhere(request):
    """For a lost phone or a shared computer: every session ends, this one too, and API tokens stop working."""
    revoked = accounts.sign_out_everywhere(user=request.user)
    logout(request)  # this browser's session as well, whether or not it was recorded
    messages.success(request, "You are signed out everywhere, on every device.")
    if revoked:
        messages.warning(request, revocation_notice(revoked))
    return redirect("account_login")
