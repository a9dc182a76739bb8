"""When a room is open: weekly hours (the room's own, else its building's), dated exceptions, holidays."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass

from django.utils.translation import gettext as _

from campus.models import Holiday, OpeningHours, OpeningHoursException, Room


@dataclass(frozen=True)
class OpenDay:
    """A room's opening on one local date: ``interval`` is None when closed, with ``closed_reason``."""

    date: dt.date
    interval: tuple[dt.datetime, dt.datetime] | None
    closed_reason: str = ""


class OpeningCalendar:
    """Opening hours of one room over a range of local dates, loaded with a handful of queries."""

    def __init__(
        self,
        room: Room,
        first: dt.date,
        last: dt.date,
        *,
        weekly: list[OpeningHours] | None = None,
        exceptions: list[OpeningHoursException] | None = None,
        holidays: list[Holiday] | None = None,
    ) -> None:
        """Load the calendar of ``room``; ``opening_calendars`` passes preloaded rows for many rooms."""
        self.room = room
        self.zone = room.building.campus.zone
        if weekly is None:
            own = list(OpeningHours.objects.filter(room=room))
            weekly = own or list(OpeningHours.objects.filter(building_id=room.building_id))
        if exceptions is None:
            exceptions = list(
                OpeningHoursException.objects.filter(building_id=room.building_id, date__range=(first, last))
            )
        if holidays is None:
            holidays = list(Holiday.objects.filter(campus_id=room.building.campus_id, date__range=(first, last)))
        self.weekly = {hours.weekday: hours for hours in weekly}
        self.exceptions = {exception.date: exception for exception in exceptions}
        self.holidays = {holiday.date: holiday.name for holiday in holidays}

    def day(self, date: dt.date) -> OpenDay:
        """Return the opening of ``date`` (local)."""
        if date in self.holidays:
            return OpenDay(date, None, _("holiday: %(name)s") % {"name": self.holidays[date]})
        exception = self.exceptions.get(date)
        if exception is not None:
            if exception.closed:
                return OpenDay(date, None, _("closed: %(reason)s") % {"reason": exception.reason or _("exception")})
            opens, closes = exception.opens, exception.closes
        else:
            hours = self.weekly.get(date.weekday())
            if hours is None:
                return OpenDay(date, None, _("closed on this weekday"))
            opens, closes = hours.opens, hours.closes
        return OpenDay(
            date,
            (
                dt.datetime.combine(date, opens, tzinfo=self.zone),
                dt.datetime.combine(date, closes, tzinfo=self.zone),
            ),
        )

    def refusal(self, start: dt.datetime, end: dt.datetime) -> str | None:
        """Return why [start, end) is not inside opening hours, or None when it is."""
        local_start = start.astimezone(self.zone)
        local_end = end.astimezone(self.zone)
        day = self.day(local_start.date())
        if day.interval is None:
            return day.closed_reason
        opens, closes = day.interval
        if local_start < opens or local_end > closes:
            return _("outside opening hours %(opens)s–%(closes)s") % {
                "opens": opens.strftime("%H:%M"),
                "closes": closes.strftime("%H:%M"),
            }
        return None


def opening_calendar(room: Room, start: dt.datetime, end: dt.datetime) -> OpeningCalendar:
    """Return the opening calendar of ``room`` covering the local dates of [start, end]."""
    zone = room.building.campus.zone
    return OpeningCalendar(room, start.astimezone(zone).date(), end.astimezone(zone).date())


def opening_calendars(rooms: list[Room], start: dt.datetime, end: dt.datetime) -> dict[int, OpeningCalendar]:
    """Return the opening calendars of many rooms (one campus zone each) in four queries, by room id."""
    if not rooms:
        return {}
    zones = {room.building.campus.time_zone: room.building.campus.zone for room in rooms}
    first = min(start.astimezone(zone).date() for zone in zones.values())
    last = max(end.astimezone(zone).date() for zone in zones.values())
    room_ids = [room.pk for room in rooms]
    building_ids = {room.building_id for room in rooms}
    campus_ids = {room.building.campus_id for room in rooms}
    hours = list(OpeningHours.objects.filter(room_id__in=room_ids)) + list(
        OpeningHours.objects.filter(building_id__in=building_ids)
    )
    exceptions = list(OpeningHoursException.objects.filter(building_id__in=building_ids, date__range=(first, last)))
    holidays = list(Holiday.objects.filter(campus_id__in=campus_ids, date__range=(first, last)))
    # Grouped once: a search asks for a thousand rooms' calendars, and each room scanning every
    # row took longer than the queries.
    own_hours: dict[int, list[OpeningHours]] = defaultdict(list)
    building_hours: dict[int, list[OpeningHours]] = defaultdict(list)
    for row in hours:
        if row.room_id is not None:
            own_hours[row.room_id].append(row)
        else:
            building_hours[row.building_id].append(row)
    exceptions_of: dict[int, list[OpeningHoursException]] = defaultdict(list)
    for exception in exceptions:
        exceptions_of[exception.building_id].append(exception)
    holidays_of: dict[int, list[Holiday]] = defaultdict(list)
    for holiday in holidays:
        holidays_of[holiday.campus_id].append(holiday)
    calendars = {}
    for room in rooms:
        calendars[room.pk] = OpeningCalendar(
            room,
            first,
            last,
            weekly=own_hours.get(room.pk) or building_hours.get(room.building_id, []),
            exceptions=exceptions_of.get(room.building_id, []),
            holidays=holidays_of.get(room.building.campus_id, []),
        )
    return calendars
