"""``manage.py delete_person USERNAME [--dry-run]``: delete an account, keeping the utilisation history."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction

from campus.models import User
from campus.personal_data import user_delete


class _RolledBack(Exception):
    """Undo a dry run's deletion after its counts are known."""


class Command(BaseCommand):
    help = (
        "Delete the account USERNAME: cancel their future bookings, anonymise their other bookings and audit "
        "events, revoke their tokens, end their memberships and delete the account. Room use figures stay."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username")
        parser.add_argument("--dry-run", action="store_true", help="count what would be done, change nothing")

    def handle(self, *args: Any, username: str, dry_run: bool, **options: Any) -> None:
        user = User.objects.filter(username=username).first()
        if user is None:
            raise CommandError(f"No user named {username!r}.")
        try:
            with transaction.atomic():
                result = user_delete(user=user, actor=None)
                if dry_run:
                    raise _RolledBack
        except _RolledBack:
            self.stdout.write(f"Would be {result} (dry run: nothing changed).")
            return
        self.stdout.write(f"{result}.")
