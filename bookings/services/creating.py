"""Creating bookings and series: plan (every rule, conflict and skipped date), then carry out."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.db.models import prefetch_related_objects
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
from bookings.services.conflicts import slot_taken, write_blocks
from bookings.services.locking import lock_booker, lock_parts, sync_series_exceptions
from bookings.visibility import Viewer, viewer_for
from campus.exceptions import InvalidInput
from campus.models import Campus, Institution, Room, User
from campus.opening_hours import opening_calendar
from campus.selectors import breaks_between, facility_managers_for_room


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
    check_basic(room=room, start=start, end=end, now=now)
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
        closed = closed_reason(calendar, closures, occurrence)
        if closed is None:
            open_occurrences.append(occurrence)
        elif not rrule:
            raise refuse_closed(*closed, calendar, occurrence)
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
        lock_booker(booked_by)
        lock_parts(room)
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

    clashes = conflicts.find_conflicts(room=room, occurrences=open_occurrences, viewer=viewer)
    if clashes and not skip_conflicts:
        raise slot_taken([c for index in sorted(clashes) for c in clashes[index]])
    to_book = [o for index, o in enumerate(open_occurrences) if index not in clashes]
    if clashes and not to_book:
        # Every date that is open is taken: that is a clash, not a broken rule.
        raise slot_taken([c for index in sorted(clashes) for c in clashes[index]])
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
            expires_at=request_expiry(policy, now=now, start=to_book[0].start) if pending else None,
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
    write_blocks(bookings, room=room, viewer=plan.viewer)
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
