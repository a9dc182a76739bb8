"""Read Kampus's calendar feeds as calendar clients do, with parsers Kampus does not use to write them.

- ``python_occurrences``: recurring-ical-events (expands RRULE, EXDATE and RECURRENCE-ID overrides).
- ``icaljs_occurrences``: Mozilla's ical.js, the parser inside Thunderbird, run with node
  (``tests/ical_js/expand.js``; ``npm ci`` in ``tests/ical_js`` installs it, ``.ci/run`` does so).
  Without node or ical.js the test is skipped saying what to install, and fails under ``CI=true``.
- ``expected_occurrences``: what the database says the calendar should show.

Each gives a sorted list of ``Occurrence`` (UTC times), so the three compare with ``==``.
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
import subprocess
from collections.abc import Iterable
from pathlib import Path
from typing import NamedTuple

import recurring_ical_events
from icalendar import Calendar

from bookings.models import Booking, BookingStatus
from bookings.visibility import Viewer
from tests.conftest import require_service

ICAL_JS_DIR = Path(__file__).resolve().parent / "ical_js"
EXPAND_JS = ICAL_JS_DIR / "expand.js"
STATUS = {
    BookingStatus.PENDING: "TENTATIVE",
    BookingStatus.CONFIRMED: "CONFIRMED",
    BookingStatus.CANCELLED: "CANCELLED",
    BookingStatus.RELEASED: "CANCELLED",
}


class Occurrence(NamedTuple):
    start: dt.datetime
    end: dt.datetime
    summary: str
    status: str
    location: str


def _utc(value: dt.datetime) -> dt.datetime:
    assert value.tzinfo is not None, f"a floating time in the feed: {value}"
    return value.astimezone(dt.UTC)


def python_occurrences(body: bytes, start: dt.datetime, end: dt.datetime) -> list[Occurrence]:
    """Return the occurrences recurring-ical-events finds in the feed ``body`` between ``start`` and ``end``."""
    calendar = Calendar.from_ical(body)
    found = []
    for event in recurring_ical_events.of(calendar).between(start, end):
        found.append(
            Occurrence(
                start=_utc(event.decoded("DTSTART")),
                end=_utc(event.decoded("DTEND")),
                summary=str(event.get("SUMMARY")),
                status=str(event.get("STATUS")),
                location=str(event.get("LOCATION")),
            )
        )
    return sorted(found)


def icaljs_missing_reason() -> str | None:
    """Return why ical.js cannot run here (no node, or ``npm ci`` not run), or None."""
    if shutil.which("node") is None:
        return "no node on PATH; apt-get install nodejs npm, then npm ci --prefix tests/ical_js"
    if not (ICAL_JS_DIR / "node_modules" / "ical.js").is_dir():
        return "ical.js is not installed; run npm ci --prefix tests/ical_js"
    return None


def icaljs_occurrences(body: bytes, start: dt.datetime, end: dt.datetime) -> list[Occurrence]:
    """Return the occurrences Mozilla's ical.js finds in the feed ``body`` between ``start`` and ``end``."""
    reason = icaljs_missing_reason()
    if reason is not None:
        require_service("ical.js", reason)
    iso = [moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ") for moment in (start, end)]
    completed = subprocess.run(["node", str(EXPAND_JS), *iso], input=body, capture_output=True, check=False, timeout=60)
    assert completed.returncode == 0, completed.stderr.decode()
    return sorted(
        Occurrence(
            start=dt.datetime.fromisoformat(item["start"]),
            end=dt.datetime.fromisoformat(item["end"]),
            summary=item["summary"],
            status=item["status"],
            location=item["location"],
        )
        for item in json.loads(completed.stdout)
    )


def expected_occurrences(
    bookings: Iterable[Booking], viewer: Viewer, start: dt.datetime, end: dt.datetime
) -> list[Occurrence]:
    """Return what a calendar should show of ``bookings`` in [start, end): rejected ones not at all."""
    return sorted(
        Occurrence(
            start=booking.start.astimezone(dt.UTC),
            end=booking.end.astimezone(dt.UTC),
            summary=viewer.display_title(booking),
            status=STATUS[booking.status],
            location=f"{booking.room.label}, {booking.room.building.name}, {booking.room.building.campus.name}",
        )
        for booking in bookings
        if booking.status != BookingStatus.REJECTED and booking.start < end and booking.end > start
    )
