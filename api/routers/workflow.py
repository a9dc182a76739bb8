"""Approvals, audit history, series handover, closures and a room's effective rules."""

from dataclasses import asdict
from typing import Any

from django.db.models import QuerySet
from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Router, Status
from ninja.pagination import paginate

from api.booking_schemas import (
    BookingEventOut,
    BookingOut,
    ClosureCreatedOut,
    ClosureIn,
    ClosureOut,
    DecisionIn,
    HandoverIn,
    RoomRulesOut,
    request_viewer,
)
from api.pagination import KampusPagination
from api.schemas import READ_ERRORS, WRITE_ERRORS, ConflictOut, ErrorOut
from bookings import permissions, rules, selectors, services
from bookings.models import Booking, BookingEvent, Closure
from campus.exceptions import InvalidInput, PermissionDenied
from campus.models import Building, Room, User

router = Router(tags=["approvals and rules"])

CONFLICT = {409: ConflictOut}


def _bookings(ids: list[int]) -> list[Booking]:
    return list(selectors.booking_list().select_related("campus").filter(pk__in=ids))


@router.get("/approvals", response={200: list[BookingOut], **READ_ERRORS})
@paginate(KampusPagination)
def list_approvals(request: HttpRequest) -> QuerySet[Booking]:
    """List the open requests you may decide (not yet started or expired), oldest first."""
    return selectors.requests_to_decide(user=request.auth, now=timezone.now())


@router.post(
    "/approvals/{booking_id}/approve", response={200: list[BookingOut], 404: ErrorOut, **WRITE_ERRORS, **CONFLICT}
)
def approve(request: HttpRequest, booking_id: int, payload: DecisionIn) -> list[Booking]:
    """Approve a request: one occurrence, or with `scope` the following ones or the whole series."""
    booking = get_object_or_404(Booking.objects.select_related("room__building__campus"), pk=booking_id)
    approved = services.booking_approve(booking=booking, actor=request.auth, scope=payload.scope, reason=payload.reason)
    return _bookings([b.pk for b in approved])


@router.post(
    "/approvals/{booking_id}/reject", response={200: list[BookingOut], 404: ErrorOut, **WRITE_ERRORS, **CONFLICT}
)
def reject(request: HttpRequest, booking_id: int, payload: DecisionIn) -> list[Booking]:
    """Reject a request with a reason (required); its slot becomes free."""
    booking = get_object_or_404(Booking.objects.select_related("room__building__campus"), pk=booking_id)
    rejected = services.booking_reject(booking=booking, actor=request.auth, scope=payload.scope, reason=payload.reason)
    return _bookings([b.pk for b in rejected])


@router.get(
    "/bookings/{booking_id}/history", response={200: list[BookingEventOut], 403: ErrorOut, 404: ErrorOut, **READ_ERRORS}
)
@paginate(KampusPagination)
def booking_history(request: HttpRequest, booking_id: int) -> QuerySet[BookingEvent]:
    """Return the audit log of a booking (who did what, when, before and after), oldest first.

    Only people who may change the booking or see its personal details read its history.
    """
    booking = get_object_or_404(selectors.booking_list().select_related("campus"), pk=booking_id)
    if not permissions.may_read_history(request.auth, booking, viewer=request_viewer(request)):
        raise PermissionDenied(_("You may not read the history of this booking."))
    timezone.activate(booking.campus.zone)  # its events' times in its campus's zone
    return BookingEvent.objects.filter(booking_id=booking.pk).order_by("at", "pk")


@router.post(
    "/bookings/{booking_id}/handover", response={200: list[BookingOut], 404: ErrorOut, **WRITE_ERRORS, **CONFLICT}
)
def handover(request: HttpRequest, booking_id: int, payload: HandoverIn) -> list[Booking]:
    """Hand a booking's series (its future occurrences) over to another person, e.g. a substitute teacher."""
    booking = get_object_or_404(Booking.objects.select_related("room__building__campus", "series"), pk=booking_id)
    username = payload.to_user.strip()
    to_user = User.objects.filter(username=username, is_active=True).first()
    if to_user is None:
        raise services.handover_refused(booking, username, field="body.to_user")
    handed = services.booking_series_handover(
        booking=booking, actor=request.auth, to_user=to_user, reason=payload.reason
    )
    return _bookings([b.pk for b in handed])


@router.get("/closures", response={200: list[ClosureOut], **READ_ERRORS})
@paginate(KampusPagination)
def list_closures(request: HttpRequest) -> QuerySet[Closure]:
    """List closures, latest first."""
    return Closure.objects.select_related("campus").order_by("-start")


@router.post("/closures", response={201: ClosureCreatedOut, **WRITE_ERRORS})
def create_closure(request: HttpRequest, payload: ClosureIn) -> Status:
    """Close a room or a building for a period; answers the bookings that fall into it (their bookers are told)."""
    room = Room.objects.select_related("building__campus").filter(pk=payload.room).first() if payload.room else None
    building = (
        Building.objects.select_related("campus").filter(pk=payload.building).first() if payload.building else None
    )
    if payload.room is not None and room is None:
        raise InvalidInput(_("No such room."), errors=[{"field": "body.room", "message": _("No such room.")}])
    if payload.building is not None and building is None:
        raise InvalidInput(
            _("No such building."), errors=[{"field": "body.building", "message": _("No such building.")}]
        )
    closure, affected = services.closure_create(
        actor=request.auth, room=room, building=building, start=payload.start, end=payload.end, reason=payload.reason
    )
    return Status(201, {"closure": closure, "affected": _bookings([b.pk for b in affected])})


@router.get("/closures/{closure_id}/bookings", response={200: list[BookingOut], 404: ErrorOut, **READ_ERRORS})
def closure_bookings(request: HttpRequest, closure_id: int) -> list[Booking]:
    """List the active bookings that fall into a closure."""
    closure = get_object_or_404(Closure.objects.select_related("room__building", "building"), pk=closure_id)
    return _bookings([b.pk for b in services.closure_affected_bookings(closure)])


@router.post("/closures/{closure_id}/cancel-bookings", response={200: list[BookingOut], 404: ErrorOut, **WRITE_ERRORS})
def closure_cancel_bookings(request: HttpRequest, closure_id: int) -> list[Booking]:
    """Cancel every active booking that falls into a closure, in one step."""
    closure = get_object_or_404(Closure.objects.select_related("room__building", "building"), pk=closure_id)
    return _bookings([b.pk for b in services.closure_cancel_bookings(closure=closure, actor=request.auth)])


@router.get("/rooms/{room_id}/rules", response={200: RoomRulesOut, 404: ErrorOut, **READ_ERRORS})
def room_rules(request: HttpRequest, room_id: int) -> dict[str, Any]:
    """Return the booking rules in force for a room."""
    room = get_object_or_404(Room.objects.select_related("building__campus"), pk=room_id)
    policy = rules.effective_policy(room)
    return {**asdict(policy), "no_show_minutes": int(policy.no_show_after.total_seconds() // 60)}
