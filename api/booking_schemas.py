"""Schemas of the booking endpoints. Titles and personal details follow the booking's visibility."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.http import HttpRequest
from ninja import Field, Schema

from bookings.models import Booking, BookingStatus, Purpose, Visibility
from bookings.services import Scope
from bookings.visibility import Viewer, viewer_for


def request_viewer(request: HttpRequest) -> Viewer:
    """Return the visibility scope of the request's user, computed once per request."""
    viewer = getattr(request, "_kampus_viewer", None)
    if viewer is None:
        viewer = viewer_for(getattr(request, "auth", None) or request.user)
        request._kampus_viewer = viewer  # type: ignore[attr-defined]
    return viewer


def _viewer(context: dict[str, Any] | None) -> Viewer:
    request = (context or {}).get("request")
    return request_viewer(request) if request is not None else Viewer()


def campus_local(booking: Booking, value: dt.datetime | None) -> dt.datetime | None:
    return value.astimezone(booking.campus.zone) if value is not None else None


class OnBehalfOf(Schema):
    """Who the booking is really for, when the booker books for someone else."""

    name: str = Field("", max_length=200, description="A person's name.")
    contact: str = Field("", max_length=200, description="E-mail or phone of that person.")
    organisation: str = Field("", max_length=200, description="An outside organisation.")


class BookingIn(Schema):
    room: int
    title: str = Field(..., min_length=1, max_length=200)
    start: dt.datetime = Field(..., description="ISO 8601 with UTC offset, e.g. 2026-03-10T10:00:00+02:00.")
    end: dt.datetime
    rrule: str | None = Field(
        None,
        max_length=500,
        description="RFC 5545 RRULE, e.g. FREQ=WEEKLY;BYDAY=TU;UNTIL=20270520. `start` must be an occurrence.",
    )
    exdates: list[dt.date | dt.datetime] = Field(
        default_factory=list, description="Occurrences to leave out: local dates or start datetimes."
    )
    attendees: int | None = Field(None, ge=1)
    institution: int | None = Field(None, description="Institution the booking is for (one of yours).")
    on_behalf_of: OnBehalfOf | None = None
    purpose: Purpose = Purpose.TEACHING
    visibility: Visibility = Visibility.INSTITUTION
    description: str = Field("", max_length=5000)
    skip_conflicts: bool = Field(False, description="Book the free occurrences and report the clashing ones.")
    override_reason: str = Field(
        "",
        max_length=2000,
        description="Facility managers: override soft rules (duration, window, quota) with a reason.",
    )


class BookingUpdateIn(Schema):
    scope: str = Field(Scope.OCCURRENCE, pattern="^(occurrence|following|series)$")
    room: int | None = None
    start: dt.datetime | None = None
    end: dt.datetime | None = None
    title: str | None = Field(None, min_length=1, max_length=200)
    description: str | None = Field(None, max_length=5000)
    purpose: Purpose | None = None
    attendees: int | None = Field(None, ge=1)
    visibility: Visibility | None = None
    on_behalf_of: OnBehalfOf | None = None
    override_reason: str = Field("", max_length=2000)


class ScopeIn(Schema):
    scope: str = Field(Scope.OCCURRENCE, pattern="^(occurrence|following|series)$")


class OccurrenceOut(Schema):
    id: int
    start: dt.datetime
    end: dt.datetime
    status: BookingStatus


class SkippedOut(Schema):
    start: dt.datetime
    end: dt.datetime
    reason: str
    code: str = Field(description="closed (holiday, closed day, outside hours) or conflict.")


class BookingCreatedOut(Schema):
    id: int = Field(description="The (first) booking's id.")
    status: BookingStatus
    series: int | None
    occurrences: list[OccurrenceOut]
    skipped: list[SkippedOut]


class RoomRefOut(Schema):
    id: int
    code: str
    name: str
    building: str = Field(alias="building.code")


class InstitutionRef(Schema):
    id: int
    short_code: str
    name: str


