from django.apps import AppConfig


class MilestonesConfig(AppConfig):
    name = "milestones"
    verbose_name = "Pathway engine"

    def ready(self):
        from . import versions

        versions.watch_reference_models(*versions.REFERENCE_MODELS)
