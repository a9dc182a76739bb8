"""Rollup speed on PostgreSQL: a day of 1-minute readings of 500 sensors into room slots and booking use.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/kampus python bench/rollup.py
    DATABASE_URL=... python bench/rollup.py --sensors 500 --runs 3

Creates a throwaway database (``kampus_bench_rollup`` on the server of DATABASE_URL, dropped
afterwards), migrates it and builds one campus with ``--sensors`` rooms, a people counter in each,
four confirmed bookings per room on the day (08–10, 10–12, 12–14, 14–16), and a day of readings, one
a minute per sensor (500 sensors: 720,000 readings), loaded with COPY in arrival order. Then it times,
``--runs`` times each:

- **reference**: the machine's floor for reading those rows: ``SELECT room_id, sensor_id, ts, count,
  present FROM sensors_reading WHERE ts in the day ORDER BY room_id, sensor_id, ts`` fetched into Python;
- **range, first**: ``rollup_range`` for the day with no slots yet (every row written);
- **range, again**: the same once more (every slot computed, nothing changed, nothing written);
- **pending, new**: ``rollup_pending`` after the next 5 minutes of readings arrived (one a minute per
  sensor): what the 5-minute schedule does every time;
- **pending, late**: ``rollup_pending`` after one late reading per sensor arrived, each somewhere in
  the day (every room has slots to re-roll all over the day);
- **pending, first run**: ``rollup_pending`` with no rollup state and no slots: the whole day at once.

It prints each time and the ratios to the reference; the exit status is 1 if ``range, first`` takes
30 s or more (issue 13's target).
"""

from __future__ import annotations

import argparse
import datetime as dt
import functools
import io
import os
import random
import statistics
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from bench.throwaway_database import drop_throwaway, open_throwaway  # noqa: E402

BENCH_DATABASE = "kampus_bench_rollup"
DAY = dt.datetime(2026, 11, 10, tzinfo=dt.UTC)
TARGET_SECONDS = 30.0


def build_world(sensors: int) -> tuple[list[tuple[int, int, int]], int]:
    """Create the campus, rooms, counters and bookings; return (sensor, room, campus) ids and the bookings made."""
    from bookings.models import Booking, BookingStatus
    from campus.models import Building, Campus, Institution, InstitutionKind, Room
    from sensors.models import Sensor, SensorKind

    campus = Campus.objects.create(name="Bench Campus", time_zone="Europe/Helsinki")
    schools = [
        Institution.objects.create(
            campus=campus, name=f"School {n}", short_code=f"s{n}", kind=InstitutionKind.VOCATIONAL
        )
        for n in range(3)
    ]
    building = Building.objects.create(campus=campus, code="A", name="Main building")
    rooms = Room.objects.bulk_create(
        Room(building=building, code=f"R{n:03d}", name=f"Room {n}", capacity=40, owner=schools[n % 3])
        for n in range(sensors)
    )
    counters = Sensor.objects.bulk_create(
        Sensor(external_id=f"bench-{n:03d}", kind=SensorKind.COUNT, room=room) for n, room in enumerate(rooms)
    )
    bookings = [
        Booking(
            campus=campus,
            room=room,
            title="Lesson",
            institution=schools[(n + hour) % 3],
            start=DAY + dt.timedelta(hours=hour),
            end=DAY + dt.timedelta(hours=hour + 2),
            status=BookingStatus.CONFIRMED,
        )
        for n, room in enumerate(rooms)
        for hour in (6, 8, 10, 12)  # 08–16 Helsinki time (UTC+2)
    ]
    Booking.objects.bulk_create(bookings)
    # Made the day before, as timetables are (not "changed" at the time the bench runs, long after the day).
    Booking.objects.update(updated_at=DAY - dt.timedelta(days=1))
    return [(sensor.pk, sensor.room_id, campus.pk) for sensor in counters], len(bookings)


def copy_readings(rows) -> int:
    """COPY (sensor, room, campus, ts, count, received_at) rows into the readings table; return how many."""
    from django.db import connection

    buffer = io.StringIO()
    written = 0
    for sensor_id, room_id, campus_id, ts, count, received_at in rows:
        buffer.write(
            f"{sensor_id}\t{room_id}\t{campus_id}\t{ts.isoformat()}\t{count}\t\\N\t{received_at.isoformat()}\n"
        )
        written += 1
    buffer.seek(0)
    with connection.cursor() as cursor:
        cursor.cursor.copy_expert(
            "COPY sensors_reading (sensor_id, room_id, campus_id, ts, count, present, received_at) FROM STDIN", buffer
        )
    return written


