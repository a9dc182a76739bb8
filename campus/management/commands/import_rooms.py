"""``manage.py import_rooms FILE [--campus NAME] [--dry-run]``: load a room inventory CSV."""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction

from campus.exceptions import InvalidInput
from campus.models import Campus
from campus.room_import import CsvImportRefused, csv_text_from_bytes, room_rows_parse
from campus.services import rooms_import


class Command(BaseCommand):
    help = (
        "Create or update rooms from a CSV file (UTF-8, comma or semicolon separated; columns in "
        "docs/room-import.md). Every row is checked first; any error imports nothing."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", type=Path, help="CSV file of rooms, one per line after the header")
        parser.add_argument("--campus", help="name of the campus (needed when there is more than one)")
        parser.add_argument(
            "--dry-run", action="store_true", help="check the file and report what would change, then save nothing"
        )

    def handle(self, *args, file: Path, campus: str | None, dry_run: bool, verbosity: int, **options) -> None:
        target = campus_from_option(campus)
        try:
            csv_text = csv_text_from_bytes(file.read_bytes())
        except OSError as exc:
            raise CommandError(f"Cannot read {file}: {exc.strerror or exc}") from exc
        except InvalidInput as exc:
            raise CommandError(f"{file}: {exc.message}") from exc

        def progress(step: str):
            def report(done: int, total: int) -> None:
                if verbosity >= 1 and total >= 500:
                    self.stderr.write(f"{step} {done}/{total} rows ({done * 100 // total} %)")

            return report

        rows, errors = room_rows_parse(csv_text, campus=target, progress=progress("checked"))
        if errors:
            self._refuse(file, errors)
        try:
            with transaction.atomic():
                result = rooms_import(campus=target, rows=rows, progress=progress("saved"))
                if dry_run:
                    transaction.set_rollback(True)
        except CsvImportRefused as exc:
            self._refuse(file, exc.row_errors)
        except InvalidInput as exc:  # e.g. sections that cannot change under future bookings
            raise CommandError(f"{file}: {exc.message} Nothing was imported.") from exc
        if dry_run:
            self.stdout.write(f"Dry run of {file} for {target}: would be {result}. Nothing was saved.")
        else:
            self.stdout.write(self.style.SUCCESS(f"Imported {file} into {target}: {result}."))

    def _refuse(self, file: Path, errors) -> None:
        for error in errors:
            self.stderr.write(str(error))
        raise CommandError(f"{len(errors)} error(s) in {file}; nothing was imported.")


def campus_from_option(name: str | None) -> Campus:
    """Return the campus called ``name``, or the only campus when no name is given."""
    if name:
        try:
            return Campus.objects.get(name=name)
        except Campus.DoesNotExist:
            known = ", ".join(Campus.objects.values_list("name", flat=True)) or "none yet"
            raise CommandError(f"No campus called {name!r}; campuses: {known}.") from None
    campuses = list(Campus.objects.all()[:2])
    if not campuses:
        raise CommandError("There is no campus yet; create one in the admin (or run seed_demo) first.")
    if len(campuses) > 1:
        raise CommandError("There are several campuses; choose one with --campus NAME.")
    return campuses[0]
