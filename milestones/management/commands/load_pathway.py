"""`manage.py load_pathway`: load or update the cycles, templates and rules from milestones/data/."""

from __future__ import annotations

from pathlib import Path

from django.core.management import BaseCommand, CommandError

from milestones.loader import DATA_DIR, DataError, load_pathway


class Command(BaseCommand):
    help = "Load/update Match cycles, milestone templates and rule tables from YAML (idempotent)."

    def add_arguments(self, parser):
        parser.add_argument("--data-dir", type=Path, default=DATA_DIR, help="Folder with the YAML files.")

    def handle(self, *args, **options):
        try:
            report = load_pathway(options["data_dir"])
        except DataError as exc:
            raise CommandError("The pathway data was not loaded:\n  " + "\n  ".join(exc.problems)) from None
        if options["verbosity"] >= 2:
            for change in report.changes:
                self.stdout.write(f"  {change}")
        if options["verbosity"] >= 1:
            self.stdout.write(
                self.style.SUCCESS(
                    f"Pathway data: {report.created} created, {report.updated} updated, "
                    f"{report.unchanged} unchanged; {report.deadlines_changed} deadlines recomputed."
                )
            )
