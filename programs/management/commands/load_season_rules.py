"""python manage.py load_season_rules: the season's fees, limits and signal allowances from
programs/data/season.yaml (idempotent; run after each deployment that changes the file)."""

from django.core.management import BaseCommand

from programs.season.loader import load_season_rules
from programs.season.match_rules import load_match_rules


class Command(BaseCommand):
    help = "Load the application season's rules (fees, limits, signal allowances) from programs/data/season.yaml."

    def handle(self, *args, **options):
        written = load_season_rules() + load_match_rules()  # + the NRMP medians (programs/data/match_rules.yaml)
        if options["verbosity"]:
            self.stdout.write(self.style.SUCCESS(f"{written} season rule rows loaded."))
