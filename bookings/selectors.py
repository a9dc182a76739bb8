"""Reads of bookings: lists, a room's availability, and free-room search."""

from __future__ import annotations

import bisect
import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from django.db.models import Count, DateTimeField, Exists, OuterRef, Q, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce
from django.utils import formats, timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from bookings import rules
from bookings.models import ACTIVE_STATUSES, Access, Booking, BookingBlock, BookingStatus, Closure
from bookings.parts import room_parts
from bookings.permissions import booking_reach, decided_by
from bookings.visibility import Viewer
from campus.models import OpeningHours, Room, User
from campus.opening_hours import opening_calendar, opening_calendars

MAX_AVAILABILITY_DAYS = 62
BOOKED_ELSEWHERE = "you_are_booked_elsewhere"
# How many of the other bookings a warning's message names; the warning's list holds them all.
WARNING_NAMES_AT_MOST = 3


def booking_list(
    *,
    room_id: int | None = None,
    building_id: int | None = None,
    institution_id: int | None = None,
    booked_by: User | None = None,
    statuses: list[str] | None = None,
    overlapping_from: dt.datetime | None = None,
    overlapping_to: dt.datetime | None = None,
) -> QuerySet[Booking]:
    """Return bookings matching every given filter; from/to select bookings overlapping [from, to)."""
    qs = Booking.objects.select_related("room", "room__building", "institution", "booked_by", "series").order_by(
        "start", "pk"
    )
    if room_id is not None:
        qs = qs.filter(room_id=room_id)
    if building_id is not None:
        qs = qs.filter(room__building_id=building_id)
    if institution_id is not None:
        qs = qs.filter(institution_id=institution_id)
    if booked_by is not None:
        qs = qs.filter(booked_by=booked_by)
    if statuses:
        qs = qs.filter(status__in=statuses)
    if overlapping_to is not None:
        qs = qs.filter(start__lt=overlapping_to)
    if overlapping_from is not None:
        qs = qs.filter(end__gt=overlapping_from)
    return qs


def requests_to_decide(*, user: User, now: dt.datetime) -> QuerySet[Booking]:
    """Return the open requests that ``user`` decides (pending, not ended, not expired), oldest first, in one query.

    The queue of the approvals page and the API alike; who decides what is ``permissions.decided_by``'s
    answer, for memberships valid on today's date.
    """
    decidable = decided_by(user, on=timezone.localdate(now))
    if decidable is None:
        return Booking.objects.none()
    # A request expires at the latest when its booking starts: an expired one is no longer to decide.
    return (
        booking_list(statuses=[BookingStatus.PENDING])
        .filter(Q(expires_at__isnull=True) | Q(expires_at__gt=now), decidable, end__gt=now)
        .select_related("campus")
        .order_by("created_at", "start", "pk")
    )


def requests_to_decide_count(*, user: User, now: dt.datetime) -> int:
    """Return how many requests wait for ``user``'s decision, a series counting once (as the queue lists them)."""
    counts = requests_to_decide(user=user, now=now).aggregate(
        singles=Count("pk", filter=Q(series__isnull=True)), series=Count("series", distinct=True)
    )
    return counts["singles"] + counts["series"]


def booking_get(pk: int) -> Booking:
    return Booking.objects.select_related("room", "room__building__campus", "institution", "booked_by", "series").get(
        pk=pk
    )


@dataclass(frozen=True)
class BusyInterval:
    start: dt.datetime
    end: dt.datetime
    booking: Booking
    part: Room


@dataclass(frozen=True)
class ClosedInterval:
    start: dt.datetime
    end: dt.datetime
    reason: str


@dataclass(frozen=True)
class Availability:
    free: list[tuple[dt.datetime, dt.datetime]]
    busy: list[BusyInterval]
    closed_days: list[tuple[dt.date, str]]
    closures: list[ClosedInterval] = ()  # type: ignore[assignment]


