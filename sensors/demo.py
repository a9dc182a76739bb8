"""Demo sensors for the demo campus: people counters and presence sensors in the rooms the demo books,
how people use those rooms, and the readings of the past weeks.

``seed_demo_sensors(demo)`` registers them through ``sensors.services.sensor_register`` as the
campus's facility manager, after the demo campus and its bookings; a sensor that exists (found by
its external id) is left as it is. ``seed_demo_history(demo)`` then stores the readings they would
have sent on the weekdays of the past weeks (the simulator's model with ``demo_behaviours``, seed
0), and ``manage.py simulate_sensors`` publishes their readings from now on with the same behaviours.

The story the demo's utilisation reports tell: the sports hall's sections are booked but many
bookings are no-shows; the chemistry and physics labs are booked most of the day but used by
about half their capacity; three small meeting rooms are booked nearly all day and hold more
people than were booked.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass, field

from django.db import transaction
from django.utils import timezone

from bookings.demo import WEEKS_BACK
from campus.demo import DemoCampus
from campus.models import Campus, Room
from sensors.models import Reading, Sensor, SensorKind
from sensors.services import HistoricReading, readings_store_history, sensor_register
from sensors.simulator import OccupancyModel, RoomBehaviour, load_world, measurement_of, sample_times

# The campus's own facility manager may register sensors in every room of the campus.
REGISTERED_BY = "kampus.kiinteisto"
COUNTER = ("Xovis", "PC2S")
PRESENCE = ("Elsys", "ERS Eye")

# (room code, kinds): the rooms with demo bookings, the sections of the sports hall, the small meeting rooms of
# the story, and the library, which cannot be booked but is used all day (unbooked use).
DEMO_SENSORS: list[tuple[str, tuple[str, ...]]] = [
    ("A100", (SensorKind.COUNT,)),
    ("A101", (SensorKind.COUNT, SensorKind.PRESENCE)),
    ("A104", (SensorKind.COUNT,)),
    ("A120", (SensorKind.COUNT,)),
    ("A150", (SensorKind.COUNT, SensorKind.PRESENCE)),
    ("A151", (SensorKind.COUNT,)),
    ("A201", (SensorKind.COUNT,)),
    ("A202", (SensorKind.COUNT, SensorKind.PRESENCE)),
    ("A250", (SensorKind.PRESENCE,)),
    ("A252", (SensorKind.COUNT,)),
    ("A301", (SensorKind.COUNT,)),
    ("A302", (SensorKind.COUNT,)),
    ("B101", (SensorKind.COUNT,)),
    ("B120", (SensorKind.COUNT,)),
    ("C101", (SensorKind.COUNT,)),
    ("C102", (SensorKind.COUNT,)),
    ("C103", (SensorKind.COUNT,)),
    ("C111", (SensorKind.PRESENCE,)),
]


def demo_external_id(room_code: str, kind: str) -> str:
    """Return the external id (and MQTT topic level) of the demo sensor of ``kind`` in ``room_code``."""
    return f"kp-{room_code.lower()}-{kind}"


@dataclass
class DemoSensors:
    created: int = 0
    existing: int = 0
    rooms: int = 0

    def __str__(self) -> str:
        total = self.created + self.existing
        return f"{total} in {self.rooms} rooms ({self.created} created, {self.existing} there already)"


@transaction.atomic
def seed_demo_sensors(demo: DemoCampus) -> DemoSensors:
    """Register the demo sensors that are missing; change none that exists."""
    result = DemoSensors()
    registered_by = demo.users[REGISTERED_BY]
    existing = set(Sensor.objects.values_list("external_id", flat=True))
    for code, kinds in DEMO_SENSORS:
        room = demo.rooms.get(code)
        if room is None:  # a demo room someone deleted stays deleted
            continue
        result.rooms += 1
        for kind in kinds:
            external_id = demo_external_id(code, kind)
            if external_id in existing:
                result.existing += 1
                continue
            vendor, model = COUNTER if kind == SensorKind.COUNT else PRESENCE
            sensor_register(
                actor=registered_by, external_id=external_id, kind=kind, room=room, vendor=vendor, model=model
            )
            result.created += 1
    return result


# --- How the demo's rooms are used -------------------------------------------------------------------

# Many of the sports hall's bookings are no-shows (a class moved outdoors, a team that did not come).
GYM = RoomBehaviour(no_show_rate=0.4)
# Labs are booked for whole classes, but a lab class is a group: about half the seats are taken.
LAB = RoomBehaviour(capacity_share=(0.4, 0.65))
# Small meeting rooms in demand: hardly any no-shows, booked to the end, more people than booked.
CROWDED = RoomBehaviour(no_show_rate=0.03, early_finish_rate=0.05, turnout=(1.0, 1.5), crowding=1.3)

DEMO_BEHAVIOURS: dict[str, RoomBehaviour] = {
    "C100": GYM,
    "C101": GYM,
    "C102": GYM,
    "C103": GYM,
    "A301": LAB,
    "A302": LAB,
    "A150": CROWDED,
    "A151": CROWDED,
    "A252": CROWDED,
}


def demo_behaviours(campus: Campus) -> dict[int, RoomBehaviour]:
    """Return the behaviour of the demo's story rooms of ``campus`` by room id (the other rooms are ordinary)."""
    rooms = Room.objects.filter(building__campus=campus, code__in=DEMO_BEHAVIOURS).values_list("pk", "code")
    return {pk: DEMO_BEHAVIOURS[code] for pk, code in rooms}


