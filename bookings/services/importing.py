"""Timetable import from an iCalendar file: plan every event as a booking request, then book all or nothing.

``ical_import_plan`` is the dry run: it reads the file (``bookings.ical_import``), turns each
VEVENT into one booking request — a one-off booking, or a series for an RRULE — and asks the
engine's own dry run (``booking_dry_run``) about each, so that every rule, closure and clash is
checked as for any booking. Two things one request cannot see are checked across the file: its
events clashing with each other, and the booker's quota of active bookings filling up. Nothing
is written or locked.

``ical_import_commit`` reads the same file into the same requests and books them one after another
with ``booking_create`` in one transaction, which makes every check of the dry run again (the
file's earlier bookings are in the database by then, so clashes inside the file and the quota
count alike): one refusal books nothing, and the full dry run then says why.

How events map to bookings:
- The room and the institution are the import's, not the file's: LOCATION is only shown. The booker
  is the importing person; attendees, organisers and alarms are not copied.
- A repeating event (RRULE with COUNT or UNTIL; EXDATE honoured) becomes one series. Its dates that
  are already past are left out (the series starts at its first date ahead). An endless RRULE is
  refused. RDATE dates become one-off bookings of the event's length; an occurrence the file moves
  or cancels (a VEVENT with RECURRENCE-ID) is left out of the series and booked where it was moved to.
- Left out with the reason shown, without stopping the import: all-day events (Kampus books rooms by
  the hour), events cancelled in the calendar (STATUS:CANCELLED) and events that are over.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, NoReturn

from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from bookings import permissions, recurrence, rules
from bookings.errors import InvalidRecurrence, SlotTaken
from bookings.ical_import import MAX_EVENTS, CalendarEvent, IcalFileRefused, read_events, too_many_events
from bookings.models import BookingStatus
from bookings.parts import blocked_until
from bookings.permissions import resolve_institution
from bookings.services.creating import BookingResult, booking_create, booking_dry_run
from campus.exceptions import KampusError
from campus.models import Institution, Role, Room, User
from campus.permissions import valid_memberships

# One import books at most this many dates in all (a year of a busy room's lessons is about 1,500).
MAX_OCCURRENCES = 5000
# How far a repeating event is followed from its first date, past dates included, before giving up.
MAX_EXPANSION = 5000


class Kind:
    """What a row of the import books."""

    SINGLE = "single"
    SERIES = "series"
    EXTRA_DATE = "extra_date"
    MOVED = "moved"


class Outcome:
    BOOK = "book"
    LEFT_OUT = "left_out"
    REFUSED = "refused"


@dataclass
class ImportRow:
    """One booking request of the import (or an event left out or refused), as the preview lists it.

    ``start``/``end`` are the first occurrence's, in the campus zone. After the dry run ``result``
    holds the unsaved bookings (and what the engine skips); after the commit, the saved ones.
    """

    event: CalendarEvent
    kind: str
    outcome: str = Outcome.BOOK
    start: dt.datetime | None = None
    end: dt.datetime | None = None
    rrule: str = ""
    exdates: list[dt.datetime] = field(default_factory=list)
    message: str = ""
    code: str = ""
    rule: str | None = None
    allowed: Any = None
    can_override: bool = False
    conflicts: list[dict[str, Any]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    result: BookingResult | None = None
    # The starts (UTC) the file's own rule gives, to check that Kampus repeats the series alike.
    expected_starts: list[dt.datetime] = field(default_factory=list)

    @property
    def title(self) -> str:
        return self.event.title or _("Imported event")

    @property
    def is_refused(self) -> bool:
        return self.outcome == Outcome.REFUSED

    @property
    def pending(self) -> bool:
        return bool(self.result and self.result.bookings and self.result.bookings[0].status == BookingStatus.PENDING)

    @property
    def repeat_label(self) -> str:
        return recurrence.repeat_label(self.rrule) if self.rrule else ""

    def refuse(self, message: str, code: str, **details: Any) -> None:
        self.outcome = Outcome.REFUSED
        self.message = message
        self.code = code
        self.rule = details.get("rule")
        self.allowed = details.get("allowed")
        self.can_override = bool(details.get("can_override"))

    def refuse_for(self, error: KampusError) -> None:
        """Refuse this row for the engine's ``error``, keeping what it says (clashes, the rule, what is allowed)."""
        self.refuse(
            error.message,
            error.code,
            rule=getattr(error, "rule", None),
            allowed=getattr(error, "allowed", None),
            can_override=error.extra.get("can_override"),
        )
        if isinstance(error, SlotTaken):
            self.conflicts = list(error.conflicts)
        for entry in error.extra.get("errors") or []:
            if entry.get("message") and entry["message"] != error.message:
                self.notes.append(str(entry["message"]))

    def leave_out(self, message: str, code: str) -> None:
        self.outcome = Outcome.LEFT_OUT
        self.message = message
        self.code = code


