"""``manage.py simulate_sensors`` against the real broker and the real HTTP endpoint: what it publishes reaches a
subscriber and, through the ingester, Kampus; without a broker it says so and feeds POST /api/v1/readings."""

from __future__ import annotations

import datetime as dt
import os
import re
import secrets
import signal
import subprocess
import sys
import threading
from io import StringIO

import paho.mqtt.client as mqtt
import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone

from campus.models import OpeningHours
from sensors.ingester import parse_mqtt_url
from sensors.models import DeadLetter, Reading, Sensor
from sensors.payloads import parse_payload
from sensors.services import gateway_token_create
from sensors.simulator import OccupancyModel, load_world, reading_of
from tests.web.conftest import running_booking

from .mqtt import REPO, child_database_url, free_port, running_ingester, wait_until

WAIT = 30


@pytest.fixture
def prefix(settings) -> str:
    """A topic prefix of this test's own on the shared broker, for the simulator (read from the settings)."""
    settings.KAMPUS_MQTT_TOPIC_PREFIX = f"kampus-test-{secrets.token_hex(4)}/sensors"
    return settings.KAMPUS_MQTT_TOPIC_PREFIX


class Subscriber:
    """A client that keeps every message under ``<prefix>/+`` (QoS 1), as any consumer of the sensor topics would."""

    def __init__(self, url: str, prefix: str) -> None:
        address = parse_mqtt_url(url)
        self.messages: list[mqtt.MQTTMessage] = []
        self.client = mqtt.Client(
            mqtt.CallbackAPIVersion.VERSION2, client_id=f"kampus-test-sub-{secrets.token_hex(4)}", protocol=mqtt.MQTTv5
        )
        if address.username:
            self.client.username_pw_set(address.username, address.password)
        subscribed = threading.Event()
        self.client.on_connect = lambda client, *args: client.subscribe(f"{prefix}/+", qos=1)
        self.client.on_subscribe = lambda *args: subscribed.set()
        self.client.on_message = lambda client, userdata, message: self.messages.append(message)
        self.client.connect(address.host, address.port)
        self.client.loop_start()
        assert subscribed.wait(10), "the test subscriber could not subscribe"

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


@pytest.fixture
def subscriber(mqtt_url: str, prefix: str):
    subscriber = Subscriber(mqtt_url, prefix)
    yield subscriber
    subscriber.close()


@pytest.fixture
def lesson_now(joint_campus, lukio_staff):
    """A lesson running now in the classroom (the buildings open round the clock, so any hour will do)."""
    for building in (joint_campus.main_building, joint_campus.workshop_building):
        OpeningHours.objects.filter(building=building).delete()
        for weekday in range(7):
            OpeningHours.objects.create(building=building, weekday=weekday, opens=dt.time(0), closes=dt.time(23, 59))
    return running_booking(lukio_staff, joint_campus.classroom)


def simulate(*args: str) -> tuple[str, str]:
    """Run ``manage.py simulate_sensors`` with ``args``; return what it wrote to stdout and stderr."""
    stdout, stderr = StringIO(), StringIO()
    call_command("simulate_sensors", *args, stdout=stdout, stderr=stderr)
    return stdout.getvalue(), stderr.getvalue()


def predicted(campus, readings: list[Reading], seed: int = 0) -> list[tuple]:
    """Return what the simulation says each reading's sensor reported at its time (the model, asked afresh)."""
    now = timezone.now()
    sensors, rooms, stays = load_world(campus, since=now - dt.timedelta(hours=12), until=now + dt.timedelta(hours=12))
    model = OccupancyModel(rooms=rooms, stays=stays, zone=campus.zone, seed=seed)
    by_id = {sensor.external_id: sensor for sensor in sensors}
    answers = []
    for reading in readings:
        value = reading_of(model, by_id[reading.sensor.external_id], reading.ts)
        answers.append((reading.sensor.external_id, reading.ts, value.get("count"), value.get("present")))
    return answers


def stored(readings: list[Reading]) -> list[tuple]:
    return [(reading.sensor.external_id, reading.ts, reading.count, reading.present) for reading in readings]


# --- Over the broker at MQTT_URL ---------------------------------------------------------------------


