"""The MQTT ingester against a real Mosquitto: stored, refused, never lost, never stored twice.

The first tests use the broker at MQTT_URL with topics and client ids of their own; the tests of
loss start a Mosquitto from deploy/mosquitto.conf on a spare loopback port and run
``manage.py ingest_mqtt`` as processes, which they SIGTERM and SIGKILL.
"""

from __future__ import annotations

import datetime as dt
import re
import secrets
import threading
import time

import pytest
from django.test import Client
from django.utils import timezone

from sensors.models import DeadLetter, DeadLetterReason, Reading, Sensor, SensorKind
from sensors.services import gateway_token_create

from .conftest import body, iso
from .mqtt import GATEWAY_ACCOUNT, Publisher, running_ingester, wait_until

pytestmark = [pytest.mark.mqtt, pytest.mark.django_db(transaction=True)]

WAIT = 30  # seconds any single expectation may take


@pytest.fixture
def prefix() -> str:
    """A topic prefix of this test's own on the shared broker."""
    return f"kampus-test-{secrets.token_hex(4)}/sensors"


@pytest.fixture
def ingester_options(mqtt_url: str, prefix: str) -> dict:
    return {
        "url": mqtt_url,
        "topic_prefix": prefix,
        "client_id": f"kampus-test-ingester-{secrets.token_hex(4)}",
        "batch_size": 50,
        "flush_seconds": 0.1,
        "session_expiry": 60,
    }


@pytest.fixture
def publisher(mqtt_url: str):
    publisher = Publisher(mqtt_url)
    yield publisher
    publisher.close()


def readings_of(sensor: Sensor) -> list[tuple]:
    return list(Reading.objects.filter(sensor=sensor).order_by("ts").values_list("ts", "count", "present"))


# --- Through the broker at MQTT_URL ---------------------------------------------------------------------


def test_a_published_reading_is_stored(counter, ingester_options, prefix, publisher):
    ts = timezone.now().replace(microsecond=0) - dt.timedelta(seconds=30)

    with running_ingester(**ingester_options) as ingester:
        publisher.publish(f"{prefix}/{counter.external_id}", body({"ts": iso(ts), "count": 7}))
        wait_until(lambda: Reading.objects.exists(), timeout=WAIT, what="the reading is stored")

    assert readings_of(counter) == [(ts, 7, None)]
    assert (ingester.counters.received, ingester.counters.stored, ingester.counters.acked) == (1, 1, 1)


def test_each_payload_format_is_stored(counter, presence, ingester_options, prefix, publisher):
    base = timezone.now().replace(microsecond=0) - dt.timedelta(minutes=10)
    at = [base + dt.timedelta(minutes=m) for m in range(6)]
    messages = [
        (counter, {"ts": iso(at[0]), "count": 1}),
        (presence, {"ts": iso(at[0]), "present": True}),
        (counter, [{"ts": iso(at[1]), "count": 2}, {"ts": iso(at[2]), "count": 3}]),
        (counter, [{"bn": "urn:dev:mac:0024befffe804ff1:", "bt": at[3].timestamp(), "n": "count", "v": 4}]),
        (presence, [{"bn": "dev:", "bt": at[3].timestamp(), "n": "presence", "vb": False}]),
        (
            counter,
            {
                "end_device_ids": {"device_id": "x"},
                "uplink_message": {"received_at": iso(at[4]), "decoded_payload": {"count": 5}},
            },
        ),
    ]

    with running_ingester(**ingester_options):
        for sensor, payload in messages:
            publisher.publish(f"{prefix}/{sensor.external_id}", body(payload))
        wait_until(lambda: Reading.objects.count() == 7, timeout=WAIT, what="7 readings are stored")

    assert readings_of(counter) == [(at[m], m + 1, None) for m in range(5)]
    assert readings_of(presence) == [(at[0], None, True), (at[3], None, False)]
    assert not DeadLetter.objects.exists()


