"""Create a gateway token for HTTP ingest (POST /api/v1/readings) and print it (the last line is the token)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from campus.models import Campus
from sensors.services import gateway_token_create


class Command(BaseCommand):
    help = (
        "Create a token with which a gateway sends readings of the campus's sensors to POST /api/v1/readings; "
        "the token is printed once, as the last line."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("name", help="Which gateway uses the token.")
        parser.add_argument("--campus", type=int, help="Campus id (needed when there are several campuses).")

    def handle(self, *args: Any, name: str, campus: int | None, **options: Any) -> None:
        campuses = Campus.objects.order_by("pk")
        if campus is not None:
            campuses = campuses.filter(pk=campus)
        found = list(campuses[:2])
        if not found:
            raise CommandError("No such campus." if campus is not None else "There is no campus yet.")
        if len(found) > 1:
            raise CommandError("There are several campuses: choose one with --campus ID.")
        token, raw = gateway_token_create(actor=None, campus=found[0], name=name)
        self.stdout.write(f"Created gateway token {token.prefix}… ({token.name!r}) for {found[0].name}.")
        self.stdout.write("Send it as 'Authorization: Bearer <token>' to POST /api/v1/readings. It is shown only now:")
        self.stdout.write(raw)
