"""Helpers of the rollup tests: readings and bookings at Helsinki wall-clock times on fixed past days."""

from __future__ import annotations

import datetime as dt
import zoneinfo

import pytest

from bookings.models import Booking, BookingStatus
from campus.models import Institution, Room, RoomKind
from sensors.models import Reading, Sensor, SensorKind
from tests.conftest import JointCampus
from utilisation.models import RoomSlot

HELSINKI = zoneinfo.ZoneInfo("Europe/Helsinki")
# A Tuesday in November (UTC+2): long past, so every slot of it has started.
DAY = dt.date(2026, 11, 10)
EVENING = dt.datetime(2026, 11, 10, 18, 0, tzinfo=HELSINKI)


def at(h: int, mi: int = 0, s: int = 0, *, day: dt.date = DAY) -> dt.datetime:
    """Return ``day`` at h:mi:s Helsinki time."""
    return dt.datetime(day.year, day.month, day.day, h, mi, s, tzinfo=HELSINKI)


def read(sensor: Sensor, ts: dt.datetime, value: int | bool, *, received_at: dt.datetime | None = None) -> Reading:
    """Store one reading of ``sensor`` (a count, or presence for a bool), received 30 s after its time by default."""
    is_presence = isinstance(value, bool)
    return Reading.objects.create(
        sensor=sensor,
        room_id=sensor.room_id,
        campus_id=sensor.room.building.campus_id,
        ts=ts,
        count=None if is_presence else value,
        present=value if is_presence else None,
        received_at=received_at or ts + dt.timedelta(seconds=30),
    )


def book(
    room: Room,
    start: dt.datetime,
    end: dt.datetime,
    *,
    institution: Institution | None,
    status: str = BookingStatus.CONFIRMED,
    released_at: dt.datetime | None = None,
) -> Booking:
    """Store a booking row as the services leave it (the rollup reads rows, not blocks)."""
    return Booking.objects.create(
        campus=room.building.campus,
        room=room,
        title="Lesson",
        institution=institution,
        start=start,
        end=end,
        status=status,
        released_at=released_at,
    )


def slots_of(room: Room) -> dict[dt.datetime, RoomSlot]:
    """Return the room's slot rows by their Helsinki start, without the zone (readable comparisons)."""
    return {row.start.astimezone(HELSINKI).replace(tzinfo=None): row for row in RoomSlot.objects.filter(room=room)}


def wall(h: int, mi: int = 0, *, day: dt.date = DAY) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day, h, mi)


@pytest.fixture
def counter(joint_campus: JointCampus) -> Sensor:
    return Sensor.objects.create(external_id="a101-counter", kind=SensorKind.COUNT, room=joint_campus.classroom)


@pytest.fixture
def presence(joint_campus: JointCampus) -> Sensor:
    return Sensor.objects.create(external_id="a201-presence", kind=SensorKind.PRESENCE, room=joint_campus.lab)


@pytest.fixture
def hall(joint_campus: JointCampus) -> tuple[Room, Room, Room]:
    """A sports hall made of two sections: (hall, section 1, section 2)."""
    building = joint_campus.workshop_building
    one = Room.objects.create(building=building, code="B1", name="Hall section 1", kind=RoomKind.GYM, capacity=30)
    two = Room.objects.create(building=building, code="B2", name="Hall section 2", kind=RoomKind.GYM, capacity=30)
    whole = Room.objects.create(building=building, code="B0", name="Sports hall", kind=RoomKind.GYM, capacity=60)
    whole.sections.set([one, two])
    return whole, one, two
