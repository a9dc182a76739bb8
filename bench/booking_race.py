"""Contested bookings: many writers try to book overlapping slots of one room at the same moment.

Benchmark (sets up and removes its own throwaway database; the DATABASE_URL names the server):

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/kampus python bench/booking_race.py --threads 16 --rounds 20
    python bench/booking_race.py --threads 16 --rounds 20            # SQLite, in a temporary file

On PostgreSQL the database ``kampus_bench`` is dropped and created on the same server; on SQLite a
temporary file is used. Every round starts ``--threads`` threads behind a barrier; thread ``i``
books [slot + 3·i min, +60 min), so every pair of attempts overlaps and exactly one may win. The
report counts attempts, winners, refusals (SlotTaken, by the service's check or by the database's
exclusion constraint), other errors and overlaps left in the database, and the throughput.
``--hall`` races the whole sports hall against its three sections instead (every fourth thread
books the whole hall): a round is right when one whole-hall booking won alone or each section
won once. ``--bypass-check`` switches the service's own overlap check off (the database
constraint alone must then refuse the losers; PostgreSQL only). The exit status is 1 when any
round went wrong, an attempt failed with another error, or overlaps were left.

Worker mode (used by tests/bookings/test_booking_race.py; the database and its rows must exist):

    DJANGO_SETTINGS_MODULE=tests.settings DATABASE_URL=... python bench/booking_race.py worker \
        --room 3 --user 5 --start 2030-01-08T08:00:00+02:00 --start ... --minutes 60 \
        --ready-file /tmp/x/ready-0 --go-file /tmp/x/go

writes ``--ready-file`` when connected, waits for ``--go-file``, tries each start in order and
prints one JSON list of outcomes on stdout.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import statistics
import sys
import tempfile
import threading
import time
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit
from zoneinfo import ZoneInfo

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

BENCH_DATABASE = "kampus_bench"
ZONE = ZoneInfo("Europe/Helsinki")
SLOT_MINUTES = 60
STEP_MINUTES = 3  # 16 threads x 3 min < 60 min: every pair of attempts overlaps


@dataclass
class Outcome:
    """What one booking attempt ended in: ``won``, ``taken`` (SlotTaken) or ``error``."""

    label: str
    start: str
    outcome: str
    booking: int | None = None
    via: str = ""  # for "taken": "check" (service's query) or "constraint" (PostgreSQL exclusion)
    conflicts: list[str] = field(default_factory=list)
    error: str = ""
    seconds: float = 0.0


def attempt(*, label: str, room: Any, user: Any, start: dt.datetime, end: dt.datetime) -> Outcome:
    """Call booking_create once and classify what happened (never raises)."""
    from django.db import IntegrityError

    from bookings.errors import SlotTaken
    from bookings.services import booking_create

    began = time.perf_counter()
    try:
        result = booking_create(room=room, booked_by=user, title=f"race {label}", start=start, end=end)
    except SlotTaken as error:
        via = "constraint" if isinstance(error.__cause__, IntegrityError) else "check"
        return Outcome(
            label,
            start.isoformat(),
            "taken",
            via=via,
            conflicts=[c["start"].isoformat() for c in error.conflicts],
            seconds=time.perf_counter() - began,
        )
    except Exception as error:  # anything else is a failure the caller reports
        return Outcome(
            label,
            start.isoformat(),
            "error",
            error=f"{type(error).__name__}: {error}",
            seconds=time.perf_counter() - began,
        )
    return Outcome(label, start.isoformat(), "won", booking=result.first.pk, seconds=time.perf_counter() - began)


# --- worker mode (one process of a multi-process race) -----------------------------------------


def worker(args: argparse.Namespace) -> int:
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.settings")
    django.setup()
    from django.db import connection

    from campus.models import Room, User

    room = Room.objects.select_related("building__campus").get(pk=args.room)
    user = User.objects.get(pk=args.user)
    Path(args.ready_file).write_text(str(os.getpid()))
    deadline = time.monotonic() + args.timeout
    go = Path(args.go_file)
    while not go.exists():
        if time.monotonic() > deadline:
            print(json.dumps({"error": "no go signal"}))
            return 2
        time.sleep(0.001)
    outcomes = []
    for raw in args.start:
        start = dt.datetime.fromisoformat(raw)
        end = start + dt.timedelta(minutes=args.minutes)
        outcomes.append(asdict(attempt(label=args.label, room=room, user=user, start=start, end=end)))
    connection.close()
    print(json.dumps(outcomes))
    return 0


# --- benchmark -------------------------------------------------------------------------------


def _replace_database(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{name}"))


def _admin_connection(url: str):
    import dj_database_url
    import psycopg2

    config = dj_database_url.parse(_replace_database(url, "postgres"))
    conn = psycopg2.connect(
        dbname="postgres",
        user=config["USER"] or None,
        password=config["PASSWORD"] or None,
        host=config["HOST"] or None,
        port=config["PORT"] or None,
    )
    conn.autocommit = True
    return conn


def _recreate_pg_database(url: str) -> None:
    conn = _admin_connection(url)
    with conn.cursor() as cursor:
        cursor.execute(f'DROP DATABASE IF EXISTS "{BENCH_DATABASE}" WITH (FORCE)')
        cursor.execute(f'CREATE DATABASE "{BENCH_DATABASE}"')
    conn.close()


def _drop_pg_database(url: str) -> None:
    conn = _admin_connection(url)
    with conn.cursor() as cursor:
        cursor.execute(f'DROP DATABASE IF EXISTS "{BENCH_DATABASE}" WITH (FORCE)')
    conn.close()


def first_race_day(today: dt.date) -> dt.date:
    """The first Tuesday at least three weeks after ``today``."""
    day = today + dt.timedelta(days=21)
    return day + dt.timedelta(days=(1 - day.weekday()) % 7)


def round_slot(first_day: dt.date, index: int) -> dt.datetime:
    """Slot of round ``index``: six per weekday (08, 10, …, 18 local), then the next weekday."""
    day = first_day
    for _ in range(index // 6):
        day += dt.timedelta(days=1)
        while day.weekday() >= 5:
            day += dt.timedelta(days=1)
    return dt.datetime.combine(day, dt.time(8 + 2 * (index % 6)), tzinfo=ZONE)


def build_world(users: int) -> tuple[Any, Any, list[int]]:
    """A campus with one plain room, a sports hall made of three sections and ``users`` staff members.

    The rounds spread their attempts over the users so that the per-user limit of active
    bookings (50 by default) never refuses one.
    """
    from campus.models import Building, Campus, Institution, InstitutionKind, Membership, OpeningHours, Role, Room, User

    campus = Campus.objects.create(name="Bench Campus", time_zone=str(ZONE))
    school = Institution.objects.create(
        campus=campus, name="Bench School", short_code="bench", kind=InstitutionKind.UPPER_SECONDARY
    )
    building = Building.objects.create(campus=campus, code="A", name="Main building")
    for weekday in range(5):
        OpeningHours.objects.create(building=building, weekday=weekday, opens=dt.time(7), closes=dt.time(21))
    room = Room.objects.create(building=building, code="A101", name="Contested room", capacity=30, owner=school)
    sections = [
        Room.objects.create(building=building, code=f"GYM-{n}", name=f"Hall section {n}", capacity=30, owner=school)
        for n in (1, 2, 3)
    ]
    hall = Room.objects.create(building=building, code="GYM", name="Sports hall", capacity=90, owner=school)
    hall.sections.set(sections)
    user_pks = []
    for index in range(users):
        user = User.objects.create_user(username=f"bench-{index}", password="bench-only-password-1")
        Membership.objects.create(user=user, institution=school, role=Role.STAFF)
        user_pks.append(user.pk)
    return room, hall, user_pks


def round_attempts(slot: dt.datetime, threads: int, *, room: Any, hall: Any) -> list[tuple[str, int, dt.datetime]]:
    """(label, room pk, start) per thread: the plain room, or (``hall``) the whole hall and its sections.

    Thread ``i`` starts 3·i minutes after the slot; with the hall, every fourth thread books the
    whole hall and the others sections 1, 2, 3 in turn.
    """
    attempts = []
    sections = list(hall.sections.order_by("pk")) if hall is not None else []
    for index in range(threads):
        start = slot + dt.timedelta(minutes=STEP_MINUTES * index)
        if hall is None:
            attempts.append(("room", room.pk, start))
        elif index % 4 == 0:
            attempts.append(("whole", hall.pk, start))
        else:
            attempts.append((f"section-{index % 4}", sections[index % 4 - 1].pk, start))
    return attempts


def round_is_right(outcomes: list[Outcome], *, hall: bool) -> bool:
    """One winner for the room; for the hall either one whole-hall booking or one booking per section."""
    winners = sorted(o.label for o in outcomes if o.outcome == "won")
    if not hall:
        return len(winners) == 1
    return winners == ["whole"] or winners == ["section-1", "section-2", "section-3"]


def run_round(*, attempts: list[tuple[str, int, dt.datetime]], user_pks: list[int]) -> tuple[list[Outcome], float]:
    """Start one thread per attempt (the i-th as ``user_pks[i]``) behind a barrier; return outcomes and seconds."""
    from django.db import connection

    from campus.models import Room, User

    barrier = threading.Barrier(len(attempts) + 1)
    outcomes: list[Outcome | None] = [None] * len(attempts)

    def run(index: int, label: str, room_pk: int, start: dt.datetime) -> None:
        try:
            room = Room.objects.select_related("building__campus").get(pk=room_pk)
            user = User.objects.get(pk=user_pks[index])
            barrier.wait(timeout=60)
            end = start + dt.timedelta(minutes=SLOT_MINUTES)
            outcomes[index] = attempt(label=label, room=room, user=user, start=start, end=end)
        finally:
            connection.close()

    workers = [threading.Thread(target=run, args=(i, *a)) for i, a in enumerate(attempts)]
    for thread in workers:
        thread.start()
    barrier.wait(timeout=60)
    began = time.perf_counter()
    for thread in workers:
        thread.join(timeout=120)
    elapsed = time.perf_counter() - began
    missing = [Outcome(str(i), "", "error", error="thread did not finish") for i, o in enumerate(outcomes) if o is None]
    return [o for o in outcomes if o is not None] + missing, elapsed


def bench(args: argparse.Namespace) -> int:
    url = os.environ.get("DATABASE_URL", "")
    on_postgres = url.startswith(("postgres://", "postgresql://"))
    tmp: tempfile.TemporaryDirectory[str] | None = None
    if on_postgres:
        _recreate_pg_database(url)
        os.environ["DATABASE_URL"] = _replace_database(url, BENCH_DATABASE)
    else:
        tmp = tempfile.TemporaryDirectory(prefix="kampus-bench-")
        os.environ["DATABASE_URL"] = f"sqlite:///{tmp.name}/bench.sqlite3"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "campus.settings")
    os.environ.setdefault("SECRET_KEY", "bench-only-secret-key-not-for-production-0123456789")
    os.environ.setdefault("LOG_LEVEL", "WARNING")

    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection, connections

    from bookings.models import ACTIVE_STATUSES, Booking
    from bookings.services import active_overlaps_exist

    try:
        call_command("migrate", verbosity=0, interactive=False)
        users = args.threads * -(-args.rounds // 40)  # at most 40 attempts per user
        room, hall, user_pks = build_world(users)
        if args.bypass_check:
            if not on_postgres:
                print("--bypass-check needs PostgreSQL: SQLite has no exclusion constraint.", file=sys.stderr)
                return 2
            from bookings.services import conflicts

            real = conflicts.find_conflicts

            def no_precheck(**kwargs: Any) -> Any:
                return real(**kwargs) if kwargs.get("exclude_booking_ids") else {}

            conflicts.find_conflicts = no_precheck
        first_day = first_race_day(dt.datetime.now(ZONE).date())
        outcomes: list[Outcome] = []
        elapsed = 0.0
        bad_rounds = 0
        for index in range(args.rounds):
            slot = round_slot(first_day, index)
            attempts = round_attempts(slot, args.threads, room=room, hall=hall if args.hall else None)
            first_user = index * args.threads
            round_users = [user_pks[(first_user + i) % users] for i in range(args.threads)]
            round_outcomes, seconds = run_round(attempts=attempts, user_pks=round_users)
            outcomes += round_outcomes
            elapsed += seconds
            if not round_is_right(round_outcomes, hall=args.hall):
                bad_rounds += 1
        kinds = Counter(o.outcome for o in outcomes)
        via = Counter(o.via for o in outcomes if o.outcome == "taken")
        errors = Counter(o.error.split(":")[0] for o in outcomes if o.outcome == "error")
        overlaps = active_overlaps_exist()
        active = Booking.objects.filter(status__in=ACTIVE_STATUSES).count()
        latencies = sorted(o.seconds for o in outcomes)
        report = {
            "database": connection.vendor,
            "threads": args.threads,
            "rounds": args.rounds,
            "target": "hall and sections" if args.hall else "one room",
            "bypass_check": args.bypass_check,
            "attempts": len(outcomes),
            "winners": kinds["won"],
            "refusals": kinds["taken"],
            "refused_by_check": via["check"],
            "refused_by_constraint": via["constraint"],
            "other_errors": kinds["error"],
            "error_kinds": dict(errors),
            "wrong_rounds": bad_rounds,
            "active_bookings": active,
            "overlaps_found": overlaps,
            "contested_seconds": round(elapsed, 3),
            "attempts_per_second": round(len(outcomes) / elapsed, 1) if elapsed else None,
            "bookings_per_second": round(kinds["won"] / elapsed, 1) if elapsed else None,
            "latency_ms_median": round(statistics.median(latencies) * 1000, 1) if latencies else None,
            "latency_ms_max": round(latencies[-1] * 1000, 1) if latencies else None,
        }
        if args.json:
            print(json.dumps(report))
        else:
            for key, value in report.items():
                print(f"{key:36} {value}")
        ok = not overlaps and kinds["error"] == 0 and bad_rounds == 0 and active == kinds["won"]
        return 0 if ok else 1
    finally:
        connections.close_all()
        if on_postgres and not args.keep:
            _drop_pg_database(url)
        if tmp is not None:
            tmp.cleanup()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--threads", type=int, default=16)
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--hall", action="store_true", help="race the whole sports hall against its three sections")
    parser.add_argument("--bypass-check", action="store_true", help="skip the service's overlap check (PostgreSQL)")
    parser.add_argument("--keep", action="store_true", help=f"keep the {BENCH_DATABASE} database afterwards")
    parser.add_argument("--json", action="store_true", help="print the report as one JSON object")
    commands = parser.add_subparsers(dest="command")
    work = commands.add_parser("worker", help="one process of a multi-process race (used by the tests)")
    work.add_argument("--room", type=int, required=True)
    work.add_argument("--user", type=int, required=True)
    work.add_argument("--start", action="append", required=True, help="ISO start with UTC offset; repeatable")
    work.add_argument("--minutes", type=int, default=SLOT_MINUTES)
    work.add_argument("--label", default=str(os.getpid()))
    work.add_argument("--ready-file", required=True)
    work.add_argument("--go-file", required=True)
    work.add_argument("--timeout", type=float, default=60.0)
    args = parser.parse_args(argv)
    if args.threads > SLOT_MINUTES // STEP_MINUTES:
        parser.error(f"at most {SLOT_MINUTES // STEP_MINUTES} threads: more would not all overlap")
    return worker(args) if args.command == "worker" else bench(args)


if __name__ == "__main__":
    sys.exit(main())
