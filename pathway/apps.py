from django.apps import AppConfig


class PathwayConfig(AppConfig):
    name = "pathway"
    verbose_name = "People and access"

    def ready(self):
        from allauth.account.signals import password_changed, password_reset, password_set
        from django.db.models.signals import post_save

        from milestones.models import Milestone

        from .adapters import revoke_tokens_on_new_password
        from .advising.flags import milestone_saved

        for signal in (password_changed, password_reset, password_set):
            signal.connect(revoke_tokens_on_new_password, dispatch_uid="pathway.revoke_tokens_on_new_password")
        # The cohort's stored risk flags follow a student's changes (issue 14).
        post_save.connect(milestone_saved, sender=Milestone, dispatch_uid="pathway.advising.milestone_saved")
