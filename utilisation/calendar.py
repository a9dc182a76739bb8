"""Which 15-minute slots of a room count in a report: one place for the count and for the filter on slot rows.

A slot is *available* to a report when its campus-local start lies on a day of the period that
counts for the room and inside the hours asked for (core hours, or the building's opening hours
for the shares), it does not overlap a closure of the room or its building, and it has ended. A
day counts unless it is a campus holiday, a day the building is closed, or — by season — a term
break (the breaks of the room owner's school year; the campus's for shared rooms) for term time,
or not a break for the breaks' figures.

``SlotCalendar.available`` counts such slots by walking the period's days (slot starts come from
zoneinfo, so DST days have the slots they really have), and ``SlotCalendar.slot_filter`` is the
same rule as a filter on ``RoomSlot`` rows through their precomputed local date, minute and
weekday: the two cannot disagree.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from django.db.models import Q

from bookings.models import Closure
from campus.models import Campus, Holiday, OpeningHours, OpeningHoursException, Room, TermKind, TermPeriod
from utilisation.models import SLOT_SECONDS, CoreHours
from utilisation.results import Period, Season

SLOT = dt.timedelta(seconds=SLOT_SECONDS)
DEFAULT_CORE_WEEKDAYS = frozenset({1, 2, 3, 4, 5})
DEFAULT_CORE_START = dt.time(8, 0)
DEFAULT_CORE_END = dt.time(16, 0)


@dataclass(frozen=True)
class Hours:
    """Local hours of some weekdays: slots starting at a minute in [start_minute, end_minute) of those days."""

    iso_weekdays: frozenset[int]
    start_minute: int
    end_minute: int

    def q(self) -> Q:
        return Q(
            iso_weekday__in=sorted(self.iso_weekdays),
            local_minute__gte=self.start_minute,
            local_minute__lt=self.end_minute,
        )

    def holds(self, local: dt.datetime) -> bool:
        minute = local.hour * 60 + local.minute
        return local.isoweekday() in self.iso_weekdays and self.start_minute <= minute < self.end_minute


def core_hours(campus: Campus) -> Hours:
    """Return the campus's core hours (defaults Monday–Friday 08:00–16:00 without a ``CoreHours`` row)."""
    row = CoreHours.objects.filter(campus=campus).first()
    if row is None:
        weekdays, start, end = DEFAULT_CORE_WEEKDAYS, DEFAULT_CORE_START, DEFAULT_CORE_END
    else:
        weekdays, start, end = frozenset(int(d) for d in row.weekdays if d.isdigit()), row.start, row.end
    return Hours(weekdays, start.hour * 60 + start.minute, end.hour * 60 + end.minute)


def _day_slots(zone: dt.tzinfo, day: dt.date) -> list[tuple[dt.datetime, dt.datetime]]:
    """Return every 15-minute slot starting on local ``day``: (UTC start, local start)."""
    midnight = dt.datetime.combine(day, dt.time(), tzinfo=zone).astimezone(dt.UTC)
    next_midnight = dt.datetime.combine(day + dt.timedelta(days=1), dt.time(), tzinfo=zone).astimezone(dt.UTC)
    slots = []
    start = midnight
    while start < next_midnight:
        slots.append((start, start.astimezone(zone)))
        start += SLOT
    return slots


@dataclass
class RoomDays:
    """The days of the period that count for a group of rooms (same building and school year)."""

    room_ids: list[int]
    days: frozenset[dt.date]


