"""The conflict core: a booking's blocks per room part, finding clashes, writing and freeing blocks."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from typing import Any

from django.db import IntegrityError, connection, transaction
from django.utils.translation import gettext as _

from bookings import recurrence
from bookings.errors import SlotTaken
from bookings.models import (
    Booking,
    BookingBlock,
)
from bookings.parts import blocked_until, room_parts
from bookings.visibility import Viewer
from campus.models import Room
from campus.sql_rows import columns, from_row, insert


def clashing_blocks(
    part_ids: Sequence[int],
    spans: Sequence[tuple[dt.datetime, dt.datetime]],
    *,
    exclude_booking_ids: Iterable[int] = (),
    describe: bool = True,
) -> list[BookingBlock]:
    """Return the blocks of ``part_ids`` overlapping any of ``spans`` ([start, blocked until)), by start.

    The database compares every span in one statement (a series asks once, not per occurrence).
    With ``describe`` the blocks come with their booking, its room and the part (read only when
    there are any); without, only the blocks' own columns (no further statement).
    """
    excluded = list(exclude_booking_ids)
    params: list[Any] = list(part_ids)
    overlaps = []
    to_db = connection.ops.adapt_datetimefield_value
    for start, until in spans:
        overlaps.append("(start < %s AND blocked_until > %s)")
        params += [to_db(until), to_db(start)]
    sql = (
        f"SELECT {columns(BookingBlock, 'b')} FROM {BookingBlock._meta.db_table} b"
        f" WHERE part_id IN ({', '.join(['%s'] * len(part_ids))}) AND ({' OR '.join(overlaps)})"
    )
    if excluded:
        sql += f" AND booking_id NOT IN ({', '.join(['%s'] * len(excluded))})"
        params += excluded
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        blocks = [block for (block,) in (from_row(row, BookingBlock) for row in cursor.fetchall())]
    if not describe or not blocks:
        return sorted(blocks, key=lambda block: (block.start, block.pk))
    ids = [block.pk for block in blocks]
    return list(
        BookingBlock.objects.filter(pk__in=ids).select_related("booking", "booking__room", "part").order_by("start")
    )


def conflict_entry(
    block: BookingBlock, viewer: Viewer, requested: recurrence.Occurrence | None = None
) -> dict[str, Any]:
    booking = block.booking
    zone = booking.room.building.campus.zone
    entry: dict[str, Any] = {
        "start": booking.start.astimezone(zone),
        "end": booking.end.astimezone(zone),
        "title": viewer.title_of(booking),
        "room": booking.room.code,
        "room_label": booking.room.label,
    }
    if requested is not None:
        entry["requested_start"] = requested.start
    return entry


def find_conflicts(
    *,
    room: Room,
    occurrences: Sequence[recurrence.Occurrence],
    viewer: Viewer,
    exclude_booking_ids: Iterable[int] = (),
    describe: bool = True,
) -> dict[int, list[dict[str, Any]]]:
    """Return, per index into ``occurrences``, the active bookings each would clash with.

    Without ``describe`` an entry names only the clashing booking (``{"booking": id}``; None for
    another occurrence of the request) and nothing is read beyond the clash check itself.
    """
    if not occurrences:
        return {}
    part_ids = [part.pk for part in room_parts(room)]
    spans = [(o.start, blocked_until(room, o.end)) for o in occurrences]
    blocks = clashing_blocks(part_ids, spans, exclude_booking_ids=exclude_booking_ids, describe=describe)
    clashes: dict[int, list[dict[str, Any]]] = {}
    for index, occurrence in enumerate(occurrences):
        until = blocked_until(room, occurrence.end)
        seen: set[int] = set()
        for block in blocks:
            if block.start < until and block.blocked_until > occurrence.start and block.booking_id not in seen:
                seen.add(block.booking_id)
                entry = conflict_entry(block, viewer, occurrence) if describe else {"booking": block.booking_id}
                clashes.setdefault(index, []).append(entry)
    # Occurrences of one request may also clash with each other (a long buffer, a lengthened series):
    # each is compared with the last one kept, so that a clashing occurrence never hides a later clash.
    kept_until: dt.datetime | None = None
    kept: recurrence.Occurrence | None = None
    for index in sorted(range(len(occurrences)), key=lambda i: occurrences[i].start):
        occurrence = occurrences[index]
        if kept is not None and kept_until is not None and kept_until > occurrence.start:
            clashes.setdefault(index, []).append(
                {
                    "start": kept.start,
                    "end": kept.end,
                    "title": None,
                    "room": room.code,
                    "room_label": room.label,
                    "requested_start": occurrence.start,
                }
                if describe
                else {"booking": None}
            )
        if index not in clashes:
            kept, kept_until = occurrence, blocked_until(room, occurrence.end)
    return clashes


def slot_taken(conflicts: list[dict[str, Any]]) -> SlotTaken:
    return SlotTaken(_("The room is already booked at that time."), conflicts=conflicts)


class BlocksRefused(Exception):
    """The exclusion constraint refused the blocks of ``bookings``: another writer holds part of their time.

    The transaction is lost (PostgreSQL aborts it): roll it back, then ``slot_taken`` reads what clashes.
    """

    def __init__(self, bookings: Sequence[Booking], *, room: Room, viewer: Viewer) -> None:
        super().__init__("block_no_overlap_per_part")
        self.bookings, self.room, self.viewer = bookings, room, viewer

    def slot_taken(self) -> SlotTaken:
        occurrences = [recurrence.Occurrence(b.start, b.end) for b in self.bookings]
        clashes = find_conflicts(
            room=self.room,
            occurrences=occurrences,
            viewer=self.viewer,
            exclude_booking_ids=[b.pk for b in self.bookings],
        )
        return slot_taken([c for index in sorted(clashes) for c in clashes[index]])


def insert_blocks(bookings: Sequence[Booking], *, room: Room, viewer: Viewer) -> None:
    """Insert the blocks of ``bookings``; raise BlocksRefused (from the IntegrityError) when PostgreSQL's
    exclusion constraint refuses them. No savepoint: the caller rolls back and then reads the clashes."""
    parts = room_parts(room)
    blocks = [
        BookingBlock(booking=booking, part=part, start=booking.start, blocked_until=blocked_until(room, booking.end))
        for booking in bookings
        for part in parts
    ]
    try:
        insert(blocks, label="block")
    except IntegrityError as error:
        if "block_no_overlap_per_part" not in str(error):
            raise
        raise BlocksRefused(bookings, room=room, viewer=viewer) from error


# How often a write refused for a clash is tried when every clash is gone by the time it is described (cancelled
# or moved away in between): a refusal naming nothing would tell the booker nothing, and the slot is free.
WRITE_ATTEMPTS = 3


def write_blocks(bookings: Sequence[Booking], *, room: Room, viewer: Viewer) -> None:
    """Insert the blocks of ``bookings``; turn PostgreSQL's exclusion violation into SlotTaken."""
    for attempt in range(1, WRITE_ATTEMPTS + 1):
        try:
            with transaction.atomic():  # a savepoint, so the conflicts can still be read after a violation
                insert_blocks(bookings, room=room, viewer=viewer)
            return
        except BlocksRefused as refused:
            taken = refused.slot_taken()
            if taken.conflicts or attempt == WRITE_ATTEMPTS:
                raise taken from refused.__cause__


def free_blocks(bookings: Iterable[Booking]) -> None:
    BookingBlock.objects.filter(booking__in=[b.pk for b in bookings]).delete()


def active_overlaps_exist() -> bool:
    """Return whether any two blocks of one part overlap (a consistency check for tests and ops)."""
    blocks = BookingBlock.objects.order_by("part_id", "start").values_list("part_id", "start", "blocked_until")
    previous: tuple[int, dt.datetime] | None = None
    for part_id, start, until in blocks:
        if previous and previous[0] == part_id and start < previous[1]:
            return True
        if previous is None or previous[0] != part_id or until > previous[1]:
            previous = (part_id, until)
    return False
