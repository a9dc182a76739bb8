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

The filters name rooms the short way (``rooms_filter``): the rooms kept, or the rooms left out of
those the rows are already limited to, whichever are fewer. A campus's report then names only its
divisible halls, and PostgreSQL reads the period's rows in one sequential pass instead of probing
an index room by room.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections import Counter, defaultdict
from collections.abc import Collection, Iterable
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
        weekdays = sorted(self.iso_weekdays)
        # A run of weekdays (Monday to Friday) is a range: two comparisons instead of a list for every row.
        if weekdays and weekdays == list(range(weekdays[0], weekdays[-1] + 1)):
            days = (
                Q(iso_weekday__gte=weekdays[0], iso_weekday__lte=weekdays[-1])
                if len(weekdays) > 1
                else Q(iso_weekday=weekdays[0])
            )
        else:
            days = Q(iso_weekday__in=weekdays)
        # The minutes first: they leave out most rows, so PostgreSQL rarely evaluates the rest.
        return Q(local_minute__gte=self.start_minute, local_minute__lt=self.end_minute) & days

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


def rooms_filter(room_ids: Iterable[int], *, among: Collection[int]) -> Q:
    """Return a filter keeping the rows of ``room_ids`` out of rows already limited to the rooms ``among``.

    It names the rooms kept or the other rooms of ``among``, whichever are fewer, and nothing when it
    keeps them all.
    """
    among = set(among)
    kept = set(room_ids) & among
    left_out = among - kept
    if not left_out:
        return Q()
    if len(left_out) < len(kept):
        return ~Q(room_id__in=sorted(left_out))
    return Q(room_id__in=sorted(kept))


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
        self.room_ids = {room.pk for room in self.rooms}
        # ``RoomSlot.campus`` is its room's campus (the rollup writes it so): a filter on the campus limits the
        # rows to these rooms, and naming those of them a report leaves out is enough (``rows_filter``).
        self.campus_room_ids = set(Room.objects.filter(building__campus=campus).values_list("pk", flat=True))
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
        return self.rows_filter() & self.available_filter()

    def rows_filter(self) -> Q:
        """Return the filter of the rooms' ``RoomSlot`` rows of the period that have ended, at any hour."""
        return Q(
            rooms_filter(self.room_ids, among=self.campus_room_ids),
            campus=self.campus,
            start__gte=self.first_utc,
            start__lt=self.end_utc,
            start__lte=self.now - SLOT,
        )

    def available_filter(self) -> Q:
        """Return the filter that keeps the available slots out of the rows ``rows_filter`` keeps."""
        if not self.groups:
            return Q(pk__in=[])
        condition = self.hours.q() & self.days_filter()
        for c_start, c_end, room_ids in self.closures:
            # The times first: most rows are outside them, so the rooms are rarely looked up.
            condition &= ~(Q(start__gt=c_start - SLOT, start__lt=c_end) & rooms_filter(room_ids, among=self.room_ids))
        return condition

    def days_filter(self) -> Q:
        """Return the filter of the rows (``RoomSlot`` or ``RoomDay``) of days that count for their room."""
        if not self.groups:
            return Q(pk__in=[])
        all_days = set(self.days)
        left_out = [all_days - group.days for group in self.groups]
        if all(len(days) <= len(group.days) for days, group in zip(left_out, self.groups, strict=True)):
            # Name the days left out (the usual case: a few holidays): those of every group once, then each
            # group's own (a day its building is closed, its school year's breaks) with its rooms.
            everyones = set.intersection(*left_out)
            condition = ~Q(local_date__in=sorted(everyones))
            for days, group in zip(left_out, self.groups, strict=True):
                if days - everyones:
                    condition &= ~(
                        Q(local_date__in=sorted(days - everyones)) & rooms_filter(group.room_ids, among=self.room_ids)
                    )
            return condition
        # Some group keeps fewer days than it leaves out (the breaks alone): name the days kept.
        condition = Q(pk__in=[])
        for group in self.groups:
            condition |= rooms_filter(group.room_ids, among=self.room_ids) & Q(local_date__in=sorted(group.days))
        return condition

    # --- where room days serve ------------------------------------------------------------------------

    def day_rows_filter(self) -> Q:
        """Return the filter of the rooms' ``RoomDay`` rows of the period (``rows_filter`` for days)."""
        return Q(
            rooms_filter(self.room_ids, among=self.campus_room_ids),
            campus=self.campus,
            local_date__gte=self.period.first_day,
            local_date__lte=self.period.last_day,
        )

    def _partial_days(self) -> list[tuple[dt.date, dt.date, Q]]:
        """Return the runs of days whose available slots are not whole days: from today on (slots not yet ended)
        and the days of a closure (it may close part of a day), each with the filter of its rooms."""
        today = self.now.astimezone(self.zone).date()
        runs = [(today, self.period.last_day, Q())] if today <= self.period.last_day else []
        for c_start, c_end, room_ids in self.closures:
            first = (c_start - SLOT).astimezone(self.zone).date()
            last = c_end.astimezone(self.zone).date()
            runs.append((first, last, rooms_filter(room_ids, among=self.room_ids)))
        return runs

    def partial_days_filter(self) -> Q:
        """Return the filter of the ``RoomDay`` rows of the days room days cannot serve (``_partial_days``)."""
        condition = Q(pk__in=[])
        for first, last, rooms in self._partial_days():
            condition |= Q(local_date__gte=first, local_date__lte=last) & rooms
        return condition

    def partial_slots_filter(self) -> Q:
        """Return the same days as ``partial_days_filter`` as a filter of ``RoomSlot`` rows by their start (which
        the index on campus and start serves)."""
        condition = Q(pk__in=[])
        for first, last, rooms in self._partial_days():
            start = dt.datetime.combine(first, dt.time(), tzinfo=self.zone).astimezone(dt.UTC)
            end = dt.datetime.combine(last + dt.timedelta(days=1), dt.time(), tzinfo=self.zone).astimezone(dt.UTC)
            condition |= Q(start__gte=start, start__lt=end) & rooms
        return condition


def opening_hours_filter(rooms: Iterable[Room], *, among: Collection[int]) -> Q:
    """Return a filter of ``RoomSlot`` rows inside their room's weekly opening hours (its own, else its building's),
    out of rows already limited to the rooms ``among`` (which include ``rooms``)."""
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
        # One condition per opening and closing time (Monday to Friday 07:00–21:30 is one), not per weekday.
        weekdays_by_time: dict[tuple[dt.time, dt.time], list[int]] = defaultdict(list)
        for weekday, opens, closes in signature:
            weekdays_by_time[(opens, closes)].append(weekday + 1)
        hours = Q(pk__in=[])
        for (opens, closes), iso_weekdays in weekdays_by_time.items():
            hours |= Hours(
                frozenset(iso_weekdays), opens.hour * 60 + opens.minute, closes.hour * 60 + closes.minute
            ).q()
        condition |= rooms_filter(room_ids, among=among) & hours
    return condition
