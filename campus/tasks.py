"""django-q2 entry points of the campus app. Schedules are created by migrations."""

from __future__ import annotations

from campus.models import HeartbeatKind
from campus.services import heartbeat_record

WORKER_HEARTBEAT_NAME = "worker"


def worker_heartbeat() -> str:
    """Record that the worker runs jobs (the schedule "Worker heartbeat", every minute; read by /healthz)."""
    heartbeat_record(name=WORKER_HEARTBEAT_NAME, kind=HeartbeatKind.WORKER)
    return "beat"
