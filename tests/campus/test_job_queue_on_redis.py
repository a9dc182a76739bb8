"""REDIS_URL: the background jobs wait in Redis, and several workers share them, each job running once.

django-q2 reads its configuration when it is imported, so this runs the real processes: two
``manage.py qcluster`` with REDIS_URL on the test database, jobs queued by ``manage.py shell``, and
``/healthz``'s report computed in a process with the same settings. The queue has a name of its own
(KAMPUS_QUEUE_NAME), so the Redis may be shared with anything else.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import redis
from django.conf import settings
from django.utils import timezone
from django_q.models import OrmQ, Schedule

from campus.models import Heartbeat
from tests.sensors.mqtt import child_database_url

REPO = Path(__file__).resolve().parents[2]
# One key for every process of a run: a worker refuses jobs signed with another one.
SECRET_KEY = secrets.token_urlsafe(50)
PROCESSED = re.compile(r"processing (redis-job-\d+) '")


class RedisKampus:
    """Kampus processes on the test database with their jobs in Redis under a queue name of their own."""

    def __init__(self, redis_url: str, tmp_path: Path) -> None:
        self.queue_name = f"kampus-test-{secrets.token_hex(4)}"
        self.redis = redis.Redis.from_url(redis_url)
        self.tmp_path = tmp_path
        self.env = {key: value for key, value in os.environ.items() if key not in {"DEBUG", "PROMETHEUS_MULTIPROC_DIR"}}
        self.env.update(
            {
                "DJANGO_SETTINGS_MODULE": "campus.settings",
                "DATABASE_URL": child_database_url(),
                "REDIS_URL": redis_url,
                "KAMPUS_QUEUE_NAME": self.queue_name,
                "SECRET_KEY": SECRET_KEY,
                "KAMPUS_WORKERS": "1",
                "LOG_LEVEL": "INFO",
            }
        )
        self.workers: list[tuple[subprocess.Popen, Path]] = []

    @property
    def queue_key(self) -> str:
        return f"django_q:{self.queue_name}:q"

    def manage(self, *args: str) -> str:
        result = subprocess.run(
            [sys.executable, "manage.py", *args], cwd=REPO, env=self.env, capture_output=True, text=True, timeout=120
        )
        assert result.returncode == 0, f"manage.py {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}"
        return result.stdout

    def queue_jobs(self, numbers: range) -> None:
        """Queue a job per number (each records a heartbeat named redis-job-N), as the web process queues one."""
        self.manage(
            "shell",
            "-c",
            "from django_q.tasks import async_task\n"
            f"for number in range({numbers.start}, {numbers.stop}):\n"
            "    name = f'redis-job-{number}'\n"
            "    async_task('campus.services.heartbeat_record', name=name, kind='worker', task_name=name)\n",
        )

    def health(self) -> dict:
        """Return /healthz's report as a process with these settings computes it."""
        output = self.manage(
            "shell",
            "-c",
            "import json; from operations.health import health_report; "
            "print(json.dumps(health_report().as_dict(with_detail=True)))",
        )
        return json.loads(output.strip().splitlines()[-1])

    def start_worker(self) -> None:
        log = self.tmp_path / f"worker-{len(self.workers) + 1}.log"
        process = subprocess.Popen(
            [sys.executable, "manage.py", "qcluster"],
            cwd=REPO,
            env=self.env,
            stdout=log.open("w"),
            stderr=subprocess.STDOUT,
        )
        self.workers.append((process, log))

    def logs(self) -> list[str]:
        return [log.read_text() for _process, log in self.workers]

    def wait_for(self, what: str, condition: Callable[[], bool], seconds: float = 60) -> None:
        deadline = time.monotonic() + seconds
        while not condition():
            for process, log in self.workers:
                assert process.poll() is None, f"a worker stopped:\n{log.read_text()}"
            assert time.monotonic() < deadline, f"{what}: not within {seconds} s\n" + "\n----\n".join(self.logs())
            time.sleep(0.3)

    def close(self) -> None:
        for process, _log in self.workers:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process, _log in self.workers:
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=5)
        # The queue and the clusters' status keys (django_q:<name>:cluster:…).
        keys = list(self.redis.scan_iter(match=f"django_q:{self.queue_name}:*"))
        if keys:
            self.redis.delete(*keys)
        self.redis.close()


@pytest.fixture
def redis_kampus(on_postgres: None, redis_url: str, transactional_db: None, tmp_path: Path) -> Iterator[RedisKampus]:
    kampus = RedisKampus(redis_url, tmp_path)
    try:
        yield kampus
    finally:
        kampus.close()


def jobs_done(numbers: range) -> Callable[[], bool]:
    names = [f"redis-job-{number}" for number in numbers]
    return lambda: Heartbeat.objects.filter(name__in=names).count() == len(names)


def test_two_workers_share_the_jobs_queued_in_redis_and_run_each_once(redis_kampus: RedisKampus) -> None:
    # The worker's heartbeat job, as the migration schedules it (the test database starts empty).
    Schedule.objects.create(
        name="Worker heartbeat",
        func="campus.tasks.worker_heartbeat",
        schedule_type=Schedule.MINUTES,
        minutes=1,
        repeats=-1,
        next_run=timezone.now(),
    )

    # Queued while no worker runs: the jobs wait in Redis, not in the database's queue table.
    first = range(0, 10)
    redis_kampus.queue_jobs(first)
    assert redis_kampus.redis.llen(redis_kampus.queue_key) == len(first)
    assert OrmQ.objects.count() == 0
    health = redis_kampus.health()
    assert health["checks"]["queue"] == {"status": "ok", "broker": "redis", "length": len(first)}

    redis_kampus.start_worker()
    redis_kampus.start_worker()
    redis_kampus.wait_for("the jobs queued before the workers ran", jobs_done(first))
    redis_kampus.wait_for(
        "both clusters running", lambda: all("Q Cluster" in log and " running." in log for log in redis_kampus.logs())
    )

    # Queued while both run: they share the queue.
    second = range(10, 70)
    redis_kampus.queue_jobs(second)
    redis_kampus.wait_for("the jobs queued while both workers ran", jobs_done(second))
    assert redis_kampus.redis.llen(redis_kampus.queue_key) == 0
    assert OrmQ.objects.count() == 0

    runs_by_worker = [Counter(PROCESSED.findall(log)) for log in redis_kampus.logs()]
    runs = runs_by_worker[0] + runs_by_worker[1]
    assert sorted(runs) == sorted(f"redis-job-{number}" for number in [*first, *second])
    assert set(runs.values()) == {1}, f"jobs run more than once: {[name for name, n in runs.items() if n > 1]}"
    second_names = {f"redis-job-{number}" for number in second}
    assert all(second_names & set(worker_runs) for worker_runs in runs_by_worker), runs_by_worker

    # The schedule goes through Redis too: the worker's heartbeat job runs (django-q2's scheduler
    # looks every 30 s), and /healthz, asked with the same settings, sees the worker and the queue.
    redis_kampus.wait_for("the worker heartbeat", lambda: Heartbeat.objects.filter(name="worker").exists(), 90)
    health = redis_kampus.health()
    assert health["checks"]["worker"]["status"] == "ok"
    assert health["checks"]["queue"] == {"status": "ok", "broker": "redis", "length": 0}
    assert settings.Q_CLUSTER.get("orm") == "default", "the test process itself keeps the database queue"
