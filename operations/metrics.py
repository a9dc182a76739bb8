"""Prometheus metrics (text exposition format 0.0.4) for ``/metrics``.

Two kinds, both listed in docs/deployment.md ("Health and metrics"):

- counted by each web process as requests pass (``kampus_http_requests_total``, the request
  durations, readings posted over HTTP). Under gunicorn with several workers, set
  ``PROMETHEUS_MULTIPROC_DIR`` to an empty directory writable by Kampus: every process then writes
  its figures there and ``/metrics`` adds them up (prometheus_client's multiprocess mode);
  without it each process answers with its own figures only;
- read from the database when scraped (the same for every process): bookings by status, the
  ingesters' counters from their heartbeats, the ingest lag, the worker's heartbeat age, the job
  queue. A few aggregate queries per scrape.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

from django.db import Error as DatabaseError
from django.db.models import Count, Max
from django.utils import timezone
from prometheus_client import REGISTRY as PROCESS_REGISTRY
from prometheus_client import CollectorRegistry, Counter, Histogram, disable_created_metrics, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector

from bookings.models import Booking, BookingStatus
from campus.models import Heartbeat, HeartbeatKind
from operations.job_queue import JobQueueUnavailable, job_queue_length
from sensors.models import Sensor

# The `_created` timestamp of each counter doubles the output and helps no Kampus query.
disable_created_metrics()

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"

# Methods outside this list are counted as "other", so a client cannot grow the label set.
KNOWN_METHODS = {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"}

HTTP_REQUESTS = Counter(
    "kampus_http_requests", "HTTP requests answered, by method and status code.", ["method", "status"]
)
HTTP_REQUEST_DURATION = Histogram(
    "kampus_http_request_duration_seconds",
    "Time to answer an HTTP request, by method.",
    ["method"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)
HTTP_READINGS = Counter(
    "kampus_http_ingest_readings",
    "Readings posted to POST /api/v1/readings, by outcome (stored, duplicate, rejected).",
    ["outcome"],
)


def observe_request(*, method: str, status: int, duration: float) -> None:
    """Count one answered request."""
    method = method if method in KNOWN_METHODS else "other"
    HTTP_REQUESTS.labels(method=method, status=str(status)).inc()
    HTTP_REQUEST_DURATION.labels(method=method).observe(duration)


def observe_http_ingest(*, stored: int, duplicates: int, rejected: int) -> None:
    """Count the readings of one ``POST /api/v1/readings``."""
    for outcome, count in (("stored", stored), ("duplicate", duplicates), ("rejected", rejected)):
        if count:
            HTTP_READINGS.labels(outcome=outcome).inc(count)


# The ingester's counters (sensors.ingester.Counters) that are exported, with their help text.
INGESTER_COUNTERS = {
    "received": "MQTT messages the ingester received since it started.",
    "stored": "Readings the ingester stored since it started.",
    "duplicates": "Readings the ingester received again (already stored) since it started.",
    "rejected": "Messages the ingester refused (kept as dead letters) since it started.",
    "db_failures": "Batches the ingester could not write because the database failed, since it started.",
}


class DatabaseFigures(Collector):
    """Figures read from the database at each scrape; ``kampus_database_up`` 0 and nothing else if it fails."""

    def collect(self) -> Iterator[Metric]:
        up = GaugeMetricFamily("kampus_database_up", "Whether the database answered this scrape (1) or not (0).")
        try:
            families = list(self._from_database())
        except DatabaseError:
            up.add_metric([], 0)
            yield up
            return
        up.add_metric([], 1)
        yield up
        yield from families

    @staticmethod
    def _from_database() -> Iterator[Metric]:
        now = timezone.now()
        bookings = GaugeMetricFamily(
            "kampus_bookings",
            "Bookings in the database by status (their sum is every booking ever created and not deleted).",
            labels=["status"],
        )
        by_status = dict(Booking.objects.values_list("status").annotate(count=Count("pk")).order_by())
        for status in BookingStatus.values:
            bookings.add_metric([status], by_status.get(status, 0))
        yield bookings

        beats = list(Heartbeat.objects.all())
        worker_age = GaugeMetricFamily(
            "kampus_worker_heartbeat_age_seconds", "Seconds since the worker last ran its heartbeat job."
        )
        worker_beats = [beat.beat_at for beat in beats if beat.kind == HeartbeatKind.WORKER]
        if worker_beats:
            worker_age.add_metric([], (now - max(worker_beats)).total_seconds())
        yield worker_age

        ingesters = [beat for beat in beats if beat.kind == HeartbeatKind.INGESTER]
        for name, help_text in INGESTER_COUNTERS.items():
            family = CounterMetricFamily(f"kampus_ingester_{name}", help_text, labels=["ingester"])
            for beat in ingesters:
                family.add_metric([beat.name.removeprefix("ingester:")], float(beat.state.get(name, 0)))
            yield family
        gauges = {
            "connected": ("kampus_ingester_connected", "Whether the ingester was connected to the broker (1) or not."),
            "pending": ("kampus_ingester_pending_messages", "Messages the ingester held, not yet written."),
        }
        for key, (metric_name, help_text) in gauges.items():
            family = GaugeMetricFamily(metric_name, help_text, labels=["ingester"])
            for beat in ingesters:
                family.add_metric([beat.name.removeprefix("ingester:")], float(beat.state.get(key, 0)))
            yield family
        beat_age = GaugeMetricFamily(
            "kampus_ingester_heartbeat_age_seconds", "Seconds since the ingester's last heartbeat.", labels=["ingester"]
        )
        for beat in ingesters:
            beat_age.add_metric([beat.name.removeprefix("ingester:")], (now - beat.beat_at).total_seconds())
        yield beat_age

        lag = GaugeMetricFamily(
            "kampus_ingest_lag_seconds",
            "Seconds since the newest reading of any active sensor was received (MQTT or HTTP).",
        )
        last_seen = Sensor.objects.filter(is_active=True).aggregate(last=Max("last_seen"))["last"]
        if last_seen is not None:
            lag.add_metric([], max(0.0, (now - last_seen).total_seconds()))
        yield lag

        # In the database, or in Redis with REDIS_URL: a Redis that does not answer leaves the length out.
        queue_up = GaugeMetricFamily(
            "kampus_job_queue_up", "Whether the job queue (the database, or Redis with REDIS_URL) answered (1) or not."
        )
        queue = GaugeMetricFamily("kampus_job_queue_length", "Background jobs waiting in the worker's queue.")
        try:
            queue.add_metric([], job_queue_length())
            queue_up.add_metric([], 1)
        except JobQueueUnavailable:
            queue_up.add_metric([], 0)
        yield queue_up
        yield queue


def exposition() -> bytes:
    """Return every metric in the text exposition format: the processes' counters, then the database's figures."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        processes = CollectorRegistry()
        MultiProcessCollector(processes)
    else:
        processes = PROCESS_REGISTRY
    database = CollectorRegistry()
    database.register(DatabaseFigures())
    return generate_latest(processes) + generate_latest(database)
