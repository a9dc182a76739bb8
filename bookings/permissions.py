"""Who may do what with bookings: the one place services, pages, admin and API ask.

Questions about people, rooms, memberships and term calendars are ``campus.permissions``'s; these
build on them and answer, as functions and querysets:

- booking for an institution: ``resolve_institution`` (the service's choice), ``BookingReach``
  (from ``booking_reach``: the institutions a form offers, booking for other people, where rules
  may be overridden, the access a search shows), ``may_book_timetables``;
- changing a booking: ``owns``, ``manages``, ``may_change`` (and ``change_checker`` for lists),
  ``require_change_permission``, ``require_change_permission_for_all``; handing it over:
  ``may_hold``, ``possible_holders``;
- overriding soft rules: ``may_override``;
- deciding requests: ``require_decider``, ``decided_by`` (the filter of the requests queue);
- closures: ``require_closure_permission``, ``closable_targets``, ``visible_closures``,
  ``may_see_closure``;
- titles and personal data: ``viewer_for`` and ``Viewer`` (the visibility model of
  ``bookings.visibility``), ``sees_title``, ``sees_details``, ``may_read_history``;
- the admin's questions, asked of a ``campus.permissions.RoleScope``: ``bookings_in_scope``,
  ``works_with_booking``, ``sees_series``, ``policies_in_scope``, ``sees_policy``, ``sets_policy``,
  ``sees_closure``, ``changes_closure``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from django.contrib.auth.models import AnonymousUser
from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _

from bookings.models import Booking, BookingPolicy, BookingSeries, Closure
from bookings.visibility import Viewer, viewer_for  # the visibility model, asked through this module too
from campus.exceptions import InvalidInput, PermissionDenied
from campus.models import Building, Institution, Membership, Role, Room, User
from campus.permissions import (
    RoleScope,
    has_role,
    is_campus_facility_manager,
    is_room_manager,
    managed_scope,
    member_campuses,
    require_booking_membership,
    require_campus_membership,
    valid_memberships,
)
from campus.selectors import institution_list

# --- booking for an institution ----------------------------------------------------------------


def resolve_institution(*, user: User, institution: Institution | None, room: Room) -> Institution | None:
    """Return the institution a booking is for; a user books only for institutions they belong to.

    Campus-level members (facility services, front desk) may book for any institution of the
    campus, or for the campus itself (no institution).
    """
    campus_id = room.building.campus_id
    require_campus_membership(user, campus_id=campus_id)
    memberships = list(valid_memberships(user))
    campus_level = user.is_superuser or any(
        m.campus_id == campus_id and m.role in (Role.FACILITY_MANAGER, Role.FRONT_DESK) for m in memberships
    )
    own = {m.institution_id: m.institution for m in memberships if m.institution_id}
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


@dataclass(frozen=True)
class BookingReach:
    """What a person's valid memberships let them do with bookings, loaded in one query.

    The same answers as ``resolve_institution`` and ``may_override``, for pages that ask them of
    many rooms at once (the booking form, the free-room search).
    """

    is_superuser: bool = False
    institutions: dict[int, Institution] = field(default_factory=dict)  # where they are a member
    roles: frozenset[str] = frozenset()  # every role they hold
    campus_member_ids: frozenset[int] = frozenset()  # campuses where they hold a campus-level role
    desk_campus_ids: frozenset[int] = frozenset()  # the campuses whose front desk they work at
    managed_campus_ids: frozenset[int] = frozenset()  # the campuses whose facility manager they are
    managed_institution_ids: frozenset[int] = frozenset()  # the institutions whose facility manager they are

    def may_override(self, room: Room) -> bool:
        """Return ``may_override(user, room)``: a facility manager of the room's owner or of its campus."""
        return (
            self.is_superuser
            or room.building.campus_id in self.managed_campus_ids
            or (room.owner_id is not None and room.owner_id in self.managed_institution_ids)
        )

    def rooms_to_override(self, rooms: Iterable[Room]) -> set[int]:
        """Return the ids of ``rooms`` where the person may override soft rules."""
        return {room.pk for room in rooms if self.may_override(room)}

    @property
    def books_for_others(self) -> bool:
        """Return whether the person books for other people (the front desk, facility managers)."""
        return self.is_superuser or bool({Role.FRONT_DESK, Role.FACILITY_MANAGER} & self.roles)

    def institutions_to_book_for(self) -> tuple[list[Institution], bool]:
        """Return the institutions the person may book for, by name, and whether the campus itself is a choice.

        Campus-level members book for any institution of their campus or for the campus itself;
        everyone else for the institutions they belong to.
        """
        if self.is_superuser:
            return list(institution_list()), True
        own = dict(self.institutions)
        if self.campus_member_ids:
            for institution in institution_list().filter(campus_id__in=self.campus_member_ids):
                own.setdefault(institution.pk, institution)
        return sorted(own.values(), key=lambda i: i.name), bool(self.campus_member_ids)

    def unchosen_institution(self, room: Room) -> tuple[bool, Institution | None]:
        """Return (whether the person may book ``room`` at all, the institution a booking of it is for)
        when they choose none, as ``resolve_institution`` decides it.

        With several institutions on the campus, none of them the owner, any one of them stands for
        the rest: none of their bookings is the owner's.
        """
        campus_id = room.building.campus_id
        own_here = [institution for institution in self.institutions.values() if institution.campus_id == campus_id]
        if len(own_here) == 1:
            return True, own_here[0]
        if room.owner_id in self.institutions:
            return True, self.institutions[room.owner_id]
        if self.is_superuser or campus_id in self.managed_campus_ids or campus_id in self.desk_campus_ids:
            return True, None  # the campus itself
        if own_here:
            return True, own_here[0]
        return False, None  # not a member of any institution on this campus


