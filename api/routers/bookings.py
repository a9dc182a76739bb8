"""Bookings: create (one-off or recurring), list, read, change, cancel, release, check in; room availability."""

import datetime as dt
from typing import Any, NoReturn

import pydantic
from django.db.models import QuerySet
from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from ninja import Query, Router, Status
from ninja.errors import HttpError
from ninja.pagination import paginate

from api.booking_schemas import (
    AvailabilityOut,
    AvailabilityQuery,
    BookingCreatedOut,
    BookingFilter,
    BookingIn,
    BookingOut,
    BookingUpdateIn,
    ScopeIn,
    request_viewer,
)
from api.errors import field_message
from api.lookups import institution_or_invalid, room_or_invalid
from api.pagination import KampusPagination
from api.parser import ObjectBodyParser
from api.schemas import READ_ERRORS, WRITE_ERRORS, ConflictOut, ErrorOut
from bookings import selectors, services
from bookings.models import Booking, Scope
from campus.exceptions import InvalidInput
from campus.models import Room

router = Router(tags=["bookings"])

CONFLICT = {409: ConflictOut}


def _booking(booking_id: int) -> Booking:
    return get_object_or_404(selectors.booking_list().select_related("campus"), pk=booking_id)


def _created(result: services.BookingResult, warnings: list[selectors.BookingWarning]) -> dict[str, Any]:
    zone = result.first.room.building.campus.zone
    return {
        "id": result.first.pk,
        "status": result.first.status,
        "series": result.series.pk if result.series else None,
        "occurrences": [
            {"id": b.pk, "start": b.start.astimezone(zone), "end": b.end.astimezone(zone), "status": b.status}
            for b in result.bookings
        ],
        "skipped": [
            {"start": s.start.astimezone(zone), "end": s.end.astimezone(zone), "reason": s.reason, "code": s.code}
            for s in result.skipped
        ],
        "warnings": [
            {
                "code": warning.code,
                "message": warning.message,
                "bookings": [
                    {
                        "id": b.pk,
                        "room": b.room,
                        "title": b.title,
                        "start": b.start.astimezone(b.room.building.campus.zone),
                        "end": b.end.astimezone(b.room.building.campus.zone),
                    }
                    for b in warning.bookings
                ],
            }
            for warning in warnings
        ],
    }


@router.post("/bookings", response={201: BookingCreatedOut, **WRITE_ERRORS, **CONFLICT})
def create_booking(request: HttpRequest, payload: BookingIn) -> Status:
    """Book a room once, or for every occurrence of `rrule`. A clash answers 409 with `conflicts`."""
    behalf = payload.on_behalf_of
    result = services.booking_create(
        room=room_or_invalid(payload.room),
        booked_by=request.auth,
        title=payload.title,
        start=payload.start,
        end=payload.end,
        institution=institution_or_invalid(payload.institution),
        rrule=payload.rrule,
        exdates=payload.exdates,
        attendees=payload.attendees,
        description=payload.description,
        purpose=payload.purpose,
        visibility=payload.visibility,
        on_behalf_of_name=behalf.name if behalf else "",
        on_behalf_of_contact=behalf.contact if behalf else "",
        on_behalf_of_organisation=behalf.organisation if behalf else "",
        skip_conflicts=payload.skip_conflicts,
        skip_breaks=payload.skip_breaks,
        override_reason=payload.override_reason,
    )
    warnings = selectors.booking_warnings(
        user=request.auth,
        intervals=[(b.start, b.end) for b in result.bookings],
        exclude_ids=[b.pk for b in result.bookings],
        for_someone_else=bool(behalf and (behalf.name.strip() or behalf.organisation.strip())),
        candidates=result.booked_elsewhere,
    )
    return Status(201, _created(result, warnings))


@router.get("/bookings", response={200: list[BookingOut], **READ_ERRORS})
@paginate(KampusPagination)
def list_bookings(request: HttpRequest, filters: Query[BookingFilter]) -> QuerySet[Booking]:
    """List bookings; titles of bookings you may not see are null."""
    bookings = filters.filter(selectors.booking_list())
    request_viewer(request)
    return bookings.select_related("campus")


@router.get("/bookings/{booking_id}", response={200: BookingOut, 404: ErrorOut, **READ_ERRORS})
def get_booking(request: HttpRequest, booking_id: int) -> Booking:
    """Return one booking."""
    return _booking(booking_id)


@router.patch("/bookings/{booking_id}", response={200: list[BookingOut], 404: ErrorOut, **WRITE_ERRORS, **CONFLICT})
def update_booking(request: HttpRequest, booking_id: int, payload: BookingUpdateIn) -> list[Booking]:
    """Change a booking; `scope` extends the change to the following or all occurrences of its series."""
    booking = _booking(booking_id)
    given = payload.dict(exclude_unset=True)
    changes: dict[str, Any] = {
        name: given[name] for name in ("title", "description", "purpose", "attendees", "visibility") if name in given
    }
    if "on_behalf_of" in given:
        behalf = payload.on_behalf_of
        changes["on_behalf_of_name"] = behalf.name if behalf else ""
        changes["on_behalf_of_contact"] = behalf.contact if behalf else ""
        changes["on_behalf_of_organisation"] = behalf.organisation if behalf else ""
    changed = services.booking_update(
        booking=booking,
        actor=request.auth,
        scope=payload.scope,
        room=room_or_invalid(payload.room) if payload.room is not None else None,
        start=payload.start,
        end=payload.end,
        override_reason=payload.override_reason,
        **changes,
    )
    return list(selectors.booking_list().select_related("campus").filter(pk__in=[b.pk for b in changed]))


