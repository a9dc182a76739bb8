"""Release confirmed bookings that nobody uses: the no-show rule on live data (``docs/check-in.md``).

A confirmed occurrence that has started at least its room's no-show minutes N ago, has not ended
and was not checked in is released when the room's policy (``BookingPolicy.check_in``) says so:

- "sensor" (the default): only in a room with active sensors, when every one of them is online,
  their raw readings cover at least ``KAMPUS_SLOT_MIN_COVERAGE`` of [start, start + N) and none of
  them shows anyone (count 0 / present false) from the start until now. Missing data is never
  taken for an empty room, and an offline sensor stops the release.
- "required": when nobody checked in; readings that show someone there keep it (an offline
  sensor does not stop the release, the missing check-in is the evidence).
- "off": never.

A reading holds until the next one of its sensor, at most ``KAMPUS_READING_GAP_MINUTES``, as in the
rollups. Only bookings that have not ended are looked at: the job acts on live data and never
rewrites the history of a booking that is over. The release itself is
``bookings.services.booking_release_no_show``, which locks the booking, checks it again and asks
this module once more under the lock, so a check-in committed a moment earlier wins.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections import defaultdict
from dataclasses import dataclass, field

from django.conf import settings
from django.utils import timezone

from bookings import rules, services
from bookings.models import Booking, BookingStatus, CheckIn
from campus.models import Room
from sensors.models import Reading, Sensor, SensorStatus

logger = logging.getLogger(__name__)

# A booking is looked at once at least this long has passed since its start (no policy allows less).
SHORTEST_NO_SHOW = dt.timedelta(minutes=1)


@dataclass(frozen=True)
class Evidence:
    """What a room's sensors say about a window: whether they were all online, how much of it readings
    cover (0–1), and whether any showed someone there."""

    online: bool
    coverage: float
    present: bool


@dataclass
class AutoReleaseResult:
    """What one run did: bookings looked at, released, and kept for lack of evidence."""

    examined: int = 0
    released: list[int] = field(default_factory=list)
    kept: int = 0

    def __str__(self) -> str:
        return f"{self.examined} bookings examined, {len(self.released)} released as no-shows, {self.kept} kept"


def _merged_length(intervals: list[tuple[dt.datetime, dt.datetime]]) -> dt.timedelta:
    total = dt.timedelta(0)
    current_start: dt.datetime | None = None
    current_end: dt.datetime | None = None
    for start, end in sorted(intervals):
        if current_end is None or start > current_end:
            if current_end is not None and current_start is not None:
                total += current_end - current_start
            current_start, current_end = start, end
        else:
            current_end = max(current_end, end)
    if current_end is not None and current_start is not None:
        total += current_end - current_start
    return total


def room_evidence(
    *, sensors: list[Sensor], start: dt.datetime, end: dt.datetime, presence_until: dt.datetime
) -> Evidence:
    """Return what ``sensors`` (one room's active sensors) say about [start, end).

    Coverage is the share of [start, end) during which some reading holds; presence is any reading
    holding in [start, presence_until) with a count above zero or presence.
    """
    online = bool(sensors) and all(sensor.status == SensorStatus.ONLINE for sensor in sensors)
    gap = dt.timedelta(minutes=settings.KAMPUS_READING_GAP_MINUTES)
    until = max(end, presence_until)
    readings = (
        Reading.objects.filter(sensor__in=sensors, ts__gte=start - gap, ts__lt=until)
        .order_by("sensor_id", "ts")
        .values_list("sensor_id", "ts", "count", "present")
    )
    by_sensor: dict[int, list[tuple[dt.datetime, bool]]] = defaultdict(list)
    for sensor_id, ts, count, present in readings:
        by_sensor[sensor_id].append((ts, bool(count) if count is not None else bool(present)))
    covered: list[tuple[dt.datetime, dt.datetime]] = []
    someone = False
    for series in by_sensor.values():
        for index, (ts, occupied) in enumerate(series):
            following = series[index + 1][0] if index + 1 < len(series) else None
            holds_until = min(ts + gap, following) if following is not None else ts + gap
            if occupied and ts < presence_until and holds_until > start:
                someone = True
            window_start, window_end = max(ts, start), min(holds_until, end)
            if window_start < window_end:
                covered.append((window_start, window_end))
    coverage = _merged_length(covered) / (end - start) if end > start else 0.0
    return Evidence(online=online, coverage=coverage, present=someone)


def no_show_evidence(
    booking: Booking, *, policy: rules.EffectivePolicy, sensors: list[Sensor], now: dt.datetime
) -> bool | None:
    """Return whether ``booking`` counts as a no-show at ``now`` by its room's ``policy`` and ``sensors``.

    True: release it; False: someone is (or may be) there, keep it; None: the policy does not
    release here, or nothing can be said (offline sensor, too little data).
    """
    if policy.check_in == CheckIn.OFF or booking.checked_in_at is not None:
        return None
    deadline = booking.start + policy.no_show_after
    if now < deadline or now >= booking.end:
        return None
    if not sensors:
        return True if policy.check_in == CheckIn.REQUIRED else None
    evidence = room_evidence(sensors=sensors, start=booking.start, end=deadline, presence_until=now)
    if evidence.present:
        return False
    if policy.check_in == CheckIn.REQUIRED:
        return True
    if not evidence.online or evidence.coverage < settings.KAMPUS_SLOT_MIN_COVERAGE:
        return None
    return True


def candidates(now: dt.datetime):
    """Return the confirmed bookings, not checked in, started at least a minute ago and not ended."""
    return (
        Booking.objects.filter(
            status=BookingStatus.CONFIRMED,
            checked_in_at__isnull=True,
            start__lte=now - SHORTEST_NO_SHOW,
            end__gt=now,
        )
        .select_related("room__building__campus")
        .order_by("start", "pk")
    )


def release_no_shows(*, now: dt.datetime | None = None) -> AutoReleaseResult:
    """Release every booking that is a no-show at ``now`` (see the module's docstring); return what was done."""
    now = now or timezone.now()
    result = AutoReleaseResult()
    bookings = list(candidates(now))
    if not bookings:
        return result
    rooms: dict[int, Room] = {booking.room_id: booking.room for booking in bookings}
    policies = rules.effective_policies(list(rooms.values()))
    sensors_by_room: dict[int, list[Sensor]] = defaultdict(list)
    for sensor in Sensor.objects.filter(room_id__in=rooms, is_active=True).order_by("pk"):
        sensors_by_room[sensor.room_id].append(sensor)
    for booking in bookings:
        result.examined += 1
        policy = policies[booking.room_id]
        sensors = sensors_by_room.get(booking.room_id, [])
        if no_show_evidence(booking, policy=policy, sensors=sensors, now=now) is not True:
            result.kept += 1
            continue

        def still_no_show(locked: Booking, policy: rules.EffectivePolicy = policy) -> bool:
            # Under the row lock: re-read the sensors, so a reading stored meanwhile still counts.
            fresh = list(Sensor.objects.filter(room_id=locked.room_id, is_active=True).order_by("pk"))
            return no_show_evidence(locked, policy=policy, sensors=fresh, now=now) is True

        released = services.booking_release_no_show(
            booking=booking,
            no_show_after=policy.no_show_after,
            sensed=policy.check_in == CheckIn.SENSOR,
            now=now,
            confirm=still_no_show,
        )
        if released is None:
            result.kept += 1
        else:
            result.released.append(released.pk)
            logger.info("booking %s released as a no-show", released.pk)
    return result
