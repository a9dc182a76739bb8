"""Utilisation report speed on PostgreSQL: a one-year report of 200 rooms, read from rolled-up slots.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/kampus python bench/utilisation_report.py
    DATABASE_URL=... python bench/utilisation_report.py --rooms 200 --runs 5
    DATABASE_URL=... python bench/utilisation_report.py --keep            # then, without building it again:
    DATABASE_URL=... python bench/utilisation_report.py --reuse --profile

Creates a throwaway database (``--database``, by default ``kampus_bench_report``, on the server of
DATABASE_URL, dropped afterwards unless ``--keep``; ``--reuse`` measures a kept one again without
building it), migrates it and builds one campus with three institutions, ``--rooms`` rooms of five
kinds in four buildings with weekly opening hours like the demo's (one gym is a sports hall made of
two others, its sections), and a year (2025-12-01 – 2026-11-30) of rolled-up data inserted with SQL:
a ``RoomSlot`` row for every 15-minute slot of every weekday 07:00–21:00 of every room (200 rooms:
about 2.9 million rows), with data in 95 % of them, people in about half, a booking (of one of the
institutions) in about 60 %; and four bookings a room a weekday with their ``BookingUse`` (200 rooms:
about 209,000 each). Holidays, a term break, a day a building is closed and a closure make the
calendar real. It counts the room days (``RoomDay``) of those slots as the rollup does before its first
run, and prints how long that took. Then it times, ``--runs`` times each, cold (the metrics are called
directly, no cache):

- **reference**: the machine's floor: one ``GROUP BY room_id`` over the year's core-hour rows
  (``count(*)``, ``sum(occupied_seconds)``), fetched;
- **campus**: ``utilisation_report`` of the whole campus for the year (every figure: rooms, shares,
  right-sizing, concurrency, the weeks);
- **building**, **institution**, **room**: the same for one of each;
- **heatmap**: the campus's hour-of-week matrix for the year.

It prints p50 and max of each and the ratio to the reference; the exit status is 1 if the campus,
building or institution report's p50 takes 2 s or more (issue 13's target). ``--profile`` first
lists the queries of one campus report, slowest first, and where its Python time goes; ``--cpu``
then runs every case again without parallel workers and prints the CPU seconds the database
backend and Python spent (steadier than wall time when other work shares the machine).
``--from-slots`` makes the room days out of date first, as a changed core hour or threshold does: the
reports then read slots alone, as they did before room days (the next run counts them again).
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import statistics
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from bench.throwaway_database import drop_throwaway, open_throwaway  # noqa: E402

BENCH_DATABASE = "kampus_bench_report"
FIRST_DAY = dt.date(2025, 12, 1)
LAST_DAY = dt.date(2026, 11, 30)
NOW = dt.datetime(2026, 12, 4, 12, 0, tzinfo=dt.UTC)
TARGET_SECONDS = 2.0
# The reports issue 13's target is for.
TARGET_CASES = ("campus", "building", "institution")
KINDS = ["classroom", "classroom", "lab", "meeting", "gym"]
# Weekly hours of the four buildings (weekday 0 = Monday → opens, closes), as the demo campus has them:
# the shares are counted over opening hours, so the report reads these slots too.
WEEKDAYS = range(5)
BUILDING_HOURS = {
    "A": {**dict.fromkeys(WEEKDAYS, ("07:00", "21:30")), 5: ("09:00", "15:00")},
    "B": dict.fromkeys(WEEKDAYS, ("07:00", "18:00")),
    "C": {**dict.fromkeys(WEEKDAYS, ("07:00", "22:00")), 5: ("09:00", "18:00"), 6: ("09:00", "18:00")},
    "D": dict.fromkeys(WEEKDAYS, ("07:00", "21:30")),
}
# Rooms 4, 24 and 44 are gyms of building A: the first is a sports hall made of the other two.
HALL, HALL_SECTIONS = 4, (24, 44)


def build_world(rooms: int):
    """Create the campus and its calendar and rooms; insert a year of slots and booking uses with SQL."""
    from django.db import connection

    from bookings.models import Closure
    from campus.models import (
        Building,
        Campus,
        Holiday,
        Institution,
        InstitutionKind,
        OpeningHours,
        OpeningHoursException,
        Room,
        TermKind,
        TermPeriod,
    )

    campus = Campus.objects.create(name="Bench Campus", time_zone="Europe/Helsinki")
    schools = [
        Institution.objects.create(
            campus=campus, name=f"School {n}", short_code=f"s{n}", kind=InstitutionKind.VOCATIONAL
        )
        for n in range(3)
    ]
    buildings = [Building.objects.create(campus=campus, code=code, name=f"Building {code}") for code in "ABCD"]
    OpeningHours.objects.bulk_create(
        OpeningHours(
            building=building,
            weekday=weekday,
            opens=dt.time.fromisoformat(opens),
            closes=dt.time.fromisoformat(closes),
        )
        for building in buildings
        for weekday, (opens, closes) in BUILDING_HOURS[building.code].items()
    )
    OpeningHoursException.objects.create(building=buildings[1], date=dt.date(2026, 8, 3), closed=True)
    created = Room.objects.bulk_create(
        Room(
            building=buildings[n % 4],
            code=f"R{n:03d}",
            name=f"Room {n}",
            kind=KINDS[n % len(KINDS)],
            capacity=(12, 24, 30, 60)[n % 4],
            area_m2=(30, 60, 80, 200)[n % 4],
            owner=schools[n % 3] if n % 5 else None,
        )
        for n in range(rooms)
    )
    if rooms > max(HALL_SECTIONS):
        created[HALL].sections.set([created[n] for n in HALL_SECTIONS])
    for day in (dt.date(2025, 12, 24), dt.date(2025, 12, 25), dt.date(2026, 1, 6), dt.date(2026, 5, 1)):
        Holiday.objects.create(campus=campus, date=day, name="Holiday")
    for school in schools:
        TermPeriod.objects.create(
            institution=school, kind=TermKind.BREAK, name="Summer", start=dt.date(2026, 6, 1), end=dt.date(2026, 8, 9)
        )
    TermPeriod.objects.create(
        campus=campus, kind=TermKind.BREAK, name="Summer", start=dt.date(2026, 6, 1), end=dt.date(2026, 8, 9)
    )
    Closure.objects.create(
        campus=campus,
        building=buildings[0],
        start=dt.datetime(2026, 3, 2, 6, tzinfo=dt.UTC),
        end=dt.datetime(2026, 3, 6, 18, tzinfo=dt.UTC),
        reason="Renovation",
    )
    school_ids = [school.pk for school in schools]
    with connection.cursor() as cursor:
        # Every weekday slot 07:00–21:00 Helsinki time of every room; values from a hash of (room, slot).
        cursor.execute(
            """
            INSERT INTO utilisation_roomslot (room_id, campus_id, start, local_date, local_minute, iso_weekday,
                covered_seconds, occupied_seconds, mean_count, peak_count, booked_seconds, booked_institution_id,
                rolled_at)
            SELECT r.id, %(campus)s, s.start, (s.start AT TIME ZONE 'Europe/Helsinki')::date,
                (extract(hour FROM s.start AT TIME ZONE 'Europe/Helsinki') * 60
                 + extract(minute FROM s.start AT TIME ZONE 'Europe/Helsinki'))::int,
                extract(isodow FROM s.start AT TIME ZONE 'Europe/Helsinki')::int,
                CASE WHEN h.v %% 20 = 0 THEN 200 ELSE 900 END,
                CASE WHEN h.v %% 20 = 0 THEN 0 WHEN h.v %% 2 = 0 THEN 900 WHEN h.v %% 7 = 0 THEN 240 ELSE 0 END,
                CASE WHEN h.v %% 20 = 0 OR r.kind = 'gym' THEN NULL WHEN h.v %% 2 = 0 THEN (h.v %% r.capacity) + 0.5
                     ELSE 0 END,
                CASE WHEN h.v %% 20 = 0 OR r.kind = 'gym' THEN NULL WHEN h.v %% 2 = 0 THEN h.v %% r.capacity + 2
                     ELSE 0 END,
                CASE WHEN h.v %% 5 < 3 THEN 900 ELSE 0 END,
                CASE WHEN h.v %% 5 < 3 THEN (%(schools)s)[1 + h.v %% 3] END,
                now()
            FROM campus_room r
            CROSS JOIN generate_series(%(first)s::timestamptz, %(last)s::timestamptz, interval '15 minutes')
                AS s(start)
            CROSS JOIN LATERAL (SELECT abs(hashtext(r.id || ':' || s.start::text)) AS v) h
            WHERE extract(isodow FROM s.start AT TIME ZONE 'Europe/Helsinki') <= 5
              AND (s.start AT TIME ZONE 'Europe/Helsinki')::time >= '07:00'
              AND (s.start AT TIME ZONE 'Europe/Helsinki')::time < '21:00'
            """,
            {
                "campus": campus.pk,
                "schools": school_ids,
                "first": dt.datetime(2025, 11, 30, 22, tzinfo=dt.UTC),
                "last": dt.datetime(2026, 11, 30, 21, 45, tzinfo=dt.UTC),
            },
        )
        slots = cursor.rowcount
        # Four bookings a room a weekday (08, 10, 12, 14 Helsinki time), each with its use.
        cursor.execute(
            """
            INSERT INTO bookings_booking (campus_id, room_id, title, description, purpose, institution_id,
                on_behalf_of_name, on_behalf_of_contact, on_behalf_of_organisation, start, "end", visibility,
                status, decision_reason, created_at, updated_at, sequence)
            SELECT %(campus)s, r.id, 'Lesson', '', 'teaching', (%(schools)s)[1 + (r.id + d.n) %% 3], '', '', '',
                (d.day + make_interval(hours => 8 + 2 * k.n)) AT TIME ZONE 'Europe/Helsinki',
                (d.day + make_interval(hours => 9 + 2 * k.n)) AT TIME ZONE 'Europe/Helsinki',
                'institution', 'confirmed', '', now(), now(), 0
            FROM campus_room r
            CROSS JOIN (SELECT day::timestamp AS day, row_number() OVER () AS n
                        FROM generate_series(%(first_day)s::date, %(last_day)s::date, interval '1 day') AS day
                        WHERE extract(isodow FROM day) <= 5) d
            CROSS JOIN generate_series(0, 3) AS k(n)
            """,
            {"campus": campus.pk, "schools": school_ids, "first_day": FIRST_DAY, "last_day": LAST_DAY},
        )
        bookings = cursor.rowcount
        cursor.execute(
            """
            INSERT INTO utilisation_bookinguse (booking_id, room_id, campus_id, start, "end", covered_seconds,
                occupied_seconds, first_presence_at, last_presence_at, no_show, rolled_at)
            SELECT b.id, b.room_id, b.campus_id, b.start, b."end", 3600,
                CASE WHEN b.id % 8 = 0 THEN 0 ELSE 3000 END,
                CASE WHEN b.id % 8 = 0 THEN NULL ELSE b.start + interval '3 minutes' END,
                CASE WHEN b.id % 8 = 0 THEN NULL ELSE b."end" + make_interval(mins => (b.id % 21)::int - 15) END,
                CASE WHEN b.id % 8 = 0 THEN true WHEN b.id % 29 = 0 THEN NULL ELSE false END,
                now()
            FROM bookings_booking b
            """
        )
        cursor.execute("VACUUM ANALYZE utilisation_roomslot")
        cursor.execute("VACUUM ANALYZE utilisation_bookinguse")
        cursor.execute("VACUUM ANALYZE bookings_booking")
    return campus, buildings[1], schools[0], created[1], slots, bookings


def kept_world():
    """Return what ``build_world`` returned, from a database it built before."""
    from bookings.models import Booking
    from campus.models import Building, Campus, Institution, Room
    from utilisation.models import RoomSlot

    campus = Campus.objects.get(name="Bench Campus")
    return (
        campus,
        Building.objects.get(campus=campus, code="B"),
        Institution.objects.get(campus=campus, short_code="s0"),
        Room.objects.get(building__campus=campus, code="R001"),
        RoomSlot.objects.filter(campus=campus).count(),
        Booking.objects.filter(campus=campus).count(),
    )


def print_cpu(cases: dict, runs: int) -> None:
    """Print the p50 CPU seconds of each case run without parallel workers: the database backend's and Python's."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SET max_parallel_workers_per_gather = 0")
        cursor.execute("SELECT pg_backend_pid()")
        (backend,) = cursor.fetchone()
    ticks = os.sysconf("SC_CLK_TCK")

    def backend_cpu() -> float:
        fields = Path(f"/proc/{backend}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / ticks  # utime, stime

    spent: dict[str, list[tuple[float, float]]] = {name: [] for name in cases}
    for _run in range(runs):
        for name, action in cases.items():
            database, python = backend_cpu(), time.process_time()
            action()
            spent[name].append((backend_cpu() - database, time.process_time() - python))
    print(f"\n{'case':<12} {'CPU s, no parallel workers: database':>38} {'Python':>7} {'× reference':>12}")
    reference = statistics.median(database + python for database, python in spent["reference"])
    for name, values in spent.items():
        database = statistics.median(d for d, _ in values)
        python = statistics.median(p for _, p in values)
        print(f"{name:<12} {database:38.2f} {python:7.2f} {(database + python) / reference:12.1f}")
    with connection.cursor() as cursor:
        cursor.execute("RESET max_parallel_workers_per_gather")


def timed(action) -> float:
    started = time.perf_counter()
    action()
    return time.perf_counter() - started


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rooms", type=int, default=200)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--database", "--database-name", default=BENCH_DATABASE, help="the throwaway database's name")
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    parser.add_argument("--reuse", action="store_true", help="measure a database kept by --keep without building it")
    parser.add_argument("--profile", action="store_true", help="print where one campus report spends its time")
    parser.add_argument("--build-only", action="store_true", help="build the database and keep it; measure nothing")
    parser.add_argument(
        "--cpu",
        action="store_true",
        help="also measure each case's CPU seconds without parallel workers: the database backend's (read from "
        "/proc: the server must run on this machine) and this process's; steadier than wall time on a shared machine",
    )
    parser.add_argument(
        "--from-slots",
        action="store_true",
        help="make the room days out of date first, so the reports read slots alone (as before room days; the next "
        "run counts them again)",
    )
    args = parser.parse_args(argv)

    url = open_throwaway(args.database, fresh=not args.reuse)
    from django.core.management import call_command
    from django.db import connection, connections

    from campus.models import Room
    from utilisation import room_days
    from utilisation.metrics import heatmap, utilisation_report
    from utilisation.models import RollupState
    from utilisation.results import Period, Season

    try:
        started = time.perf_counter()
        if args.reuse:
            campus, building, school, room, slots, bookings = kept_world()
        else:
            call_command("migrate", verbosity=0)
            campus, building, school, room, slots, bookings = build_world(args.rooms)
        built = time.perf_counter() - started
        # What the rollup runs do before reports read room days: count the room days of every slot row, a week
        # of days at a time (one call each here; a run does as many as its time allows).
        weeks: list[float] = []
        counted = None
        while not room_days.current():
            week = time.perf_counter()
            counted = (counted or 0) + (room_days.bring_up_to_date(deadline=0.0) or 0)
            weeks.append(time.perf_counter() - week)
        campus_rooms = Room.objects.filter(building__campus=campus)
        print(
            f"{len(campus_rooms)} rooms, {slots:,} slot rows, {bookings:,} bookings with their use "
            f"(built in {built:.0f} s); PostgreSQL "
            f"{connection.cursor().connection.server_version}, {os.cpu_count()} CPUs, "
            f"load average {os.getloadavg()[0]:.1f}",
            flush=True,
        )
        if counted is not None:
            print(
                f"room days counted from the slots: {counted:,} rows in {sum(weeks):.1f} s, "
                f"{len(weeks)} weeks (longest {max(weeks):.2f} s, the least a rollup run spends on them)",
                flush=True,
            )
        if args.from_slots:
            # As a changed definition leaves them: every report reads the slots alone until the next rollup.
            RollupState.objects.update(days_key="")
            print("room days out of date: the reports read slots alone", flush=True)
        if args.build_only:
            return 0
        year = Period(FIRST_DAY, LAST_DAY, Season.ALL)

        def reference() -> None:
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT room_id, count(*), sum(occupied_seconds) FROM utilisation_roomslot "
                    "WHERE campus_id = %s AND start >= %s AND start < %s AND iso_weekday <= 5 "
                    "AND local_minute >= 480 AND local_minute < 960 GROUP BY room_id",
                    [
                        campus.pk,
                        dt.datetime(2025, 11, 30, 22, tzinfo=dt.UTC),
                        dt.datetime(2026, 11, 30, 22, tzinfo=dt.UTC),
                    ],
                )
                cursor.fetchall()

        cases = {
            "reference": reference,
            "campus": lambda: utilisation_report(campus=campus, period=year, now=NOW),
            "building": lambda: utilisation_report(campus=campus, period=year, building=building, now=NOW),
            "institution": lambda: utilisation_report(campus=campus, period=year, institution=school, now=NOW),
            "room": lambda: utilisation_report(campus=campus, period=year, room=room, now=NOW),
            "heatmap": lambda: heatmap(campus=campus, period=year, now=NOW),
        }
        if args.profile:
            import cProfile
            import pstats

            from django.test.utils import CaptureQueriesContext

            with CaptureQueriesContext(connection) as queries:
                cases["campus"]()
            print(f"\nthe {len(queries)} queries of a campus report, slowest first (s):")
            for query in sorted(queries.captured_queries, key=lambda q: -float(q["time"]))[:10]:
                print(f"{float(query['time']):7.3f}  {query['sql'][:150]}…")
            profiler = cProfile.Profile()
            profiler.runcall(cases["campus"])
            pstats.Stats(profiler).sort_stats("cumulative").print_stats("utilisation/(metrics|calendar)", 25)
        times: dict[str, list[float]] = {name: [] for name in cases}
        for run in range(args.runs):
            for name, action in cases.items():
                times[name].append(timed(action))
            print(f"run {run + 1}: " + ", ".join(f"{n} {t[-1]:.2f} s" for n, t in times.items()), flush=True)
        reference_p50 = statistics.median(times["reference"])
        print(f"\n{'case':<12} {'p50 s':>7} {'max s':>7} {'× reference':>12}")
        for name, values in times.items():
            p50 = statistics.median(values)
            print(f"{name:<12} {p50:7.2f} {max(values):7.2f} {p50 / reference_p50:12.1f}")
        if args.cpu:
            print_cpu(cases, args.runs)
        slow = {name: statistics.median(times[name]) for name in TARGET_CASES}
        print(
            f"\none-year reports of {len(campus_rooms)} rooms, p50: "
            + ", ".join(f"{name} {p50:.2f} s" for name, p50 in slow.items())
            + f" (target < {TARGET_SECONDS:.0f} s)"
        )
        return 0 if all(p50 < TARGET_SECONDS for p50 in slow.values()) else 1
    finally:
        connections.close_all()
        if not (args.keep or args.reuse or args.build_only):
            drop_throwaway(url, args.database)


if __name__ == "__main__":
    raise SystemExit(main())
