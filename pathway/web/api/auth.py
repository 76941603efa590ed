"""How the API knows who is calling: a personal access token, or the logged-in browser session."""

from __future__ import annotations

from django.conf import settings
from ninja.security import APIKeyCookie, HttpBearer

from pathway.tokens import api_token_authenticate

# --- Authentication ----------------------------------------------------------------------------


class TokenAuth(HttpBearer):
    """`Authorization: Bearer ppl_...`: a personal access token (only its SHA-256 digest is stored)."""

    def authenticate(self, request, token):
        api_token = api_token_authenticate(token)
        if api_token is None:
            return None
        # So that history records and anything else reading request.user see the token's owner.
        request.user = api_token.user
        return api_token.user


class SessionAuth(APIKeyCookie):
    """The logged-in browser session; unsafe methods must carry the CSRF token (X-CSRFToken header)."""

    param_name = settings.SESSION_COOKIE_NAME

    def __call__(self, request):
        # A request that sends a token is judged by the token alone: a bad token is a 401 even if a
        # session cookie happens to ride along, and nobody without a session is asked for CSRF.
        if "Authorization" in request.headers or not request.user.is_authenticated:
            return None
        return super().__call__(request)  # runs the CSRF check for POST/PATCH/...

    def authenticate(self, request, key):
        return request.user
