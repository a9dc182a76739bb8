"""Creating bookings and series: plan (every rule, conflict and skipped date), then carry out."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from bookings import audit, recurrence, rules
from bookings.errors import BookingRuleBroken, SlotTaken
from bookings.models import (
    Access,
    Booking,
    BookingAction,
    BookingSeries,
    BookingStatus,
    NotificationKind,
    Purpose,
    Visibility,
)
from bookings.notifications import notify
from bookings.permissions import resolve_institution
from bookings.services import conflicts
from bookings.services.checks import check_basic, closed_reason, refuse_closed, request_expiry
from bookings.services.conflicts import BlocksRefused, insert_blocks, slot_taken
from bookings.services.context import BookerActivity, BookingContext, booker_activity, load_booking_context
from bookings.services.locking import lock_booker_and_parts, series_exceptions
from bookings.visibility import Viewer, viewer_for
from campus.exceptions import InvalidInput, KampusError
from campus.models import Institution, Room, User
from campus.selectors import facility_managers_for_room
from campus.sql_rows import insert


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
    # The booker's own active bookings overlapping the request, read with the quota (for the warnings).
    booked_elsewhere: list[Booking] = field(default_factory=list)

    @property
    def first(self) -> Booking:
        return self.bookings[0]


@dataclass(frozen=True, kw_only=True)
class BookingRequest:
    """What a person asks to book: the arguments of ``booking_create``, ``booking_dry_run`` and ``plan_booking``."""

    room: Room
    booked_by: User
    title: str
    start: dt.datetime
    end: dt.datetime
    institution: Institution | None = None
    rrule: str | None = None
    exdates: Sequence[dt.date | dt.datetime] = ()
    attendees: int | None = None
    description: str = ""
    purpose: str = Purpose.TEACHING
    visibility: str = Visibility.INSTITUTION
    on_behalf_of_name: str = ""
    on_behalf_of_contact: str = ""
    on_behalf_of_organisation: str = ""
    skip_conflicts: bool = False
    skip_breaks: bool | None = None  # None: a teaching series skips its term calendar's breaks
    override_reason: str = ""
    now: dt.datetime | None = None

    @property
    def is_series(self) -> bool:
        return bool(self.rrule)

    @property
    def follows_breaks(self) -> bool:
        return self.is_series and (self.purpose == Purpose.TEACHING if self.skip_breaks is None else self.skip_breaks)

    @property
    def for_someone_else(self) -> bool:
        return bool(self.on_behalf_of_name.strip() or self.on_behalf_of_organisation.strip())


@dataclass
class _BookingPlan:
    """What a booking request would write: unsaved occurrences (and series), the rules' verdict, who it is for."""

    result: BookingResult
    check: rules.RuleCheck
    viewer: Viewer


def booking_create(**request: Any) -> BookingResult:
    """Book ``room`` for [start, end), or for every occurrence of ``rrule``; all or nothing.

    The room's rules decide whether the booking is confirmed at once or is a pending request.
    Raises SlotTaken (listing every clash) unless ``skip_conflicts``, BookingRuleBroken for a
    broken rule, InvalidInput/InvalidRecurrence for bad input and PermissionDenied. Takes the
    fields of ``BookingRequest``.
    """
    request["now"] = request.get("now") or timezone.now()
    attempt = 1
    while True:
        try:
            with transaction.atomic():
                return _carry_out(plan_booking(**request, lock=True), now=request["now"])
        except BlocksRefused as refused:
            # A writer the check could not see yet won: the database refused the blocks and the transaction
            # is rolled back; what clashes can be read now.
            taken, cause = refused.slot_taken(), refused.__cause__
        except Clashes as clashes:
            # Described once the transaction has let go of the locks: the next writer of the room waits less.
            taken, cause = clashes.slot_taken(), None
        if taken.conflicts or attempt == conflicts.WRITE_ATTEMPTS:
            raise taken from cause
        # Every clash was cancelled or moved away before it could be described: the slot is free now.
        attempt += 1


