"""Background-job throughput: django-q2's database queue against its Redis queue, with 1 to 4 worker clusters.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/kampus REDIS_URL=redis://127.0.0.1:6379/0 python bench/job_queue.py
    ... python bench/job_queue.py --jobs 1000 --clusters 1,2,4 --workers 2 --database-name kampus_bench_jobs_me

Creates a throwaway database (``--database-name``, default ``kampus_bench_job_queue``, on the server of
DATABASE_URL; dropped afterwards) and migrates it. For each queue (``database``, and ``redis`` when
REDIS_URL is set) and each number of clusters it starts that many ``manage.py qcluster`` (each with
``--workers`` processes) under a queue name of its own, waits until they run, then queues ``--jobs``
jobs from one ``manage.py shell`` (each records a heartbeat row of its own: one small write, as
Kampus's jobs make) and times from the first job queued to the last heartbeat row written. Before
queueing, it counts the transactions the idle clusters commit in the database over ``--idle-seconds``
(``pg_stat_database.xact_commit``; the database queue is polled every 0.2 s by each cluster). It prints,
per run: idle transactions per second, the seconds to queue the jobs, jobs done per second end to end,
and how the jobs were shared among the clusters (from their logs); the exit status is 1 if a job did
not run exactly once.

Everything runs on this one machine, so the figures compare the two queues under the same load rather
than predict a production cluster of several hosts.
"""

from __future__ import annotations

import argparse
import os
import re
import secrets
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from bench.throwaway_database import SECRET_KEY, drop_throwaway, open_throwaway  # noqa: E402

PROCESSED = re.compile(r"processing (bench-job-\d+) '")


def queue_jobs(env: dict[str, str], jobs: int) -> float:
    """Queue ``jobs`` heartbeat jobs from a process of their own; return the seconds the queueing took."""
    code = (
        "import time\n"
        "from django_q.tasks import async_task\n"
        "started = time.perf_counter()\n"
        f"for number in range({jobs}):\n"
        "    name = f'bench-job-{number}'\n"
        "    async_task('campus.services.heartbeat_record', name=name, kind='worker', task_name=name)\n"
        "print(time.perf_counter() - started)\n"
    )
    result = subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", code], cwd=REPO, env=env, capture_output=True, text=True
    )
    if result.returncode != 0:
        raise SystemExit(f"queueing failed:\n{result.stderr}")
    return float(result.stdout.strip().splitlines()[-1])


