"""``{% load occupancy %}``: a room's occupancy now, the front page's word on sensors, "… ago" for the sensor pages.

Template tags let the room page (a booking page) and the front page show what the sensors say
without the bookings and campus apps importing the sensors app, which sits above them.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import template
from django.conf import settings
from django.utils import timezone
from django.utils.timesince import timesince
from django.utils.translation import gettext as _

from campus.models import Room, User
from sensors.selectors import room_occupancy, sensor_status_counts

register = template.Library()


@register.simple_tag
def ago(moment: dt.datetime | None, now: dt.datetime | None = None) -> str:
    """Return how long before ``now`` ``moment`` was, in words ("5 minutes ago"); empty for None."""
    if moment is None:
        return ""
    now = now or timezone.now()
    if now - moment < dt.timedelta(minutes=1):
        return _("less than a minute ago")
    return _("%(time)s ago") % {"time": timesince(moment, now, depth=1)}


@register.inclusion_tag("sensors/_room_occupancy.html")
def room_occupancy_now(room: Room) -> dict[str, Any]:
    """Render the room's occupancy as facts (a ``<dt>`` and ``<dd>``), or nothing when it has no sensors."""
    now = timezone.now()
    occupancy = room_occupancy(room=room, now=now)
    return {
        "occupancy": occupancy,
        "since": ago(occupancy.ts, now) if occupancy is not None else "",
        "fresh_minutes": settings.KAMPUS_SENSOR_FRESH_MINUTES,
    }


@register.inclusion_tag("sensors/_home_summary.html")
def sensor_summary(user: User) -> dict[str, Any]:
    """Render the front page's word on the sensors of ``user``'s rooms: how many are offline, and the link."""
    return {"counts": sensor_status_counts(user=user)}
