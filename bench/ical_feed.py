"""A room's calendar feed with a year of bookings: time to produce the feed, and to answer 304.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/kampus python bench/ical_feed.py
    DATABASE_URL=... python bench/ical_feed.py --repeat 50

Sets up its own throwaway database (``kampus_bench_ical`` on the server of DATABASE_URL, dropped
afterwards), migrates it and books one classroom through the booking services as a school would:
a weekly lesson in each of six periods of every weekday for a year (30 series, 52 weeks each),
an evening booking now and then, and the everyday exceptions (cancelled, moved and retitled
lessons, a released one). The bookings start 70 days in the past (the services are given that
"now"), so the feed's window, 60 days back to 400 ahead, is full.

With ``--year`` the classroom is room ``A100`` of the year of bench/year_of_bookings.py (1,000
rooms and 400,000 other bookings in the same tables; ``--year-template`` copies a kept year
instead of building it), so the feed's queries run against a full year's tables.

Then it fetches the room's feed through Django's request handling (every middleware, DEBUG off,
in this process: no network) as a calendar client does, and prints, each as median and p95 over
``--repeat`` requests: a full GET (the feed built), a conditional GET answered 304, and a HEAD;
with the queries each took, the feed's size, its VEVENTs and the occurrences they expand to; and
as the reference, what PostgreSQL alone takes here in the same run: a ``SELECT 1`` round trip and
reading the room's bookings of the feed's window with bare SQL. Targets: under 250 ms for the
feed, under 20 ms for the 304 (median).
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import statistics
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit
from zoneinfo import ZoneInfo

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

BENCH_DATABASE = "kampus_bench_ical"
ZONE = ZoneInfo("Europe/Helsinki")
PERIODS = [(8, 15), (9, 15), (10, 15), (12, 0), (13, 0), (14, 0)]  # 45-minute lessons
WEEKS = 52
FEED_ROOM = "A100"  # the room bench/year_of_bookings.py leaves empty


def _database_url(url: str, name: str) -> str:
    return urlunsplit(urlsplit(url)._replace(path=f"/{name}"))


def _admin(url: str, sql: str) -> None:
    import psycopg2

    conn = psycopg2.connect(_database_url(url, "postgres"))
    conn.autocommit = True
    with conn.cursor() as cursor:
        cursor.execute(sql)
    conn.close()


def _exists(url: str) -> bool:
    import psycopg2

    conn = psycopg2.connect(_database_url(url, "postgres"))
    with conn.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [BENCH_DATABASE])
        found = cursor.fetchone() is not None
    conn.close()
    return found


def build_year(room=None):
    """Book a classroom (``room``, or a new one on a campus of its own) for a school year and a bit;
    return the room, its teacher and how many bookings were made."""
    from bookings import services
    from bookings.models import BookingPolicy
    from campus.models import Building, Campus, Institution, InstitutionKind, Membership, OpeningHours, Role, Room, User

    if room is None:
        campus = Campus.objects.create(name="Bench Campus", time_zone=str(ZONE))
        school = Institution.objects.create(
            campus=campus, name="Bench School", short_code="bench", kind=InstitutionKind.UPPER_SECONDARY
        )
        building = Building.objects.create(campus=campus, code="A", name="Main building")
        for weekday in range(5):
            OpeningHours.objects.create(building=building, weekday=weekday, opens=dt.time(7), closes=dt.time(21))
        BookingPolicy.objects.create(
            campus=campus, max_active_bookings=1_000_000, max_advance_days=400, owner_window_days=400
        )
        room = Room.objects.create(building=building, code="A101", name="Luokka 101", capacity=30, owner=school)
    else:  # the year's campus has the policy and the opening hours; the school owns the room
        school = Institution.objects.filter(campus=room.building.campus).order_by("pk").first()
        Room.objects.filter(pk=room.pk).update(owner=school)
        room.refresh_from_db()
    teacher = User.objects.create_user(username="bench-teacher", password="bench-only-password-1")
    Membership.objects.create(user=teacher, institution=school, role=Role.STAFF)

    now = dt.datetime.now(ZONE) - dt.timedelta(days=70)
    monday = now.date() + dt.timedelta(days=7 - now.weekday())
    series = []
    for weekday in range(5):
        for number, (hour, minute) in enumerate(PERIODS):
            start = dt.datetime.combine(monday + dt.timedelta(days=weekday), dt.time(hour, minute), tzinfo=ZONE)
            result = services.booking_create(
                room=room,
                booked_by=teacher,
                title=f"Kurssi {weekday + 1}.{number + 1}: äidinkieli, ryhmä {number}",
                start=start,
                end=start + dt.timedelta(minutes=45),
                rrule=f"FREQ=WEEKLY;COUNT={WEEKS}",
                now=now,
            )
            series.append(result.bookings)
    singles = 0
    for week in range(0, WEEKS, 2):
        day = monday + dt.timedelta(weeks=week, days=week % 5)
        start = dt.datetime.combine(day, dt.time(17), tzinfo=ZONE)
        services.booking_create(
            room=room, booked_by=teacher, title="Iltatilaisuus", start=start, end=start + dt.timedelta(hours=2), now=now
        )
        singles += 1
    # Everyday exceptions, on lessons still ahead (the services refuse to change the past).
    ahead = [lessons[-20:] for lessons in series]
    for index, lessons in enumerate(ahead):
        services.booking_cancel(booking=lessons[index % 20], actor=teacher)
        if index % 3 == 0:
            services.booking_update(booking=lessons[(index + 5) % 20], actor=teacher, title="Koe")
        if index % 5 == 0:
            moved = lessons[(index + 9) % 20]
            evening = dt.datetime.combine(moved.start.astimezone(ZONE).date(), dt.time(19, 15), tzinfo=ZONE)
            services.booking_update(booking=moved, actor=teacher, start=evening)
    return room, teacher, sum(len(lessons) for lessons in series) + singles


def timed(call, repeat: int) -> tuple[list[float], list[float], object]:
    """Run ``call`` ``repeat`` times; return wall-clock and this process's CPU seconds of each, and the last result.

    The CPU time leaves out waiting (for PostgreSQL, or for other processes on a busy machine).
    """
    walls, cpus, last = [], [], None
    for _ in range(repeat):
        began, began_cpu = time.perf_counter(), time.process_time()
        last = call()
        walls.append(time.perf_counter() - began)
        cpus.append(time.process_time() - began_cpu)
    return walls, cpus, last


def _p95(walls: list[float]) -> float:
    ordered = sorted(walls)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


def reference(room_id: int, *, window_days: tuple[int, int], repeat: int) -> tuple[list[float], tuple]:
    """Time ``SELECT 1`` round trips and reading the room's bookings of the feed's window with bare SQL."""
    import psycopg2

    conn = psycopg2.connect(os.environ["DATABASE_URL"])
    conn.autocommit = True
    trips, reads, count = [], [], 0
    with conn.cursor() as cursor:
        for _ in range(repeat):
            began = time.perf_counter()
            cursor.execute("SELECT 1")
            cursor.fetchone()
            trips.append(time.perf_counter() - began)
        for _ in range(repeat):
            began = time.perf_counter()
            cursor.execute(
                'SELECT id, series_id, recurrence_id, title, start, "end", status, sequence, updated_at'
                " FROM bookings_booking WHERE room_id = %s AND start < now() + %s * interval '1 day'"
                " AND \"end\" > now() - %s * interval '1 day'",
                [room_id, window_days[1], window_days[0]],
            )
            count = len(cursor.fetchall())
            reads.append(time.perf_counter() - began)
    conn.close()
    return trips, (reads, count)


def line(name: str, measured: tuple[list[float], list[float], object], queries: int) -> str:
    walls, cpus, _last = measured
    ordered = sorted(walls)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return (
        f"{name:<22} median {statistics.median(walls) * 1000:7.1f} ms   p95 {p95 * 1000:7.1f} ms   "
        f"(CPU here: median {statistics.median(cpus) * 1000:6.1f} ms)   {queries} queries"
    )


def main(argv: list[str] | None = None) -> int:
    global BENCH_DATABASE
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=30, help="requests per measurement")
    parser.add_argument("--profile", action="store_true", help="print where a full GET spends its time")
    parser.add_argument(
        "--keep", action="store_true", help="keep the database afterwards, and reuse it if a kept one is there"
    )
    parser.add_argument("--database-name", default=BENCH_DATABASE)
    parser.add_argument("--year", action="store_true", help="book room A100 of the year of bench/year_of_bookings.py")
    parser.add_argument("--year-template", default=None, help="with --year: copy the year from this kept database")
    args = parser.parse_args(argv)
    BENCH_DATABASE = args.database_name

    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith(("postgres://", "postgresql://")):
        raise SystemExit("set DATABASE_URL=postgres://… (the benchmark measures Kampus on PostgreSQL)")
    os.environ["DEBUG"] = "0"
    os.environ["ALLOWED_HOSTS"] = "testserver"
    os.environ["KAMPUS_MANIFEST_STATIC"] = "0"
    os.environ.setdefault("LOG_LEVEL", "WARNING")  # not a request-log line per measured request
    reuse = args.keep and _exists(url)
    if args.year and not reuse:
        from bench.year_of_bookings import open_year_database

        url, _year = open_year_database(BENCH_DATABASE, template=args.year_template)
    else:
        if not reuse:
            _admin(url, f'DROP DATABASE IF EXISTS "{BENCH_DATABASE}" WITH (FORCE)')
            _admin(url, f'CREATE DATABASE "{BENCH_DATABASE}"')
        os.environ["DATABASE_URL"] = _database_url(url, BENCH_DATABASE)
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "campus.settings")
        os.environ.setdefault("SECRET_KEY", "bench-only-secret-key-not-for-production-0123456789")

        import django

        django.setup()
    from django.core.management import call_command
    from django.db import connection, connections
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from icalendar import Calendar

    from bookings import feeds
    from bookings.models import FeedKind

    try:
        call_command("migrate", verbosity=0)
        if reuse:
            from bookings.models import Booking
            from campus.models import Room, User

            room = Room.objects.get(code=FEED_ROOM if args.year else "A101", building__code="A")
            teacher = User.objects.get(username="bench-teacher")
            print(f"reusing the kept database: {Booking.objects.count()} bookings")
        else:
            began = time.perf_counter()
            from campus.models import Room

            room = Room.objects.get(code=FEED_ROOM, building__code="A") if args.year else None
            room, teacher, booked = build_year(room)
            print(f"booked {booked} bookings of one room through the services in {time.perf_counter() - began:.0f} s")
        path = feeds.feed_path(owner=teacher, feed=feeds.Feed(kind=FeedKind.ROOM, target=room), language="fi")
        client = Client()  # a calendar client: no cookie, the address only

        def get(**headers):
            return client.get(path, secure=True, headers=headers)

        began = time.perf_counter()
        first = get()
        print(f"first GET (cold caches) {(time.perf_counter() - began) * 1000:.1f} ms, HTTP {first.status_code}")
        assert first.status_code == 200, first.status_code
        calendar = Calendar.from_ical(first.content)
        events = calendar.walk("VEVENT")
        print(
            f"feed: {len(first.content) / 1024:.0f} KiB, {len(events)} VEVENTs "
            f"({sum('RRULE' in e for e in events)} series, {sum('RECURRENCE-ID' in e for e in events)} overrides)"
        )
        try:
            import recurring_ical_events

            window = feeds.feed_window(today=dt.datetime.now(ZONE).date(), zone=ZONE)
            expanded = recurring_ical_events.of(calendar).between(window.start, window.end)
            print(f"occurrences in the window (recurring-ical-events): {len(expanded)}")
        except ImportError:
            pass

        with CaptureQueriesContext(connection) as captured:
            get()
        full_queries = len(captured.captured_queries)  # now: the next request empties the log
        measured = timed(get, args.repeat)
        print(line("GET, feed built", measured, full_queries))
        full = measured
        response = measured[2]

        if args.profile:
            import cProfile
            import pstats

            profiler = cProfile.Profile()
            profiler.runcall(get)
            pstats.Stats(profiler).sort_stats("cumulative").print_stats(40)

        etag = response["ETag"]
        with CaptureQueriesContext(connection) as captured:
            assert get(**{"If-None-Match": etag}).status_code == 304
        cached_queries = len(captured.captured_queries)
        measured = timed(lambda: get(**{"If-None-Match": etag}), args.repeat)
        assert measured[2].status_code == 304
        print(line("conditional GET, 304", measured, cached_queries))

        not_modified = measured
        measured = timed(lambda: client.head(path, secure=True), args.repeat)
        assert measured[2].status_code == 200
        print(line("HEAD", measured, full_queries))

        trips, rows = reference(room.pk, window_days=(60, 400), repeat=args.repeat)
        print(f"{'reference: SELECT 1':<22} median {statistics.median(trips) * 1000:7.2f} ms")
        print(
            f"{'reference: bare SQL':<22} median {statistics.median(rows[0]) * 1000:7.1f} ms"
            f"   (the room's {rows[1]} bookings of the feed's window, read with psycopg2)"
        )
        feed_median = statistics.median(full[0]) * 1000
        cached_median = statistics.median(not_modified[0]) * 1000
        verdict = "met" if feed_median < 250 and cached_median < 20 else "MISSED"
        print(f"targets: feed < 250 ms, 304 < 20 ms (medians): {verdict}")
        print(
            f"RESULT ical_feed get_median_ms={feed_median:.1f} get_p95_ms={_p95(full[0]) * 1000:.1f}"
            f" not_modified_median_ms={cached_median:.1f} not_modified_p95_ms={_p95(not_modified[0]) * 1000:.1f}"
            f" get_cpu_ms={statistics.median(full[1]) * 1000:.1f}"
            f" not_modified_cpu_ms={statistics.median(not_modified[1]) * 1000:.1f}"
            f" bare_sql_median_ms={statistics.median(rows[0]) * 1000:.1f} select1_median_ms="
            f"{statistics.median(trips) * 1000:.2f}"
        )
        return 0
    finally:
        connections.close_all()
        if not args.keep:
            _admin(url, f'DROP DATABASE IF EXISTS "{BENCH_DATABASE}" WITH (FORCE)')


if __name__ == "__main__":
    sys.exit(main())
