"""Where one ``POST /api/v1/bookings`` spends its time: queries listed, CPU profiled, in one process.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/kampus python bench/booking_profile.py
    DATABASE_URL=... python bench/booking_profile.py --bookings 300 --profile cprofile --top 40   # CPU time
    DATABASE_URL=... python bench/booking_profile.py --profile pyinstrument   # wall time, if pyinstrument is importable

Builds the same throwaway world as ``bench/booking_api.py`` (database ``kampus_bench_profile``,
dropped afterwards), then, with DEBUG off and the full middleware stack, sends the requests through
Django's test client (no HTTP server, no other process): first one one-off booking and one
40-occurrence series with every SQL statement listed, then ``--bookings`` one-off bookings timed
(mean and p50/p95 per request) and, with ``--profile``, profiled.
"""

from __future__ import annotations

import argparse
import cProfile
import datetime as dt
import io
import json
import os
import pstats
import statistics
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from bench.booking_api import ZONE, _admin, _cpu_seconds, _database_url, build_world, slots  # noqa: E402

PROFILE_DATABASE = "kampus_bench_profile"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--bookings", type=int, default=200, help="one-off bookings to time (and profile)")
    parser.add_argument("--profile", choices=["none", "cprofile", "pyinstrument"], default="none")
    parser.add_argument("--top", type=int, default=35, help="functions to list per cProfile table")
    parser.add_argument("--sql-width", type=int, default=160, help="characters of each statement to print")
    args = parser.parse_args(argv)

    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith(("postgres://", "postgresql://")):
        raise SystemExit("set DATABASE_URL=postgres://… (the profile is taken on PostgreSQL)")
    _admin(url, f'DROP DATABASE IF EXISTS "{PROFILE_DATABASE}" WITH (FORCE)')
    _admin(url, f'CREATE DATABASE "{PROFILE_DATABASE}"')
    os.environ["DATABASE_URL"] = _database_url(url, PROFILE_DATABASE)
    os.environ.update(
        {"DEBUG": "0", "ALLOWED_HOSTS": "testserver", "SECURE_SSL_REDIRECT": "0", "KAMPUS_MANIFEST_STATIC": "0"}
    )
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "campus.settings")
    os.environ.setdefault("SECRET_KEY", "bench-only-secret-key-not-for-production-0123456789")
    os.environ.setdefault("LOG_LEVEL", "ERROR")

    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection, connections
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    try:
        call_command("migrate", verbosity=0)
        world = build_world(2)
        client = Client(headers={"Authorization": f"Bearer {world['tokens'][0]}"})
        first_day = dt.datetime.now(ZONE).date() + dt.timedelta(days=7)
        plan = slots(first_day)

        def post(room: int, start: dt.datetime, end: dt.datetime, **extra: object) -> int:
            body = {"room": room, "title": "Profiled", "start": start.isoformat(), "end": end.isoformat(), **extra}
            return client.post("/api/v1/bookings", json.dumps(body), content_type="application/json").status_code

        series_day = first_day + dt.timedelta(days=150)
        for label, room, start, extra in (
            ("one-off", world["rooms"][0], next(plan)[0], {}),
            ("40-occurrence series", world["rooms"][1], dt.datetime.combine(series_day, dt.time(8), ZONE), {}),
        ):
            if label.startswith("40"):
                extra = {"rrule": "FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR;COUNT=40"}
            with CaptureQueriesContext(connection) as queries:
                status = post(room, start, start + dt.timedelta(minutes=30), **extra)
            print(f"{label}: status {status}, {len(queries.captured_queries)} queries")
            for number, query in enumerate(queries.captured_queries, 1):
                print(f"  {number:2d}. {query['sql'][: args.sql_width]}")

        post(world["rooms"][0], *next(plan))  # warm: the first request loads templates, translations, caches
        latencies = []
        # CPU time, not wall time: on a shared machine the waits say more about the neighbours than about Kampus.
        profiler = cProfile.Profile(time.process_time) if args.profile == "cprofile" else None
        if args.profile == "pyinstrument":
            from pyinstrument import Profiler

            profiler = Profiler(interval=0.0005)
        if profiler is not None:
            profiler.enable() if args.profile == "cprofile" else profiler.start()
        connection.ensure_connection()
        backend = connection.connection.get_backend_pid()  # the PostgreSQL process serving this one
        cpu_began, backend_began = time.process_time(), _cpu_seconds(backend)
        for _ in range(args.bookings):
            start, end = next(plan)
            began = time.perf_counter()
            status = post(world["rooms"][0], start, end)
            latencies.append(time.perf_counter() - began)
            assert status == 201, status
        cpu = time.process_time() - cpu_began
        backend_cpu = _cpu_seconds(backend) - backend_began
        if args.profile == "cprofile":
            profiler.disable()
        elif args.profile == "pyinstrument":
            profiler.stop()
        ordered = sorted(latencies)
        print(
            f"{args.bookings} one-off bookings in one process: mean {statistics.mean(latencies) * 1000:.2f} ms,"
            f" p50 {ordered[len(ordered) // 2] * 1000:.2f} ms, p95 {ordered[int(len(ordered) * 0.95)] * 1000:.2f} ms,"
            f" this process's CPU {cpu / args.bookings * 1000:.2f} ms per booking,"
            f" its PostgreSQL backend's {backend_cpu / args.bookings * 1000:.2f} ms"
            + (" (profiled: slower than unprofiled)" if profiler is not None else "")
        )
        if args.profile == "cprofile":
            out = io.StringIO()
            stats = pstats.Stats(profiler, stream=out)
            stats.sort_stats("cumulative").print_stats(args.top)
            stats.sort_stats("tottime").print_stats(args.top)
            print(out.getvalue().replace(str(REPO) + "/", "").replace(sys.prefix + "/lib/", ""))
        elif args.profile == "pyinstrument":
            print(profiler.output_text(unicode=True, color=False, show_all=False))
        return 0
    finally:
        connections.close_all()
        _admin(url, f'DROP DATABASE IF EXISTS "{PROFILE_DATABASE}" WITH (FORCE)')


if __name__ == "__main__":
    sys.exit(main())
