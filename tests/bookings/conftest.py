"""Helpers and fixtures for the booking service tests: local times, future dates, a gym, a buffered room.

Dates are computed from today (the services refuse the past and series reaching more than 400 days
ahead), so the tests never rot. Times are Europe/Helsinki wall-clock times, like the campus's.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from collections import Counter
from dataclasses import dataclass

import pytest
from django.utils import timezone

from bookings.models import ACTIVE_STATUSES, Access, Booking, BookingBlock, BookingPolicy
from bookings.services import (
    BookingResult,
    active_overlaps_exist,
    booking_cancel,
    booking_create,
    conflicts,
    room_parts,
)
from campus.models import Room, RoomKind, User

HELSINKI = zoneinfo.ZoneInfo("Europe/Helsinki")
MONDAY, TUESDAY, WEDNESDAY, THURSDAY, FRIDAY, SATURDAY, SUNDAY = range(7)


def local(y: int, m: int, d: int, h: int, mi: int = 0) -> dt.datetime:
    """Return the aware Europe/Helsinki datetime of that wall-clock time."""
    return dt.datetime(y, m, d, h, mi, tzinfo=HELSINKI)


def at(day: dt.date, h: int, mi: int = 0) -> dt.datetime:
    """Return ``day`` at h:mi Helsinki time."""
    return local(day.year, day.month, day.day, h, mi)


def wall(day: dt.date, h: int, mi: int = 0) -> dt.datetime:
    """Return a naive local wall-clock time, as ``local_starts`` gives them."""
    return dt.datetime.combine(day, dt.time(h, mi))


def in_helsinki(value: dt.datetime) -> dt.datetime:
    return value.astimezone(HELSINKI)


def today() -> dt.date:
    """Return today's date on the campus (Helsinki)."""
    return timezone.localdate(timezone=HELSINKI)


def next_weekday_after(day: dt.date, weekday: int) -> dt.date:
    """Return the first date strictly after ``day`` that falls on ``weekday`` (0 = Monday)."""
    return day + dt.timedelta(days=(weekday - day.weekday() - 1) % 7 + 1)


def race_day() -> dt.date:
    """Return a Tuesday three to four weeks ahead (the fixture's buildings open Mon–Fri 07–21), for the race tests."""
    day = today() + dt.timedelta(days=21)
    return day + dt.timedelta(days=(1 - day.weekday()) % 7)


