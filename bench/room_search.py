"""Free-room search with a year of bookings: ``GET /api/v1/rooms`` and the "find a room" page.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/kampus python bench/room_search.py
    DATABASE_URL=... python bench/room_search.py --searches 300 --database-name kampus_bench_search_x

Sets up its own throwaway database with the year of bench/year_of_bookings.py (1,000 rooms,
400,000 bookings; ``--year-template`` copies a kept one instead of building it), starts gunicorn
(``--workers`` sync workers, DEBUG off) on a free loopback port and, one request at a time as a
person searching does, asks for the rooms free for two hours at ``--searches`` different moments
of the coming months (weekdays 08:00–19:00, on the hour or the half hour), each with a capacity
and equipment filter drawn from a fixed list:

1. **API**: ``GET /api/v1/rooms?free_from=…&free_to=…&capacity_min=…&equipment=…`` with a token;
2. **page**: ``GET /rooms/find/?date=…&start=…&duration=120&people=…&equipment=…`` signed in;
3. **reference**: what PostgreSQL alone takes here in the same run: a ``SELECT 1`` round trip, the
   bare SQL of the same question (bookable rooms with the capacity and every item, and no block on
   the room or its sections in the slot; no opening hours, closures or buffers) for every search,
   and gunicorn's round trip for ``/healthz``.

Prints p50/p95/p99 of each, the CPU time gunicorn used per search (from /proc: steadier than
the latency on a shared machine), the rooms found, and the statements one search makes; target:
API p95 < 50 ms. Exit status 1 if any request answered other than 200.
"""

from __future__ import annotations

import argparse
import datetime as dt
import http.client
import random
import statistics
import sys
import time
from pathlib import Path
from urllib.parse import urlencode

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from bench.throwaway_database import drop_throwaway  # noqa: E402
from bench.web_server import cpu_seconds, free_port, percentile, start_gunicorn, stop  # noqa: E402
from bench.year_of_bookings import ZONE, open_year_database  # noqa: E402

DATABASE_NAME = "kampus_bench_search"
CAPACITIES = (None, 10, 20, 30, 50, 100)
EQUIPMENT = ((), ("projector",), ("projector", "whiteboard"), ("display", "video-conference"), ("sinks",))
SLOT = dt.timedelta(hours=2)
TARGET_P95_MS = 50.0


def searches(count: int, *, first_day: dt.date, last_day: dt.date, seed: int = 2026) -> list[tuple]:
    """Return ``count`` (start, end, capacity or None, equipment codes) on weekdays between the two days."""
    rng = random.Random(seed)
    days = [first_day + dt.timedelta(days=n) for n in range((last_day - first_day).days)]
    days = [day for day in days if day.weekday() < 5]
    found = []
    for _ in range(count):
        day = rng.choice(days)
        start = dt.datetime.combine(day, dt.time(rng.randint(8, 18), rng.choice((0, 30))), tzinfo=ZONE)
        found.append((start, start + SLOT, rng.choice(CAPACITIES), rng.choice(EQUIPMENT)))
    return found


def api_path(start: dt.datetime, end: dt.datetime, capacity: int | None, equipment: tuple[str, ...]) -> str:
    query = [("free_from", start.isoformat()), ("free_to", end.isoformat()), ("limit", "100")]
    if capacity:
        query.append(("capacity_min", str(capacity)))
    query += [("equipment", code) for code in equipment]
    return f"/api/v1/rooms?{urlencode(query)}"


def page_path(start: dt.datetime, end: dt.datetime, capacity: int | None, equipment: tuple[str, ...]) -> str:
    query = [("date", start.date().isoformat()), ("start", start.strftime("%H:%M")), ("duration", "120")]
    if capacity:
        query.append(("people", str(capacity)))
    query += [("equipment", code) for code in equipment]
    return f"/rooms/find/?{urlencode(query)}"


