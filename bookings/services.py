"""Writes of bookings. Every entry point (pages, API, iCal import, jobs) calls these functions.

Double booking is impossible by construction: each active booking has one block per room part,
and on PostgreSQL an exclusion constraint forbids overlapping blocks of a part. The checks here
give users a readable answer first; on SQLite they are the guarantee, because the transaction
takes the database's write lock at BEGIN (``transaction_mode`` IMMEDIATE) so no check can race.
"""

from __future__ import annotations

import datetime as dt
import logging
import zoneinfo
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Q, prefetch_related_objects
from django.utils import timezone
from django.utils.translation import gettext as _

from bookings import audit, recurrence, rules
from bookings.errors import BookingRuleBroken, BookingStateError, InvalidRecurrence, SlotTaken
from bookings.models import (
    ACTIVE_STATUSES,
    Access,
    Booking,
    BookingAction,
    BookingBlock,
    BookingSeries,
    BookingStatus,
    Closure,
    NotificationKind,
    Purpose,
    Visibility,
)
from bookings.notifications import notify
from bookings.visibility import Viewer, viewer_for
from campus.dates import require_within_years
from campus.exceptions import InvalidInput, NotFound, PermissionDenied
from campus.models import Building, Campus, Institution, Role, Room, User
from campus.opening_hours import OpeningCalendar, opening_calendar
from campus.permissions import (
    has_role,
    is_campus_facility_manager,
    is_room_manager,
    require_booking_membership,
    require_campus_membership,
    valid_memberships,
)
from campus.selectors import breaks_between, facility_managers_for_room

logger = logging.getLogger(__name__)


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
    """Return the parts a booking of ``room`` blocks: its sections, or the room itself.

    Ordered by id, so that concurrent transactions lock parts in the same order (no deadlocks).
    """
    sections = sorted(room.sections.all(), key=lambda part: part.pk)
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
            )
        if index not in clashes:
            kept, kept_until = occurrence, blocked_until(room, occurrence.end)
    return clashes


def _slot_taken(conflicts: list[dict[str, Any]]) -> SlotTaken:
    return SlotTaken(_("The room is already booked at that time."), conflicts=conflicts)


def _lock_parts(*rooms: Room) -> None:
    """Queue the writers of the ``rooms``' parts behind one another until the transaction ends.

    PostgreSQL: row locks on the parts, taken in primary-key order, so two writers that share a
    part wait for each other here instead of deadlocking inside the exclusion constraint (two
    transactions inserting overlapping blocks at the same moment each wait for the other); after
    the wait the overlap check sees the winner's committed blocks. The exclusion constraint stays
    the guarantee. SQLite: a no-op (the IMMEDIATE transaction already holds the write lock).
    """
    part_ids = sorted({part.pk for room in rooms for part in room_parts(room)})
    list(
        Room.objects.select_for_update(no_key=True).filter(pk__in=part_ids).order_by("pk").values_list("pk", flat=True)
    )


def _lock_booker(user: User) -> None:
    """Serialise one person's concurrent requests, so that two at once cannot both pass the quota."""
    list(User.objects.select_for_update(no_key=True).filter(pk=user.pk).values_list("pk", flat=True))


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
    require_campus_membership(user, campus_id=campus_id)
    memberships = list(valid_memberships(user))
    campus_level = user.is_superuser or any(
        m.campus_id == campus_id and m.role in (Role.FACILITY_MANAGER, Role.FRONT_DESK) for m in memberships
    )
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
    if room.owner_id in own:
        # Several memberships, one of them the room's owner: the booking is evidently the owner's.
        return own[room.owner_id]
    if campus_level:
        return None
    if not own_here:
        raise PermissionDenied(_("You are not a member of any institution on this campus."), code="not_a_member")
    message = _("You belong to several institutions: choose which one this booking is for.")
    raise InvalidInput(message, errors=[{"field": "institution", "message": message}])


def _owns(user: User, booking: Booking) -> bool:
    """Return whether ``booking`` is ``user``'s own: they booked it or own its series (or are a superuser)."""
    return (
        user.is_superuser
        or booking.booked_by_id == user.pk
        or (booking.series_id is not None and booking.series.owner_id == user.pk)
    )


def _manages(user: User, room: Room) -> bool:
    """Return whether ``user`` may change anyone's bookings of ``room``: its managers or the campus's staff."""
    campus_id = room.building.campus_id
    return (
        is_room_manager(user, room)
        or is_campus_facility_manager(user, campus_id)
        or has_role(user, Role.FRONT_DESK, campus_id=campus_id)
    )


def may_change(user: User, booking: Booking) -> bool:
    """Return whether ``user`` may change, cancel or release ``booking``."""
    return _owns(user, booking) or _manages(user, booking.room)


def _require_change_permission_for_all(actor: User, targets: Iterable[Booking]) -> None:
    """Refuse unless ``actor`` may change every one of ``targets`` (a series may span rooms and owners)."""
    managed_rooms: dict[int, bool] = {}
    for target in targets:
        if _owns(actor, target):
            continue
        if target.room_id not in managed_rooms:
            managed_rooms[target.room_id] = _manages(actor, target.room)
        if not managed_rooms[target.room_id]:
            raise PermissionDenied(
                _("You may not change every occurrence in this scope: %(booking)s is not yours to change.")
                % {"booking": target}
            )


# --- create --------------------------------------------------------------------------------


def _require_aware(value: dt.datetime, field_name: str) -> None:
    if timezone.is_naive(value):
        message = _("Give the time with its UTC offset, e.g. 2026-03-10T10:00:00+02:00.")
        raise InvalidInput(message, errors=[{"field": field_name, "message": message}])


def _check_basic(*, room: Room, start: dt.datetime, end: dt.datetime, now: dt.datetime) -> None:
    _require_aware(start, "start")
    _require_aware(end, "end")
    require_within_years(start, "start")
    require_within_years(end, "end")
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


