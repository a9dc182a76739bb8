"""Hand-made ``RoomSlot`` and ``BookingUse`` rows for the metric tests: each row states exactly what it holds."""

from __future__ import annotations

import datetime as dt
import zoneinfo

from bookings.models import Booking, BookingStatus
from campus.models import Institution, Room
from utilisation.models import BookingUse, RoomSlot

HELSINKI = zoneinfo.ZoneInfo("Europe/Helsinki")


def local(day: dt.date, h: int, mi: int = 0) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day, h, mi, tzinfo=HELSINKI)


def slot(room: Room, start: dt.datetime, **values) -> RoomSlot:
    """Store the slot of ``room`` starting at ``start`` (an aware time) with the values ``slot_row`` takes."""
    row = slot_row(room, start, **values)
    row.save()
    return row


def slot_row(
    room: Room,
    start: dt.datetime,
    *,
    covered: int = 900,
    occupied: int = 0,
    mean: float | None = None,
    peak: int | None = None,
    booked: int = 0,
    by: Institution | None = None,
) -> RoomSlot:
    """Return the slot row of ``room`` starting at ``start`` with the given seconds and counts, unsaved."""
    there = start.astimezone(HELSINKI)
    return RoomSlot(
        room=room,
        campus=room.building.campus,
        start=start,
        local_date=there.date(),
        local_minute=there.hour * 60 + there.minute,
        iso_weekday=there.isoweekday(),
        covered_seconds=covered,
        occupied_seconds=occupied,
        mean_count=mean,
        peak_count=peak,
        booked_seconds=booked,
        booked_institution=by,
        rolled_at=start + dt.timedelta(minutes=20),
    )


def use(
    room: Room,
    start: dt.datetime,
    end: dt.datetime,
    *,
    by: Institution | None,
    no_show: bool | None,
    last_presence: dt.datetime | None = None,
) -> BookingUse:
    """Store a booking and what its occupants did."""
    booking = Booking.objects.create(
        campus=room.building.campus,
        room=room,
        title="Lesson",
        institution=by,
        start=start,
        end=end,
        status=BookingStatus.CONFIRMED,
    )
    return BookingUse.objects.create(
        booking=booking,
        room=room,
        campus=room.building.campus,
        start=start,
        end=end,
        covered_seconds=900,
        occupied_seconds=0 if no_show else 900,
        first_presence_at=None if no_show or no_show is None else start,
        last_presence_at=last_presence,
        no_show=no_show,
        rolled_at=end,
    )
