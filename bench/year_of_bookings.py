"""A year of a large joint campus in a throwaway PostgreSQL database: the scale of issue 13.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/kampus python bench/year_of_bookings.py
    DATABASE_URL=... python bench/year_of_bookings.py --database-name kampus_bench_year --keep

Builds, on the server of DATABASE_URL, a migrated database holding the demo campus's institutions
and equipment catalogue with 1,000 rooms in ten buildings (their weekly opening hours, kinds,
capacities, equipment, owners; ten divisible sports halls of three sections each), 400 staff
members, 400,000 bookings over a year (a quarter behind today, three quarters ahead: weekly
series and one-off bookings, a few cancelled) with the blocks of the active ones, and 500 people
counters. Rows go in with COPY, so the exclusion constraint and the indexes see every block as
the booking services would have left it; the rules are not checked (the data is made to keep
them: inside opening hours, no overlaps).

Other benchmarks call ``open_year_database``: with ``template`` it copies a database this script
kept (``CREATE DATABASE … TEMPLATE``, seconds), otherwise it builds the year itself. One room,
``FEED_ROOM`` in building A, is left without bookings for a benchmark to fill as it likes.
"""

from __future__ import annotations

import argparse
import datetime as dt
import io
import json
import os
import random
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from zoneinfo import ZoneInfo

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from bench.throwaway_database import admin, database_url, drop_throwaway, open_throwaway  # noqa: E402

DATABASE_NAME = "kampus_bench_year"
ZONE = ZoneInfo("Europe/Helsinki")
FEED_ROOM = "A100"  # building A, left empty
BUILDINGS = "ABCDEFGHIJ"
# Two-hour windows of a day (local start hour); a booking lies inside one window, so none overlap.
WINDOWS = (8, 10, 12, 14, 16, 18)
SATURDAY_WINDOWS = (9, 11, 13)
LENGTHS = (45, 60, 90, 90, 120)  # minutes
# kind → (share of rooms, capacity range, equipment each may have with its probability)
KINDS = {
    "classroom": (0.60, (16, 40), {"projector": 0.9, "whiteboard": 0.8, "display": 0.3, "document-camera": 0.3}),
    "meeting": (0.14, (4, 16), {"display": 0.8, "video-conference": 0.5, "whiteboard": 0.5}),
    "lab": (0.10, (12, 30), {"sinks": 0.9, "fume-hood": 0.6, "projector": 0.7}),
    "workshop": (0.06, (8, 24), {"lathe": 0.5, "kitchen": 0.3, "projector": 0.3}),
    "auditorium": (0.06, (60, 300), {"projector": 1.0, "sound-system": 0.9, "video-conference": 0.4}),
    "other": (0.04, (10, 60), {"piano": 0.5, "sound-system": 0.5}),
}
HALLS = 10  # divisible sports halls, three sections each (40 rooms of the 1,000)


@dataclass(frozen=True)
class Scale:
    rooms: int = 1000
    bookings: int = 400_000
    sensors: int = 500
    staff: int = 400
    days: int = 365
    days_behind: int = 91  # of ``days``, before today


@dataclass(frozen=True)
class Year:
    """What a benchmark needs to know of a built year, read back from its database."""

    campus_id: int
    rooms: int
    bookings: int
    active_bookings: int
    blocks: int
    series: int
    sensors: int
    first_day: dt.date
    last_day: dt.date

    def line(self) -> str:
        return (
            f"year of bookings: {self.rooms} rooms, {self.bookings} bookings ({self.active_bookings} active, "
            f"{self.series} weekly series), {self.blocks} blocks, {self.sensors} sensors, "
            f"{self.first_day}–{self.last_day}"
        )


def _copy(cursor, table: str, columns: list[str], rows) -> int:
    """COPY ``rows`` (tuples of str or None) into ``table``; return how many."""
    buffer = io.StringIO()
    count = 0
    for row in rows:
        buffer.write("\t".join(r"\N" if value is None else value for value in row))
        buffer.write("\n")
        count += 1
    buffer.seek(0)
    cursor.copy_expert(f"COPY {table} ({', '.join(columns)}) FROM STDIN", buffer)
    return count


