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
from collections import defaultdict
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
        self.first_utc = dt.datetime.combine(period.first_day, dt.time(), tzinfo=self.zone).astimezone(dt.UTC)
        self.end_utc = dt.datetime.combine(
            period.last_day + dt.timedelta(days=1), dt.time(), tzinfo=self.zone
        ).astimezone(dt.UTC)
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
        by_key: dict[tuple[int, int | None], list[int]] = defaultdict(list)
        for room in self.rooms:
            by_key[(room.building_id, room.owner_id)].append(room.pk)
        all_days = set(self.days)
        groups = []
        for (building_id, owner_id), room_ids in by_key.items():
            open_days = all_days - holidays - closed[building_id]
            break_days = breaks[owner_id]
            if self.period.season == Season.TERM:
                days = open_days - break_days
            elif self.period.season == Season.BREAKS:
                days = open_days & break_days
            else:
                days = open_days
            groups.append(RoomDays(room_ids=room_ids, days=frozenset(days)))
        return groups

    def _closures(self) -> dict[int, list[tuple[dt.datetime, dt.datetime]]]:
        """Return each room's closures (its own and its building's) that overlap the period."""
        by_building: dict[int, list[int]] = defaultdict(list)
        for room in self.rooms:
            by_building[room.building_id].append(room.pk)
        room_ids = {room.pk for room in self.rooms}
        closures: dict[int, list[tuple[dt.datetime, dt.datetime]]] = defaultdict(list)
        for room_id, building_id, start, end in Closure.objects.filter(
            campus=self.campus, start__lt=self.end_utc, end__gt=self.first_utc
        ).values_list("room_id", "building_id", "start", "end"):
            targets = [room_id] if room_id is not None else by_building.get(building_id, [])
            for target in targets:
                if target in room_ids:
                    closures[target].append((start, end))
        return closures

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

    @staticmethod
    def _closed(start: dt.datetime, closures: list[tuple[dt.datetime, dt.datetime]]) -> bool:
        return any(start < c_end and start + SLOT > c_start for c_start, c_end in closures)

    def available(self) -> dict[int, int]:
        """Return the number of available slots per room id."""
        counts: dict[int, int] = {}
        for group in self.groups:
            per_day = sum(len(self._slots_by_day[day]) for day in group.days)
            for room_id in group.room_ids:
                closures = self.closures.get(room_id)
                if not closures:
                    counts[room_id] = per_day
                    continue
                counts[room_id] = sum(
                    1 for day in group.days for start in self._slots_by_day[day] if not self._closed(start, closures)
                )
        return counts

    def available_by_day(self) -> dict[dt.date, int]:
        """Return the number of available slots per local day, summed over the rooms."""
        totals: dict[dt.date, int] = defaultdict(int)
        for group in self.groups:
            for room_id in group.room_ids:
                closures = self.closures.get(room_id, [])
                for day in group.days:
                    starts = self._slots_by_day[day]
                    totals[day] += sum(1 for s in starts if not self._closed(s, closures)) if closures else len(starts)
        return totals

    def available_by_hour_of_week(self) -> dict[tuple[int, int], int]:
        """Return the number of available slots per (ISO weekday, local hour), summed over the rooms."""
        totals: dict[tuple[int, int], int] = defaultdict(int)
        zone = self.zone
        for group in self.groups:
            for room_id in group.room_ids:
                closures = self.closures.get(room_id, [])
                for day in group.days:
                    for start in self._slots_by_day[day]:
                        if closures and self._closed(start, closures):
                            continue
                        local = start.astimezone(zone)
                        totals[(local.isoweekday(), local.hour)] += 1
        return totals

    # --- the same rule as a filter ------------------------------------------------------------------

    def slot_filter(self) -> Q:
        """Return the filter that keeps exactly the available slots' ``RoomSlot`` rows."""
        days = Q()
        for group in self.groups:
            days |= Q(room_id__in=group.room_ids, local_date__in=sorted(group.days))
        if not self.groups:
            days = Q(pk__in=[])
        condition = (
            Q(campus=self.campus, start__gte=self.first_utc, start__lt=self.end_utc, start__lte=self.now - SLOT)
            & self.hours.q()
            & days
        )
        for room_id, closures in self.closures.items():
            for c_start, c_end in closures:
                condition &= ~Q(room_id=room_id, start__gt=c_start - SLOT, start__lt=c_end)
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
    # Rooms that share their hours (their building's) share one condition per weekday.
    sources: dict[tuple[str, int], list[int]] = defaultdict(list)
    for room in rooms:
        sources[("room", room.pk) if room.pk in own else ("building", room.building_id)].append(room.pk)
    condition = Q(pk__in=[])
    for (kind, key), room_ids in sources.items():
        for hours in own[key] if kind == "room" else by_building.get(key, []):
            condition |= Q(
                room_id__in=room_ids,
                iso_weekday=hours.weekday + 1,
                local_minute__gte=hours.opens.hour * 60 + hours.opens.minute,
                local_minute__lt=hours.closes.hour * 60 + hours.closes.minute,
            )
    return condition
