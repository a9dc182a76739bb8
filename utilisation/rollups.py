"""Turn raw readings and bookings into room slots (``RoomSlot``) and booking use (``BookingUse``).

The measured side of a room is a timeline: each reading holds from its time until the next reading of
its sensor, at most ``KAMPUS_READING_GAP_MINUTES`` and never past the time of the rollup; after that
the room has no data. Several sensors in one room are merged moment by moment: covered where any
sensor has data, occupied where any says so (a count above zero or presence), and the headcount is
the highest count of the counters holding at that moment. Several counters in one room watch the same
people (a second door, a replacement running beside the old one), so summing them would count people
twice; the highest count never claims more people than one counter saw.

The booked side of a room is the union of the confirmed bookings, and of released ones until their
release, that block one of the room's parts (``bookings.parts.room_parts``): booking one section of a
divisible hall books part of the hall, and booking the hall books each section.

Every slot the rollup writes is recomputed whole from the raw rows, so rolling a slot twice gives
the same row, late readings are handled by rolling again exactly the slots they touch, and a row whose
values did not change is not written. ``docs/metrics.md`` ("From readings to slots") defines every
field.
"""

from __future__ import annotations

import bisect
import datetime as dt
import functools
import itertools
import math
import time
import zoneinfo
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.db.models import F, Q
from django.utils import timezone

from bookings.models import Booking, BookingEvent, BookingStatus
from campus.models import Campus, Room
from sensors.models import Reading
from utilisation import room_days
from utilisation.models import ROLLUP_STATE_NAME, SLOT_SECONDS, BookingUse, RollupState, RoomSlot

# Ingest commits a moment after a reading's received_at and a booking service after its updated_at:
# each run looks this far back again, so nothing committed late is missed (rolling twice is harmless).
SETTLE = dt.timedelta(minutes=2)
# How far past a booking's end the rollup looks for the occupancy running on (an overrun).
OVERRUN_LOOKAHEAD_SECONDS = 60 * 60
# A worker that was down catches up in windows of this length, saving its progress after each.
BACKLOG_WINDOW = dt.timedelta(days=1)
ROOMS_PER_CHUNK = 250
# Touched slots closer together than this are read in one query; a window never spans more than a day.
CLUSTER_GAP_SLOTS = 8
CLUSTER_MAX_SLOTS = 96
WRITE_BATCH = 2000

USED_STATUSES = (BookingStatus.CONFIRMED, BookingStatus.RELEASED)
SLOT_FIELDS = [
    "campus",
    "local_date",
    "local_minute",
    "iso_weekday",
    "covered_seconds",
    "occupied_seconds",
    "mean_count",
    "peak_count",
    "booked_seconds",
    "booked_institution",
    "rolled_at",
]
USE_FIELDS = [
    "room",
    "campus",
    "start",
    "end",
    "covered_seconds",
    "occupied_seconds",
    "first_presence_at",
    "last_presence_at",
    "no_show",
    "rolled_at",
]


@dataclass
class RollupResult:
    """What one rollup did: slots computed, rows written (new or changed) and deleted, the state's version."""

    slots_rolled: int = 0
    slots_written: int = 0
    slots_deleted: int = 0
    uses_written: int = 0
    uses_deleted: int = 0
    version: int = 0

    @property
    def changed(self) -> bool:
        return bool(self.slots_written or self.slots_deleted or self.uses_written or self.uses_deleted)

    def add(self, other: RollupResult) -> None:
        self.slots_rolled += other.slots_rolled
        self.slots_written += other.slots_written
        self.slots_deleted += other.slots_deleted
        self.uses_written += other.uses_written
        self.uses_deleted += other.uses_deleted

    def __str__(self) -> str:
        return (
            f"{self.slots_rolled} slots rolled up ({self.slots_written} written, {self.slots_deleted} deleted), "
            f"{self.uses_written} booking uses written, {self.uses_deleted} deleted; version {self.version}"
        )


# --- Entry points ---------------------------------------------------------------------------------------


