"""The booking audit log: one append-only event per action, with the state before and after."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from bookings.models import Booking, BookingEvent
from campus.models import User
from campus.sql_rows import insert

SNAPSHOT_FIELDS = (
    "room_id",
    "title",
    "description",
    "purpose",
    "institution_id",
    "booked_by_id",
    "on_behalf_of_name",
    "on_behalf_of_contact",
    "on_behalf_of_organisation",
    "start",
    "end",
    "attendees",
    "visibility",
    "status",
    "series_id",
    "decision_reason",
)


def snapshot(booking: Booking) -> dict[str, Any]:
    """Return the audited fields of ``booking`` as JSON-ready values (datetimes in ISO 8601 UTC)."""
    values: dict[str, Any] = {}
    for name in SNAPSHOT_FIELDS:
        value = getattr(booking, name)
        values[name] = value.isoformat() if hasattr(value, "isoformat") else value
    return values


def record(
    *,
    action: str,
    bookings: Iterable[Booking],
    actor: User | None,
    before: dict[int, dict[str, Any]] | None = None,
    reason: str = "",
    after: bool = True,
) -> list[BookingEvent]:
    """Append one event per booking; ``before`` maps booking ids to their earlier snapshots."""
    events = [
        BookingEvent(
            booking_id=booking.pk,
            actor_id=actor.pk if actor is not None else None,
            action=action,
            before=(before or {}).get(booking.pk),
            after=snapshot(booking) if after else None,
            reason=reason,
        )
        for booking in bookings
    ]
    return insert(events, label="event")
