"""Where the background jobs wait (django-q2's broker) and how many wait there, for /healthz and /metrics.

Without ``REDIS_URL`` the jobs wait in the database (django-q2's ORM broker, table
``django_q_ormq``); with it, in the Redis list ``django_q:<KAMPUS_QUEUE_NAME>:q``. Redis is asked
with short timeouts of its own, so a Redis that hangs cannot hold up a health check.
"""

from __future__ import annotations

import redis
from django.conf import settings
from django_q.conf import Conf
from django_q.models import OrmQ

DATABASE = "database"
REDIS = "redis"
# Seconds to connect to Redis and to wait for its answer (django-q2's own connection has no limit).
REDIS_TIMEOUT_SECONDS = 2.0


class JobQueueUnavailable(Exception):
    """The job queue's Redis did not answer; the message says why (it may name the host)."""


def job_queue_broker() -> str:
    """Return where the jobs wait: ``database`` or ``redis``."""
    return REDIS if settings.REDIS_URL else DATABASE


def redis_queue_key() -> str:
    """Return the Redis list django-q2 queues the jobs in (as ``django_q.brokers.redis_broker.Redis`` names it)."""
    return f"django_q:{Conf.CLUSTER_NAME}:q"


def job_queue_length() -> int:
    """Return how many jobs wait to be taken by a worker; raise JobQueueUnavailable if Redis does not answer.

    With the database broker this counts every queued row, also those a worker has taken and not finished.
    """
    if not settings.REDIS_URL:
        return OrmQ.objects.count()
    client = redis.Redis.from_url(
        settings.REDIS_URL, socket_connect_timeout=REDIS_TIMEOUT_SECONDS, socket_timeout=REDIS_TIMEOUT_SECONDS
    )
    try:
        return int(client.llen(redis_queue_key()))
    except redis.RedisError as error:
        message = str(error).strip()
        raise JobQueueUnavailable(message.splitlines()[0] if message else type(error).__name__) from error
    finally:
        client.close()