def _closed_reason(
    calendar: OpeningCalendar, closures: list[Closure], occurrence: recurrence.Occurrence
) -> tuple[str, str] | None:
    """Return (code, reason) when ``occurrence`` falls outside opening hours or into a closure."""
    refusal = calendar.refusal(occurrence.start, occurrence.end)
    if refusal is not None:
        return "outside_opening_hours", refusal
    for closure in closures:
        if closure.start < occurrence.end and closure.end > occurrence.start:
            return "closed", _("closed: %(reason)s") % {"reason": closure.reason}
    return None


def _refuse_closed(
    code: str, reason: str, calendar: OpeningCalendar, occurrence: recurrence.Occurrence
) -> BookingRuleBroken:
    if code == "closed":
        return BookingRuleBroken(
            _("The room is closed then (%(reason)s).") % {"reason": reason}, code="closed", rule="closure"
        )
    return BookingRuleBroken(
        _("The room is not open then: %(reason)s.") % {"reason": reason},
        code="outside_opening_hours",
        rule="opening_hours",
        allowed=_opening_allowed(calendar, occurrence),
    )


@dataclass
class _BookingPlan:
    """What a booking request would write: unsaved occurrences (and series), the rules' verdict, who it is for."""

    result: BookingResult
    check: rules.RuleCheck
    viewer: Viewer


@transaction.atomic
def booking_create(**request: Any) -> BookingResult:
    """Book ``room`` for [start, end), or for every occurrence of ``rrule``; all or nothing.

    The room's rules decide whether the booking is confirmed at once or is a pending request.
    Raises SlotTaken (listing every clash) unless ``skip_conflicts``, BookingRuleBroken for a
    broken rule, InvalidInput/InvalidRecurrence for bad input and PermissionDenied. Takes the
    arguments of ``plan_booking``.
    """
    request["now"] = request.get("now") or timezone.now()
    return _carry_out(plan_booking(**request, lock=True), now=request["now"])


def booking_dry_run(**request: Any) -> BookingResult:
    """Return what ``booking_create`` would do (the same checks and answers), reading only: nothing is
    written or locked, so a live preview never holds the database's write lock."""
    return plan_booking(**request, lock=False).result


def plan_booking(
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
    skip_breaks: bool | None = None,
    override_reason: str = "",
    now: dt.datetime | None = None,
    lock: bool,
) -> _BookingPlan:
    """Check a booking request and return the unsaved occurrences it would create; raise what create raises.

    With ``lock`` (inside booking_create's transaction) the booker and the room's parts are locked
    before the quota and clash checks, so that the checks cannot race. A series skips the break dates
    of its institution's term calendar when ``skip_breaks`` (by default for teaching).
    """
    now = now or timezone.now()
    # Every step reads the room's parts and the rooms it is part of: load them once.
    prefetch_related_objects([room], "sections", "combined_rooms")
    title = title.strip()
    if not title:
        message = _("Give the booking a title.")
        raise InvalidInput(message, errors=[{"field": "title", "message": message}])
    _check_basic(room=room, start=start, end=end, now=now)
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
    if not occurrences:
        message = _("Every occurrence of the series is excluded.")
        raise InvalidInput(message, errors=[{"field": "exdates", "message": message}])

    calendar = opening_calendar(room, occurrences[0].start, occurrences[-1].end)
    closures = list(rules.closures_for(room, occurrences[0].start, occurrences[-1].end))
    skipped: list[Skipped] = []
    open_occurrences: list[recurrence.Occurrence] = []
    for occurrence in occurrences:
        closed = _closed_reason(calendar, closures, occurrence)
        if closed is None:
            open_occurrences.append(occurrence)
        elif not rrule:
            raise _refuse_closed(*closed, calendar, occurrence)
        else:
            skipped.append(Skipped(occurrence.start, occurrence.end, closed[1], "closed"))
    if open_occurrences and rrule and (purpose == Purpose.TEACHING if skip_breaks is None else skip_breaks):
        open_occurrences = _leave_out_breaks(
            open_occurrences, institution=for_institution, campus=campus, skipped=skipped
        )
    if not open_occurrences:
        raise _nothing_to_book(skipped)

    if lock:
        # Locks in a fixed order (the booker, then the parts by id): no deadlocks between writers.
        _lock_booker(booked_by)
        _lock_parts(room)
    check = rules.check_rules(
        room=room,
        user=booked_by,
        institution=for_institution,
        occurrences=[(o.start, o.end) for o in open_occurrences],
        attendees=attendees,
        now=now,
        override_reason=override_reason,
        is_series=bool(rrule),
        for_someone_else=bool(on_behalf_of_name.strip() or on_behalf_of_organisation.strip()),
    )

    clashes = _find_conflicts(room=room, occurrences=open_occurrences, viewer=viewer)
    if clashes and not skip_conflicts:
        raise _slot_taken([c for index in sorted(clashes) for c in clashes[index]])
    to_book = [o for index, o in enumerate(open_occurrences) if index not in clashes]
    if clashes and not to_book:
        # Every date that is open is taken: that is a clash, not a broken rule.
        raise _slot_taken([c for index in sorted(clashes) for c in clashes[index]])
    for index in sorted(clashes):
        occurrence = open_occurrences[index]
        skipped.append(Skipped(occurrence.start, occurrence.end, _("the room is already booked"), "conflict"))
    if not to_book:
        raise _nothing_to_book(skipped)

    pending = check.access == Access.REQUEST
    policy = check.policy
    series = None
    if rrule:
        series = BookingSeries(
            campus=campus,
            rrule=recurrence.normalise_rrule(rrule, zone=zone),
            dtstart=start,
            dtend=end,
            time_zone=campus.time_zone,
            owner=booked_by,
        )
    bookings = [
        Booking(
            campus=campus,
            room=room,
            series=series,
            recurrence_id=occurrence.start.astimezone(dt.UTC) if series is not None else None,
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
            status=BookingStatus.PENDING if pending else BookingStatus.CONFIRMED,
            expires_at=_request_expiry(policy, now=now, start=to_book[0].start) if pending else None,
        )
        for occurrence in to_book
    ]
    skipped.sort(key=lambda s: s.start)
    return _BookingPlan(
        result=BookingResult(bookings=bookings, series=series, skipped=skipped), check=check, viewer=viewer
    )