def test_each_kind_of_bad_input_is_a_dead_letter_and_acknowledged(
    counter, presence, ingester_options, prefix, publisher, settings
):
    settings.KAMPUS_SENSOR_MAX_PAYLOAD_BYTES = 1024  # read by the ingester thread, in this process
    inactive = Sensor.objects.create(external_id="retired", kind=SensorKind.COUNT, room=counter.room, is_active=False)
    now = timezone.now()
    bad = {
        DeadLetterReason.MALFORMED: (counter, b"{not json"),
        DeadLetterReason.INVALID: (counter, body({"count": "twelve"})),
        DeadLetterReason.UNKNOWN_FORMAT: (counter, body({"people": 3})),
        DeadLetterReason.UNKNOWN_SENSOR: ("ghost", body({"count": 1})),
        DeadLetterReason.INACTIVE_SENSOR: (inactive, body({"count": 1})),
        DeadLetterReason.WRONG_KIND: (presence, body({"count": 1})),
        DeadLetterReason.COUNT_OUT_OF_RANGE: (counter, body({"count": -3})),
        DeadLetterReason.FUTURE: (counter, body({"ts": iso(now + dt.timedelta(hours=1)), "count": 1})),
        DeadLetterReason.TOO_OLD: (counter, body({"ts": iso(now - dt.timedelta(days=8)), "count": 1})),
        DeadLetterReason.OVERSIZED: (counter, body([{"count": 1}] * 200)),
    }
    absurd = body({"count": 1000})  # 3 × 30 seats + 10 = 100 at most

    with running_ingester(**ingester_options) as ingester:
        for sensor, payload in bad.values():
            name = sensor if isinstance(sensor, str) else sensor.external_id
            publisher.publish(f"{prefix}/{name}", payload)
        publisher.publish(f"{prefix}/{counter.external_id}", absurd)
        wait_until(lambda: DeadLetter.objects.count() == len(bad) + 1, timeout=WAIT, what="every dead letter")

    reasons = sorted(DeadLetter.objects.values_list("reason", flat=True))
    assert reasons == sorted([*bad, DeadLetterReason.COUNT_OUT_OF_RANGE])
    assert not Reading.objects.exists()
    assert ingester.counters.rejected == len(bad) + 1
    assert ingester.counters.acked == len(bad) + 1
    ghost = DeadLetter.objects.get(reason=DeadLetterReason.UNKNOWN_SENSOR)
    assert (ghost.topic, ghost.payload) == (f"{prefix}/ghost", '{"count": 1}')

    # Acknowledged: the same session resumed gets none of them again, only what is new.
    with running_ingester(**ingester_options):
        publisher.publish(f"{prefix}/{counter.external_id}", body({"count": 2}))
        wait_until(lambda: Reading.objects.exists(), timeout=WAIT, what="the new reading is stored")
        time.sleep(0.5)
    assert DeadLetter.objects.count() == len(bad) + 1


def test_a_repeated_message_is_stored_once(counter, ingester_options, prefix, publisher):
    payload = body({"ts": iso(timezone.now()), "count": 3})

    with running_ingester(**ingester_options) as ingester:
        publisher.publish(f"{prefix}/{counter.external_id}", payload)
        wait_until(lambda: ingester.counters.stored == 1, timeout=WAIT, what="the first is stored")
        publisher.publish(f"{prefix}/{counter.external_id}", payload)
        wait_until(lambda: ingester.counters.duplicates == 1, timeout=WAIT, what="the second is a duplicate")

    assert Reading.objects.count() == 1
    assert not DeadLetter.objects.exists()


def test_http_ingest_stores_and_refuses_exactly_as_mqtt(joint_campus, ingester_options, prefix, publisher):
    """The same messages for twin sensors, one over MQTT, one over HTTP: the same readings, the same dead letters."""
    over_mqtt = Sensor.objects.create(external_id="twin-mqtt", kind=SensorKind.COUNT, room=joint_campus.classroom)
    over_http = Sensor.objects.create(external_id="twin-http", kind=SensorKind.COUNT, room=joint_campus.classroom)
    _, token = gateway_token_create(actor=None, campus=joint_campus.campus, name="tests")
    gateway = Client(headers={"Authorization": f"Bearer {token}"})
    now = timezone.now().replace(microsecond=0)
    payloads = [
        body({"ts": iso(now - dt.timedelta(minutes=5)), "count": 4}),
        body([{"ts": iso(now - dt.timedelta(minutes=4)), "count": 5}, {"ts": iso(now), "count": 999}]),
        body([{"n": "count", "v": 6, "t": (now - dt.timedelta(minutes=3)).timestamp()}]),
        body({"uplink_message": {"received_at": iso(now - dt.timedelta(minutes=2)), "decoded_payload": {"count": 7}}}),
        body({"ts": iso(now - dt.timedelta(minutes=5)), "count": 4}),  # a repeat
        b"\xff not json",
        body({"count": "x"}),
        body({"ts": iso(now + dt.timedelta(hours=2)), "count": 1}),
        body({"present": True}),
        body({"temperature": 3}),
    ]

    with running_ingester(**ingester_options) as ingester:
        for payload in payloads:
            publisher.publish(f"{prefix}/twin-mqtt", payload)
        counters = ingester.counters
        # 4 readings stored, 1 repeat, 6 refused (one of them inside a batch).
        wait_until(lambda: counters.stored + counters.duplicates + counters.rejected == 11, timeout=WAIT, what="all 11")
    answers = [
        gateway.post("/api/v1/readings?sensor=twin-http", payload, content_type="application/json")
        for payload in payloads
    ]

    assert {answer.status_code for answer in answers} == {200}
    assert sum(answer.json()["stored"] for answer in answers) == 4
    assert sum(answer.json()["duplicates"] for answer in answers) == 1
    assert readings_of(over_http) == [(ts, count, None) for ts, count, _present in readings_of(over_mqtt)]
    assert len(readings_of(over_mqtt)) == 4

    def letters(sensor: Sensor) -> list[tuple]:
        rows = DeadLetter.objects.filter(sensor=sensor).values_list("reason", "detail", "payload", "payload_bytes")
        # Details are the same but for the time each message was received.
        return sorted(
            (reason, re.sub(r" received=\S+", "", detail), payload, size) for reason, detail, payload, size in rows
        )

    assert letters(over_http) == letters(over_mqtt)
    assert len(letters(over_mqtt)) == 6


