from django.apps import AppConfig


class PathwayConfig(AppConfig):
    name = "pathway"
    verbose_name = "People and access"

    def ready(self):
        from allauth.account.signals import password_changed, password_reset, password_set

        from .adapters import revoke_tokens_on_new_password

        for signal in (password_changed, password_reset, password_set):
            signal.connect(revoke_tokens_on_new_password, dispatch_uid="pathway.revoke_tokens_on_new_password")
