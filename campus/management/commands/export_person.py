"""``manage.py export_person USERNAME [--output FILE]``: everything Kampus holds about one person, as JSON."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from campus.models import User
from campus.personal_data import person_data_export


class Command(BaseCommand):
    help = (
        "Print (or write to --output) the personal data of USERNAME as JSON: profile, memberships, bookings "
        "made by or for them, audit events about them, API tokens and calendar feeds (no secrets), notifications."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username")
        parser.add_argument("--output", type=Path, help="write the JSON to this file instead of printing it")

    def handle(self, *args: Any, username: str, output: Path | None, **options: Any) -> None:
        user = User.objects.filter(username=username).first()
        if user is None:
            raise CommandError(f"No user named {username!r}.")
        text = json.dumps(person_data_export(user=user), ensure_ascii=False, indent=2)
        if output is None:
            self.stdout.write(text)
            return
        output.write_text(text + "\n", encoding="utf-8")
        self.stdout.write(f"Wrote the data of {username} to {output}.")
