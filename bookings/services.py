"""Writes of bookings. Every entry point (pages, API, iCal import, jobs) calls these functions.

Double booking is impossible by construction: each active booking has one block per room part,
and on PostgreSQL an exclusion constraint forbids overlapping blocks of a part. The checks here
give users a readable answer first; on SQLite they are the guarantee, because the transaction
takes the database's write lock at BEGIN (``transaction_mode`` IMMEDIATE) so no check can race.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from bookings import recurrence
from bookings.errors import BookingRuleBroken, BookingStateError, SlotTaken
from bookings.models import ACTIVE_STATUSES, Booking, BookingBlock, BookingSeries, BookingStatus, Purpose, Visibility
from bookings.visibility import Viewer, viewer_for
from campus.exceptions import InvalidInput, PermissionDenied
from campus.models import Institution, Role, Room, User
from campus.opening_hours import OpeningCalendar, opening_calendar
from campus.permissions import has_role, is_room_manager, valid_memberships


class Scope:
    OCCURRENCE = "occurrence"
    FOLLOWING = "following"
    SERIES = "series"
    ALL = (OCCURRENCE, FOLLOWING, SERIES)


@dataclass
class Skipped:
    start: dt.datetime
    end: dt.datetime
    reason: str
    code: str


@dataclass
class BookingResult:
    """The bookings one request created (one, or a series' occurrences) and what was skipped."""

    bookings: list[Booking]
    series: BookingSeries | None = None
    skipped: list[Skipped] = field(default_factory=list)

    @property
    def first(self) -> Booking:
        return self.bookings[0]


# --- parts and conflicts -------------------------------------------------------------------


def room_parts(room: Room) -> list[Room]:
    """Return the parts a booking of ``room`` blocks: its sections, or the room itself."""
    sections = list(room.sections.all())
    return sections or [room]


def blocked_until(room: Room, end: dt.datetime) -> dt.datetime:
    return end + dt.timedelta(minutes=room.buffer_minutes)


def _clashing_blocks(
    part_ids: Sequence[int], start: dt.datetime, until: dt.datetime, *, exclude_booking_ids: Iterable[int] = ()
) -> list[BookingBlock]:
    return list(
        BookingBlock.objects.filter(part_id__in=part_ids, start__lt=until, blocked_until__gt=start)
        .exclude(booking_id__in=list(exclude_booking_ids))
        .select_related("booking", "booking__room", "part")
        .order_by("start")
    )


def _conflict(block: BookingBlock, viewer: Viewer, requested: recurrence.Occurrence | None = None) -> dict[str, Any]:
    booking = block.booking
    entry: dict[str, Any] = {
        "start": booking.start,
        "end": booking.end,
        "title": viewer.title_of(booking),
        "room": booking.room.code,
    }
    if requested is not None:
        entry["requested_start"] = requested.start
    return entry


def _find_conflicts(
    *,
    room: Room,
    occurrences: Sequence[recurrence.Occurrence],
    viewer: Viewer,
    exclude_booking_ids: Iterable[int] = (),
) -> dict[int, list[dict[str, Any]]]:
    """Return, per index into ``occurrences``, the active bookings each would clash with."""
    if not occurrences:
        return {}
    part_ids = [part.pk for part in room_parts(room)]
    excluded = list(exclude_booking_ids)
    window_start = min(o.start for o in occurrences)
    window_end = max(blocked_until(room, o.end) for o in occurrences)
    blocks = _clashing_blocks(part_ids, window_start, window_end, exclude_booking_ids=excluded)
    clashes: dict[int, list[dict[str, Any]]] = {}
    for index, occurrence in enumerate(occurrences):
        until = blocked_until(room, occurrence.end)
        seen: set[int] = set()
        for block in blocks:
            if block.start < until and block.blocked_until > occurrence.start and block.booking_id not in seen:
                seen.add(block.booking_id)
                clashes.setdefault(index, []).append(_conflict(block, viewer, occurrence))
    return clashes


def _slot_taken(conflicts: list[dict[str, Any]]) -> SlotTaken:
    return SlotTaken(_("The room is already booked at that time."), conflicts=conflicts)


def _write_blocks(bookings: Sequence[Booking], *, room: Room, viewer: Viewer) -> None:
    """Insert the blocks of ``bookings``; turn PostgreSQL's exclusion violation into SlotTaken."""
    parts = room_parts(room)
    blocks = [
        BookingBlock(booking=booking, part=part, start=booking.start, blocked_until=blocked_until(room, booking.end))
        for booking in bookings
        for part in parts
    ]
    try:
        with transaction.atomic():  # a savepoint, so the conflicts can still be read after a violation
            BookingBlock.objects.bulk_create(blocks)
    except IntegrityError as error:
        if "block_no_overlap_per_part" not in str(error):
            raise
        occurrences = [recurrence.Occurrence(b.start, b.end) for b in bookings]
        clashes = _find_conflicts(
            room=room, occurrences=occurrences, viewer=viewer, exclude_booking_ids=[b.pk for b in bookings]
        )
        raise _slot_taken([c for index in sorted(clashes) for c in clashes[index]]) from error


def _free_blocks(bookings: Iterable[Booking]) -> None:
    BookingBlock.objects.filter(booking__in=[b.pk for b in bookings]).delete()


# --- who books for whom ---------------------------------------------------------------------


def resolve_institution(*, user: User, institution: Institution | None, room: Room) -> Institution | None:
    """Return the institution a booking is for; a user books only for institutions they belong to.

    Campus-level members (facility services, front desk) may book for any institution of the
    campus, or for the campus itself (no institution).
    """
    campus_id = room.building.campus_id
    memberships = list(valid_memberships(user))
    campus_level = user.is_superuser or any(m.campus_id == campus_id for m in memberships)
    own = {m.institution_id: m.institution for m in memberships if m.institution_id}
    if institution is not None:
        if institution.campus_id != campus_id:
            raise InvalidInput(
                _("%(institution)s is not on this room's campus.") % {"institution": institution},
                errors=[{"field": "institution", "message": _("Choose an institution of this campus.")}],
            )
        if institution.pk in own or campus_level:
            return institution
        raise PermissionDenied(_("You can book only for institutions you belong to."), code="not_a_member")
    own_here = [i for i in own.values() if i.campus_id == campus_id]
    if len(own_here) == 1:
        return own_here[0]
    if campus_level:
        return None
    if not own_here:
        raise PermissionDenied(_("You are not a member of any institution on this campus."), code="not_a_member")
    message = _("You belong to several institutions: choose which one this booking is for.")
    raise InvalidInput(message, errors=[{"field": "institution", "message": message}])


def may_change(user: User, booking: Booking) -> bool:
    """Return whether ``user`` may change, cancel or release ``booking``."""
    if user.is_superuser or booking.booked_by_id == user.pk:
        return True
    if booking.series_id and booking.series.owner_id == user.pk:
        return True
    if is_room_manager(user, booking.room):
        return True
    return has_role(user, Role.FRONT_DESK, campus_id=booking.campus_id)


# --- create --------------------------------------------------------------------------------


def _require_aware(value: dt.datetime, field_name: str) -> None:
    if timezone.is_naive(value):
        message = _("Give the time with its UTC offset, e.g. 2026-03-10T10:00:00+02:00.")
        raise InvalidInput(message, errors=[{"field": field_name, "message": message}])


def _check_basic(*, room: Room, start: dt.datetime, end: dt.datetime, attendees: int | None, now: dt.datetime) -> None:
    _require_aware(start, "start")
    _require_aware(end, "end")
    if start >= end:
        message = _("The end must be after the start.")
        raise InvalidInput(message, errors=[{"field": "end", "message": message}])
    if start < now:
        raise BookingRuleBroken(
            _("A booking cannot start in the past."), code="in_the_past", rule="earliest_start", allowed=now
        )
    if not room.is_bookable:
        raise BookingRuleBroken(
            _("%(room)s cannot be booked.") % {"room": room.name}, code="room_not_bookable", rule="bookable"
        )
    if attendees is not None and attendees > room.capacity:
        raise BookingRuleBroken(
            _("%(room)s holds at most %(capacity)d people.") % {"room": room.name, "capacity": room.capacity},
            code="over_capacity",
            rule="capacity",
            allowed=room.capacity,
        )


def _opening_refusal(calendar: OpeningCalendar, occurrence: recurrence.Occurrence) -> str | None:
    return calendar.refusal(occurrence.start, occurrence.end)


@transaction.atomic
def booking_create(
    *,
    room: Room,
    booked_by: User,
    title: str,
    start: dt.datetime,
    end: dt.datetime,
    institution: Institution | None = None,
    rrule: str | None = None,
    exdates: Sequence[dt.date | dt.datetime] = (),
    attendees: int | None = None,
    description: str = "",
    purpose: str = Purpose.TEACHING,
    visibility: str = Visibility.INSTITUTION,
    on_behalf_of_name: str = "",
    on_behalf_of_contact: str = "",
    on_behalf_of_organisation: str = "",
    skip_conflicts: bool = False,
    now: dt.datetime | None = None,
) -> BookingResult:
    """Book ``room`` for [start, end), or for every occurrence of ``rrule``; all or nothing.

    Raises SlotTaken (listing every clash) unless ``skip_conflicts``, BookingRuleBroken for a
    broken rule, InvalidInput/InvalidRecurrence for bad input and PermissionDenied.
    """
    now = now or timezone.now()
    title = title.strip()
    if not title:
        message = _("Give the booking a title.")
        raise InvalidInput(message, errors=[{"field": "title", "message": message}])
    _check_basic(room=room, start=start, end=end, attendees=attendees, now=now)
    for_institution = resolve_institution(user=booked_by, institution=institution, room=room)
    campus = room.building.campus
    zone = campus.zone
    viewer = viewer_for(booked_by)

    if rrule:
        occurrences = recurrence.expand(rule=rrule, start=start, end=end, exdates=list(exdates), zone=zone, now=now)
    else:
        if exdates:
            message = _("Excluded dates need a repeat rule.")
            raise InvalidInput(message, errors=[{"field": "exdates", "message": message}])
        occurrences = [recurrence.Occurrence(start, end)]

    calendar = opening_calendar(room, occurrences[0].start, occurrences[-1].end)
    skipped: list[Skipped] = []
    open_occurrences: list[recurrence.Occurrence] = []
    for occurrence in occurrences:
        refusal = _opening_refusal(calendar, occurrence)
        if refusal is None:
            open_occurrences.append(occurrence)
        elif not rrule:
            raise BookingRuleBroken(
                _("The room is not open then: %(reason)s.") % {"reason": refusal},
                code="outside_opening_hours",
                rule="opening_hours",
                allowed=_opening_allowed(calendar, occurrence),
            )
        else:
            skipped.append(Skipped(occurrence.start, occurrence.end, refusal, "closed"))

    clashes = _find_conflicts(room=room, occurrences=open_occurrences, viewer=viewer)
    if clashes and not skip_conflicts:
        raise _slot_taken([c for index in sorted(clashes) for c in clashes[index]])
    to_book = [o for index, o in enumerate(open_occurrences) if index not in clashes]
    for index in sorted(clashes):
        occurrence = open_occurrences[index]
        skipped.append(Skipped(occurrence.start, occurrence.end, _("the room is already booked"), "conflict"))
    if not to_book:
        raise BookingRuleBroken(
            _("None of the occurrences can be booked."),
            code="nothing_to_book",
            rule="opening_hours",
            skipped=[{"start": s.start, "end": s.end, "reason": s.reason, "code": s.code} for s in skipped],
        )

    series = None
    if rrule:
        series = BookingSeries.objects.create(
            campus=campus,
            rrule=recurrence.normalise_rrule(rrule, zone=zone),
            dtstart=start,
            time_zone=campus.time_zone,
            exdates=[value.isoformat() for value in exdates],
            owner=booked_by,
        )
    bookings = Booking.objects.bulk_create(
        [
            Booking(
                campus=campus,
                room=room,
                series=series,
                title=title,
                description=description,
                purpose=purpose,
                booked_by=booked_by,
                institution=for_institution,
                on_behalf_of_name=on_behalf_of_name,
                on_behalf_of_contact=on_behalf_of_contact,
                on_behalf_of_organisation=on_behalf_of_organisation,
                start=occurrence.start.astimezone(dt.UTC),
                end=occurrence.end.astimezone(dt.UTC),
                attendees=attendees,
                visibility=visibility,
                status=BookingStatus.CONFIRMED,
            )
            for occurrence in to_book
        ]
    )
    _write_blocks(bookings, room=room, viewer=viewer)
    skipped.sort(key=lambda s: s.start)
    return BookingResult(bookings=bookings, series=series, skipped=skipped)


def _opening_allowed(calendar: OpeningCalendar, occurrence: recurrence.Occurrence) -> dict[str, Any] | None:
    day = calendar.day(occurrence.start.astimezone(calendar.zone).date())
    if day.interval is None:
        return None
    return {"opens": day.interval[0], "closes": day.interval[1]}


# --- change, cancel, release ----------------------------------------------------------------


def bookings_in_scope(booking: Booking, scope: str, *, now: dt.datetime) -> list[Booking]:
    """Return the active, not yet ended bookings that ``scope`` covers, starting from ``booking``."""
    if scope not in Scope.ALL:
        message = _("scope must be one of: %(scopes)s.") % {"scopes": ", ".join(Scope.ALL)}
        raise InvalidInput(message, errors=[{"field": "scope", "message": message}])
    if booking.series_id is None or scope == Scope.OCCURRENCE:
        candidates = Booking.objects.filter(pk=booking.pk)
    elif scope == Scope.FOLLOWING:
        candidates = Booking.objects.filter(series_id=booking.series_id, start__gte=booking.start)
    else:
        candidates = Booking.objects.filter(series_id=booking.series_id)
    return list(
        candidates.filter(status__in=ACTIVE_STATUSES, end__gt=now).select_related("room", "room__building__campus")
    )


def _require_change_permission(actor: User, booking: Booking) -> None:
    if not may_change(actor, booking):
        raise PermissionDenied(_("Only the booker, the room's facility managers or the front desk may do this."))


EDITABLE_FIELDS = (
    "title",
    "description",
    "purpose",
    "attendees",
    "visibility",
    "on_behalf_of_name",
    "on_behalf_of_contact",
    "on_behalf_of_organisation",
)


@transaction.atomic
def booking_update(
    *,
    booking: Booking,
    actor: User,
    scope: str = Scope.OCCURRENCE,
    room: Room | None = None,
    start: dt.datetime | None = None,
    end: dt.datetime | None = None,
    now: dt.datetime | None = None,
    **changes: Any,
) -> list[Booking]:
    """Change ``booking`` (and, by ``scope``, the following or all occurrences); all or nothing.

    A new ``start``/``end`` moves the occurrence; for a wider scope every occurrence moves by the
    same local wall-clock shift and takes the new length. Moves are checked like new bookings.
    """
    now = now or timezone.now()
    _require_change_permission(actor, booking)
    unknown = set(changes) - set(EDITABLE_FIELDS)
    if unknown:
        raise InvalidInput(
            _("These fields cannot be changed: %(fields)s.") % {"fields": ", ".join(sorted(unknown))},
            errors=[{"field": name, "message": _("This field cannot be changed.")} for name in sorted(unknown)],
        )
    targets = bookings_in_scope(booking, scope, now=now)
    if not targets:
        raise BookingStateError(_("There is nothing left to change: the booking has ended or is no longer active."))
    if "title" in changes and not str(changes["title"]).strip():
        message = _("Give the booking a title.")
        raise InvalidInput(message, errors=[{"field": "title", "message": message}])
    new_room = room or booking.room
    moving = start is not None or end is not None or new_room.pk != booking.room_id
    if moving:
        _move(targets, anchor=booking, actor=actor, room=new_room, start=start, end=end, now=now)
    elif changes.get("attendees") is not None and changes["attendees"] > new_room.capacity:
        _check_basic(room=new_room, start=now, end=now + dt.timedelta(1), attendees=changes["attendees"], now=now)
    for target in targets:
        for name, value in changes.items():
            setattr(target, name, value)
        target.save()
    return targets


def _move(
    targets: list[Booking],
    *,
    anchor: Booking,
    actor: User,
    room: Room,
    start: dt.datetime | None,
    end: dt.datetime | None,
    now: dt.datetime,
) -> None:
    zone = room.building.campus.zone
    new_start = start or anchor.start
    new_end = end or (new_start + (anchor.end - anchor.start) if start else anchor.end)
    _check_basic(room=room, start=new_start, end=new_end, attendees=anchor.attendees, now=now)
    anchor_local = anchor.start.astimezone(zone).replace(tzinfo=None)
    shift = new_start.astimezone(zone).replace(tzinfo=None) - anchor_local
    length = new_end.astimezone(zone).replace(tzinfo=None) - new_start.astimezone(zone).replace(tzinfo=None)
    moved: list[recurrence.Occurrence] = []
    for target in targets:
        local = target.start.astimezone(zone).replace(tzinfo=None) + shift
        moved.append(recurrence.Occurrence(local.replace(tzinfo=zone), (local + length).replace(tzinfo=zone)))
    calendar = opening_calendar(room, min(o.start for o in moved), max(o.end for o in moved))
    for occurrence in moved:
        refusal = calendar.refusal(occurrence.start, occurrence.end)
        if refusal is not None:
            raise BookingRuleBroken(
                _("The room is not open on %(date)s: %(reason)s.")
                % {"date": occurrence.start.astimezone(zone).date().isoformat(), "reason": refusal},
                code="outside_opening_hours",
                rule="opening_hours",
                allowed=_opening_allowed(calendar, occurrence),
            )
    viewer = viewer_for(actor)
    clashes = _find_conflicts(room=room, occurrences=moved, viewer=viewer, exclude_booking_ids=[t.pk for t in targets])
    if clashes:
        raise _slot_taken([c for index in sorted(clashes) for c in clashes[index]])
    _free_blocks(targets)
    for target, occurrence in zip(targets, moved, strict=True):
        target.room = room
        target.campus_id = room.building.campus_id
        target.start = occurrence.start.astimezone(dt.UTC)
        target.end = occurrence.end.astimezone(dt.UTC)
        target.save()
    _write_blocks(targets, room=room, viewer=viewer)


@transaction.atomic
def booking_cancel(
    *, booking: Booking, actor: User, scope: str = Scope.OCCURRENCE, now: dt.datetime | None = None
) -> list[Booking]:
    """Cancel ``booking`` (or, by ``scope``, the following or all future occurrences) and free the slots."""
    now = now or timezone.now()
    _require_change_permission(actor, booking)
    targets = bookings_in_scope(booking, scope, now=now)
    if not targets:
        raise BookingStateError(_("There is nothing to cancel: the booking has ended or is no longer active."))
    _free_blocks(targets)
    Booking.objects.filter(pk__in=[t.pk for t in targets]).update(status=BookingStatus.CANCELLED, updated_at=now)
    for target in targets:
        target.status = BookingStatus.CANCELLED
    return targets


@transaction.atomic
def booking_release(*, booking: Booking, actor: User, now: dt.datetime | None = None) -> Booking:
    """End a running booking early ("we finished"): status released, the rest of the slot free."""
    now = now or timezone.now()
    _require_change_permission(actor, booking)
    booking = Booking.objects.select_related("room").get(pk=booking.pk)
    if booking.status not in ACTIVE_STATUSES:
        raise BookingStateError(_("Only an active booking can be released."))
    if now < booking.start:
        raise BookingStateError(_("The booking has not started yet: cancel it instead."), code="not_started")
    if now >= booking.end:
        raise BookingStateError(_("The booking has already ended."), code="already_ended")
    _free_blocks([booking])
    booking.status = BookingStatus.RELEASED
    booking.released_at = now
    booking.save(update_fields=["status", "released_at", "updated_at"])
    return booking


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


__all__ = [
    "BookingResult",
    "Scope",
    "Skipped",
    "active_overlaps_exist",
    "booking_cancel",
    "booking_create",
    "booking_release",
    "booking_update",
    "bookings_in_scope",
    "may_change",
    "resolve_institution",
    "room_parts",
]
