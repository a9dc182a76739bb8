"""/healthz: each part by name (database, broker, worker, queue, ingest), 200 unless the database is down.

The database being down for real is in test_database_down.py; here the other parts' statuses
follow from heartbeats and sensors written by the tests, at known ages.
"""

from __future__ import annotations

import datetime as dt
import secrets

import pytest
import redis
from django.test import Client
from django.utils import timezone
from django_q.conf import Conf
from django_q.tasks import async_task

from campus.models import Heartbeat, HeartbeatKind
from campus.tasks import worker_heartbeat
from operations.job_queue import redis_queue_key
from sensors.ingester import ingester_from_settings
from sensors.models import Sensor, SensorKind
from tests.conftest import JointCampus

TOKEN = "healthz-test-token"


@pytest.fixture
def metrics_token(settings) -> str:
    settings.KAMPUS_METRICS_TOKEN = TOKEN
    return TOKEN


def beat(name: str, kind: HeartbeatKind, seconds_ago: float, **state: object) -> None:
    Heartbeat.objects.create(
        name=name, kind=kind, beat_at=timezone.now() - dt.timedelta(seconds=seconds_ago), state=state
    )


@pytest.fixture
def counter(joint_campus: JointCampus) -> Sensor:
    return Sensor.objects.create(
        external_id="a101-counter",
        kind=SensorKind.COUNT,
        room=joint_campus.classroom,
        last_seen=timezone.now() - dt.timedelta(seconds=40),
    )


@pytest.fixture
def everything_running(counter: Sensor) -> None:
    beat("worker", HeartbeatKind.WORKER, 30)
    beat("ingester:kampus-ingester-host1", HeartbeatKind.INGESTER, 5, connected=True, pending=7, received=120)


def health(client: Client, **headers: str) -> tuple[int, dict]:
    answer = client.get("/healthz", headers=headers)
    assert answer["Content-Type"] == "application/json"
    assert answer["Cache-Control"] == "no-store"
    return answer.status_code, answer.json()


def test_everything_up_answers_200_naming_each_part(client: Client, everything_running: None) -> None:
    status, report = health(client)
    assert status == 200
    assert report["status"] == "ok"
    checks = report["checks"]
    assert set(checks) == {"database", "broker", "worker", "queue", "ingest"}
    assert checks["queue"] == {"status": "ok", "broker": "database", "length": 0}
    assert checks["database"]["status"] == "ok"
    assert checks["database"]["latency_ms"] >= 0
    assert checks["worker"]["status"] == "ok"
    assert 29 <= checks["worker"]["last_beat_seconds_ago"] <= 35
    assert checks["broker"] == {"status": "ok", "ingesters": 1, "connected": 1}
    assert checks["ingest"]["status"] == "ok"
    assert 39 <= checks["ingest"]["lag_seconds"] <= 45
    assert checks["ingest"]["pending"] == 7


def test_anonymous_callers_see_no_host_names(client: Client, everything_running: None) -> None:
    answer = client.get("/healthz")
    assert "host1" not in answer.content.decode()
    assert all("detail" not in part for part in answer.json()["checks"].values())


def test_the_metrics_token_shows_the_detail(client: Client, everything_running: None, metrics_token: str) -> None:
    _status, report = health(client, Authorization=f"Bearer {metrics_token}")
    ingesters = report["checks"]["broker"]["detail"]["ingesters"]
    assert [ingester["name"] for ingester in ingesters] == ["kampus-ingester-host1"]
    assert ingesters[0]["connected"] is True
    _status, report = health(client, Authorization="Bearer wrong")
    assert "detail" not in report["checks"]["broker"]


def test_a_silent_worker_is_stale_and_the_site_degraded_but_up(client: Client, counter: Sensor) -> None:
    beat("worker", HeartbeatKind.WORKER, 600)
    beat("ingester:a", HeartbeatKind.INGESTER, 5, connected=True)
    status, report = health(client)
    assert status == 200
    assert report["status"] == "degraded"
    assert report["checks"]["worker"]["status"] == "stale"
    assert 599 <= report["checks"]["worker"]["last_beat_seconds_ago"] <= 610


def test_an_ingester_without_its_broker_makes_the_broker_down(client: Client, counter: Sensor) -> None:
    beat("worker", HeartbeatKind.WORKER, 10)
    beat("ingester:a", HeartbeatKind.INGESTER, 5, connected=False)
    # An ingester gone for longer than a minute no longer counts.
    beat("ingester:b", HeartbeatKind.INGESTER, 300, connected=True)
    status, report = health(client)
    assert status == 200
    assert report["status"] == "degraded"
    assert report["checks"]["broker"] == {"status": "down", "ingesters": 1, "connected": 0}