@pytest.mark.mqtt
@pytest.mark.django_db
def test_every_active_sensor_publishes_kampus_json_with_qos_1(
    mqtt_url, prefix, subscriber, counter, presence, auditorium_counter, joint_campus
):
    Sensor.objects.filter(pk=auditorium_counter.pk).update(is_active=False)

    output, _errors = simulate("--once", "--campus", str(joint_campus.campus.pk), "--url", mqtt_url)

    wait_until(lambda: len(subscriber.messages) == 2, timeout=WAIT, what="both sensors' messages arrive")
    assert sorted(message.topic for message in subscriber.messages) == [
        f"{prefix}/a101-counter",
        f"{prefix}/a201-presence",
    ]
    assert {message.qos for message in subscriber.messages} == {1}
    for message in subscriber.messages:
        parsed = parse_payload(message.payload, received_at=timezone.now())
        assert len(parsed.readings) == 1
        assert not parsed.refusals
    assert "sensors=2 messages=2 readings=2" in output


@pytest.mark.mqtt
@pytest.mark.django_db(transaction=True)
def test_simulated_readings_flow_through_the_ingester_into_kampus_as_simulated(
    mqtt_url, prefix, counter, presence, joint_campus, lesson_now
):
    options = {
        "url": mqtt_url,
        "topic_prefix": prefix,
        "client_id": f"kampus-test-ingester-{secrets.token_hex(4)}",
        "batch_size": 50,
        "flush_seconds": 0.1,
        "session_expiry": 60,
    }
    with running_ingester(**options):
        # 20 simulated minutes at 600× take two seconds; then a second of real time.
        output, _errors = simulate(
            "--campus",
            str(joint_campus.campus.pk),
            "--url",
            mqtt_url,
            "--start",
            "20m",
            "--speed",
            "600",
            "--duration",
            "3",
        )
        sent = int(re.search(r"readings=(\d+)", output)[1])
        wait_until(lambda: Reading.objects.count() == sent, timeout=WAIT, what=f"{sent} readings are stored")

    readings = list(Reading.objects.select_related("sensor").order_by("sensor__external_id", "ts"))
    assert sent >= 2 * 20
    assert stored(readings) == predicted(joint_campus.campus, readings)
    assert not DeadLetter.objects.exists()
    during_the_lesson = [r for r in readings if r.sensor_id == counter.pk and lesson_now.start <= r.ts < lesson_now.end]
    assert during_the_lesson, "no reading fell inside the running lesson"


@pytest.mark.mqtt
@pytest.mark.django_db(transaction=True)
def test_sigterm_stops_the_simulator_at_once(mqtt_url, prefix, counter, joint_campus):
    environment = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.settings",
        "DATABASE_URL": child_database_url(),
        "MQTT_URL": mqtt_url,
        "MQTT_TOPIC_PREFIX": prefix,
        "PYTHONUNBUFFERED": "1",
    }
    process = subprocess.Popen(
        [sys.executable, str(REPO / "manage.py"), "simulate_sensors", "--campus", str(joint_campus.campus.pk)],
        env=environment,
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        first = process.stdout.readline()
        assert first.startswith("Simulating the sensors of Otava Campus"), first
        process.send_signal(signal.SIGTERM)
        output, _ = process.communicate(timeout=10)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()

    assert process.returncode == 0, output
    assert "Simulator stopped: sensors=1 messages=1 readings=1" in output


# --- Without a broker: HTTP ------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_without_a_broker_it_says_so_and_feeds_the_http_endpoint(live_server, counter, presence, joint_campus):
    _token, raw = gateway_token_create(actor=None, campus=joint_campus.campus, name="simulator")
    closed = f"mqtt://127.0.0.1:{free_port()}"

    output, errors = simulate(
        "--once", "--campus", str(joint_campus.campus.pk), "--url", closed, "--http", live_server.url, "--token", raw
    )

    assert errors.startswith(f"No MQTT broker answers at {closed}")
    assert f"Sending to {live_server.url}/api/v1/readings instead." in errors
    assert f"to HTTP POST {live_server.url}/api/v1/readings" in output
    readings = list(Reading.objects.select_related("sensor").order_by("sensor__external_id", "ts"))
    assert [reading.sensor.external_id for reading in readings] == ["a101-counter", "a201-presence"]
    assert stored(readings) == predicted(joint_campus.campus, readings)
    assert not DeadLetter.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_a_refused_gateway_token_stops_the_simulator(live_server, counter, joint_campus):
    closed = f"mqtt://127.0.0.1:{free_port()}"

    with pytest.raises(CommandError, match="refused the gateway token"):
        simulate(
            "--once",
            "--campus",
            str(joint_campus.campus.pk),
            "--url",
            closed,
            "--http",
            live_server.url,
            "--token",
            "kgw_wrong",
        )

    assert not Reading.objects.exists()