def rollup_pending(*, now: dt.datetime | None = None) -> RollupResult:
    """Roll up the slots and booking uses that readings received and bookings changed since the last run touch.

    Also rolls the slots that have started since the last run (a booking made in advance becomes a
    booked slot when its time comes) and the slots whose readings the last run cut at its time.
    Progress is saved in ``RollupState`` after each window of at most ``BACKLOG_WINDOW``.
    """
    started = time.monotonic()
    now = now or timezone.now()
    state, _ = RollupState.objects.get_or_create(name=ROLLUP_STATE_NAME)
    room_days.forget_if_out_of_date()
    marks = [mark for mark in (state.readings_until, state.bookings_until) if mark is not None]
    since = min(marks) - SETTLE if len(marks) == 2 else _earliest_change(now)
    estate = _Estate.load()
    result = RollupResult()
    while True:
        until = since + BACKLOG_WINDOW
        last = until >= now
        part = _roll_changes(since=since, until=None if last else until, now=now, estate=estate)
        result.add(part)
        _save_state(mark=now if last else until, changed=part.changed)
        if last:
            break
        since = until
    # After the slots, so a long count of every day again never holds them up.
    room_days.bring_up_to_date(deadline=started + settings.KAMPUS_ROOM_DAYS_SECONDS)
    result.version = RollupState.objects.get(name=ROLLUP_STATE_NAME).version
    return result


def rollup_range(
    *,
    start: dt.datetime,
    end: dt.datetime,
    rooms: Iterable[Room] | None = None,
    campus: Campus | None = None,
    now: dt.datetime | None = None,
) -> RollupResult:
    """Roll up every started slot of [start, end) of ``rooms`` (or the campus's rooms, or all rooms).

    Booking uses of the bookings those slots overlap are rolled up too, and those of bookings no
    longer confirmed or released are deleted. Computes each slot exactly as ``rollup_pending`` does.
    """
    now = now or timezone.now()
    if rooms is not None:
        room_ids = sorted({room.pk for room in rooms})
    else:
        queryset = Room.objects.all() if campus is None else Room.objects.filter(building__campus=campus)
        room_ids = sorted(queryset.values_list("pk", flat=True))
    room_days.forget_if_out_of_date()
    estate = _Estate.load()
    first = math.floor(start.timestamp() / SLOT_SECONDS)
    stop = min(math.ceil(end.timestamp() / SLOT_SECONDS), math.ceil(now.timestamp() / SLOT_SECONDS))
    result = RollupResult()
    for day_first in range(first, stop, CLUSTER_MAX_SLOTS):
        slots = range(day_first, min(day_first + CLUSTER_MAX_SLOTS, stop))
        result.add(
            _roll({room_id: set(slots) for room_id in room_ids}, changed_booking_ids=set(), now=now, estate=estate)
        )
    if result.changed:
        RollupState.objects.get_or_create(name=ROLLUP_STATE_NAME)
        RollupState.objects.filter(name=ROLLUP_STATE_NAME).update(version=F("version") + 1, updated_at=timezone.now())
    room_days.bring_up_to_date()
    state = RollupState.objects.filter(name=ROLLUP_STATE_NAME).first()
    result.version = state.version if state is not None else 0
    return result


# --- Which slots changes touch ------------------------------------------------------------------------


def _earliest_change(now: dt.datetime) -> dt.datetime:
    """Return a time before every reading, booking change and booking event (the first run starts there)."""
    candidates = [
        Reading.objects.order_by("pk").values_list("received_at", flat=True).first(),
        Booking.objects.order_by("updated_at").values_list("updated_at", flat=True).first(),
        BookingEvent.objects.order_by("at").values_list("at", flat=True).first(),
    ]
    known = [moment for moment in candidates if moment is not None]
    # Readings are stored in arrival order, so the first by id was received about first; a day's margin.
    return min(known) - dt.timedelta(days=1) if known else now


def _save_state(*, mark: dt.datetime, changed: bool) -> None:
    RollupState.objects.filter(name=ROLLUP_STATE_NAME).update(
        readings_until=mark,
        bookings_until=mark,
        version=F("version") + (1 if changed else 0),
        updated_at=timezone.now(),
    )


def _gap_seconds() -> float:
    return settings.KAMPUS_READING_GAP_MINUTES * 60.0


def _touch(touched: dict[int, set[int]], room_ids: Iterable[int], start: float, end: float, now: float) -> None:
    """Mark the started slots of ``room_ids`` that overlap [start, end) (epoch seconds)."""
    first = math.floor(start / SLOT_SECONDS)
    stop = min(math.ceil(end / SLOT_SECONDS), math.ceil(now / SLOT_SECONDS))
    if stop <= first:
        return
    slots = range(first, stop)
    for room_id in room_ids:
        touched[room_id].update(slots)