# --- The past weeks' readings --------------------------------------------------------------------------

# The readings of the past weeks: every 5 minutes from 7:00 to 21:00 (campus time) on weekdays, which covers
# every demo booking on a weekday, and keeps seed_demo quick.
HISTORY_INTERVAL = dt.timedelta(minutes=5)
HISTORY_FROM = dt.time(7)
HISTORY_UNTIL = dt.time(21)
# The simulator's default seed: the past weeks and the live readings come from the same model.
HISTORY_SEED = 0


@dataclass
class DemoHistory:
    """The past weekdays given readings: ``first_day`` to ``last_day`` (campus time, both included)."""

    first_day: dt.date
    last_day: dt.date
    start: dt.datetime
    end: dt.datetime
    days: int = 0
    complete_days: int = 0  # days whose readings were all there already
    stored: int = 0
    existing: int = 0  # readings there already on the other days
    stored_days: list[dt.date] = field(default_factory=list)  # the days that got readings

    def __str__(self) -> str:
        if not self.days:
            return "no past weekdays to fill"
        return (
            f"{self.days} weekdays {self.first_day} – {self.last_day}, {self.stored} readings stored "
            f"({self.complete_days} days complete already)"
        )


def demo_history_days(*, today: dt.date) -> list[dt.date]:
    """Return the weekdays from the Monday the demo bookings begin (``WEEKS_BACK`` weeks ago) to yesterday."""
    first = today - dt.timedelta(weeks=WEEKS_BACK)
    first -= dt.timedelta(days=first.weekday())
    return [
        first + dt.timedelta(days=offset)
        for offset in range((today - first).days)
        if (first + dt.timedelta(days=offset)).weekday() < 5
    ]


def demo_history_readings(
    campus: Campus, *, days: list[dt.date], seed: int = HISTORY_SEED, skip_complete_days: bool = False
) -> Iterator[tuple[dt.date, list[HistoricReading]]]:
    """Yield, day by day, the readings the campus's active sensors send on ``days`` from ``HISTORY_FROM`` to
    ``HISTORY_UNTIL``, as the simulator's model with ``demo_behaviours`` says; the same seed, the same readings.

    With ``skip_complete_days`` a day whose readings are all stored already yields none (a quick second run).
    """
    zone = campus.zone
    behaviours = demo_behaviours(campus)
    sensors = {
        sensor.external_id: sensor
        for sensor in Sensor.objects.select_related("room__building").filter(
            room__building__campus=campus, is_active=True
        )
    }
    for day in days:
        start = dt.datetime.combine(day, HISTORY_FROM, tzinfo=zone)
        end = dt.datetime.combine(day, HISTORY_UNTIL, tzinfo=zone)
        moments = sample_times(start, end - dt.timedelta(seconds=1), HISTORY_INTERVAL)
        if skip_complete_days:
            stored = Reading.objects.filter(sensor__in=sensors.values(), ts__gte=start, ts__lt=end).count()
            if stored >= len(sensors) * len(moments):
                yield day, []  # every sensor's readings of the day are there already
                continue
        # A day's model, like the live simulator's window: the bookings around the day are all it needs.
        simulated, rooms, stays = load_world(
            campus, since=start - dt.timedelta(hours=2), until=end + dt.timedelta(hours=2), behaviours=behaviours
        )
        model = OccupancyModel(rooms=rooms, stays=stays, zone=zone, seed=seed)
        readings = []
        for sensor in simulated:
            registered = sensors[sensor.external_id]
            for moment in moments:
                count, present = measurement_of(model, sensor, moment)
                readings.append(HistoricReading(sensor=registered, ts=moment, count=count, present=present))
        yield day, readings


def seed_demo_history(demo: DemoCampus, *, today: dt.date | None = None, now: dt.datetime | None = None) -> DemoHistory:
    """Store the readings of the demo sensors on the weekdays of the past weeks (up to yesterday), those missing.

    Run again the same day, it stores nothing: each (sensor, ts) is stored once. The readings go
    through ``sensors.services.readings_store_history``, the ingest service's store without the age
    limit of readings that arrive over the network.
    """
    campus = demo.campus
    zone = campus.zone
    now = now or timezone.now()
    today = today or now.astimezone(zone).date()
    days = demo_history_days(today=today)
    first_day = days[0] if days else today
    last_day = days[-1] if days else today
    history = DemoHistory(
        first_day=first_day,
        last_day=last_day,
        start=dt.datetime.combine(first_day, HISTORY_FROM, tzinfo=zone),
        end=dt.datetime.combine(last_day, HISTORY_UNTIL, tzinfo=zone),
    )
    for day, readings in demo_history_readings(campus, days=days, skip_complete_days=True):
        history.days += 1
        if not readings:
            history.complete_days += 1
            continue
        result = readings_store_history(readings=readings, now=now)
        history.stored += result.stored
        history.existing += result.duplicates
        if result.stored:
            history.stored_days.append(day)
    return history
