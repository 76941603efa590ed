"""allauth glue: who may sign up as what, who must keep a second factor, and what a new password ends."""

from allauth.account.adapter import DefaultAccountAdapter
from allauth.mfa.adapter import DefaultMFAAdapter
from allauth.mfa.models import Authenticator
from django.contrib import messages

from .accounts import SECOND_FACTORS
from .tokens import api_tokens_revoke_all, revocation_notice


class AccountAdapter(DefaultAccountAdapter):
    """Self sign-up always creates an applicant; advisors and admins are created by admins."""

    def save_user(self, request, user, form, commit=True):
        from .models import User

        user.role = User.Role.APPLICANT
        return super().save_user(request, user, form, commit=commit)


class MFAAdapter(DefaultMFAAdapter):
    """Advisors and admins must keep a second factor: they may remove one only while another remains."""

    def can_delete_authenticator(self, authenticator: Authenticator) -> bool:
        user = authenticator.user
        if not user.requires_mfa or authenticator.type not in SECOND_FACTORS:
            return True
        others = Authenticator.objects.filter(user=user, type__in=SECOND_FACTORS).exclude(pk=authenticator.pk)
        return others.exists()


def revoke_tokens_on_new_password(sender, request, user, **kwargs):
    """allauth's password_changed, password_reset and password_set: whoever changes a password because it
    may have leaked wants every door shut, so the API tokens go too (the other sessions end anyway, since
    Django ties them to the password)."""
    revoked = api_tokens_revoke_all(user=user)
    if revoked and request is not None:
        messages.warning(request, revocation_notice(revoked))
