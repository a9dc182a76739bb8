"""PostgreSQL restarts under a running worker (``manage.py qcluster``, the ORM broker): no job is lost or run twice.

The worker runs on a PostgreSQL server of the test's own (tests/postgres_cluster.py), which the
test stops with ``pg_ctl`` and starts again. Before the outage the worker's one process is busy
with a job that lasts until after it, a second job waits in the queue (the queue is a database
table: nothing can be queued while the database is away), and a schedule falls due in the middle
of the outage. After it each of the three runs exactly once, and the worker never exited.
"""

from __future__ import annotations

import os
import secrets
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.postgres_cluster import ThrowawayCluster, restartable_postgres  # noqa: F401 (a fixture)
from tests.sensors.mqtt import wait_until

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("on_postgres")]

REPO = Path(__file__).resolve().parents[2]
SECRET_KEY = secrets.token_urlsafe(50)  # the worker checks the signature of each job with it
# The worker's scheduler looks for due schedules every 30 s (django-q2's fixed cadence).
SCHEDULER_SECONDS = 30


def worker_environment(database: ThrowawayCluster) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if key not in {"DEBUG", "PROMETHEUS_MULTIPROC_DIR"}}
    env.update(
        {
            "DATABASE_URL": database.url,
            "DJANGO_SETTINGS_MODULE": "campus.settings",
            "SECRET_KEY": SECRET_KEY,
            "KAMPUS_WORKERS": "1",
            "DATABASE_CONNECT_TIMEOUT": "3",
            "PYTHONUNBUFFERED": "1",
        }
    )
    return env


def manage_shell(database: ThrowawayCluster, code: str) -> None:
    result = subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", code],
        cwd=REPO,
        env=worker_environment(database),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, f"{result.stdout}\n{result.stderr}"


@pytest.fixture
def worker_database(joint_campus, request) -> ThrowawayCluster:
    """The copy of the test database, without the project's schedules (only this test's jobs run)."""
    database: ThrowawayCluster = request.getfixturevalue("restartable_postgres")
    database.query("DELETE FROM django_q_schedule")
    database.query("DELETE FROM django_q_ormq")
    database.query("CREATE TABLE outage_task_run (label text NOT NULL, ran_at timestamptz NOT NULL DEFAULT now())")
    return database


@pytest.fixture
def worker(worker_database: ThrowawayCluster, tmp_path: Path) -> Iterator[tuple[subprocess.Popen, Path]]:
    log = tmp_path / "worker.log"
    with log.open("w") as output:
        process = subprocess.Popen(
            [sys.executable, "manage.py", "qcluster"],
            cwd=REPO,
            env=worker_environment(worker_database),
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    try:
        wait_until(
            lambda: "running" in log.read_text() or process.poll() is not None,
            timeout=60,
            what="the worker starts",
        )
        assert process.poll() is None, log.read_text()
        yield process, log
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=5)


def runs(database: ThrowawayCluster) -> dict[str, int]:
    return dict(database.query("SELECT label, count(*) FROM outage_task_run GROUP BY label"))


def test_jobs_queued_running_or_due_during_a_postgresql_restart_each_run_once_after_it(
    worker_database: ThrowawayCluster, worker: tuple[subprocess.Popen, Path], tmp_path: Path
) -> None:
    database = worker_database
    process, log = worker
    started, release = tmp_path / "started", tmp_path / "release"
    outage_seconds = 6
    manage_shell(
        database,
        "import datetime as dt\n"
        "from django.utils import timezone\n"
        "from django_q.tasks import async_task, schedule\n"
        "async_task('tests.campus.outage_tasks.hold_then_record', 'running across the outage', "
        f"{str(started)!r}, {str(release)!r})\n"
        "async_task('tests.campus.outage_tasks.record_run', 'queued before the outage')\n"
        "schedule('tests.campus.outage_tasks.record_run', 'due during the outage', schedule_type='O', "
        f"next_run=timezone.now() + dt.timedelta(seconds={outage_seconds // 2}))\n",
    )
    wait_until(started.exists, timeout=30, what=f"the worker starts the first job:\n{log.read_text()}")
    assert runs(database) == {}
    # Due in the middle of the outage however long the worker took to start the first job.
    database.query("UPDATE django_q_schedule SET next_run = now() + make_interval(secs => %s)", (outage_seconds / 2,))

    database.stop("fast")
    time.sleep(outage_seconds)  # the schedule falls due now
    assert process.poll() is None, log.read_text()
    database.start()
    release.touch()

    expected = {"running across the outage": 1, "queued before the outage": 1, "due during the outage": 1}
    wait_until(
        lambda: runs(database) == expected or process.poll() is not None,
        timeout=2 * SCHEDULER_SECONDS + 15,
        interval=0.5,
        what=f"each job runs after the outage: {runs(database)}\n{log.read_text()}",
    )
    assert process.poll() is None, log.read_text()  # the worker rode the outage out
    time.sleep(3)  # a second run would show by now (the queue is empty, the schedule was once)
    assert runs(database) == expected
    assert database.query("SELECT count(*) FROM django_q_ormq") == [(0,)]
    assert database.query("SELECT count(*) FROM django_q_task WHERE success") == [(3,)]