def booking_dry_run(**request: Any) -> BookingResult:
    """Return what ``booking_create`` would do (the same checks and answers), reading only: nothing is
    written or locked, so a live preview never holds the database's write lock."""
    try:
        return plan_booking(**request, lock=False).result
    except Clashes as clashes:
        raise clashes.slot_taken() from None


class Clashes(Exception):
    """The request's occurrences clash with active bookings (or with each other) and may not be left out.

    Raised by ``plan_booking`` before the clashes are described: the caller lets the transaction go
    (and with it the locks), then ``slot_taken`` reads what clashes for the answer.
    """

    def __init__(self, request: BookingRequest, occurrences: list[recurrence.Occurrence], viewer: Viewer) -> None:
        super().__init__("slot_taken")
        self.request, self.occurrences, self.viewer = request, occurrences, viewer

    def slot_taken(self) -> SlotTaken:
        clashes = conflicts.find_conflicts(room=self.request.room, occurrences=self.occurrences, viewer=self.viewer)
        return slot_taken([c for index in sorted(clashes) for c in clashes[index]])


def plan_booking(*, lock: bool, **fields: Any) -> _BookingPlan:
    """Check a booking request (the fields of ``BookingRequest``) and return the unsaved occurrences it would
    create; raise what create raises, except that a clash raises ``Clashes`` (``slot_taken`` describes it).

    With ``lock`` (inside booking_create's transaction) the booker and the room's parts are locked
    before the quota and clash checks, so that the checks cannot race. A series skips the break dates
    of its institution's term calendar when ``skip_breaks`` (by default for teaching). Reads the
    database in three statements: what the request needs before the locks, the locks, the
    booker's bookings; then the clash check (``conflicts.find_conflicts``).
    """
    request = BookingRequest(**fields)
    now = request.now or timezone.now()
    title = _check_request(request, now=now)
    occurrences, unrepeatable = _expand_occurrences(request, now=now)
    context = _load_context(request, occurrences)
    # Whether the person may book here is answered before what is wrong with their repeat rule.
    for_institution = resolve_institution(
        user=request.booked_by, institution=request.institution, room=request.room, memberships=context.memberships
    )
    if unrepeatable is not None:
        raise unrepeatable
    viewer = viewer_for(request.booked_by, memberships=context.memberships)
    skipped: list[Skipped] = []
    open_occurrences = _leave_out_closed(occurrences, context=context, is_series=request.is_series, skipped=skipped)
    if open_occurrences and request.follows_breaks:
        open_occurrences = _leave_out_breaks(
            open_occurrences, institution=for_institution, context=context, skipped=skipped
        )
    if not open_occurrences:
        raise _nothing_to_book(skipped)
    if lock:
        # Locks in a fixed order (the booker, then the parts by id): no deadlocks between writers.
        lock_booker_and_parts(request.booked_by, request.room)
    activity = booker_activity(
        booker=request.booked_by, now=now, start=open_occurrences[0].start, end=open_occurrences[-1].end
    )
    check = _check_rules(
        request, open_occurrences, institution=for_institution, context=context, activity=activity, now=now
    )
    to_book = _leave_out_conflicts(open_occurrences, request=request, viewer=viewer, skipped=skipped)
    series = _series(request)
    skipped.sort(key=lambda s: s.start)
    result = BookingResult(
        bookings=[
            Booking(
                **_booking(request, occurrence, title=title, institution=for_institution, series=series),
                **_status(check, now=now, first_start=to_book[0].start),
            )
            for occurrence in to_book
        ],
        series=series,
        skipped=skipped,
        booked_elsewhere=[] if request.for_someone_else else activity.overlapping,
    )
    return _BookingPlan(result=result, check=check, viewer=viewer)


