"""Schemas of the booking endpoints. Titles follow the booking's visibility, personal details the viewer."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from django.db.models import Q
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Field, FilterLookup, FilterSchema, Schema
from pydantic import BeforeValidator, PrivateAttr, ValidationInfo, field_validator, model_validator
from pydantic_core import PydanticCustomError

from api.schemas import CampusDateOrDatetime, CampusDatetime, RecordId
from bookings.models import Booking, BookingEvent, BookingStatus, Closure, Purpose, Scope, Visibility
from bookings.visibility import Viewer, viewer_for
from campus.exceptions import InvalidInput
from campus.models import User


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
    """Return ``value`` in the zone of ``booking``'s campus."""
    return value.astimezone(booking.campus.zone) if value is not None else None


def local(value: dt.datetime | None, zone: dt.tzinfo | None = None) -> dt.datetime | None:
    """Return ``value`` in ``zone``, by default the active one (the campus's, which the view activated)."""
    return timezone.localtime(value, zone) if value is not None else None


# Fields of an audit snapshot that hold a time (stored as ISO 8601 in UTC).
_SNAPSHOT_TIMES = ("start", "end")


def _snapshot_in_campus_zone(snapshot: dict | None) -> dict | None:
    if not snapshot:
        return snapshot
    return {
        name: local(dt.datetime.fromisoformat(value)).isoformat()
        if name in _SNAPSHOT_TIMES and isinstance(value, str)
        else value
        for name, value in snapshot.items()
    }


def _scope_name(value: Any) -> Any:
    """Refuse a scope that is no text, or no scope's name, with a message in the request's language."""
    if isinstance(value, Scope):
        return value
    if not isinstance(value, str):
        raise PydanticCustomError("not_text", _("Give a text."))
    if value not in Scope.values:
        choices = ", ".join(f"'{name}'" for name in Scope.values)
        raise PydanticCustomError("unknown_scope", _("Give one of: %(choices)s.") % {"choices": choices})
    return value


# Which occurrences of a series a change, cancellation or decision covers.
ScopeName = Annotated[
    Scope,
    BeforeValidator(_scope_name),
    Field(description="occurrence: this booking only; following: it and the later occurrences; series: all of them."),
]


class OnBehalfOf(Schema):
    """Who the booking is really for, when the booker books for someone else."""

    name: str = Field("", max_length=200, description="A person's name.")
    contact: str = Field("", max_length=200, description="E-mail or phone of that person.")
    organisation: str = Field("", max_length=200, description="An outside organisation.")


class BookingIn(Schema):
    room: RecordId
    title: str = Field(..., min_length=1, max_length=200)
    start: CampusDatetime = Field(..., description="ISO 8601 with UTC offset, e.g. 2026-03-10T10:00:00+02:00.")
    end: CampusDatetime
    rrule: str | None = Field(
        None,
        max_length=500,
        description="RFC 5545 RRULE, e.g. FREQ=WEEKLY;BYDAY=TU;UNTIL=20270520. `start` must be an occurrence.",
    )
    exdates: list[CampusDateOrDatetime] = Field(
        default_factory=list, description="Occurrences to leave out: local dates or start datetimes."
    )
    attendees: int | None = Field(None, ge=1)
    institution: RecordId | None = Field(None, description="Institution the booking is for (one of yours).")
    on_behalf_of: OnBehalfOf | None = None
    purpose: Purpose = Purpose.TEACHING
    visibility: Visibility = Visibility.INSTITUTION
    description: str = Field("", max_length=5000)
    skip_conflicts: bool = Field(False, description="Book the free occurrences and report the clashing ones.")
    skip_breaks: bool | None = Field(
        None,
        description="Leave out the break dates of the institution's term calendar (skipped, code `break`). "
        "Default: true for purpose `teaching`, false otherwise.",
    )
    override_reason: str = Field(
        "",
        max_length=2000,
        description="Facility managers: override soft rules (duration, window, quota) with a reason.",
    )


