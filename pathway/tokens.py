"""Personal access tokens for the JSON API: create, revoke, look up (the page that manages them is the applicant's).

The token itself ("ppl_" + 43 random URL-safe characters) is shown once, on the page that created it; only
its SHA-256 digest is stored. A leaked database therefore leaks no usable token.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from .models import ApiToken, User

TOKEN_PREFIX = "ppl_"
# Writing last_used_at on every call would turn each API read into a write; once a minute is enough
# to answer "is this token still in use?".
LAST_USED_RESOLUTION = timedelta(minutes=1)


def token_digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


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


@transaction.atomic
def api_tokens_revoke_all(*, user: User) -> int:
    """Revoke every active token of `user` (a new password, "sign out everywhere"); how many were."""
    return ApiToken.objects.filter(user=user, revoked_at__isnull=True).update(revoked_at=timezone.now())


def revocation_notice(count: int) -> str:
    """What to tell the user after `api_tokens_revoke_all`."""
    tokens, were, them = ("token", "was", "it") if count == 1 else ("tokens", "were", "them")
    return (
        f"Your {count} API {tokens} {were} revoked: scripts using {them} can no longer reach the API. "
        "Create new ones on Settings → API tokens when you need them."
    )


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
