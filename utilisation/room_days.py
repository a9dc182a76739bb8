"""Room days (``RoomDay``): each room's slots of a day, counted the way a report counts them.

A long report (a campus year is millions of slot rows) takes its counts by room and the shares from
these rows instead of the slots. A room day holds, for one group of a day's slots — same booking
institution, booked or not, in core hours or not, in opening hours or not — the sums of
``slot_counts``, the same aggregates a report computes from slots, so the two ways give the same
figures (``tests/utilisation/test_room_days.py`` compares them).

Room days depend on definitions the slots do not: the slot thresholds (settings), each campus's core
hours and each room's weekly opening hours. ``definitions_key`` is a digest of them; the rows were
counted with the definitions ``RollupState.days_key`` names. The rollup (``utilisation.rollups``) counts
again, in the same transaction, the days of the slots it writes, and counts every day again at the
start of a run when the key has changed (``bring_up_to_date``). A report reads room days only while
the key is current (``current``) and reads slots otherwise, so a changed definition is right at once
and fast again after the next rollup run.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections import defaultdict
from collections.abc import Iterable

from django.conf import settings
from django.db import connection, transaction
from django.db.models import BooleanField, Case, Count, FloatField, Max, Q, QuerySet, Sum, Value, When
from django.db.models.functions import Coalesce

from campus.models import Campus, Institution, OpeningHours, Room
from utilisation.calendar import (
    DEFAULT_CORE_END,
    DEFAULT_CORE_START,
    DEFAULT_CORE_WEEKDAYS,
    core_hours,
    opening_hours_filter,
)
from utilisation.models import ROLLUP_STATE_NAME, SLOT_SECONDS, CoreHours, RollupState, RoomDay, RoomSlot


class Thresholds:
    """The settings that make a slot known, in use or booked (read once per report)."""

    def __init__(self) -> None:
        self.known = Q(covered_seconds__gte=round(settings.KAMPUS_SLOT_MIN_COVERAGE * SLOT_SECONDS))
        self.occupied = Q(occupied_seconds__gte=settings.KAMPUS_SLOT_IN_USE_MINUTES * 60)
        self.in_use = self.known & self.occupied
        self.booked = Q(booked_seconds__gte=settings.KAMPUS_SLOT_BOOKED_MINUTES * 60)


# What a group of slots is counted for: slots (of core hours) and seconds (for the shares).
SLOT_COUNTS = ("known", "in_use", "booked", "booked_known", "ghost", "unbooked_use", "headcount_slots")
SHARE_SECONDS = ("seconds_booked", "seconds_used_booked", "seconds_used_unbooked")
GROUP_SUMS = (*SLOT_COUNTS, "headcount_sum", "peak", *SHARE_SECONDS)
# RoomDay's column of each of GROUP_SUMS ("booked" is its flag there).
DAY_COLUMNS = {name: ("booked_slots" if name == "booked" else name) for name in GROUP_SUMS}


def slot_counts(limits: Thresholds) -> dict:
    """Return the aggregates of a group of ``RoomSlot`` rows, named as ``GROUP_SUMS`` (never null but ``peak``)."""
    with_headcount = limits.in_use & Q(mean_count__isnull=False)
    booked_known = limits.booked & limits.known
    return {
        "known": Count("id", filter=limits.known),
        "in_use": Count("id", filter=limits.in_use),
        "booked": Count("id", filter=limits.booked),
        "booked_known": Count("id", filter=booked_known),
        "ghost": Count("id", filter=booked_known & ~limits.occupied),
        "unbooked_use": Count("id", filter=limits.in_use & ~limits.booked),
        "headcount_slots": Count("id", filter=with_headcount),
        "headcount_sum": Coalesce(Sum("mean_count", filter=with_headcount), Value(0.0), output_field=FloatField()),
        "peak": Max("peak_count", filter=limits.known),
        "seconds_booked": Coalesce(Sum("booked_seconds", filter=limits.booked), 0),
        "seconds_used_booked": Coalesce(Sum("occupied_seconds", filter=booked_known), 0),
        "seconds_used_unbooked": Coalesce(Sum("occupied_seconds", filter=limits.known & ~limits.booked), 0),
    }


def day_sums() -> dict:
    """Return the aggregates of a group of ``RoomDay`` rows, named ``day_<name>`` for each of ``GROUP_SUMS``."""
    return {f"day_{name}": Max(column) if name == "peak" else Sum(column) for name, column in DAY_COLUMNS.items()}


# --- which definitions the rows were counted with ---------------------------------------------------------


def definitions_key() -> str:
    """Return a digest of everything room days depend on besides the slots."""
    parts = [
        SLOT_SECONDS,
        settings.KAMPUS_SLOT_MIN_COVERAGE,
        settings.KAMPUS_SLOT_IN_USE_MINUTES,
        settings.KAMPUS_SLOT_BOOKED_MINUTES,
        sorted(DEFAULT_CORE_WEEKDAYS),
        DEFAULT_CORE_START,
        DEFAULT_CORE_END,
        list(CoreHours.objects.order_by("campus_id").values_list("campus_id", "weekdays", "start", "end")),
        list(OpeningHours.objects.order_by("pk").values_list("building_id", "room_id", "weekday", "opens", "closes")),
        # A room's opening hours are its building's unless it has its own.
        list(Room.objects.order_by("pk").values_list("pk", "building_id")),
    ]
    return hashlib.sha256(repr(parts).encode()).hexdigest()


def current() -> bool:
    """Return whether the room days were counted with the definitions in force."""
    stored = RollupState.objects.filter(name=ROLLUP_STATE_NAME).values_list("days_key", flat=True).first()
    return bool(stored) and stored == definitions_key()


def institution_deleting(sender, instance: Institution, **kwargs) -> None:
    """Before an institution goes: take its room days out and mark the rest out of date.

    Its slots' booker becomes null (``SET_NULL``); its room days would become null too and collide with the
    null ones of the same groups. Reports read slots until the next rollup run counts every day again.
    """
    RoomDay.objects.filter(booked_institution=instance).delete()
    RollupState.objects.filter(name=ROLLUP_STATE_NAME).update(days_key="")


# --- counting them --------------------------------------------------------------------------------------


def bring_up_to_date() -> int | None:
    """Count every room day again if the definitions changed since they were counted; return the rows written
    (None when they were current)."""
    key = definitions_key()
    with transaction.atomic():
        state, _ = RollupState.objects.select_for_update().get_or_create(name=ROLLUP_STATE_NAME)
        if state.days_key == key:
            return None
        _lock_room_days()
        RoomDay.objects.all().delete()
        written = sum(_insert_days(campus, RoomSlot.objects.filter(campus=campus)) for campus in Campus.objects.all())
        RollupState.objects.filter(pk=state.pk).update(days_key=key)
        if connection.vendor == "postgresql":
            # The planner's statistics of the new rows at once: with none it sorts a year's rows instead of hashing.
            with connection.cursor() as cursor:
                cursor.execute(f"ANALYZE {connection.ops.quote_name(RoomDay._meta.db_table)}")
    return written


def recount_days(room_ids: Iterable[int], first_day: dt.date, last_day: dt.date, campus_of: dict[int, int]) -> None:
    """Count again the days ``first_day``–``last_day`` of the rooms ``room_ids`` from their slots.

    Runs inside the caller's transaction (the one that wrote the slots), so the rows never disagree with them.
    """
    _lock_room_days()
    by_campus: dict[int, list[int]] = defaultdict(list)
    for room_id in room_ids:
        by_campus[campus_of[room_id]].append(room_id)
    days = Q(local_date__gte=first_day, local_date__lte=last_day)
    for campus_id, campus_room_ids in by_campus.items():
        RoomDay.objects.filter(days, room_id__in=campus_room_ids).delete()
        campus = Campus.objects.get(pk=campus_id)
        _insert_days(campus, RoomSlot.objects.filter(days, campus=campus, room_id__in=campus_room_ids))


# The key of the PostgreSQL advisory lock held by whoever counts room days (``_lock_room_days``).
ROOM_DAYS_LOCK = 0x6B616D70_75730001


def _lock_room_days() -> None:
    """Hold the room days' lock until the transaction ends, so two counts of the same days follow one another.

    Two rollup runs recounting a day at once would otherwise both insert it: the second's delete waits on
    rows the first deleted, finds them gone and misses the first's new ones. SQLite writes one at a time.
    """
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [ROOM_DAYS_LOCK])


INSERTED = [
    "room_id",
    "campus_id",
    "local_date",
    "booked_institution_id",
    "booked",
    "core",
    "opening",
    *DAY_COLUMNS.values(),
]


def _flag(condition: Q) -> Case:
    # Not a bare condition: one that holds for no row (a campus without opening hours) compiles to the number 0,
    # which PostgreSQL does not store in a boolean column.
    return Case(When(condition, then=Value(True)), default=Value(False), output_field=BooleanField())


def _insert_days(campus: Campus, slots: QuerySet[RoomSlot]) -> int:
    """Insert the room days of ``slots`` (rows of ``campus``) with one INSERT … SELECT; return the rows."""
    limits = Thresholds()
    rooms = list(Room.objects.filter(building__campus=campus))
    groups = (
        slots.annotate(
            is_booked=_flag(limits.booked),
            in_core=_flag(core_hours(campus).q()),
            in_opening=_flag(opening_hours_filter(rooms, among={room.pk for room in rooms})),
        )
        .values("room_id", "campus_id", "local_date", "booked_institution_id", "is_booked", "in_core", "in_opening")
        .annotate(**slot_counts(limits))
        .order_by()
    )
    select, params = groups.query.sql_with_params()
    table = connection.ops.quote_name(RoomDay._meta.db_table)
    columns = ", ".join(connection.ops.quote_name(name) for name in INSERTED)
    with connection.cursor() as cursor:
        cursor.execute(f"INSERT INTO {table} ({columns}) {select}", params)
        return cursor.rowcount