@dataclass
class IcalImportPlan:
    """The dry run of an import (or, once ``committed``, what it booked), row by row in booking order."""

    room: Room
    institution: Institution | None
    booked_by: User
    rows: list[ImportRow]
    override_reason: str = ""
    committed: bool = False

    @property
    def to_book(self) -> list[ImportRow]:
        return [row for row in self.rows if row.outcome == Outcome.BOOK]

    @property
    def refused(self) -> list[ImportRow]:
        return [row for row in self.rows if row.outcome == Outcome.REFUSED]

    @property
    def left_out(self) -> list[ImportRow]:
        return [row for row in self.rows if row.outcome == Outcome.LEFT_OUT]

    @property
    def can_commit(self) -> bool:
        return bool(self.to_book) and not self.refused

    @property
    def occurrence_count(self) -> int:
        return sum(len(row.result.bookings) for row in self.to_book if row.result is not None)

    @property
    def series_count(self) -> int:
        return sum(1 for row in self.to_book if row.kind == Kind.SERIES)

    @property
    def conflicts(self) -> list[dict[str, Any]]:
        return [{**conflict, "event": row.event.number} for row in self.refused for conflict in row.conflicts]


class IcalImportRefused(KampusError):
    """Some event of the file cannot be booked (or none can), so nothing was booked; ``plan`` says why.

    409 when every refusal is a clash, else 422. ``errors`` name each refused event as
    ``events.<number in the file>``; ``conflicts`` list every clash with the event it belongs to.
    """

    code = "import_refused"
    http_status = 422

    def __init__(self, plan: IcalImportPlan) -> None:
        refused = plan.refused
        if refused:
            message = ngettext(
                "%(count)d event of the file cannot be booked; nothing was imported.",
                "%(count)d events of the file cannot be booked; nothing was imported.",
                len(refused),
            ) % {"count": len(refused)}
            code = "import_refused"
        else:
            message = _("None of the file's events can be booked; nothing was imported.")
            code = "nothing_to_import"
        super().__init__(
            message,
            code=code,
            errors=[
                {"field": f"events.{row.event.number}", "message": f"{row.event.label}: {row.message}"}
                for row in refused
            ],
            conflicts=plan.conflicts,
        )
        self.plan = plan
        if refused and all(row.code == SlotTaken.code for row in refused):
            self.http_status = SlotTaken.http_status


def ical_import_plan(
    *,
    content: bytes,
    room: Room,
    booked_by: User,
    institution: Institution | None = None,
    override_reason: str = "",
    now: dt.datetime | None = None,
) -> IcalImportPlan:
    """Return what importing the iCalendar file ``content`` into ``room`` would book; write and lock nothing.

    Raises PermissionDenied for someone who does not keep the room, IcalFileRefused for a file that
    cannot be read as a whole, and the engine's errors about the institution; every event's own
    problem (a broken rule, a clash, a bad date) is on its row.
    """
    now = now or timezone.now()
    plan = _prepare(
        content, room=room, booked_by=booked_by, institution=institution, override_reason=override_reason, now=now
    )
    _check(plan, now=now)
    return plan


def ical_import_commit(
    *,
    content: bytes,
    room: Room,
    booked_by: User,
    institution: Institution | None = None,
    override_reason: str = "",
    now: dt.datetime | None = None,
) -> IcalImportPlan:
    """Import the iCalendar file ``content`` into ``room``: every booking of the plan, or none.

    Books the plan's requests one after another in one transaction with ``booking_create``, which
    checks each as the dry run does (the file's earlier bookings are then in the database, so
    clashes inside the file and the quota count as in the dry run). On the first refusal everything
    is rolled back and the whole dry run is made, so that IcalImportRefused lists every problem.
    """
    now = now or timezone.now()
    options = {"room": room, "booked_by": booked_by, "institution": institution, "override_reason": override_reason}
    plan = _prepare(content, **options, now=now)
    for row in plan.to_book:
        if row.kind == Kind.SERIES and not _repeats_alike(plan, row, now=now):
            return _refuse_all(content, options, now=now)
    if not plan.to_book or plan.refused:
        return _refuse_all(content, options, now=now)
    current: ImportRow | None = None
    try:
        with transaction.atomic():
            for current in plan.to_book:
                current.result = booking_create(**_request(plan, current), now=now)
    except KampusError as error:
        return _refuse_all(content, options, now=now, failed=(current, error))
    plan.committed = True
    return plan


