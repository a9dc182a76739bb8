"""Bookings as iCalendar (RFC 5545): the calendar feeds and the "add to my calendar" download.

Encoding, escaping, line folding and the VTIMEZONE are the icalendar library's; this module only
decides what each component says (docs/ical.md explains the choices):

- A single booking is one VEVENT, UID ``booking-<id>@<domain>``.
- A series is one recurring VEVENT (UID ``series-<id>@<domain>``) with the stored RRULE from the
  series' first start, plus an override (same UID, RECURRENCE-ID) for each occurrence that differs
  from the series' usual look: moved, retitled, pending, or cancelled/released (STATUS:CANCELLED).
  EXDATE leaves out the rule's instances the feed does not hold: skipped, rejected, and those
  in another room or of another person than the feed's. A series is written whole, with all its
  exceptions, as soon as one of its occurrences is in the feed's window.
- Titles are what the viewer may see (``Viewer.display_title``); others read "Reserved".
- Times carry the campus zone (TZID plus its VTIMEZONE); SEQUENCE grows on every change
  (``Booking.sequence``, ``BookingSeries.sequence``); DTSTAMP is LAST-MODIFIED, the moment the
  booking last changed (RFC 5545 for objects without METHOD), so an unchanged feed is byte-identical.
"""

from __future__ import annotations

import datetime as dt
import functools
import zoneinfo
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from django.conf import settings
from django.utils.translation import gettext as _
from icalendar import Calendar, Event, Timezone, vDuration, vRecur

from bookings import recurrence
from bookings.errors import InvalidRecurrence
from bookings.models import ACTIVE_STATUSES, Booking, BookingSeries, BookingStatus
from bookings.visibility import Viewer

PRODID = "-//Kampus//Kampus room booking//EN"
# How often clients should fetch a feed again (RFC 7986 REFRESH-INTERVAL, and Outlook's X-PUBLISHED-TTL).
REFRESH_INTERVAL = dt.timedelta(hours=1)

STATUS = {
    BookingStatus.PENDING: "TENTATIVE",
    BookingStatus.CONFIRMED: "CONFIRMED",
    BookingStatus.CANCELLED: "CANCELLED",
    BookingStatus.RELEASED: "CANCELLED",
}
FEED_STATUSES = tuple(STATUS)  # rejected bookings never appear

Link = Callable[[Booking], str]


def uid_domain() -> str:
    return settings.KAMPUS_ICAL_UID_DOMAIN


def booking_uid(booking_id: int) -> str:
    return f"booking-{booking_id}@{uid_domain()}"


def series_uid(series_id: int) -> str:
    return f"series-{series_id}@{uid_domain()}"


def one_line(text: str) -> str:
    """Return ``text`` with its whitespace runs as single spaces (calendar names are one line)."""
    return " ".join(text.split())


@dataclass(frozen=True)
class _Look:
    """What one booking shows in a calendar, apart from its time."""

    summary: str
    location: str
    description: str
    status: str


def _location(booking: Booking) -> str:
    room = booking.room
    return ", ".join((room.label, room.building.name, room.building.campus.name))


def _look(booking: Booking, viewer: Viewer, link_line: str) -> _Look:
    """Return what ``booking`` shows ``viewer``; ``link_line`` ends the description (made once per series)."""
    sees_title = viewer.sees_title(booking)
    lines = [booking.description.strip()] if sees_title and booking.description.strip() else []
    if link_line:
        lines.append(link_line)
    return _Look(
        summary=viewer.display_title(booking),
        location=_location(booking),
        description="\n\n".join(lines),
        status=STATUS[booking.status],
    )


def _link_line(link: str) -> str:
    """Return the description's line pointing to the booking's page in Kampus."""
    return _("In Kampus: %(url)s") % {"url": link} if link else ""


def _event(
    *,
    uid: str,
    look: _Look,
    start: dt.datetime,
    end: dt.datetime,
    zone: zoneinfo.ZoneInfo,
    sequence: int,
    modified: dt.datetime,
    url: str,
) -> Event:
    event = Event.new(
        uid=uid,
        summary=look.summary,
        location=look.location,
        description=look.description or None,
        status=look.status,
        start=start.astimezone(zone),
        end=end.astimezone(zone),
        sequence=sequence,
        stamp=_utc(modified),
        last_modified=_utc(modified),
        url=url or None,
    )
    return event