def room_availability(*, room: Room, start: dt.datetime, end: dt.datetime) -> Availability:
    """Return free and busy intervals of ``room`` inside its opening hours within [start, end).

    Busy intervals are blocks on any part of the room (so a booked section makes the whole busy),
    including the room's buffer time after each booking.
    """
    parts = room_parts(room)
    blocks = list(
        BookingBlock.objects.filter(part__in=parts, start__lt=end, blocked_until__gt=start)
        .select_related("booking", "booking__room", "part")
        .order_by("start")
    )
    busy: list[BusyInterval] = []
    seen: set[int] = set()
    for block in blocks:
        if block.booking_id in seen:
            continue
        seen.add(block.booking_id)
        busy.append(BusyInterval(block.start, block.blocked_until, block.booking, block.part))

    closures = [
        ClosedInterval(max(c.start, start), min(c.end, end), c.reason) for c in rules.closures_for(room, start, end)
    ]
    # Closures are not free time: subtract them like bookings.
    taken = busy + [BusyInterval(c.start, c.end, None, room) for c in closures]  # type: ignore[arg-type]
    calendar = opening_calendar(room, start, end)
    zone = calendar.zone
    free: list[tuple[dt.datetime, dt.datetime]] = []
    closed: list[tuple[dt.date, str]] = []
    day = start.astimezone(zone).date()
    last_day = (end - dt.timedelta(microseconds=1)).astimezone(zone).date()
    while day <= last_day:
        opening = calendar.day(day)
        if opening.interval is None:
            closed.append((day, opening.closed_reason))
        else:
            free.extend(_subtract(max(opening.interval[0], start), min(opening.interval[1], end), taken))
        day += dt.timedelta(days=1)
    return Availability(free=free, busy=busy, closed_days=closed, closures=closures)


def _subtract(start: dt.datetime, end: dt.datetime, busy: list[BusyInterval]) -> list[tuple[dt.datetime, dt.datetime]]:
    free: list[tuple[dt.datetime, dt.datetime]] = []
    cursor = start
    for interval in sorted(busy, key=lambda b: b.start):
        if interval.end <= cursor or interval.start >= end:
            continue
        if interval.start > cursor:
            free.append((cursor, interval.start))
        cursor = max(cursor, interval.end)
    if cursor < end:
        free.append((cursor, end))
    return [(a, b) for a, b in free if a < b]


def free_room_ids_between(rooms: QuerySet[Room], *, start: dt.datetime, end: dt.datetime) -> list[int]:
    """Return the ids of the rooms of ``rooms`` that are open and have no block on any part in [start, end).

    A room's parts are itself or its sections; the room's own buffer after ``end`` must be free too.
    Ordered as ``rooms`` is.
    """

    # The blocks of one part never overlap (the exclusion constraint; on SQLite the service's
    # check), so a part is busy in [start, end) exactly when the last of its blocks that starts
    # before ``end`` lasts past ``start``: one probe of the (part, start) index per part, where
    # comparing both ends read every earlier block of the part (a year of them: 0.1 s a search).
    def last_block_until(part: OuterRef) -> Subquery:
        latest = BookingBlock.objects.filter(part_id=part, start__lt=end).order_by("-start")
        return Subquery(latest.values("blocked_until")[:1])

    busy_section = (
        Room.sections.through.objects.filter(from_room_id=OuterRef("pk"))
        .annotate(until=last_block_until(OuterRef("to_room_id")))
        .filter(until__gt=start)
    )
    closed = Closure.objects.filter(start__lt=end, end__gt=start).filter(
        Q(building_id=OuterRef("building_id"))
        | Q(room_id=OuterRef("pk"))
        | Q(room__sections=OuterRef("pk"))
        | Q(room__combined_rooms=OuterRef("pk"))
    )
    # Ids, not instances: a search may match a thousand rooms, and making objects of them cost more
    # than every query. Rooms without hours of their own open as their building does, so one
    # calendar per building (and one per room with its own hours) answers for all of them.
    candidates = list(
        rooms.filter(is_bookable=True)
        # A room with no block before ``end`` is free: Coalesce, so that the probe runs once a room.
        .annotate(own_until=Coalesce(last_block_until(OuterRef("pk")), Value(start, output_field=DateTimeField())))
        .filter(own_until__lte=start)
        .exclude(Exists(busy_section))
        .exclude(Exists(closed))
        .values_list("pk", "building_id", "buffer_minutes")
    )
    if not candidates:
        return []
    candidate_ids = [pk for pk, _building, _buffer in candidates]
    own_hours = set(OpeningHours.objects.filter(room_id__in=candidate_ids).values_list("room_id", flat=True))
    stands_for_building: dict[int, int] = {}
    for pk, building_id, _buffer in candidates:
        if pk not in own_hours:
            stands_for_building.setdefault(building_id, pk)
    sample = Room.objects.filter(pk__in=own_hours | set(stands_for_building.values())).select_related(
        "building__campus"
    )
    calendars = opening_calendars(list(sample), start, end)
    open_ids = {pk for pk, calendar in calendars.items() if calendar.refusal(start, end) is None}

    buffered = [(pk, buffer) for pk, _building, buffer in candidates if buffer]
    # Blocks starting before ``end`` are checked above; the buffer adds those starting in it.
    parts_of: dict[int, set[int]] = {pk: set() for pk, _buffer in buffered}
    buffer_blocks: list[tuple[int, dt.datetime]] = []
    if buffered:
        sections = Room.sections.through.objects.filter(from_room_id__in=list(parts_of))
        for whole, part in sections.values_list("from_room_id", "to_room_id"):
            parts_of[whole].add(part)
        for pk in parts_of:
            parts_of[pk] = parts_of[pk] or {pk}
        longest_buffer = max(buffer for _pk, buffer in buffered)
        buffer_blocks = list(
            BookingBlock.objects.filter(
                part_id__in=set().union(*parts_of.values()),
                start__gte=end,
                start__lt=end + dt.timedelta(minutes=longest_buffer),
            ).values_list("part_id", "start")
        )
    free: list[int] = []
    for pk, building_id, buffer in candidates:
        if (pk if pk in own_hours else stands_for_building[building_id]) not in open_ids:
            continue
        if buffer:
            until = end + dt.timedelta(minutes=buffer)
            if any(part_id in parts_of[pk] and block_start < until for part_id, block_start in buffer_blocks):
                continue
        free.append(pk)
    return free


