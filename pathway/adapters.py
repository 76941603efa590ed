from allauth.account.adapter import DefaultAccountAdapter


class AccountAdapter(DefaultAccountAdapter):
    """Self sign-up always creates an applicant; advisors and admins are created by admins."""

    def save_user(self, request, user, form, commit=True):
        from .models import User

        user.role = User.Role.APPLICANT
        return super().save_user(request, user, form, commit=commit)