def booking_reach(user: User | AnonymousUser) -> BookingReach:
    """Return what ``user``'s valid memberships let them do with bookings (one query; none for a superuser)."""
    if user.is_superuser:
        return BookingReach(is_superuser=True)
    memberships = list(valid_memberships(user))
    at_campus = [m for m in memberships if m.campus_id]
    return BookingReach(
        institutions={m.institution_id: m.institution for m in memberships if m.institution_id},
        roles=frozenset(m.role for m in memberships),
        campus_member_ids=frozenset(m.campus_id for m in at_campus),
        desk_campus_ids=frozenset(m.campus_id for m in at_campus if m.role == Role.FRONT_DESK),
        managed_campus_ids=frozenset(m.campus_id for m in at_campus if m.role == Role.FACILITY_MANAGER),
        managed_institution_ids=frozenset(
            m.institution_id for m in memberships if m.institution_id and m.role == Role.FACILITY_MANAGER
        ),
    )


def may_override(user: User, room: Room) -> bool:
    """Return whether ``user`` may override soft rules for ``room``: its facility managers or the campus's."""
    return is_room_manager(user, room) or has_role(user, Role.FACILITY_MANAGER, campus_id=room.building.campus_id)


def may_book_timetables(user: User, room: Room, institution: Institution | None) -> bool:
    """Return whether ``user`` plans timetables: a facility manager or institution admin (up to 400 days)."""
    if may_override(user, room):
        return True
    return institution is not None and (
        has_role(user, Role.INSTITUTION_ADMIN, institution_id=institution.pk)
        or has_role(user, Role.FACILITY_MANAGER, institution_id=institution.pk)
    )


# --- changing a booking ------------------------------------------------------------------------


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


def change_checker(user: User) -> Callable[[Booking], bool]:
    """Return ``may_change`` for ``user``, asked once per room for bookings of other people.

    For a booking neither booked nor owned (as a series) by the user, the answer depends only on the
    room and its campus, so a list asks once per room instead of once per booking.
    """
    by_room: dict[int, bool] = {}

    def checker(booking: Booking) -> bool:
        own = booking.booked_by_id == user.pk or (booking.series_id and booking.series.owner_id == user.pk)
        if own:
            return may_change(user, booking)
        if booking.room_id not in by_room:
            by_room[booking.room_id] = may_change(user, booking)
        return by_room[booking.room_id]

    return checker


