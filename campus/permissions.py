"""Who may do what: the one place services, pages, admin and API ask.

Roles come from memberships valid on the day asked about (campus-local date).
"""

from __future__ import annotations

import datetime as dt

from django.db.models import Q, QuerySet
from django.utils import timezone

from campus.models import Building, Campus, Institution, Membership, Role, Room, User

MANAGER_ROLES = (Role.FACILITY_MANAGER,)


def _today(room: Room | None = None) -> dt.date:
    if room is not None:
        return timezone.localdate(timezone=room.building.campus.zone)
    return timezone.localdate()


def valid_memberships(user: User, *, on: dt.date | None = None):
    """Return the user's memberships valid on ``on`` (today when not given)."""
    if not user.is_authenticated or not user.is_active:
        return Membership.objects.none()
    return Membership.objects.filter(user=user).valid_on(on or _today()).select_related("institution", "campus")


def bookable_institutions(user: User, *, on: dt.date | None = None) -> list[Institution]:
    """Return the institutions ``user`` may book for: those with any valid membership of theirs."""
    seen: dict[int, Institution] = {}
    for membership in valid_memberships(user, on=on).filter(institution__isnull=False):
        seen.setdefault(membership.institution_id, membership.institution)
    return list(seen.values())


def has_role(
    user: User, role: str, *, institution_id: int | None = None, campus_id: int | None = None, on: dt.date | None = None
) -> bool:
    """Return whether ``user`` holds ``role`` at the institution or campus given, valid on ``on``."""
    qs = valid_memberships(user, on=on).filter(role=role)
    if institution_id is not None:
        qs = qs.filter(institution_id=institution_id)
    if campus_id is not None:
        qs = qs.filter(campus_id=campus_id)
    return qs.exists()


def is_room_manager(user: User, room: Room, *, on: dt.date | None = None) -> bool:
    """Return whether ``user`` decides for ``room``: a facility manager of its owner, or of its campus if shared."""
    if user.is_superuser:
        return True
    on = on or _today(room)
    if room.owner_id is None:
        return has_role(user, Role.FACILITY_MANAGER, campus_id=room.building.campus_id, on=on)
    return has_role(user, Role.FACILITY_MANAGER, institution_id=room.owner_id, on=on)


def may_manage_room(user: User, room: Room, *, on: dt.date | None = None) -> bool:
    """Return whether ``user`` keeps ``room`` in the inventory: its owner's facility managers or the campus's."""
    return is_room_manager(user, room, on=on) or is_campus_facility_manager(user, room.building.campus_id, on=on)


def managed_rooms(user: User, *, on: dt.date | None = None) -> QuerySet[Room]:
    """Return the rooms ``user`` keeps (see ``may_manage_room``): all of them for a superuser."""
    if user.is_active and user.is_superuser:
        return Room.objects.all()
    institution_ids, campus_ids = managed_scope(user, on=on)
    return Room.objects.filter(Q(building__campus_id__in=campus_ids) | Q(owner_id__in=institution_ids))


def is_campus_facility_manager(user: User, campus_id: int, *, on: dt.date | None = None) -> bool:
    """Return whether ``user`` is one of the campus's own facility managers (facility services)."""
    return user.is_superuser or has_role(user, Role.FACILITY_MANAGER, campus_id=campus_id, on=on)


def may_set_booking_rules(
    user: User, *, room: Room | None = None, building: Building | None = None, campus: Campus | None = None
) -> bool:
    """Return whether ``user`` may set the booking rules of ``room``, ``building`` or ``campus`` (give one).

    A room's rules are set by those who keep it (``may_manage_room``); rules for a whole building or
    the campus bind every institution, so only the campus's facility managers set them.
    """
    if room is not None:
        return may_manage_room(user, room)
    campus_id = building.campus_id if building is not None else campus.pk if campus is not None else None
    return campus_id is not None and is_campus_facility_manager(user, campus_id)


def is_front_desk(user: User, *, campus_id: int | None = None, on: dt.date | None = None) -> bool:
    """Return whether ``user`` works at a front desk (campus or any institution)."""
    return user.is_superuser or has_role(user, Role.FRONT_DESK, campus_id=campus_id, on=on)


def administered_institution_ids(user: User, *, on: dt.date | None = None) -> list[int]:
    """Return the ids of institutions whose members ``user`` manages (institution admin)."""
    return list(
        valid_memberships(user, on=on)
        .filter(role=Role.INSTITUTION_ADMIN, institution__isnull=False)
        .values_list("institution_id", flat=True)
    )


def managed_scope(user: User, *, on: dt.date | None = None) -> tuple[list[int], list[int]]:
    """Return (institution ids, campus ids) where ``user`` is a facility manager."""
    qs = valid_memberships(user, on=on).filter(role=Role.FACILITY_MANAGER)
    institution_ids = [m.institution_id for m in qs if m.institution_id]
    campus_ids = [m.campus_id for m in qs if m.campus_id]
    return institution_ids, campus_ids


def may_use_admin(user: User) -> bool:
    """Return whether ``user`` should reach the Django admin (facility managers and institution admins)."""
    if user.is_superuser:
        return True
    return valid_memberships(user).filter(role__in=[Role.FACILITY_MANAGER, Role.INSTITUTION_ADMIN]).exists()