def _carry_out(plan: _BookingPlan, *, now: dt.datetime) -> BookingResult:
    """Write ``plan``'s series, occurrences and blocks, with audit events and the request notification."""
    result, check = plan.result, plan.check
    first = result.bookings[0]
    booked_by, room = first.booked_by, first.room
    if result.series is not None:
        result.series.save()
        for booking in result.bookings:
            booking.series = result.series
    bookings = Booking.objects.bulk_create(result.bookings)
    result.bookings = bookings
    _write_blocks(bookings, room=room, viewer=plan.viewer)
    if result.series is not None:
        sync_series_exceptions([result.series.pk])
        result.series.refresh_from_db(fields=["exdates"])
    pending = first.status == BookingStatus.PENDING
    audit.record(action=BookingAction.REQUEST if pending else BookingAction.CREATE, bookings=bookings, actor=booked_by)
    if check.overridden:
        audit.record(
            action=BookingAction.OVERRIDE,
            bookings=bookings,
            actor=booked_by,
            reason=check.override_reason,
            before={b.pk: {"rules": check.overridden} for b in bookings},
        )
    if pending:
        notify(
            kind=NotificationKind.REQUEST,
            booking=bookings[0],
            recipients=facility_managers_for_room(room=room, on=now.astimezone(room.building.campus.zone).date()),
        )
    return result


def _leave_out_breaks(
    occurrences: list[recurrence.Occurrence],
    *,
    institution: Institution | None,
    campus: Campus,
    skipped: list[Skipped],
) -> list[recurrence.Occurrence]:
    """Return the occurrences outside the term calendar's breaks; add the others to ``skipped`` (code ``break``)."""
    zone = campus.zone
    first = occurrences[0].start.astimezone(zone).date()
    last = occurrences[-1].start.astimezone(zone).date()
    breaks = breaks_between(
        institution_id=institution.pk if institution else None, campus_id=campus.pk, first=first, last=last
    )
    kept = []
    for occurrence in occurrences:
        day = occurrence.start.astimezone(zone).date()
        in_break = next((b for b in breaks if b.start <= day <= b.end), None)
        if in_break is None:
            kept.append(occurrence)
        else:
            reason = _("break: %(name)s") % {"name": in_break.name}
            skipped.append(Skipped(occurrence.start, occurrence.end, reason, "break"))
    return kept


def _nothing_to_book(skipped: list[Skipped]) -> BookingRuleBroken:
    return BookingRuleBroken(
        _("None of the occurrences can be booked."),
        code="nothing_to_book",
        rule="opening_hours",
        skipped=[{"start": s.start, "end": s.end, "reason": s.reason, "code": s.code} for s in skipped],
    )


def _opening_allowed(calendar: OpeningCalendar, occurrence: recurrence.Occurrence) -> dict[str, Any] | None:
    day = calendar.day(occurrence.start.astimezone(calendar.zone).date())
    if day.interval is None:
        return None
    return {"opens": day.interval[0], "closes": day.interval[1]}


# --- locks: every state change goes through here ------------------------------------------------


def _lock_series_of(booking_ids: Sequence[int]) -> None:
    """Lock the series of ``booking_ids`` (in id order) until the transaction ends.

    The one lock order of every writer is: series, then bookings by id, then room parts by id.
    A series' rule and exceptions change only under its lock; a split moves occurrences to a new
    series under the old one's lock, so the loop re-reads until the set is stable.
    """
    held: set[int] = set()
    while True:
        wanted = set(
            Booking.objects.filter(pk__in=booking_ids, series__isnull=False).values_list("series_id", flat=True)
        )
        missing = sorted(wanted - held)
        if not missing:
            return
        list(BookingSeries.objects.select_for_update().filter(pk__in=missing).order_by("pk").values_list("pk"))
        held.update(missing)


def lock_bookings(
    booking_ids: Iterable[int], *, statuses: Sequence[str] = ACTIVE_STATUSES, ending_after: dt.datetime | None = None
) -> list[Booking]:
    """Lock the bookings of ``booking_ids`` still in ``statuses`` (and ending after ``ending_after``); re-read them.

    PostgreSQL re-checks the filter on the newest row version after waiting for a lock, so what is
    returned is what a concurrent cancel, release or decision left. SQLite: the IMMEDIATE
    transaction already holds the write lock. Returned in start order, with what the services read.
    """
    ids = sorted(set(booking_ids))
    _lock_series_of(ids)
    locked = Booking.objects.filter(pk__in=ids, status__in=statuses)
    if ending_after is not None:
        locked = locked.filter(end__gt=ending_after)
    locked_ids = list(locked.select_for_update().order_by("pk").values_list("pk", flat=True))
    return list(
        Booking.objects.filter(pk__in=locked_ids)
        .select_related("room", "room__building__campus", "booked_by", "campus", "series", "institution")
        .order_by("start", "pk")
    )


def lock_in_scope(
    booking: Booking, scope: str, *, now: dt.datetime, statuses: Sequence[str] = ACTIVE_STATUSES
) -> tuple[Booking, list[Booking]]:
    """Lock and re-read ``booking`` and the bookings ``scope`` covers from it that are in ``statuses`` and not ended.

    Returns (the re-read booking, the locked targets). Every decision afterwards is taken on these
    rows, never on the caller's copy, so two concurrent changes cannot both act on one state.
    """
    if scope not in Scope.ALL:
        message = _("scope must be one of: %(scopes)s.") % {"scopes": ", ".join(Scope.ALL)}
        raise InvalidInput(message, errors=[{"field": "scope", "message": message}])
    _lock_series_of([booking.pk])
    anchor = (
        Booking.objects.select_related("room", "room__building__campus", "booked_by", "campus", "series")
        .filter(pk=booking.pk)
        .first()
    )
    if anchor is None:
        raise NotFound(_("The booking no longer exists."))
    if anchor.series_id is None or scope == Scope.OCCURRENCE:
        candidates = [anchor.pk]
    else:
        in_series = Booking.objects.filter(series_id=anchor.series_id)
        if scope == Scope.FOLLOWING:
            in_series = in_series.filter(recurrence_id__gte=anchor.recurrence_id)
        candidates = list(in_series.values_list("pk", flat=True))
    targets = lock_bookings(candidates, statuses=statuses, ending_after=now)
    anchor = next((target for target in targets if target.pk == anchor.pk), anchor)
    return anchor, targets