def committed_transactions() -> int:
    """Return the transactions committed in this database so far (PostgreSQL's statistics, flushed every second)."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_stat_clear_snapshot()")
        cursor.execute("SELECT xact_commit FROM pg_stat_database WHERE datname = current_database()")
        return int(cursor.fetchone()[0])


def done_count() -> int:
    from campus.models import Heartbeat

    return Heartbeat.objects.filter(name__startswith="bench-job-").count()


def run(
    *, broker: str, clusters: int, workers: int, jobs: int, redis_url: str, scratch: Path, idle_seconds: float
) -> bool:
    """Time one configuration; print its line; return whether every job ran exactly once."""
    from django.db import connection

    from campus.models import Heartbeat

    Heartbeat.objects.filter(name__startswith="bench-job-").delete()
    queue_name = f"kampus-bench-{secrets.token_hex(4)}"
    env = {key: value for key, value in os.environ.items() if key not in {"DEBUG", "REDIS_URL"}}
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "campus.settings",
            "SECRET_KEY": SECRET_KEY,
            "KAMPUS_QUEUE_NAME": queue_name,
            "KAMPUS_WORKERS": str(workers),
            "LOG_LEVEL": "INFO",
        }
    )
    if broker == "redis":
        env["REDIS_URL"] = redis_url
    logs = [scratch / f"{broker}-{clusters}-{n}.log" for n in range(clusters)]
    processes = [
        subprocess.Popen(
            [sys.executable, "manage.py", "qcluster"], cwd=REPO, env=env, stdout=log.open("w"), stderr=subprocess.STDOUT
        )
        for log in logs
    ]
    try:
        deadline = time.monotonic() + 60
        while not all(" running." in log.read_text() for log in logs):
            if time.monotonic() > deadline or any(process.poll() is not None for process in processes):
                raise SystemExit("the clusters did not start:\n" + "\n".join(log.read_text() for log in logs))
            time.sleep(0.2)
        time.sleep(2)  # past the clusters' start-up writes
        before = committed_transactions()
        time.sleep(idle_seconds)
        # Less this process's own two statistics reads.
        idle_rate = (committed_transactions() - before - 1) / idle_seconds
        connection.close()
        started = time.perf_counter()
        queueing = queue_jobs(env, jobs)
        deadline = time.monotonic() + 600
        while done_count() < jobs:
            if time.monotonic() > deadline:
                raise SystemExit(f"{broker}, {clusters} clusters: {done_count()} of {jobs} jobs done in 600 s")
            time.sleep(0.1)
        elapsed = time.perf_counter() - started
    finally:
        for process in processes:
            process.send_signal(signal.SIGTERM)
        for process in processes:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
    runs = [Counter(PROCESSED.findall(log.read_text())) for log in logs]
    total = sum(runs, Counter())
    once = len(total) == jobs and set(total.values()) == {1}
    shares = "/".join(str(sum(counter.values())) for counter in runs)
    print(
        f"{broker:<9} {clusters:>8} {workers:>7} {idle_rate:>13.1f} {jobs:>6} {queueing:>10.2f} "
        f"{jobs / elapsed:>12.0f} {shares:>18} {'yes' if once else 'NO'}",
        flush=True,
    )
    if broker == "redis":
        import redis

        client = redis.Redis.from_url(redis_url)
        keys = list(client.scan_iter(match=f"django_q:{queue_name}:*"))
        if keys:
            client.delete(*keys)
        client.close()
    return once


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--jobs", type=int, default=1000, help="jobs per run (default 1000)")
    parser.add_argument(
        "--idle-seconds",
        type=float,
        default=10.0,
        help="how long to count the idle clusters' transactions (default 10)",
    )
    parser.add_argument("--clusters", default="1,2,4", help="numbers of clusters to try (default 1,2,4)")
    parser.add_argument("--workers", type=int, default=2, help="worker processes per cluster (default 2)")
    parser.add_argument(
        "--database-name",
        default="kampus_bench_job_queue",
        help="the throwaway database (default kampus_bench_job_queue)",
    )
    options = parser.parse_args()
    redis_url = os.environ.get("REDIS_URL", "")
    server_url = open_throwaway(options.database_name)
    try:
        from django.core.management import call_command

        call_command("migrate", verbosity=0)
        # The bench's jobs only: no schedule fires in between.
        from django_q.models import Schedule

        Schedule.objects.all().delete()
        brokers = ["database", "redis"] if redis_url else ["database"]
        if not redis_url:
            print("REDIS_URL is not set: the database queue only")
        print(
            f"{'queue':<9} {'clusters':>8} {'workers':>7} {'idle xact/s':>13} {'jobs':>6} {'queue (s)':>10} "
            f"{'jobs/s e2e':>12} {'jobs per cluster':>18} once"
        )
        all_once = True
        with tempfile.TemporaryDirectory() as scratch:
            for clusters in [int(n) for n in options.clusters.split(",")]:
                for broker in brokers:
                    all_once &= run(
                        broker=broker,
                        clusters=clusters,
                        workers=options.workers,
                        jobs=options.jobs,
                        redis_url=redis_url,
                        scratch=Path(scratch),
                        idle_seconds=options.idle_seconds,
                    )
    finally:
        from django.db import connections

        connections.close_all()
        drop_throwaway(server_url, options.database_name)
    sys.exit(0 if all_once else 1)


if __name__ == "__main__":
    main()
