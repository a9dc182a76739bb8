"""Booking API under load: many clients book through ``POST /api/v1/bookings`` on gunicorn and PostgreSQL.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/kampus python bench/booking_api.py
    DATABASE_URL=... python bench/booking_api.py --clients 16 --seconds 30 --workers 4

Sets up its own throwaway database (``kampus_bench_api`` on the server of DATABASE_URL, dropped
afterwards), migrates it, builds a campus with a room per client, a staff member and an API token
per client, starts gunicorn (``--workers`` sync workers, DEBUG off) on a free loopback port, and runs:

1. **uncontended**: each client books consecutive 30-minute slots of its own room, one request at a
   time, for ``--seconds``;
2. **contended**: every client walks the same slots of one shared room, so each slot is won once
   and the others get 409;
3. **reference**: the same inserts (a booking row and its block, one transaction each) as bare SQL
   through psycopg2 from as many threads, for as long: what the database alone can do here.

With ``--year`` the database first gets the year of bench/year_of_bookings.py (1,000 rooms,
400,000 bookings and their blocks; ``--year-template`` copies a kept one) and the clients' rooms
are added to its campus, so every statement runs against a year's tables.

It prints, per phase, requests and bookings per second and the latency p50/p95/p99, the ratio of
the uncontended rate to the reference, and checks that no two active bookings overlap afterwards
(exit status 1 if they do, or if a request failed with anything but 201/409).
"""

from __future__ import annotations

import argparse
import datetime as dt
import http.client
import json
import os
import statistics
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit
from zoneinfo import ZoneInfo

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from bench.web_server import free_port, start_gunicorn  # noqa: E402

BENCH_DATABASE = "kampus_bench_api"
ZONE = ZoneInfo("Europe/Helsinki")
SLOT = dt.timedelta(minutes=30)
OPENS, CLOSES = dt.time(7), dt.time(21)


@dataclass
class Phase:
    """What one phase measured: per-request latencies (seconds) and the statuses answered."""

    name: str
    seconds: float = 0.0
    latencies: list[float] = field(default_factory=list)
    statuses: dict[int, int] = field(default_factory=dict)

    def record(self, status: int, latency: float) -> None:
        self.latencies.append(latency)
        self.statuses[status] = self.statuses.get(status, 0) + 1

    def percentile(self, fraction: float) -> float:
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))] * 1000 if ordered else float("nan")

    def line(self) -> str:
        booked = self.statuses.get(201, 0)
        rate = len(self.latencies) / self.seconds
        return (
            f"{self.name:<12} requests/s {rate:7.1f}   bookings/s {booked / self.seconds:7.1f}"
            f"   p50 {self.percentile(0.50):6.1f} ms   p95 {self.percentile(0.95):6.1f} ms"
            f"   p99 {self.percentile(0.99):6.1f} ms   statuses {dict(sorted(self.statuses.items()))}"
        )


def slots(first_day: dt.date):
    """Yield consecutive 30-minute slots inside opening hours (Mon–Fri 07–21, campus time)."""
    day = first_day
    while True:
        if day.weekday() < 5:
            start = dt.datetime.combine(day, OPENS, tzinfo=ZONE)
            while start.timetz().replace(tzinfo=None) < CLOSES:
                yield start, start + SLOT
                start += SLOT
        day += dt.timedelta(days=1)


def _database_url(url: str, name: str) -> str:
    return urlunsplit(urlsplit(url)._replace(path=f"/{name}"))


def _admin(url: str, sql: str) -> None:
    import psycopg2

    conn = psycopg2.connect(_database_url(url, "postgres"))
    conn.autocommit = True
    with conn.cursor() as cursor:
        cursor.execute(sql)
    conn.close()


def build_world(clients: int, *, in_year: bool = False) -> dict:
    """Return the rooms, users and tokens of a campus with a room and a staff member per client.

    ``in_year``: the campus, school and building A of the year already in the database (open
    07–21 on weekdays, with a policy allowing a year of bookings).
    """
    from api.tokens import token_create
    from bookings.models import BookingPolicy
    from campus.models import Building, Campus, Institution, InstitutionKind, Membership, OpeningHours, Role, Room, User

    if in_year:
        campus = Campus.objects.order_by("pk").first()
        school = Institution.objects.filter(campus=campus).order_by("pk").first()
        building = Building.objects.get(campus=campus, code="A")
    else:
        campus = Campus.objects.create(name="Bench Campus", time_zone=str(ZONE))
        school = Institution.objects.create(
            campus=campus, name="Bench School", short_code="bench", kind=InstitutionKind.UPPER_SECONDARY
        )
        building = Building.objects.create(campus=campus, code="A", name="Main building")
        for weekday in range(5):
            OpeningHours.objects.create(building=building, weekday=weekday, opens=OPENS, closes=CLOSES)
        # A load test books far more than a person's everyday quota.
        BookingPolicy.objects.create(campus=campus, max_active_bookings=1_000_000)
    rooms = [
        Room.objects.create(building=building, code=f"R{n:03d}", name=f"Room {n}", capacity=30, owner=school)
        for n in range(clients * 2 + 1)
    ]
    tokens = []
    for n in range(clients):
        user = User.objects.create_user(username=f"bench-{n}", password="bench-only-password-1")
        Membership.objects.create(user=user, institution=school, role=Role.STAFF)
        tokens.append(token_create(user=user, name="bench")[1])
    return {
        "campus": campus.pk,
        "institution": school.pk,
        "users": list(User.objects.filter(username__startswith="bench-").order_by("pk").values_list("pk", flat=True)),
        "rooms": [room.pk for room in rooms],
        "tokens": tokens,
    }


