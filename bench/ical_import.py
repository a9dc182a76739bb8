"""Timetable import: how long the dry run and the all-or-nothing import of an .ics file take.

    python bench/ical_import.py                       # a throwaway SQLite file
    python bench/ical_import.py --events 100 300 500 --series 40
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/kampus_bench_ical python bench/ical_import.py

Builds a campus with one room and its facility manager in the database of DATABASE_URL (by
default a new SQLite file in a temporary folder; a PostgreSQL database must exist and is
migrated, then emptied of bookings before each run), then for each size times:

1. a file of N one-off lessons (each event one booking request, as an export of single lessons is);
2. a file of S weekly series of a 20-week term (as a timetable program exports repeating lessons).

For each it prints the seconds of ``ical_import_plan`` (the dry run) and of ``ical_import_commit``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
import tempfile
import time
from pathlib import Path
from zoneinfo import ZoneInfo

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

ZONE = ZoneInfo("Europe/Helsinki")


def vevent(number: int, start: dt.datetime, end: dt.datetime, rule: str = "") -> str:
    lines = [
        "BEGIN:VEVENT",
        f"UID:bench-{number}@kampus",
        f"SUMMARY:Lesson {number}",
        f"DTSTART;TZID=Europe/Helsinki:{start:%Y%m%dT%H%M%S}",
        f"DTEND;TZID=Europe/Helsinki:{end:%Y%m%dT%H%M%S}",
    ]
    if rule:
        lines.append(f"RRULE:{rule}")
    return "\r\n".join([*lines, "END:VEVENT"])


def calendar(events: list[str]) -> bytes:
    return ("\r\n".join(["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//Kampus bench//EN", *events, "END:VCALENDAR"])
            + "\r\n").encode()  # fmt: skip


def lessons(first_monday: dt.date, count: int) -> bytes:
    """Return ``count`` one-hour lessons, 8:00–16:00 on weekdays, week after week."""
    events = []
    for number in range(count):
        week, rest = divmod(number, 40)
        day, hour = divmod(rest, 8)
        start = dt.datetime.combine(first_monday + dt.timedelta(weeks=week, days=day), dt.time(8 + hour), tzinfo=ZONE)
        events.append(vevent(number, start, start + dt.timedelta(minutes=45)))
    return calendar(events)


def series(first_monday: dt.date, count: int) -> bytes:
    """Return ``count`` weekly lessons of a 20-week term (8 a day, Monday to Friday)."""
    events = []
    for number in range(count):
        day, hour = divmod(number % 40, 8)
        start = dt.datetime.combine(first_monday + dt.timedelta(days=day), dt.time(8 + hour), tzinfo=ZONE)
        events.append(vevent(number, start, start + dt.timedelta(minutes=45), "FREQ=WEEKLY;COUNT=20"))
    return calendar(events)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, nargs="+", default=[100, 300, 500], help="sizes of one-off files")
    parser.add_argument("--series", type=int, default=40, help="weekly series in the series file (at most 40)")
    options = parser.parse_args()

    if not os.environ.get("DATABASE_URL"):
        os.environ["DATABASE_URL"] = f"sqlite:///{tempfile.mkdtemp(prefix='kampus-bench-')}/bench.sqlite3"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "campus.settings")
    os.environ.setdefault("DEBUG", "1")
    os.environ.setdefault("SECRET_KEY", "bench-only-" + "x" * 40)
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection
    from django.utils import timezone

    from bookings.models import Booking, BookingPolicy, BookingSeries
    from bookings.services.importing import ical_import_commit, ical_import_plan
    from campus.models import Building, Campus, Membership, OpeningHours, Role, Room, RoomKind, User

    call_command("migrate", verbosity=0)
    campus, _ = Campus.objects.get_or_create(name="Bench campus", defaults={"time_zone": "Europe/Helsinki"})
    building, _ = Building.objects.get_or_create(campus=campus, code="A", defaults={"name": "Main"})
    for weekday in range(5):
        OpeningHours.objects.get_or_create(
            building=building, weekday=weekday, defaults={"opens": dt.time(7), "closes": dt.time(21)}
        )
    room, _ = Room.objects.get_or_create(
        building=building, code="A101", defaults={"name": "Classroom", "kind": RoomKind.CLASSROOM, "capacity": 30}
    )
    BookingPolicy.objects.get_or_create(room=room, defaults={"max_active_bookings": 10_000})
    manager, created = User.objects.get_or_create(username="bench.fm")
    if created:
        Membership.objects.create(user=manager, campus=campus, role=Role.FACILITY_MANAGER)
    today = timezone.localdate(timezone=ZONE)
    first_monday = today + dt.timedelta(days=7 - today.weekday() + 7)

    print(f"{connection.vendor}, load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    runs = [(f"{count} one-off events", lessons(first_monday, count)) for count in options.events]
    runs.append((f"{options.series} weekly series × 20", series(first_monday, min(options.series, 40))))
    for name, content in runs:
        Booking.objects.filter(room=room).delete()
        BookingSeries.objects.filter(campus=campus).delete()
        request = {"content": content, "room": room, "booked_by": manager}
        started = time.perf_counter()
        plan = ical_import_plan(**request)
        planned = time.perf_counter() - started
        assert plan.can_commit, [row.message for row in plan.refused][:3]
        started = time.perf_counter()
        done = ical_import_commit(**request)
        committed = time.perf_counter() - started
        print(
            f"{name:>26}: {len(content) / 1024:7.0f} KB, {done.occurrence_count:5d} bookings; "
            f"dry run {planned:5.1f} s, import {committed:5.1f} s"
        )


if __name__ == "__main__":
    main()
