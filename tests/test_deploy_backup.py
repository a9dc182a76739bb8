"""deploy/kampus-backup.sh dumps the database, and deploy/backup-check.sh restores a dump and checks every table.

Run for real with pg_dump, pg_restore and psql against the test database on PostgreSQL; the
scratch database of the check has a name of its own and is dropped afterwards.
"""

from __future__ import annotations

import datetime as dt
import glob
import os
import pwd
import shutil
import subprocess
import sys
import time
from pathlib import Path

import psycopg2
import pytest
from django.db import connection
from django.utils import timezone

from bookings.models import Booking, BookingStatus
from campus.models import User
from tests.conftest import JointCampus
from tests.sensors.mqtt import child_database_url, free_port

ROOT = Path(__file__).resolve().parents[1]
BACKUP = ROOT / "deploy" / "kampus-backup.sh"
CHECK = ROOT / "deploy" / "backup-check.sh"
PITR_TRIAL = ROOT / "deploy" / "pitr-trial.sh"


def database_exists(name: str) -> bool:
    database = connection.settings_dict
    admin = psycopg2.connect(
        host=database["HOST"] or "127.0.0.1",
        port=database["PORT"] or 5432,
        user=database["USER"],
        password=database["PASSWORD"] or None,
        dbname="postgres",
    )
    try:
        with admin.cursor() as cursor:
            cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name])
            return cursor.fetchone() is not None
    finally:
        admin.close()


def run(script: Path, *args: str, **variables: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "DATABASE_URL": child_database_url(), **variables}
    return subprocess.run(
        ["bash", str(script), *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300, check=False
    )


@pytest.fixture
def postgres_client_tools(on_postgres: None) -> None:
    missing = [tool for tool in ("pg_dump", "pg_restore", "psql", "createdb", "dropdb") if shutil.which(tool) is None]
    if missing:
        from tests.conftest import require_service

        require_service(
            "PostgreSQL's client tools", f"{', '.join(missing)} not found; apt-get install postgresql-client"
        )


@pytest.fixture
def booked_campus(
    postgres_client_tools: None, transactional_db: None, joint_campus: JointCampus, lukio_staff: User
) -> int:
    """Commit a campus with three bookings (the scripts' own connections must see them); return how many."""
    start = timezone.now().replace(microsecond=0) + dt.timedelta(days=2)
    for offset in range(3):
        Booking.objects.create(
            campus=joint_campus.campus,
            room=joint_campus.classroom,
            booked_by=lukio_staff,
            title=f"Backed-up lesson {offset}",
            start=start + dt.timedelta(hours=2 * offset),
            end=start + dt.timedelta(hours=2 * offset + 1),
            status=BookingStatus.CONFIRMED,
        )
    return 3


def test_a_nightly_dump_restores_with_every_row_and_the_scratch_database_goes_away(
    booked_campus: int, tmp_path: Path
) -> None:
    backups = tmp_path / "backups"
    dumped = run(BACKUP, KAMPUS_BACKUP_DIR=str(backups))
    assert dumped.returncode == 0, dumped.stderr
    dump = Path(dumped.stdout.strip().splitlines()[-1])
    assert dump.parent == backups
    assert dump.name.startswith("kampus-")
    assert dump.suffix == ".dump"
    assert [path.name for path in backups.iterdir()] == [dump.name], "no partial file left behind"
    assert dump.stat().st_mode & 0o077 == 0, "the dump holds personal data: only its owner may read it"
    assert backups.stat().st_mode & 0o077 == 0, "nor list the directory the script made"

    scratch = f"{connection.settings_dict['NAME']}_restore_check"
    checked = run(CHECK, str(dump), RESTORE_CHECK_DATABASE=scratch)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    lines = checked.stdout.splitlines()
    assert any(line.split() == ["public.bookings_booking", str(booked_campus), "rows"] for line in lines), lines
    assert any(line.split()[:2] == ["public.campus_room", str(3)] for line in lines), lines
    assert lines[-1].startswith("backup-check: OK:")
    assert not database_exists(scratch)


def test_old_dumps_are_deleted_and_recent_ones_kept(booked_campus: int, tmp_path: Path) -> None:
    old, recent = tmp_path / "kampus-2020-01-01T023000Z.dump", tmp_path / "kampus-recent.dump"
    for path in (old, recent):
        path.write_bytes(b"")
    twenty_days_ago = time.time() - 20 * 86400
    os.utime(old, (twenty_days_ago, twenty_days_ago))
    dumped = run(BACKUP, KAMPUS_BACKUP_DIR=str(tmp_path), KAMPUS_BACKUP_KEEP_DAYS="14")
    assert dumped.returncode == 0, dumped.stderr
    assert not old.exists()
    assert recent.exists()
    assert f"deleted old dump: {old}" in dumped.stdout


def test_a_damaged_dump_fails_the_check(booked_campus: int, tmp_path: Path) -> None:
    dumped = run(BACKUP, KAMPUS_BACKUP_DIR=str(tmp_path))
    assert dumped.returncode == 0, dumped.stderr
    dump = Path(dumped.stdout.strip().splitlines()[-1])
    damaged = tmp_path / "damaged.dump"
    damaged.write_bytes(dump.read_bytes()[: dump.stat().st_size // 2])
    scratch = f"{connection.settings_dict['NAME']}_restore_check"
    checked = run(CHECK, str(damaged), RESTORE_CHECK_DATABASE=scratch)
    assert checked.returncode != 0
    assert "backup-check: FAILED" in checked.stderr
    assert not database_exists(scratch)


def test_without_a_dump_the_check_dumps_the_database_itself(booked_campus: int) -> None:
    scratch = f"{connection.settings_dict['NAME']}_restore_check"
    checked = run(CHECK, RESTORE_CHECK_DATABASE=scratch)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "public.bookings_booking" in checked.stdout


def test_point_in_time_recovery_as_documented_brings_back_the_rows_of_before_the_target(on_postgres: None) -> None:
    """Run deploy/pitr-trial.sh: WAL archiving, a base backup, recovery to a time, on a cluster of its own."""
    from tests.conftest import require_service

    if not glob.glob("/usr/lib/postgresql/*/bin/initdb"):
        require_service(
            "PostgreSQL's server binaries", "no /usr/lib/postgresql/*/bin/initdb; apt-get install postgresql"
        )
    if os.geteuid() != 0 and pwd.getpwuid(os.geteuid()).pw_name != "postgres":
        require_service("root or the postgres user", "the trial runs a PostgreSQL cluster of its own as postgres")
    port = free_port()
    env = {key: value for key, value in os.environ.items() if key not in {"DATABASE_URL", "REDIS_URL"}}
    env.update({"PITR_TRIAL_PORT": str(port), "PYTHON": sys.executable})
    result = subprocess.run(
        ["bash", str(PITR_TRIAL)], cwd=ROOT, env=env, capture_output=True, text=True, timeout=600, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "rows at the target: pitr-before-1,pitr-before-2" in result.stdout
    assert "pitr-trial: OK" in result.stdout