class BookingUpdateIn(Schema):
    """A change: only the fields given change; ``attendees`` and ``on_behalf_of`` may be null to clear them."""

    scope: ScopeName = Scope.OCCURRENCE
    room: RecordId | None = None
    start: CampusDatetime | None = None
    end: CampusDatetime | None = None
    title: str | None = Field(None, min_length=1, max_length=200)
    description: str | None = Field(None, max_length=5000)
    purpose: Purpose | None = None
    attendees: int | None = Field(None, ge=1)
    visibility: Visibility | None = None
    on_behalf_of: OnBehalfOf | None = None
    override_reason: str = Field("", max_length=2000)

    @field_validator("title", "description", "purpose", "visibility")
    @classmethod
    def _given_not_null(cls, value: Any) -> Any:
        # Leaving a field out keeps it; null cannot stand for a value these fields must have.
        if value is None:
            raise PydanticCustomError("null_not_allowed", _("Leave the field out to keep it; it cannot be null."))
        return value


class ScopeIn(Schema):
    scope: ScopeName = Scope.OCCURRENCE


class OccurrenceOut(Schema):
    id: int
    start: dt.datetime
    end: dt.datetime
    status: BookingStatus


class SkippedOut(Schema):
    start: dt.datetime
    end: dt.datetime
    reason: str
    code: str = Field(description="closed (holiday, closed day, outside hours), conflict, or break (term calendar).")


class RoomRefOut(Schema):
    id: int
    code: str
    name: str
    label: str = Field(description="How Kampus names the room everywhere: its code and name.")
    building: str = Field(alias="building.code")


class WarnedBookingOut(Schema):
    """One of the caller's own bookings that a warning is about."""

    id: int
    room: RoomRefOut
    title: str
    start: dt.datetime
    end: dt.datetime


class BookingWarningOut(Schema):
    code: str = Field(description="you_are_booked_elsewhere: you hold another booking at the same time.")
    message: str
    bookings: list[WarnedBookingOut]


class BookingCreatedOut(Schema):
    id: int = Field(description="The (first) booking's id.")
    status: BookingStatus
    series: int | None
    occurrences: list[OccurrenceOut]
    skipped: list[SkippedOut]
    warnings: list[BookingWarningOut] = Field(
        description="What the booking may be wrong about though no rule forbids it; it was made all the same."
    )


class InstitutionRef(Schema):
    id: int
    short_code: str
    name: str


class BookingOut(Schema):
    """A booking as the caller may see it: what it is by its visibility, who is behind it by who you are."""

    id: int
    room: RoomRefOut
    title: str | None = Field(description="null when the booking's visibility hides it from you.")
    description: str | None = Field(description="null when the title is hidden from you.")
    purpose: Purpose | None = Field(description="null when the title is hidden from you.")
    institution: InstitutionRef | None
    booked_by: str | None = Field(
        description="null unless you booked it, belong to its institution or serve its campus's facilities."
    )
    on_behalf_of: OnBehalfOf | None = Field(description="Shown to those who see booked_by.")
    start: dt.datetime
    end: dt.datetime
    attendees: int | None = Field(description="null when unknown or when the title is hidden from you.")
    visibility: Visibility
    status: BookingStatus
    released_at: dt.datetime | None
    checked_in_at: dt.datetime | None = Field(description="When the booking was first checked in.")
    expires_at: dt.datetime | None = Field(description="When a pending request expires.")
    decision_reason: str | None = Field(description="Shown to those who see booked_by.")
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
    def resolve_purpose(obj: Booking, context: dict[str, Any]) -> str | None:
        return obj.purpose if _viewer(context).sees_title(obj) else None

    @staticmethod
    def resolve_attendees(obj: Booking, context: dict[str, Any]) -> int | None:
        return obj.attendees if _viewer(context).sees_title(obj) else None

    @staticmethod
    def resolve_booked_by(obj: Booking, context: dict[str, Any]) -> str | None:
        if obj.booked_by is None or not _viewer(context).sees_details(obj):
            return None
        return str(obj.booked_by)

    @staticmethod
    def resolve_on_behalf_of(obj: Booking, context: dict[str, Any]) -> dict[str, str] | None:
        given = obj.on_behalf_of_name or obj.on_behalf_of_organisation or obj.on_behalf_of_contact
        if not given or not _viewer(context).sees_details(obj):
            return None
        return {
            "name": obj.on_behalf_of_name,
            "contact": obj.on_behalf_of_contact,
            "organisation": obj.on_behalf_of_organisation,
        }

    @staticmethod
    def resolve_decision_reason(obj: Booking, context: dict[str, Any]) -> str | None:
        return obj.decision_reason if _viewer(context).sees_details(obj) else None

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

    @staticmethod
    def resolve_created_at(obj: Booking) -> dt.datetime:
        return campus_local(obj, obj.created_at)

    @staticmethod
    def resolve_updated_at(obj: Booking) -> dt.datetime:
        return campus_local(obj, obj.updated_at)


