"""python manage.py export_programs [FILE.csv]: every listed program, in the import's format."""

import sys
from pathlib import Path

from django.core.management import BaseCommand

from programs.exporter import export_programs_csv
from programs.models import Program


class Command(BaseCommand):
    help = "Export the listed programs as CSV (spreadsheet formulas escaped)."

    def add_arguments(self, parser):
        parser.add_argument("file", type=Path, nargs="?")

    def handle(self, *args, file=None, **options):
        programs = Program.objects.filter(listed=True).order_by("nrmp_code", "pk")
        if file is None:
            export_programs_csv(programs, sys.stdout)
            return
        with file.open("w", newline="", encoding="utf-8") as stream:
            export_programs_csv(programs, stream)
