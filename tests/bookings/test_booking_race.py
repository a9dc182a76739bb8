"""No double booking under concurrency: many writers race for overlapping slots of one room.

Threads (and, in the multi-process tests, separate Python processes) use their own database
connections, so these tests run with ``transaction=True``: the world is committed and every
writer sees the others only through the database. On PostgreSQL the exclusion constraint is the
guarantee (one variant switches the service's own overlap check off to prove it); on SQLite the
IMMEDIATE transactions serialise the writers and the service's check is the guarantee.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from django.db import IntegrityError, connection

from bookings.errors import SlotTaken
from bookings.models import ACTIVE_STATUSES, Booking, BookingBlock
from bookings.services import active_overlaps_exist, booking_create, conflicts
from campus.models import Room, User
from tests.bookings.conftest import Gym, assert_blocks_consistent, at, race_day

REPO = Path(__file__).resolve().parents[2]
WORKER = REPO / "bench" / "booking_race.py"
THREADS = 16
STEP = dt.timedelta(minutes=3)  # 16 starts 3 minutes apart: every pair of one-hour slots overlaps
HOUR = dt.timedelta(hours=1)

pytestmark = pytest.mark.django_db(transaction=True)


@dataclass
class Attempt:
    label: str
    room_pk: int
    start: dt.datetime
    end: dt.datetime


@dataclass
class Result:
    label: str
    start: dt.datetime
    outcome: str  # "won", "taken" or "error"
    booking: Booking | None = None
    via: str = ""  # for "taken": "check" (service's query) or "constraint" (exclusion constraint)
    conflicts: list[dict[str, Any]] = field(default_factory=list)
    error: BaseException | None = None


def race(attempts: list[Attempt], user_pk: int) -> list[Result]:
    """Run each attempt in its own thread and connection; all call booking_create at one moment."""
    barrier = threading.Barrier(len(attempts))
    results: list[Result | None] = [None] * len(attempts)

    def run(index: int, attempt: Attempt) -> None:
        try:
            # Load what the call needs first, so the barrier releases only the booking itself.
            room = Room.objects.select_related("building__campus").get(pk=attempt.room_pk)
            user = User.objects.get(pk=user_pk)
            barrier.wait(timeout=30)
            try:
                created = booking_create(
                    room=room, booked_by=user, title=f"race {attempt.label}", start=attempt.start, end=attempt.end
                )
            except SlotTaken as error:
                via = "constraint" if isinstance(error.__cause__, IntegrityError) else "check"
                results[index] = Result(attempt.label, attempt.start, "taken", via=via, conflicts=error.conflicts)
            else:
                results[index] = Result(attempt.label, attempt.start, "won", booking=created.first)
        except BaseException as error:  # recorded and asserted on by the test
            results[index] = Result(attempt.label, attempt.start, "error", error=error)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i, a)) for i, a in enumerate(attempts)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert all(not thread.is_alive() for thread in threads), "a racing thread hung"
    return [r for r in results if r is not None]


def summary(results: list[Result]) -> str:
    won = sum(r.outcome == "won" for r in results)
    by_check = sum(r.via == "check" for r in results)
    by_constraint = sum(r.via == "constraint" for r in results)
    errors = [f"{type(r.error).__name__}: {r.error}" for r in results if r.outcome == "error"]
    return (
        f"attempts={len(results)} winners={won} refused_by_check={by_check} "
        f"refused_by_constraint={by_constraint} other_errors={errors}"
    )


def staggered(room: Room, first: dt.datetime, count: int = THREADS) -> list[Attempt]:
    """``count`` one-hour attempts starting 3 minutes apart: each overlaps every other."""
    return [Attempt(f"t{i}", room.pk, first + i * STEP, first + i * STEP + HOUR) for i in range(count)]


def assert_single_winner(results: list[Result], room: Room) -> Result:
    """Exactly one attempt won, every other one got SlotTaken naming the winner; nothing overlaps."""
    print(summary(results))
    errors = [r for r in results if r.outcome == "error"]
    assert not errors, summary(results)
    winners = [r for r in results if r.outcome == "won"]
    losers = [r for r in results if r.outcome == "taken"]
    assert len(winners) == 1, summary(results)
    assert len(losers) == len(results) - 1
    winner = winners[0]
    for loser in losers:
        assert [c["start"] for c in loser.conflicts] == [winner.booking.start], loser
    assert not active_overlaps_exist()
    active = Booking.objects.filter(room=room, status__in=ACTIVE_STATUSES)
    assert list(active.values_list("pk", flat=True)) == [winner.booking.pk]
    assert BookingBlock.objects.filter(booking__room=room).count() == 1
    assert_blocks_consistent()
    return winner


@pytest.fixture
def on_sqlite() -> None:
    """SQLite-only tests: on PostgreSQL they are the other configuration, not a missing service."""
    if connection.vendor != "sqlite":
        pytest.skip("runs on the embedded SQLite default only (this run uses PostgreSQL)")


# --- one room, threads ------------------------------------------------------------------------


@pytest.mark.postgres
def test_threads_race_for_one_room_on_postgresql(on_postgres, joint_campus, lukio_staff):
    room = joint_campus.classroom
    results = race(staggered(room, at(race_day(), 10)), lukio_staff.pk)
    assert len(results) == THREADS
    assert_single_winner(results, room)


@pytest.mark.postgres
def test_exclusion_constraint_alone_refuses_the_losers(on_postgres, joint_campus, lukio_staff, monkeypatch):
    """With the service's own check switched off, only the database stands between the writers."""
    real = conflicts.find_conflicts

    def no_precheck(**kwargs: Any) -> dict[int, list[dict[str, Any]]]:
        # The check before writing sees nothing; the lookup after a constraint violation stays real.
        return real(**kwargs) if kwargs.get("exclude_booking_ids") else {}

    monkeypatch.setattr(conflicts, "find_conflicts", no_precheck)
    room = joint_campus.classroom
    results = race(staggered(room, at(race_day(), 10)), lukio_staff.pk)
    assert len(results) == THREADS
    assert_single_winner(results, room)
    assert all(r.via == "constraint" for r in results if r.outcome == "taken"), summary(results)