def sync_series_exceptions(series_ids: Iterable[int]) -> None:
    """Make each series' exdates name exactly the instances of its rule that have no active occurrence.

    Call while holding the series' lock (``lock_in_scope`` and ``lock_bookings`` take it). Derived
    rather than edited, so every path (cancel, reject, expire, release, skip, split) keeps it true.
    """
    for series in BookingSeries.objects.filter(pk__in=set(series_ids)):
        zone = zoneinfo.ZoneInfo(series.time_zone)
        try:
            instances = recurrence.series_instances(rule=series.rrule, dtstart=series.dtstart, zone=zone)
        except InvalidRecurrence:
            # A rule stored before rules were checked as now: keep its exceptions rather than block the change.
            logger.warning(
                "series %s: stored rule %r no longer parses; exceptions left as they are", series.pk, series.rrule
            )
            continue
        active = set(
            Booking.objects.filter(series=series, status__in=ACTIVE_STATUSES).values_list("recurrence_id", flat=True)
        )
        exdates = [instance.isoformat() for instance in instances if instance not in active]
        if exdates != series.exdates:
            series.exdates = exdates
            series.save(update_fields=["exdates"])


def _series_ids(bookings: Iterable[Booking]) -> set[int]:
    return {booking.series_id for booking in bookings if booking.series_id is not None}


# --- change, cancel, release ----------------------------------------------------------------


def _require_change_permission(actor: User, booking: Booking) -> None:
    if not may_change(actor, booking):
        raise PermissionDenied(_("Only the booker, the room's facility managers or the front desk may do this."))
    if not _manages(actor, booking.room):
        # The booker acts under the membership the booking was made under: it must still hold.
        require_booking_membership(actor, campus_id=booking.campus_id, institution_id=booking.institution_id)


def _request_expiry(policy: rules.EffectivePolicy, *, now: dt.datetime, start: dt.datetime) -> dt.datetime:
    """Return when a request expires: after the policy's hours, at the latest when the booking starts."""
    return min(now + dt.timedelta(hours=policy.request_expiry_hours), start)


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
    override_reason: str = "",
    now: dt.datetime | None = None,
    **changes: Any,
) -> list[Booking]:
    """Change ``booking`` (and, by ``scope``, the following or all occurrences); all or nothing.

    A new ``start``/``end`` moves the occurrence; for a wider scope every occurrence moves by the
    same local wall-clock shift and takes the new length, each staying in its own room unless
    ``room`` is given. Moves are checked like new bookings, per room.
    """
    now = now or timezone.now()
    unknown = set(changes) - set(EDITABLE_FIELDS)
    if unknown:
        raise InvalidInput(
            _("These fields cannot be changed: %(fields)s.") % {"fields": ", ".join(sorted(unknown))},
            errors=[{"field": name, "message": _("This field cannot be changed.")} for name in sorted(unknown)],
        )
    if "title" in changes and not str(changes["title"]).strip():
        message = _("Give the booking a title.")
        raise InvalidInput(message, errors=[{"field": "title", "message": message}])
    anchor, targets = lock_in_scope(booking, scope, now=now)
    _require_change_permission(actor, anchor)
    if not targets:
        raise BookingStateError(_("There is nothing left to change: the booking has ended or is no longer active."))
    if room is not None and room.building.campus_id != anchor.campus_id:
        message = _("A booking cannot be moved to another campus; book the room there instead.")
        raise InvalidInput(message, errors=[{"field": "room", "message": message}])
    moving = start is not None or end is not None or (room is not None and any(t.room_id != room.pk for t in targets))
    if moving:
        # A booking that has started stays where it is; only the ones still ahead move.
        if anchor.start <= now:
            raise BookingStateError(
                _("The booking has already started and cannot be moved; release it instead."), code="already_started"
            )
        if anchor.pk not in {target.pk for target in targets}:
            raise BookingStateError(
                _("This occurrence is no longer active: move the series from one of its active occurrences."),
                code="not_active",
            )
        targets = [target for target in targets if target.start > now]
    _require_change_permission_for_all(actor, targets)
    before = {target.pk: audit.snapshot(target) for target in targets}
    first_original = min(targets, key=lambda t: t.recurrence_id or t.start)
    first_original_id = first_original.recurrence_id
    retimed = start is not None or end is not None
    reshaping = retimed and anchor.series_id is not None and scope != Scope.OCCURRENCE
    verdicts: dict[int, rules.RuleCheck] = {}
    anchor_start_before = anchor.start
    if moving:
        verdicts = _move(
            targets,
            anchor=anchor,
            actor=actor,
            room=room,
            start=start,
            end=end,
            attendees=changes.get("attendees"),
            override_reason=override_reason,
            now=now,
            shift_instances=reshaping,
        )
    elif changes.get("attendees") is not None:
        for target in targets:
            _require_capacity(target.room, changes["attendees"])
    if reshaping and first_original_id is not None:
        shift = recurrence.wall_duration(anchor_start_before, anchor.start, anchor.campus.zone)
        _reshape_series(anchor.series, targets, first_original_id=first_original_id, shift=shift, anchor=anchor)
    to_request = [
        t
        for t in targets
        if t.pk in verdicts and verdicts[t.pk].access == Access.REQUEST and t.status == BookingStatus.CONFIRMED
    ]
    requested_ids = {t.pk for t in to_request}
    # A request is one decision: it expires at the latest when its first booking starts.
    first_requested = min((t.start for t in to_request), default=None)
    for target in targets:
        for name, value in changes.items():
            setattr(target, name, value)
        if target.pk in requested_ids:
            # A move into a room (or time) that others may only request goes back to the room's deciders.
            target.status = BookingStatus.PENDING
            target.expires_at = _request_expiry(verdicts[target.pk].policy, now=now, start=first_requested)
        target.save()
    # A change that changes nothing (an empty PATCH, the same values again) is answered, not audited.
    changed = [target for target in targets if audit.snapshot(target) != before[target.pk]]
    if changed:
        audit.record(action=BookingAction.CHANGE, bookings=changed, actor=actor, before=before)
    if to_request:
        audit.record(action=BookingAction.REQUEST, bookings=to_request, actor=actor)
        for room_id in dict.fromkeys(t.room_id for t in to_request):
            first = next(t for t in to_request if t.room_id == room_id)
            notify(
                kind=NotificationKind.REQUEST,
                booking=first,
                recipients=facility_managers_for_room(
                    room=first.room, on=now.astimezone(first.room.building.campus.zone).date()
                ),
            )
    overridden = [t for t in targets if t.pk in verdicts and verdicts[t.pk].overridden]
    if overridden:
        audit.record(
            action=BookingAction.OVERRIDE,
            bookings=overridden,
            actor=actor,
            reason=override_reason.strip(),
            before={t.pk: {"rules": verdicts[t.pk].overridden} for t in overridden},
        )
    return targets