def test_without_an_ingester_the_broker_is_unknown(client: Client, joint_campus: JointCampus) -> None:
    beat("worker", HeartbeatKind.WORKER, 10)
    _status, report = health(client)
    assert report["checks"]["broker"] == {"status": "unknown", "ingesters": 0, "connected": 0}
    assert report["status"] == "ok"


def test_without_mqtt_url_the_broker_is_not_configured(client: Client, joint_campus: JointCampus, settings) -> None:
    settings.MQTT_URL = ""
    _status, report = health(client)
    assert report["checks"]["broker"]["status"] == "not_configured"


def test_sensors_silent_past_the_offline_limit_make_the_ingest_stale(
    client: Client, joint_campus: JointCampus, settings
) -> None:
    settings.KAMPUS_SENSOR_OFFLINE_AFTER_MINUTES = 30
    Sensor.objects.create(
        external_id="quiet",
        kind=SensorKind.COUNT,
        room=joint_campus.classroom,
        last_seen=timezone.now() - dt.timedelta(minutes=31),
    )
    _status, report = health(client)
    assert report["checks"]["ingest"]["status"] == "stale"
    assert 31 * 60 <= report["checks"]["ingest"]["lag_seconds"] <= 31 * 60 + 10


def test_without_active_sensors_the_ingest_is_not_configured(client: Client, joint_campus: JointCampus) -> None:
    Sensor.objects.create(external_id="off", kind=SensorKind.COUNT, room=joint_campus.classroom, is_active=False)
    _status, report = health(client)
    assert report["checks"]["ingest"] == {"status": "not_configured", "lag_seconds": None}


def test_healthz_answers_any_host_name_and_only_reads(client: Client, joint_campus: JointCampus) -> None:
    assert client.get("/healthz", HTTP_HOST="10.0.0.5:8000").status_code == 200
    assert client.post("/healthz").status_code == 405


def test_the_worker_heartbeat_job_records_a_beat(db: None) -> None:
    worker_heartbeat()
    heartbeat = Heartbeat.objects.get(name="worker")
    assert heartbeat.kind == HeartbeatKind.WORKER
    assert timezone.now() - heartbeat.beat_at < dt.timedelta(seconds=5)


def test_the_ingester_records_its_state_in_its_heartbeat(transactional_db: None) -> None:
    # Like every write of the ingester, the beat starts with close_old_connections(): no test transaction.
    ingester = ingester_from_settings(client_id="kampus-ingester-test", url="mqtt://127.0.0.1:1")
    ingester.counters.received, ingester.counters.stored, ingester.counters.rejected = 12, 10, 2
    ingester._beat(pending=3, oldest_pending=1.5)
    heartbeat = Heartbeat.objects.get(name="ingester:kampus-ingester-test")
    assert heartbeat.kind == HeartbeatKind.INGESTER
    assert heartbeat.state["connected"] is False
    assert heartbeat.state["pending"] == 3
    assert heartbeat.state["oldest_pending_seconds"] == 1.5
    assert (heartbeat.state["received"], heartbeat.state["stored"], heartbeat.state["rejected"]) == (12, 10, 2)


def test_jobs_waiting_in_the_database_queue_are_counted(client: Client, joint_campus: JointCampus) -> None:
    async_task("campus.tasks.worker_heartbeat", task_name="waiting-1")
    async_task("campus.tasks.worker_heartbeat", task_name="waiting-2")
    _status, report = health(client)
    assert report["checks"]["queue"] == {"status": "ok", "broker": "database", "length": 2}


def test_a_redis_that_does_not_answer_makes_the_queue_down_and_the_site_degraded(
    client: Client, joint_campus: JointCampus, metrics_token: str, settings
) -> None:
    beat("worker", HeartbeatKind.WORKER, 10)
    # Port 9 (discard) on the loopback: nothing listens there, so the connection is refused at once.
    settings.REDIS_URL = "redis://127.0.0.1:9/0"
    status, report = health(client)
    assert status == 200
    assert report["status"] == "degraded"
    assert report["checks"]["queue"] == {"status": "down", "broker": "redis", "length": None}
    _status, report = health(client, Authorization=f"Bearer {metrics_token}")
    assert "127.0.0.1:9" in report["checks"]["queue"]["detail"]["error"]


def test_jobs_waiting_in_redis_are_counted(
    client: Client, joint_campus: JointCampus, redis_url: str, settings, monkeypatch
) -> None:
    settings.REDIS_URL = redis_url
    # A queue of this test's own: others may use the same Redis.
    monkeypatch.setattr(Conf, "CLUSTER_NAME", f"kampus-healthz-{secrets.token_hex(4)}")
    queue = redis.Redis.from_url(redis_url)
    try:
        queue.rpush(redis_queue_key(), b"job-1", b"job-2", b"job-3")
        _status, report = health(client)
        assert report["checks"]["queue"] == {"status": "ok", "broker": "redis", "length": 3}
    finally:
        queue.delete(redis_queue_key())
        queue.close()
