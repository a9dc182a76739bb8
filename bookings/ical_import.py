"""Read an iCalendar (.ics) file into the events a timetable import would book; nothing here writes.

``read_events`` turns the bytes of a file into ``CalendarEvent``s, or raises ``IcalFileRefused``
saying what is wrong with the file as a whole: too large, not UTF-8, not iCalendar, no events, too
many events. A problem of one event (no start, a date that does not exist, a time zone nobody
knows) stays on that event, so that the import's preview lists it beside the others; the
planning and the booking are ``bookings.services.importing``.

Times: a time with a TZID (an IANA name, a Windows name icalendar knows, or one the file defines
in a VTIMEZONE) or in UTC is taken as it is; a floating time (no zone) is read in the campus's
zone. All-day events (dates without times) are marked so; the import leaves them out. Attendees,
organisers, alarms and every other property are not read.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from dataclasses import dataclass, field
from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from icalendar import Calendar

from bookings import recurrence
from campus.dates import FIRST_YEAR, LAST_YEAR, within_years
from campus.exceptions import InvalidInput

# A room's timetable exported as repeating events is far below these. A file of single lessons of a
# whole term may not be: each event is one booking request, checked in about 20–50 ms, and a page
# must answer within the web server's timeout (docs/performance.md).
MAX_FILE_BYTES = 2 * 1024 * 1024
MAX_EVENTS = 500

TITLE_MAX = 200
DESCRIPTION_MAX = 5000

# Properties whose broken value makes the event unreadable (a broken ATTENDEE does not matter).
_TIME_PROPERTIES = ("DTSTART", "DTEND", "DURATION", "RRULE", "EXDATE", "RDATE", "RECURRENCE-ID")


class IcalFileRefused(InvalidInput):
    """The file as a whole cannot be imported; nothing was booked. ``errors`` names the field ``file``."""

    code = "invalid_ical"

    def __init__(self, message: str, *, code: str = "invalid_ical") -> None:
        super().__init__(message, errors=[{"field": "file", "message": message}], code=code)


@dataclass
class CalendarEvent:
    """One VEVENT as the import reads it; ``problem`` says why it cannot be booked ("" if it can).

    ``start`` and ``end`` are aware, in the zone the file gives them in (``zone``), or None when
    unreadable. ``exdates`` hold aware datetimes or, for VALUE=DATE, dates; ``rdates`` hold
    (start, end) pairs, end None for a DATE-TIME that takes the event's length, or a date for an
    all-day extra date.
    """

    number: int
    uid: str = ""
    title: str = ""
    description: str = ""
    location: str = ""
    start: dt.datetime | None = None
    end: dt.datetime | None = None
    zone: dt.tzinfo | None = None
    all_day: bool = False
    rrule: str = ""
    exdates: list[dt.datetime | dt.date] = field(default_factory=list)
    rdates: list[tuple[dt.datetime | dt.date, dt.datetime | None]] = field(default_factory=list)
    recurrence_id: dt.datetime | dt.date | None = None
    this_and_future: bool = False
    cancelled: bool = False
    problem: str = ""

    @property
    def label(self) -> str:
        """Return how messages name the event: its title and its place in the file."""
        return _("“%(title)s” (event %(number)d of the file)") % {
            "title": self.title or _("(no title)"),
            "number": self.number,
        }


def decode_calendar_text(content: bytes) -> str:
    """Return the text of an uploaded calendar file; refuse one too large, not UTF-8 or holding NUL characters."""
    if len(content) > MAX_FILE_BYTES:
        raise file_too_large()
    if not content.strip():
        raise IcalFileRefused(_("The file is empty."), code="empty_file")
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise IcalFileRefused(
            _(
                "The file is not UTF-8 text, as iCalendar files are (byte %(position)d cannot be read). "
                "Export the calendar again, or save the file as UTF-8."
            )
            % {"position": error.start + 1},
            code="not_utf8",
        ) from None
    if "\x00" in text:
        raise IcalFileRefused(
            _("The file contains NUL characters (\\x00): it is not a text calendar file."), code="not_ical"
        )
    return text


def file_too_large() -> IcalFileRefused:
    return IcalFileRefused(
        _("The file is larger than %(size)s MB; import the timetable in smaller parts (e.g. one room or one term).")
        % {"size": MAX_FILE_BYTES // (1024 * 1024)},
        code="file_too_large",
    )


def read_events(content: bytes, *, zone: zoneinfo.ZoneInfo) -> list[CalendarEvent]:
    """Return the VEVENTs of the iCalendar file ``content``, floating times read in ``zone``.

    Raises IcalFileRefused when the file as a whole cannot be read; an event's own problem is kept
    in its ``problem``.
    """
    text = decode_calendar_text(content)
    if not text.lstrip().upper().startswith("BEGIN:VCALENDAR"):
        raise not_icalendar(_("it does not begin with BEGIN:VCALENDAR"))
    # Counted before parsing, so that a file of many tiny events is refused before it costs anything.
    count = text.upper().count("BEGIN:VEVENT")
    if count > MAX_EVENTS:
        raise too_many_events(count)
    try:
        components = Calendar.from_ical(text, multiple=True)
    except (ValueError, KeyError, IndexError, TypeError, RecursionError) as error:
        raise not_icalendar(_short(str(error))) from None
    calendars = [component for component in components if component.name == "VCALENDAR"]
    if not calendars:
        raise not_icalendar(_("it holds no complete calendar (BEGIN:VCALENDAR … END:VCALENDAR)"))
    vevents = [event for calendar in calendars for event in calendar.walk("VEVENT")]
    if not vevents:
        raise IcalFileRefused(_("The file holds no events (VEVENT), so there is nothing to import."), code="no_events")
    if len(vevents) > MAX_EVENTS:
        raise too_many_events(len(vevents))
    return [_read_event(vevent, number, zone) for number, vevent in enumerate(vevents, start=1)]


def not_icalendar(reason: str) -> IcalFileRefused:
    return IcalFileRefused(
        _("The file is not an iCalendar (.ics) file: %(reason)s.") % {"reason": reason}, code="not_ical"
    )


def too_many_events(count: int) -> IcalFileRefused:
    return IcalFileRefused(
        ngettext(
            "The file holds %(count)d event; at most %(max)d can be imported at once. Import it in smaller parts.",
            "The file holds %(count)d events; at most %(max)d can be imported at once. Import it in smaller parts.",
            count,
        )
        % {"count": count, "max": MAX_EVENTS},
        code="too_many_events",
    )


def _short(text: str, limit: int = 160) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


class _EventProblem(Exception):
    """Why one event cannot be read; caught in ``_read_event`` and kept on the event."""


def _read_event(vevent: Any, number: int, zone: zoneinfo.ZoneInfo) -> CalendarEvent:
    event = CalendarEvent(number=number)
    event.uid = _text(vevent.get("UID"))
    event.title = _clip(_text(vevent.get("SUMMARY")).strip(), TITLE_MAX)
    event.description = _clip(_text(vevent.get("DESCRIPTION")).strip(), DESCRIPTION_MAX)
    event.location = _clip(_text(vevent.get("LOCATION")).strip(), TITLE_MAX)
    event.cancelled = _text(vevent.get("STATUS")).strip().upper() == "CANCELLED"
    try:
        _read_times(event, vevent, zone)
    except _EventProblem as problem:
        event.problem = str(problem)
    return event


def _read_times(event: CalendarEvent, vevent: Any, zone: zoneinfo.ZoneInfo) -> None:
    broken = [(name, message) for name, message in vevent.errors if name in _TIME_PROPERTIES]
    if broken:
        name, message = broken[0]
        raise _EventProblem(
            _("%(property)s cannot be read: %(error)s") % {"property": name, "error": _short(str(message))}
        )
    start_property = _single(vevent, "DTSTART")
    if start_property is None:
        raise _EventProblem(_("It has no start (DTSTART)."))
    start = _moment(start_property, "DTSTART", zone)
    if not isinstance(start, dt.datetime):
        event.all_day = True
        return
    event.start = start
    event.zone = start.tzinfo

    end_property = _single(vevent, "DTEND")
    duration_property = _single(vevent, "DURATION")
    if end_property is not None and duration_property is not None:
        raise _EventProblem(_("It gives both DTEND and DURATION; give one of them."))
    if end_property is not None:
        end = _moment(end_property, "DTEND", zone, like=start)
        if not isinstance(end, dt.datetime):
            raise _EventProblem(_("Its start has a time but its end (DTEND) is a date; give both with times."))
    elif duration_property is not None:
        duration = duration_property.dt
        if not isinstance(duration, dt.timedelta):
            raise _EventProblem(_("DURATION cannot be read."))
        end = _after(start, duration)
    else:
        raise _EventProblem(_("It has no end (DTEND or DURATION)."))
    if end <= start:
        raise _EventProblem(_("It ends (DTEND) before it starts or when it starts."))
    event.end = end

    rrule = _single(vevent, "RRULE")
    if rrule is not None:
        event.rrule = rrule.to_ical().decode("utf-8", "replace")
    event.exdates = [value for value, _end in _date_list(vevent, "EXDATE", zone, like=start)]
    event.rdates = _date_list(vevent, "RDATE", zone, like=start)
    recurrence_id = _single(vevent, "RECURRENCE-ID")
    if recurrence_id is not None:
        event.recurrence_id = _moment(recurrence_id, "RECURRENCE-ID", zone, like=start)
        event.this_and_future = str(recurrence_id.params.get("RANGE", "")).upper() == "THISANDFUTURE"


def _single(vevent: Any, name: str) -> Any:
    value = vevent.get(name)
    if isinstance(value, list):
        raise _EventProblem(_("%(property)s is given more than once.") % {"property": name})
    return value


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, list):
        value = value[0] if value else ""
    return str(value)


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _moment(prop: Any, name: str, zone: zoneinfo.ZoneInfo, *, like: dt.datetime | None = None) -> dt.datetime | dt.date:
    """Return the aware datetime (or the date) of a DTSTART-like property; floating times in the event's zone."""
    return _value(prop.dt, name, zone, tzid=prop.params.get("TZID"), like=like)