def _require_capacity(room: Room, attendees: int) -> None:
    if attendees > room.capacity:
        raise BookingRuleBroken(
            _("%(room)s holds at most %(capacity)d people.") % {"room": room.name, "capacity": room.capacity},
            code="over_capacity",
            rule="capacity",
            allowed=room.capacity,
        )


def _reshape_series(
    series: BookingSeries,
    moved: list[Booking],
    *,
    first_original_id: dt.datetime,
    shift: dt.timedelta,
    anchor: Booking,
) -> None:
    """Keep the stored rule true after ``moved`` (the remaining or following occurrences) got new times.

    When earlier occurrences stay as they were, the series is split like calendars do: the old
    series now ends before the first moved occurrence and a new series, with the new times, holds
    the moved ones. Otherwise the series itself takes the new start (and weekdays). Either way the
    exceptions are derived again, so cancelled and moved occurrences travel with their series.
    """
    zone = zoneinfo.ZoneInfo(series.time_zone)
    ordered = sorted(moved, key=lambda b: b.recurrence_id)
    first = ordered[0]
    shift_days = (first.recurrence_id.astimezone(zone).date() - first_original_id.astimezone(zone).date()).days
    length = recurrence.wall_duration(anchor.start, anchor.end, zone)
    repeat = recurrence.RepeatRule.parse(series.rrule, zone=zone)
    new_rule = str(repeat.shifted(shift_days).ending(ordered[-1].recurrence_id))
    new_dtstart = first.recurrence_id
    new_dtend = recurrence.add_wall_time(new_dtstart, length, zone)
    moved_ids = [b.pk for b in moved]
    # Active occurrences that stay where they are (they have started) but were moved on their own to
    # after the split go with the new series as overrides: their original start moves with the rule.
    carried = list(
        series.occurrences.exclude(pk__in=moved_ids).filter(
            recurrence_id__gte=first_original_id, status__in=ACTIVE_STATUSES
        )
    )
    for occurrence in carried:
        occurrence.recurrence_id = recurrence.add_wall_time(occurrence.recurrence_id, shift, zone).astimezone(dt.UTC)
        occurrence.save(update_fields=["recurrence_id"])
    earlier = (
        series.occurrences.exclude(pk__in=moved_ids)
        .filter(recurrence_id__lt=first_original_id, status__in=ACTIVE_STATUSES)
        .exists()
    )
    if not earlier:
        series.rrule, series.dtstart, series.dtend = new_rule, new_dtstart, new_dtend
        series.save(update_fields=["rrule", "dtstart", "dtend"])
        _require_rule_describes(series)
        sync_series_exceptions([series.pk])
        return
    series.rrule = str(repeat.ending(first_original_id - dt.timedelta(seconds=1)))
    series.save(update_fields=["rrule"])
    following = BookingSeries.objects.create(
        campus=series.campus,
        rrule=new_rule,
        dtstart=new_dtstart,
        dtend=new_dtend,
        time_zone=series.time_zone,
        exdates=[],
        owner=series.owner,
    )
    # The occurrences of the old series at or after the split (cancelled ones too) go with the new one.
    Booking.objects.filter(series=series, recurrence_id__gte=first_original_id).exclude(pk__in=moved_ids).update(
        series=following
    )
    Booking.objects.filter(pk__in=moved_ids).update(series=following)
    for booking in moved:
        booking.series = following
    _require_rule_describes(following)
    sync_series_exceptions([series.pk, following.pk])


def _require_rule_describes(series: BookingSeries) -> None:
    """Refuse a series move after which the rule no longer gives every active occurrence's original start.

    A shift by whole days keeps weekly weekdays in step, but not every rule: the 15th of the month,
    the first Monday or an alternate-weekend rule would give other dates than the moved occurrences.
    """
    zone = zoneinfo.ZoneInfo(series.time_zone)
    instances = set(recurrence.series_instances(rule=series.rrule, dtstart=series.dtstart, zone=zone))
    active = Booking.objects.filter(series=series, status__in=ACTIVE_STATUSES).values_list("recurrence_id", flat=True)
    if any(recurrence_id not in instances for recurrence_id in active):
        message = _(
            "This series repeats by a rule (%(rule)s) that cannot be moved to other days as a whole: "
            "its dates would no longer follow the rule. Move the occurrences one at a time, or cancel "
            "the rest and book a new series."
        ) % {"rule": series.rrule}
        raise InvalidInput(message, errors=[{"field": "start", "message": message}], code="rule_cannot_move")


