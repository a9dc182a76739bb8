"""Reads of the sensors domain, scoped to who asks: facility managers see the sensors of the rooms they manage."""

from __future__ import annotations

import datetime as dt

from django.db.models import Q, QuerySet

from campus.models import User
from campus.permissions import managed_rooms, managed_scope
from sensors.models import DeadLetter, IngestToken, Reading, Sensor


def is_facility_manager(user: User) -> bool:
    """Return whether ``user`` manages rooms anywhere today (the audience of the sensor registry)."""
    if user.is_active and user.is_superuser:
        return True
    institution_ids, campus_ids = managed_scope(user)
    return bool(institution_ids or campus_ids)


def sensor_list(*, user: User) -> QuerySet[Sensor]:
    """Return the sensors in rooms ``user`` manages, with their rooms and buildings joined."""
    sensors = Sensor.objects.select_related("room__building").order_by("external_id")
    if user.is_active and user.is_superuser:
        return sensors
    return sensors.filter(room__in=managed_rooms(user))


def reading_list(
    *, sensor: Sensor, start: dt.datetime | None = None, end: dt.datetime | None = None
) -> QuerySet[Reading]:
    """Return ``sensor``'s readings in [start, end), oldest first (the unique (sensor, ts) index serves it)."""
    readings = Reading.objects.filter(sensor=sensor).only("id", "ts", "count", "present").order_by("ts")
    if start is not None:
        readings = readings.filter(ts__gte=start)
    if end is not None:
        readings = readings.filter(ts__lt=end)
    return readings


def dead_letter_list(*, user: User) -> QuerySet[DeadLetter]:
    """Return the dead letters ``user`` may read, newest first.

    Those of a known sensor go to whoever manages its room; those naming no known sensor go to the
    facility managers of the campus they came in for (a gateway token's), and, when even that is
    unknown (an MQTT topic of an unregistered sensor), to every campus-level facility manager.
    """
    letters = DeadLetter.objects.select_related("sensor").order_by("-received_at", "-pk")
    if user.is_active and user.is_superuser:
        return letters
    _institution_ids, campus_ids = managed_scope(user)
    visible = Q(sensor__room__in=managed_rooms(user)) | Q(sensor__isnull=True, campus_id__in=campus_ids)
    if campus_ids:
        visible |= Q(sensor__isnull=True, campus__isnull=True)
    return letters.filter(visible)


def gateway_token_list(*, user: User) -> QuerySet[IngestToken]:
    """Return the gateway tokens of the campuses whose facility manager ``user`` is."""
    tokens = IngestToken.objects.select_related("campus").order_by("-created_at")
    if user.is_active and user.is_superuser:
        return tokens
    _institution_ids, campus_ids = managed_scope(user)
    return tokens.filter(campus_id__in=campus_ids)
