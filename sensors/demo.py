"""Demo sensors for the demo campus: people counters and presence sensors in the rooms the demo books.

``seed_demo_sensors(demo)`` registers them through ``sensors.services.sensor_register`` as the
campus's facility manager, after the demo campus and its bookings; a sensor that exists (found by
its external id) is left as it is. ``manage.py simulate_sensors`` then publishes their readings.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import transaction

from campus.demo import DemoCampus
from sensors.models import Sensor, SensorKind
from sensors.services import sensor_register

# The campus's own facility manager may register sensors in every room of the campus.
REGISTERED_BY = "kampus.kiinteisto"
COUNTER = ("Xovis", "PC2S")
PRESENCE = ("Elsys", "ERS Eye")

# (room code, kinds): the rooms with demo bookings, the sections of the sports hall, and the library,
# which cannot be booked but is used all day (unbooked use).
DEMO_SENSORS: list[tuple[str, tuple[str, ...]]] = [
    ("A100", (SensorKind.COUNT,)),
    ("A101", (SensorKind.COUNT, SensorKind.PRESENCE)),
    ("A104", (SensorKind.COUNT,)),
    ("A120", (SensorKind.COUNT,)),
    ("A150", (SensorKind.PRESENCE,)),
    ("A201", (SensorKind.COUNT,)),
    ("A202", (SensorKind.COUNT, SensorKind.PRESENCE)),
    ("A250", (SensorKind.PRESENCE,)),
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