def _move(
    targets: list[Booking],
    *,
    anchor: Booking,
    actor: User,
    room: Room | None,
    start: dt.datetime | None,
    end: dt.datetime | None,
    attendees: int | None,
    override_reason: str,
    now: dt.datetime,
    shift_instances: bool,
) -> dict[int, rules.RuleCheck]:
    """Move ``targets`` by the anchor's shift, into ``room`` or each its own; return each target's rule verdict.

    Rules, opening hours, closures and clashes are checked per destination room; the parts of all
    destinations are locked at once, in id order. With ``shift_instances`` (a series-wide move) the
    occurrences' original starts move too; otherwise a moved occurrence keeps it (an override).
    """
    zone = anchor.campus.zone
    new_start = start or anchor.start
    new_end = end or (new_start + (anchor.end - anchor.start) if start else anchor.end)
    _require_aware(new_start, "start")
    _require_aware(new_end, "end")
    if new_start >= new_end:
        message = _("The end must be after the start.")
        raise InvalidInput(message, errors=[{"field": "end", "message": message}])
    shift = recurrence.wall_duration(anchor.start, new_start, zone)
    length = recurrence.wall_duration(new_start, new_end, zone)
    destinations: dict[int, Room] = {}
    moves: dict[int, list[tuple[Booking, recurrence.Occurrence]]] = {}
    for target in targets:
        if target.pk == anchor.pk:
            occurrence = recurrence.Occurrence(new_start.astimezone(zone), new_end.astimezone(zone))
        else:
            moved_start = recurrence.add_wall_time(target.start, shift, zone)
            occurrence = recurrence.Occurrence(moved_start, recurrence.add_wall_time(moved_start, length, zone))
            for moment, field_name in ((occurrence.start, "start"), (occurrence.end, "end")):
                problem = recurrence.wall_time_problem(moment, zone)
                if problem is not None:
                    message = problem + " " + _("Choose another time.")
                    raise InvalidInput(message, errors=[{"field": field_name, "message": message}])
        destination = room or target.room
        destinations[destination.pk] = destination
        moves.setdefault(destination.pk, []).append((target, occurrence))
    _lock_parts(*destinations.values())
    viewer = viewer_for(actor)
    excluded = [t.pk for t in targets]
    verdicts: dict[int, rules.RuleCheck] = {}
    for room_id, room_moves in moves.items():
        destination = destinations[room_id]
        occurrences = [occurrence for _target, occurrence in room_moves]
        first = min(occurrences, key=lambda o: o.start)
        _check_basic(room=destination, start=first.start, end=first.end, now=now)
        last_end = max(o.end for o in occurrences)
        calendar = opening_calendar(destination, first.start, last_end)
        closures = list(rules.closures_for(destination, first.start, last_end))
        for occurrence in occurrences:
            closed = _closed_reason(calendar, closures, occurrence)
            if closed is not None:
                raise _refuse_closed(*closed, calendar, occurrence)
        own_attendees = [t.attendees for t, _o in room_moves if t.attendees is not None]
        check = rules.check_rules(
            room=destination,
            user=actor,
            institution=anchor.institution,
            occurrences=[(o.start, o.end) for o in occurrences],
            attendees=attendees if attendees is not None else max(own_attendees, default=None),
            now=now,
            override_reason=override_reason,
            is_series=anchor.series_id is not None,
            exclude_booking_ids=excluded,
            booker=anchor.booked_by,
        )
        clashes = _find_conflicts(
            room=destination, occurrences=occurrences, viewer=viewer, exclude_booking_ids=excluded
        )
        if clashes:
            raise _slot_taken([c for index in sorted(clashes) for c in clashes[index]])
        for target, _occurrence in room_moves:
            verdicts[target.pk] = check
    if len(moves) > 1:
        _refuse_moves_clashing_with_each_other(moves, destinations)
    _free_blocks(targets)
    for room_id, room_moves in moves.items():
        for target, occurrence in room_moves:
            if shift_instances and target.recurrence_id is not None:
                target.recurrence_id = recurrence.add_wall_time(target.recurrence_id, shift, zone).astimezone(dt.UTC)
            target.room = destinations[room_id]
            target.start = occurrence.start.astimezone(dt.UTC)
            target.end = occurrence.end.astimezone(dt.UTC)
            target.save()
        _write_blocks([target for target, _o in room_moves], room=destinations[room_id], viewer=viewer)
    return verdicts


def _refuse_moves_clashing_with_each_other(
    moves: dict[int, list[tuple[Booking, recurrence.Occurrence]]], destinations: dict[int, Room]
) -> None:
    """Refuse moves into different rooms that would overlap one another on a shared part (a hall and its section)."""
    spans = sorted(
        (
            (occurrence.start, blocked_until(destinations[room_id], occurrence.end), room_id, occurrence)
            for room_id, room_moves in moves.items()
            for _target, occurrence in room_moves
        ),
        key=lambda span: span[0],
    )
    parts = {room_id: {part.pk for part in room_parts(room)} for room_id, room in destinations.items()}
    for index, (start, until, room_id, occurrence) in enumerate(spans):
        for later_start, _until, later_room_id, later in spans[index + 1 :]:
            if later_start >= until:
                break
            if later_room_id != room_id and parts[room_id] & parts[later_room_id]:
                room = destinations[room_id]
                raise _slot_taken(
                    [
                        {
                            "start": start,
                            "end": occurrence.end,
                            "title": None,
                            "room": room.code,
                            "room_label": room.label,
                            "requested_start": later.start,
                        }
                    ]
                )


def _end_bookings(targets: list[Booking], *, status: str, now: dt.datetime, **fields_: Any) -> None:
    """Give ``targets`` a final status, free their slots and update their series' exceptions."""
    _free_blocks(targets)
    Booking.objects.filter(pk__in=[t.pk for t in targets]).update(status=status, updated_at=now, **fields_)
    for target in targets:
        target.status = status
        for name, value in fields_.items():
            setattr(target, name, value)
    sync_series_exceptions(_series_ids(targets))


@transaction.atomic
def booking_cancel(
    *,
    booking: Booking,
    actor: User,
    scope: str = Scope.OCCURRENCE,
    reason: str = "",
    now: dt.datetime | None = None,
) -> list[Booking]:
    """Cancel ``booking`` (or, by ``scope``, the following or all future occurrences) and free the slots.

    The booker is told when someone else cancels.
    """
    now = now or timezone.now()
    anchor, targets = lock_in_scope(booking, scope, now=now)
    _require_change_permission(actor, anchor)
    if not targets:
        raise BookingStateError(_("There is nothing to cancel: the booking has ended or is no longer active."))
    _require_change_permission_for_all(actor, targets)
    before = {target.pk: audit.snapshot(target) for target in targets}
    _end_bookings(targets, status=BookingStatus.CANCELLED, now=now)
    audit.record(action=BookingAction.CANCEL, bookings=targets, actor=actor, before=before, reason=reason)
    _notify_bookers(NotificationKind.CANCELLED, targets, reason=reason, except_user=actor)
    return targets


