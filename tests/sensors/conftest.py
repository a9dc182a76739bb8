"""Fixtures of the sensor tests: sensors in the joint campus's rooms, and helpers to ingest messages."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
from django.utils import timezone

from sensors.models import IngestSource, Sensor, SensorKind
from sensors.services import IncomingMessage, IngestResult, readings_ingest
from tests.conftest import JointCampus


@pytest.fixture
def counter(joint_campus: JointCampus) -> Sensor:
    """A people counter in the lukio's classroom (capacity 30: counts up to 3 × 30 + 10 = 100 are believable)."""
    return Sensor.objects.create(external_id="a101-counter", kind=SensorKind.COUNT, room=joint_campus.classroom)


@pytest.fixture
def presence(joint_campus: JointCampus) -> Sensor:
    """A presence sensor in the lukio's chemistry lab."""
    return Sensor.objects.create(external_id="a201-presence", kind=SensorKind.PRESENCE, room=joint_campus.lab)


@pytest.fixture
def auditorium_counter(joint_campus: JointCampus) -> Sensor:
    """A people counter in the campus's shared auditorium (capacity 200)."""
    return Sensor.objects.create(external_id="a001-counter", kind=SensorKind.COUNT, room=joint_campus.shared_auditorium)


def body(value: Any) -> bytes:
    return json.dumps(value).encode()


def iso(moment: dt.datetime) -> str:
    return moment.isoformat()


def ingest(
    payload: bytes | Any,
    *,
    sensor: str | None,
    received_at: dt.datetime | None = None,
    source: str = IngestSource.MQTT,
    campus_id: int | None = None,
) -> IngestResult:
    """Ingest one message for ``sensor`` (a JSON value is encoded) as the ingester would."""
    raw = payload if isinstance(payload, bytes) else body(payload)
    message = IncomingMessage(
        payload=raw,
        received_at=received_at or timezone.now(),
        external_id=sensor,
        source=source,
        topic=f"kampus/sensors/{sensor}" if source == IngestSource.MQTT else (sensor or ""),
        campus_id=campus_id,
    )
    return readings_ingest(messages=[message])
