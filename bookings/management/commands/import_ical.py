"""``manage.py import_ical FILE --room ROOM [--institution CODE] [--as USERNAME] [--commit]``: import a timetable."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError, CommandParser

from bookings.ical_import import MAX_FILE_BYTES, file_too_large
from bookings.services.importing import (
    IcalImportPlan,
    IcalImportRefused,
    ImportRow,
    Outcome,
    ical_import_commit,
    ical_import_plan,
)
from campus.exceptions import KampusError
from campus.management.commands.import_members import acting_user_for
from campus.management.commands.import_rooms import campus_from_option
from campus.models import Campus, Institution, Room

OUTCOME_WORDS = {Outcome.BOOK: "book", Outcome.LEFT_OUT: "left out", Outcome.REFUSED: "REFUSED"}


class Command(BaseCommand):
    help = (
        "Import a timetable from an iCalendar (.ics) file into one room: every event becomes a booking (a repeating "
        "event a series) made by --as. Without --commit it is a dry run that lists each event as it would be "
        "booked, every clash and every broken rule; with --commit everything is booked, or nothing if any event "
        "is refused. See docs/ical-import.md."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", type=Path, help="the .ics file (UTF-8, at most 2 MB)")
        parser.add_argument("--room", required=True, help="the room's code (e.g. A101) or id")
        parser.add_argument("--building", help="the building's code, when several buildings have a room of that code")
        parser.add_argument("--campus", help="name of the campus (needed when there is more than one)")
        parser.add_argument("--institution", help="short code of the institution the bookings are for, e.g. lukio")
        parser.add_argument(
            "--as",
            dest="actor",
            metavar="USERNAME",
            help="the facility manager who books (the booker); default: the first active superuser",
        )
        parser.add_argument("--commit", action="store_true", help="book everything (default: dry run, save nothing)")
        parser.add_argument(
            "--override-reason", default="", help="let soft rules (duration, notice, window, quota) pass, with a reason"
        )

    def handle(self, *args, file: Path, room: str, building: str | None, campus: str | None,
               institution: str | None, actor: str | None, commit: bool, override_reason: str,
               **options) -> None:  # fmt: skip
        target_campus = campus_from_option(campus)
        target_room = room_from_option(room, campus=target_campus, building=building)
        target_institution = institution_from_option(institution, campus=target_campus)
        booker = acting_user_for(actor)
        try:
            if file.stat().st_size > MAX_FILE_BYTES:
                raise file_too_large()
            content = file.read_bytes()
        except OSError as exc:
            raise CommandError(f"Cannot read {file}: {exc.strerror or exc}") from exc
        except KampusError as exc:
            raise CommandError(f"{file}: {exc.message}") from exc
        request = {
            "content": content,
            "room": target_room,
            "booked_by": booker,
            "institution": target_institution,
            "override_reason": override_reason,
        }
        for_whom = f" for {target_institution}" if target_institution else ""
        heading = f"{file} into {target_room.label}{for_whom}, booked by {booker.username}"
        try:
            plan = ical_import_commit(**request) if commit else ical_import_plan(**request)
        except IcalImportRefused as refused:
            self._list(refused.plan, f"Import of {heading}:")
            raise CommandError(f"{file}: {refused.message}") from refused
        except KampusError as exc:
            raise CommandError(f"{file}: {exc.message}") from exc
        summary = f"{plan.occurrence_count} date(s), {plan.series_count} of the events as series"
        if commit:
            self._list(plan, f"Imported {heading}:")
            self.stdout.write(self.style.SUCCESS(f"Booked {summary}."))
            return
        self._list(plan, f"Dry run of {heading}:")
        if plan.refused:
            raise CommandError(f"{file}: {len(plan.refused)} event(s) cannot be booked; nothing would be imported.")
        if not plan.to_book:
            raise CommandError(f"{file}: none of the events can be booked; nothing would be imported.")
        self.stdout.write(f"Would book {summary}. Nothing was saved; add --commit to book.")

    def _list(self, plan: IcalImportPlan, heading: str) -> None:
        """Print one line per row (refused ones also to stderr), with its clashes and notes under it."""
        self.stdout.write(heading)
        zone = plan.room.building.campus.zone
        for row in plan.rows:
            line = f"  #{row.event.number:<3} {OUTCOME_WORDS[row.outcome]:<8}  {_when(row, zone)}  {row.title}"
            details = _details(row)
            if row.message:
                line += f": {row.message}"
            self.stdout.write(line)
            for detail in details:
                self.stdout.write(f"        {detail}")
            if row.is_refused:
                self.stderr.write(f"event {row.event.number} ({row.title}): {row.message}")


def _when(row: ImportRow, zone: dt.tzinfo) -> str:
    if row.start is None or row.end is None:
        return "-"
    start, end = row.start.astimezone(zone), row.end.astimezone(zone)
    return f"{start:%a %Y-%m-%d %H:%M}–{end:%H:%M}"


def _details(row: ImportRow) -> list[str]:
    details: list[str] = []
    if row.outcome == Outcome.BOOK and row.result is not None:
        count = len(row.result.bookings)
        kind = f"{row.repeat_label}, " if row.rrule else ""
        status = "pending approval" if row.pending else "confirmed"
        details.append(f"{kind}{count} date(s), {status}")
        details.extend(
            f"skipped {s.start.astimezone(row.start.tzinfo):%Y-%m-%d}: {s.reason}" for s in row.result.skipped
        )
    for conflict in row.conflicts:
        start, end = conflict["start"], conflict["end"]
        details.append(f"clashes with {start:%Y-%m-%d %H:%M}–{end:%H:%M} {conflict.get('title') or 'Reserved'}")
    details.extend(row.notes)
    return details


def room_from_option(value: str, *, campus: Campus, building: str | None) -> Room:
    """Return the campus's room with code ``value`` (in ``building`` when given), else the room with that id."""
    rooms = Room.objects.select_related("building__campus").filter(building__campus=campus)
    if building:
        rooms = rooms.filter(building__code=building)
    by_code = list(rooms.filter(code=value))
    if len(by_code) == 1:
        return by_code[0]
    if len(by_code) > 1:
        buildings = ", ".join(sorted(room.building.code for room in by_code))
        raise CommandError(f"Several buildings have a room {value!r} ({buildings}); choose one with --building CODE.")
    found = rooms.filter(pk=int(value)).first() if value.isdigit() else None
    if found is None:
        raise CommandError(f"No room {value!r} on {campus}" + (f" in building {building!r}." if building else "."))
    return found


def institution_from_option(value: str | None, *, campus: Campus) -> Institution | None:
    if not value:
        return None
    found = Institution.objects.filter(campus=campus, short_code=value).first()
    if found is None:
        known = ", ".join(campus.institutions.values_list("short_code", flat=True)) or "none"
        raise CommandError(f"No institution {value!r} on {campus}; known codes: {known}.")
    return found
