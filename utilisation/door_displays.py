"""Door displays: creating and revoking their secrets, finding a display by its secret, and what its page shows.

The page is public to whoever holds the address (a tablet fixed at the door), so it shows what an
anonymous passer-by may see (``bookings.visibility``): a public booking's title, else "Reserved";
never who booked it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from bookings import services as booking_services
from bookings.models import ACTIVE_STATUSES, Booking
from bookings.parts import room_parts
from bookings.visibility import viewer_for
from campus.exceptions import NotFound, PermissionDenied
from campus.models import Room, User
from campus.permissions import may_manage_room
from campus.tokens import hash_token, new_secret
from sensors.selectors import Occupancy, room_occupancy
from utilisation.models import DoorDisplay

DOOR_TOKEN_PREFIX = "kdd_"
DOOR_PREFIX_LENGTH = 12  # "kdd_" and 8 random characters: tells displays apart, useless to an attacker
# ``last_seen_at`` is written at most this often (the page refreshes every minute).
LAST_SEEN_PRECISION = dt.timedelta(minutes=5)
# How far ahead the page looks for the next booking.
LOOKAHEAD = dt.timedelta(days=7)


def _require_manager(actor: User | None, room: Room, message: str) -> None:
    if actor is not None and not may_manage_room(actor, room):
        raise PermissionDenied(message)


@transaction.atomic
def door_display_create(*, actor: User | None, room: Room, name: str) -> tuple[DoorDisplay, str]:
    """Create a door display of ``room``; return it with its secret, which is never shown again.

    Those who manage the room may (``campus.permissions.may_manage_room``); ``actor`` None is the
    command line.
    """
    _require_manager(actor, room, _("Only those who manage the room may set up its door displays."))
    raw = new_secret(DOOR_TOKEN_PREFIX)
    display = DoorDisplay.objects.create(
        room=room, name=name, prefix=raw[:DOOR_PREFIX_LENGTH], hashed_token=hash_token(raw), created_by=actor
    )
    return display, raw


@transaction.atomic
def door_display_revoke(*, actor: User | None, display: DoorDisplay) -> DoorDisplay:
    """Revoke ``display`` from now on (its address answers 404); revoking it again keeps the first time."""
    _require_manager(actor, display.room, _("Only those who manage the room may revoke its door displays."))
    if display.revoked_at is None:
        display.revoked_at = timezone.now()
        display.save(update_fields=["revoked_at"])
    return display


def door_display_for(*, raw: str, now: dt.datetime | None = None) -> DoorDisplay | None:
    """Return the active display whose secret is ``raw`` (noting that it was seen), else None."""
    if not raw.startswith(DOOR_TOKEN_PREFIX):
        return None
    display = (
        DoorDisplay.objects.select_related("room__building__campus")
        .filter(hashed_token=hash_token(raw), revoked_at__isnull=True)
        .first()
    )
    if display is None:
        return None
    now = now or timezone.now()
    if display.last_seen_at is None or now - display.last_seen_at >= LAST_SEEN_PRECISION:
        DoorDisplay.objects.filter(pk=display.pk).update(last_seen_at=now)
        display.last_seen_at = now
    return display


@dataclass(frozen=True)
class DoorEntry:
    """A booking as the door shows it: its public title or "Reserved", its times, whether it was checked in."""

    booking_id: int
    title: str
    start: dt.datetime
    end: dt.datetime
    checked_in: bool
    awaits_check_in: bool


@dataclass(frozen=True)
class DoorBoard:
    """What the door display of a room shows at ``now``."""

    room: Room
    now: dt.datetime
    current: DoorEntry | None
    next: DoorEntry | None
    # When the room is free now: until when (None: no booking in the next days).
    free_until: dt.datetime | None
    occupancy: Occupancy | None

    @property
    def free_until_today(self) -> bool:
        zone = self.room.building.campus.zone
        return (
            self.free_until is not None and self.free_until.astimezone(zone).date() == self.now.astimezone(zone).date()
        )


def _room_bookings(room: Room, *, now: dt.datetime) -> list[Booking]:
    """Return the active bookings holding ``room`` or any of its parts from now on for a while, by start."""
    parts = [part.pk for part in room_parts(room)]
    return list(
        Booking.objects.filter(
            blocks__part_id__in=parts, status__in=ACTIVE_STATUSES, end__gt=now, start__lt=now + LOOKAHEAD
        )
        .select_related("room")
        .distinct()
        .order_by("start", "pk")[:20]
    )


def door_board(*, display: DoorDisplay, now: dt.datetime | None = None) -> DoorBoard:
    """Return what ``display``'s page shows at ``now``: the booking now, the next one, free until, occupancy."""
    now = now or timezone.now()
    room = display.room
    viewer = viewer_for(None)  # what anyone passing by may see
    bookings = _room_bookings(room, now=now)

    def entry(booking: Booking) -> DoorEntry:
        return DoorEntry(
            booking_id=booking.pk,
            title=viewer.display_title(booking),
            start=booking.start,
            end=booking.end,
            checked_in=booking.checked_in_at is not None,
            awaits_check_in=booking.room_id == room.pk and booking_services.awaits_check_in(booking, now),
        )

    current = next((b for b in bookings if b.start <= now), None)
    upcoming = [b for b in bookings if b.start > now]
    # A booking starting within the check-in time is "now" for the door too: people arrive early.
    if current is None and upcoming and booking_services.awaits_check_in(upcoming[0], now):
        current, upcoming = upcoming[0], upcoming[1:]
    following = next((b for b in upcoming if current is None or b.start >= current.end), None)
    free_until = None
    if current is None or current.start > now:
        free_until = current.start if current is not None else (following.start if following else None)
    return DoorBoard(
        room=room,
        now=now,
        current=entry(current) if current is not None else None,
        next=entry(following) if following is not None else None,
        free_until=free_until,
        occupancy=room_occupancy(room=room, now=now),
    )


def door_check_in(*, display: DoorDisplay, booking_id: int, now: dt.datetime | None = None) -> Booking:
    """Check in the booking ``booking_id`` from ``display``: it must be a booking of the display's room."""
    booking = Booking.objects.filter(pk=booking_id, room_id=display.room_id).first()
    if booking is None:
        raise NotFound(_("No such booking in this room."))
    return booking_services.booking_check_in(booking=booking, actor=None, via="door", now=now)
