"""Jobs the worker test runs (tests/campus/test_worker_database_restart.py): each run leaves a row.

``record_run`` inserts a row into ``outage_task_run`` (a table of that test, without a unique key, so
that a job run twice shows twice); ``hold_then_record`` keeps a worker busy until a file appears.
"""

from __future__ import annotations

import time
from pathlib import Path

from django.db import connection


def record_run(label: str) -> None:
    """Insert a row saying that the job ``label`` ran."""
    with connection.cursor() as cursor:
        cursor.execute("INSERT INTO outage_task_run (label) VALUES (%s)", [label])


def hold_then_record(label: str, started: str, release: str) -> None:
    """Create the file ``started``, wait (at most a minute) for the file ``release``, then record the run."""
    Path(started).touch()
    deadline = time.monotonic() + 60
    while not Path(release).exists() and time.monotonic() < deadline:
        time.sleep(0.1)
    record_run(label)
