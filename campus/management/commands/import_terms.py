"""``manage.py import_terms FILE (--institution CODE | --campus-calendar) [--as USERNAME]``: load a term calendar."""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError, CommandParser

from campus.management.commands.import_members import acting_user_for, run_csv_import
from campus.management.commands.import_rooms import campus_from_option
from campus.models import Institution
from campus.services import term_periods_import_csv


class Command(BaseCommand):
    help = (
        "Load terms and breaks into an institution's (or the campus's) term calendar from a CSV file with "
        "the columns kind (term or break), name, start, end (dates included). Any error imports nothing; "
        "rows already there are left alone."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", type=Path, help="CSV file of terms and breaks")
        target = parser.add_mutually_exclusive_group(required=True)
        target.add_argument("--institution", help="short code of the institution, e.g. lukio")
        target.add_argument("--campus-calendar", action="store_true", help="the campus's own calendar")
        parser.add_argument("--campus", help="name of the campus (needed when there is more than one)")
        parser.add_argument(
            "--as", dest="actor", metavar="USERNAME", help="import as this user; default: the first active superuser"
        )

    def handle(self, *args, file: Path, institution: str | None, campus_calendar: bool, campus: str | None,
               actor: str | None, **options) -> None:  # fmt: skip
        target_campus = campus_from_option(campus)
        target = None
        if institution:
            try:
                target = Institution.objects.get(campus=target_campus, short_code=institution)
            except Institution.DoesNotExist:
                known = ", ".join(target_campus.institutions.values_list("short_code", flat=True)) or "none"
                raise CommandError(f"No institution {institution!r} on {target_campus}; known: {known}.") from None
        acting_user = acting_user_for(actor)
        result = run_csv_import(
            self,
            file,
            lambda csv_text: term_periods_import_csv(
                actor=acting_user, csv_text=csv_text, institution=target, campus=None if target else target_campus
            ),
        )
        calendar = target or target_campus
        self.stdout.write(self.style.SUCCESS(f"Imported {file} into the calendar of {calendar}: {result}."))
