"""What ``/healthz`` reports: the database, the MQTT broker, the worker, the job queue and the sensor ingest.

Cheap enough to be polled every 10 seconds: a ``SELECT 1`` with a short statement timeout, one
read of the heartbeats table (a row per background process), one aggregate over the sensors, and
the length of the job queue (a count in the database, or one ``LLEN`` in Redis with ``REDIS_URL``).

Statuses of a part: ``ok``; ``down`` (not working); ``stale`` (its last sign of life or data is too
old); ``unknown`` (nothing to tell by, e.g. no heartbeat yet); ``not_configured``. The report's
status is ``down`` when the database is down (the site cannot work; HTTP 503), ``degraded`` when
another part is down or stale (pages and the API still work; HTTP 200), otherwise ``ok``.

Everyone sees the statuses and the ages in seconds; ``detail`` (each ingester by client id, the
database's error) only goes to callers with the metrics token, since it names hosts.
"""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db import Error as DatabaseError
from django.db import connection, transaction
from django.db.models import Count, Max
from django.utils import timezone

from campus.models import Heartbeat, HeartbeatKind
from operations.job_queue import JobQueueUnavailable, job_queue_broker, job_queue_length
from sensors.models import Sensor

OK = "ok"
DOWN = "down"
STALE = "stale"
UNKNOWN = "unknown"
NOT_CONFIGURED = "not_configured"
DEGRADED = "degraded"

# The database check's statement timeout (PostgreSQL); the connection's own is DATABASE_CONNECT_TIMEOUT.
DATABASE_CHECK_TIMEOUT_MS = 2000
# The worker beats every minute (campus.tasks.worker_heartbeat): three missed beats make it stale.
WORKER_STALE_SECONDS = 180
# An ingester beats every 15 seconds (sensors.ingester.HEARTBEAT_SECONDS): four missed beats and it is gone.
INGESTER_GONE_SECONDS = 60


@dataclass
class PartHealth:
    """One part's status, the figures anyone may see, and the detail for holders of the metrics token."""

    status: str
    figures: dict[str, Any] = field(default_factory=dict)
    detail: dict[str, Any] = field(default_factory=dict)

    def as_dict(self, *, with_detail: bool) -> dict[str, Any]:
        body: dict[str, Any] = {"status": self.status, **self.figures}
        if with_detail and self.detail:
            body["detail"] = self.detail
        return body


@dataclass
class HealthReport:
    status: str
    parts: dict[str, PartHealth]

    @property
    def http_status(self) -> int:
        return 503 if self.status == DOWN else 200

    def as_dict(self, *, with_detail: bool) -> dict[str, Any]:
        return {
            "status": self.status,
            "checks": {name: part.as_dict(with_detail=with_detail) for name, part in self.parts.items()},
        }


def _age_seconds(moment: dt.datetime | None, now: dt.datetime) -> float | None:
    return None if moment is None else round(max(0.0, (now - moment).total_seconds()), 1)


def check_database() -> PartHealth:
    """Run ``SELECT 1`` (PostgreSQL: with a statement timeout of 2 s); ``down`` with the error if it fails."""
    started = time.perf_counter()
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                cursor.execute("SET LOCAL statement_timeout = %s", [DATABASE_CHECK_TIMEOUT_MS])
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except DatabaseError as error:
        first_line = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        return PartHealth(DOWN, detail={"error": first_line[:200]})
    return PartHealth(OK, {"latency_ms": round((time.perf_counter() - started) * 1000, 1)})


def check_worker(now: dt.datetime) -> PartHealth:
    """Judge the worker by its heartbeat task's last run (a beat proves it takes jobs off the queue)."""
    beat_at = Heartbeat.objects.filter(kind=HeartbeatKind.WORKER).aggregate(last=Max("beat_at"))["last"]
    age = _age_seconds(beat_at, now)
    if age is None:
        return PartHealth(UNKNOWN, {"last_beat_seconds_ago": None})
    return PartHealth(OK if age <= WORKER_STALE_SECONDS else STALE, {"last_beat_seconds_ago": age})


