"""The applicant's API token page: list, create (the secret is shown once) and revoke."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from pathway.access import applicant_only, get_token_for
from pathway.models import ApiToken
from pathway.tokens import api_token_create, api_token_revoke


class ApiTokenForm(forms.Form):
    name = forms.CharField(
        max_length=80,
        help_text="What the token is for, e.g. “my spreadsheet script”. You can revoke it at any time.",
    )


@never_cache
@applicant_only
@require_http_methods(["GET", "POST"])
def token_list(request):
    """List the applicant's tokens and create new ones; the new secret is rendered once, never redirected."""
    new_secret = None
    form = ApiTokenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        _token, new_secret = api_token_create(user=request.user, name=form.cleaned_data["name"])
        form = ApiTokenForm()
    tokens = ApiToken.objects.active().filter(user=request.user)
    return render(
        request, "applicant/api_tokens.html", {"form": form, "tokens": tokens, "new_secret": new_secret}
    )


@applicant_only
@require_POST
def token_revoke(request, pk: int):
    token = get_token_for(request.user, pk)
    api_token_revoke(token=token)
    messages.success(request, f"Token “{token.name}” revoked. Programs using it can no longer reach the API.")
    return redirect("applicant:api_tokens")
