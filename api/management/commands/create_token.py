"""Create a personal API token for a user and print it (its last line is the token itself)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from api.tokens import token_create
from campus.models import User


class Command(BaseCommand):
    help = "Create a personal API token for USERNAME; the token is printed once, as the last line."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username")
        parser.add_argument("--name", default="command line", help="What the token is for.")

    def handle(self, *args: Any, username: str, name: str, **options: Any) -> None:
        try:
            user = User.objects.get(username=username)
        except User.DoesNotExist as exc:
            raise CommandError(f"No user named {username!r}.") from exc
        if not user.is_active:
            raise CommandError(f"User {username!r} is not active; their tokens would not authenticate.")
        token, raw = token_create(user=user, name=name)
        self.stdout.write(f"Created API token {token.prefix}… ({token.name!r}) for {user.username}.")
        self.stdout.write("Send it as 'Authorization: Bearer <token>'. It is shown only now:")
        self.stdout.write(raw)