# --- Loss: a broker from deploy/mosquitto.conf, ingesters as processes ----------------------------------


def many_sensors(room, count: int) -> list[Sensor]:
    return [
        Sensor.objects.create(external_id=f"counter-{n:02d}", kind=SensorKind.COUNT, room=room) for n in range(count)
    ]


def stream(sensors: list[Sensor], total: int) -> list[tuple[str, dt.datetime, int]]:
    """Return ``total`` distinct readings over the sensors: (external id, ts, count), one a second per sensor."""
    start = timezone.now().replace(microsecond=0) - dt.timedelta(hours=2)
    return [
        (sensors[n % len(sensors)].external_id, start + dt.timedelta(seconds=n // len(sensors)), n % 50)
        for n in range(total)
    ]


def publish_all(publisher: Publisher, readings: list[tuple[str, dt.datetime, int]], *, per_second: float = 0) -> None:
    for external_id, ts, count in readings:
        publisher.publish(f"kampus/sensors/{external_id}", body({"ts": iso(ts), "count": count}))
        if per_second:
            time.sleep(1 / per_second)


def stored_exactly(readings: list[tuple[str, dt.datetime, int]]) -> None:
    got = sorted(Reading.objects.values_list("sensor__external_id", "ts", "count"))
    assert len(got) == len(readings)
    assert got == sorted(readings)


def test_sigkill_mid_stream_then_restart_stores_every_message_exactly_once(
    kampus_broker, ingester_processes, joint_campus
):
    readings = stream(many_sensors(joint_campus.classroom, 10), 3000)
    ingester = ingester_processes(url=kampus_broker.url(), client_id="kampus-ingester-a", batch_size=100)
    ingester.start()
    publisher = Publisher(kampus_broker.url(GATEWAY_ACCOUNT))
    sending = threading.Thread(target=publish_all, args=(publisher, readings), kwargs={"per_second": 1500})
    sending.start()
    try:
        wait_until(lambda: Reading.objects.count() >= 500, timeout=WAIT, what="the first readings are stored")
        ingester.kill()
        at_kill = Reading.objects.count()
        sending.join(WAIT)
        publisher.wait_until_delivered()
    finally:
        publisher.close()
    assert at_kill < len(readings), "the ingester was killed after the stream, not in its middle"

    ingester.start()
    wait_until(lambda: Reading.objects.count() >= len(readings), timeout=60, what="every reading is stored")
    assert ingester.terminate() == 0

    stored_exactly(readings)
    assert not DeadLetter.objects.exists()
    assert ingester.last_counters()["connects"] == 1


def test_messages_published_while_the_ingester_is_down_arrive_when_it_is_back(
    kampus_broker, ingester_processes, joint_campus
):
    readings = stream(many_sensors(joint_campus.classroom, 5), 500)
    ingester = ingester_processes(url=kampus_broker.url(), client_id="kampus-ingester-a")
    ingester.start()
    assert ingester.terminate() == 0  # the session stays on the broker

    publisher = Publisher(kampus_broker.url(GATEWAY_ACCOUNT))
    publish_all(publisher, readings)
    publisher.wait_until_delivered()
    publisher.close()
    assert not Reading.objects.exists()

    ingester.start()
    wait_until(lambda: Reading.objects.count() >= len(readings), timeout=WAIT, what="the queued readings are stored")
    assert ingester.terminate() == 0
    stored_exactly(readings)
    assert "(session resumed)" in ingester.text()


def test_sigterm_writes_what_was_received_before_exiting(kampus_broker, ingester_processes, joint_campus):
    readings = stream(many_sensors(joint_campus.classroom, 5), 50)
    # Batches flush only at 10,000 messages or after 10 minutes: only the stop can write these.
    ingester = ingester_processes(
        url=kampus_broker.url(), client_id="kampus-ingester-a", batch_size=10_000, flush_seconds=600
    )
    ingester.start()
    publisher = Publisher(kampus_broker.url(GATEWAY_ACCOUNT))
    publish_all(publisher, readings)
    publisher.wait_until_delivered()
    publisher.close()
    time.sleep(1)  # delivered by the broker to the ingester, which holds them
    assert not Reading.objects.exists()

    started = time.monotonic()
    assert ingester.terminate() == 0
    assert time.monotonic() - started < 10

    stored_exactly(readings)
    counters = ingester.last_counters()
    assert (counters["received"], counters["stored"], counters["acked"]) == (50, 50, 50)


def test_two_shared_ingesters_split_the_stream_and_store_each_reading_once(
    kampus_broker, ingester_processes, joint_campus
):
    readings = stream(many_sensors(joint_campus.classroom, 10), 2000)
    first = ingester_processes(url=kampus_broker.url(), client_id="kampus-ingester-1", shared="kampus")
    second = ingester_processes(url=kampus_broker.url(), client_id="kampus-ingester-2", shared="kampus")
    first.start()
    second.start()
    assert "$share/kampus/kampus/sensors/+" in first.text()

    publisher = Publisher(kampus_broker.url(GATEWAY_ACCOUNT))
    publish_all(publisher, readings)
    publisher.wait_until_delivered()
    publisher.close()
    wait_until(lambda: Reading.objects.count() >= len(readings), timeout=60, what="every reading is stored")
    assert first.terminate() == 0
    assert second.terminate() == 0

    stored_exactly(readings)
    received = [first.last_counters()["received"], second.last_counters()["received"]]
    stored = [first.last_counters()["stored"], second.last_counters()["stored"]]
    assert sum(received) == len(readings), received  # each message went to one of them
    assert all(count > 0 for count in stored), stored  # and both took part
    assert sum(stored) == len(readings)


def test_the_ingester_reconnects_after_a_broker_restart_and_the_queue_survives_it(
    kampus_broker, ingester_processes, joint_campus
):
    readings = stream(many_sensors(joint_campus.classroom, 5), 400)
    before, queued, after = readings[:100], readings[100:200], readings[200:]
    ingester = ingester_processes(url=kampus_broker.url(), client_id="kampus-ingester-a")
    ingester.start()
    publisher = Publisher(kampus_broker.url(GATEWAY_ACCOUNT))
    publish_all(publisher, before)
    publisher.wait_until_delivered()
    publisher.close()
    wait_until(lambda: Reading.objects.count() >= 100, timeout=WAIT, what="the first readings are stored")

    # The broker restarts under the running ingester, which reconnects with backoff.
    kampus_broker.stop()
    ingester.wait_for_line("disconnected from the broker", timeout=WAIT)
    kampus_broker.start()
    ingester.wait_for_line("subscribed to", count=2, timeout=WAIT)
    assert ingester.terminate() == 0

    # Queued for the stopped ingester, kept across another restart of the broker (persistence).
    publisher = Publisher(kampus_broker.url(GATEWAY_ACCOUNT))
    publish_all(publisher, queued)
    publisher.wait_until_delivered()
    publisher.close()
    kampus_broker.stop()
    kampus_broker.start()
    ingester.start()
    publisher = Publisher(kampus_broker.url(GATEWAY_ACCOUNT))
    publish_all(publisher, after)
    publisher.wait_until_delivered()
    publisher.close()

    wait_until(lambda: Reading.objects.count() >= len(readings), timeout=WAIT, what="every reading is stored")
    assert ingester.terminate() == 0
    stored_exactly(readings)


def test_the_acl_lets_a_gateway_publish_but_not_read(kampus_broker, ingester_processes, joint_campus):
    readings = stream(many_sensors(joint_campus.classroom, 1), 3)
    spy = ingester_processes(url=kampus_broker.url(GATEWAY_ACCOUNT), client_id="kampus-gateway-spy")
    spy.start()  # subscribing is granted, but the ACL delivers nothing to a gateway account
    ingester = ingester_processes(url=kampus_broker.url(), client_id="kampus-ingester-a")
    ingester.start()

    publisher = Publisher(kampus_broker.url(GATEWAY_ACCOUNT))
    publish_all(publisher, readings)
    publisher.wait_until_delivered()
    publisher.close()
    wait_until(lambda: Reading.objects.count() >= 3, timeout=WAIT, what="the ingester stores the readings")
    assert ingester.terminate() == 0
    assert spy.terminate() == 0

    assert spy.last_counters()["received"] == 0
    assert ingester.last_counters()["received"] == 3
