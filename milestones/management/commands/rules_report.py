"""`manage.py rules_report`: write docs/rules.md, every rule and cycle date with status, source, last check."""

from __future__ import annotations

from pathlib import Path

from django.conf import settings
from django.core.management import BaseCommand, CommandError

from milestones.report import rules_markdown

DEFAULT_OUTPUT = Path(settings.BASE_DIR) / "docs" / "rules.md"


class Command(BaseCommand):
    help = "Write docs/rules.md from the loaded rule tables and cycle events (run load_pathway first)."

    def add_arguments(self, parser):
        parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT, help="Where to write the page.")
        parser.add_argument(
            "--check", action="store_true", help="Write nothing; fail if the page differs from the data."
        )

    def handle(self, *args, **options):
        text = rules_markdown()
        output: Path = options["output"]
        if options["check"]:
            if not output.exists() or output.read_text(encoding="utf-8") != text:
                raise CommandError(f"{output} is out of date: run `python manage.py rules_report`.")
            self.stdout.write(self.style.SUCCESS(f"{output} matches the data."))
            return
        output.write_text(text, encoding="utf-8")
        self.stdout.write(self.style.SUCCESS(f"Wrote {output}."))