def minute_readings(world, first: dt.datetime, minutes: int, rng: random.Random):
    """Yield one reading a minute per sensor, in arrival order: a lesson's headcount or nobody."""
    for minute in range(minutes):
        ts = first + dt.timedelta(minutes=minute)
        busy = 6 <= ts.hour < 14
        for sensor_id, room_id, campus_id in world:
            count = rng.randrange(5, 35) if busy and rng.random() < 0.8 else 0
            yield sensor_id, room_id, campus_id, ts, count, ts + dt.timedelta(seconds=5)


def timed(label: str, action, reference: float | None = None) -> float:
    started = time.perf_counter()
    outcome = action()
    seconds = time.perf_counter() - started
    ratio = f"   {seconds / reference:5.1f} × reference" if reference else ""
    print(f"  {label:<22} {seconds:7.2f} s{ratio}   {outcome}", flush=True)
    return seconds


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sensors", type=int, default=500, help="rooms, one people counter each")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--database-name", default=BENCH_DATABASE)
    parser.add_argument(
        "--target-only", action="store_true", help="only the reference and the first rollup of the day (issue 13)"
    )
    args = parser.parse_args(argv)

    url = open_throwaway(args.database_name)
    from django.core.management import call_command
    from django.db import connection, connections

    from utilisation.models import ROLLUP_STATE_NAME, BookingUse, RollupState, RoomSlot
    from utilisation.rollups import rollup_pending, rollup_range

    try:
        call_command("migrate", verbosity=0)
        rng = random.Random(12)
        world, bookings = build_world(args.sensors)
        started = time.perf_counter()
        loaded = copy_readings(minute_readings(world, DAY, 24 * 60, rng))
        load_seconds = time.perf_counter() - started
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE sensors_reading")
        print(
            f"{args.sensors} rooms with a counter, {loaded:,} readings (COPY {loaded / load_seconds:,.0f} rows/s), "
            f"{bookings} bookings; PostgreSQL {connection.cursor().connection.server_version}, "
            f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}",
            flush=True,
        )
        end = DAY + dt.timedelta(days=1)
        times: dict[str, list[float]] = {}

        def reference() -> str:
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT room_id, sensor_id, ts, count, present FROM sensors_reading "
                    "WHERE ts >= %s AND ts < %s ORDER BY room_id, sensor_id, ts",
                    [DAY, end],
                )
                return f"{len(cursor.fetchall()):,} rows"

        def clear() -> None:
            RoomSlot.objects.all().delete()
            BookingUse.objects.all().delete()
            RollupState.objects.all().delete()

        late_day = end
        for run in range(args.runs):
            print(f"run {run + 1}", flush=True)
            ref = timed("reference", reference)
            times.setdefault("reference", []).append(ref)
            clear()
            times.setdefault("range, first", []).append(
                timed("range, first", functools.partial(rollup_range, start=DAY, end=end, now=late_day), ref)
            )
            if args.target_only:
                continue
            times.setdefault("range, again", []).append(
                timed("range, again", functools.partial(rollup_range, start=DAY, end=end, now=late_day), ref)
            )
            # As if the schedule had run at the end of the day; then the next five minutes of readings arrive.
            RollupState.objects.update_or_create(
                name=ROLLUP_STATE_NAME, defaults={"readings_until": late_day, "bookings_until": late_day}
            )
            copy_readings(minute_readings(world, late_day, 5, rng))
            late_day += dt.timedelta(minutes=5)
            times.setdefault("pending, new", []).append(
                timed("pending, new", functools.partial(rollup_pending, now=late_day), ref)
            )
            # Then one late reading per sensor, somewhere in the day.
            late_day += dt.timedelta(minutes=1)
            copy_readings(
                (
                    sensor_id,
                    room_id,
                    campus_id,
                    DAY + dt.timedelta(minutes=rng.randrange(1440), seconds=10 + 7 * run),
                    3,
                    late_day,
                )
                for sensor_id, room_id, campus_id in world
            )
            late_day += dt.timedelta(minutes=1)
            times.setdefault("pending, late", []).append(
                timed("pending, late", functools.partial(rollup_pending, now=late_day), ref)
            )
            clear()
            times.setdefault("pending, first run", []).append(
                timed(
                    "pending, first run",
                    functools.partial(rollup_pending, now=late_day + dt.timedelta(seconds=30)),
                    ref,
                )
            )
            late_day += dt.timedelta(minutes=5)
        print("medians:")
        reference_median = statistics.median(times["reference"])
        for label, values in times.items():
            median = statistics.median(values)
            print(
                f"  {label:<22} {median:7.2f} s ({min(values):.2f}–{max(values):.2f})"
                f"   {median / reference_median:5.1f} × reference"
            )
        return 0 if statistics.median(times["range, first"]) < TARGET_SECONDS else 1
    finally:
        connections.close_all()
        drop_throwaway(url, args.database_name)


if __name__ == "__main__":
    sys.exit(main())