def _roll_changes(*, since: dt.datetime, until: dt.datetime | None, now: dt.datetime, estate: _Estate) -> RollupResult:
    """Roll up what readings received and bookings changed in [since, until) touch, and slots started then."""
    now_s = now.timestamp()
    touched: dict[int, set[int]] = defaultdict(set)
    gap = _gap_seconds()
    # A reading changes the slots it holds in and those where it cuts the holding of the one before it.
    # Readings the last run cut at its time (their holding ran past it) count as new.
    for room_id, first, last in _slots_touched_by_readings(since=since, until=until, gap=gap):
        if room_id in estate.sharing:
            _touch(touched, [room_id], first * SLOT_SECONDS, (last + 1) * SLOT_SECONDS, now_s)

    changed = Booking.objects.filter(updated_at__gte=since)
    events = BookingEvent.objects.filter(at__gte=since)
    if until is not None:
        changed, events = changed.filter(updated_at__lt=until), events.filter(at__lt=until)
    changed_ids = set(changed.values_list("pk", flat=True))
    for booking_id, before in events.values_list("booking_id", "before"):
        changed_ids.add(booking_id)
        # A moved booking frees its old time: roll that range too.
        if before and before.get("room_id") in estate.sharing and before.get("start") and before.get("end"):
            start, end = dt.datetime.fromisoformat(before["start"]), dt.datetime.fromisoformat(before["end"])
            _touch(touched, estate.sharing[before["room_id"]], start.timestamp(), end.timestamp(), now_s)
    for room_id, start, end in Booking.objects.filter(pk__in=changed_ids).values_list("room_id", "start", "end"):
        if room_id in estate.sharing:
            _touch(touched, estate.sharing[room_id], start.timestamp(), end.timestamp(), now_s)

    # Slots that started in the window: bookings made in advance become booked slots when their time comes.
    started_until = now if until is None else min(until, now)
    passing = Booking.objects.filter(status__in=USED_STATUSES, start__lt=started_until, end__gt=since)
    window_start = math.floor(since.timestamp() / SLOT_SECONDS) * SLOT_SECONDS
    for room_id, start, end, released_at in passing.values_list("room_id", "start", "end", "released_at"):
        if room_id in estate.sharing:
            end = min(end, released_at) if released_at is not None else end
            _touch(
                touched,
                estate.sharing[room_id],
                max(start.timestamp(), window_start),
                min(end.timestamp(), started_until.timestamp()),
                now_s,
            )
    return _roll(touched, changed_booking_ids=changed_ids, now=now, estate=estate)


def _slots_touched_by_readings(
    *, since: dt.datetime, until: dt.datetime | None, gap: float
) -> Iterator[tuple[int, int, int]]:
    """Yield (room, first slot, last slot) of the readings received in [since, until) or timed since ``since`` - gap.

    A reading at ``ts`` touches the slots overlapping [ts - gap, ts + gap): it holds for up to the
    gap, and it cuts the holding of the reading before it, which started at most the gap earlier.
    """
    recent_from = since - dt.timedelta(seconds=gap)
    if connection.vendor == "postgresql":
        received = "received_at >= %s" + ("" if until is None else " AND received_at < %s")
        timed = "ts >= %s" + ("" if until is None else " AND ts < %s")
        params: list[Any] = [gap, SLOT_SECONDS, gap, SLOT_SECONDS, since]
        params += [] if until is None else [until]
        params += [recent_from] + ([] if until is None else [until])
        sql = (
            "SELECT room_id, floor((e - %s) / %s)::bigint, (ceil((e + %s) / %s) - 1)::bigint FROM "
            f"(SELECT room_id, EXTRACT(EPOCH FROM ts)::float8 AS e FROM {Reading._meta.db_table} "
            f"WHERE ({received}) OR ({timed})) AS recent GROUP BY 1, 2, 3"
        )
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            yield from cursor.fetchall()
        return
    received_q = Q(received_at__gte=since) & (Q() if until is None else Q(received_at__lt=until))
    timed_q = Q(ts__gte=recent_from) & (Q() if until is None else Q(ts__lt=until))
    seen: set[tuple[int, int, int]] = set()
    for room_id, ts in Reading.objects.filter(received_q | timed_q).values_list("room_id", "ts").iterator():
        moment = ts.timestamp()
        key = (room_id, math.floor((moment - gap) / SLOT_SECONDS), math.ceil((moment + gap) / SLOT_SECONDS) - 1)
        if key not in seen:
            seen.add(key)
            yield key


# --- The rooms: parts, campus, zone -------------------------------------------------------------------


