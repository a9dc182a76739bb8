"""Who may do what with bookings: book for an institution, change, decide, close rooms."""

from __future__ import annotations

from collections.abc import Iterable

from django.utils.translation import gettext as _

from bookings import rules
from bookings.models import (
    Booking,
)
from campus.exceptions import InvalidInput, PermissionDenied
from campus.models import Building, Institution, Role, Room, User
from campus.permissions import (
    LoadedMemberships,
    has_role,
    is_campus_facility_manager,
    is_room_manager,
    require_booking_membership,
    require_campus_membership,
    valid_memberships,
)


def resolve_institution(
    *, user: User, institution: Institution | None, room: Room, memberships: LoadedMemberships | None = None
) -> Institution | None:
    """Return the institution a booking is for; a user books only for institutions they belong to.

    Campus-level members (facility services, front desk) may book for any institution of the
    campus, or for the campus itself (no institution). ``memberships``: the user's, when already
    loaded (``loaded_memberships``); else they are read.
    """
    campus_id = room.building.campus_id
    if memberships is None:
        require_campus_membership(user, campus_id=campus_id)
        valid = list(valid_memberships(user))
    else:
        memberships.require_campus_membership(campus_id=campus_id)
        valid = memberships.valid_memberships()
    campus_level = user.is_superuser or any(
        m.campus_id == campus_id and m.role in (Role.FACILITY_MANAGER, Role.FRONT_DESK) for m in valid
    )
    own = {m.institution_id: m.institution for m in valid if m.institution_id}
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


def owns(user: User, booking: Booking) -> bool:
    """Return whether ``booking`` is ``user``'s own: they booked it or own its series (or are a superuser)."""
    return (
        user.is_superuser
        or booking.booked_by_id == user.pk
        or (booking.series_id is not None and booking.series.owner_id == user.pk)
    )


def manages(user: User, room: Room) -> bool:
    """Return whether ``user`` may change anyone's bookings of ``room``: its managers or the campus's staff."""
    campus_id = room.building.campus_id
    return (
        is_room_manager(user, room)
        or is_campus_facility_manager(user, campus_id)
        or has_role(user, Role.FRONT_DESK, campus_id=campus_id)
    )


def may_change(user: User, booking: Booking) -> bool:
    """Return whether ``user`` may change, cancel or release ``booking``."""
    return owns(user, booking) or manages(user, booking.room)


def require_change_permission_for_all(actor: User, targets: Iterable[Booking]) -> None:
    """Refuse unless ``actor`` may change every one of ``targets`` (a series may span rooms and owners)."""
    managed_rooms: dict[int, bool] = {}
    for target in targets:
        if owns(actor, target):
            continue
        if target.room_id not in managed_rooms:
            managed_rooms[target.room_id] = manages(actor, target.room)
        if not managed_rooms[target.room_id]:
            raise PermissionDenied(
                _("You may not change every occurrence in this scope: %(booking)s is not yours to change.")
                % {"booking": target}
            )


def require_change_permission(actor: User, booking: Booking) -> None:
    if not may_change(actor, booking):
        raise PermissionDenied(_("Only the booker, the room's facility managers or the front desk may do this."))
    if not manages(actor, booking.room):
        # The booker acts under the membership the booking was made under: it must still hold.
        require_booking_membership(actor, campus_id=booking.campus_id, institution_id=booking.institution_id)


def require_decider(actor: User, *bookings: Booking) -> None:
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


def require_closure_permission(actor: User, *, room: Room | None, building: Building | None) -> None:
    require_campus_membership(actor, campus_id=(room.building if room is not None else building).campus_id)
    if room is not None and rules.may_override(actor, room):
        return
    campus_id = (room.building if room is not None else building).campus_id
    if is_campus_facility_manager(actor, campus_id):
        return
    raise PermissionDenied(_("Only facility managers may close rooms; only the campus's may close buildings."))