def searcher() -> tuple[str, str]:
    """Create a staff member; return an API token and a signed-in session's key for them."""
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.sessions.backends.db import SessionStore

    from api.tokens import token_create
    from campus.models import Institution, Membership, Role, User

    user = User.objects.create_user(username="bench-searcher", password="bench-only-password-1")
    Membership.objects.create(user=user, institution=Institution.objects.order_by("pk").first(), role=Role.STAFF)
    token = token_create(user=user, name="bench")[1]
    session = SessionStore()
    session[SESSION_KEY] = str(user.pk)
    session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    session[HASH_SESSION_KEY] = user.get_session_auth_hash()
    session.create()
    return token, session.session_key


def timed_requests(port: int, paths: list[str], headers: dict[str, str]) -> tuple[list[float], dict[int, int], list]:
    """GET each path in turn on one connection; return latencies (ms), statuses and the bodies."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    latencies, statuses, bodies = [], {}, []
    for path in paths:
        began = time.perf_counter()
        conn.request("GET", path, headers={"Host": "127.0.0.1", **headers})
        response = conn.getresponse()
        body = response.read()
        latencies.append((time.perf_counter() - began) * 1000)
        statuses[response.status] = statuses.get(response.status, 0) + 1
        bodies.append(body)
    conn.close()
    return latencies, statuses, bodies


FREE_ROOMS_SQL = """
SELECT r.id FROM campus_room r
WHERE r.is_bookable AND r.capacity >= %(capacity)s
  AND (SELECT count(*) FROM campus_room_equipment re JOIN campus_equipment e ON e.id = re.equipment_id
       WHERE re.room_id = r.id AND e.code = ANY(%(codes)s)) = %(items)s
  AND coalesce((SELECT b.blocked_until FROM bookings_bookingblock b WHERE b.part_id = r.id AND b.start < %(end)s
                ORDER BY b.start DESC LIMIT 1) <= %(start)s, true)
  AND NOT EXISTS (
    SELECT 1 FROM campus_room_sections s
    WHERE s.from_room_id = r.id
      AND (SELECT b.blocked_until FROM bookings_bookingblock b WHERE b.part_id = s.to_room_id AND b.start < %(end)s
           ORDER BY b.start DESC LIMIT 1) > %(start)s)