class SlotCalendar:
    """The available slots of some rooms of one campus over a period, within ``hours``."""

    def __init__(
        self, *, campus: Campus, rooms: Iterable[Room], period: Period, hours: Hours, now: dt.datetime
    ) -> None:
        self.campus = campus
        self.zone = campus.zone
        self.period = period
        self.hours = hours
        self.now = now
        self.rooms = list(rooms)
        self.days = [
            period.first_day + dt.timedelta(days=n) for n in range((period.last_day - period.first_day).days + 1)
        ]
        self.first_utc, self.end_utc = period.bounds(self.zone)
        self.groups = self._room_days()
        self.closures = self._closures()

    # --- which days count -------------------------------------------------------------------------

    def _room_days(self) -> list[RoomDays]:
        first, last = self.period.first_day, self.period.last_day
        holidays = set(
            Holiday.objects.filter(campus=self.campus, date__range=(first, last)).values_list("date", flat=True)
        )
        closed: dict[int, set[dt.date]] = defaultdict(set)
        for building_id, day in OpeningHoursException.objects.filter(
            building__campus=self.campus, closed=True, date__range=(first, last)
        ).values_list("building_id", "date"):
            closed[building_id].add(day)
        breaks: dict[int | None, set[dt.date]] = defaultdict(set)  # institution id (None: the campus) -> days
        for period in TermPeriod.objects.filter(kind=TermKind.BREAK, start__lte=last, end__gte=first).filter(
            Q(campus=self.campus) | Q(institution__campus=self.campus)
        ):
            day = max(period.start, first)
            while day <= min(period.end, last):
                breaks[period.institution_id].add(day)
                day += dt.timedelta(days=1)
        all_days = set(self.days)
        # Rooms whose days are the same share one group (usually every room of a campus, or one per school year).
        by_days: dict[frozenset[dt.date], list[int]] = defaultdict(list)
        for room in self.rooms:
            open_days = all_days - holidays - closed[room.building_id]
            break_days = breaks[room.owner_id]
            if self.period.season == Season.TERM:
                days = open_days - break_days
            elif self.period.season == Season.BREAKS:
                days = open_days & break_days
            else:
                days = open_days
            by_days[frozenset(days)].append(room.pk)
        return [RoomDays(room_ids=room_ids, days=days) for days, room_ids in by_days.items()]

    def _closures(self) -> list[tuple[dt.datetime, dt.datetime, frozenset[int]]]:
        """Return the closures (their own and their building's) of the rooms that overlap the period, with the rooms."""
        by_building: dict[int, list[int]] = defaultdict(list)
        for room in self.rooms:
            by_building[room.building_id].append(room.pk)
        room_ids = {room.pk for room in self.rooms}
        closures = []
        for room_id, building_id, start, end in Closure.objects.filter(
            campus=self.campus, start__lt=self.end_utc, end__gt=self.first_utc
        ).values_list("room_id", "building_id", "start", "end"):
            targets = frozenset([room_id] if room_id is not None else by_building.get(building_id, [])) & room_ids
            if targets:
                closures.append((start, end, targets))
        return closures

    @functools.cached_property
    def _closed(self) -> dict[int, dict[dt.date, set[dt.datetime]]]:
        """Return, per room and day, the starts of slots within the hours that a closure overlaps."""
        closed: dict[int, dict[dt.date, set[dt.datetime]]] = defaultdict(lambda: defaultdict(set))
        for c_start, c_end, room_ids in self.closures:
            first = c_start.astimezone(self.zone).date()
            last = c_end.astimezone(self.zone).date()
            for day in self.days:
                if not first <= day <= last:
                    continue
                hit = {start for start in self._slots_by_day[day] if start < c_end and start + SLOT > c_start}
                for room_id in room_ids:
                    closed[room_id][day] |= hit
        return closed

    # --- counting ---------------------------------------------------------------------------------

    @functools.cached_property
    def _slots_by_day(self) -> dict[dt.date, list[dt.datetime]]:
        """Return the UTC starts of the slots within the hours that have ended, per local day."""
        ended_before = self.now - SLOT
        slots: dict[dt.date, list[dt.datetime]] = {}
        for day in self.days:
            slots[day] = [
                start
                for start, local in _day_slots(self.zone, day)
                if self.hours.holds(local) and start <= ended_before
            ]
        return slots

    @functools.cached_property
    def _hours_of_week_by_day(self) -> dict[dt.date, Counter]:
        return {
            day: Counter((s.astimezone(self.zone).isoweekday(), s.astimezone(self.zone).hour) for s in starts)
            for day, starts in self._slots_by_day.items()
        }

    def _closed_on(self, room_ids: list[int], day: dt.date) -> list[dt.datetime]:
        return [
            start for room_id in room_ids if room_id in self._closed for start in self._closed[room_id].get(day, ())
        ]

    def available(self) -> dict[int, int]:
        """Return the number of available slots per room id."""
        counts: dict[int, int] = {}
        for group in self.groups:
            per_day = sum(len(self._slots_by_day[day]) for day in group.days)
            for room_id in group.room_ids:
                closed = self._closed.get(room_id, {})
                counts[room_id] = per_day - sum(len(closed.get(day, ())) for day in group.days)
        return counts

    def available_by_day(self) -> dict[dt.date, int]:
        """Return the number of available slots per local day, summed over the rooms."""
        totals: dict[dt.date, int] = defaultdict(int)
        for group in self.groups:
            for day in group.days:
                totals[day] += len(group.room_ids) * len(self._slots_by_day[day]) - len(
                    self._closed_on(group.room_ids, day)
                )
        return totals

    def available_by_hour_of_week(self) -> dict[tuple[int, int], int]:
        """Return the number of available slots per (ISO weekday, local hour), summed over the rooms."""
        totals: Counter = Counter()
        for group in self.groups:
            for day in group.days:
                for key, n in self._hours_of_week_by_day[day].items():
                    totals[key] += n * len(group.room_ids)
                for start in self._closed_on(group.room_ids, day):
                    local = start.astimezone(self.zone)
                    totals[(local.isoweekday(), local.hour)] -= 1
        return dict(totals)

    # --- the same rule as a filter ------------------------------------------------------------------

    def slot_filter(self) -> Q:
        """Return the filter that keeps exactly the available slots' ``RoomSlot`` rows."""
        all_days = set(self.days)
        days = Q(pk__in=[]) if not self.groups else Q()
        for group in self.groups:
            # Name the days left out when they are fewer than those kept (the usual case: a few holidays).
            left_out = all_days - group.days
            if len(left_out) <= len(group.days):
                days |= Q(room_id__in=group.room_ids) & ~Q(local_date__in=sorted(left_out))
            else:
                days |= Q(room_id__in=group.room_ids, local_date__in=sorted(group.days))
        condition = (
            Q(campus=self.campus, start__gte=self.first_utc, start__lt=self.end_utc, start__lte=self.now - SLOT)
            & self.hours.q()
            & days
        )
        for c_start, c_end, room_ids in self.closures:
            condition &= ~Q(room_id__in=sorted(room_ids), start__gt=c_start - SLOT, start__lt=c_end)
        return condition