def _refuse_all(
    content: bytes,
    options: dict[str, Any],
    *,
    now: dt.datetime,
    failed: tuple[ImportRow | None, KampusError] | None = None,
) -> NoReturn:
    """Raise IcalImportRefused with the whole dry run; nothing of the file has been booked.

    ``failed`` is the row and the error a booking failed with: it stands in the refusal when the dry
    run, made a moment later, finds nothing wrong (a slot taken and freed again in between).
    """
    plan = ical_import_plan(content=content, now=now, **options)
    if failed is not None and plan.can_commit:
        row, error = failed
        same = next(
            (
                r
                for r in plan.to_book
                if row is not None and (r.event.number, r.kind, r.start) == (row.event.number, row.kind, row.start)
            ),
            None,
        )
        if same is None:
            raise error
        same.refuse_for(error)
    raise IcalImportRefused(plan)


def _prepare(
    content: bytes,
    *,
    room: Room,
    booked_by: User,
    institution: Institution | None,
    override_reason: str,
    now: dt.datetime,
) -> IcalImportPlan:
    """Return the import's rows before any booking check: what each event of the file would be booked as."""
    permissions.require_importer(booked_by, room)
    zone = room.building.campus.zone
    events = read_events(content, zone=zone)
    resolve_institution(user=booked_by, institution=institution, room=room)
    rows = _rows(events, zone=zone, now=now)
    requests = [row for row in rows if row.outcome == Outcome.BOOK]
    if len(requests) > MAX_EVENTS:
        raise too_many_events(len(requests))
    dates = sum(len(row.expected_starts) or 1 for row in requests)
    if dates > MAX_OCCURRENCES:
        raise IcalFileRefused(
            _(
                "The file would book %(count)d dates; at most %(max)d can be imported at once. "
                "Import it in smaller parts."
            )
            % {"count": dates, "max": MAX_OCCURRENCES},
            code="too_many_occurrences",
        )
    return IcalImportPlan(
        room=room, institution=institution, booked_by=booked_by, rows=rows, override_reason=override_reason.strip()
    )


def _check(plan: IcalImportPlan, *, now: dt.datetime) -> None:
    """Make the engine's dry run of every request of ``plan``, then the checks across the file."""
    for row in plan.to_book:
        _dry_run(plan, row, now=now)
    _refuse_clashes_between_rows(plan)
    _refuse_over_quota(plan, now=now)


# --- events → rows ----------------------------------------------------------------------------------


def _rows(events: Sequence[CalendarEvent], *, zone: zoneinfo.ZoneInfo, now: dt.datetime) -> list[ImportRow]:
    """Return the rows of ``events`` in booking order (by first date): moved dates taken out of their series."""
    masters: dict[str, CalendarEvent] = {}
    for event in events:
        if event.uid and event.recurrence_id is None and event.rrule and not event.problem:
            masters.setdefault(event.uid, event)
    # The RECURRENCE-IDs of the occurrences that the file moves or cancels, by the number of their series' event.
    moved: dict[int, list[dt.datetime | dt.date]] = {}
    for event in events:
        master = masters.get(event.uid) if event.recurrence_id is not None else None
        if master is not None and not event.problem and not event.this_and_future:
            moved.setdefault(master.number, []).append(event.recurrence_id)
    budget = _ExpansionBudget()
    rows: list[ImportRow] = []
    for event in events:
        master = masters.get(event.uid) if event.recurrence_id is not None else None
        if master is None or event.problem:
            rows.extend(_event_rows(event, zone=zone, now=now, moved=moved.get(event.number, []), budget=budget))
        elif event.this_and_future:
            row = ImportRow(event=event, kind=Kind.MOVED)
            row.refuse(
                _(
                    "It changes this and all following occurrences (RANGE=THISANDFUTURE), which Kampus cannot "
                    "import; export the series split in two."
                ),
                "unsupported",
            )
            rows.append(row)
        elif not event.cancelled:  # a cancelled occurrence is only left out of its series
            rows.extend(_one_off_rows(event, Kind.MOVED, zone=zone, now=now))
    rows.sort(key=lambda row: (row.start is None, row.start or now, row.event.number))
    return rows


