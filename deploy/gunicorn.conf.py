"""Gunicorn settings for Kampus (deploy/kampus-web.service passes this file with -c).

With PROMETHEUS_MULTIPROC_DIR set, every gunicorn worker writes its request counters into that
directory and /metrics adds them up (docs/deployment.md, "Health and metrics"): the directory
must start empty, and a worker that exits (--max-requests, a crash) is marked dead so that its
gauges stop counting.
"""

import os
from pathlib import Path


def on_starting(server):
    directory = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if directory:
        Path(directory).mkdir(parents=True, exist_ok=True)
        for stale in Path(directory).glob("*.db"):
            stale.unlink()


def child_exit(server, worker):
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)