"""


def reference(url: str, plan: list[tuple]) -> tuple[list[float], list[float], list[int]]:
    """Return the latencies (ms) of ``SELECT 1`` round trips and of the bare free-room SQL, and its row counts."""
    import psycopg2

    conn = psycopg2.connect(url)
    conn.autocommit = True
    trips, bare, counts = [], [], []
    with conn.cursor() as cursor:
        for _ in range(len(plan)):
            began = time.perf_counter()
            cursor.execute("SELECT 1")
            cursor.fetchone()
            trips.append((time.perf_counter() - began) * 1000)
        for start, end, capacity, equipment in plan:
            params = {"capacity": capacity or 1, "codes": list(equipment), "items": len(equipment)}
            began = time.perf_counter()
            cursor.execute(FREE_ROOMS_SQL, {**params, "start": start, "end": end})
            counts.append(len(cursor.fetchall()))
            bare.append((time.perf_counter() - began) * 1000)
    conn.close()
    return trips, bare, counts


def line(name: str, latencies: list[float], extra: str = "") -> str:
    return (
        f"{name:<34} p50 {percentile(latencies, 0.50):7.1f} ms   p95 {percentile(latencies, 0.95):7.1f} ms"
        f"   p99 {percentile(latencies, 0.99):7.1f} ms   {extra}"
    )


def statements_of(path: str, **headers: str) -> int:
    """Return how many statements one request makes, through Django's handler in this process."""
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        response = Client().get(path, headers=headers, secure=True)
    assert response.status_code == 200, response.status_code
    return len(captured.captured_queries)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--searches", type=int, default=200, help="searches per measurement")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn sync workers")
    parser.add_argument("--database-name", default=DATABASE_NAME)
    parser.add_argument("--year-template", default=None, help="copy the year from this kept database")
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    args = parser.parse_args(argv)

    import os

    os.environ["DEBUG"] = "0"
    os.environ.setdefault("ALLOWED_HOSTS", "127.0.0.1,testserver")
    os.environ["KAMPUS_MANIFEST_STATIC"] = "0"
    url, year = open_year_database(args.database_name, template=args.year_template)
    from django.conf import settings
    from django.db import connections

    server = None
    try:
        token, session_key = searcher()
        today = dt.datetime.now(ZONE).date()
        plan = searches(args.searches, first_day=today + dt.timedelta(days=1), last_day=year.last_day)
        api_paths = [api_path(*search) for search in plan]
        page_paths = [page_path(*search) for search in plan]
        api_headers = {"Authorization": f"Bearer {token}"}
        page_headers = {"Cookie": f"{settings.SESSION_COOKIE_NAME}={session_key}"}
        api_statements = statements_of(api_paths[0], **api_headers)
        page_statements = statements_of(page_paths[0], **page_headers)
        connections.close_all()

        port = free_port()
        server = start_gunicorn(args.workers, port)
        warm = searches(4 * args.workers, first_day=today + dt.timedelta(days=1), last_day=year.last_day, seed=1)
        timed_requests(port, [api_path(*s) for s in warm], api_headers)
        timed_requests(port, [page_path(*s) for s in warm], page_headers)
        print(f"{len(plan)} searches of a 2-hour slot, one at a time; gunicorn {args.workers} sync workers")

        cpu_before = cpu_seconds(server)
        api, api_statuses, bodies = timed_requests(port, api_paths, api_headers)
        api_cpu = (cpu_seconds(server) - cpu_before) / len(plan) * 1000
        import json

        found = [json.loads(body)["count"] for body in bodies if body.startswith(b"{")]
        print(
            line(
                "API GET /api/v1/rooms",
                api,
                f"web CPU {api_cpu:.0f} ms a search; rooms found: median {statistics.median(found):.0f};"
                f" {api_statements} statements; {api_statuses}",
            )
        )
        cpu_before = cpu_seconds(server)
        page, page_statuses, _bodies = timed_requests(port, page_paths, page_headers)
        page_cpu = (cpu_seconds(server) - cpu_before) / len(plan) * 1000
        print(
            line(
                "page GET /rooms/find/",
                page,
                f"web CPU {page_cpu:.0f} ms a search; {page_statements} statements; {page_statuses}",
            )
        )
        health, _statuses, _bodies = timed_requests(port, ["/healthz"] * len(plan), {})
        trips, bare, counts = reference(os.environ["DATABASE_URL"], plan)
        print(line("reference: SELECT 1 round trip", trips))
        print(line("reference: bare SQL free rooms", bare, f"rooms found: median {statistics.median(counts):.0f}"))
        print(line("reference: GET /healthz", health))
        p95 = percentile(api, 0.95)
        verdict = "met" if p95 < TARGET_P95_MS else "MISSED"
        print(f"target: API p95 < {TARGET_P95_MS:.0f} ms: {verdict} ({p95:.1f} ms)")
        print(f"RESULT room_search api_p95_ms={p95:.1f} api_cpu_ms={api_cpu:.1f}", end=" ")
        print(f"page_p95_ms={percentile(page, 0.95):.1f}", end=" ")
        print(f"bare_sql_p95_ms={percentile(bare, 0.95):.1f} select1_p50_ms={percentile(trips, 0.5):.2f}")
        bad = {s: n for statuses in (api_statuses, page_statuses) for s, n in statuses.items() if s != 200}
        return 1 if bad else 0
    finally:
        stop(server)
        connections.close_all()
        if not args.keep:
            drop_throwaway(url, args.database_name)


if __name__ == "__main__":
    sys.exit(main())