class _ExpansionBudget:
    """How many dates of repeating events one file may make Kampus compute, past ones included."""

    def __init__(self, dates: int = MAX_EXPANSION * 4) -> None:
        self.left = dates

    def spend(self, dates: int) -> None:
        self.left -= dates
        if self.left < 0:
            raise IcalFileRefused(
                _("The file's repeating events have too many dates to check; import it in smaller parts."),
                code="too_many_occurrences",
            )


def _event_rows(
    event: CalendarEvent,
    *,
    zone: zoneinfo.ZoneInfo,
    now: dt.datetime,
    moved: Sequence[dt.datetime | dt.date],
    budget: _ExpansionBudget,
) -> list[ImportRow]:
    if event.problem:
        row = ImportRow(event=event, kind=Kind.SERIES if event.rrule else Kind.SINGLE)
        row.refuse(event.problem, "invalid_event")
        return [row]
    if event.all_day:
        row = ImportRow(event=event, kind=Kind.SINGLE)
        row.leave_out(
            _("An all-day event: Kampus books rooms by the hour. Give the event a start and an end time to import it."),
            "all_day",
        )
        return [row]
    if event.cancelled:
        row = ImportRow(event=event, kind=Kind.SERIES if event.rrule else Kind.SINGLE)
        row.leave_out(_("Cancelled in the calendar (STATUS:CANCELLED)."), "cancelled")
        return [row]
    if not event.rrule:
        return _one_off_rows(event, Kind.SINGLE, zone=zone, now=now) + _extra_date_rows(event, zone=zone, now=now)
    row = ImportRow(event=event, kind=Kind.SERIES)
    _plan_series(row, zone=zone, now=now, taken_out=moved, budget=budget)
    return [row, *_extra_date_rows(event, zone=zone, now=now, instances=row.expected_starts)]


def _one_off_rows(event: CalendarEvent, kind: str, *, zone: zoneinfo.ZoneInfo, now: dt.datetime) -> list[ImportRow]:
    row = ImportRow(event=event, kind=kind)
    if event.problem:
        row.refuse(event.problem, "invalid_event")
    elif event.all_day or event.start is None or event.end is None:
        row.leave_out(
            _("An all-day event: Kampus books rooms by the hour. Give the event a start and an end time to import it."),
            "all_day",
        )
    else:
        row.start, row.end = event.start.astimezone(zone), event.end.astimezone(zone)
        if row.start < now:
            row.leave_out(_("It is in the past."), "in_the_past")
    return [row]


def _extra_date_rows(
    event: CalendarEvent, *, zone: zoneinfo.ZoneInfo, now: dt.datetime, instances: Sequence[dt.datetime] = ()
) -> list[ImportRow]:
    """Return a one-off row for each RDATE of ``event`` that its rule does not already give."""
    rows = []
    given = set(instances)
    length = event.end - event.start if event.start and event.end else dt.timedelta(0)
    for start, end in event.rdates:
        row = ImportRow(event=event, kind=Kind.EXTRA_DATE)
        if not isinstance(start, dt.datetime):
            row.leave_out(
                _("An all-day date (RDATE): Kampus books rooms by the hour; give the date a time to import it."),
                "all_day",
            )
        elif start.astimezone(dt.UTC) in given:
            continue  # RFC 5545: a date given by both the rule and RDATE is one occurrence
        else:
            row.start = start.astimezone(zone)
            row.end = (end or _with_wall_length(start, length)).astimezone(zone)
            if row.start < now:
                row.leave_out(_("It is in the past."), "in_the_past")
        rows.append(row)
    return rows


def _with_wall_length(start: dt.datetime, length: dt.timedelta) -> dt.datetime:
    return (start.replace(tzinfo=None) + length).replace(tzinfo=start.tzinfo)