def _holds_place(memberships: Iterable[Membership], booking: Booking) -> bool:
    """Return whether ``memberships`` put their holder at ``booking``'s institution (or, for a campus
    booking, anywhere on its campus)."""
    if booking.institution_id is not None:
        return any(m.institution_id == booking.institution_id for m in memberships)
    return any(
        m.campus_id == booking.campus_id or (m.institution_id and m.institution.campus_id == booking.campus_id)
        for m in memberships
    )


def may_hold(user: User, booking: Booking) -> bool:
    """Return whether ``user`` may take ``booking`` over: a valid member of its institution, or of its
    campus when it is the campus's own."""
    return _holds_place(valid_memberships(user), booking)


def possible_holders(booking: Booking, *, on: dt.date) -> QuerySet[User]:
    """Return the active users who may take ``booking`` over on ``on`` (see ``may_hold``), its booker aside."""
    memberships = Membership.objects.valid_on(on)
    if booking.institution_id is not None:
        memberships = memberships.filter(institution_id=booking.institution_id)
    else:
        memberships = memberships.filter(campus_id=booking.campus_id) | memberships.filter(
            institution__campus_id=booking.campus_id
        )
    return (
        User.objects.filter(is_active=True, memberships__in=memberships)
        .exclude(pk=booking.booked_by_id)
        .distinct()
        .order_by("last_name", "first_name", "username")
    )


# --- deciding requests -------------------------------------------------------------------------


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


def decided_by(user: User, *, on: dt.date) -> Q | None:
    """Return the filter of the bookings whose requests ``user`` decides on ``on``, None when they decide none.

    The facility managers of a room's owner decide for its rooms, the campus's facility managers for
    its shared rooms (``require_decider``, ``campus.permissions.is_room_manager``).
    """
    if user.is_superuser:
        return Q()
    if not user.is_authenticated or not user.is_active:
        return None
    managing = Membership.objects.filter(user=user, role=Role.FACILITY_MANAGER).valid_on(on)
    return Q(room__owner_id__in=managing.filter(institution__isnull=False).values("institution_id")) | Q(
        room__owner__isnull=True, campus_id__in=managing.filter(campus__isnull=False).values("campus_id")
    )


# --- closures ----------------------------------------------------------------------------------


def require_closure_permission(actor: User, *, room: Room | None, building: Building | None) -> None:
    require_campus_membership(actor, campus_id=(room.building if room is not None else building).campus_id)
    if room is not None and may_override(actor, room):
        return
    campus_id = (room.building if room is not None else building).campus_id
    if is_campus_facility_manager(actor, campus_id):
        return
    raise PermissionDenied(_("Only facility managers may close rooms; only the campus's may close buildings."))


def closable_targets(user: User) -> tuple[QuerySet[Room], QuerySet[Building]]:
    """Return what ``user`` may close (see ``require_closure_permission``): the rooms they may override
    rules in, and the buildings of the campuses whose facility manager they are."""
    rooms = Room.objects.all()
    buildings = Building.objects.all()
    if not user.is_superuser:
        institution_ids, campus_ids = managed_scope(user)
        rooms = rooms.filter(Q(owner_id__in=institution_ids) | Q(building__campus_id__in=campus_ids))
        buildings = buildings.filter(campus_id__in=campus_ids)
    return rooms, buildings


def visible_closures(user: User) -> Q:
    """Return the filter of the closures ``user`` sees on the pages: those of their campuses."""
    return Q() if user.is_superuser else Q(campus__in=member_campuses(user))


def may_see_closure(user: User, closure: Closure) -> bool:
    """Return whether ``user`` sees ``closure`` on the pages: it is on one of their campuses."""
    return user.is_superuser or closure.campus in member_campuses(user)


# --- titles and personal data ------------------------------------------------------------------


def sees_title(user: User | AnonymousUser | None, booking: Booking) -> bool:
    """Return whether ``user`` sees ``booking``'s title (others see that the slot is reserved)."""
    return viewer_for(user).sees_title(booking)


