"""Fixtures of the sensor tests: sensors in the joint campus's rooms, and helpers to ingest messages."""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from django.utils import timezone

from sensors.ingester import parse_mqtt_url
from sensors.models import IngestSource, Sensor, SensorKind
from sensors.services import IncomingMessage, IngestResult, readings_ingest
from tests.conftest import JointCampus, require_service

from .mqtt import Broker, IngesterProcess, mosquitto_binary, port_open


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


# --- MQTT: the broker at MQTT_URL, or one started from deploy/mosquitto.conf ---------------------------

MQTT_URL_EXAMPLE = "mqtt://127.0.0.1:1883"


def mqtt_missing_reason(url: str | None) -> str:
    """Return why the MQTT tests cannot run with MQTT_URL=``url``."""
    if not url:
        return f"MQTT_URL is not set; install Mosquitto (apt-get install mosquitto) and set MQTT_URL={MQTT_URL_EXAMPLE}"
    return f"no MQTT broker answers at MQTT_URL={url}; install and start Mosquitto (apt-get install mosquitto)"


@pytest.fixture
def mqtt_url() -> str:
    """The broker of MQTT_URL (shared with others: tests use topics and client ids of their own)."""
    url = os.environ.get("MQTT_URL", "")
    if not url:
        require_service("an MQTT broker", mqtt_missing_reason(None))
    address = parse_mqtt_url(url)
    if not port_open(address.host, address.port):
        require_service("an MQTT broker", mqtt_missing_reason(url))
    return url


@pytest.fixture
def kampus_broker() -> Iterator[Broker]:
    """A Mosquitto started from deploy/mosquitto.conf on a spare loopback port (for the tests of loss)."""
    binary = mosquitto_binary()
    if binary is None or shutil.which("mosquitto_passwd") is None:
        require_service("Mosquitto", "mosquitto is not installed; install it: apt-get install mosquitto")
    broker = Broker(binary)
    try:
        broker.start()
        yield broker
    finally:
        broker.close()


@pytest.fixture
def ingester_processes(tmp_path: Path) -> Iterator[Callable[..., IngesterProcess]]:
    """Return a factory of ingester processes; every one still running at the end is killed."""
    started: list[IngesterProcess] = []

    def make(**options: Any) -> IngesterProcess:
        process = IngesterProcess(log_directory=tmp_path, **options)
        started.append(process)
        return process

    yield make
    for process in started:
        process.close()