@pytest.mark.sqlite
def test_threads_race_for_one_room_on_sqlite(on_sqlite, joint_campus, lukio_staff):
    room = joint_campus.classroom
    results = race(staggered(room, at(race_day(), 10)), lukio_staff.pk)
    assert len(results) == THREADS
    assert_single_winner(results, room)
    # SQLite has no exclusion constraint: the check inside the IMMEDIATE transaction refused them all.
    assert all(r.via == "check" for r in results if r.outcome == "taken")


# --- one room, several processes ---------------------------------------------------------------


def child_database_url() -> str:
    """The URL of the test database pytest-django created, for processes started by the test."""
    settings = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{settings['NAME']}"
    auth = quote(settings["USER"] or "", safe="")
    if settings["PASSWORD"]:
        auth += ":" + quote(settings["PASSWORD"], safe="")
    host = settings["HOST"] or "127.0.0.1"
    port = f":{settings['PORT']}" if settings["PORT"] else ""
    return f"postgres://{auth}@{host}{port}/{quote(settings['NAME'], safe='')}"


def process_race(
    tmp_path: Path, *, room: Room, user: User, starts_of: Callable[[int], list[dt.datetime]], processes: int
) -> list[dict[str, Any]]:
    """Start ``processes`` workers, release them at once, return every attempt's outcome."""
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "tests.settings", "DATABASE_URL": child_database_url()}
    go = tmp_path / "go"
    children = []
    for index in range(processes):
        command = [sys.executable, str(WORKER), "worker", "--room", str(room.pk), "--user", str(user.pk)]
        command += ["--label", f"p{index}", "--ready-file", str(tmp_path / f"ready-{index}"), "--go-file", str(go)]
        for start in starts_of(index):
            command += ["--start", start.isoformat()]
        children.append(
            subprocess.Popen(command, env=env, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        )
    try:
        deadline = time.monotonic() + 60
        while not all((tmp_path / f"ready-{i}").exists() for i in range(processes)):
            failed = [child for child in children if child.poll() is not None]
            assert not failed, failed[0].communicate()
            assert time.monotonic() < deadline, "the workers did not get ready"
            time.sleep(0.01)
        go.touch()
        outcomes = []
        for child in children:
            out, err = child.communicate(timeout=120)
            assert child.returncode == 0, err
            outcomes += json.loads(out.strip().splitlines()[-1])
        return outcomes
    finally:
        for child in children:
            if child.poll() is None:
                child.kill()


def assert_one_winner_per_slot(outcomes: list[dict[str, Any]], slots: list[dt.datetime], room: Room) -> None:
    by_slot: dict[int, list[dict[str, Any]]] = {i: [] for i in range(len(slots))}
    for outcome in outcomes:
        start = dt.datetime.fromisoformat(outcome["start"])
        index = next(i for i, slot in enumerate(slots) if slot <= start < slot + HOUR)
        by_slot[index].append(outcome)
    counts = {kind: sum(o["outcome"] == kind for o in outcomes) for kind in ("won", "taken", "error")}
    print(f"process race: attempts={len(outcomes)} {counts} via={[o['via'] for o in outcomes if o['via']]}")
    assert [o["error"] for o in outcomes if o["outcome"] == "error"] == []
    for index, contested in by_slot.items():
        winners = [o for o in contested if o["outcome"] == "won"]
        assert len(winners) == 1, (slots[index], contested)
        assert all(o["outcome"] == "taken" for o in contested if o is not winners[0])
    assert not active_overlaps_exist()
    active = Booking.objects.filter(room=room, status__in=ACTIVE_STATUSES)
    assert sorted(active.values_list("pk", flat=True)) == sorted(o["booking"] for o in outcomes if o["booking"])
    assert active.count() == len(slots)


def contested_slots(count: int = 5) -> list[dt.datetime]:
    """Slots two hours apart: attempts at one slot clash with each other, never with another slot's."""
    return [at(race_day(), 8 + 2 * k) for k in range(count)]


def run_process_race(tmp_path: Path, room: Room, user: User, processes: int = 4) -> None:
    slots = contested_slots()
    offset = dt.timedelta(minutes=10)
    outcomes = process_race(
        tmp_path,
        room=room,
        user=user,
        processes=processes,
        starts_of=lambda index: [slot + index * offset for slot in slots],
    )
    assert len(outcomes) == processes * len(slots)
    assert_one_winner_per_slot(outcomes, slots, room)


@pytest.mark.postgres
def test_processes_race_for_one_room_on_postgresql(on_postgres, joint_campus, lukio_staff, tmp_path):
    run_process_race(tmp_path, joint_campus.classroom, lukio_staff)


@pytest.mark.sqlite
def test_processes_race_for_one_room_on_sqlite(on_sqlite, joint_campus, lukio_staff, tmp_path):
    run_process_race(tmp_path, joint_campus.classroom, lukio_staff)


# --- a divisible room -------------------------------------------------------------------------
# Run on whichever database the suite uses: the guarantee is the same on both.

ROUNDS = 10  # separate slots of race_day(): 08:00, 09:00, … 17:00


def test_whole_hall_and_one_section_race(gym: Gym, lukio_staff):
    """The whole hall and section 1 (twice) at the same time: they all clash, so exactly one wins."""
    for round_ in range(ROUNDS):
        start = at(race_day(), 8 + round_)
        attempts = [
            Attempt("whole", gym.whole.pk, start, start + HOUR / 2),
            Attempt("section-1a", gym.sections[0].pk, start, start + HOUR / 2),
            Attempt("section-1b", gym.sections[0].pk, start + STEP, start + STEP + HOUR / 2),
        ]
        results = race(attempts, lukio_staff.pk)
        print(summary(results))
        assert [r for r in results if r.outcome == "error"] == [], summary(results)
        assert sum(r.outcome == "won" for r in results) == 1, summary(results)
        assert sum(r.outcome == "taken" for r in results) == 2
    assert_blocks_consistent()


def test_whole_hall_races_its_sections(gym: Gym, lukio_staff):
    """Two bookings of the whole hall against its three sections: either one whole-hall booking wins
    alone, or all three sections win (a section loses only to a committed clash: a whole hall)."""
    seen = []
    for round_ in range(ROUNDS):
        start = at(race_day(), 8 + round_)
        attempts = [
            Attempt("whole-a", gym.whole.pk, start, start + HOUR / 2),
            Attempt("whole-b", gym.whole.pk, start + STEP, start + STEP + HOUR / 2),
        ] + [Attempt(f"section-{n}", s.pk, start, start + HOUR / 2) for n, s in enumerate(gym.sections, 1)]
        results = race(attempts, lukio_staff.pk)
        print(summary(results))
        assert [r for r in results if r.outcome == "error"] == [], summary(results)
        winners = sorted(r.label for r in results if r.outcome == "won")
        assert winners in (["whole-a"], ["whole-b"], ["section-1", "section-2", "section-3"]), summary(results)
        seen.append(winners)
    print(f"winning combinations: {seen}")
    assert_blocks_consistent()
    # Either way each round left one block on every section.
    assert BookingBlock.objects.filter(part__in=gym.sections).count() == 3 * ROUNDS