def _check_request(request: BookingRequest, *, now: dt.datetime) -> str:
    """Refuse a request that no database read can rescue (no title, bad times, a room not for booking);
    return the title as stored."""
    title = request.title.strip()
    if not title:
        message = _("Give the booking a title.")
        raise InvalidInput(message, errors=[{"field": "title", "message": message}])
    check_basic(room=request.room, start=request.start, end=request.end, now=now)
    return title


def _expand_occurrences(
    request: BookingRequest, *, now: dt.datetime
) -> tuple[list[recurrence.Occurrence], KampusError | None]:
    """Return the occurrences asked for (one, or the repeat rule's), or the error to raise once the person's
    right to book here has been checked."""
    start, end, exdates = request.start, request.end, request.exdates
    try:
        if request.rrule:
            zone = request.room.building.campus.zone
            occurrences = recurrence.expand(
                rule=request.rrule, start=start, end=end, exdates=list(exdates), zone=zone, now=now
            )
        else:
            if exdates:
                message = _("Excluded dates need a repeat rule.")
                raise InvalidInput(message, errors=[{"field": "exdates", "message": message}])
            occurrences = [recurrence.Occurrence(start, end)]
        if not occurrences:
            message = _("Every occurrence of the series is excluded.")
            raise InvalidInput(message, errors=[{"field": "exdates", "message": message}])
    except KampusError as error:
        return [], error
    return occurrences, None


def _load_context(request: BookingRequest, occurrences: list[recurrence.Occurrence]) -> BookingContext:
    """Read what the request needs before its locks, for the span of its occurrences (one statement)."""
    return load_booking_context(
        room=request.room,
        booker=request.booked_by,
        start=occurrences[0].start if occurrences else request.start,
        end=occurrences[-1].end if occurrences else request.end,
        with_breaks=request.follows_breaks,
    )


def _leave_out_closed(
    occurrences: list[recurrence.Occurrence], *, context: BookingContext, is_series: bool, skipped: list[Skipped]
) -> list[recurrence.Occurrence]:
    """Return the occurrences inside opening hours and outside closures; a series skips the others
    (code ``closed``), a single booking is refused."""
    kept = []
    for occurrence in occurrences:
        closed = closed_reason(context.calendar, context.closures, occurrence)
        if closed is None:
            kept.append(occurrence)
        elif not is_series:
            raise refuse_closed(*closed, context.calendar, occurrence)
        else:
            skipped.append(Skipped(occurrence.start, occurrence.end, closed[1], "closed"))
    return kept


def _leave_out_breaks(
    occurrences: list[recurrence.Occurrence],
    *,
    institution: Institution | None,
    context: BookingContext,
    skipped: list[Skipped],
) -> list[recurrence.Occurrence]:
    """Return the occurrences outside the term calendar's breaks; add the others to ``skipped`` (code ``break``).

    The calendar is the institution's, or the campus's for a booking of the campus itself.
    """
    campus = context.room.building.campus
    zone = campus.zone
    breaks = [
        b for b in context.breaks if (b.institution_id == institution.pk if institution else b.campus_id == campus.pk)
    ]
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


def _check_rules(
    request: BookingRequest,
    occurrences: list[recurrence.Occurrence],
    *,
    institution: Institution | None,
    context: BookingContext,
    activity: BookerActivity,
    now: dt.datetime,
) -> rules.RuleCheck:
    """Check the room's rules (``rules.check_rules``) with what was read already: no further query."""
    return rules.check_rules(
        room=request.room,
        user=request.booked_by,
        institution=institution,
        occurrences=[(o.start, o.end) for o in occurrences],
        attendees=request.attendees,
        now=now,
        override_reason=request.override_reason,
        is_series=request.is_series,
        for_someone_else=request.for_someone_else,
        policy=context.policy,
        memberships=context.memberships,
        active=activity.active,
    )


