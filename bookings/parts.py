"""What a booking of a room blocks: its parts (a divisible hall's sections, or the room itself) and its buffer.

Shared by the services (which write blocks) and the selectors (which read availability).
"""

from __future__ import annotations

import datetime as dt

from campus.models import Room


def room_parts(room: Room) -> list[Room]:
    """Return the parts a booking of ``room`` blocks: its sections, or the room itself.

    Ordered by id, so that concurrent transactions lock parts in the same order (no deadlocks).
    """
    sections = sorted(room.sections.all(), key=lambda part: part.pk)
    return sections or [room]


def blocked_until(room: Room, end: dt.datetime) -> dt.datetime:
    """Return when a booking of ``room`` ending at ``end`` frees it: after the room's buffer."""
    return end + dt.timedelta(minutes=room.buffer_minutes)
