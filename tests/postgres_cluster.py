"""A throwaway PostgreSQL server of a test's own, which the test stops and starts: a real database restart.

The PostgreSQL of DATABASE_URL serves the whole test run, so the tests of a database restart never
touch it. Instead they ``initdb`` a cluster in a temporary directory with the same server binaries,
start it with ``pg_ctl`` on a spare loopback port (its socket in that directory too), copy the
test database into it (``pg_dump | psql``: the migrated schema and the rows the test made), and point
the processes they start at it. ``stop`` is ``pg_ctl stop`` (``-m fast`` as ``systemctl restart``
does, or ``-m immediate``: a crash, recovered from the WAL at the next start); ``start`` brings the
same data back on the same port.

Run as root (as CI does), the server runs as the ``postgres`` account, which owns the directory.
"""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import psycopg2
import pytest
from django.db import connection

from tests.conftest import require_service
from tests.sensors.mqtt import free_port, port_open, wait_until

DATABASE = "kampus"
INSTALL_HINT = (
    "install the PostgreSQL server (apt-get install postgresql): initdb and pg_ctl in /usr/lib/postgresql/*/bin"
)


def server_binaries() -> Path | None:
    """Return the directory of initdb and pg_ctl (the newest installed major version), or None."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda path: int(Path(path).parts[4]))
    if found:
        return Path(found[-1]).parent
    initdb = shutil.which("initdb")
    return Path(initdb).parent if initdb else None


def missing_reason() -> str | None:
    """Return why a throwaway cluster cannot be made here, or None."""
    binaries = server_binaries()
    if binaries is None or not (binaries / "pg_ctl").exists():
        return INSTALL_HINT
    for client in ("pg_dump", "psql"):
        if not (binaries / client).exists() and shutil.which(client) is None:
            return f"{client} is missing; {INSTALL_HINT}"
    if os.geteuid() == 0:
        try:
            pwd.getpwnam("postgres")
        except KeyError:
            return "running as root needs the postgres account to run a server; " + INSTALL_HINT
    return None


class ThrowawayCluster:
    """A PostgreSQL server in a temporary directory on a spare loopback port."""

    def __init__(self) -> None:
        binaries = server_binaries()
        assert binaries is not None, INSTALL_HINT
        self.binaries = binaries
        self.port = free_port()
        self.directory = Path(tempfile.mkdtemp(prefix="kampus-postgres-"))
        self.data = self.directory / "data"
        self.log = self.directory / "server.log"
        self.account: pwd.struct_passwd | None = pwd.getpwnam("postgres") if os.geteuid() == 0 else None
        if self.account is not None:
            os.chown(self.directory, self.account.pw_uid, self.account.pw_gid)
        self.url = f"postgres://postgres@127.0.0.1:{self.port}/{DATABASE}"

    def _run(self, *command: str, input_text: str | None = None, timeout: float = 60) -> str:
        result = subprocess.run(
            list(command),
            input=input_text,
            capture_output=True,
            text=True,
            timeout=timeout,
            cwd=self.directory,
            user=self.account.pw_uid if self.account else None,
            group=self.account.pw_gid if self.account else None,
            extra_groups=[] if self.account else None,
        )
        assert result.returncode == 0, f"{' '.join(command)} failed:\n{result.stdout}\n{result.stderr}"
        return result.stdout

    def create(self) -> None:
        """Initialise the cluster: trust on the loopback; no fsync (it must survive its server, not the machine)."""
        self._run(
            str(self.binaries / "initdb"),
            "-D",
            str(self.data),
            "-U",
            "postgres",
            "--auth=trust",
            "-E",
            "UTF8",
            "--locale=C",
            "--no-sync",
        )
        with (self.data / "postgresql.conf").open("a") as conf:
            conf.write(
                f"port = {self.port}\nlisten_addresses = '127.0.0.1'\nunix_socket_directories = '{self.directory}'\n"
                "fsync = off\nfull_page_writes = off\nmax_connections = 50\n"
                "shared_buffers = 16MB\n"
            )

    def start(self) -> None:
        self._run(str(self.binaries / "pg_ctl"), "-D", str(self.data), "-l", str(self.log), "-w", "-t", "60", "start")
        wait_until(lambda: port_open("127.0.0.1", self.port), timeout=30, what="the throwaway PostgreSQL answers")

    def stop(self, mode: str = "fast") -> None:
        """Stop the server: ``fast`` (what a service manager's restart does) or ``immediate`` (a crash)."""
        self._run(str(self.binaries / "pg_ctl"), "-D", str(self.data), "-m", mode, "-w", "-t", "60", "stop")

    @property
    def running(self) -> bool:
        return (self.data / "postmaster.pid").exists()

    def copy_test_database(self) -> None:
        """Create the database and fill it with a dump of the test database (schema and committed rows)."""
        self.admin(f'CREATE DATABASE "{DATABASE}"')
        settings = connection.settings_dict
        environment = {**os.environ, "PGPASSWORD": settings["PASSWORD"] or ""}
        dump = subprocess.run(
            [
                self._client("pg_dump"),
                "--no-owner",
                "--no-privileges",
                "-h",
                settings["HOST"] or "127.0.0.1",
                "-p",
                str(settings["PORT"] or 5432),
                "-U",
                settings["USER"] or "postgres",
                settings["NAME"],
            ],
            capture_output=True,
            text=True,
            timeout=120,
            env=environment,
            check=True,
        )
        subprocess.run(
            [self._client("psql"), "-q", "-v", "ON_ERROR_STOP=1", self.url],
            input=dump.stdout,
            capture_output=True,
            text=True,
            timeout=120,
            check=True,
        )

    def _client(self, name: str) -> str:
        own = self.binaries / name
        return str(own) if own.exists() else str(shutil.which(name))

    def admin(self, sql: str) -> None:
        """Run ``sql`` outside a transaction on the cluster's ``postgres`` database."""
        server = psycopg2.connect(host="127.0.0.1", port=self.port, user="postgres", dbname="postgres")
        server.autocommit = True
        try:
            with server.cursor() as cursor:
                cursor.execute(sql)
        finally:
            server.close()

    def query(self, sql: str, parameters: tuple = ()) -> list[tuple]:
        """Run ``sql`` on the copied database and return its rows."""
        own = psycopg2.connect(host="127.0.0.1", port=self.port, user="postgres", dbname=DATABASE, connect_timeout=5)
        own.autocommit = True
        try:
            with own.cursor() as cursor:
                cursor.execute(sql, parameters)
                return cursor.fetchall() if cursor.description else []
        finally:
            own.close()

    def close(self) -> None:
        if self.running:
            with contextlib.suppress(AssertionError, subprocess.SubprocessError):
                self.stop("immediate")
        shutil.rmtree(self.directory, ignore_errors=True)


@contextlib.contextmanager
def throwaway_copy_of_test_database() -> Iterator[ThrowawayCluster]:
    """Yield a started throwaway cluster holding a copy of the test database; remove it afterwards."""
    cluster = ThrowawayCluster()
    try:
        cluster.create()
        cluster.start()
        cluster.copy_test_database()
        yield cluster
    finally:
        cluster.close()


@pytest.fixture
def restartable_postgres(on_postgres: None) -> Iterator[ThrowawayCluster]:
    """A PostgreSQL server of the test's own holding a copy of the (committed) test database, to stop and start.

    Use it with ``django_db(transaction=True)`` and make the rows the processes need before asking for it.
    """
    reason = missing_reason()
    if reason is not None:
        require_service("PostgreSQL server binaries", reason)
    with throwaway_copy_of_test_database() as cluster:
        yield cluster
