"""Checks shared by creating and moving bookings: aware times, the room's state, opening hours, closures."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _

from bookings import recurrence, rules
from bookings.errors import BookingRuleBroken
from bookings.models import (
    Closure,
)
from campus.dates import require_within_years
from campus.exceptions import InvalidInput
from campus.models import Room
from campus.opening_hours import OpeningCalendar


def require_aware(value: dt.datetime, field_name: str) -> None:
    if timezone.is_naive(value):
        message = _("Give the time with its UTC offset, e.g. 2026-03-10T10:00:00+02:00.")
        raise InvalidInput(message, errors=[{"field": field_name, "message": message}])


def require_span(start: dt.datetime, end: dt.datetime) -> None:
    """Refuse a span [start, end) that is not aware, not within the accepted years, or ends before it starts."""
    require_aware(start, "start")
    require_aware(end, "end")
    require_within_years(start, "start")
    require_within_years(end, "end")
    if start >= end:
        message = _("The end must be after the start.")
        raise InvalidInput(message, errors=[{"field": "end", "message": message}])


def check_basic(*, room: Room, start: dt.datetime, end: dt.datetime, now: dt.datetime) -> None:
    require_span(start, end)
    if start < now:
        raise BookingRuleBroken(
            _("A booking cannot start in the past."), code="in_the_past", rule="earliest_start", allowed=now
        )
    if not room.is_bookable:
        raise BookingRuleBroken(
            _("%(room)s cannot be booked.") % {"room": room.name}, code="room_not_bookable", rule="bookable"
        )


def closed_reason(
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


def refuse_closed(
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
        allowed=opening_allowed(calendar, occurrence),
    )


def opening_allowed(calendar: OpeningCalendar, occurrence: recurrence.Occurrence) -> dict[str, Any] | None:
    day = calendar.day(occurrence.start.astimezone(calendar.zone).date())
    if day.interval is None:
        return None
    return {"opens": day.interval[0], "closes": day.interval[1]}


def require_capacity(room: Room, attendees: int) -> None:
    if attendees > room.capacity:
        raise BookingRuleBroken(
            _("%(room)s holds at most %(capacity)d people.") % {"room": room.name, "capacity": room.capacity},
            code="over_capacity",
            rule="capacity",
            allowed=room.capacity,
        )


def request_expiry(policy: rules.EffectivePolicy, *, now: dt.datetime, start: dt.datetime) -> dt.datetime:
    """Return when a request expires: after the policy's hours, at the latest when the booking starts."""
    return min(now + dt.timedelta(hours=policy.request_expiry_hours), start)
