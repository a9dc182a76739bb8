"""``manage.py import_members FILE --institution SHORT_CODE [--as USERNAME]``: load a members CSV."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from django.core.management.base import BaseCommand, CommandError, CommandParser

from campus.exceptions import InvalidInput, PermissionDenied
from campus.management.commands.import_rooms import campus_from_option
from campus.models import Institution, User
from campus.room_import import CsvImportRefused, csv_text_from_bytes
from campus.services import memberships_import_csv

T = TypeVar("T")


class Command(BaseCommand):
    help = (
        "Create or update an institution's members from a CSV file (columns username, email, first_name, "
        "last_name, role, valid_from, valid_until, language). Any error imports nothing."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", type=Path, help="CSV file of members")
        parser.add_argument("--institution", required=True, help="short code of the institution, e.g. lukio")
        parser.add_argument("--campus", help="name of the campus (needed when there is more than one)")
        parser.add_argument(
            "--as",
            dest="actor",
            metavar="USERNAME",
            help="import as this user (an admin of the institution); default: the first active superuser",
        )

    def handle(self, *args, file: Path, institution: str, campus: str | None, actor: str | None, **options) -> None:
        target_campus = campus_from_option(campus)
        try:
            target = Institution.objects.get(campus=target_campus, short_code=institution)
        except Institution.DoesNotExist:
            known = ", ".join(target_campus.institutions.values_list("short_code", flat=True)) or "none"
            raise CommandError(f"No institution {institution!r} on {target_campus}; known codes: {known}.") from None
        acting_user = acting_user_for(actor)
        result = run_csv_import(
            self,
            file,
            lambda csv_text: memberships_import_csv(institution=target, csv_text=csv_text, actor=acting_user),
        )
        self.stdout.write(self.style.SUCCESS(f"Imported {file} into {target} as {acting_user.username}: {result}."))


def run_csv_import(command: BaseCommand, file: Path, load: Callable[[str], T]) -> T:
    """Read ``file`` and pass its text to ``load``; turn each way it can fail into a CommandError.

    Line-numbered errors of a refused file go to stderr first; nothing was imported then.
    """
    try:
        return load(csv_text_from_bytes(file.read_bytes()))
    except OSError as exc:
        raise CommandError(f"Cannot read {file}: {exc.strerror or exc}") from exc
    except CsvImportRefused as exc:
        for error in exc.row_errors:
            command.stderr.write(str(error))
        raise CommandError(f"{len(exc.row_errors)} error(s) in {file}; nothing was imported.") from exc
    except (PermissionDenied, InvalidInput) as exc:
        raise CommandError(exc.message) from exc


def acting_user_for(username: str | None) -> User:
    """Return the user an import acts as: ``--as USERNAME``, else the first active superuser."""
    if username:
        try:
            return User.objects.get(username=username)
        except User.DoesNotExist:
            raise CommandError(f"No user {username!r}.") from None
    superuser = User.objects.filter(is_superuser=True, is_active=True).order_by("pk").first()
    if superuser is None:
        raise CommandError("There is no active superuser; give --as USERNAME of an institution admin.")
    return superuser
