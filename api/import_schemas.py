"""Schemas of the timetable import (`POST /imports/ical`): the options and the plan, event by event."""

from __future__ import annotations

import datetime as dt
from typing import Any

from ninja import Field, Schema

from api.booking_schemas import InstitutionRef, RoomRefOut, SkippedOut
from api.schemas import ErrorOut, FieldErrorOut, RecordId
from bookings.models import BookingStatus
from bookings.services.importing import IcalImportPlan, ImportRow


class IcalImportQuery(Schema):
    room: RecordId = Field(..., description="The room every event is booked in (the file's LOCATION is not used).")
    institution: RecordId | None = Field(
        None, description="The institution the bookings are for (one you may book for); as for `POST /bookings`."
    )
    dry_run: bool = Field(True, description="true (default): only check and list; false: book everything or nothing.")
    override_reason: str = Field(
        "",
        max_length=500,
        description="Facility managers: let soft rules (duration, notice, window, quota) pass, with this reason.",
    )


class ImportOccurrenceOut(Schema):
    id: int | None = Field(description="The booking's id once booked; null in a dry run.")
    start: dt.datetime
    end: dt.datetime


class ImportConflictOut(Schema):
    start: dt.datetime
    end: dt.datetime
    title: str | None = Field(description="null when its visibility hides it from you.")
    room: str
    requested_start: dt.datetime | None = Field(None, description="The start of the event's date that clashes.")
    event: int | None = Field(
        None, description="The clashing event's number in the file, when it is one of the file's."
    )


class ImportEventOut(Schema):
    """One booking request of the import: an event of the file, or an extra or moved date of one."""

    event: int = Field(description="The VEVENT's number in the file (1 = the first).")
    uid: str
    title: str = Field(description="The booking's title (SUMMARY).")
    location: str = Field(description="The file's LOCATION, for information; the import books `room`.")
    kind: str = Field(description="single, series (an RRULE), extra_date (an RDATE) or moved (a RECURRENCE-ID).")
    outcome: str = Field(
        description="book; left_out (all-day, cancelled in the calendar, in the past: does not stop the import); "
        "refused (stops the import: `message`, `code`, and `rule`, `allowed` or `conflicts`)."
    )
    start: dt.datetime | None = Field(description="The first date's start, in the campus's zone.")
    end: dt.datetime | None
    rrule: str | None = Field(description="The series' repeat rule as Kampus stores it.")
    repeat: str | None = Field(description='How often the series repeats, in words ("weekly series").')
    status: BookingStatus | None = Field(description="confirmed, or pending when a facility manager must approve.")
    occurrences: list[ImportOccurrenceOut]
    skipped: list[SkippedOut] = Field(description="Dates of the series left out: holidays, closures, breaks.")
    message: str | None
    code: str | None
    rule: str | None = None
    allowed: Any = None
    can_override: bool = False
    conflicts: list[ImportConflictOut]
    notes: list[str] = Field(description="What else the import did with the event (past dates left out, …).")
    series: int | None = Field(description="The series' id once booked.")


class IcalImportOut(Schema):
    dry_run: bool
    committed: bool = Field(description="true when the bookings were made (201).")
    can_commit: bool = Field(description="Whether `dry_run=false` would book: nothing refused, something to book.")
    room: RoomRefOut
    institution: InstitutionRef | None = Field(description="The institution asked for (null: as for your bookings).")
    bookings: int = Field(description="Dates that would be (or were) booked, series dates included.")
    series: int = Field(description="Series among them.")
    events: list[ImportEventOut]


class IcalImportRefusedOut(ErrorOut):
    """409 (only clashes) or 422: the import booked nothing; ``events`` is the dry run that says why."""

    errors: list[FieldErrorOut] = Field(description='Each refused event as field "events.<number>".')
    conflicts: list[ImportConflictOut]
    events: list[ImportEventOut]


def _local(value: dt.datetime | None, zone: dt.tzinfo) -> dt.datetime | None:
    return value.astimezone(zone) if value is not None else None


def _row_out(row: ImportRow, zone: dt.tzinfo) -> dict[str, Any]:
    result = row.result
    booked = row.outcome == "book" and result is not None
    return {
        "event": row.event.number,
        "uid": row.event.uid,
        "title": row.title,
        "location": row.event.location,
        "kind": row.kind,
        "outcome": row.outcome,
        "start": _local(row.start, zone),
        "end": _local(row.end, zone),
        "rrule": row.rrule or None,
        "repeat": row.repeat_label or None,
        "status": result.bookings[0].status if booked and result.bookings else None,
        "occurrences": [
            {"id": booking.pk, "start": _local(booking.start, zone), "end": _local(booking.end, zone)}
            for booking in (result.bookings if booked else [])
        ],
        "skipped": [
            {"start": _local(s.start, zone), "end": _local(s.end, zone), "reason": s.reason, "code": s.code}
            for s in (result.skipped if booked else [])
        ],
        "message": row.message or None,
        "code": row.code or None,
        "rule": row.rule,
        "allowed": row.allowed,
        "can_override": row.can_override,
        "conflicts": [_conflict_out(conflict, zone) for conflict in row.conflicts],
        "notes": row.notes,
        "series": result.series.pk if booked and result.series is not None else None,
    }


def _conflict_out(conflict: dict[str, Any], zone: dt.tzinfo) -> dict[str, Any]:
    return {
        "start": _local(conflict["start"], zone),
        "end": _local(conflict["end"], zone),
        "title": conflict.get("title"),
        "room": conflict.get("room", ""),
        "requested_start": _local(conflict.get("requested_start"), zone),
        "event": conflict.get("event"),
    }


def events_out(plan: IcalImportPlan) -> list[dict[str, Any]]:
    """Return the plan's rows as ``ImportEventOut`` dicts, times in the campus's zone."""
    zone = plan.room.building.campus.zone
    return [_row_out(row, zone) for row in plan.rows]


def plan_out(plan: IcalImportPlan, *, dry_run: bool) -> dict[str, Any]:
    """Return the plan as ``IcalImportOut``."""
    return {
        "dry_run": dry_run,
        "committed": plan.committed,
        "can_commit": plan.can_commit and not plan.committed,
        "room": plan.room,
        "institution": plan.institution,
        "bookings": plan.occurrence_count,
        "series": plan.series_count,
        "events": events_out(plan),
    }


def conflicts_out(plan: IcalImportPlan) -> list[dict[str, Any]]:
    zone = plan.room.building.campus.zone
    return [_conflict_out(conflict, zone) for conflict in plan.conflicts]