def opening_hours_filter(rooms: Iterable[Room]) -> Q:
    """Return a filter of ``RoomSlot`` rows inside their room's weekly opening hours (its own, else its building's)."""
    rooms = list(rooms)
    own: dict[int, list[OpeningHours]] = defaultdict(list)
    by_building: dict[int, list[OpeningHours]] = defaultdict(list)
    for hours in OpeningHours.objects.filter(Q(room__in=rooms) | Q(building__in={r.building_id for r in rooms})):
        if hours.room_id is not None:
            own[hours.room_id].append(hours)
        else:
            by_building[hours.building_id].append(hours)
    # Rooms with the same weekly hours (usually every room of a campus) share one condition.
    signatures: dict[tuple, list[int]] = defaultdict(list)
    for room in rooms:
        weekly = own[room.pk] if room.pk in own else by_building.get(room.building_id, [])
        signatures[tuple(sorted((h.weekday, h.opens, h.closes) for h in weekly))].append(room.pk)
    condition = Q(pk__in=[])
    for signature, room_ids in signatures.items():
        hours = Q(pk__in=[])
        for weekday, opens, closes in signature:
            hours |= Q(
                iso_weekday=weekday + 1,
                local_minute__gte=opens.hour * 60 + opens.minute,
                local_minute__lt=closes.hour * 60 + closes.minute,
            )
        condition |= Q(room_id__in=room_ids) & hours
    return condition
