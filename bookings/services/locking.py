"""Row locks, always taken in one order: booker, series, bookings by id, room parts by id."""

from __future__ import annotations

import datetime as dt
import logging
import zoneinfo
from collections.abc import Iterable, Sequence
from typing import Any

from django.db import connection
from django.db.models import F
from django.utils.translation import gettext as _

from bookings import recurrence
from bookings.errors import InvalidRecurrence
from bookings.models import (
    ACTIVE_STATUSES,
    Booking,
    BookingSeries,
    Scope,
)
from bookings.notifications import notify
from bookings.parts import room_parts
from bookings.services.conflicts import free_blocks
from campus.exceptions import InvalidInput, NotFound
from campus.models import Room, User
from campus.sql_rows import execute

logger = logging.getLogger(__name__)


def lock_parts(*rooms: Room) -> None:
    """Queue the writers of the ``rooms``' parts behind one another until the transaction ends.

    PostgreSQL: row locks on the parts, taken in primary-key order, so two writers that share a
    part wait for each other here instead of deadlocking inside the exclusion constraint (two
    transactions inserting overlapping blocks at the same moment each wait for the other); after
    the wait the overlap check sees the winner's committed blocks. The exclusion constraint stays
    the guarantee. SQLite: a no-op (the IMMEDIATE transaction already holds the write lock).
    """
    part_ids = sorted({part.pk for room in rooms for part in room_parts(room)})
    list(
        Room.objects.select_for_update(no_key=True).filter(pk__in=part_ids).order_by("pk").values_list("pk", flat=True)
    )


def lock_booker(user: User) -> None:
    """Serialise one person's concurrent requests, so that two at once cannot both pass the quota."""
    list(User.objects.select_for_update(no_key=True).filter(pk=user.pk).values_list("pk", flat=True))


def lock_booker_and_parts(user: User, room: Room) -> None:
    """Take ``lock_booker`` and then ``lock_parts`` of ``room``, in that order, in one statement.

    PostgreSQL applies ORDER BY before the row locks and locks each row's tables in the order named:
    the booker first, then the parts by id, as the two calls would. SQLite: a no-op (the IMMEDIATE
    transaction already holds the write lock).
    """
    if connection.vendor != "postgresql":
        return
    part_ids = sorted(part.pk for part in room_parts(room))
    with connection.cursor() as cursor:
        execute(
            cursor,
            f"SELECT booker.id, part.id FROM {User._meta.db_table} booker, {Room._meta.db_table} part"
            " WHERE booker.id = %s AND part.id = ANY(%s) ORDER BY part.id FOR NO KEY UPDATE OF booker, part",
            [user.pk, part_ids],
            label="lock",
        )
        cursor.fetchall()


def lock_series_of(booking_ids: Sequence[int]) -> None:
    """Lock the series of ``booking_ids`` (in id order) until the transaction ends.

    The one lock order of every writer is: series, then bookings by id, then room parts by id.
    A series' rule and exceptions change only under its lock; a split moves occurrences to a new
    series under the old one's lock, so the loop re-reads until the set is stable.
    """
    held: set[int] = set()
    while True:
        wanted = set(
            Booking.objects.filter(pk__in=booking_ids, series__isnull=False).values_list("series_id", flat=True)
        )
        missing = sorted(wanted - held)
        if not missing:
            return
        list(BookingSeries.objects.select_for_update().filter(pk__in=missing).order_by("pk").values_list("pk"))
        held.update(missing)


def lock_bookings(
    booking_ids: Iterable[int], *, statuses: Sequence[str] = ACTIVE_STATUSES, ending_after: dt.datetime | None = None
) -> list[Booking]:
    """Lock the bookings of ``booking_ids`` still in ``statuses`` (and ending after ``ending_after``); re-read them.

    PostgreSQL re-checks the filter on the newest row version after waiting for a lock, so what is
    returned is what a concurrent cancel, release or decision left. SQLite: the IMMEDIATE
    transaction already holds the write lock. Returned in start order, with what the services read.
    """
    ids = sorted(set(booking_ids))
    lock_series_of(ids)
    locked = Booking.objects.filter(pk__in=ids, status__in=statuses)
    if ending_after is not None:
        locked = locked.filter(end__gt=ending_after)
    locked_ids = list(locked.select_for_update().order_by("pk").values_list("pk", flat=True))
    return list(
        Booking.objects.filter(pk__in=locked_ids)
        .select_related("room", "room__building__campus", "booked_by", "campus", "series", "institution")
        .order_by("start", "pk")
    )


