"""Personal access tokens for the JSON API: create, revoke, look up, and the settings page that manages them.

The token itself ("ppl_" + 43 random URL-safe characters) is shown once, on the page that created it; only
its SHA-256 digest is stored. A leaked database therefore leaks no usable token.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Q
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from .access import role_required
from .models import ApiToken, User

TOKEN_PREFIX = "ppl_"
# Writing last_used_at on every call would turn each API read into a write; once a minute is enough
# to answer "is this token still in use?".
LAST_USED_RESOLUTION = timedelta(minutes=1)


def token_digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


# --- Services ----------------------------------------------------------------------------------


def api_token_create(*, user: User, name: str) -> tuple[ApiToken, str]:
    """A new token for `user`; returns the row and the secret (which is not stored anywhere)."""
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken.objects.create(
        user=user, name=name.strip(), digest=token_digest(secret), prefix=secret[: len(TOKEN_PREFIX) + 4]
    )
    return token, secret


def api_token_revoke(*, token: ApiToken) -> ApiToken:
    """Revoke a token; revoking twice keeps the first revocation time."""
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
    return token


def api_token_authenticate(secret: str) -> ApiToken | None:
    """The active token with this secret (and its user), or None. Marks the token as used."""
    if not secret.startswith(TOKEN_PREFIX):
        return None
    token = ApiToken.objects.active().select_related("user").filter(digest=token_digest(secret)).first()
    if token is None:
        return None
    now = timezone.now()
    if token.last_used_at is None or token.last_used_at < now - LAST_USED_RESOLUTION:
        # Conditional so that concurrent requests with the same token write once.
        ApiToken.objects.filter(pk=token.pk).filter(
            Q(last_used_at__isnull=True) | Q(last_used_at__lt=now - LAST_USED_RESOLUTION)
        ).update(last_used_at=now)
        token.last_used_at = now
    return token


# --- Views -------------------------------------------------------------------------------------


class ApiTokenForm(forms.Form):
    name = forms.CharField(
        max_length=80,
        help_text="What the token is for, e.g. “my spreadsheet script”. You can revoke it at any time.",
    )


@never_cache
@login_required
@role_required(User.Role.APPLICANT)
@require_http_methods(["GET", "POST"])
def token_list(request):
    """List the applicant's tokens and create new ones; the new secret is rendered once, never redirected."""
    new_secret = None
    form = ApiTokenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        _token, new_secret = api_token_create(user=request.user, name=form.cleaned_data["name"])
        form = ApiTokenForm()
    tokens = ApiToken.objects.active().filter(user=request.user)
    return render(request, "pathway/api_tokens.html", {"form": form, "tokens": tokens, "new_secret": new_secret})


@login_required
@role_required(User.Role.APPLICANT)
@require_POST
def token_revoke(request, pk: int):
    token = get_object_or_404(ApiToken.objects.active(), pk=pk, user=request.user)
    api_token_revoke(token=token)
    messages.success(request, f"Token “{token.name}” revoked. Programs using it can no longer reach the API.")
    return redirect("api_tokens")