def _leave_out_conflicts(
    occurrences: list[recurrence.Occurrence], *, request: BookingRequest, viewer: Viewer, skipped: list[Skipped]
) -> list[recurrence.Occurrence]:
    """Return the occurrences whose time is free; refuse the request (``Clashes``) unless ``skip_conflicts``
    leaves the taken ones out (code ``conflict``) and some remain. Reads only the clash check: the
    clashes are described after the transaction (``Clashes.slot_taken``)."""
    clashes = conflicts.find_conflicts(room=request.room, occurrences=occurrences, viewer=viewer, describe=False)
    if clashes and not request.skip_conflicts:
        raise Clashes(request, occurrences, viewer)
    to_book = [o for index, o in enumerate(occurrences) if index not in clashes]
    if clashes and not to_book:
        # Every date that is open is taken: that is a clash, not a broken rule.
        raise Clashes(request, occurrences, viewer)
    for index in sorted(clashes):
        occurrence = occurrences[index]
        skipped.append(Skipped(occurrence.start, occurrence.end, _("the room is already booked"), "conflict"))
    if not to_book:
        raise _nothing_to_book(skipped)
    return to_book


def _series(request: BookingRequest) -> BookingSeries | None:
    """Return the unsaved series of a repeating request (None for a single booking)."""
    if not request.rrule:
        return None
    campus = request.room.building.campus
    return BookingSeries(
        campus=campus,
        rrule=recurrence.normalise_rrule(request.rrule, zone=campus.zone),
        dtstart=request.start,
        dtend=request.end,
        time_zone=campus.time_zone,
        owner=request.booked_by,
    )


def _booking(
    request: BookingRequest,
    occurrence: recurrence.Occurrence,
    *,
    title: str,
    institution: Institution | None,
    series: BookingSeries | None,
) -> dict[str, Any]:
    """Return the fields of the booking of ``occurrence`` (its status comes from ``_status``)."""
    return {
        "campus": request.room.building.campus,
        "room": request.room,
        "series": series,
        "recurrence_id": occurrence.start.astimezone(dt.UTC) if series is not None else None,
        "title": title,
        "description": request.description,
        "purpose": request.purpose,
        "booked_by": request.booked_by,
        "institution": institution,
        "on_behalf_of_name": request.on_behalf_of_name,
        "on_behalf_of_contact": request.on_behalf_of_contact,
        "on_behalf_of_organisation": request.on_behalf_of_organisation,
        "start": occurrence.start.astimezone(dt.UTC),
        "end": occurrence.end.astimezone(dt.UTC),
        "attendees": request.attendees,
        "visibility": request.visibility,
    }


def _status(check: rules.RuleCheck, *, now: dt.datetime, first_start: dt.datetime) -> dict[str, Any]:
    """Return the status the rules give (confirmed, or a pending request that expires)."""
    if check.access == Access.REQUEST:
        return {
            "status": BookingStatus.PENDING,
            "expires_at": request_expiry(check.policy, now=now, start=first_start),
        }
    return {"status": BookingStatus.CONFIRMED, "expires_at": None}


def _carry_out(plan: _BookingPlan, *, now: dt.datetime) -> BookingResult:
    """Write ``plan``'s series, occurrences and blocks, with audit events and the request notification.

    A new series' exceptions are the instances of its rule that were not booked: known here, so they
    are written with the series rather than derived again from the rows.
    """
    result, check = plan.result, plan.check
    first = result.bookings[0]
    booked_by, room = first.booked_by, first.room
    if result.series is not None:
        result.series.exdates = series_exceptions(result.series, booked=[b.recurrence_id for b in result.bookings])
        result.series.save()
        for booking in result.bookings:
            booking.series = result.series
    bookings = insert(result.bookings, label="booking")
    result.bookings = bookings
    insert_blocks(bookings, room=room, viewer=plan.viewer)
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


def _nothing_to_book(skipped: list[Skipped]) -> BookingRuleBroken:
    return BookingRuleBroken(
        _("None of the occurrences can be booked."),
        code="nothing_to_book",
        rule="opening_hours",
        skipped=[{"start": s.start, "end": s.end, "reason": s.reason, "code": s.code} for s in skipped],
    )