def _without_indexes(cursor, tables: list[str]) -> list[str]:
    """Drop the indexes and unique and exclusion constraints of ``tables`` (not the primary keys);
    return the statements that make them again."""
    restore = []
    for table in tables:
        cursor.execute(
            "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint"
            " WHERE conrelid = %s::regclass AND contype IN ('u', 'x')",
            [table],
        )
        for name, definition in cursor.fetchall():
            cursor.execute(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"')
            restore.append(f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {definition}')
        cursor.execute(
            "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = %s"
            " AND indexname NOT IN (SELECT conname FROM pg_constraint WHERE conrelid = %s::regclass)",
            [table, table],
        )
        for name, definition in cursor.fetchall():
            cursor.execute(f'DROP INDEX "{name}"')
            restore.append(definition)
    return restore


def _reserve_ids(cursor, table: str, count: int) -> int:
    """Return the first of ``count`` fresh ids of ``table``'s identity column, moving it past them."""
    cursor.execute(f"SELECT pg_get_serial_sequence('{table}', 'id')")
    (sequence,) = cursor.fetchone()
    cursor.execute("SELECT nextval(%s)", [sequence])
    (first,) = cursor.fetchone()
    cursor.execute("SELECT setval(%s, %s)", [sequence, first + count])
    return first


def build_campus(scale: Scale, rng: random.Random) -> dict:
    """Create the campus, institutions, equipment, buildings, rooms, staff and sensors; return their ids."""
    from bookings.models import BookingPolicy
    from campus.demo import seed_campus, seed_equipment, seed_institutions
    from campus.models import Building, Membership, OpeningHours, Role, Room, User
    from sensors.models import Sensor, SensorKind

    campus = seed_campus()
    institutions = list(seed_institutions(campus).values())
    equipment = seed_equipment()
    # A year of bookings is far more than the everyday quota, and some are 300 days ahead.
    BookingPolicy.objects.create(
        campus=campus, max_active_bookings=1_000_000, max_advance_days=400, owner_window_days=400
    )
    buildings = []
    for index, code in enumerate(BUILDINGS):
        building = Building.objects.create(campus=campus, code=code, name=f"Rakennus {code}")
        closes = dt.time(18) if index == 1 else dt.time(21)
        hours = [OpeningHours(building=building, weekday=day, opens=dt.time(7), closes=closes) for day in range(5)]
        if index % 3 == 0:
            hours.append(OpeningHours(building=building, weekday=5, opens=dt.time(9), closes=dt.time(15)))
        OpeningHours.objects.bulk_create(hours)
        buildings.append(building)

    counts = [scale.rooms // len(BUILDINGS)] * len(BUILDINGS)
    counts[0] += scale.rooms - sum(counts)
    kinds = list(KINDS)
    rooms: list[Room] = []
    room_equipment: list[tuple[int, list[str]]] = []  # index into rooms, codes
    halls: list[tuple[int, list[int]]] = []  # index of the hall, indexes of its sections
    for building, count in zip(buildings, counts, strict=True):
        first = len(rooms)
        for hall in range(HALLS // len(BUILDINGS) if count >= 20 else 0):
            hall_index = len(rooms)
            rooms.append(
                Room(building=building, code=f"{building.code}S{hall}", name=f"Liikuntasali {hall}", kind="gym",
                     capacity=90, owner=None, step_free=True)
            )  # fmt: skip
            sections = []
            for section in range(3):
                sections.append(len(rooms))
                rooms.append(
                    Room(building=building, code=f"{building.code}S{hall}.{section + 1}",
                         name=f"Liikuntasali {hall}, lohko {section + 1}", kind="gym", capacity=30, owner=None,
                         step_free=True)
                )  # fmt: skip
            room_equipment.append((hall_index, ["gym-equipment", "sound-system"]))
            halls.append((hall_index, sections))
        number = 100
        while len(rooms) - first < count:
            kind = rng.choices(kinds, weights=[KINDS[k][0] for k in kinds])[0]
            _share, (low, high), items = KINDS[kind]
            owner = rng.choice([*institutions, None]) if kind != "auditorium" else None
            index = len(rooms)
            rooms.append(
                Room(
                    building=building, code=f"{building.code}{number}", name=f"{kind.title()} {building.code}{number}",
                    kind=kind, capacity=rng.randint(low, high), owner=owner, floor=number // 100,
                    step_free=rng.random() < 0.8, buffer_minutes=15 if kind == "lab" else 0,
                )
            )  # fmt: skip
            room_equipment.append((index, [code for code, chance in items.items() if rng.random() < chance]))
            number += 1
    Room.objects.bulk_create(rooms)
    through = Room.equipment.through
    through.objects.bulk_create(
        through(room_id=rooms[index].pk, equipment_id=equipment[code].pk)
        for index, codes in room_equipment
        for code in codes
    )
    sections_through = Room.sections.through
    sections_through.objects.bulk_create(
        sections_through(from_room_id=rooms[hall].pk, to_room_id=rooms[section].pk)
        for hall, sections in halls
        for section in sections
    )

    staff = User.objects.bulk_create(
        User(username=f"year-staff-{n:03d}", password="!", first_name="Opettaja", last_name=f"{n:03d}")
        for n in range(scale.staff)
    )
    Membership.objects.bulk_create(
        Membership(user=user, institution=institutions[n % len(institutions)], role=Role.STAFF)
        for n, user in enumerate(staff)
    )
    counted = [room for room in rooms if room.kind != "gym"][: scale.sensors]
    Sensor.objects.bulk_create(
        Sensor(external_id=f"year-{room.building.code}-{room.code}", kind=SensorKind.COUNT, room=room)
        for room in counted
    )
    return {
        "campus": campus.pk,
        "institutions": [institution.pk for institution in institutions],
        "rooms": rooms,
        "halls": [(rooms[hall].pk, [rooms[s].pk for s in sections]) for hall, sections in halls],
        "staff": [(user.pk, institutions[n % len(institutions)].pk) for n, user in enumerate(staff)],
    }


def _local(day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=ZONE).astimezone(dt.UTC)


def plan_bookings(world: dict, scale: Scale, rng: random.Random, first_day: dt.date):
    """Yield (room ids booked (the parts to block), title, start, end, series key or None) for the year.

    Every booking lies inside one two-hour window of an open day, and each window of a room (or of a
    hall and its sections together) holds at most one booking, so no two blocks overlap. About 60 %
    of a room's bookings are weekly series (the same window for 6–20 weeks), the rest one-offs.
    """
    rooms = world["rooms"]
    hall_of = {}
    for hall, sections in world["halls"]:
        hall_of[hall] = hall
        for section in sections:
            hall_of[section] = hall
    groups: dict[int, list] = {}
    for room in rooms:
        if room.code == FEED_ROOM:
            continue
        groups.setdefault(hall_of.get(room.pk, room.pk), []).append(room)
    saturday_open = {room.pk: BUILDINGS.index(room.building.code) % 3 == 0 for room in rooms}
    weeks = scale.days // 7
    weights = {key: rng.uniform(0.3, 1.7) for key in groups}
    total_weight = sum(weights.values())
    series_key = 0
    share_so_far = 0.0
    for key, members in groups.items():
        # Rounded cumulatively, so that the shares add up to exactly ``scale.bookings``.
        wanted = round(scale.bookings * (share_so_far + weights[key]) / total_weight) - round(
            scale.bookings * share_so_far / total_weight
        )
        share_so_far += weights[key]
        closes_early = members[0].building.code == BUILDINGS[1]
        windows = [w for w in WINDOWS if not (closes_early and w >= 16)]
        cells = [(week, weekday, hour) for week in range(weeks) for weekday in range(5) for hour in windows]
        if saturday_open[members[0].pk]:
            cells += [(week, 5, hour) for week in range(weeks) for hour in SATURDAY_WINDOWS]
        wanted = min(wanted, len(cells) * 9 // 10)
        taken: set = set()
        made = tries = 0
        while made < wanted * 0.6 and tries < 200:
            weekday, hour = rng.choice(cells)[1:]
            length = min(rng.randint(6, 20), wanted - made)
            start_week = rng.randrange(0, weeks - length + 1)
            run = [(week, weekday, hour) for week in range(start_week, start_week + length)]
            if any(cell in taken for cell in run):
                tries += 1  # a crowded room: fewer series, more one-offs
                continue
            taken.update(run)
            room = rng.choice(members)
            minutes = rng.choice(LENGTHS)
            offset = rng.choice((0, 15)) if minutes <= 90 else 0
            minutes = min(minutes, 120 - offset - room.buffer_minutes)  # the buffer stays inside the window
            series_key += 1
            for week, wd, hr in run:
                day = first_day + dt.timedelta(weeks=week, days=wd - first_day.weekday())
                start = _local(day, hr, offset)
                yield room, start, start + dt.timedelta(minutes=minutes), series_key
            made += length
        free = [cell for cell in cells if cell not in taken]
        for week, weekday, hour in rng.sample(free, min(len(free), wanted - made)):
            room = rng.choice(members)
            minutes = rng.choice(LENGTHS)
            offset = rng.choice((0, 15, 30)) if minutes <= 90 else 0
            minutes = min(minutes, 120 - offset - room.buffer_minutes)
            day = first_day + dt.timedelta(weeks=week, days=weekday - first_day.weekday())
            start = _local(day, hour, offset)
            yield room, start, start + dt.timedelta(minutes=minutes), None


TITLES = ("Matematiikka", "Äidinkieli", "Englanti", "Fysiikka", "Kemia", "Historia", "Tiimipalaveri", "Kurssi")
PURPOSES = ("teaching", "teaching", "teaching", "exam", "meeting", "event", "other")


def build_bookings(world: dict, scale: Scale, rng: random.Random, today: dt.date) -> dict[str, int]:
    """Write the year's series, bookings and blocks with COPY; return the counts."""
    from django.db import connection

    first_day = today - dt.timedelta(days=scale.days_behind)
    first_day -= dt.timedelta(days=first_day.weekday())  # weeks start on Monday
    now = dt.datetime.now(dt.UTC)
    parts = dict(world["halls"])
    staff_by_institution: dict[int | None, list[tuple[int, int]]] = {}
    for user, institution in world["staff"]:
        staff_by_institution.setdefault(institution, []).append((user, institution))
    everyone = world["staff"]
    began = time.perf_counter()
    planned = list(plan_bookings(world, scale, rng, first_day))
    print(f"  planned {len(planned)} bookings: {time.perf_counter() - began:.1f} s", flush=True)
    began = time.perf_counter()
    series_keys = sorted({key for *_rest, key in planned if key is not None})

    with connection.cursor() as django_cursor:
        cursor = django_cursor.cursor  # psycopg2's own, for copy_expert
        # The rows are made to refer to what exists; checking each foreign key of 800,000 rows at
        # commit (one trigger call per row and key) took longer than the COPYs. Constraints that
        # are indexes (the exclusion constraint, uniqueness) and CHECKs still apply.
        cursor.execute("SET LOCAL session_replication_role = replica")
        # Building each index once over all rows is faster than growing it row by row; making the
        # exclusion constraint again checks every block against the others all the same.
        cursor.execute("SET LOCAL maintenance_work_mem = '256MB'")
        restore = _without_indexes(cursor, ["bookings_booking", "bookings_bookingblock"])
        first_series = _reserve_ids(cursor, "bookings_bookingseries", len(series_keys))
        first_booking = _reserve_ids(cursor, "bookings_booking", len(planned))
        first_block = _reserve_ids(cursor, "bookings_bookingblock", len(planned) * 3)
        series_id = {key: first_series + n for n, key in enumerate(series_keys)}
        series_rows: dict[int, tuple] = {}
        booking_rows, block_rows = [], []
        block_id = first_block
        stamp = now.isoformat()
        for n, (room, start, end, key) in enumerate(planned):
            booker, institution = rng.choice(staff_by_institution.get(room.owner_id) or everyone)
            status = "confirmed"
            if start.date() > today and rng.random() < 0.01:
                status = "pending"
            elif key is None and rng.random() < 0.04:
                status = "cancelled"
            booking_id = first_booking + n
            series = None
            if key is not None:
                series = str(series_id[key])
                if key not in series_rows:
                    series_rows[key] = [series, start, end, booker, 0]  # occurrences counted below
                series_rows[key][4] += 1
            booking_rows.append(
                (
                    str(booking_id), TITLES[n % len(TITLES)], "", PURPOSES[n % len(PURPOSES)], "", "", "",
                    start.isoformat(), end.isoformat(), None, "institution" if n % 5 else "campus", status, None,
                    stamp, stamp, str(booker), str(world["campus"]), str(institution), str(room.pk), series,
                    None, None, "", None, start.isoformat() if series else None, "0", None,
                )
            )  # fmt: skip
            if status in ("confirmed", "pending"):
                until = (end + dt.timedelta(minutes=room.buffer_minutes)).isoformat()
                for part in parts.get(room.pk, [room.pk]):
                    block_rows.append((str(block_id), start.isoformat(), until, str(booking_id), str(part)))
                    block_id += 1
        print(f"  rows made: {time.perf_counter() - began:.1f} s", flush=True)
        began = time.perf_counter()
        _copy(
            cursor,
            "bookings_bookingseries",
            ["id", "rrule", "dtstart", "dtend", "time_zone", "exdates", "created_at", "campus_id", "owner_id",
             "sequence"],
            (
                (row[0], f"FREQ=WEEKLY;COUNT={row[4]}", row[1].isoformat(), row[2].isoformat(), str(ZONE),
                 json.dumps([]), stamp, str(world["campus"]), str(row[3]), "0")
                for row in series_rows.values()
            ),
        )  # fmt: skip
        _copy(
            cursor,
            "bookings_booking",
            ["id", "title", "description", "purpose", "on_behalf_of_name", "on_behalf_of_contact",
             "on_behalf_of_organisation", "start", '"end"', "attendees", "visibility", "status", "released_at",
             "created_at", "updated_at", "booked_by_id", "campus_id", "institution_id", "room_id", "series_id",
             "decided_at", "decided_by_id", "decision_reason", "expires_at", "recurrence_id", "sequence",
             "checked_in_at"],
            booking_rows,
        )  # fmt: skip
        print(f"  series and bookings copied: {time.perf_counter() - began:.1f} s", flush=True)
        began = time.perf_counter()
        _copy(cursor, "bookings_bookingblock", ["id", "start", "blocked_until", "booking_id", "part_id"], block_rows)
        print(f"  blocks copied: {time.perf_counter() - began:.1f} s", flush=True)
        began = time.perf_counter()
        for statement in restore:
            cursor.execute(statement)
        print(f"  {len(restore)} indexes and constraints made: {time.perf_counter() - began:.1f} s", flush=True)
    return {"series": len(series_rows), "bookings": len(booking_rows), "blocks": len(block_rows)}


def build_year(scale: Scale = Scale(), *, seed: int = 13) -> None:
    """Fill the (migrated, empty) database Django is set up on with the year of ``scale``."""
    from django.db import connection, transaction
    from django.utils import timezone

    rng = random.Random(seed)
    today = timezone.localdate(timezone=ZONE)
    began = time.perf_counter()
    with transaction.atomic():
        world = build_campus(scale, rng)
        print(f"  campus, rooms, staff, sensors: {time.perf_counter() - began:.1f} s", flush=True)
        build_bookings(world, scale, rng, today)
        began = time.perf_counter()
    print(f"  commit: {time.perf_counter() - began:.1f} s", flush=True)
    began = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")  # the planner's statistics, as autovacuum would leave them
    print(f"  analyze: {time.perf_counter() - began:.1f} s", flush=True)


def describe_year() -> Year:
    """Return what the database Django is set up on holds of the year."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT (SELECT id FROM campus_campus ORDER BY id LIMIT 1), (SELECT count(*) FROM campus_room),"
            " (SELECT count(*) FROM bookings_booking),"
            " (SELECT count(*) FROM bookings_booking WHERE status IN ('confirmed', 'pending')),"
            " (SELECT count(*) FROM bookings_bookingblock), (SELECT count(*) FROM bookings_bookingseries),"
            " (SELECT count(*) FROM sensors_sensor), (SELECT min(start) FROM bookings_booking),"
            " (SELECT max(start) FROM bookings_booking)"
        )
        campus, rooms, bookings, active, blocks, series, sensors, first, last = cursor.fetchone()
    return Year(
        campus_id=campus, rooms=rooms, bookings=bookings, active_bookings=active, blocks=blocks, series=series,
        sensors=sensors, first_day=first.astimezone(ZONE).date() if first else None,
        last_day=last.astimezone(ZONE).date() if last else None,
    )  # fmt: skip


def _exists(url: str, name: str) -> bool:
    import psycopg2

    conn = psycopg2.connect(database_url(url, "postgres"))
    with conn.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name])
        found = cursor.fetchone() is not None
    conn.close()
    return found


def open_year_database(name: str, *, template: str | None = None, scale: Scale = Scale()) -> tuple[str, Year]:
    """Create database ``name`` holding the year and set Django up on it; return the server's URL and the year.

    With ``template`` (a database this script kept) the year is copied from it; otherwise it is built.
    """
    url = os.environ.get("DATABASE_URL", "")
    began = time.perf_counter()
    if template and url.startswith(("postgres://", "postgresql://")) and _exists(url, template):
        drop_throwaway(url, name)
        admin(url, f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
        os.environ["DATABASE_URL"] = database_url(url, name)
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "campus.settings")
        os.environ.setdefault("SECRET_KEY", "bench-only-secret-key-not-for-production-0123456789")
        import django

        django.setup()
        how = f"copied from {template}"
    else:
        url = open_throwaway(name)
        from django.core.management import call_command

        call_command("migrate", verbosity=0)
        build_year(scale)
        how = "built"
    year = describe_year()
    print(f"{year.line()} ({how} in {time.perf_counter() - began:.1f} s)", flush=True)
    return url, year


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-name", default=DATABASE_NAME)
    parser.add_argument("--keep", action="store_true", help="keep the database (as a template for other benchmarks)")
    parser.add_argument("--rooms", type=int, default=Scale.rooms)
    parser.add_argument("--bookings", type=int, default=Scale.bookings)
    parser.add_argument("--sensors", type=int, default=Scale.sensors)
    args = parser.parse_args(argv)

    scale = Scale(rooms=args.rooms, bookings=args.bookings, sensors=args.sensors)
    began = time.perf_counter()
    url = open_throwaway(args.database_name)
    from django.core.management import call_command
    from django.db import connections

    try:
        call_command("migrate", verbosity=0)
        migrated = time.perf_counter()
        print(f"migrated in {migrated - began:.1f} s", flush=True)
        build_year(scale)
        print(f"built in {time.perf_counter() - migrated:.1f} s")
        print(describe_year().line())
        from bookings.services import active_overlaps_exist

        print(f"overlapping active bookings: {'YES' if active_overlaps_exist() else 'none'}")
    finally:
        connections.close_all()
        if not args.keep:
            drop_throwaway(url, args.database_name)
    return 0


if __name__ == "__main__":
    sys.exit(main())