def _utc(moment: dt.datetime) -> dt.datetime:
    return moment.astimezone(dt.UTC).replace(microsecond=0)


def single_event(booking: Booking, *, viewer: Viewer, link: str = "") -> Event:
    """Return the VEVENT of one booking on its own (a one-off booking, or one occurrence downloaded alone)."""
    return _event(
        uid=booking_uid(booking.pk),
        look=_look(booking, viewer, _link_line(link)),
        start=booking.start,
        end=booking.end,
        zone=booking.room.building.campus.zone,
        sequence=booking.sequence,
        modified=booking.updated_at,
        url=link,
    )


def series_events(
    series: BookingSeries, occurrences: Sequence[Booking], *, viewer: Viewer, link: str = ""
) -> list[Event]:
    """Return the recurring VEVENT of ``series`` and its overrides, holding exactly ``occurrences``.

    ``occurrences`` are the series' bookings the calendar shows (any status but rejected). The
    rule's other instances become EXDATEs. An occurrence that is not an instance of the stored rule
    (it cannot be described as an exception) is written as an event of its own.
    """
    zone = zoneinfo.ZoneInfo(series.time_zone)
    try:
        instances = recurrence.series_instances(rule=series.rrule, dtstart=series.dtstart, zone=zone)
    except InvalidRecurrence:
        instances = []
    instance_set = set(instances)
    # Should two bookings share an original start, the active one stands for it (the other goes loose).
    ordered = sorted(occurrences, key=lambda b: b.status in ACTIVE_STATUSES)
    by_instance = {b.recurrence_id: b for b in ordered if b.recurrence_id in instance_set}
    loose = [b for b in occurrences if b.recurrence_id not in instance_set or by_instance[b.recurrence_id] != b]
    events = [single_event(booking, viewer=viewer, link=link) for booking in loose]
    if not by_instance:
        return events
    length = recurrence.wall_duration(series.dtstart, series.dtend, zone)
    link_line = _link_line(link)
    looks = {b.pk: _look(b, viewer, link_line) for b in by_instance.values()}
    usual = _usual_look([looks[b.pk] for b in by_instance.values()])
    modified = max(b.updated_at for b in by_instance.values())
    master = _event(
        uid=series_uid(series.pk),
        look=usual,
        start=series.dtstart,
        end=series.dtend,
        zone=zone,
        sequence=series.sequence,
        modified=modified,
        url=link,
    )
    master.add("RRULE", vRecur.from_ical(series.rrule))
    excluded = [instance.astimezone(zone) for instance in instances if instance not in by_instance]
    if excluded:
        master.add("EXDATE", excluded)
    events.insert(0, master)
    for instance, booking in sorted(by_instance.items()):
        look = looks[booking.pk]
        expected_end = recurrence.add_wall_time(instance, length, zone)
        if look == usual and booking.start == instance and booking.end == expected_end:
            continue
        override = _event(
            uid=series_uid(series.pk),
            look=look,
            start=booking.start,
            end=booking.end,
            zone=zone,
            sequence=series.sequence,
            modified=booking.updated_at,
            url=link,
        )
        override.add("RECURRENCE-ID", instance.astimezone(zone))
        events.append(override)
    return events


def _usual_look(looks: Sequence[_Look]) -> _Look:
    """Return the look most occurrences share, preferring the active ones (the series' master says it)."""
    active = [look for look in looks if look.status != "CANCELLED"] or list(looks)
    counts = Counter(active)
    best = max(counts.values())
    return next(look for look in active if counts[look] == best)


def booking_events(bookings: Iterable[Booking], *, viewer: Viewer, link: Link | None = None) -> list[Event]:
    """Return the VEVENTs of ``bookings``: one-off bookings alone, a series' occurrences as their series.

    ``bookings`` need ``room__building__campus`` and ``series`` loaded; rejected ones are left out.
    """
    singles: list[Booking] = []
    by_series: dict[int, list[Booking]] = {}
    series_of: dict[int, BookingSeries] = {}
    for booking in bookings:
        if booking.status not in STATUS:
            continue
        if booking.series_id is None:
            singles.append(booking)
        else:
            by_series.setdefault(booking.series_id, []).append(booking)
            series_of[booking.series_id] = booking.series
    events = []
    for booking in singles:
        events.append(single_event(booking, viewer=viewer, link=link(booking) if link else ""))
    for series_id, occurrences in by_series.items():
        first = min(occurrences, key=lambda b: (b.start, b.pk))
        events.extend(series_events(series_of[series_id], occurrences, viewer=viewer, link=link(first) if link else ""))
    return events


