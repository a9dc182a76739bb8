"""PostgreSQL restarts under a running ingester: every QoS 1 reading the broker accepted is stored exactly once.

The ingester (``manage.py ingest_mqtt``, a process) writes to a PostgreSQL server of the test's own
(tests/postgres_cluster.py), which the test stops with ``pg_ctl`` in the middle of a stream and
starts again, while a gateway keeps publishing to a Mosquitto from deploy/mosquitto.conf. The
ingester keeps running through the outage: it holds the batch it could not write (unacknowledged,
so the broker keeps it too), retries with backoff and writes it once the server is back.
"""

from __future__ import annotations

import threading

import pytest

from tests.postgres_cluster import ThrowawayCluster, restartable_postgres  # noqa: F401 (a fixture)

from .mqtt import GATEWAY_ACCOUNT, Publisher, wait_until
from .test_mqtt_ingest import many_sensors, publish_all, stream

pytestmark = [
    pytest.mark.mqtt,
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("on_postgres"),  # before the broker starts
]

WAIT = 30


def stored_count(database: ThrowawayCluster) -> int:
    return database.query("SELECT count(*) FROM sensors_reading")[0][0]


def stored_readings(database: ThrowawayCluster) -> list[tuple]:
    return sorted(
        database.query(
            "SELECT sensor.external_id, reading.ts, reading.count FROM sensors_reading reading "
            "JOIN sensors_sensor sensor ON sensor.id = reading.sensor_id"
        )
    )


@pytest.mark.parametrize("shutdown", ["fast", "immediate"])
def test_a_postgresql_restart_mid_stream_loses_and_duplicates_no_reading(
    kampus_broker, ingester_processes, joint_campus, request, shutdown
):
    """``fast`` is a service manager's restart; ``immediate`` a crash, recovered from the WAL at the start."""
    readings = stream(many_sensors(joint_campus.classroom, 10), 3000)
    # A stream under way when the server stops, more readings while it is down and more once it is back:
    # each part is published at its moment, however fast or slow this machine is.
    streaming, while_down, after = readings[:1500], readings[1500:2250], readings[2250:]
    database: ThrowawayCluster = request.getfixturevalue("restartable_postgres")  # a copy holding the sensors
    ingester = ingester_processes(
        url=kampus_broker.url(), client_id="kampus-ingester-a", batch_size=100, database_url=database.url
    )
    ingester.start()
    publisher = Publisher(kampus_broker.url(GATEWAY_ACCOUNT))
    second_gateway = Publisher(kampus_broker.url(GATEWAY_ACCOUNT))  # the stream's thread keeps the first
    sending = threading.Thread(target=publish_all, args=(publisher, streaming), kwargs={"per_second": 300})
    sending.start()
    try:
        wait_until(lambda: stored_count(database) >= 500, timeout=WAIT, what="the first readings are stored")
        database.stop(shutdown)
        ingester.wait_for_line("cannot write", timeout=WAIT)  # the process is alive (wait_for_line checks)
        publish_all(second_gateway, while_down)
        ingester.wait_for_line("cannot write", count=3, timeout=WAIT)  # and retries, with backoff
        database.start()
        publish_all(second_gateway, after, per_second=300)
        sending.join(WAIT)
        assert not sending.is_alive(), "the first part of the stream is still being published"
        publisher.wait_until_delivered()
        second_gateway.wait_until_delivered()
    finally:
        publisher.close()
        second_gateway.close()

    wait_until(lambda: stored_count(database) >= len(readings), timeout=60, what="every reading is stored")
    assert ingester.process.poll() is None, ingester.text()  # it rode the outage out: never exited
    assert ingester.terminate() == 0

    assert stored_readings(database) == sorted(readings)
    counters = ingester.last_counters()
    assert counters["db_failures"] >= 3
    # One MQTT connection throughout: nothing was sent twice, and each reading was written once.
    assert (counters["connects"], counters["received"], counters["stored"]) == (1, len(readings), len(readings))
    assert (counters["duplicates"], counters["rejected"], counters["not_acked"]) == (0, 0, 0)
    assert counters["acked"] == len(readings)
    assert not database.query("SELECT 1 FROM sensors_deadletter")


def test_an_ingester_started_while_postgresql_is_down_stores_everything_once_it_is_up(
    kampus_broker, ingester_processes, joint_campus, request
):
    readings = stream(many_sensors(joint_campus.classroom, 5), 500)
    database: ThrowawayCluster = request.getfixturevalue("restartable_postgres")
    database.stop("fast")
    ingester = ingester_processes(url=kampus_broker.url(), client_id="kampus-ingester-a", database_url=database.url)
    ingester.start()  # it subscribes without the database
    publisher = Publisher(kampus_broker.url(GATEWAY_ACCOUNT))
    publish_all(publisher, readings)
    publisher.wait_until_delivered()
    publisher.close()
    ingester.wait_for_line("cannot write", count=2, timeout=WAIT)

    database.start()
    wait_until(lambda: stored_count(database) >= len(readings), timeout=60, what="every reading is stored")
    assert ingester.terminate() == 0
    assert stored_readings(database) == sorted(readings)
    counters = ingester.last_counters()
    assert (counters["connects"], counters["stored"], counters["duplicates"]) == (1, len(readings), 0)
