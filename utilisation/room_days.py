"""Room days (``RoomDay``): each room's slots of a day, counted the way a report counts them.

A long report (a campus year is millions of slot rows) takes its counts by room and the shares from
these rows instead of the slots. A room day holds, for one group of a day's slots — same booking
institution, booked or not, in core hours or not, in opening hours or not — the sums of
``slot_counts``, the same aggregates a report computes from slots, so the two ways give the same
figures (``tests/utilisation/test_room_days.py`` compares them).

Room days depend on definitions the slots do not: the slot thresholds (settings), each campus's core
hours, each room's weekly opening hours (its own or its building's, so which building it is in) and the
way they are counted (``ROOM_DAYS_VERSION``). ``definitions_key`` is a digest of them; the rows were
counted with the definitions ``RollupState.days_key`` names. The rollup (``utilisation.rollups``) counts
again, in the same transaction, the days of the slots it writes. When the key has changed, each rollup
run, after its slots, counts every day again a week at a time for as long as ``KAMPUS_ROOM_DAYS_SECONDS``
allows, and the next run goes on from there (``bring_up_to_date``). A report reads room days only while
the key is current (``current``) and reads slots otherwise, so a changed definition is right at once
and fast again once every day has been counted.

Each slot counts under the campus it was rolled up with (a room moved to another campus keeps its old
slots there) and in that campus's core hours.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import time
from collections.abc import Collection

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


# Raise when the way room days are counted from slots changes: the next rollup runs count every day again.
ROOM_DAYS_VERSION = 2


def definitions_key() -> str:
    """Return a digest of everything room days depend on besides the slots."""
    parts = [
        ROOM_DAYS_VERSION,
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
    lock_room_days()
    RoomDay.objects.filter(booked_institution=instance).delete()
    # A count of every day that was under way starts over: the weeks it counted hold the institution's slots.
    RollupState.objects.filter(name=ROLLUP_STATE_NAME).update(
        days_key="", days_counting_key="", days_counted_until=None
    )


def forget_if_out_of_date() -> None:
    """Mark the room days out of date (a full count to come) if the definitions changed since they were counted.

    A rollup calls it before it writes slots: it counts their days with the definitions in force, so the rows
    then hold two sets of definitions, and were the change undone before every day was counted again, the old
    key would look current.
    """
    key = definitions_key()
    RollupState.objects.filter(name=ROLLUP_STATE_NAME).exclude(days_key__in=[key, ""]).update(days_key="")


# --- counting them --------------------------------------------------------------------------------------
#
# Whoever writes room days (the rollup's slot writes, counting every day again, an institution's deletion)
# takes the advisory lock (``lock_room_days``) first, before any row lock, so they follow one another and
# never wait on each other in a cycle.

# Counting every day again goes a week of days at a time, one transaction each, so that a rollup run ends
# within its task's time (a year of 1,000 rooms is 15 million slots) and the next run goes on from there.
PIECE_DAYS = 7


def bring_up_to_date(*, deadline: float | None = None) -> int | None:
    """Count every room day again, a week at a time, if the definitions changed since they were counted; return
    the rows written (None when they were current).

    Goes on where an earlier call stopped (``RollupState.days_counted_until``) while the definitions it counted
    with still hold, else starts over. With a ``deadline`` (a ``time.monotonic()`` value) it stops after the
    week that passes it, at least one week a call; without one it goes to the end.
    """
    key = definitions_key()
    if RollupState.objects.filter(name=ROLLUP_STATE_NAME, days_key=key).exists():
        return None
    written = 0
    while True:
        with transaction.atomic():
            lock_room_days()
            state, _ = RollupState.objects.select_for_update().get_or_create(name=ROLLUP_STATE_NAME)
            if state.days_key == key:
                return written
            if state.days_counting_key != key:
                # Out of date from the first week on, whatever the definitions do meanwhile (undone, say).
                state.days_key, state.days_counting_key, state.days_counted_until = "", key, None
            span_first, span_last = _counted_span()
            first_day = span_first
            if state.days_counted_until is not None:
                first_day = state.days_counted_until + dt.timedelta(days=1)
            piece_last = first_day + dt.timedelta(days=PIECE_DAYS - 1) if first_day else None
            finished = span_last is None or piece_last >= span_last
            if span_last is not None:
                written += _count_days(first_day, piece_last)
            state.days_counted_until = piece_last
            if finished:
                state.days_key, state.days_counting_key, state.days_counted_until = key, "", None
            state.save(update_fields=["days_key", "days_counting_key", "days_counted_until", "updated_at"])
        if finished and connection.vendor == "postgresql":
            # The planner's statistics of the new rows at once (after the commit, holding no lock): with none it
            # sorts a year's rows instead of hashing.
            with connection.cursor() as cursor:
                cursor.execute(f"ANALYZE {connection.ops.quote_name(RoomDay._meta.db_table)}")
        if finished or (deadline is not None and time.monotonic() >= deadline):
            return written


def _counted_span() -> tuple[dt.date | None, dt.date | None]:
    """Return the first and last day that has slots or room days (None, None when neither has any)."""
    days: list[dt.date] = []
    for campus_id in Campus.objects.values_list("pk", flat=True):
        # By each campus: its index on (campus, start) and (campus, local date) finds the ends.
        slots = RoomSlot.objects.filter(campus_id=campus_id).values_list("local_date", flat=True)
        counted = RoomDay.objects.filter(campus_id=campus_id).values_list("local_date", flat=True)
        days += [slots.order_by("start").first(), slots.order_by("-start").first()]
        days += [counted.order_by("local_date").first(), counted.order_by("-local_date").first()]
    days = [day for day in days if day is not None]
    return (min(days), max(days)) if days else (None, None)


def _count_days(first_day: dt.date, last_day: dt.date) -> int:
    """Count the days ``first_day``–``last_day`` of every room again; return the rows written."""
    days = _days_filter(first_day, last_day)
    slots = RoomSlot.objects.filter(days, _starts_filter(first_day, last_day))
    rooms = list(Room.objects.all())
    opening = opening_hours_filter(rooms, among={room.pk for room in rooms})
    written = 0
    for campus in Campus.objects.all():
        RoomDay.objects.filter(days, campus=campus).delete()
        written += _insert_days(campus, slots.filter(campus=campus), opening)
    return written


def recount_days(room_ids: Collection[int], first_day: dt.date, last_day: dt.date) -> None:
    """Count again the days ``first_day``–``last_day`` of the rooms ``room_ids`` from their slots.

    Runs inside the caller's transaction (the one that wrote the slots), so the rows never disagree with them.
    A room moved to another campus keeps the slots it had there: each slot counts under its own campus.
    """
    lock_room_days()
    days = _days_filter(first_day, last_day)
    RoomDay.objects.filter(days, room_id__in=room_ids).delete()
    slots = RoomSlot.objects.filter(days, _starts_filter(first_day, last_day), room_id__in=room_ids)
    opening = opening_hours_filter(Room.objects.filter(pk__in=room_ids), among=room_ids)
    for campus in Campus.objects.filter(pk__in=slots.values("campus_id")):
        _insert_days(campus, slots.filter(campus=campus), opening)


def _days_filter(first_day: dt.date, last_day: dt.date) -> Q:
    return Q(local_date__gte=first_day, local_date__lte=last_day)


def _starts_filter(first_day: dt.date, last_day: dt.date) -> Q:
    """Return a filter of slots by start that holds every slot of those local days, in any zone (±14 h), so
    the indexes on start serve what the local dates alone would not."""
    start = dt.datetime.combine(first_day, dt.time(), tzinfo=dt.UTC) - dt.timedelta(days=1)
    end = dt.datetime.combine(last_day, dt.time(), tzinfo=dt.UTC) + dt.timedelta(days=2)
    return Q(start__gte=start, start__lt=end)


# The key of the PostgreSQL advisory lock held by whoever writes room days (``lock_room_days``).
ROOM_DAYS_LOCK = 0x6B616D70_75730001


def lock_room_days() -> None:
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


def _insert_days(campus: Campus, slots: QuerySet[RoomSlot], opening: Q) -> int:
    """Insert the room days of ``slots`` (rows of ``campus``, counted in its core hours) with one INSERT … SELECT;
    ``opening`` is the filter of their rooms' opening hours. Return the rows written."""
    limits = Thresholds()
    groups = (
        slots.annotate(
            is_booked=_flag(limits.booked),
            in_core=_flag(core_hours(campus).q()),
            in_opening=_flag(opening),
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