def check_job_queue() -> PartHealth:
    """Tell where the background jobs wait and how many; ``down`` when the queue's Redis does not answer."""
    broker = job_queue_broker()
    try:
        length = job_queue_length()
    except JobQueueUnavailable as error:
        return PartHealth(DOWN, {"broker": broker, "length": None}, {"error": str(error)[:200]})
    return PartHealth(OK, {"broker": broker, "length": length})


def ingester_heartbeats(now: dt.datetime) -> list[dict[str, Any]]:
    """Return the ingesters that beat within the last minute: client id, connected, age, what they hold."""
    since = now - dt.timedelta(seconds=INGESTER_GONE_SECONDS)
    return [
        {
            "name": beat.name.removeprefix("ingester:"),
            "connected": bool(beat.state.get("connected")),
            "last_beat_seconds_ago": _age_seconds(beat.beat_at, now),
            "pending": int(beat.state.get("pending", 0)),
            "oldest_pending_seconds": float(beat.state.get("oldest_pending_seconds", 0.0)),
            "counters": {key: value for key, value in beat.state.items() if isinstance(value, int | float)},
        }
        for beat in Heartbeat.objects.filter(kind=HeartbeatKind.INGESTER, beat_at__gte=since)
    ]


def check_broker(ingesters: list[dict[str, Any]]) -> PartHealth:
    """Judge the MQTT broker by the ingesters' heartbeats: is any running ingester connected to it?"""
    if not settings.MQTT_URL:
        return PartHealth(NOT_CONFIGURED)
    connected = sum(1 for ingester in ingesters if ingester["connected"])
    figures = {"ingesters": len(ingesters), "connected": connected}
    if not ingesters:
        return PartHealth(UNKNOWN, figures)
    detail = {"ingesters": [{key: i[key] for key in ("name", "connected", "last_beat_seconds_ago")} for i in ingesters]}
    return PartHealth(OK if connected else DOWN, figures, detail)


def check_ingest(now: dt.datetime, ingesters: list[dict[str, Any]]) -> PartHealth:
    """Report the ingest lag: how long ago the newest reading arrived (any active sensor, MQTT or HTTP).

    ``stale`` once that is longer than SENSOR_OFFLINE_AFTER_MINUTES (all sensors silent); also the
    messages the ingesters hold that are not yet written, and how long the oldest has waited.
    """
    last = Sensor.objects.filter(is_active=True).aggregate(last=Max("last_seen"), count=Count("pk"))
    if not last["count"]:
        return PartHealth(NOT_CONFIGURED, {"lag_seconds": None})
    lag = _age_seconds(last["last"], now)
    figures = {
        "lag_seconds": lag,
        "pending": sum(ingester["pending"] for ingester in ingesters),
        "oldest_pending_seconds": max((ingester["oldest_pending_seconds"] for ingester in ingesters), default=0.0),
    }
    limit = settings.KAMPUS_SENSOR_OFFLINE_AFTER_MINUTES * 60
    if lag is None:
        return PartHealth(UNKNOWN, figures)
    return PartHealth(STALE if limit and lag > limit else OK, figures)


def health_report(*, now: dt.datetime | None = None) -> HealthReport:
    """Check every part; without the database the others cannot be told and are ``unknown``."""
    now = now or timezone.now()
    database = check_database()
    if database.status != OK:
        parts = {"database": database, "broker": PartHealth(UNKNOWN), "worker": PartHealth(UNKNOWN)}
        parts["queue"] = PartHealth(UNKNOWN, {"broker": job_queue_broker()})
        parts["ingest"] = PartHealth(UNKNOWN)
        return HealthReport(DOWN, parts)
    ingesters = ingester_heartbeats(now)
    parts = {
        "database": database,
        "broker": check_broker(ingesters),
        "worker": check_worker(now),
        "queue": check_job_queue(),
        "ingest": check_ingest(now, ingesters),
    }
    status = DEGRADED if any(part.status in {DOWN, STALE} for part in parts.values()) else OK
    return HealthReport(status, parts)