def _value(
    value: Any, name: str, zone: zoneinfo.ZoneInfo, *, tzid: str | None, like: dt.datetime | None
) -> dt.datetime | dt.date:
    if not isinstance(value, dt.date):
        raise _EventProblem(_("%(property)s cannot be read.") % {"property": name})
    if not within_years(value):
        raise _EventProblem(
            _("%(property)s is not between %(first)d and %(last)d.")
            % {"property": name, "first": FIRST_YEAR, "last": LAST_YEAR}
        )
    if not isinstance(value, dt.datetime):
        return value
    if value.tzinfo is not None:
        return value
    if tzid:
        # icalendar leaves a time naive when it knows no zone of that name and the file defines none.
        raise _EventProblem(
            _(
                "The time zone “%(zone)s” of %(property)s is unknown: the file does not define it (VTIMEZONE) "
                "and it is not a known zone name."
            )
            % {"zone": _short(str(tzid), 60), "property": name}
        )
    # A floating time: in the event's own zone (its start's), else the campus's.
    local_zone = like.tzinfo if like is not None and like.tzinfo is not None else zone
    moment = value.replace(tzinfo=local_zone)
    if isinstance(local_zone, zoneinfo.ZoneInfo):
        problem = recurrence.wall_time_problem(moment, local_zone)
        if problem is not None:
            raise _EventProblem(_("%(property)s: %(problem)s") % {"property": name, "problem": problem})
    return moment