def rooms_free_between(rooms: QuerySet[Room], *, start: dt.datetime, end: dt.datetime) -> list[Room]:
    """Return the rooms of ``rooms`` (with its related rows) that are open and free in [start, end)."""
    free_ids = free_room_ids_between(rooms, start=start, end=end)
    by_id = {room.pk: room for room in rooms.filter(pk__in=free_ids)}
    return [by_id[pk] for pk in free_ids]


def rooms_to_rank(room_ids: list[int], *, needed: set[str]) -> list[Room]:
    """Return the rooms ``room_ids`` as light objects to rank and check: their building loaded, ``extras``
    the number of their equipment items not in ``needed``, nothing else fetched.

    A search may find hundreds of free rooms: making full objects of each (campus, owner, equipment) cost
    more than the search; a page fetches its own rooms in full.
    """
    extras = Count("equipment", filter=~Q(equipment__code__in=needed)) if needed else Count("equipment")
    return list(Room.objects.filter(pk__in=room_ids).select_related("building").annotate(extras=extras))


class RoomsInOrder(Sequence[Room]):
    """Rooms of ``rooms`` with the given ids, in the ids' order, fetched only as they are sliced.

    A list of a search's free rooms pages through it: its length and a page come from the ids,
    where filtering ``rooms`` by them again put every id into both the count and the page's query.
    """

    def __init__(self, rooms: QuerySet[Room], ids: list[int]) -> None:
        self.rooms = rooms
        self.ids = ids

    def __len__(self) -> int:
        return len(self.ids)

    def __getitem__(self, index: int | slice) -> Room | list[Room]:  # type: ignore[override]
        if isinstance(index, slice):
            wanted = self.ids[index]
            by_id = {room.pk: room for room in self.rooms.filter(pk__in=wanted)}
            return [by_id[pk] for pk in wanted]
        return self[index : index + 1 or None][0]


def room_access_for(*, user: User, rooms: Sequence[Room]) -> dict[int, str]:
    """Return, by room id, how ``user`` would book each of ``rooms`` when not choosing an institution.

    ``Access.DIRECT`` (confirmed at once), ``Access.REQUEST`` (a facility manager decides) or
    ``Access.NONE`` (refused). The same decisions as ``services.booking_create``: the institution
    ``permissions.resolve_institution`` picks, the owner's or others' access of the effective policy,
    and direct booking for those who may override (``permissions.may_override``). Two queries for any
    number of rooms: the user's memberships and the policies. ``rooms`` need ``building`` loaded.
    """
    if not rooms:
        return {}
    reach = booking_reach(user)
    policies = rules.effective_policies(rooms)
    access: dict[int, str] = {}
    for room in rooms:
        if reach.may_override(room):
            access[room.pk] = Access.DIRECT
            continue
        may_book, institution = reach.unchosen_institution(room)
        if not may_book:
            access[room.pk] = Access.NONE  # not a member of any institution on this campus
            continue
        policy = policies[room.pk]
        access[room.pk] = policy.owner_access if rules.is_owner_booking(room, institution) else policy.other_access
    return access