class BookingOut(Schema):
    """A booking as the caller may see it: title and people only where visibility allows."""

    id: int
    room: RoomRefOut
    title: str | None = Field(description="null when the booking's visibility hides it from you.")
    description: str | None
    purpose: Purpose
    institution: InstitutionRef | None
    booked_by: str | None
    on_behalf_of: OnBehalfOf | None
    start: dt.datetime
    end: dt.datetime
    attendees: int | None
    visibility: Visibility
    status: BookingStatus
    released_at: dt.datetime | None
    expires_at: dt.datetime | None = Field(description="When a pending request expires.")
    decision_reason: str
    series: int | None = Field(alias="series_id")
    created_at: dt.datetime
    updated_at: dt.datetime

    @staticmethod
    def resolve_title(obj: Booking, context: dict[str, Any]) -> str | None:
        return _viewer(context).title_of(obj)

    @staticmethod
    def resolve_description(obj: Booking, context: dict[str, Any]) -> str | None:
        return obj.description if _viewer(context).sees_title(obj) else None

    @staticmethod
    def resolve_booked_by(obj: Booking, context: dict[str, Any]) -> str | None:
        if obj.booked_by is None or not _viewer(context).sees_title(obj):
            return None
        return str(obj.booked_by)

    @staticmethod
    def resolve_on_behalf_of(obj: Booking, context: dict[str, Any]) -> dict[str, str] | None:
        if not (obj.on_behalf_of_name or obj.on_behalf_of_organisation) or not _viewer(context).sees_title(obj):
            return None
        return {
            "name": obj.on_behalf_of_name,
            "contact": obj.on_behalf_of_contact,
            "organisation": obj.on_behalf_of_organisation,
        }

    @staticmethod
    def resolve_start(obj: Booking) -> dt.datetime:
        return campus_local(obj, obj.start)

    @staticmethod
    def resolve_end(obj: Booking) -> dt.datetime:
        return campus_local(obj, obj.end)

    @staticmethod
    def resolve_released_at(obj: Booking) -> dt.datetime | None:
        return campus_local(obj, obj.released_at)

    @staticmethod
    def resolve_expires_at(obj: Booking) -> dt.datetime | None:
        return campus_local(obj, obj.expires_at)


class BookingFilter(Schema):
    room: int | None = None
    building: int | None = None
    institution: int | None = None
    mine: bool = Field(False, description="Only bookings I made.")
    status: list[BookingStatus] = Field(default_factory=list, description="Repeatable; default all.")
    from_: dt.datetime | None = Field(None, alias="from", description="Bookings overlapping [from, to).")
    to: dt.datetime | None = None


class AvailabilityQuery(Schema):
    from_: dt.datetime = Field(..., alias="from")
    to: dt.datetime


class IntervalOut(Schema):
    start: dt.datetime
    end: dt.datetime


class BusyOut(Schema):
    start: dt.datetime = Field(description="Start of the booking.")
    end: dt.datetime = Field(description="End of the blocked time (the booking's end plus the room's buffer).")
    booking_end: dt.datetime
    title: str | None
    room: str = Field(description="Code of the booked room (a section or the whole when divisible).")


class ClosedDayOut(Schema):
    date: dt.date
    reason: str


class AvailabilityOut(Schema):
    room: int
    time_zone: str
    free: list[IntervalOut]
    busy: list[BusyOut]
    closed: list[ClosedDayOut]


class DecisionIn(Schema):
    scope: str = Field(Scope.OCCURRENCE, pattern="^(occurrence|following|series)$")
    reason: str = Field("", max_length=2000, description="Required when rejecting; the requester reads it.")


class HandoverIn(Schema):
    to_user: str = Field(..., min_length=1, description="Username of the person taking the series over.")
    reason: str = Field("", max_length=2000)


class BookingEventOut(Schema):
    id: int
    action: str
    at: dt.datetime
    actor: int | None = Field(alias="actor_id", description="User id of who did it (null for the system).")
    before: dict | None
    after: dict | None
    reason: str


class ClosureIn(Schema):
    room: int | None = None
    building: int | None = None
    start: dt.datetime
    end: dt.datetime
    reason: str = Field(..., min_length=1, max_length=300)


class ClosureOut(Schema):
    id: int
    room: int | None = Field(alias="room_id")
    building: int | None = Field(alias="building_id")
    start: dt.datetime
    end: dt.datetime
    reason: str
    created_by: int | None = Field(alias="created_by_id")


class ClosureCreatedOut(Schema):
    closure: ClosureOut
    affected: list[BookingOut]


class RoomRulesOut(Schema):
    """The effective rules of a room (room, building and campus settings over Kampus's defaults)."""

    min_duration_minutes: int
    max_duration_minutes: int
    min_notice_minutes: int
    max_advance_days: int
    max_active_bookings: int
    owner_access: str
    other_access: str
    owner_window_days: int
    other_window_days: int
    request_expiry_hours: int