def last_sunday(year: int, month: int) -> dt.date:
    """Return the last Sunday of the month (Europe/Helsinki changes clocks on those of March and October)."""
    first_of_next = dt.date(year + month // 12, month % 12 + 1, 1)
    last_day = first_of_next - dt.timedelta(days=1)
    return last_day - dt.timedelta(days=(last_day.weekday() - SUNDAY) % 7)


def next_last_sunday(month: int, *, at_least_days: int = 21) -> dt.date:
    """Return the last Sunday of ``month`` that comes after today, leaving room for a series to start before it.

    It is at least ``at_least_days`` ahead, so a series may start a couple of weeks before the clock
    change and still lie in the future, and at most about 13 months ahead (inside the 400-day limit).
    """
    earliest = today() + dt.timedelta(days=at_least_days)
    year = earliest.year
    while last_sunday(year, month) <= earliest:
        year += 1
    return last_sunday(year, month)


def first_weekday_of_month(year: int, month: int, weekday: int) -> dt.date:
    return next_weekday_after(dt.date(year, month, 1) - dt.timedelta(days=1), weekday)


def last_weekday_of_month(year: int, month: int, weekday: int) -> dt.date:
    first_of_next = dt.date(year + month // 12, month % 12 + 1, 1)
    last_day = first_of_next - dt.timedelta(days=1)
    return last_day - dt.timedelta(days=(last_day.weekday() - weekday) % 7)


def add_months(year: int, month: int, months: int) -> tuple[int, int]:
    index = year * 12 + month - 1 + months
    return index // 12, index % 12 + 1


def ical_utc(value: dt.datetime) -> str:
    """Return ``value`` as an iCalendar UTC date-time (20270315T080000Z)."""
    return value.astimezone(dt.UTC).strftime("%Y%m%dT%H%M%SZ")


def book(
    user: User, room: Room, start: dt.datetime, end: dt.datetime, *, title: str = "Lesson", **options
) -> BookingResult:
    """Book through the service, as every entry point does."""
    return booking_create(room=room, booked_by=user, title=title, start=start, end=end, **options)


def cancel_the_clash_before_it_is_described(
    monkeypatch: pytest.MonkeyPatch, clash: Booking, actor: User, *, blind_first_check: bool
) -> list:
    """Patch the clash reading so that another person cancels ``clash`` just before the refusal is described
    (their cancel commits between the refusal and the reading); with ``blind_first_check`` the first check
    misses the clash too (a writer it could not see yet). Return the list of calls."""
    real_clashing_blocks = conflicts.clashing_blocks
    calls: list = []

    def racing_check(*args, **kwargs):
        calls.append(args)
        if blind_first_check and len(calls) == 1:
            return []
        if len(calls) == 2:
            booking_cancel(booking=clash, actor=actor)
        return real_clashing_blocks(*args, **kwargs)

    monkeypatch.setattr(conflicts, "clashing_blocks", racing_check)
    return calls


def local_starts(bookings) -> list[dt.datetime]:
    """Return the starts of ``bookings`` in Helsinki time, without the zone (for readable comparisons)."""
    return [in_helsinki(b.start).replace(tzinfo=None) for b in bookings]


def errors_of(error) -> list[dict[str, str]]:
    return error.extra.get("errors", [])


def error_fields(error) -> list[str]:
    return [entry["field"] for entry in errors_of(error)]


def assert_blocks_consistent() -> None:
    """Assert the booking invariant: exactly the active bookings hold one block per part, none overlapping."""
    assert not active_overlaps_exist()
    blocks = Counter(BookingBlock.objects.values_list("booking_id", "part_id"))
    assert all(count == 1 for count in blocks.values())
    expected = Counter()
    for booking in Booking.objects.select_related("room").prefetch_related("room__sections"):
        if booking.status in ACTIVE_STATUSES:
            for part in room_parts(booking.room):
                expected[(booking.pk, part.pk)] = 1
    assert blocks == expected


@pytest.fixture
def blocks_stay_consistent(db):
    """After the test: no two active bookings overlap, and only active bookings hold blocks.

    The service test modules use it for every test (``pytestmark``).
    """
    yield
    assert_blocks_consistent()


@pytest.fixture
def sunday(monday: dt.date) -> dt.date:
    return monday + dt.timedelta(days=6)


@dataclass
class Gym:
    """A sports hall that can be booked whole or by its three sections."""

    whole: Room
    sections: list[Room]


@pytest.fixture
def gym(joint_campus) -> Gym:
    building = joint_campus.main_building
    sections = [
        Room.objects.create(
            building=building, code=f"GYM-{n}", name=f"Gym section {n}", kind=RoomKind.GYM, capacity=30, owner=None
        )
        for n in (1, 2, 3)
    ]
    whole = Room.objects.create(building=building, code="GYM", name="Gym", kind=RoomKind.GYM, capacity=90, owner=None)
    whole.sections.set(sections)
    return Gym(whole=whole, sections=sections)


@pytest.fixture
def workshop(joint_campus) -> Room:
    """A shared workshop in the workshop hall (the other building)."""
    return Room.objects.create(
        building=joint_campus.workshop_building, code="B10", name="Workshop", kind=RoomKind.WORKSHOP, capacity=16
    )


@pytest.fixture
def buffered_room(joint_campus) -> Room:
    """A shared meeting room kept free for 15 minutes after each booking (for cleaning)."""
    return Room.objects.create(
        building=joint_campus.main_building,
        code="A050",
        name="Meeting room",
        kind=RoomKind.MEETING,
        capacity=12,
        owner=None,
        buffer_minutes=15,
    )


@pytest.fixture
def request_only_lab(joint_campus) -> Room:
    """The chemistry lab, which other institutions only request; a request expires after 72 hours."""
    BookingPolicy.objects.create(room=joint_campus.lab, other_access=Access.REQUEST, request_expiry_hours=72)
    return joint_campus.lab
