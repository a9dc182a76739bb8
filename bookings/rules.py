"""Booking rules: the effective policy of a room and the checks every booking passes.

Hard rules (overlaps, closures, opening hours, capacity) hold for everyone; overlaps, closures
and opening hours are checked in ``bookings.services``. Soft rules
(duration, notice, advance window, quota) may be overridden by a facility manager with a
recorded reason. Access (direct / by request / none) decides whether a booking is confirmed
at once or waits for approval.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, fields

from django.conf import settings
from django.db.models import Count, Q
from django.utils.translation import gettext as _

from bookings.errors import BookingRuleBroken
from bookings.models import ACTIVE_STATUSES, Access, Booking, BookingPolicy, CheckIn, Closure
from bookings.permissions import is_front_desk_here, may_book_timetables, may_override
from campus.models import Campus, Institution, Room, User
from campus.permissions import LoadedMemberships, loaded_memberships, membership_cover

# Kampus's defaults: permissive enough for a term's timetable.
TIMETABLE_DAYS = 400


@dataclass(frozen=True)
class EffectivePolicy:
    min_duration_minutes: int = 15
    max_duration_minutes: int = 24 * 60
    min_notice_minutes: int = 0
    max_advance_days: int = 365
    max_active_bookings: int = 50
    owner_access: str = Access.DIRECT
    other_access: str = Access.DIRECT
    owner_window_days: int = 365
    other_window_days: int = 180
    request_expiry_hours: int = 72
    check_in: str = CheckIn.SENSOR
    # None: Kampus's setting KAMPUS_NO_SHOW_MINUTES (settings are not read at import time).
    no_show_minutes: int | None = None

    @property
    def no_show_after(self) -> dt.timedelta:
        """Return how long after its start a booking nobody uses counts as a no-show."""
        minutes = self.no_show_minutes if self.no_show_minutes is not None else settings.KAMPUS_NO_SHOW_MINUTES
        return dt.timedelta(minutes=minutes)


DEFAULT_POLICY = EffectivePolicy()
POLICY_FIELDS = [f.name for f in fields(EffectivePolicy)]


def effective_policy(room: Room) -> EffectivePolicy:
    """Return ``room``'s rules: each field from the room's policy, else the building's, the campus's, the default."""
    levels = Q(room_id=room.pk) | Q(building_id=room.building_id) | Q(campus_id=room.building.campus_id)
    return policy_from(BookingPolicy.objects.filter(levels))


def policy_from(policies: Iterable[BookingPolicy]) -> EffectivePolicy:
    """Return the effective policy of a room from its own, its building's and its campus's ``policies``."""
    by_level = {("room" if p.room_id else "building" if p.building_id else "campus"): p for p in policies}
    return _merge_levels(by_level)


def effective_policies(rooms: Sequence[Room]) -> dict[int, EffectivePolicy]:
    """Return ``effective_policy`` of each of ``rooms`` by room id, reading every policy in one query."""
    if not rooms:
        return {}
    room_ids = {room.pk for room in rooms}
    building_ids = {room.building_id for room in rooms}
    campus_ids = {room.building.campus_id for room in rooms}
    policies = list(
        BookingPolicy.objects.filter(
            Q(room_id__in=room_ids) | Q(building_id__in=building_ids) | Q(campus_id__in=campus_ids)
        )
    )
    by_room = {p.room_id: p for p in policies if p.room_id}
    by_building = {p.building_id: p for p in policies if p.building_id}
    by_campus = {p.campus_id: p for p in policies if p.campus_id}
    found: dict[int, EffectivePolicy] = {}
    for room in rooms:
        levels = {
            "room": by_room.get(room.pk),
            "building": by_building.get(room.building_id),
            "campus": by_campus.get(room.building.campus_id),
        }
        found[room.pk] = _merge_levels({level: p for level, p in levels.items() if p is not None})
    return found


def _merge_levels(by_level: dict[str, BookingPolicy]) -> EffectivePolicy:
    values = {}
    for name in POLICY_FIELDS:
        for level in ("room", "building", "campus"):
            policy = by_level.get(level)
            value = getattr(policy, name) if policy is not None else None
            if value not in (None, ""):
                values[name] = value
                break
    return EffectivePolicy(**values)


def is_owner_booking(room: Room, institution: Institution | None) -> bool:
    """Return whether a booking for ``institution`` counts as the owner's.

    The campus owns the shared rooms: its own bookings (no institution) count as the owner's there,
    while every institution counts as other.
    """
    if room.owner_id is None:
        return institution is None
    return institution is not None and institution.pk == room.owner_id


@dataclass(frozen=True)
class ActiveBookings:
    """How many active future bookings a person holds, a series counting as one: all of them, and their own
    (leaving out those made on someone else's behalf, the front desk's work)."""

    all: int
    own: int


@dataclass
class RuleCheck:
    """The outcome of the rules for one request: the status to give, soft rules overridden, the policy used."""

    access: str
    overridden: list[dict]
    policy: EffectivePolicy
    override_reason: str = ""


def check_rules(
    *,
    room: Room,
    user: User,
    institution: Institution | None,
    occurrences: Sequence[tuple[dt.datetime, dt.datetime]],
    attendees: int | None,
    now: dt.datetime,
    override_reason: str = "",
    is_series: bool = False,
    exclude_booking_ids: Sequence[int] = (),
    for_someone_else: bool = False,
    booker: User | None = None,
    policy: EffectivePolicy | None = None,
    memberships: LoadedMemberships | None = None,
    active: ActiveBookings | None = None,
) -> RuleCheck:
    """Check every rule for booking ``room`` at ``occurrences``; raise BookingRuleBroken for the first broken one.

    Returns the access that applies (direct or request). A non-empty ``override_reason`` from a
    user who may override lets soft rules pass; they are returned as ``overridden`` for the audit log.
    ``booker`` is the person whose membership the booking is made under (``user`` when not given;
    the booking's booker when someone else moves it). ``policy``, ``memberships`` (the user's) and
    ``active`` (the user's active bookings) are read here unless the caller loaded them already.
    """
    held = memberships if memberships is not None else loaded_memberships(user)
    check_membership_covers(
        booker=user if booker is None else booker,
        institution=institution,
        campus=room.building.campus,
        occurrences=occurrences,
        memberships=held if booker is None or booker.pk == user.pk else None,
    )
    policy = policy if policy is not None else effective_policy(room)
    owner = is_owner_booking(room, institution)
    manager = may_override(user, room, memberships=held)
    access = _access(room, policy, owner=owner, manager=manager)
    _check_capacity(room, attendees)
    desk = is_front_desk_here(held, room)
    if active is None:
        count = active_booking_count(user=user, now=now, exclude_booking_ids=exclude_booking_ids, only_own=desk)
    else:
        count = active.own if desk else active.all
    zone = room.building.campus.zone
    soft = [
        *_duration_broken(policy, occurrences),
        *_notice_broken(policy, occurrences, now=now, zone=zone),
        *_window_broken(
            policy,
            occurrences,
            now=now,
            zone=zone,
            owner=owner,
            timetable=is_series
            and (manager or (owner and may_book_timetables(user, room, institution, memberships=held))),
        ),
        *_quota_broken(policy, count, counted=not exclude_booking_ids and not (desk and for_someone_else)),
    ]
    return _verdict(soft, access=access, policy=policy, manager=manager, override_reason=override_reason)


def _access(room: Room, policy: EffectivePolicy, *, owner: bool, manager: bool) -> str:
    """Return whether the booking is direct or a request; refuse when the policy lets nobody like this book."""
    access = Access.DIRECT if manager else policy.owner_access if owner else policy.other_access
    if access == Access.NONE:
        raise BookingRuleBroken(
            _("Staff of your institution may not book this room.")
            if room.owner_id
            else _("This shared room cannot be booked by institutions."),
            code="not_allowed",
            rule="who_may_book",
            allowed=None,
        )
    return access


def _check_capacity(room: Room, attendees: int | None) -> None:
    if attendees is not None and attendees > room.capacity:
        raise BookingRuleBroken(
            _("%(room)s holds at most %(capacity)d people.") % {"room": room.name, "capacity": room.capacity},
            code="over_capacity",
            rule="capacity",
            allowed=room.capacity,
        )


def _duration_broken(
    policy: EffectivePolicy, occurrences: Sequence[tuple[dt.datetime, dt.datetime]]
) -> list[BookingRuleBroken]:
    broken = []
    longest = max(end - start for start, end in occurrences)
    shortest = min(end - start for start, end in occurrences)
    if shortest < dt.timedelta(minutes=policy.min_duration_minutes):
        broken.append(
            BookingRuleBroken(
                _("A booking must last at least %(minutes)d minutes.") % {"minutes": policy.min_duration_minutes},
                code="too_short",
                rule="min_duration",
                allowed=policy.min_duration_minutes,
            )
        )
    if longest > dt.timedelta(minutes=policy.max_duration_minutes):
        broken.append(
            BookingRuleBroken(
                _("A booking may last at most %(minutes)d minutes.") % {"minutes": policy.max_duration_minutes},
                code="too_long",
                rule="max_duration",
                allowed=policy.max_duration_minutes,
            )
        )
    return broken


def _notice_broken(
    policy: EffectivePolicy,
    occurrences: Sequence[tuple[dt.datetime, dt.datetime]],
    *,
    now: dt.datetime,
    zone: dt.tzinfo,
) -> list[BookingRuleBroken]:
    earliest = now + dt.timedelta(minutes=policy.min_notice_minutes)
    if min(start for start, _end in occurrences) >= earliest:
        return []
    return [
        BookingRuleBroken(
            _("Book at least %(minutes)d minutes ahead; the earliest start now is %(earliest)s.")
            % {
                "minutes": policy.min_notice_minutes,
                "earliest": earliest.astimezone(zone).strftime("%Y-%m-%d %H:%M"),
            },
            code="too_soon",
            rule="min_notice",
            allowed=earliest.astimezone(zone),
        )
    ]


def _window_broken(
    policy: EffectivePolicy,
    occurrences: Sequence[tuple[dt.datetime, dt.datetime]],
    *,
    now: dt.datetime,
    zone: dt.tzinfo,
    owner: bool,
    timetable: bool,
) -> list[BookingRuleBroken]:
    """Refuse starts past the advance window; ``timetable`` planning of a series reaches 400 days.

    In another institution's room the fairness window still holds for timetable planners.
    """
    window = min(policy.max_advance_days, policy.owner_window_days if owner else policy.other_window_days)
    if timetable:
        window = max(window, TIMETABLE_DAYS)
    latest_date = (now.astimezone(zone) + dt.timedelta(days=window)).date()
    if max(start for start, _end in occurrences).astimezone(zone).date() <= latest_date:
        return []
    return [
        BookingRuleBroken(
            _("This room can be booked until %(date)s (%(days)d days ahead).")
            % {"date": latest_date.isoformat(), "days": window},
            code="too_far_ahead",
            rule="owner_window" if owner else "other_window",
            allowed=latest_date,
        )
    ]


def _quota_broken(policy: EffectivePolicy, active: int, *, counted: bool) -> list[BookingRuleBroken]:
    """Refuse one more active booking past the quota, when this request ``counted`` (not a move, not the desk's
    booking for someone else)."""
    if not counted or active + 1 <= policy.max_active_bookings:
        return []
    return [
        BookingRuleBroken(
            _("You already have %(count)d active future bookings; the limit is %(max)d.")
            % {"count": active, "max": policy.max_active_bookings},
            code="quota_exceeded",
            rule="max_active_bookings",
            allowed=policy.max_active_bookings,
        )
    ]


def _verdict(
    soft: list[BookingRuleBroken], *, access: str, policy: EffectivePolicy, manager: bool, override_reason: str
) -> RuleCheck:
    """Raise the first broken soft rule unless a manager overrides them with a reason; else return the verdict."""
    if soft and not (manager and override_reason.strip()):
        error = soft[0]
        error.extra["can_override"] = manager
        raise error
    overridden = [{"rule": e.rule, "code": e.code, "message": e.message} for e in soft]
    return RuleCheck(access=access, overridden=overridden, policy=policy, override_reason=override_reason.strip())


def check_membership_covers(
    *,
    booker: User | None,
    institution: Institution | None,
    campus: Campus,
    occurrences: Sequence[tuple[dt.datetime, dt.datetime]],
    memberships: LoadedMemberships | None = None,
) -> None:
    """Refuse occurrences that reach past the last day of the membership the booking is made under.

    A hard rule, for a series too: one occurrence past the end refuses the whole request (like every
    other rule), and the message names the last day that may be booked. Memberships that follow one
    another without a gap count as one (``permissions.membership_cover``). ``memberships``: the
    booker's, when already loaded.
    """
    if booker is None or not occurrences:
        return
    institution_id = institution and institution.pk
    if memberships is not None:  # the booker's, already loaded
        valid, last_day = memberships.membership_cover(campus_id=campus.pk, institution_id=institution_id)
    else:
        valid, last_day = membership_cover(booker, campus_id=campus.pk, institution_id=institution_id)
    if last_day is None and valid:
        return
    zone = campus.zone
    if last_day is not None:
        # The last day is inclusive: a booking may run until midnight at its end.
        limit = dt.datetime.combine(last_day + dt.timedelta(days=1), dt.time(0), tzinfo=zone)
        if max(end for _start, end in occurrences) <= limit:
            return
    where = institution.name if institution is not None else campus.name
    values = {"person": booker, "place": where, "date": last_day.isoformat() if last_day else "-"}
    if last_day is None:
        message = _("%(person)s holds no membership at %(place)s under which this booking could be made.") % values
    else:
        message = (
            _(
                "The membership at %(place)s that this booking is made under ends on %(date)s: "
                "book (or move the booking) until %(date)s at the latest."
            )
            % values
        )
    raise BookingRuleBroken(message, code="membership_ends", rule="membership", allowed=last_day)


def active_booking_count(
    *, user: User, now: dt.datetime, exclude_booking_ids: Sequence[int] = (), only_own: bool = False
) -> int:
    """Return how many active future bookings ``user`` holds, a series counting as one.

    ``only_own`` leaves out bookings made on behalf of someone else (the front desk's work).
    """
    active = Booking.objects.filter(booked_by=user, status__in=ACTIVE_STATUSES, end__gt=now).exclude(
        pk__in=list(exclude_booking_ids)
    )
    if only_own:
        active = active.filter(on_behalf_of_name="", on_behalf_of_organisation="")
    counts = active.aggregate(singles=Count("pk", filter=Q(series__isnull=True)), series=Count("series", distinct=True))
    return counts["singles"] + counts["series"]


def closures_for(room: Room, start: dt.datetime, end: dt.datetime):
    """Return closures overlapping [start, end) of ``room``, its building, its sections or the rooms it is part of."""
    # .all(), not values_list: a booking request prefetches both relations once (services.plan_booking).
    related = {room.pk, *(r.pk for r in room.sections.all()), *(r.pk for r in room.combined_rooms.all())}
    return Closure.objects.filter(
        Q(room_id__in=related) | Q(building_id=room.building_id), start__lt=end, end__gt=start
    ).order_by("start")