def _plan_series(
    row: ImportRow,
    *,
    zone: zoneinfo.ZoneInfo,
    now: dt.datetime,
    taken_out: Sequence[dt.datetime | dt.date],
    budget: _ExpansionBudget,
) -> None:
    """Turn ``row``'s repeating event into the engine's request: its future dates, EXDATEs and moved dates out.

    The rule is followed in the zone the file gives (``expected_starts``); the engine repeats it in
    the campus's zone, and the dry run checks that both give the same dates.
    """
    event = row.event
    parts = {chunk.partition("=")[0].strip().upper() for chunk in event.rrule.removeprefix("RRULE:").split(";")}
    if not {"COUNT", "UNTIL"} & parts:
        row.refuse(
            _(
                "It repeats without end (its RRULE has neither COUNT nor UNTIL). Kampus books series that end: "
                "give the series a last date in your calendar, e.g. the end of the term, and export it again."
            ),
            "endless_series",
        )
        return
    event_zone = event.start.tzinfo
    not_an_occurrence = _("The start %(start)s is not an occurrence of the repeat rule.") % {
        "start": event.start.isoformat()
    }
    try:
        repeat = recurrence.RepeatRule.parse(event.rrule, zone=event_zone)  # a local UNTIL is the event's time
        # Checked before expanding: a rule that never gives its start (30 February) could search for centuries.
        if repeat.start_problems(event.start):
            row.refuse(not_an_occurrence, InvalidRecurrence.code)
            return
        horizon = now + dt.timedelta(days=recurrence.MAX_DAYS_AHEAD)
        starts = repeat.starts(event.start, limit=MAX_EXPANSION, past=horizon)
    except InvalidRecurrence as error:
        row.refuse(_("Its repeat rule (RRULE): %(error)s") % {"error": error.message}, error.code)
        return
    budget.spend(len(starts))
    if len(starts) >= MAX_EXPANSION:
        row.refuse(
            _("It repeats more than %(max)d times; import a shorter series.") % {"max": MAX_EXPANSION},
            "too_many_occurrences",
        )
        return
    if not starts or starts[0] != event.start:
        row.refuse(not_an_occurrence, InvalidRecurrence.code)
        return
    excluded = _matching(starts, [*event.exdates, *taken_out], event_zone)
    instances = [start for start in starts if start not in excluded]
    ahead = [start for start in instances if start >= now]
    if not ahead:
        row.leave_out(_("Every date of the series is in the past."), "in_the_past")
        return
    past = len(instances) - len(ahead)
    first = ahead[0]
    if first != event.start and repeat.count is not None:
        # COUNT counts from the file's first date: end the shortened series at the file's last date instead.
        repeat = repeat.ending(starts[-1])
    length = recurrence.wall_duration(event.start, event.end, event_zone)
    row.rrule = str(repeat)
    row.start = first.astimezone(zone)
    row.end = _with_wall_length(first, length).astimezone(zone)
    row.exdates = [start.astimezone(zone) for start in sorted(excluded) if start > first]
    row.expected_starts = [start.astimezone(dt.UTC) for start in ahead]
    row.notes = []
    if past:
        row.notes.append(
            ngettext(
                "%(count)d earlier date is in the past and is left out.",
                "%(count)d earlier dates are in the past and are left out.",
                past,
            )
            % {"count": past}
        )
    if taken_out:
        row.notes.append(
            ngettext(
                "%(count)d date is moved or cancelled in the calendar and is left out of the series.",
                "%(count)d dates are moved or cancelled in the calendar and are left out of the series.",
                len(taken_out),
            )
            % {"count": len(taken_out)}
        )


def _matching(
    starts: Sequence[dt.datetime], values: Sequence[dt.datetime | dt.date], zone: dt.tzinfo
) -> set[dt.datetime]:
    """Return the ``starts`` that ``values`` name: a moment exactly, a date by its day in ``zone``.

    A value that names no start is ignored, as RFC 5545 says of EXDATE.
    """
    by_instant = set(starts)
    by_day: dict[dt.date, list[dt.datetime]] = {}
    for start in starts:
        by_day.setdefault(start.astimezone(zone).date(), []).append(start)
    matched: set[dt.datetime] = set()
    for value in values:
        if isinstance(value, dt.datetime):
            if value in by_instant:
                matched.add(next(start for start in starts if start == value))
        else:
            matched.update(by_day.get(value, []))
    return matched


# --- the dry run and the checks across rows ---------------------------------------------------------


def _request(plan: IcalImportPlan, row: ImportRow) -> dict[str, Any]:
    """Return the booking request of ``row``, as ``booking_dry_run`` and ``booking_create`` take it."""
    return {
        "room": plan.room,
        "booked_by": plan.booked_by,
        "title": row.title,
        "start": row.start,
        "end": row.end,
        "institution": plan.institution,
        "rrule": row.rrule or None,
        "exdates": row.exdates,
        "description": row.event.description,
        "override_reason": plan.override_reason,
    }