@dataclass(frozen=True)
class _Estate:
    """What the rollup needs of every room: its campus and zone, and the rooms that share a part with it."""

    campus: dict[int, int]
    zone: dict[int, zoneinfo.ZoneInfo]
    # room → the rooms whose bookings book it (and whose slots its bookings book): sharing a part.
    sharing: dict[int, frozenset[int]]

    @classmethod
    def load(cls) -> _Estate:
        campus: dict[int, int] = {}
        zone: dict[int, zoneinfo.ZoneInfo] = {}
        zones: dict[str, zoneinfo.ZoneInfo] = {}
        for room_id, campus_id, time_zone in Room.objects.values_list(
            "pk", "building__campus_id", "building__campus__time_zone"
        ):
            campus[room_id] = campus_id
            zone[room_id] = zones.setdefault(time_zone, zoneinfo.ZoneInfo(time_zone))
        sections: dict[int, set[int]] = defaultdict(set)
        for whole, section in Room.sections.through.objects.values_list("from_room_id", "to_room_id"):
            sections[whole].add(section)
        parts = {room_id: sections.get(room_id) or {room_id} for room_id in campus}
        by_part: dict[int, set[int]] = defaultdict(set)
        for room_id, room_parts in parts.items():
            for part in room_parts:
                by_part[part].add(room_id)
        sharing = {
            room_id: frozenset().union(*(by_part[part] for part in room_parts)) for room_id, room_parts in parts.items()
        }
        return cls(campus=campus, zone=zone, sharing=sharing)


@functools.lru_cache(maxsize=1 << 16)
def _local(zone: zoneinfo.ZoneInfo, slot: int) -> tuple[dt.date, int, int]:
    """Return the campus-local date, minute of the day and ISO weekday of the slot's start."""
    local = dt.datetime.fromtimestamp(slot * SLOT_SECONDS, tz=zone)
    return local.date(), local.hour * 60 + local.minute, local.isoweekday()


# --- Rolling a set of slots ---------------------------------------------------------------------------


@dataclass
class _Booking:
    pk: int
    room_id: int
    campus_id: int
    institution_id: int | None
    start: float
    end: float  # booked end
    until: float  # booked end, or the release when released earlier
    start_at: dt.datetime
    end_at: dt.datetime
    checked_in: float | None = None  # when the booker checked in (a check-in counts as presence)


@dataclass
class _Chunk:
    room_ids: list[int]
    first: int  # first slot of the window
    stop: int  # slot after the window
    touched: dict[int, set[int]] = field(default_factory=dict)


def _clusters(touched: dict[int, set[int]]) -> Iterator[_Chunk]:
    """Split the touched (room, slot) pairs into windows of nearby slots and chunks of rooms, one query each."""
    every = sorted(set().union(*touched.values())) if touched else []
    windows: list[tuple[int, int]] = []
    for slot in every:
        if windows and slot - windows[-1][1] <= CLUSTER_GAP_SLOTS and slot - windows[-1][0] < CLUSTER_MAX_SLOTS:
            windows[-1] = (windows[-1][0], slot)
        else:
            windows.append((slot, slot))
    for first, last in windows:
        in_window = {}
        for room_id, slots in touched.items():
            mine = {slot for slot in slots if first <= slot <= last}
            if mine:
                in_window[room_id] = mine
        room_ids = sorted(in_window)
        for at in range(0, len(room_ids), ROOMS_PER_CHUNK):
            chunk_rooms = room_ids[at : at + ROOMS_PER_CHUNK]
            yield _Chunk(chunk_rooms, first, last + 1, {room_id: in_window[room_id] for room_id in chunk_rooms})


def _roll(
    touched: dict[int, set[int]], *, changed_booking_ids: set[int], now: dt.datetime, estate: _Estate
) -> RollupResult:
    """Recompute the touched slots and the uses of the bookings they overlap; write what changed."""
    result = RollupResult()
    touched = {room_id: slots for room_id, slots in touched.items() if slots and room_id in estate.sharing}
    for chunk in _clusters(touched):
        result.add(_roll_chunk(chunk, changed_booking_ids=changed_booking_ids, now=now, estate=estate))
    if changed_booking_ids:
        # Uses of bookings cancelled, rejected or moved into the future since they were rolled up.
        result.uses_deleted += (
            BookingUse.objects.filter(booking_id__in=changed_booking_ids).filter(_unused_q(now)).delete()[0]
        )
    return result


def _unused_q(now: dt.datetime) -> Q:
    """Return the filter of booking uses whose booking should have none: not confirmed or released, or not started."""
    return (
        ~Q(booking__status__in=USED_STATUSES)
        | Q(booking__start__gte=now)
        | Q(booking__status=BookingStatus.RELEASED, booking__released_at__lte=F("booking__start"))
    )


