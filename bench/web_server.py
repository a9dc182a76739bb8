"""Kampus on gunicorn for a benchmark: a free loopback port, DEBUG off, plain HTTP."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start_gunicorn(workers: int, port: int) -> subprocess.Popen:
    """Start gunicorn with ``workers`` sync workers on the database of DATABASE_URL; return once it listens."""
    env = {
        **os.environ,
        "DEBUG": "0",
        "ALLOWED_HOSTS": "127.0.0.1",
        "SECURE_SSL_REDIRECT": "0",
        "KAMPUS_MANIFEST_STATIC": "0",
        "LOG_LEVEL": "ERROR",
    }
    command = [
        sys.executable, "-m", "gunicorn", "campus.wsgi:application",
        "--workers", str(workers), "--bind", f"127.0.0.1:{port}", "--log-level", "warning",
    ]  # fmt: skip
    server = subprocess.Popen(command, cwd=REPO, env=env)
    for _ in range(300):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return server
        except OSError:
            time.sleep(0.1)
    server.kill()
    raise SystemExit("gunicorn did not start")


def stop(server: subprocess.Popen | None) -> None:
    if server is not None:
        server.terminate()
        server.wait(timeout=10)


def percentile(values: list[float], fraction: float) -> float:
    """Return the ``fraction`` percentile of ``values`` (nearest rank), in the same unit."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))] if ordered else float("nan")


def cpu_seconds(server: subprocess.Popen) -> float:
    """Return the CPU time (user + system) gunicorn's master and workers have used so far, from /proc.

    Divided by the requests served, it says what a request costs whatever else the machine runs.
    """
    children = Path(f"/proc/{server.pid}/task/{server.pid}/children").read_text().split()
    total = 0.0
    for pid in [server.pid, *children]:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return total