def _dry_run(plan: IcalImportPlan, row: ImportRow, *, now: dt.datetime) -> None:
    if row.kind == Kind.SERIES and not _repeats_alike(plan, row, now=now):
        zone_name = getattr(row.event.zone, "key", None) or str(row.event.zone)
        row.refuse(
            _(
                "It repeats in the time zone %(zone)s, whose clocks change on other dates than the campus's "
                "(%(campus_zone)s), so its dates would not keep their times in Kampus. Export the calendar in "
                "%(campus_zone)s time."
            )
            % {"zone": zone_name, "campus_zone": plan.room.building.campus.time_zone},
            "zone_mismatch",
        )
        return
    try:
        row.result = booking_dry_run(**_request(plan, row), now=now)
    except KampusError as error:
        row.refuse_for(error)


def _repeats_alike(plan: IcalImportPlan, row: ImportRow, *, now: dt.datetime) -> bool:
    """Return whether the engine, repeating in the campus's zone, gives the dates the file's own zone gives.

    A rule the engine refuses counts as alike here: the dry run then says what is wrong with it.
    """
    try:
        occurrences = recurrence.expand(
            rule=row.rrule, start=row.start, end=row.end, exdates=[], zone=plan.room.building.campus.zone, now=now
        )
    except InvalidRecurrence:
        return True
    excluded = {start.astimezone(dt.UTC) for start in row.exdates}
    given = [o.start.astimezone(dt.UTC) for o in occurrences if o.start.astimezone(dt.UTC) not in excluded]
    return given == row.expected_starts


def _refuse_clashes_between_rows(plan: IcalImportPlan) -> None:
    """Refuse the rows whose dates clash with an earlier row's (the engine checks each request alone)."""
    room = plan.room
    blocks = sorted(
        (booking.start, blocked_until(room, booking.end), booking.end, index)
        for index, row in enumerate(plan.rows)
        if row.outcome == Outcome.BOOK and row.result is not None
        for booking in row.result.bookings
    )
    kept: tuple[dt.datetime, dt.datetime, dt.datetime, int] | None = None
    clashing: dict[int, list[dict[str, Any]]] = {}
    for block in blocks:
        start, until, _end, index = block
        if kept is not None and kept[1] > start and kept[3] != index:
            other = plan.rows[kept[3]]
            clashing.setdefault(index, []).append(
                {
                    "start": kept[0],
                    "end": kept[2],
                    "title": other.title,
                    "room": room.code,
                    "room_label": room.label,
                    "requested_start": start,
                    "event": other.event.number,
                }
            )
        if kept is None or until > kept[1]:
            kept = block
    zone = room.building.campus.zone
    for index, conflicts in clashing.items():
        row = plan.rows[index]
        others = sorted({conflict["event"] for conflict in conflicts})
        row.refuse(
            ngettext(
                "It clashes with event %(events)s of the same file.",
                "It clashes with events %(events)s of the same file.",
                len(others),
            )
            % {"events": ", ".join(map(str, others))},
            SlotTaken.code,
        )
        row.conflicts = [
            {
                **conflict,
                "start": conflict["start"].astimezone(zone),
                "end": conflict["end"].astimezone(zone),
                "requested_start": conflict["requested_start"].astimezone(zone),
            }
            for conflict in conflicts
        ]


def _refuse_over_quota(plan: IcalImportPlan, *, now: dt.datetime) -> None:
    """Refuse the rows past the booker's quota of active bookings, counting the rows before them.

    The engine counts what is booked already; here the import's own earlier requests count too (a
    series as one), as they will when ``ical_import_commit`` books them one after another.
    """
    room, user = plan.room, plan.booked_by
    if rules.may_override(user, room) and plan.override_reason:
        return
    policy = rules.effective_policy(room)
    campus_id = room.building.campus_id
    # As the rule counts it: someone at a front desk counts only the bookings made for themselves.
    desk = (
        valid_memberships(user)
        .filter(Q(campus_id=campus_id) | Q(institution__campus_id=campus_id), role=Role.FRONT_DESK)
        .exists()
    )
    held = rules.active_booking_count(user=user, now=now, only_own=desk)
    for position, row in enumerate(plan.to_book):
        count = held + position
        if count + 1 > policy.max_active_bookings:
            row.refuse(
                _("You already have %(count)d active future bookings; the limit is %(max)d.")
                % {"count": count, "max": policy.max_active_bookings},
                "quota_exceeded",
                rule="max_active_bookings",
                allowed=policy.max_active_bookings,
                can_override=rules.may_override(user, room),
            )