def lock_in_scope(
    booking: Booking, scope: str, *, now: dt.datetime, statuses: Sequence[str] = ACTIVE_STATUSES
) -> tuple[Booking, list[Booking]]:
    """Lock and re-read ``booking`` and the bookings ``scope`` covers from it that are in ``statuses`` and not ended.

    Returns (the re-read booking, the locked targets). Every decision afterwards is taken on these
    rows, never on the caller's copy, so two concurrent changes cannot both act on one state.
    """
    if scope not in Scope.values:
        message = _("scope must be one of: %(scopes)s.") % {"scopes": ", ".join(Scope.values)}
        raise InvalidInput(message, errors=[{"field": "scope", "message": message}])
    lock_series_of([booking.pk])
    anchor = (
        Booking.objects.select_related("room", "room__building__campus", "booked_by", "campus", "series")
        .filter(pk=booking.pk)
        .first()
    )
    if anchor is None:
        raise NotFound(_("The booking no longer exists."))
    if anchor.series_id is None or scope == Scope.OCCURRENCE:
        candidates = [anchor.pk]
    else:
        in_series = Booking.objects.filter(series_id=anchor.series_id)
        if scope == Scope.FOLLOWING:
            in_series = in_series.filter(recurrence_id__gte=anchor.recurrence_id)
        candidates = list(in_series.values_list("pk", flat=True))
    targets = lock_bookings(candidates, statuses=statuses, ending_after=now)
    anchor = next((target for target in targets if target.pk == anchor.pk), anchor)
    return anchor, targets


def sync_series_exceptions(series_ids: Iterable[int]) -> None:
    """Make each series' exdates name exactly the instances of its rule that have no active occurrence.

    Call while holding the series' lock (``lock_in_scope`` and ``lock_bookings`` take it). Derived
    rather than edited, so every path (cancel, reject, expire, release, skip, split) keeps it true.
    """
    for series in BookingSeries.objects.filter(pk__in=set(series_ids)):
        try:
            active = Booking.objects.filter(series=series, status__in=ACTIVE_STATUSES).values_list(
                "recurrence_id", flat=True
            )
            exdates = series_exceptions(series, booked=active)
        except InvalidRecurrence:
            # A rule stored before rules were checked as now: keep its exceptions rather than block the change.
            logger.warning(
                "series %s: stored rule %r no longer parses; exceptions left as they are", series.pk, series.rrule
            )
            continue
        if exdates != series.exdates:
            series.exdates = exdates
            series.sequence += 1  # calendar clients take the new exceptions
            series.save(update_fields=["exdates", "sequence"])


def series_exceptions(series: BookingSeries, *, booked: Iterable[dt.datetime | None]) -> list[str]:
    """Return the exceptions of ``series``: the instances of its rule (ISO 8601, UTC) not among ``booked``.

    ``booked``: the recurrence ids of its active occurrences. Raises InvalidRecurrence for a rule that
    no longer parses.
    """
    instances = recurrence.series_instances(
        rule=series.rrule, dtstart=series.dtstart, zone=zoneinfo.ZoneInfo(series.time_zone)
    )
    active = set(booked)
    return [instance.isoformat() for instance in instances if instance not in active]


def series_ids(bookings: Iterable[Booking]) -> set[int]:
    return {booking.series_id for booking in bookings if booking.series_id is not None}


def mark_changed(bookings: Sequence[Booking]) -> None:
    """Raise the iCalendar SEQUENCE of ``bookings`` and of their series, so calendar clients take the change.

    Call on locked rows after the change is written (the rows in memory follow the database).
    """
    Booking.objects.filter(pk__in=[booking.pk for booking in bookings]).update(sequence=F("sequence") + 1)
    for booking in bookings:
        booking.sequence += 1
    BookingSeries.objects.filter(pk__in=series_ids(bookings)).update(sequence=F("sequence") + 1)


def end_bookings(targets: list[Booking], *, status: str, now: dt.datetime, **fields_: Any) -> None:
    """Give ``targets`` a final status, free their slots and update their series' exceptions."""
    free_blocks(targets)
    Booking.objects.filter(pk__in=[t.pk for t in targets]).update(status=status, updated_at=now, **fields_)
    for target in targets:
        target.status = status
        for name, value in fields_.items():
            setattr(target, name, value)
    mark_changed(targets)
    sync_series_exceptions(series_ids(targets))


def notify_bookers(
    kind: str, bookings: Iterable[Booking], *, reason: str = "", except_user: User | None = None
) -> None:
    """Tell each booker of ``bookings`` once (about their first one), except ``except_user`` (who acted)."""
    first_per_booker: dict[int, Booking] = {}
    for booking in bookings:
        if booking.booked_by_id is not None:
            first_per_booker.setdefault(booking.booked_by_id, booking)
    for booker_id, first in first_per_booker.items():
        if except_user is None or booker_id != except_user.pk:
            notify(kind=kind, booking=first, recipients=[first.booked_by], reason=reason)
