"""What a booking request reads, in as few statements as the locks allow.

Before the locks, one statement (``load_booking_context``): the room's parts and the rooms it is
part of, its policy chain, the booker's memberships, the opening hours, holidays and closures of
the span (and the term breaks when a series may skip them). After the locks, one statement
(``booker_activity``) counts the booker's active bookings for the quota and names those overlapping
the request (for the "booked elsewhere" warning); the clash check is ``conflicts.find_conflicts``.
Both are written as SQL, once per process: building them with the ORM took longer than running them.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import cache

from django.db import connection

from bookings import rules
from bookings.models import ACTIVE_STATUSES, Booking, BookingPolicy, Closure
from campus.models import (
    Building,
    Campus,
    Holiday,
    Institution,
    Membership,
    OpeningHours,
    OpeningHoursException,
    Room,
    TermKind,
    TermPeriod,
    User,
)
from campus.opening_hours import OpeningCalendar
from campus.permissions import LoadedMemberships
from campus.sql_rows import execute, json_rows, rows_from_json


@dataclass
class BookingContext:
    """Everything a booking request reads before its locks."""

    room: Room  # with its sections and the rooms it is part of cached (``room_parts`` reads no more)
    memberships: LoadedMemberships  # the booker's, of every date
    policy: rules.EffectivePolicy
    calendar: OpeningCalendar
    closures: list[Closure]  # of the room, its parts, the rooms it is part of and its building, by start
    breaks: list[TermPeriod]  # of the campus's and its institutions' calendars, when asked for


@cache
def _context_sql(*, vendor: str, with_breaks: bool) -> str:
    sections = Room.sections.through._meta.db_table
    subqueries = {
        "sections": json_rows(Room, "s", f"s.id IN (SELECT to_room_id FROM {sections} WHERE from_room_id = %(room)s)"),
        "wholes": json_rows(Room, "w", f"w.id IN (SELECT from_room_id FROM {sections} WHERE to_room_id = %(room)s)"),
        "policies": json_rows(
            BookingPolicy, "p", "p.room_id = %(room)s OR p.building_id = %(building)s OR p.campus_id = %(campus)s"
        ),
        "memberships": json_rows(
            Membership,
            "m",
            "m.user_id = %(user)s",
            joined=[(Institution, "i", "i.id = m.institution_id"), (Campus, "c", "c.id = m.campus_id")],
        ),
        "weekly": json_rows(OpeningHours, "h", "h.room_id = %(room)s OR h.building_id = %(building)s"),
        "exceptions": json_rows(
            OpeningHoursException, "e", "e.building_id = %(building)s AND e.date BETWEEN %(first)s AND %(last)s"
        ),
        "holidays": json_rows(Holiday, "d", "d.campus_id = %(campus)s AND d.date BETWEEN %(first)s AND %(last)s"),
        "closures": json_rows(
            Closure,
            "x",
            "(x.room_id = %(room)s OR x.building_id = %(building)s"
            f" OR x.room_id IN (SELECT to_room_id FROM {sections} WHERE from_room_id = %(room)s)"
            f" OR x.room_id IN (SELECT from_room_id FROM {sections} WHERE to_room_id = %(room)s))"
            ' AND x.start < %(end)s AND x."end" > %(start)s',
        ),
    }
    if with_breaks:
        subqueries["breaks"] = json_rows(
            TermPeriod,
            "t",
            f"t.kind = '{TermKind.BREAK}' AND t.start <= %(last)s AND t.\"end\" >= %(first)s AND (t.campus_id ="
            f" %(campus)s OR t.institution_id IN (SELECT id FROM {Institution._meta.db_table} WHERE campus_id ="
            " %(campus)s))",
        )
    return "SELECT " + ", ".join(f"{sql} AS {name}" for name, sql in subqueries.items())


def load_booking_context(
    *, room: Room, booker: User, start: dt.datetime, end: dt.datetime, with_breaks: bool
) -> BookingContext:
    """Read what booking ``room`` for ``booker`` within [start, end) needs, in one statement.

    The calendar covers the campus-local dates of [start, end]; breaks are read ``with_breaks``.
    """
    zone = room.building.campus.zone
    first, last = start.astimezone(zone).date(), end.astimezone(zone).date()
    ops = connection.ops
    params = {
        "room": room.pk,
        "building": room.building_id,
        "campus": room.building.campus_id,
        "user": booker.pk,
        "first": ops.adapt_datefield_value(first),
        "last": ops.adapt_datefield_value(last),
        "start": ops.adapt_datetimefield_value(start),
        "end": ops.adapt_datetimefield_value(end),
    }
    with connection.cursor() as cursor:
        execute(cursor, _context_sql(vendor=connection.vendor, with_breaks=with_breaks), params, label="context")
        row = dict(zip([column[0] for column in cursor.description], cursor.fetchone(), strict=True))

    _cache_relation(room, "sections", [r for (r,) in rows_from_json(row["sections"], Room)])
    _cache_relation(room, "combined_rooms", [r for (r,) in rows_from_json(row["wholes"], Room)])
    weekly = sorted((h for (h,) in rows_from_json(row["weekly"], OpeningHours)), key=lambda h: (h.weekday, h.opens))
    own_hours = [h for h in weekly if h.room_id == room.pk]
    calendar = OpeningCalendar(
        room,
        first,
        last,
        weekly=own_hours or [h for h in weekly if h.building_id == room.building_id],
        exceptions=sorted((e for (e,) in rows_from_json(row["exceptions"], OpeningHoursException)), key=_by_date),
        holidays=sorted((h for (h,) in rows_from_json(row["holidays"], Holiday)), key=_by_date),
    )
    memberships = []
    for membership, institution, campus in rows_from_json(row["memberships"], Membership, joined=[Institution, Campus]):
        membership.institution, membership.campus = institution, campus
        memberships.append(membership)
    return BookingContext(
        room=room,
        memberships=LoadedMemberships(booker, memberships),
        policy=rules.policy_from(p for (p,) in rows_from_json(row["policies"], BookingPolicy)),
        calendar=calendar,
        closures=sorted((c for (c,) in rows_from_json(row["closures"], Closure)), key=lambda c: (c.start, c.pk)),
        breaks=[t for (t,) in rows_from_json(row.get("breaks"), TermPeriod)],
    )


def _by_date(row: OpeningHoursException | Holiday) -> tuple[dt.date, int]:
    return row.date, row.pk


def _cache_relation(room: Room, name: str, rooms: list[Room]) -> None:
    """Cache ``rooms`` as ``room.<name>.all()``, as ``prefetch_related`` would."""
    manager = getattr(room, name)
    queryset = manager.get_queryset()
    queryset._result_cache = rooms
    queryset._prefetch_done = True
    if not hasattr(room, "_prefetched_objects_cache"):
        room._prefetched_objects_cache = {}
    room._prefetched_objects_cache[manager.prefetch_cache_name] = queryset


@dataclass(frozen=True)
class BookerActivity:
    """The booker's active future bookings: counted for the quota, and those overlapping the request."""

    active: rules.ActiveBookings
    # Their own (not made on someone's behalf) overlapping [start, end), with room, building and campus.
    overlapping: list[Booking]


