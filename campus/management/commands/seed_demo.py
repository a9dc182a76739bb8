"""``manage.py seed_demo [--reset-passwords]``: create the demo campus and print its logins."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandParser, no_translations

from bookings.demo import seed_demo_bookings
from campus.demo import DEMO_PASSWORD, DemoCampus, seed_demo_campus
from sensors.demo import seed_demo_history, seed_demo_sensors
from utilisation.demo import roll_up_demo_history


class Command(BaseCommand):
    help = (
        "Create (or restore) Kampus Koskipuisto, a demo joint campus with rooms, holidays, a login for every role, "
        "bookings, sensors and their readings of the past weeks, rolled up for the reports (docs/demo.md). "
        "Running it again creates only what is missing and changes nothing that exists."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--reset-passwords",
            action="store_true",
            help=f"set every demo user's password back to {DEMO_PASSWORD!r} (new users always get it)",
        )
        parser.add_argument(
            "--no-history",
            action="store_true",
            help="store no readings of the past weeks (a later run without it adds them)",
        )

    # Output in English whatever the installation's language (role labels and counts included);
    # records written without a language go into the default language's columns.
    @no_translations
    def handle(self, *args, reset_passwords: bool, no_history: bool, **options) -> None:
        demo = seed_demo_campus(reset_passwords=reset_passwords)
        bookings = seed_demo_bookings(demo)
        sensors = seed_demo_sensors(demo)
        if no_history:
            past = "left out (--no-history)"
        else:
            history = seed_demo_history(demo)
            rolled_up = roll_up_demo_history(demo, history)
            past = f"{history}{'; rolled up into room slots' if rolled_up else ''}"
        self.stdout.write(self.style.SUCCESS(self._summary(demo)))
        self.stdout.write(self.style.SUCCESS(f"Bookings: {bookings}."))
        self.stdout.write(
            self.style.SUCCESS(f"Sensors: {sensors} (manage.py simulate_sensors publishes their readings).")
        )
        self.stdout.write(self.style.SUCCESS(f"Past readings: {past}."))
        self.stdout.write("")
        self.stdout.write(logins_table(demo))

    def _summary(self, demo: DemoCampus) -> str:
        return (
            f"{demo.campus}: {len(demo.institutions)} institutions, {len(demo.buildings)} buildings, "
            f"{len(demo.rooms)} rooms (rooms {demo.rooms_result}; holidays {demo.holidays_result})."
        )


def logins_table(demo: DemoCampus) -> str:
    """Return the demo logins as a plain-text table."""
    header = ("username", "password", "role", "where")
    lines = [(login.username, DEMO_PASSWORD, login.role, login.where) for login in demo.logins]
    widths = [max(len(line[column]) for line in [header, *lines]) for column in range(len(header))]
    rule = "  ".join("-" * width for width in widths)
    rendered = [
        "  ".join(cell.ljust(width) for cell, width in zip(line, widths, strict=True)).rstrip()
        for line in [header, *lines]
    ]
    return "\n".join([rendered[0], rule, *rendered[1:]])