def _notify_bookers(
    kind: str, bookings: Iterable[Booking], *, reason: str = "", except_user: User | None = None
) -> None:
    """Tell each booker of ``bookings`` once (about their first one), except ``except_user`` (who acted)."""
    first_per_booker: dict[int, Booking] = {}
    for booking in bookings:
        if booking.booked_by_id is not None:
            first_per_booker.setdefault(booking.booked_by_id, booking)
    for booker_id, first in first_per_booker.items():
        if except_user is None or booker_id != except_user.pk:
            notify(kind=kind, booking=first, recipients=[first.booked_by], reason=reason)


@transaction.atomic
def booking_release(*, booking: Booking, actor: User, now: dt.datetime | None = None) -> Booking:
    """End a running booking early ("we finished"): status released, the rest of the slot free."""
    now = now or timezone.now()
    anchor, targets = lock_in_scope(booking, Scope.OCCURRENCE, now=now)
    _require_change_permission(actor, anchor)
    if not targets:
        if anchor.status not in ACTIVE_STATUSES:
            raise BookingStateError(_("Only an active booking can be released."))
        raise BookingStateError(_("The booking has already ended."), code="already_ended")
    booking = targets[0]
    if now < booking.start:
        raise BookingStateError(_("The booking has not started yet: cancel it instead."), code="not_started")
    before = {booking.pk: audit.snapshot(booking)}
    _end_bookings([booking], status=BookingStatus.RELEASED, now=now, released_at=now)
    audit.record(action=BookingAction.RELEASE, bookings=[booking], actor=actor, before=before)
    if booking.booked_by_id != actor.pk:
        notify(kind=NotificationKind.RELEASED, booking=booking, recipients=[booking.booked_by])
    return booking


# --- approvals ---------------------------------------------------------------------------------


def _require_decider(actor: User, *bookings: Booking) -> None:
    if bookings:
        require_campus_membership(actor, campus_id=bookings[0].campus_id)
    decided_rooms: set[int] = set()
    for booking in bookings:
        if booking.room_id in decided_rooms:
            continue
        if not is_room_manager(actor, booking.room):
            raise PermissionDenied(
                _(
                    "Only the facility managers of the room's owner (or of the campus, for shared rooms) "
                    "decide requests."
                )
            )
        decided_rooms.add(booking.room_id)


@transaction.atomic
def booking_approve(
    *, booking: Booking, actor: User, scope: str = Scope.OCCURRENCE, reason: str = "", now: dt.datetime | None = None
) -> list[Booking]:
    """Approve a pending request (one occurrence, the following ones or the whole series)."""
    now = now or timezone.now()
    anchor, targets = lock_in_scope(booking, scope, now=now, statuses=[BookingStatus.PENDING])
    _require_decider(actor, anchor)
    if not targets:
        raise BookingStateError(_("There is no pending request to approve."))
    _require_decider(actor, *targets)
    if any(target.expires_at is not None and target.expires_at <= now for target in targets):
        raise BookingStateError(_("The request has expired; its slot is being freed."), code="expired")
    before = {target.pk: audit.snapshot(target) for target in targets}
    Booking.objects.filter(pk__in=[t.pk for t in targets]).update(
        status=BookingStatus.CONFIRMED,
        decided_by=actor,
        decided_at=now,
        decision_reason=reason,
        expires_at=None,
        updated_at=now,
    )
    for target in targets:
        target.status = BookingStatus.CONFIRMED
        target.decision_reason = reason
    audit.record(action=BookingAction.APPROVE, bookings=targets, actor=actor, before=before, reason=reason)
    _notify_bookers(NotificationKind.APPROVED, targets, reason=reason)
    return targets


@transaction.atomic
def booking_reject(
    *, booking: Booking, actor: User, reason: str, scope: str = Scope.OCCURRENCE, now: dt.datetime | None = None
) -> list[Booking]:
    """Reject a pending request with a reason; its slot becomes free."""
    now = now or timezone.now()
    if not reason.strip():
        message = _("Give a reason: the requester reads it.")
        raise InvalidInput(message, errors=[{"field": "reason", "message": message}])
    anchor, targets = lock_in_scope(booking, scope, now=now, statuses=[BookingStatus.PENDING])
    _require_decider(actor, anchor)
    if not targets:
        raise BookingStateError(_("There is no pending request to reject."))
    _require_decider(actor, *targets)
    before = {target.pk: audit.snapshot(target) for target in targets}
    _end_bookings(
        targets, status=BookingStatus.REJECTED, now=now, decided_by=actor, decided_at=now, decision_reason=reason
    )
    audit.record(action=BookingAction.REJECT, bookings=targets, actor=actor, before=before, reason=reason)
    _notify_bookers(NotificationKind.REJECTED, targets, reason=reason)
    return targets


EXPIRED = "expired"


