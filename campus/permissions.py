"""Who may do what with people, institutions, rooms, memberships and term calendars.

The one place services, pages, admin and API ask; roles come from memberships valid on the day
asked about (campus-local date). Questions about bookings (book for whom, change, decide,
override, close, see titles and personal data) are ``bookings.permissions``'s, built on these:

- who holds which role: ``valid_memberships``, ``has_role``, ``held_roles``, ``page_access``
  (the navigation), ``manages_facilities``, ``serves_front_desk``,
  ``member_campuses``;
- booking under a membership: ``membership_cover``, ``require_booking_membership``,
  ``require_campus_membership``, ``bookable_institutions``;
- rooms: ``is_room_manager`` and ``room_deciders`` (who decides), ``may_manage_room`` and
  ``managed_rooms`` (who keeps the inventory), ``may_set_booking_rules``;
- memberships: ``may_manage_memberships_of``, ``may_import_members``;
- term calendars: ``may_edit_term_calendar``; sensor gateway tokens: ``may_manage_gateway_tokens``;
- the admin: ``may_use_admin``, and ``RoleScope`` (from ``role_scope``), which answers the admin's
  questions about campuses, rooms, memberships and term calendars from one load of memberships.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from campus.exceptions import PermissionDenied
from campus.models import Building, Campus, Institution, Membership, Role, Room, User

MANAGER_ROLES = (Role.FACILITY_MANAGER,)
# Roles whose holders work in the admin (``may_use_admin``), so their users get ``is_staff``.
ADMIN_ROLES = (Role.FACILITY_MANAGER, Role.INSTITUTION_ADMIN)


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


def held_roles(user: User, *, on: dt.date | None = None) -> frozenset[str]:
    """Return the roles ``user`` holds anywhere on ``on`` (today when not given), in one query."""
    return frozenset(valid_memberships(user, on=on).values_list("role", flat=True))


@dataclass(frozen=True)
class PageAccess:
    """Which staff pages a person reaches: what the navigation offers and the pages let in."""

    is_facility_manager: bool = False  # approvals and closures
    is_front_desk: bool = False  # the day's bookings (facility managers too)
    may_use_admin: bool = False  # the admin site (facility managers and institution admins)
    sees_room_use: bool = False  # the room-use dashboard (facility managers and institution admins)


def page_access(user: User) -> PageAccess:
    """Return the staff pages ``user`` reaches, from one query (every one for a superuser)."""
    if not user.is_authenticated:
        return PageAccess()
    held = held_roles(user)
    manager = user.is_superuser or Role.FACILITY_MANAGER in held
    return PageAccess(
        is_facility_manager=manager,
        is_front_desk=manager or Role.FRONT_DESK in held,
        may_use_admin=manager or Role.INSTITUTION_ADMIN in held,
        sees_room_use=manager or Role.INSTITUTION_ADMIN in held,
    )


def manages_facilities(user: User) -> bool:
    """Return whether ``user`` is a facility manager anywhere (approvals and closures are for them)."""
    return page_access(user).is_facility_manager


def serves_front_desk(user: User) -> bool:
    """Return whether ``user`` works at a front desk or manages facilities anywhere (the day list is for them)."""
    return page_access(user).is_front_desk


def member_campuses(user: User) -> list[Campus]:
    """Return the campuses where ``user`` holds a valid membership, by name (every campus for a superuser)."""
    if user.is_superuser:
        return list(Campus.objects.order_by("name"))
    ids = {m.campus_id or m.institution.campus_id for m in valid_memberships(user)}
    return list(Campus.objects.filter(pk__in=ids).order_by("name"))


def room_deciders(*, room: Room, on: dt.date) -> QuerySet[User]:
    """Return the active users who decide for ``room`` on ``on`` (see ``is_room_manager``): the facility
    managers of its owner, or of its campus when it is shared."""
    if room.owner_id:
        place = Q(memberships__institution_id=room.owner_id)
    else:
        place = Q(memberships__campus_id=room.building.campus_id)
    valid = Membership.objects.valid_on(on).filter(role=Role.FACILITY_MANAGER)
    return User.objects.filter(place, memberships__in=valid, is_active=True).distinct()


def may_import_members(actor: User, *, institution_id: int) -> bool:
    """Return whether ``actor`` imports the members of the institution: its admins, or an active superuser."""
    return (actor.is_active and actor.is_superuser) or institution_id in administered_institution_ids(actor)


@dataclass(frozen=True)
class RoleScope:
    """Where a person holds a managing role today, loaded once, and the questions the admin asks of it.

    A question given None instead of an object asks about objects of the kind in general ("may they
    see any campus?"). A superuser may do everything.
    """

    is_superuser: bool
    user_id: int | None
    managed_campus_ids: frozenset[int]  # facility manager of the campus (its facility services)
    managed_institution_ids: frozenset[int]  # facility manager of an institution
    administered_institution_ids: frozenset[int]  # institution admin
    campus_ids: frozenset[int]  # every campus where the person holds one of those roles

    def sees_campus(self, campus_id: int | None) -> bool:
        """Return whether the person sees the campus's inventory and people (any campus, for None)."""
        if self.is_superuser:
            return True
        return campus_id in self.campus_ids if campus_id is not None else bool(self.campus_ids)

    def keeps_campus(self, campus_id: int | None) -> bool:
        """Return whether the person is a facility manager of the campus: its buildings, hours and rooms."""
        if self.is_superuser:
            return True
        return campus_id in self.managed_campus_ids if campus_id is not None else bool(self.managed_campus_ids)

    def keeps_room(self, room: Room | None) -> bool:
        """Return whether the person keeps ``room`` (see ``may_manage_room``); for None, whether they keep any."""
        if self.is_superuser:
            return True
        if room is None:
            return bool(self.managed_campus_ids or self.managed_institution_ids)
        return room.building.campus_id in self.managed_campus_ids or (
            room.owner_id is not None and room.owner_id in self.managed_institution_ids
        )

    def visible_institutions(self) -> QuerySet[Institution]:
        """Return the institutions of the person's campuses, by name (all of them for a superuser)."""
        queryset = Institution.objects.order_by("name")
        return queryset if self.is_superuser else queryset.filter(campus_id__in=self.campus_ids)

    def kept_buildings(self) -> QuerySet[Building]:
        """Return the buildings of the campuses whose facility manager the person is."""
        return (
            Building.objects.all()
            if self.is_superuser
            else Building.objects.filter(campus_id__in=self.managed_campus_ids)
        )

    def kept_campuses(self) -> QuerySet[Campus]:
        """Return the campuses whose facility manager the person is."""
        return Campus.objects.all() if self.is_superuser else Campus.objects.filter(pk__in=self.managed_campus_ids)

    def people(self) -> Q:
        """Return the filter of the people the person sees: those of their campuses, and accounts without
        any membership yet (so that a new account can be given one)."""
        at_campus = Membership.objects.filter(user=OuterRef("pk")).filter(
            Q(campus_id__in=self.campus_ids) | Q(institution__campus_id__in=self.campus_ids)
        )
        return Exists(at_campus) | ~Exists(Membership.objects.filter(user=OuterRef("pk")))

    def memberships(self) -> Q:
        """Return the filter of the memberships the person sees: their institutions' (institution admin)
        and their campus's (facility manager)."""
        return (
            Q(institution_id__in=self.administered_institution_ids)
            | Q(campus_id__in=self.managed_campus_ids)
            | Q(institution__campus_id__in=self.managed_campus_ids)
        )

    def sees_membership(self, membership: Membership | None) -> bool:
        """Return whether the person sees ``membership``: an admin of its institution or a facility manager
        of its campus."""
        if self.is_superuser:
            return True
        if membership is None:
            return bool(self.managed_campus_ids or self.administered_institution_ids)
        campus_id = membership.institution.campus_id if membership.institution_id else membership.campus_id
        return campus_id in self.managed_campus_ids or membership.institution_id in self.administered_institution_ids

    def runs_membership(self, membership: Membership | None) -> bool:
        """Return whether the person grants, changes and ends ``membership``: an admin of its institution,
        never of their own (see ``may_manage_memberships_of``)."""
        if self.is_superuser:
            return True
        if membership is None:
            return bool(self.administered_institution_ids)
        return membership.institution_id in self.administered_institution_ids and membership.user_id != self.user_id

    def administered_institutions(self) -> QuerySet[Institution]:
        """Return the institutions whose members the person grants and imports, by name (all for a superuser)."""
        queryset = Institution.objects.order_by("name")
        return queryset if self.is_superuser else queryset.filter(pk__in=self.administered_institution_ids)

    @property
    def term_calendar_institution_ids(self) -> frozenset[int]:
        """Return the institutions whose term calendars the person edits (its admins and facility managers)."""
        return self.managed_institution_ids | self.administered_institution_ids

    def keeps_term_calendar(self, *, institution_id: int | None = None, campus_id: int | None = None) -> bool:
        """Return whether the person edits the calendar of the institution or the campus given (see
        ``may_edit_term_calendar``); with neither, whether they edit any."""
        if self.is_superuser:
            return True
        if institution_id is not None:
            return institution_id in self.term_calendar_institution_ids
        if campus_id is not None:
            return campus_id in self.managed_campus_ids
        return bool(self.term_calendar_institution_ids or self.managed_campus_ids)

    def term_calendars(self) -> Q:
        """Return the filter of the terms and breaks whose calendars the person edits."""
        return Q(institution_id__in=self.term_calendar_institution_ids) | Q(campus_id__in=self.managed_campus_ids)


def role_scope(user: User, *, on: dt.date | None = None) -> RoleScope:
    """Return where ``user`` holds a managing role on ``on`` (today when not given), in three queries."""
    managed_institution_ids, managed_campus_ids = managed_scope(user, on=on)
    administered = administered_institution_ids(user, on=on)
    institution_campus_ids = Institution.objects.filter(pk__in=[*managed_institution_ids, *administered]).values_list(
        "campus_id", flat=True
    )
    return RoleScope(
        is_superuser=user.is_active and user.is_superuser,
        user_id=user.pk,
        managed_campus_ids=frozenset(managed_campus_ids),
        managed_institution_ids=frozenset(managed_institution_ids),
        administered_institution_ids=frozenset(administered),
        campus_ids=frozenset([*managed_campus_ids, *institution_campus_ids]),
    )


def may_use_admin(user: User) -> bool:
    """Return whether ``user`` should reach the Django admin (facility managers and institution admins)."""
    if user.is_superuser:
        return True
    return valid_memberships(user).filter(role__in=ADMIN_ROLES).exists()


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


def may_manage_gateway_tokens(user: User, campus: Campus) -> bool:
    """Return whether ``user`` may create or revoke ``campus``'s gateway tokens: its own facility managers.

    A gateway token writes readings of every sensor on the campus, so institution facility
    managers (who keep only their institution's rooms) do not hand them out.
    """
    return is_campus_facility_manager(user, campus.pk)
