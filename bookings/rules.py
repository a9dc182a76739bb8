"""Booking rules: the effective policy of a room and the checks every booking passes.

Hard rules (overlaps, closures, opening hours, capacity) hold for everyone; overlaps, closures
and opening hours are checked in ``bookings.services``. Soft rules
(duration, notice, advance window, quota) may be overridden by a facility manager with a
recorded reason. Access (direct / by request / none) decides whether a booking is confirmed
at once or waits for approval.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, fields

from django.db.models import Count, Q
from django.utils.translation import gettext as _

from bookings.errors import BookingRuleBroken
from bookings.models import ACTIVE_STATUSES, Access, Booking, BookingPolicy, Closure
from bookings.permissions import may_book_timetables, may_override
from campus.models import Campus, Institution, Room, User
from campus.permissions import membership_cover, works_front_desk_on

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


DEFAULT_POLICY = EffectivePolicy()
POLICY_FIELDS = [f.name for f in fields(EffectivePolicy)]


def effective_policy(room: Room) -> EffectivePolicy:
    """Return ``room``'s rules: each field from the room's policy, else the building's, the campus's, the default."""
    levels = Q(room_id=room.pk) | Q(building_id=room.building_id) | Q(campus_id=room.building.campus_id)
    by_level = {
        ("room" if p.room_id else "building" if p.building_id else "campus"): p
        for p in BookingPolicy.objects.filter(levels)
    }
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
) -> RuleCheck:
    """Check every rule for booking ``room`` at ``occurrences``; raise BookingRuleBroken for the first broken one.

    Returns the access that applies (direct or request). A non-empty ``override_reason`` from a
    user who may override lets soft rules pass; they are returned as ``overridden`` for the audit log.
    ``booker`` is the person whose membership the booking is made under (``user`` when not given;
    the booking's booker when someone else moves it).
    """
    check_membership_covers(
        booker=user if booker is None else booker,
        institution=institution,
        campus=room.building.campus,
        occurrences=occurrences,
    )
    policy = effective_policy(room)
    zone = room.building.campus.zone
    owner = is_owner_booking(room, institution)
    manager = may_override(user, room)

    access = policy.owner_access if owner else policy.other_access
    if manager:
        access = Access.DIRECT
    if access == Access.NONE:
        raise BookingRuleBroken(
            _("Staff of your institution may not book this room.")
            if room.owner_id
            else _("This shared room cannot be booked by institutions."),
            code="not_allowed",
            rule="who_may_book",
            allowed=None,
        )
    if attendees is not None and attendees > room.capacity:
        raise BookingRuleBroken(
            _("%(room)s holds at most %(capacity)d people.") % {"room": room.name, "capacity": room.capacity},
            code="over_capacity",
            rule="capacity",
            allowed=room.capacity,
        )

    soft: list[BookingRuleBroken] = []
    first_start = min(start for start, _end in occurrences)
    last_start = max(start for start, _end in occurrences)
    longest = max(end - start for start, end in occurrences)
    shortest = min(end - start for start, end in occurrences)
    if shortest < dt.timedelta(minutes=policy.min_duration_minutes):
        soft.append(
            BookingRuleBroken(
                _("A booking must last at least %(minutes)d minutes.") % {"minutes": policy.min_duration_minutes},
                code="too_short",
                rule="min_duration",
                allowed=policy.min_duration_minutes,
            )
        )
    if longest > dt.timedelta(minutes=policy.max_duration_minutes):
        soft.append(
            BookingRuleBroken(
                _("A booking may last at most %(minutes)d minutes.") % {"minutes": policy.max_duration_minutes},
                code="too_long",
                rule="max_duration",
                allowed=policy.max_duration_minutes,
            )
        )
    earliest = now + dt.timedelta(minutes=policy.min_notice_minutes)
    if first_start < earliest:
        soft.append(
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
        )
    window = min(policy.max_advance_days, policy.owner_window_days if owner else policy.other_window_days)
    # Timetable planners reach 400 days for series, but in another institution's room the fairness
    # window still holds for them.
    if is_series and (manager or (owner and may_book_timetables(user, room, institution))):
        window = max(window, TIMETABLE_DAYS)
    latest_date = (now.astimezone(zone) + dt.timedelta(days=window)).date()
    if last_start.astimezone(zone).date() > latest_date:
        soft.append(
            BookingRuleBroken(
                _("This room can be booked until %(date)s (%(days)d days ahead).")
                % {"date": latest_date.isoformat(), "days": window},
                code="too_far_ahead",
                rule="owner_window" if owner else "other_window",
                allowed=latest_date,
            )
        )
    # The front desk books for other people all day: those bookings are not the desk's own quota.
    campus_id = room.building.campus_id
    desk = works_front_desk_on(user, campus_id)
    desk_for_others = desk and for_someone_else
    active = active_booking_count(user=user, now=now, exclude_booking_ids=exclude_booking_ids, only_own=desk)
    if not exclude_booking_ids and not desk_for_others and active + 1 > policy.max_active_bookings:
        soft.append(
            BookingRuleBroken(
                _("You already have %(count)d active future bookings; the limit is %(max)d.")
                % {"count": active, "max": policy.max_active_bookings},
                code="quota_exceeded",
                rule="max_active_bookings",
                allowed=policy.max_active_bookings,
            )
        )
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
) -> None:
    """Refuse occurrences that reach past the last day of the membership the booking is made under.

    A hard rule, for a series too: one occurrence past the end refuses the whole request (like every
    other rule), and the message names the last day that may be booked. Memberships that follow one
    another without a gap count as one (``permissions.membership_cover``).
    """
    if booker is None or not occurrences:
        return
    valid, last_day = membership_cover(booker, campus_id=campus.pk, institution_id=institution and institution.pk)
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
