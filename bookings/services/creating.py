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
from bookings.errors import BookingRuleBroken
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
from bookings.services.context import BookingContext, booker_activity, load_booking_context
from bookings.services.locking import lock_booker_and_parts, series_exceptions
from bookings.visibility import Viewer, viewer_for
from campus.exceptions import InvalidInput, KampusError
from campus.models import Institution, Room, User
from campus.selectors import facility_managers_for_room


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
    arguments of ``plan_booking``.
    """
    request["now"] = request.get("now") or timezone.now()
    try:
        with transaction.atomic():
            return _carry_out(plan_booking(**request, lock=True), now=request["now"])
    except BlocksRefused as refused:
        # A writer the check could not see yet won: the database refused the blocks and the transaction
        # is rolled back; what clashes can be read now.
        raise refused.slot_taken() from refused.__cause__


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
    title = _check_request(room=room, title=title, start=start, end=end, now=now)
    occurrences, unrepeatable = _expand_occurrences(
        rrule=rrule, start=start, end=end, exdates=exdates, room=room, now=now
    )
    follows_breaks = bool(rrule) and (purpose == Purpose.TEACHING if skip_breaks is None else skip_breaks)
    context = load_booking_context(
        room=room,
        booker=booked_by,
        start=occurrences[0].start if occurrences else start,
        end=occurrences[-1].end if occurrences else end,
        with_breaks=follows_breaks,
    )
    # Whether the person may book here is answered before what is wrong with their repeat rule.
    for_institution = resolve_institution(
        user=booked_by, institution=institution, room=room, memberships=context.memberships
    )
    if unrepeatable is not None:
        raise unrepeatable
    viewer = viewer_for(booked_by, memberships=context.memberships)
    skipped: list[Skipped] = []
    open_occurrences = _leave_out_closed(occurrences, context=context, is_series=bool(rrule), skipped=skipped)
    if open_occurrences and follows_breaks:
        open_occurrences = _leave_out_breaks(
            open_occurrences, institution=for_institution, context=context, skipped=skipped
        )
    if not open_occurrences:
        raise _nothing_to_book(skipped)

    if lock:
        # Locks in a fixed order (the booker, then the parts by id): no deadlocks between writers.
        lock_booker_and_parts(booked_by, room)
    activity = booker_activity(booker=booked_by, now=now, start=open_occurrences[0].start, end=open_occurrences[-1].end)
    for_someone_else = bool(on_behalf_of_name.strip() or on_behalf_of_organisation.strip())
    check = rules.check_rules(
        room=room,
        user=booked_by,
        institution=for_institution,
        occurrences=[(o.start, o.end) for o in open_occurrences],
        attendees=attendees,
        now=now,
        override_reason=override_reason,
        is_series=bool(rrule),
        for_someone_else=for_someone_else,
        policy=context.policy,
        memberships=context.memberships,
        active=activity.active,
    )
    to_book = _leave_out_conflicts(
        open_occurrences, room=room, viewer=viewer, skip_conflicts=skip_conflicts, skipped=skipped
    )
    series = _series(rrule=rrule, start=start, end=end, room=room, owner=booked_by)
    bookings = [
        Booking(
            campus=room.building.campus,
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
            **_status(check, now=now, first_start=to_book[0].start),
        )
        for occurrence in to_book
    ]
    skipped.sort(key=lambda s: s.start)
    result = BookingResult(
        bookings=bookings,
        series=series,
        skipped=skipped,
        booked_elsewhere=[] if for_someone_else else activity.overlapping,
    )
    return _BookingPlan(result=result, check=check, viewer=viewer)


def _check_request(*, room: Room, title: str, start: dt.datetime, end: dt.datetime, now: dt.datetime) -> str:
    """Refuse a request that no database read can rescue (no title, bad times, a room not for booking);
    return the title as stored."""
    title = title.strip()
    if not title:
        message = _("Give the booking a title.")
        raise InvalidInput(message, errors=[{"field": "title", "message": message}])
    check_basic(room=room, start=start, end=end, now=now)
    return title


def _expand_occurrences(
    *,
    rrule: str | None,
    start: dt.datetime,
    end: dt.datetime,
    exdates: Sequence[dt.date | dt.datetime],
    room: Room,
    now: dt.datetime,
) -> tuple[list[recurrence.Occurrence], KampusError | None]:
    """Return the occurrences asked for (one, or the repeat rule's), or the error to raise once the person's
    right to book here has been checked."""
    try:
        if rrule:
            zone = room.building.campus.zone
            occurrences = recurrence.expand(rule=rrule, start=start, end=end, exdates=list(exdates), zone=zone, now=now)
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


def _leave_out_conflicts(
    occurrences: list[recurrence.Occurrence],
    *,
    room: Room,
    viewer: Viewer,
    skip_conflicts: bool,
    skipped: list[Skipped],
) -> list[recurrence.Occurrence]:
    """Return the occurrences whose time is free; refuse the request (SlotTaken, every clash named) unless
    ``skip_conflicts`` leaves the taken ones out (code ``conflict``) and some remain."""
    clashes = conflicts.find_conflicts(room=room, occurrences=occurrences, viewer=viewer)
    if clashes and not skip_conflicts:
        raise slot_taken([c for index in sorted(clashes) for c in clashes[index]])
    to_book = [o for index, o in enumerate(occurrences) if index not in clashes]
    if clashes and not to_book:
        # Every date that is open is taken: that is a clash, not a broken rule.
        raise slot_taken([c for index in sorted(clashes) for c in clashes[index]])
    for index in sorted(clashes):
        occurrence = occurrences[index]
        skipped.append(Skipped(occurrence.start, occurrence.end, _("the room is already booked"), "conflict"))
    if not to_book:
        raise _nothing_to_book(skipped)
    return to_book


def _series(
    *, rrule: str | None, start: dt.datetime, end: dt.datetime, room: Room, owner: User
) -> BookingSeries | None:
    """Return the unsaved series of a repeating request (None for a single booking)."""
    if not rrule:
        return None
    campus = room.building.campus
    return BookingSeries(
        campus=campus,
        rrule=recurrence.normalise_rrule(rrule, zone=campus.zone),
        dtstart=start,
        dtend=end,
        time_zone=campus.time_zone,
        owner=owner,
    )


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
    bookings = Booking.objects.bulk_create(result.bookings)
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
