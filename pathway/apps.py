from django.apps import AppConfig


class PathwayConfig(AppConfig):
    name = "pathway"
    verbose_name = "People and access"

    def ready(self):
        from allauth.account.signals import password_changed, password_reset, password_set
        from allauth.mfa.models import Authenticator
        from django.db.models.signals import post_delete, post_save

        from milestones.models import Milestone
        from programs.season.models import Application, Interview

        from .accounts import forget_second_factor
        from .adapters import revoke_tokens_on_new_password
        from .advising import versions
        from .advising.flags import application_saved, interview_saved, milestone_saved
        from .models import AdvisorAssignment, InterviewTarget, User

        for signal in (password_changed, password_reset, password_set):
            signal.connect(revoke_tokens_on_new_password, dispatch_uid="pathway.revoke_tokens_on_new_password")
        # The cohort's stored risk flags follow a student's changes (issue 14).
        post_save.connect(milestone_saved, sender=Milestone, dispatch_uid="pathway.advising.milestone_saved")
        # ... and the season's interviews (the interview target flag).
        post_save.connect(application_saved, sender=Application, dispatch_uid="pathway.advising.application_saved")
        post_save.connect(interview_saved, sender=Interview, dispatch_uid="pathway.advising.interview_saved")
        # The cohort's cached tables are keyed by versions these bump (pathway/advising/versions.py).
        for signal in (post_save, post_delete):
            name = "save" if signal is post_save else "delete"
            signal.connect(versions.assignment_changed, sender=AdvisorAssignment, dispatch_uid=f"cohort-a-{name}")
            signal.connect(versions.target_changed, sender=InterviewTarget, dispatch_uid=f"cohort-t-{name}")
        post_save.connect(versions.user_saved, sender=User, dispatch_uid="cohort-user-saved")
        # A second factor remembered in the cache is forgotten whenever an authenticator changes (issue 11).
        for signal in (post_save, post_delete):
            signal.connect(forget_second_factor, sender=Authenticator, dispatch_uid="pathway.forget_second_factor")
