"""Remove the people from bookings while the bookings stay: storage limitation and erasure (GDPR).

An anonymised booking keeps its room, times, institution, purpose, attendees and status, so every
utilisation figure (room slots, no-shows) reads it as before; it loses its booker, the person it
was booked on behalf of, its title, description and decision (both free text that may name
people), and its audit events lose their actor, their reason and the same fields of their
before/after snapshots. The booking's ``updated_at`` is left alone on purpose: the rollup
re-reads the slots of bookings changed since its last run, and the readings of old slots may
already be deleted (sensor retention), so touching it would rewrite old figures from nothing.

A booking someone else made for a person (the person as its on-behalf contact) stays that
booker's: erasing the person clears only the on-behalf fields, there and in its audit snapshots.

The audit log is append-only; only this module may rewrite its snapshots. On PostgreSQL the
trigger that refuses UPDATE lets through, while ``kampus.personal_data_erasure`` is set, only a
rewrite of the actor (to none), the reason and the snapshots; the flag is set for each rewrite
and cleared after it.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from django.contrib.admin.models import LogEntry
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.db.models import F, Q, QuerySet

from bookings.models import Booking, BookingEvent, BookingSeries, Notification

# What an anonymised booking is called on pages, in feeds and in the API: no one's words.
ANONYMISED_TITLE = "—"
# The audited snapshot fields that hold personal data, and what an anonymised snapshot holds instead.
PERSONAL_SNAPSHOT_VALUES: dict[str, Any] = {
    "title": ANONYMISED_TITLE,
    "description": "",
    "booked_by_id": None,
    "on_behalf_of_name": "",
    "on_behalf_of_contact": "",
    "on_behalf_of_organisation": "",
    "decision_reason": "",
}
# The snapshot fields naming the person a booking was made for (cleared when that person is erased).
ON_BEHALF_SNAPSHOT_VALUES: dict[str, Any] = {
    "on_behalf_of_name": "",
    "on_behalf_of_contact": "",
    "on_behalf_of_organisation": "",
}
BATCH = 500


@dataclass
class AnonymisedCount:
    bookings: int = 0
    audit_events: int = 0
    notifications: int = 0

    def add(self, other: AnonymisedCount) -> None:
        self.bookings += other.bookings
        self.audit_events += other.audit_events
        self.notifications += other.notifications


def _allow_audit_rewrite(allow: bool) -> None:
    """Let this transaction rewrite audit events, or no longer (PostgreSQL's append-only trigger; SQLite has none)."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT set_config('kampus.personal_data_erasure', %s, true)", ["on" if allow else "off"])


def _rewrite_events(events: QuerySet[BookingEvent], rewrite: Callable[[dict[str, Any]], dict[str, Any]]) -> int:
    """Rewrite the actor, reason and snapshots of ``events`` by ``rewrite`` (bypassing the append-only guard).

    ``rewrite`` takes and returns a row: ``actor_id``, ``reason``, ``before`` and ``after``.
    Precondition: inside a transaction.
    """
    rows = list(events.values("pk", "actor_id", "reason", "before", "after"))
    if not rows:
        return 0
    json_param = "%s::jsonb" if connection.vendor == "postgresql" else "%s"
    quote = connection.ops.quote_name
    sql = (
        f"UPDATE bookings_bookingevent SET actor_id = %s, reason = %s, {quote('before')} = {json_param}, "
        f"{quote('after')} = {json_param} WHERE id = %s"
    )
    params = []
    for row in rows:
        new = rewrite(dict(row))
        params.append(
            [
                new["actor_id"],
                new["reason"],
                None if new["before"] is None else json.dumps(new["before"]),
                None if new["after"] is None else json.dumps(new["after"]),
                row["pk"],
            ]
        )
    # Only for this rewrite: nothing later in the transaction may update the log.
    _allow_audit_rewrite(True)
    try:
        with connection.cursor() as cursor:
            cursor.executemany(sql, params)
    finally:
        _allow_audit_rewrite(False)
    return len(rows)


def _anonymous_snapshot(
    snapshot: dict[str, Any] | None, values: dict[str, Any] = PERSONAL_SNAPSHOT_VALUES
) -> dict[str, Any] | None:
    if snapshot is None:
        return None
    return {**snapshot, **{name: value for name, value in values.items() if name in snapshot}}


def _anonymous_event(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "actor_id": None,
        "reason": "",
        "before": _anonymous_snapshot(row["before"]),
        "after": _anonymous_snapshot(row["after"]),
    }


def bookings_anonymise(*, booking_ids: Sequence[int], now: dt.datetime) -> AnonymisedCount:
    """Remove the personal data of ``booking_ids`` and of their audit events; keep what utilisation reads.

    Their notifications go too (subjects and reasons name the booking and people; an unsent one would
    tell nobody anything), and the admin's history calls them by the anonymous title. Series whose
    every occurrence is anonymised lose their owner.
    Precondition: inside a transaction.
    """
    count = AnonymisedCount()
    ids = sorted(set(booking_ids))
    for start in range(0, len(ids), BATCH):
        batch = ids[start : start + BATCH]
        # A plain UPDATE on purpose: it leaves ``updated_at`` (the rollup's change mark) as it was.
        count.bookings += Booking.objects.filter(pk__in=batch).update(
            booked_by=None,
            decided_by=None,
            title=ANONYMISED_TITLE,
            description="",
            on_behalf_of_name="",
            on_behalf_of_contact="",
            on_behalf_of_organisation="",
            decision_reason="",
            anonymised_at=now,
            sequence=F("sequence") + 1,
        )
        count.audit_events += _rewrite_events(BookingEvent.objects.filter(booking_id__in=batch), _anonymous_event)
        count.notifications += Notification.objects.filter(booking_id__in=batch).delete()[0]
        # The admin's history names a booking by its title.
        LogEntry.objects.filter(
            content_type=ContentType.objects.get_for_model(Booking), object_id__in=[str(pk) for pk in batch]
        ).update(object_repr=ANONYMISED_TITLE)
        series = Booking.objects.filter(pk__in=batch, series__isnull=False).values("series_id")
        # Calendar clients replace a series they hold only when its revision rises (feeds' ETag too).
        BookingSeries.objects.filter(pk__in=series).update(sequence=F("sequence") + 1)
        BookingSeries.objects.filter(pk__in=series, owner__isnull=False).exclude(
            occurrences__anonymised_at__isnull=True
        ).update(owner=None)
    return count


def bookings_forget_on_behalf(*, booking_ids: Sequence[int]) -> AnonymisedCount:
    """Clear the on-behalf person of ``booking_ids`` and of their audit snapshots; the rest stays the booker's.

    The bookings were made by someone else for a person being erased: the booker keeps them,
    their titles and their history. Precondition: inside a transaction.
    """
    count = AnonymisedCount()
    ids = sorted(set(booking_ids))

    def forget(row: dict[str, Any]) -> dict[str, Any]:
        return {
            **row,
            "before": _anonymous_snapshot(row["before"], ON_BEHALF_SNAPSHOT_VALUES),
            "after": _anonymous_snapshot(row["after"], ON_BEHALF_SNAPSHOT_VALUES),
        }

    for start in range(0, len(ids), BATCH):
        batch = ids[start : start + BATCH]
        # The booker's calendars take the change by the raised revision (updated_at is the rollup's mark).
        count.bookings += Booking.objects.filter(pk__in=batch).update(
            on_behalf_of_name="",
            on_behalf_of_contact="",
            on_behalf_of_organisation="",
            sequence=F("sequence") + 1,
        )
        count.audit_events += _rewrite_events(BookingEvent.objects.filter(booking_id__in=batch), forget)
        series = Booking.objects.filter(pk__in=batch, series__isnull=False).values("series_id")
        BookingSeries.objects.filter(pk__in=series).update(sequence=F("sequence") + 1)
    return count


def audit_forget_person(*, user_id: int) -> int:
    """Remove ``user_id`` from every audit event: as actor, and as booker in any before/after snapshot.

    Events of other people's bookings stay whole otherwise (what was done, when, to which booking).
    Precondition: inside a transaction.
    """

    def forget(row: dict[str, Any]) -> dict[str, Any]:
        def scrub(snapshot: dict[str, Any] | None) -> dict[str, Any] | None:
            if snapshot is not None and snapshot.get("booked_by_id") == user_id:
                return {**snapshot, "booked_by_id": None}
            return snapshot

        return {
            "actor_id": None if row["actor_id"] == user_id else row["actor_id"],
            "reason": row["reason"],
            "before": scrub(row["before"]),
            "after": scrub(row["after"]),
        }

    events = BookingEvent.objects.filter(
        Q(actor_id=user_id) | Q(before__booked_by_id=user_id) | Q(after__booked_by_id=user_id)
    )
    return _rewrite_events(events, forget)