def _load_bookings(room_ids: Iterable[int], start: float, end: float) -> list[_Booking]:
    """Return the confirmed and released bookings of ``room_ids`` overlapping [start, end), by start."""
    rows = (
        Booking.objects.filter(
            room_id__in=list(room_ids),
            status__in=USED_STATUSES,
            start__lt=dt.datetime.fromtimestamp(end, tz=dt.UTC),
            end__gt=dt.datetime.fromtimestamp(start, tz=dt.UTC),
        )
        .order_by("start", "pk")
        .values_list("pk", "room_id", "campus_id", "institution_id", "start", "end", "released_at", "checked_in_at")
    )
    bookings = []
    for pk, room_id, campus_id, institution_id, start_at, end_at, released_at, checked_in_at in rows:
        until_at = min(end_at, released_at) if released_at is not None else end_at
        if until_at > start_at:
            bookings.append(
                _Booking(
                    pk,
                    room_id,
                    campus_id,
                    institution_id,
                    start_at.timestamp(),
                    end_at.timestamp(),
                    until_at.timestamp(),
                    start_at,
                    end_at,
                    checked_in_at.timestamp() if checked_in_at is not None else None,
                )
            )
    return bookings


def _load_readings(
    room_ids: list[int], start: float, end: float
) -> list[tuple[int, int, float, int | None, bool | None]]:
    """Return (room, sensor, epoch seconds, count, present) of the rooms' readings in [start, end), in order."""
    start_at, end_at = dt.datetime.fromtimestamp(start, tz=dt.UTC), dt.datetime.fromtimestamp(end, tz=dt.UTC)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT room_id, sensor_id, EXTRACT(EPOCH FROM ts)::float8, count, present "
                f"FROM {Reading._meta.db_table} WHERE room_id = ANY(%s) AND ts >= %s AND ts < %s "
                "ORDER BY room_id, sensor_id, ts",
                [room_ids, start_at, end_at],
            )
            return cursor.fetchall()
    rows = (
        Reading.objects.filter(room_id__in=room_ids, ts__gte=start_at, ts__lt=end_at)
        .order_by("room_id", "sensor_id", "ts")
        .values_list("room_id", "sensor_id", "ts", "count", "present")
    )
    return [(room_id, sensor_id, ts.timestamp(), count, present) for room_id, sensor_id, ts, count, present in rows]


Piece = tuple[float, float, "int | None", bool]  # [start, end), headcount (None: presence only), occupied


def _timeline(sensors: list[list[tuple[float, int | None, bool | None]]], *, gap: float, now: float) -> list[Piece]:
    """Return the room's data as sorted, disjoint pieces (see the module docstring for how sensors merge)."""
    segments_of = []
    for readings in sensors:
        segments = []
        for index, (moment, count, present) in enumerate(readings):
            following = readings[index + 1][0] if index + 1 < len(readings) else math.inf
            end = min(following, moment + gap, now)
            if end > moment:
                segments.append((moment, end, count, count > 0 if count is not None else bool(present)))
        if segments:
            segments_of.append(segments)
    if len(segments_of) <= 1:
        return segments_of[0] if segments_of else []
    bounds = sorted({bound for segments in segments_of for segment in segments for bound in segment[:2]})
    cursors = [0] * len(segments_of)
    pieces: list[Piece] = []
    for left, right in itertools.pairwise(bounds):
        covered = occupied = False
        headcount: int | None = None
        for which, segments in enumerate(segments_of):
            index = cursors[which]
            while index < len(segments) and segments[index][1] <= left:
                index += 1
            cursors[which] = index
            if index < len(segments) and segments[index][0] <= left:
                _, _, count, occupied_here = segments[index]
                covered = True
                occupied = occupied or occupied_here
                if count is not None and (headcount is None or count > headcount):
                    headcount = count
        if covered:
            pieces.append((left, right, headcount, occupied))
    return pieces