@transaction.atomic
def requests_expire(*, now: dt.datetime | None = None) -> list[Booking]:
    """Reject every pending request whose decision time has passed, with reason ``expired``.

    Rows another writer holds are skipped (the next run takes them), so the job never waits.
    """
    now = now or timezone.now()
    due = Booking.objects.filter(status=BookingStatus.PENDING, expires_at__lte=now)
    series_ids = list(
        BookingSeries.objects.filter(pk__in=due.filter(series__isnull=False).values("series_id"))
        .select_for_update(skip_locked=True)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    expired_ids = list(
        due.filter(Q(series__isnull=True) | Q(series_id__in=series_ids))
        .select_for_update(skip_locked=True)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    targets = list(
        Booking.objects.filter(pk__in=expired_ids).select_related("room", "booked_by", "campus").order_by("start")
    )
    if not targets:
        return []
    before = {target.pk: audit.snapshot(target) for target in targets}
    _end_bookings(targets, status=BookingStatus.REJECTED, now=now, decided_at=now, decision_reason=EXPIRED)
    audit.record(action=BookingAction.EXPIRE, bookings=targets, actor=None, before=before, reason=EXPIRED)
    seen_series: set[int] = set()
    for target in targets:
        if target.series_id is not None:
            if target.series_id in seen_series:
                continue
            seen_series.add(target.series_id)
        notify(kind=NotificationKind.EXPIRED, booking=target, recipients=[target.booked_by])
    return targets


# --- handover ------------------------------------------------------------------------------------


@transaction.atomic
def booking_series_handover(
    *, booking: Booking, actor: User, to_user: User, reason: str = "", now: dt.datetime | None = None
) -> list[Booking]:
    """Hand a series (or a single booking) and its future occurrences to ``to_user``, e.g. a substitute."""
    now = now or timezone.now()
    booking, targets = lock_in_scope(booking, Scope.SERIES, now=now)
    _require_change_permission(actor, booking)
    if booking.booked_by_id == to_user.pk:
        message = _("%(user)s already holds this booking.") % {"user": to_user.username}
        raise InvalidInput(message, errors=[{"field": "to_user", "message": message}])
    memberships = list(valid_memberships(to_user))
    institution_ids = {m.institution_id for m in memberships if m.institution_id}
    on_campus = any(
        m.campus_id == booking.campus_id or (m.institution_id and m.institution.campus_id == booking.campus_id)
        for m in memberships
    )
    if (booking.institution_id is None and not on_campus) or (
        booking.institution_id is not None and booking.institution_id not in institution_ids
    ):
        raise handover_refused(booking, to_user.username)
    if not targets:
        raise BookingStateError(_("There is nothing left to hand over."))
    rules.check_membership_covers(
        booker=to_user,
        institution=booking.institution,
        campus=booking.campus,
        occurrences=[(t.start, t.end) for t in targets],
    )
    _require_change_permission_for_all(actor, targets)
    before = {target.pk: audit.snapshot(target) for target in targets}
    Booking.objects.filter(pk__in=[t.pk for t in targets]).update(booked_by=to_user, updated_at=now)
    for target in targets:
        target.booked_by = to_user
    if booking.series_id is not None:
        BookingSeries.objects.filter(pk=booking.series_id).update(owner=to_user)
    audit.record(action=BookingAction.HANDOVER, bookings=targets, actor=actor, before=before, reason=reason)
    notify(kind=NotificationKind.HANDOVER, booking=targets[0], recipients=[to_user], reason=reason)
    return targets


def handover_refused(booking: Booking, username: str, *, field: str = "to_user") -> InvalidInput:
    """Return the refusal of a handover to ``username``: the same words whether or not such a person exists,
    naming only what the caller typed (no one's full name, no hint of who has an account)."""
    if booking.institution_id is None:
        message = _("%(user)s is not a member of this campus.") % {"user": username}
    else:
        message = _("%(user)s is not a member of %(institution)s.") % {
            "user": username,
            "institution": booking.institution,
        }
    return InvalidInput(message, errors=[{"field": field, "message": message}])


# --- closures ------------------------------------------------------------------------------------


def _require_closure_permission(actor: User, *, room: Room | None, building: Building | None) -> None:
    require_campus_membership(actor, campus_id=(room.building if room is not None else building).campus_id)
    if room is not None and rules.may_override(actor, room):
        return
    campus_id = (room.building if room is not None else building).campus_id
    if is_campus_facility_manager(actor, campus_id):
        return
    raise PermissionDenied(_("Only facility managers may close rooms; only the campus's may close buildings."))


def closure_affected_bookings(closure: Closure) -> list[Booking]:
    """Return the active bookings that fall into ``closure``."""
    if closure.room_id is not None:
        # The bookings holding any part of the closed room: its own, its sections', and the whole's.
        in_place = Q(blocks__part_id__in=[part.pk for part in room_parts(closure.room)])
    else:
        in_place = Q(room__building_id=closure.building_id)
    return list(
        Booking.objects.filter(in_place, status__in=ACTIVE_STATUSES, start__lt=closure.end, end__gt=closure.start)
        .select_related("room", "booked_by", "campus")
        .distinct()
        .order_by("start")
    )


@transaction.atomic
def closure_create(
    *,
    actor: User,
    start: dt.datetime,
    end: dt.datetime,
    reason: str,
    room: Room | None = None,
    building: Building | None = None,
) -> tuple[Closure, list[Booking]]:
    """Close a room or a building for [start, end); tell the bookers of the bookings that fall into it."""
    if (room is None) == (building is None):
        message = _("Close either a room or a building.")
        raise InvalidInput(message, errors=[{"field": "room", "message": message}])
    _require_aware(start, "start")
    _require_aware(end, "end")
    require_within_years(start, "start")
    require_within_years(end, "end")
    if start >= end:
        message = _("The end must be after the start.")
        raise InvalidInput(message, errors=[{"field": "end", "message": message}])
    if not reason.strip():
        message = _("Give a reason: the people whose bookings are affected read it.")
        raise InvalidInput(message, errors=[{"field": "reason", "message": message}])
    _require_closure_permission(actor, room=room, building=building)
    campus = (room.building if room is not None else building).campus
    closure = Closure.objects.create(
        campus=campus, room=room, building=building, start=start, end=end, reason=reason.strip(), created_by=actor
    )
    affected = closure_affected_bookings(closure)
    _notify_bookers(NotificationKind.CLOSURE, affected, reason=closure.reason)
    return closure, affected


@transaction.atomic
def closure_cancel_bookings(*, closure: Closure, actor: User, now: dt.datetime | None = None) -> list[Booking]:
    """Cancel every active booking that falls into ``closure`` (one step for the facility manager)."""
    now = now or timezone.now()
    _require_closure_permission(actor, room=closure.room, building=closure.building)
    locked = lock_bookings([b.pk for b in closure_affected_bookings(closure)], ending_after=now)
    # Read again after the locks: a booking moved out of the closure meanwhile is not cancelled.
    still_inside = {b.pk for b in closure_affected_bookings(closure)}
    targets = [target for target in locked if target.pk in still_inside]
    if not targets:
        return []
    before = {target.pk: audit.snapshot(target) for target in targets}
    reason = _("Closed: %(reason)s") % {"reason": closure.reason}
    _end_bookings(targets, status=BookingStatus.CANCELLED, now=now)
    audit.record(action=BookingAction.CANCEL, bookings=targets, actor=actor, before=before, reason=reason)
    _notify_bookers(NotificationKind.CANCELLED, targets, reason=reason, except_user=actor)
    return targets


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
