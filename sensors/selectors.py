"""Reads of the sensors domain, scoped to who asks: facility managers see the sensors of the rooms they manage."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.conf import settings
from django.db.models import Case, Count, IntegerField, OuterRef, Q, QuerySet, Subquery, Value, When

from campus.models import Membership, Role, Room, User
from campus.permissions import managed_rooms, managed_scope
from sensors.models import DeadLetter, IngestToken, Reading, Sensor, SensorKind, SensorStatus


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


def room_keepers(*, room: Room, on: dt.date) -> QuerySet[User]:
    """Return the active users who keep ``room`` on ``on`` and so look after its sensors: the facility
    managers of its owner and of its campus (``campus.permissions.may_manage_room``)."""
    place = Q(memberships__campus_id=room.building.campus_id)
    if room.owner_id:
        place |= Q(memberships__institution_id=room.owner_id)
    valid = Membership.objects.valid_on(on).filter(role=Role.FACILITY_MANAGER)
    return User.objects.filter(place, memberships__in=valid, is_active=True).distinct().order_by("pk")


# --- Pages: the sensors with their latest readings, and a room's occupancy now -----------------------


def with_latest_reading(sensors: QuerySet[Sensor]) -> QuerySet[Sensor]:
    """Annotate each sensor with its latest reading: ``latest_ts``, ``latest_count``, ``latest_present``.

    Each is a subquery that reads one row through the unique (sensor, ts) index, newest first.
    """
    latest = Reading.objects.filter(sensor=OuterRef("pk")).order_by("-ts")[:1]
    return sensors.annotate(
        latest_ts=Subquery(latest.values("ts")),
        latest_count=Subquery(latest.values("count")),
        latest_present=Subquery(latest.values("present")),
    )


def sensor_overview(*, user: User, status: str = "") -> QuerySet[Sensor]:
    """Return the sensors of the rooms ``user`` manages for the sensors page: the offline ones first, then
    those not heard from yet, then by room; ``status`` (a ``SensorStatus``) keeps only those."""
    sensors = sensor_list(user=user).select_related("room__building__campus")
    if status:
        sensors = sensors.filter(status=status)
    priority = Case(
        When(status=SensorStatus.OFFLINE, then=Value(0)),
        When(status=SensorStatus.NEW, then=Value(1)),
        default=Value(2),
        output_field=IntegerField(),
    )
    ordered = sensors.annotate(priority=priority).order_by(
        "priority", "room__building__code", "room__code", "external_id"
    )
    return with_latest_reading(ordered)


def sensor_status_counts(*, user: User) -> dict[str, int]:
    """Return how many of ``user``'s sensors there are, in all and by status (one query)."""
    return (
        sensor_list(user=user)
        .order_by()
        .aggregate(
            total=Count("pk"),
            online=Count("pk", filter=Q(status=SensorStatus.ONLINE)),
            offline=Count("pk", filter=Q(status=SensorStatus.OFFLINE)),
            new=Count("pk", filter=Q(status=SensorStatus.NEW)),
        )
    )


@dataclass(frozen=True)
class Occupancy:
    """What a room's sensors say now: its latest fresh people count, else its latest fresh presence.

    ``ts`` None means the room has sensors but none has sent a reading lately (unknown occupancy).
    """

    ts: dt.datetime | None = None
    count: int | None = None
    present: bool | None = None


def room_occupancy(*, room: Room, now: dt.datetime) -> Occupancy | None:
    """Return ``room``'s occupancy from its active sensors' readings of the last ``KAMPUS_SENSOR_FRESH_MINUTES``;
    None when the room has no active sensor.

    A people count wins over presence (it says more); of each kind the newest reading counts. The
    readings are found through the sensors now in the room, by the unique (sensor, ts) index.
    """
    kinds = dict(Sensor.objects.filter(room=room, is_active=True).values_list("pk", "kind"))
    if not kinds:
        return None
    fresh = Reading.objects.filter(ts__gte=now - dt.timedelta(minutes=settings.KAMPUS_SENSOR_FRESH_MINUTES)).order_by(
        "-ts"
    )
    for kind in (SensorKind.COUNT, SensorKind.PRESENCE):
        ids = [pk for pk, sensor_kind in kinds.items() if sensor_kind == kind]
        reading = fresh.filter(sensor_id__in=ids).only("ts", "count", "present").first() if ids else None
        if reading is not None:
            return Occupancy(ts=min(reading.ts, now), count=reading.count, present=reading.present)
    return Occupancy()