def visible_title(viewer: Viewer, booking: Booking) -> str | None:
    return viewer.title_of(booking)


# --- warnings: what is allowed but probably a mistake ----------------------------------------------


@dataclass(frozen=True)
class BookingWarning:
    """Something a booking may well be wrong about, though no rule forbids it; ``code`` is stable for the API."""

    code: str
    message: str
    bookings: list[Booking]


def own_bookings_overlapping(
    *,
    user: User,
    intervals: Sequence[tuple[dt.datetime, dt.datetime]],
    exclude_ids: Sequence[int] = (),
    candidates: Sequence[Booking] | None = None,
) -> list[Booking]:
    """Return ``user``'s own active bookings overlapping any of ``intervals`` (half-open), in one query.

    Own means booked by ``user`` for themselves: bookings made on someone else's behalf (the front
    desk's work) are left out, as are ``exclude_ids`` (the bookings just made). ``candidates``: such
    bookings overlapping the whole span of ``intervals``, when already read (``booking_create`` reads
    them with the quota); then no query is made.
    """
    if not intervals:
        return []
    ordered = sorted(intervals)
    if candidates is not None:
        excluded = set(exclude_ids)
        candidates = sorted((b for b in candidates if b.pk not in excluded), key=lambda b: (b.start, b.pk))
    else:
        candidates = (
            Booking.objects.filter(
                booked_by=user,
                status__in=ACTIVE_STATUSES,
                start__lt=max(end for _start, end in ordered),
                end__gt=ordered[0][0],
                on_behalf_of_name="",
                on_behalf_of_organisation="",
            )
            .exclude(pk__in=list(exclude_ids))
            .select_related("room__building__campus")
            .order_by("start", "pk")
        )
    starts = [start for start, _end in ordered]
    # latest_end[i]: the latest end among the i intervals that start first. A booking overlaps an
    # interval exactly when some interval starting before the booking's end ends after its start.
    latest_end: list[dt.datetime | None] = [None]
    for _start, end in ordered:
        latest_end.append(end if latest_end[-1] is None else max(latest_end[-1], end))
    found = []
    for booking in candidates:
        reach = latest_end[bisect.bisect_left(starts, booking.end)]
        if reach is not None and reach > booking.start:
            found.append(booking)
    return found


def booking_warnings(
    *,
    user: User,
    intervals: Sequence[tuple[dt.datetime, dt.datetime]],
    exclude_ids: Sequence[int] = (),
    for_someone_else: bool = False,
    candidates: Sequence[Booking] | None = None,
) -> list[BookingWarning]:
    """Return the warnings for ``user`` booking ``intervals``: today, that they are booked elsewhere then.

    A booking for someone else (the front desk's) warns of nothing: its booker is not the one who attends.
    ``candidates`` as for ``own_bookings_overlapping``.
    """
    if for_someone_else:
        return []
    others = own_bookings_overlapping(user=user, intervals=intervals, exclude_ids=exclude_ids, candidates=candidates)
    if not others:
        return []
    named = [_booking_words(booking) for booking in others[:WARNING_NAMES_AT_MOST]]
    listing = "; ".join(named)
    if len(others) > WARNING_NAMES_AT_MOST:
        rest = len(others) - WARNING_NAMES_AT_MOST
        listing = ngettext("%(bookings)s and %(count)d more", "%(bookings)s and %(count)d more", rest) % {
            "bookings": listing,
            "count": rest,
        }
    message = ngettext(
        "You are already booked elsewhere at the same time: %(bookings)s.",
        "You are already booked elsewhere at the same times: %(bookings)s.",
        len(others),
    ) % {"bookings": listing}
    return [BookingWarning(code=BOOKED_ELSEWHERE, message=message, bookings=others)]


def _booking_words(booking: Booking) -> str:
    zone = booking.room.building.campus.zone
    start, end = timezone.localtime(booking.start, zone), timezone.localtime(booking.end, zone)
    return _("%(title)s, %(room)s, %(start)s–%(end)s") % {
        "title": booking.title,
        "room": booking.room.label,
        "start": formats.date_format(start, "SHORT_DATETIME_FORMAT"),
        "end": formats.time_format(end),
    }
