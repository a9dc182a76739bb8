"""When a room is open: weekly hours (the room's own, else its building's), dated exceptions, holidays."""

from __future__ import annotations

import datetime as dt
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

    def __init__(self, room: Room, first: dt.date, last: dt.date) -> None:
        self.room = room
        self.zone = room.building.campus.zone
        own = list(OpeningHours.objects.filter(room=room))
        weekly = own or list(OpeningHours.objects.filter(building_id=room.building_id))
        self.weekly = {hours.weekday: hours for hours in weekly}
        self.exceptions = {
            exception.date: exception
            for exception in OpeningHoursException.objects.filter(
                building_id=room.building_id, date__range=(first, last)
            )
        }
        self.holidays = {
            holiday.date: holiday.name
            for holiday in Holiday.objects.filter(campus_id=room.building.campus_id, date__range=(first, last))
        }

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
