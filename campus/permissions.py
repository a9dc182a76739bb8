"""Who may do what: the one place services, pages, admin and API ask.

Roles come from memberships valid on the day asked about (campus-local date).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from campus.exceptions import PermissionDenied
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


def booking_memberships(user: User, *, campus_id: int, institution_id: int | None) -> QuerySet[Membership]:
    """Return the user's memberships, of any dates, under which they book for ``institution_id`` on the campus.

    Those are their memberships at that institution, plus the campus-level facility-manager and
    front-desk memberships that book for any institution of the campus (or, ``institution_id``
    None, for the campus itself).
    """
    campus_level = Q(campus_id=campus_id, role__in=[Role.FACILITY_MANAGER, Role.FRONT_DESK])
    place = campus_level if institution_id is None else Q(institution_id=institution_id) | campus_level
    return Membership.objects.filter(user=user).filter(place).select_related("institution", "campus")


def membership_cover(
    user: User, *, campus_id: int, institution_id: int | None, on: dt.date | None = None
) -> tuple[bool, dt.date | None]:
    """Return (whether ``user`` may book for ``institution_id`` on ``on``, the last day they may book for it).

    The last day is the end of the unbroken run of booking memberships from ``on`` (a membership
    that starts the day after another ends continues it); None when it never ends (an open-ended
    membership, or a superuser). When no membership holds on ``on``, it is the day the last one
    ended (None if there never was one).
    """
    if user.is_superuser:
        return True, None
    return _cover(list(booking_memberships(user, campus_id=campus_id, institution_id=institution_id)), on=on)


def _cover(memberships: list[Membership], *, on: dt.date | None) -> tuple[bool, dt.date | None]:
    day = on or _today()
    last_day: dt.date | None = None
    while True:
        holding = [m for m in memberships if m.is_valid_on(day)]
        if not holding:
            break
        if any(m.valid_until is None for m in holding):
            return True, None
        last_day = max(m.valid_until for m in holding)
        day = last_day + dt.timedelta(days=1)
    if last_day is not None:
        return True, last_day
    ended = [m.valid_until for m in memberships if m.valid_until is not None and m.valid_until < (on or _today())]
    return False, max(ended, default=None)


class LoadedMemberships:
    """A person's memberships of every date, read once: answers the membership questions of one request.

    The functions above ask the database each time; a booking request asks half a dozen questions
    (may book here, for which institution, until when, is a manager, is the front desk, what may
    they see), so it loads the list once (``loaded_memberships``) and asks it. Each method answers
    exactly as the function of the same name does.
    """

    def __init__(self, user: User, memberships: Iterable[Membership]) -> None:
        self.user = user
        self.all = sorted(memberships, key=lambda m: m.pk)

    def valid_memberships(self, *, on: dt.date | None = None) -> list[Membership]:
        """As ``valid_memberships``: none for an anonymous or inactive user."""
        if not self.user.is_authenticated or not self.user.is_active:
            return []
        day = on or _today()
        return [m for m in self.all if m.is_valid_on(day)]

    def has_role(
        self, role: str, *, institution_id: int | None = None, campus_id: int | None = None, on: dt.date | None = None
    ) -> bool:
        return any(
            m.role == role
            and (institution_id is None or m.institution_id == institution_id)
            and (campus_id is None or m.campus_id == campus_id)
            for m in self.valid_memberships(on=on)
        )

    def is_room_manager(self, room: Room, *, on: dt.date | None = None) -> bool:
        if self.user.is_superuser:
            return True
        on = on or _today(room)
        if room.owner_id is None:
            return self.has_role(Role.FACILITY_MANAGER, campus_id=room.building.campus_id, on=on)
        return self.has_role(Role.FACILITY_MANAGER, institution_id=room.owner_id, on=on)

    def is_campus_facility_manager(self, campus_id: int, *, on: dt.date | None = None) -> bool:
        return self.user.is_superuser or self.has_role(Role.FACILITY_MANAGER, campus_id=campus_id, on=on)

    def at_campus(self, campus_id: int) -> list[Membership]:
        """Return the memberships of every date held on the campus (at it, or at one of its institutions)."""
        return [
            m
            for m in self.all
            if m.campus_id == campus_id or (m.institution_id is not None and m.institution.campus_id == campus_id)
        ]

    def require_campus_membership(self, *, campus_id: int) -> None:
        if self.user.is_superuser:
            return
        at_campus = self.at_campus(campus_id)
        today = _today()
        if any(m.is_valid_on(today) for m in at_campus):
            return
        ended = [m.valid_until for m in at_campus if m.valid_until is not None and m.valid_until < today]
        raise _refuse_ended(max(ended, default=None))

    def booking_memberships(self, *, campus_id: int, institution_id: int | None) -> list[Membership]:
        return [
            m
            for m in self.all
            if (m.campus_id == campus_id and m.role in (Role.FACILITY_MANAGER, Role.FRONT_DESK))
            or (institution_id is not None and m.institution_id == institution_id)
        ]

    def membership_cover(
        self, *, campus_id: int, institution_id: int | None, on: dt.date | None = None
    ) -> tuple[bool, dt.date | None]:
        if self.user.is_superuser:
            return True, None
        return _cover(self.booking_memberships(campus_id=campus_id, institution_id=institution_id), on=on)


def loaded_memberships(user: User) -> LoadedMemberships:
    """Return ``user``'s memberships of every date (with institution and campus), read in one query."""
    if not user.is_authenticated:
        return LoadedMemberships(user, [])
    return LoadedMemberships(user, Membership.objects.filter(user=user).select_related("institution", "campus"))