def _scope_from_body(request: HttpRequest) -> Scope:
    """Return ``scope`` from an optional JSON body (an empty body means one occurrence)."""
    if request.content_type != "application/json":
        # No JSON body (or a plain form post): one occurrence unless a form field says otherwise.
        raw = request.POST.get("scope", Scope.OCCURRENCE)
        return Scope(raw) if raw in Scope.values else _invalid_scope()
    if not request.body.strip():
        return Scope.OCCURRENCE
    try:
        body = ObjectBodyParser().parse_body(request)
    except ValueError as error:  # not JSON, or not an object: the same 400 as every other body
        raise HttpError(400, "Cannot parse request body") from error
    try:
        return ScopeIn.model_validate(body).scope
    except pydantic.ValidationError as error:
        errors = [
            {"field": ".".join(["body", *map(str, e["loc"])]), "message": field_message(e)} for e in error.errors()
        ]
        raise InvalidInput(_("The request has invalid fields."), errors=errors) from None


def _invalid_scope() -> NoReturn:
    message = _("scope must be one of: %(scopes)s.") % {"scopes": ", ".join(Scope.values)}
    raise InvalidInput(message, errors=[{"field": "body.scope", "message": message}])


# The body is optional, so ninja cannot declare it; the Scope it refers to is among the document's
# components, where the other operations with a scope put it.
_SCOPE_BODY_SCHEMA = ScopeIn.model_json_schema(ref_template="#/components/schemas/{model}")
_SCOPE_BODY_SCHEMA.pop("$defs", None)
_SCOPE_BODY = {
    "requestBody": {
        "required": False,
        "content": {"application/json": {"schema": _SCOPE_BODY_SCHEMA}},
    }
}


@router.post(
    "/bookings/{booking_id}/cancel",
    response={200: list[BookingOut], 404: ErrorOut, **WRITE_ERRORS, **CONFLICT},
    openapi_extra=_SCOPE_BODY,
)
def cancel_booking(request: HttpRequest, booking_id: int) -> list[Booking]:
    """Cancel a booking, or this and the following / all future occurrences (body `{"scope": …}`)."""
    scope = _scope_from_body(request)
    cancelled = services.booking_cancel(booking=_booking(booking_id), actor=request.auth, scope=scope)
    return list(selectors.booking_list().select_related("campus").filter(pk__in=[b.pk for b in cancelled]))


@router.post("/bookings/{booking_id}/release", response={200: BookingOut, 404: ErrorOut, **WRITE_ERRORS, **CONFLICT})
def release_booking(request: HttpRequest, booking_id: int) -> Booking:
    """End a running booking early; the rest of its slot becomes free."""
    services.booking_release(booking=_booking(booking_id), actor=request.auth)
    return _booking(booking_id)


@router.post("/bookings/{booking_id}/check-in", response={200: BookingOut, 404: ErrorOut, **WRITE_ERRORS, **CONFLICT})
def check_in_booking(request: HttpRequest, booking_id: int) -> Booking:
    """Confirm that a booking is in use, from a few minutes before its start until its end.

    Checking in again keeps the first time. 409 with code ``too_early``, ``already_ended``,
    ``not_confirmed`` or ``released`` when the booking cannot be checked in.
    """
    services.booking_check_in(booking=_booking(booking_id), actor=request.auth, via="api")
    return _booking(booking_id)


@router.get("/rooms/{room_id}/availability", response={200: AvailabilityOut, 404: ErrorOut, **READ_ERRORS})
def room_availability(request: HttpRequest, room_id: int, query: Query[AvailabilityQuery]) -> dict[str, Any]:
    """Return free and busy intervals inside the room's opening hours within [from, to)."""
    room = get_object_or_404(Room.objects.select_related("building__campus"), pk=room_id)
    if query.from_ >= query.to:
        message = _("`to` must be after `from`.")
        raise InvalidInput(message, errors=[{"field": "to", "message": message}])
    if query.to - query.from_ > dt.timedelta(days=selectors.MAX_AVAILABILITY_DAYS):
        message = _("Ask for at most %(days)d days at a time.") % {"days": selectors.MAX_AVAILABILITY_DAYS}
        raise InvalidInput(message, errors=[{"field": "to", "message": message}])
    availability = selectors.room_availability(room=room, start=query.from_, end=query.to)
    viewer = request_viewer(request)
    zone = room.building.campus.zone
    return {
        "room": room.pk,
        "time_zone": room.building.campus.time_zone,
        "free": [{"start": a.astimezone(zone), "end": b.astimezone(zone)} for a, b in availability.free],
        "busy": [
            {
                "start": busy.start.astimezone(zone),
                "end": busy.end.astimezone(zone),
                "booking_end": busy.booking.end.astimezone(zone),
                "title": viewer.title_of(busy.booking),
                "room": busy.booking.room.code,
            }
            for busy in availability.busy
        ],
        "closed": [{"date": day, "reason": reason} for day, reason in availability.closed_days],
        "closures": [
            {"start": c.start.astimezone(zone), "end": c.end.astimezone(zone), "reason": c.reason}
            for c in availability.closures
        ],
    }
