"""Roll up readings and bookings into room slots now: what the schedule does, or a date range again."""

from __future__ import annotations

import datetime as dt
import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from campus.models import Campus, Room
from utilisation.rollups import rollup_pending, rollup_range


def _date(value: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError as error:
        raise CommandError(f"{value!r} is not a date (YYYY-MM-DD)") from error


class Command(BaseCommand):
    help = (
        "Roll up what changed since the last run (as the 5-minute schedule does), or with --from and --to "
        "every slot of those campus-local dates again (both included), optionally of one room."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--from", dest="first", type=_date, help="first campus-local date (YYYY-MM-DD)")
        parser.add_argument("--to", dest="last", type=_date, help="last campus-local date, included (YYYY-MM-DD)")
        parser.add_argument("--room", help="only this room (its code; with --from and --to)")
        parser.add_argument("--campus", help="the campus by name, when there are several")

    def handle(self, *args: Any, first: dt.date | None, last: dt.date | None, room: str | None, **options: Any):
        started = time.perf_counter()
        if first is None and last is None:
            if room:
                raise CommandError("--room needs --from and --to")
            result = rollup_pending()
            self.stdout.write(f"Rolled up new readings and bookings: {result} ({time.perf_counter() - started:.1f} s)")
            return
        if first is None or last is None:
            raise CommandError("give both --from and --to")
        if last < first:
            raise CommandError("--to is before --from")
        campuses = Campus.objects.all()
        if options.get("campus"):
            campuses = campuses.filter(name=options["campus"])
        for campus in campuses.order_by("pk"):
            rooms = None
            if room:
                rooms = list(Room.objects.filter(building__campus=campus, code=room))
                if not rooms:
                    continue
            zone = campus.zone
            start = dt.datetime.combine(first, dt.time(), tzinfo=zone)
            end = dt.datetime.combine(last + dt.timedelta(days=1), dt.time(), tzinfo=zone)
            result = rollup_range(start=start, end=end, campus=campus, rooms=rooms)
            where = f"room {room}" if room else "every room"
            self.stdout.write(
                f"{campus.name}, {where}, {first:%Y-%m-%d} to {last:%Y-%m-%d}: {result} "
                f"({time.perf_counter() - started:.1f} s)"
            )
            if room:
                return
        if room:
            raise CommandError(f"no room with code {room!r}")