def _slot_measures(pieces: list[Piece], slots: set[int]) -> dict[int, list[float]]:
    """Sum each slot's covered, occupied and counted seconds, count × seconds, and the peak, over ``pieces``."""
    measures: dict[int, list[float]] = {}
    for start, end, count, occupied in pieces:
        slot = int(start // SLOT_SECONDS)
        while True:
            slot_end = (slot + 1) * SLOT_SECONDS
            piece_end = end if end < slot_end else slot_end
            if slot in slots:
                length = piece_end - start
                entry = measures.get(slot)
                if entry is None:
                    entry = measures[slot] = [0.0, 0.0, 0.0, 0.0, -1.0]
                entry[0] += length
                if occupied:
                    entry[1] += length
                if count is not None:
                    entry[2] += length
                    entry[3] += count * length
                    if count > entry[4]:
                        entry[4] = count
            if end <= slot_end:
                break
            start, slot = slot_end, slot + 1
    return measures


def _booked(bookings: list[_Booking], slots: set[int]) -> dict[int, tuple[float, int | None]]:
    """Return each slot's booked seconds (union of ``bookings``) and the institution of the booking holding most."""
    pieces_of: dict[int, list[tuple[float, float, _Booking]]] = defaultdict(list)
    for booking in bookings:
        for slot in range(int(booking.start // SLOT_SECONDS), math.ceil(booking.until / SLOT_SECONDS)):
            if slot in slots:
                start = max(booking.start, slot * SLOT_SECONDS)
                end = min(booking.until, (slot + 1) * SLOT_SECONDS)
                if end > start:
                    pieces_of[slot].append((start, end, booking))
    booked = {}
    for slot, pieces in pieces_of.items():
        pieces.sort(key=lambda piece: (piece[0], piece[2].pk))
        total, reach = 0.0, -math.inf
        for start, end, _ in pieces:
            if end > reach:
                total += end - max(start, reach)
                reach = end
        # Most seconds; on a tie the earlier booking, then the older one.
        holder = min(pieces, key=lambda piece: (-(piece[1] - piece[0]), piece[2].start, piece[2].pk))[2]
        booked[slot] = (total, holder.institution_id)
    return booked


def _occupied_runs(pieces: list[Piece], start: float, end: float) -> list[tuple[float, float]]:
    """Return the spans of continuous occupancy that overlap [start, end), whole (a span may run on past ``end``)."""
    runs: list[tuple[float, float]] = []
    ends = [piece[1] for piece in pieces]
    for piece_start, piece_end, _, occupied in pieces[bisect.bisect_right(ends, start) :]:
        continues = bool(runs) and runs[-1][1] == piece_start
        if piece_start >= end and not (occupied and continues):
            break
        if not occupied:
            continue
        if continues:
            runs[-1] = (runs[-1][0], piece_end)
        else:
            runs.append((piece_start, piece_end))
    return runs


def _overlap(pieces: list[Piece], start: float, end: float) -> tuple[float, float]:
    """Return the covered and the occupied seconds of ``pieces`` within [start, end)."""
    covered = occupied = 0.0
    ends = [piece[1] for piece in pieces]
    for piece_start, piece_end, _, is_occupied in pieces[bisect.bisect_right(ends, start) :]:
        if piece_start >= end:
            break
        length = min(piece_end, end) - max(piece_start, start)
        covered += length
        if is_occupied:
            occupied += length
    return covered, occupied


def _use(booking: _Booking, pieces: list[Piece], next_start: float) -> dict[str, Any]:
    """Return the BookingUse values of ``booking`` from its room's pieces; ``next_start``: the next booking's start."""
    covered, occupied = _overlap(pieces, booking.start, booking.until)
    # Occupancy running on past the end is followed for an hour, or until the next booking begins.
    horizon = min(booking.until + OVERRUN_LOOKAHEAD_SECONDS, max(next_start, booking.until))
    runs = _occupied_runs(pieces, booking.start, horizon)
    inside = [(start, end) for start, end in runs if start < booking.until and end > booking.start]
    first_presence = last_presence = None
    if inside:
        first_presence = max(inside[0][0], booking.start)
        last_end = inside[-1][1]
        last_presence = min(last_end, horizon) if last_end >= booking.until else last_end
    window_end = min(booking.start + settings.KAMPUS_NO_SHOW_MINUTES * 60, booking.until)
    window_covered, window_occupied = _overlap(pieces, booking.start, window_end)
    # Checking in by the end of the first minutes is presence confirmed by the booker, whatever a sensor saw.
    checked_in = booking.checked_in is not None and booking.checked_in <= window_end
    if window_occupied > 0 or checked_in:
        no_show: bool | None = False
    elif window_covered >= settings.KAMPUS_SLOT_MIN_COVERAGE * (window_end - booking.start):
        no_show = True
    else:
        no_show = None
    return {
        "room_id": booking.room_id,
        "campus_id": booking.campus_id,
        "start": booking.start_at,
        "end": booking.end_at,
        "covered_seconds": round(covered),
        "occupied_seconds": min(round(occupied), round(covered)),
        "first_presence_at": _moment(first_presence),
        "last_presence_at": _moment(last_presence),
        "no_show": no_show,
    }


def _moment(epoch: float | None) -> dt.datetime | None:
    return None if epoch is None else dt.datetime.fromtimestamp(epoch, tz=dt.UTC)


def _roll_chunk(chunk: _Chunk, *, changed_booking_ids: set[int], now: dt.datetime, estate: _Estate) -> RollupResult:
    now_s = now.timestamp()
    gap = _gap_seconds()
    start, end = chunk.first * SLOT_SECONDS, chunk.stop * SLOT_SECONDS
    related = set().union(*(estate.sharing[room_id] for room_id in chunk.room_ids))
    lookahead = OVERRUN_LOOKAHEAD_SECONDS
    bookings = _load_bookings(related, start - lookahead, end + lookahead)

    # Uses to recompute: bookings of these rooms that have started and whose time (with the hour after)
    # overlaps a touched slot of their room, or that changed.
    chunk_rooms = set(chunk.room_ids)
    used: list[_Booking] = []
    for booking in bookings:
        if booking.room_id not in chunk_rooms or booking.start >= now_s:
            continue
        if booking.pk in changed_booking_ids or _overlaps_slots(
            chunk.touched[booking.room_id], booking.start, booking.until + lookahead
        ):
            used.append(booking)
    read_start = min([start, *(booking.start for booking in used)])
    read_end = max([end, *(booking.until + lookahead for booking in used)])
    if read_start < start - lookahead or read_end > end + lookahead:
        used_ids = {booking.pk for booking in used}
        bookings = _load_bookings(related, read_start, read_end)
        used = [booking for booking in bookings if booking.pk in used_ids]

    readings = _load_readings(chunk.room_ids, read_start - gap, min(read_end, now_s))
    sensors_of: dict[int, list[list[tuple[float, int | None, bool | None]]]] = defaultdict(list)
    last_key = None
    for room_id, sensor_id, moment, count, present in readings:
        if (room_id, sensor_id) != last_key:
            sensors_of[room_id].append([])
            last_key = (room_id, sensor_id)
        sensors_of[room_id][-1].append((moment, count, present))

    bookings_of: dict[int, list[_Booking]] = defaultdict(list)
    for booking in bookings:
        bookings_of[booking.room_id].append(booking)
    used_of: dict[int, list[_Booking]] = defaultdict(list)
    for booking in used:
        used_of[booking.room_id].append(booking)

    rolled_at = timezone.now()
    slots: dict[tuple[int, int], tuple | None] = {}
    uses: dict[int, dict[str, Any]] = {}
    for room_id in chunk.room_ids:
        touched = chunk.touched[room_id]
        pieces = _timeline(sensors_of.get(room_id, []), gap=gap, now=now_s)
        measures = _slot_measures(pieces, touched)
        room_bookings = sorted(
            (booking for other in estate.sharing[room_id] for booking in bookings_of.get(other, [])),
            key=lambda booking: (booking.start, booking.pk),
        )
        booked = _booked(room_bookings, touched)
        for slot in touched:
            slots[(room_id, slot)] = _slot_row(room_id, slot, measures.get(slot), booked.get(slot), estate)
        starts = [booking.start for booking in room_bookings]
        for booking in used_of.get(room_id, []):
            following = starts[bisect.bisect_left(starts, booking.until) :]
            uses[booking.pk] = _use(booking, pieces, following[0] if following else math.inf)

    result = RollupResult(slots_rolled=len(slots))
    _write_slots(chunk, slots, rolled_at, result, estate)
    _write_uses(chunk, uses, rolled_at, now, result)
    return result


def _overlaps_slots(slots: set[int], start: float, end: float) -> bool:
    first, stop = math.floor(start / SLOT_SECONDS), math.ceil(end / SLOT_SECONDS)
    if stop - first < len(slots):
        return any(slot in slots for slot in range(first, stop))
    return any(first <= slot < stop for slot in slots)


# The values of a slot row, in this order; the rollup compares them with the stored row's before writing.
SLOT_VALUES = [
    "campus_id",
    "local_date",
    "local_minute",
    "iso_weekday",
    "covered_seconds",
    "occupied_seconds",
    "mean_count",
    "peak_count",
    "booked_seconds",
    "booked_institution_id",
]
LOCAL_DATE = SLOT_VALUES.index("local_date")


def _slot_row(
    room_id: int,
    slot: int,
    measures: list[float] | None,
    booked: tuple[float, int | None] | None,
    estate: _Estate,
) -> tuple | None:
    """Return the slot's values (``SLOT_VALUES``), or None when it has neither data nor a booking."""
    covered = occupied = booked_seconds = 0
    mean_count: float | None = None
    peak_count: int | None = None
    if measures is not None:
        covered = min(round(measures[0]), SLOT_SECONDS)
        occupied = min(round(measures[1]), covered)
        if measures[2] > 0 and covered > 0:
            mean_count = round(measures[3] / measures[2], 4)
            peak_count = int(measures[4])
    institution_id = None
    if booked is not None:
        booked_seconds = min(round(booked[0]), SLOT_SECONDS)
        institution_id = booked[1] if booked_seconds else None
    if not covered and not booked_seconds:
        return None
    local_date, local_minute, iso_weekday = _local(estate.zone[room_id], slot)
    return (
        estate.campus[room_id],
        local_date,
        local_minute,
        iso_weekday,
        covered,
        occupied,
        mean_count,
        peak_count,
        booked_seconds,
        institution_id,
    )


def _write_slots(
    chunk: _Chunk,
    slots: dict[tuple[int, int], tuple | None],
    rolled_at: dt.datetime,
    result: RollupResult,
    estate: _Estate,
) -> None:
    """Upsert the slots whose values changed, delete the rows of slots left with nothing, and count their room
    days again."""
    existing = RoomSlot.objects.filter(
        room_id__in=chunk.room_ids,
        start__gte=dt.datetime.fromtimestamp(chunk.first * SLOT_SECONDS, tz=dt.UTC),
        start__lt=dt.datetime.fromtimestamp(chunk.stop * SLOT_SECONDS, tz=dt.UTC),
    ).values_list("pk", "room_id", "start", *SLOT_VALUES)
    old: dict[tuple[int, int], tuple] = {
        (row[1], int(row[2].timestamp()) // SLOT_SECONDS): (row[0], row[3:]) for row in existing
    }
    writes, deletes = [], []
    # The local days of the rows replaced or deleted: in a room moved to a campus in another zone, not the new ones.
    old_days: set[dt.date] = set()
    for (room_id, slot), values in sorted(slots.items()):
        pk, before = old.get((room_id, slot), (None, None))
        if before is not None and before != values:
            old_days.add(before[LOCAL_DATE])
        if values is None:
            if pk is not None:
                deletes.append(pk)
        elif before != values:
            writes.append(
                RoomSlot(
                    room_id=room_id,
                    start=dt.datetime.fromtimestamp(slot * SLOT_SECONDS, tz=dt.UTC),
                    rolled_at=rolled_at,
                    **dict(zip(SLOT_VALUES, values, strict=True)),
                )
            )
    with transaction.atomic():
        if writes or deletes:
            room_days.lock_room_days()  # before the slots' row locks: see room_days
        if deletes:
            RoomSlot.objects.filter(pk__in=deletes).delete()
        RoomSlot.objects.bulk_create(
            writes,
            batch_size=WRITE_BATCH,
            update_conflicts=True,
            unique_fields=["room", "start"],
            update_fields=SLOT_FIELDS,
        )
        if writes or deletes:
            zones = {estate.zone[room_id] for room_id in chunk.room_ids}
            days = old_days | {_local(zone, chunk.first)[0] for zone in zones}
            days |= {_local(zone, chunk.stop - 1)[0] for zone in zones}
            room_days.recount_days(chunk.room_ids, min(days), max(days))
    result.slots_written += len(writes)
    result.slots_deleted += len(deletes)


USE_COMPARED = [name for name in USE_FIELDS if name != "rolled_at"]


def _write_uses(
    chunk: _Chunk, uses: dict[int, dict[str, Any]], rolled_at: dt.datetime, now: dt.datetime, result: RollupResult
) -> None:
    """Upsert the booking uses whose values changed; delete those of the window's bookings no longer used."""
    old = {
        row["booking_id"]: row
        for row in BookingUse.objects.filter(booking_id__in=list(uses)).values(
            "booking_id", *[f"{name}_id" if name in {"room", "campus"} else name for name in USE_COMPARED]
        )
    }
    writes = []
    for booking_id, values in sorted(uses.items()):
        before = old.get(booking_id)
        if before is None or any(before[name] != values[name] for name in values):
            writes.append(BookingUse(booking_id=booking_id, rolled_at=rolled_at, **values))
    window_start = dt.datetime.fromtimestamp(chunk.first * SLOT_SECONDS - OVERRUN_LOOKAHEAD_SECONDS, tz=dt.UTC)
    window_end = dt.datetime.fromtimestamp(chunk.stop * SLOT_SECONDS, tz=dt.UTC)
    with transaction.atomic():
        deleted = (
            BookingUse.objects.filter(room_id__in=chunk.room_ids, start__lt=window_end, end__gt=window_start)
            .filter(_unused_q(now))
            .delete()[0]
        )
        BookingUse.objects.bulk_create(
            writes,
            batch_size=WRITE_BATCH,
            update_conflicts=True,
            unique_fields=["booking"],
            update_fields=USE_FIELDS,
        )
    result.uses_written += len(writes)
    result.uses_deleted += deleted