@cache
def _activity_sql(*, vendor: str) -> str:
    own = "b.on_behalf_of_name = '' AND b.on_behalf_of_organisation = ''"
    statuses = ", ".join(f"'{status}'" for status in ACTIVE_STATUSES)
    active = f'b.booked_by_id = %(user)s AND b."end" > %(now)s AND b.status IN ({statuses})'
    overlapping = json_rows(
        Booking,
        "b",
        f'{active} AND {own} AND b.start < %(end)s AND b."end" > %(start)s',
        joined=[
            (Room, "r", "r.id = b.room_id"),
            (Building, "g", "g.id = r.building_id"),
            (Campus, "c", "c.id = g.campus_id"),
        ],
    )
    return (
        "SELECT COUNT(*) FILTER (WHERE b.series_id IS NULL), COUNT(DISTINCT b.series_id),"
        f" COUNT(*) FILTER (WHERE b.series_id IS NULL AND {own}),"
        f" COUNT(DISTINCT CASE WHEN {own} THEN b.series_id END), {overlapping}"
        f" FROM {Booking._meta.db_table} b WHERE {active}"
    )


def booker_activity(*, booker: User, now: dt.datetime, start: dt.datetime, end: dt.datetime) -> BookerActivity:
    """Count ``booker``'s active future bookings (a series as one) and read their own overlapping [start, end).

    One statement. Call after ``lock_booker`` when the count must hold until commit (the quota).
    """
    ops = connection.ops
    params = {
        "user": booker.pk,
        "now": ops.adapt_datetimefield_value(now),
        "start": ops.adapt_datetimefield_value(start),
        "end": ops.adapt_datetimefield_value(end),
    }
    with connection.cursor() as cursor:
        execute(cursor, _activity_sql(vendor=connection.vendor), params, label="activity")
        singles, series, own_singles, own_series, overlapping = cursor.fetchone()
    found = []
    for booking, room, building, campus in rows_from_json(overlapping, Booking, joined=[Room, Building, Campus]):
        building.campus = campus
        room.building = building
        booking.room = room
        found.append(booking)
    return BookerActivity(
        active=rules.ActiveBookings(all=singles + series, own=own_singles + own_series),
        overlapping=sorted(found, key=lambda b: (b.start, b.pk)),
    )
