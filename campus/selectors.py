"""Reads of the campus model, returning querysets with their joins done."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from functools import cache

from django.conf import settings
from django.db import connection
from django.db.models import Exists, OuterRef, Q, QuerySet

from campus.models import Building, Campus, Equipment, Institution, Membership, Room, TermKind, TermPeriod, User
from campus.permissions import room_deciders
from campus.sql_rows import columns, execute, from_row


def default_campus_zone_name() -> str:
    """Return the zone of the installation's campus (the first one), or the server default."""
    zone = Campus.objects.order_by("pk").values_list("time_zone", flat=True).first()
    return zone or settings.TIME_ZONE


def user_campus_zone_name(user: User) -> str | None:
    """Return the zone of the campus where ``user`` holds their first membership, if any."""
    membership = (
        Membership.objects.filter(user=user).select_related("campus", "institution__campus").order_by("pk").first()
    )
    if membership is None:
        return None
    campus = membership.campus or membership.institution.campus
    return campus.time_zone


@cache
def _room_sql(vendor: str) -> str:
    return (
        f"SELECT {columns(Room, 'r')}, {columns(Building, 'b')}, {columns(Campus, 'c')}"
        f" FROM {Room._meta.db_table} r JOIN {Building._meta.db_table} b ON b.id = r.building_id"
        f" JOIN {Campus._meta.db_table} c ON c.id = b.campus_id WHERE r.id = %s"
    )


def room_with_campus(room_id: int) -> Room | None:
    """Return the room ``room_id`` with its building and campus (as ``select_related``), or None.

    Every booking request through the API starts here, so the statement is written once as SQL
    (``campus.sql_rows``) rather than built with the ORM each time.
    """
    lowest, highest = connection.ops.integer_field_range("BigAutoField")
    if not lowest <= room_id <= highest:
        return None  # no such id can exist (the ORM answers an out-of-range lookup with nothing, too)
    with connection.cursor() as cursor:
        execute(cursor, _room_sql(connection.vendor), [room_id], label="room")
        row = cursor.fetchone()
    if row is None:
        return None
    room, building, campus = from_row(row, Room, Building, Campus)
    building.campus = campus
    room.building = building
    return room


def campus_list() -> QuerySet[Campus]:
    return Campus.objects.order_by("name")


def institution_list() -> QuerySet[Institution]:
    return Institution.objects.select_related("campus").order_by("name")


def building_list() -> QuerySet[Building]:
    return Building.objects.select_related("campus").order_by("campus__name", "code")


def equipment_list() -> QuerySet[Equipment]:
    return Equipment.objects.order_by("name")


def room_list(
    *,
    building_id: int | None = None,
    kind: str | None = None,
    capacity_min: int | None = None,
    equipment: list[str] | None = None,
    step_free: bool | None = None,
    bookable_only: bool = False,
) -> QuerySet[Room]:
    """Return rooms matching every given filter; ``equipment`` codes must all be present."""
    qs = (
        Room.objects.select_related("building", "building__campus", "owner")
        .prefetch_related("equipment", "sections")
        .order_by("building__code", "code")
    )
    if building_id is not None:
        qs = qs.filter(building_id=building_id)
    if kind:
        qs = qs.filter(kind=kind)
    if capacity_min is not None:
        qs = qs.filter(capacity__gte=capacity_min)
    if equipment:
        qs = qs.filter(room_has_equipment(equipment))
    if step_free is not None:
        qs = qs.filter(step_free=step_free)
    if bookable_only:
        qs = qs.filter(is_bookable=True)
    return qs


def room_has_equipment(codes: Iterable[str]) -> Q:
    """Return the condition that a room has every equipment item of ``codes`` (no join: no duplicate rooms)."""
    condition = Q()
    for code in codes:
        condition &= Q(Exists(Room.equipment.through.objects.filter(room_id=OuterRef("pk"), equipment__code=code)))
    return condition


def membership_list_for_user(*, user: User, on: dt.date | None = None) -> QuerySet[Membership]:
    """Return ``user``'s memberships, only those valid ``on`` a day when given."""
    qs = Membership.objects.filter(user=user).select_related("institution", "institution__campus", "campus")
    if on is not None:
        qs = qs.valid_on(on)
    return qs.order_by("pk")


def facility_managers_for_room(*, room: Room, on: dt.date) -> QuerySet[User]:
    """Return the users who decide for ``room`` (whom its requests notify); ``permissions.room_deciders`` answers."""
    return room_deciders(room=room, on=on)


def term_period_list() -> QuerySet[TermPeriod]:
    """Return the terms and breaks of every calendar, in date order."""
    return TermPeriod.objects.select_related("institution", "campus").order_by("start", "kind", "pk")


def breaks_between(*, institution_id: int | None, campus_id: int, first: dt.date, last: dt.date) -> list[TermPeriod]:
    """Return the breaks of the calendar a booking follows that touch [first, last]: the institution's, or the
    campus's for a booking of the campus itself."""
    periods = TermPeriod.objects.filter(kind=TermKind.BREAK, start__lte=last, end__gte=first)
    if institution_id is not None:
        return list(periods.filter(institution_id=institution_id))
    return list(periods.filter(campus_id=campus_id))


def term_holding(day: dt.date, *, institution_id: int | None, campus_id: int | None) -> TermPeriod | None:
    """Return the term (not a break) of the institution's calendar, or else the campus's, that holds ``day``."""
    terms = TermPeriod.objects.filter(kind=TermKind.TERM, start__lte=day, end__gte=day).order_by("end")
    if institution_id is not None:
        return terms.filter(institution_id=institution_id).first()
    return terms.filter(campus_id=campus_id).first() if campus_id is not None else None
