"""``manage.py purge_old_data [--dry-run]``: apply the retention periods of the privacy notice."""

from django.core.management.base import BaseCommand, CommandParser

from bookings.retention import purge_expired_data


class Command(BaseCommand):
    help = (
        "Anonymise bookings that ended over BOOKING_ANONYMISE_AFTER_DAYS ago (two years by default), delete "
        "those over BOOKING_DELETE_AFTER_DAYS (if set) and notifications over a year old; close accounts whose "
        "last membership ended over a year ago. The worker runs this nightly."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--dry-run", action="store_true", help="count what would go, change nothing")

    def handle(self, *args, dry_run: bool, **options) -> None:
        result = purge_expired_data(dry_run=dry_run)
        prefix = "Would do: " if dry_run else "Done: "
        self.stdout.write(prefix + str(result))
