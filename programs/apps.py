from importlib import import_module

from django.apps import AppConfig


class ProgramsConfig(AppConfig):
    name = "programs"
    verbose_name = "Residency programs"

    def import_models(self):
        super().import_models()
        # The application season's models live in their own package (programs.season.models) with this
        # app's label; importing them here keeps programs.models free of a cycle with programs.season.
        import_module(f"{self.name}.season.models")
        # The rank order list, Match Week and SOAP (part B), beside them.
        import_module(f"{self.name}.season.match_models")
