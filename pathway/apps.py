from django.apps import AppConfig


class PathwayConfig(AppConfig):
    name = "pathway"
    verbose_name = "People and access"

    def ready(self):
        from allauth.account.signals import password_changed, password_reset, password_set

        from .adapters import revoke_tokens_on_new_password

        for signal in (password_changed, password_reset, password_set):
            signal.connect(revoke_tokens_on_new_password, dispatch_uid="pathway.revoke_tokens_on_new_password")

        from allauth.mfa.models import Authenticator
        from django.db.models.signals import post_delete, post_save

        from .accounts import forget_second_factor

        for signal in (post_save, post_delete):
            signal.connect(forget_second_factor, sender=Authenticator, dispatch_uid="pathway.forget_second_factor")
