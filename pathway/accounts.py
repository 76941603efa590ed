"""Services on a person's account as a whole."""

from __future__ import annotations

from allauth.mfa.models import Authenticator
from allauth.mfa.utils import is_mfa_enabled
from allauth.usersessions.adapter import get_adapter as get_usersessions_adapter
from allauth.usersessions.models import UserSession
from django.core.cache import cache
from django.db import transaction

from milestones.models import ApplicantProfile, Milestone
from milestones.versions import pathway_changed

from .tokens import api_tokens_revoke_all

# Recovery codes alone are a fallback, not a second factor.
SECOND_FACTORS = [Authenticator.Type.TOTP, Authenticator.Type.WEBAUTHN]


# The answer is read on every request of an advisor or admin (pathway.web.second_factor), so it is kept
# in the cache, one key per user, forgotten whenever one of their authenticators is saved or deleted.
SECOND_FACTOR_KEY = "second-factor:{}"
SECOND_FACTOR_SECONDS = 3600


def has_second_factor(user) -> bool:
    """An authenticator app or a security key: what advisors and admins must have."""
    key = SECOND_FACTOR_KEY.format(user.pk)
    found = cache.get(key)
    if found is None:
        found = is_mfa_enabled(user, SECOND_FACTORS)
        cache.set(key, found, SECOND_FACTOR_SECONDS)
    return found


def forget_second_factor(sender, instance, **kwargs) -> None:
    """post_save / post_delete of an Authenticator. Forgotten now, and again after commit: a request
    reading the factors before the change commits may have stored the old answer in between."""
    key = SECOND_FACTOR_KEY.format(instance.user_id)
    cache.delete(key)
    transaction.on_commit(lambda: cache.delete(key))


@transaction.atomic
def delete_account(*, user) -> None:
    """Delete the user and everything of theirs, including the edit history of their pathway.

    The database cascades remove the profile, milestones, evidence, reminders, digests, API tokens,
    advisor assignments and email addresses. simple_history keeps historical rows on purpose (and
    writes one more per deleted row), so those of the applicant's milestones and profile go explicitly,
    after the delete that created the last ones.
    """
    user_id = user.pk
    user.delete()
    Milestone.history.filter(applicant_id=user_id).delete()
    ApplicantProfile.history.filter(user_id=user_id).delete()
    # The page version row outlives the user (it holds no personal data): bumped, it keeps the cached
    # pages of this account from ever matching a key again, even if the database reuses the id (SQLite).
    pathway_changed(user_id)


@transaction.atomic
def sign_out_everywhere(*, user) -> int:
    """End every session of `user` that allauth's usersessions knows (each login through allauth is
    recorded) and revoke their API tokens: someone holding a stolen cookie or token is out. Returns how
    many tokens were revoked. The caller logs out the current request's session as well."""
    get_usersessions_adapter().end_sessions(list(UserSession.objects.filter(user=user)))
    return api_tokens_revoke_all(user=user)
