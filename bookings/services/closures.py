"""Closures: a room or building closed for a period, and the bookings inside it."""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from bookings import audit
from bookings.models import (
    ACTIVE_STATUSES,
    Booking,
    BookingAction,
    BookingStatus,
    Closure,
    NotificationKind,
)
from bookings.parts import room_parts
from bookings.permissions import require_closure_permission
from bookings.services.checks import require_span
from bookings.services.locking import end_bookings, lock_bookings, notify_bookers
from campus.exceptions import InvalidInput
from campus.models import Building, Room, User


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
    require_span(start, end)
    if not reason.strip():
        message = _("Give a reason: the people whose bookings are affected read it.")
        raise InvalidInput(message, errors=[{"field": "reason", "message": message}])
    require_closure_permission(actor, room=room, building=building)
    campus = (room.building if room is not None else building).campus
    closure = Closure.objects.create(
        campus=campus, room=room, building=building, start=start, end=end, reason=reason.strip(), created_by=actor
    )
    affected = closure_affected_bookings(closure)
    notify_bookers(NotificationKind.CLOSURE, affected, reason=closure.reason)
    return closure, affected


@transaction.atomic
def closure_cancel_bookings(*, closure: Closure, actor: User, now: dt.datetime | None = None) -> list[Booking]:
    """Cancel every active booking that falls into ``closure`` (one step for the facility manager)."""
    now = now or timezone.now()
    require_closure_permission(actor, room=closure.room, building=closure.building)
    locked = lock_bookings([b.pk for b in closure_affected_bookings(closure)], ending_after=now)
    # Read again after the locks: a booking moved out of the closure meanwhile is not cancelled.
    still_inside = {b.pk for b in closure_affected_bookings(closure)}
    targets = [target for target in locked if target.pk in still_inside]
    if not targets:
        return []
    before = {target.pk: audit.snapshot(target) for target in targets}
    reason = _("Closed: %(reason)s") % {"reason": closure.reason}
    end_bookings(targets, status=BookingStatus.CANCELLED, now=now)
    audit.record(action=BookingAction.CANCEL, bookings=targets, actor=actor, before=before, reason=reason)
    notify_bookers(NotificationKind.CANCELLED, targets, reason=reason, except_user=actor)
    return targets
