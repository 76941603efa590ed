"""python manage.py import_programs FILE.csv [--dry-run] [--user EMAIL]: the same import as the admin's."""

from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.management import BaseCommand, CommandError

from programs.importer import import_programs


class Command(BaseCommand):
    help = "Import programs from a CSV file (format: README, 'Program directory'). All or nothing."

    def add_arguments(self, parser):
        parser.add_argument("file", type=Path)
        parser.add_argument("--dry-run", action="store_true", help="Check and count; change nothing.")
        parser.add_argument("--user", help="Email of the person importing (recorded as the claims' author).")

    def handle(self, *args, file: Path, dry_run: bool, user=None, **options):
        try:
            text = file.read_text(encoding="utf-8-sig")
        except (OSError, UnicodeDecodeError) as error:
            raise CommandError(f"Cannot read {file}: {error}") from None
        by = None
        if user:
            by = get_user_model().objects.filter(email__iexact=user).first()
            if by is None:
                raise CommandError(f"No user with the email {user}.")
        result = import_programs(text=text, dry_run=dry_run, by=by)
        if not result.ok:
            for error in result.errors:
                self.stderr.write(str(error))
            raise CommandError(f"{len(result.errors)} error(s): nothing was imported.")
        prefix = "Dry run (nothing saved): would have " if dry_run else ""
        self.stdout.write(
            f"{prefix}{result.rows} row(s): {result.created} created, {result.updated} updated, "
            f"{result.unchanged} unchanged; {result.claims_changed} claim(s) changed, "
            f"{result.claims_kept_newer} kept (newer than the file)."
        )