def _after(start: dt.datetime, duration: dt.timedelta) -> dt.datetime:
    """Return ``start`` plus an iCalendar DURATION: whole days by the calendar, the rest exactly (RFC 5545)."""
    days = dt.timedelta(days=duration.days)
    on_the_day = start + days  # wall-clock arithmetic in the start's zone
    return (on_the_day.astimezone(dt.UTC) + (duration - days)).astimezone(start.tzinfo)


def _date_list(
    vevent: Any, name: str, zone: zoneinfo.ZoneInfo, *, like: dt.datetime
) -> list[tuple[dt.datetime | dt.date, dt.datetime | None]]:
    """Return the values of every EXDATE or RDATE line as (moment or date, end or None) pairs."""
    found = vevent.get(name)
    if found is None:
        return []
    lines = found if isinstance(found, list) else [found]
    values: list[tuple[dt.datetime | dt.date, dt.datetime | None]] = []
    for line in lines:
        tzid = line.params.get("TZID")
        for item in getattr(line, "dts", []):
            value = item.dt
            if isinstance(value, tuple):  # a PERIOD: (start, end) or (start, duration)
                start = _value(value[0], name, zone, tzid=tzid, like=like)
                if not isinstance(start, dt.datetime):
                    raise _EventProblem(_("%(property)s cannot be read.") % {"property": name})
                until = value[1]
                if isinstance(until, dt.timedelta):
                    end = _after(start, until)
                else:
                    end = _value(until, name, zone, tzid=tzid, like=like)
                if not isinstance(end, dt.datetime) or end <= start:
                    raise _EventProblem(_("%(property)s cannot be read.") % {"property": name})
                values.append((start, end))
            else:
                values.append((_value(value, name, zone, tzid=tzid, like=like), None))
    return values