def run_clients(phase: Phase, *, port: int, tokens: list[str], plans: list, seconds: float) -> None:
    """Each client posts the bookings of its plan (an iterator of (room, start, end)) until time is up."""
    deadline = time.monotonic() + seconds
    lock = threading.Lock()
    barrier = threading.Barrier(len(tokens))

    def client(token: str, plan) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json", "Host": "127.0.0.1"}
        barrier.wait()
        while time.monotonic() < deadline:
            room, start, end = next(plan)
            body = json.dumps({"room": room, "title": "Bench", "start": start.isoformat(), "end": end.isoformat()})
            began = time.perf_counter()
            conn.request("POST", "/api/v1/bookings", body=body, headers=headers)
            response = conn.getresponse()
            response.read()
            with lock:
                phase.record(response.status, time.perf_counter() - began)
        conn.close()

    threads = [threading.Thread(target=client, args=(t, p)) for t, p in zip(tokens, plans, strict=True)]
    began = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    phase.seconds = time.monotonic() - began


def _cpu_seconds(pid: int) -> float:
    """Return the CPU time (user + system) process ``pid`` has used, from /proc (0 if it is gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def cpu_of(server: subprocess.Popen, url: str) -> dict[str, float]:
    """Return the CPU seconds used so far by gunicorn's workers and by the PostgreSQL backends serving the
    benchmark database: counted per booking, they say what a booking costs whatever else the machine runs."""
    import psycopg2

    children = Path(f"/proc/{server.pid}/task/{server.pid}/children").read_text().split()
    conn = psycopg2.connect(_database_url(url, "postgres"))
    with conn.cursor() as cursor:
        cursor.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()", [BENCH_DATABASE]
        )
        backends = [pid for (pid,) in cursor.fetchall()]
    conn.close()
    return {
        "web": sum(_cpu_seconds(int(pid)) for pid in [server.pid, *children]),
        "database": sum(_cpu_seconds(pid) for pid in backends),
    }


def own_room_plan(room: int, first_day: dt.date):
    for start, end in slots(first_day):
        yield room, start, end


def reference(url: str, world: dict, *, clients: int, seconds: float, first_day: dt.date) -> Phase:
    """Insert a booking and its block per transaction with bare SQL, one thread and room per client."""
    import psycopg2

    phase = Phase("reference")
    deadline = time.monotonic() + seconds
    lock = threading.Lock()
    barrier = threading.Barrier(clients)
    rooms = world["rooms"][clients : 2 * clients]

    def client(index: int) -> None:
        conn = psycopg2.connect(url)
        barrier.wait()
        for start, end in slots(first_day):
            if time.monotonic() >= deadline:
                break
            began = time.perf_counter()
            with conn, conn.cursor() as cursor:
                cursor.execute(
                    "INSERT INTO bookings_booking (campus_id, room_id, title, description, purpose, booked_by_id,"
                    " institution_id, on_behalf_of_name, on_behalf_of_contact, on_behalf_of_organisation, start,"
                    ' "end", visibility, status, decision_reason, sequence, created_at, updated_at)'
                    " VALUES (%s, %s, 'Bench', '', 'teaching', %s, %s, '', '', '', %s, %s, 'institution',"
                    " 'confirmed', '', 0, now(), now()) RETURNING id",
                    (world["campus"], rooms[index], world["users"][index], world["institution"], start, end),
                )
                booking_id = cursor.fetchone()[0]
                cursor.execute(
                    "INSERT INTO bookings_bookingblock (booking_id, part_id, start, blocked_until)"
                    " VALUES (%s, %s, %s, %s)",
                    (booking_id, rooms[index], start, end),
                )
            with lock:
                phase.record(201, time.perf_counter() - began)
        conn.close()

    threads = [threading.Thread(target=client, args=(i,)) for i in range(clients)]
    began = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    phase.seconds = time.monotonic() - began
    return phase


def main(argv: list[str] | None = None) -> int:
    global BENCH_DATABASE
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--workers", type=int, default=4, help="gunicorn sync workers")
    parser.add_argument("--database-name", default=BENCH_DATABASE)
    parser.add_argument(
        "--year", action="store_true", help="with the year of bench/year_of_bookings.py in the database"
    )
    parser.add_argument("--year-template", default=None, help="with --year: copy the year from this kept database")
    args = parser.parse_args(argv)
    BENCH_DATABASE = args.database_name

    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith(("postgres://", "postgresql://")):
        raise SystemExit("set DATABASE_URL=postgres://… (the benchmark measures Kampus on PostgreSQL)")
    if args.year:
        from bench.year_of_bookings import open_year_database

        url, _year = open_year_database(BENCH_DATABASE, template=args.year_template)
        bench_url = os.environ["DATABASE_URL"]
    else:
        _admin(url, f'DROP DATABASE IF EXISTS "{BENCH_DATABASE}" WITH (FORCE)')
        _admin(url, f'CREATE DATABASE "{BENCH_DATABASE}"')
        bench_url = _database_url(url, BENCH_DATABASE)
        os.environ["DATABASE_URL"] = bench_url
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "campus.settings")
        os.environ.setdefault("SECRET_KEY", "bench-only-secret-key-not-for-production-0123456789")

        import django

        django.setup()
    from django.core.management import call_command
    from django.db import connections

    server = None
    try:
        call_command("migrate", verbosity=0)
        world = build_world(args.clients, in_year=args.year)
        connections.close_all()
        port = free_port()
        server = start_gunicorn(args.workers, port)
        first_day = dt.datetime.now(ZONE).date() + dt.timedelta(days=7)
        tokens = world["tokens"]
        print(f"clients {args.clients}, gunicorn {args.workers} sync workers, {args.seconds:.0f} s per phase")

        # A few requests first, so that every worker holds its database connection when the CPU count starts.
        warm = Phase("warm-up")
        warm_day = first_day + dt.timedelta(days=200)  # far from the slots the phases book
        warm_plans = [own_room_plan(room, warm_day) for room in world["rooms"][: args.clients]]
        run_clients(warm, port=port, tokens=tokens, plans=warm_plans, seconds=1)
        uncontended = Phase("uncontended")
        plans = [own_room_plan(room, first_day) for room in world["rooms"][: args.clients]]
        cpu_before = cpu_of(server, url)
        run_clients(uncontended, port=port, tokens=tokens, plans=plans, seconds=args.seconds)
        cpu_after = cpu_of(server, url)
        print(uncontended.line())
        booked = max(uncontended.statuses.get(201, 0), 1)
        web, database = ((cpu_after[k] - cpu_before[k]) / booked * 1000 for k in ("web", "database"))
        print(
            f"CPU per uncontended booking: web {web:.1f} ms, database {database:.1f} ms"
            f" (at most {os.cpu_count() * 1000 / (web + database):.0f} bookings/s on {os.cpu_count()} idle cores)"
        )

        contended = Phase("contended")
        shared = world["rooms"][-1]
        plans = [own_room_plan(shared, first_day) for _ in tokens]
        run_clients(contended, port=port, tokens=tokens, plans=plans, seconds=args.seconds)
        print(contended.line())

        ref = reference(bench_url, world, clients=args.clients, seconds=args.seconds, first_day=first_day)
        print(ref.line())
        rate = uncontended.statuses.get(201, 0) / uncontended.seconds
        ref_rate = len(ref.latencies) / ref.seconds
        print(f"uncontended / reference: {rate / ref_rate:.3f}")

        from bookings.services import active_overlaps_exist

        overlaps = active_overlaps_exist()
        unexpected = {
            s: n for phase in (uncontended, contended) for s, n in phase.statuses.items() if s not in (201, 409)
        }
        print(f"overlapping active bookings afterwards: {'YES' if overlaps else 'none'}; other statuses: {unexpected}")
        print(
            f"median over the phase: {statistics.median(uncontended.latencies) * 1000:.1f} ms per uncontended booking"
        )
        print(
            f"RESULT booking_api uncontended_bookings_per_s={rate:.1f} uncontended_p95_ms="
            f"{uncontended.percentile(0.95):.1f} contended_requests_per_s="
            f"{len(contended.latencies) / contended.seconds:.1f}"
            f" contended_p95_ms={contended.percentile(0.95):.1f} overlaps={int(overlaps)} web_cpu_ms={web:.1f}"
            f" database_cpu_ms={database:.1f} reference_per_s={ref_rate:.1f}"
        )
        return 1 if overlaps or unexpected else 0
    finally:
        if server is not None:
            server.terminate()
            server.wait(timeout=10)
        connections.close_all()
        _admin(url, f'DROP DATABASE IF EXISTS "{BENCH_DATABASE}" WITH (FORCE)')


if __name__ == "__main__":
    sys.exit(main())
