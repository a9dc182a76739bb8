"""/metrics: Prometheus text format 0.0.4, only with the metrics token; requests, bookings, readings, lag."""

from __future__ import annotations

import datetime as dt
import json
import logging

import pytest
from django.test import Client
from django.utils import timezone
from django_q.tasks import async_task
from prometheus_client.parser import text_string_to_metric_families

from bookings.models import Booking, BookingStatus
from campus.models import Heartbeat, HeartbeatKind, User
from operations.log_format import JsonFormatter, current_request_id
from sensors.models import Sensor, SensorKind
from tests.conftest import JointCampus

TOKEN = "metrics-test-token-0123456789"


@pytest.fixture
def metrics_token(settings) -> str:
    settings.KAMPUS_METRICS_TOKEN = TOKEN
    return TOKEN


def scrape(client: Client) -> dict[tuple[str, tuple], float]:
    """Return every sample of /metrics by (name, sorted labels), parsed by prometheus_client's own parser."""
    answer = client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
    assert answer.status_code == 200
    assert answer["Content-Type"] == "text/plain; version=0.0.4; charset=utf-8"
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(answer.content.decode())
        for sample in family.samples
    }


def test_metrics_are_off_without_a_token_setting(client: Client, db: None, settings) -> None:
    settings.KAMPUS_METRICS_TOKEN = ""
    assert client.get("/metrics").status_code == 404
    assert client.get("/metrics", headers={"Authorization": "Bearer "}).status_code == 404


def test_metrics_need_the_token(client: Client, db: None, metrics_token: str) -> None:
    answer = client.get("/metrics")
    assert answer.status_code == 401
    assert answer["WWW-Authenticate"].startswith("Bearer")
    assert client.get("/metrics", headers={"Authorization": "Bearer not-the-token"}).status_code == 401
    assert client.get("/metrics", headers={"Authorization": f"Basic {metrics_token}"}).status_code == 401
    assert "kampus_" not in answer.content.decode()


def test_requests_are_counted_by_method_and_status(client: Client, joint_campus: JointCampus, metrics_token: str):
    before = scrape(client)
    client.get("/no-such-page/")
    client.get("/no-such-page/")
    client.post("/healthz")
    after = scrape(client)

    def grown(method: str, status: str) -> float:
        key = ("kampus_http_requests_total", (("method", method), ("status", status)))
        return after.get(key, 0) - before.get(key, 0)

    assert grown("GET", "404") == 2
    assert grown("POST", "405") == 1
    # The first scrape itself was answered (and counted) before the second one read the counters.
    assert grown("GET", "200") == 1


def test_bookings_by_status_come_from_the_database(
    client: Client, joint_campus: JointCampus, lukio_staff: User, metrics_token: str
) -> None:
    start = timezone.now().replace(microsecond=0) + dt.timedelta(days=3)
    for offset, status in enumerate(
        [BookingStatus.CONFIRMED, BookingStatus.CONFIRMED, BookingStatus.CANCELLED, BookingStatus.PENDING]
    ):
        # Rows as they stand in the database; how they got there (services) does not matter here.
        Booking.objects.create(
            campus=joint_campus.campus,
            room=joint_campus.classroom,
            booked_by=lukio_staff,
            title=f"Lesson {offset}",
            start=start + dt.timedelta(hours=2 * offset),
            end=start + dt.timedelta(hours=2 * offset + 1),
            status=status,
        )
    samples = scrape(client)
    assert samples[("kampus_bookings", (("status", "confirmed"),))] == 2
    assert samples[("kampus_bookings", (("status", "cancelled"),))] == 1
    assert samples[("kampus_bookings", (("status", "pending"),))] == 1
    assert samples[("kampus_bookings", (("status", "rejected"),))] == 0
    assert samples[("kampus_database_up", ())] == 1