def _refuse_ended(ended_on: dt.date | None) -> PermissionDenied:
    if ended_on is None:
        message = _("You hold no valid membership here, so you cannot do this.")
    else:
        message = _(
            "Your membership ended on %(date)s: you can no longer book or change bookings with it. "
            "Ask your institution's admin to extend it."
        ) % {"date": ended_on.isoformat()}
    return PermissionDenied(message, code="membership_ended")


def require_booking_membership(user: User, *, campus_id: int, institution_id: int | None) -> None:
    """Raise PermissionDenied (``membership_ended``) unless ``user`` may book for ``institution_id`` today.

    Call before any write a person makes to a booking of theirs (change, move, cancel, release,
    handover): the booking is made under such a membership, and it must still hold.
    """
    valid, last_day = membership_cover(user, campus_id=campus_id, institution_id=institution_id)
    if not valid:
        raise _refuse_ended(last_day)


def require_campus_membership(user: User, *, campus_id: int) -> None:
    """Raise PermissionDenied (``membership_ended``) unless ``user`` holds a membership valid today on the campus."""
    if user.is_superuser:
        return
    at_campus = Membership.objects.filter(user=user).filter(
        Q(campus_id=campus_id) | Q(institution__campus_id=campus_id)
    )
    today = _today()
    if at_campus.valid_on(today).exists():
        return
    ended = at_campus.filter(valid_until__lt=today).order_by("-valid_until").values_list("valid_until", flat=True)
    raise _refuse_ended(ended.first())


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


def may_manage_memberships_of(actor: User, *, username: str) -> bool:
    """Return whether ``actor`` may grant, change or end the memberships of the user named ``username``.

    Nobody but a superuser touches their own: an institution admin could otherwise make themselves
    facility manager, or keep a membership alive that others ended.
    """
    return actor.is_superuser or username != actor.get_username()


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


def may_edit_term_calendar(user: User, *, institution_id: int | None = None, campus_id: int | None = None) -> bool:
    """Return whether ``user`` edits the term calendar of the institution (its admins and facility
    managers) or of the campus (the campus's facility managers) given."""
    if user.is_superuser:
        return True
    if institution_id is not None:
        return (
            valid_memberships(user)
            .filter(institution_id=institution_id, role__in=[Role.INSTITUTION_ADMIN, Role.FACILITY_MANAGER])
            .exists()
        )
    return campus_id is not None and is_campus_facility_manager(user, campus_id)