def sees_details(user: User | AnonymousUser | None, booking: Booking) -> bool:
    """Return whether ``user`` sees who booked ``booking``, for whom, the decision's reason and the history."""
    return viewer_for(user).sees_details(booking)


def may_read_history(user: User, booking: Booking, *, viewer: Viewer | None = None) -> bool:
    """Return whether ``user`` reads ``booking``'s audit history: who may change it or see its personal data.

    ``viewer``, when the caller has it already, is ``viewer_for(user)``.
    """
    return may_change(user, booking) or (viewer or viewer_for(user)).sees_details(booking)


# --- the admin's questions, asked of a role scope ---------------------------------------------


def bookings_in_scope(scope: RoleScope, prefix: str = "") -> Q:
    """Return the filter of the bookings a facility manager works with in the admin (``prefix`` leads to the booking).

    A campus's facility managers work with all of its bookings; an institution's facility managers
    with the bookings in the rooms their institution owns and the bookings made for their
    institution. Institution admins manage people, not bookings: they reach none.
    """
    return (
        Q(**{f"{prefix}campus_id__in": scope.managed_campus_ids})
        | Q(**{f"{prefix}room__owner_id__in": scope.managed_institution_ids})
        | Q(**{f"{prefix}institution_id__in": scope.managed_institution_ids})
    )


def works_with_booking(scope: RoleScope, booking: Booking | None) -> bool:
    """Return whether the admin's user works with ``booking`` (see ``bookings_in_scope``); for None, with any."""
    if scope.is_superuser:
        return True
    if booking is None:
        return bool(scope.managed_campus_ids or scope.managed_institution_ids)
    return (
        booking.campus_id in scope.managed_campus_ids
        or booking.room.owner_id in scope.managed_institution_ids
        or booking.institution_id in scope.managed_institution_ids
    )


def sees_series(scope: RoleScope, series: BookingSeries) -> bool:
    """Return whether the admin's user sees ``series``: they work with one of its occurrences."""
    return scope.is_superuser or Booking.objects.filter(bookings_in_scope(scope), series=series).exists()


def policies_in_scope(scope: RoleScope) -> Q:
    """Return the filter of the booking rules the admin's user sees: their campuses' building and campus
    defaults, and the rules of the rooms they keep."""
    return (
        Q(campus_id__in=scope.campus_ids)
        | Q(building__campus_id__in=scope.campus_ids)
        | Q(room__building__campus_id__in=scope.managed_campus_ids)
        | Q(room__owner_id__in=scope.managed_institution_ids)
    )


def sees_policy(scope: RoleScope, policy: BookingPolicy | None) -> bool:
    """Return whether the admin's user reads ``policy``: a room's when they keep the room, a building's or
    campus's when it is their campus (those rules hold in every room of it); for None, any."""
    if policy is None:
        return scope.sees_campus(None)
    if policy.room_id is not None:
        return scope.keeps_room(policy.room)
    return scope.sees_campus(policy.campus_id or policy.building.campus_id)


def sets_policy(scope: RoleScope, policy: BookingPolicy | None) -> bool:
    """Return whether the admin's user sets ``policy`` (``campus.permissions.may_set_booking_rules``): a room's
    when they keep it, a building's or campus's when they are the campus's facility manager; for None, any."""
    if policy is None:
        return scope.keeps_room(None)
    if policy.room_id is not None:
        return scope.keeps_room(policy.room)
    return scope.keeps_campus(policy.campus_id or policy.building.campus_id)


def sees_closure(scope: RoleScope, closure: Closure | None) -> bool:
    """Return whether the admin's user sees ``closure``: it is on their campus (any, for None)."""
    return scope.sees_campus(None if closure is None else closure.campus_id)


def changes_closure(scope: RoleScope, closure: Closure | None) -> bool:
    """Return whether the admin's user changes ``closure`` (its campus's facility managers); for None, whether
    they close anything (a room they keep)."""
    return scope.keeps_room(None) if closure is None else scope.keeps_campus(closure.campus_id)