class BookingFilter(FilterSchema):
    """Filters of ``GET /bookings``; every given filter must hold."""

    room: Annotated[RecordId | None, FilterLookup("room_id")] = None
    building: Annotated[RecordId | None, FilterLookup("room__building_id")] = None
    institution: Annotated[RecordId | None, FilterLookup("institution_id")] = None
    mine: bool = Field(False, description="Only bookings I made.")
    status: list[BookingStatus] = Field(default_factory=list, description="Repeatable; default all.")
    from_: Annotated[CampusDatetime | None, FilterLookup("end__gt")] = Field(
        None, alias="from", description="Bookings overlapping [from, to)."
    )
    to: Annotated[CampusDatetime | None, FilterLookup("start__lt")] = None
    _asker: User | None = PrivateAttr(None)

    @model_validator(mode="after")
    def _remember_asker(self, info: ValidationInfo) -> BookingFilter:
        # ``mine`` means the caller: ninja validates query parameters with the request in the context.
        request = (info.context or {}).get("request")
        self._asker = getattr(request, "auth", None)
        return self

    def filter_mine(self, mine: bool) -> Q:
        """Return the caller's bookings; with no caller known (built outside a request), none."""
        if not mine:
            return Q()
        return Q(booked_by=self._asker) if self._asker is not None else Q(pk__in=[])

    def filter_status(self, statuses: list[BookingStatus]) -> Q:
        return Q(status__in=statuses) if statuses else Q()

    def get_filter_expression(self) -> Q:
        if self.from_ and self.to and self.from_ >= self.to:
            message = _("`to` must be after `from`.")
            raise InvalidInput(message, errors=[{"field": "to", "message": message}])
        return super().get_filter_expression()


class AvailabilityQuery(Schema):
    from_: CampusDatetime = Field(..., alias="from")
    to: CampusDatetime


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


class ClosureIntervalOut(Schema):
    start: dt.datetime
    end: dt.datetime
    reason: str


class AvailabilityOut(Schema):
    room: int
    time_zone: str
    free: list[IntervalOut]
    busy: list[BusyOut]
    closed: list[ClosedDayOut] = Field(description="Days the room is closed all day (holidays, closed weekdays).")
    closures: list[ClosureIntervalOut] = Field(description="Closures of the room or its building (no bookings).")


class DecisionIn(Schema):
    scope: ScopeName = Scope.OCCURRENCE
    reason: str = Field("", max_length=2000, description="Required when rejecting; the requester reads it.")


class HandoverIn(Schema):
    to_user: str = Field(
        ..., min_length=1, max_length=150, description="Username of the person taking the series over."
    )
    reason: str = Field("", max_length=2000)


class BookingEventOut(Schema):
    id: int
    action: str
    at: dt.datetime
    actor: int | None = Field(alias="actor_id", description="User id of who did it (null for the system).")
    before: dict | None = Field(description="The booking before; times in the campus zone.")
    after: dict | None
    reason: str

    @staticmethod
    def resolve_at(obj: BookingEvent) -> dt.datetime:
        return local(obj.at)

    @staticmethod
    def resolve_before(obj: BookingEvent) -> dict | None:
        return _snapshot_in_campus_zone(obj.before)

    @staticmethod
    def resolve_after(obj: BookingEvent) -> dict | None:
        return _snapshot_in_campus_zone(obj.after)


class ClosureIn(Schema):
    room: RecordId | None = None
    building: RecordId | None = None
    start: CampusDatetime
    end: CampusDatetime
    reason: str = Field(..., min_length=1, max_length=300)


class ClosureOut(Schema):
    id: int
    room: int | None = Field(alias="room_id")
    building: int | None = Field(alias="building_id")
    start: dt.datetime
    end: dt.datetime
    reason: str
    created_by: int | None = Field(alias="created_by_id")

    @staticmethod
    def resolve_start(obj: Closure) -> dt.datetime:
        return obj.start.astimezone(obj.campus.zone)

    @staticmethod
    def resolve_end(obj: Closure) -> dt.datetime:
        return obj.end.astimezone(obj.campus.zone)


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
    check_in: str = Field(
        description="sensor: no-shows are released where the room has a sensor; required: bookings not "
        "checked in are released; off: never released automatically."
    )
    no_show_minutes: int = Field(description="How long after its start an unused booking is released.")