def calendar(
    events: Sequence[Event], *, name: str | None, uid: str, method: str | None = None, refresh: bool = True
) -> Calendar:
    """Return a VCALENDAR of ``events`` with its name, refresh hints and the VTIMEZONEs its times use."""
    cal = Calendar.new(prodid=PRODID, uid=uid, method=method, name=one_line(name) if name else None)
    cal.add("CALSCALE", "GREGORIAN")
    if refresh:
        cal.add("REFRESH-INTERVAL", vDuration(REFRESH_INTERVAL), parameters={"VALUE": "DURATION"})
        cal.add("X-PUBLISHED-TTL", vDuration(REFRESH_INTERVAL))
    for event in events:
        cal.add_component(event)
    _add_time_zones(cal, events)
    return cal


def _add_time_zones(cal: Calendar, events: Sequence[Event]) -> None:
    """Put a VTIMEZONE for every zone the events use at the calendar's start, covering the years they span."""
    years: dict[str, tuple[int, int]] = {}
    for event in events:
        for name in ("DTSTART", "DTEND"):
            moment = event.decoded(name)
            key = getattr(moment.tzinfo, "key", None)
            if key is None:
                continue
            low, high = years.get(key, (moment.year, moment.year))
            years[key] = (min(low, moment.year), max(high, moment.year))
        if "RRULE" in event:
            until = event["RRULE"].get("UNTIL")
            key = getattr(event.decoded("DTSTART").tzinfo, "key", None)
            if key is not None:
                low, high = years[key]
                # A COUNT rule ends within MAX_DAYS_AHEAD of its start; an UNTIL one at UNTIL.
                end_year = until[0].year if until else event.decoded("DTSTART").year + 2
                years[key] = (low, max(high, end_year))
    for index, (key, (low, high)) in enumerate(sorted(years.items())):
        cal.subcomponents.insert(index, _time_zone(key, low, high))


@functools.lru_cache(maxsize=64)
def _time_zone(key: str, first_year: int, last_year: int) -> Timezone:
    """Return the VTIMEZONE of ``key`` for the years given (built once, shared read-only).

    icalendar lists an observance's later onsets in one multi-valued RDATE. Mozilla's ical.js
    (Thunderbird's parser) reads only the first value of each RDATE and, when there is an RDATE,
    not the DTSTART onset: every other year's summer time would be lost. The same onsets, each
    in an RDATE of its own and the DTSTART one repeated, mean the same under RFC 5545 and read
    right everywhere.
    """
    zone = Timezone.from_tzid(key, first_date=dt.date(first_year, 1, 1), last_date=dt.date(last_year + 1, 1, 1))
    for observance in zone.subcomponents:
        if "RDATE" not in observance:
            continue
        listed = observance["RDATE"] if isinstance(observance["RDATE"], list) else [observance["RDATE"]]
        onsets = [observance.decoded("DTSTART")] + [each.dt for rdate in listed for each in rdate.dts]
        del observance["RDATE"]
        for onset in sorted(set(onsets)):
            observance.add("RDATE", onset)
    return zone


def feed_ical(bookings: Iterable[Booking], *, viewer: Viewer, name: str, uid: str, link: Link | None = None) -> bytes:
    """Return a subscription feed of ``bookings`` as the viewer may see them."""
    events = booking_events(bookings, viewer=viewer, link=link)
    return calendar(events, name=name, uid=uid).to_ical()


def download_ical(events: Sequence[Event], *, uid: str) -> bytes:
    """Return an .ics file to import once ("add to my calendar"): METHOD:PUBLISH, no refresh hints.

    It has no calendar name: with one, Outlook opens the file as a calendar of its own instead of
    adding the event to the user's calendar.
    """
    return calendar(events, name=None, uid=uid, method="PUBLISH", refresh=False).to_ical()