def test_readings_and_ingest_lag_come_from_heartbeats_and_sensors(
    client: Client, joint_campus: JointCampus, metrics_token: str
) -> None:
    now = timezone.now()
    Sensor.objects.create(
        external_id="a101", kind=SensorKind.COUNT, room=joint_campus.classroom, last_seen=now - dt.timedelta(seconds=90)
    )
    Heartbeat.objects.create(
        name="ingester:ingester-1",
        kind=HeartbeatKind.INGESTER,
        beat_at=now - dt.timedelta(seconds=10),
        state={"connected": True, "received": 500, "stored": 480, "duplicates": 5, "rejected": 15, "pending": 4},
    )
    Heartbeat.objects.create(name="worker", kind=HeartbeatKind.WORKER, beat_at=now - dt.timedelta(seconds=45))
    samples = scrape(client)
    ingester = (("ingester", "ingester-1"),)
    assert samples[("kampus_ingester_received_total", ingester)] == 500
    assert samples[("kampus_ingester_stored_total", ingester)] == 480
    assert samples[("kampus_ingester_rejected_total", ingester)] == 15
    assert samples[("kampus_ingester_duplicates_total", ingester)] == 5
    assert samples[("kampus_ingester_connected", ingester)] == 1
    assert samples[("kampus_ingester_pending_messages", ingester)] == 4
    assert 90 <= samples[("kampus_ingest_lag_seconds", ())] < 100
    assert 45 <= samples[("kampus_worker_heartbeat_age_seconds", ())] < 55


def test_readings_posted_over_http_are_counted(
    client: Client, joint_campus: JointCampus, metrics_token: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from operations.metrics import observe_http_ingest

    before = scrape(client)
    observe_http_ingest(stored=3, duplicates=1, rejected=2)
    after = scrape(client)
    for outcome, count in (("stored", 3), ("duplicate", 1), ("rejected", 2)):
        key = ("kampus_http_ingest_readings_total", (("outcome", outcome),))
        assert after[key] - before.get(key, 0) == count


def test_the_json_log_format_carries_the_request_fields() -> None:
    record = logging.LogRecord("kampus.request", logging.INFO, __file__, 1, "GET /x 200 1.0 ms", None, None)
    record.method, record.path, record.status, record.duration_ms = "GET", "/x", 200, 1.0
    token = current_request_id.set("abc123")
    try:
        line = json.loads(JsonFormatter().format(record))
    finally:
        current_request_id.reset(token)
    assert line["request_id"] == "abc123"
    assert (line["method"], line["path"], line["status"], line["duration_ms"]) == ("GET", "/x", 200, 1.0)
    assert line["level"] == "INFO"
    assert line["message"] == "GET /x 200 1.0 ms"


def test_each_answer_carries_a_request_id_and_keeps_a_sane_one_sent(client: Client, joint_campus: JointCampus):
    assert len(client.get("/healthz")["X-Request-ID"]) == 32
    assert client.get("/healthz", headers={"X-Request-ID": "proxy-1234"})["X-Request-ID"] == "proxy-1234"
    assert client.get("/healthz", headers={"X-Request-ID": "bad id\n"})["X-Request-ID"] != "bad id\n"


def test_a_feed_key_never_reaches_the_request_log(
    client: Client, joint_campus: JointCampus, caplog: pytest.LogCaptureFixture
) -> None:
    key = "k" * 43
    with caplog.at_level(logging.INFO, logger="kampus.request"):
        client.get(f"/calendar/feeds/user/1/{key}.ics")
    lines = [record for record in caplog.records if record.name == "kampus.request"]
    assert lines
    assert all(key not in record.getMessage() and key not in record.path for record in lines)


def test_jobs_waiting_in_the_queue_are_counted(client: Client, joint_campus: JointCampus, metrics_token: str) -> None:
    async_task("campus.tasks.worker_heartbeat", task_name="waiting-for-a-worker")
    samples = scrape(client)
    assert samples[("kampus_job_queue_length", ())] == 1
    assert samples[("kampus_job_queue_up", ())] == 1


def test_a_redis_that_does_not_answer_leaves_the_queue_length_out(
    client: Client, joint_campus: JointCampus, metrics_token: str, settings
) -> None:
    # Port 9 (discard) on the loopback: nothing listens there, so the connection is refused at once.
    settings.REDIS_URL = "redis://127.0.0.1:9/0"
    samples = scrape(client)
    assert samples[("kampus_job_queue_up", ())] == 0
    assert ("kampus_job_queue_length", ()) not in samples
    assert samples[("kampus_database_up", ())] == 1
