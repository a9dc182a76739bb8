"""PostgreSQL unavailable: every request answers 503 with a clear message, and everything recovers by itself.

The live test runs Kampus as in production (gunicorn, DEBUG off, a django-q2 worker) on a database
of its own, and takes that database away for real: ``ALTER DATABASE … ALLOW_CONNECTIONS false`` and
``pg_terminate_backend`` on its connections (the PostgreSQL server, which others use, keeps running).
Then it gives the database back and checks that the same processes serve and work again.

The tests below it check which errors count as an outage, and each path an outage can take through
a request (a view, a middleware, an API operation), in the test process.
"""

from __future__ import annotations

import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import psycopg2
import pytest
from django.conf import settings
from django.db import IntegrityError, InterfaceError, OperationalError, connection, transaction
from django.test import Client
from django.utils import translation
from prometheus_client.parser import text_string_to_metric_families

from campus.database_outage import is_database_outage

REPO = Path(__file__).resolve().parents[2]
METRICS_TOKEN = "outage-test-metrics-token"
# One key for every process of a run: the worker refuses jobs signed with another one.
SECRET_KEY = secrets.token_urlsafe(50)
OUTAGE_MESSAGE = "Kampus cannot reach its database at the moment. Try again in a minute or two."
# Longer than the 10 s django-q2's task pusher waits after a failed poll before it is restarted.
OUTAGE_SECONDS = 12


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    body: str


def fetch(url: str, *, method: str = "GET", headers: dict[str, str] | None = None, body: bytes | None = None) -> Answer:
    """Return the answer to one HTTP request (any status), in at most 20 seconds."""
    request = urllib.request.Request(url, method=method, headers=headers or {}, data=body)
    try:
        with urllib.request.urlopen(request, timeout=20) as response:
            return Answer(response.status, dict(response.headers), response.read().decode())
    except urllib.error.HTTPError as error:
        return Answer(error.code, dict(error.headers), error.read().decode())


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class OutageDatabase:
    """A database of its own for the live processes, which the test can take away and give back."""

    def __init__(self) -> None:
        database = settings.DATABASES["default"]
        self.host = database.get("HOST") or "127.0.0.1"
        self.port = str(database.get("PORT") or "5432")
        self.user = database.get("USER") or "postgres"
        self.password = database.get("PASSWORD") or ""
        base = str(database["NAME"]).removeprefix("test_")
        self.name = f"test_{base}_outage"
        credentials = f"{self.user}:{self.password}@" if self.password else f"{self.user}@"
        self.url = f"postgres://{credentials}{self.host}:{self.port}/{self.name}"

    def admin(self, sql: str) -> list[tuple]:
        """Run ``sql`` on the server's ``postgres`` database (never on the one taken away)."""
        admin = psycopg2.connect(
            host=self.host, port=self.port, user=self.user, password=self.password or None, dbname="postgres"
        )
        admin.autocommit = True
        try:
            with admin.cursor() as cursor:
                cursor.execute(sql)
                return cursor.fetchall() if cursor.description else []
        finally:
            admin.close()

    def query(self, sql: str) -> list[tuple]:
        """Run ``sql`` on the outage database itself."""
        own = psycopg2.connect(
            host=self.host, port=self.port, user=self.user, password=self.password or None, dbname=self.name
        )
        own.autocommit = True
        try:
            with own.cursor() as cursor:
                cursor.execute(sql)
                return cursor.fetchall() if cursor.description else []
        finally:
            own.close()

    def take_away(self) -> None:
        self.admin(f'ALTER DATABASE "{self.name}" ALLOW_CONNECTIONS false')
        self.admin(f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{self.name}'")

    def give_back(self) -> None:
        self.admin(f'ALTER DATABASE "{self.name}" ALLOW_CONNECTIONS true')


@dataclass
class LiveKampus:
    database: OutageDatabase
    base_url: str
    api_token: str
    web: subprocess.Popen
    worker: subprocess.Popen
    web_log: Path
    worker_log: Path

    def url(self, path: str) -> str:
        return f"{self.base_url}{path}"

    def manage(self, *args: str) -> str:
        return run_manage(self.database, *args)


def kampus_environment(database: OutageDatabase) -> dict[str, str]:
    """Return production-like settings for the live processes (DEBUG off, JSON logs, a metrics token)."""
    env = {key: value for key, value in os.environ.items() if key not in {"PROMETHEUS_MULTIPROC_DIR", "DEBUG"}}
    env.update(
        {
            "DATABASE_URL": database.url,
            "DJANGO_SETTINGS_MODULE": "campus.settings",
            "SECRET_KEY": SECRET_KEY,
            "ALLOWED_HOSTS": "127.0.0.1",
            "SECURE_SSL_REDIRECT": "0",
            "KAMPUS_MANIFEST_STATIC": "0",
            "KAMPUS_METRICS_TOKEN": METRICS_TOKEN,
            "LOG_FORMAT": "json",
            "KAMPUS_WORKERS": "1",
            "DATABASE_CONNECT_TIMEOUT": "3",
        }
    )
    return env


def run_manage(database: OutageDatabase, *args: str) -> str:
    result = subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=REPO,
        env=kampus_environment(database),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, f"manage.py {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}"
    return result.stdout


def stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)


@pytest.fixture
def live_kampus(on_postgres: None, tmp_path: Path) -> Iterator[LiveKampus]:
    """Start gunicorn and a worker on a freshly migrated database of their own; drop it afterwards."""
    database = OutageDatabase()
    database.admin(f'DROP DATABASE IF EXISTS "{database.name}" WITH (FORCE)')
    database.admin(f'CREATE DATABASE "{database.name}"')
    web = worker = None
    try:
        run_manage(database, "migrate", "--no-input", "-v", "0")
        run_manage(
            database,
            "shell",
            "-c",
            "from campus.models import User; User.objects.create_user('outage.tester', password=None)",
        )
        api_token = run_manage(database, "create_token", "outage.tester").strip().splitlines()[-1]
        port = free_port()
        env = kampus_environment(database)
        web_log, worker_log = tmp_path / "web.log", tmp_path / "worker.log"
        gunicorn = ["-m", "gunicorn", "campus.wsgi:application", "--bind", f"127.0.0.1:{port}", "--workers", "1"]
        web = subprocess.Popen(
            [sys.executable, *gunicorn, "--timeout", "30", "--graceful-timeout", "3"],
            cwd=REPO,
            env=env,
            stdout=web_log.open("w"),
            stderr=subprocess.STDOUT,
        )
        worker = subprocess.Popen(
            [sys.executable, "manage.py", "qcluster"],
            cwd=REPO,
            env=env,
            stdout=worker_log.open("w"),
            stderr=subprocess.STDOUT,
        )
        live = LiveKampus(database, f"http://127.0.0.1:{port}", api_token, web, worker, web_log, worker_log)
        deadline = time.monotonic() + 30
        while True:
            try:
                if fetch(live.url("/healthz")).status == 200:
                    break
            except OSError:
                pass
            assert web.poll() is None, f"gunicorn stopped:\n{web_log.read_text()}"
            assert time.monotonic() < deadline, f"gunicorn did not answer in 30 s:\n{web_log.read_text()}"
            time.sleep(0.2)
        # The outage must find the worker running: a cluster still starting exits when its sentinel
        # cannot reach the database (systemd's Restart= brings such a worker back in production).
        deadline = time.monotonic() + 60
        while " running." not in worker_log.read_text():
            assert worker.poll() is None, f"the worker stopped:\n{worker_log.read_text()}"
            assert time.monotonic() < deadline, f"the worker did not start in 60 s:\n{worker_log.read_text()}"
            time.sleep(0.2)
        yield live
    finally:
        for process in (web, worker):
            if process is not None:
                stop(process)
        database.give_back()
        database.admin(f'DROP DATABASE IF EXISTS "{database.name}" WITH (FORCE)')


def assert_clear_503(answer: Answer) -> None:
    assert answer.status == 503, answer.body
    assert answer.headers.get("Retry-After", "").isdigit()
    for leak in ("Traceback", "psycopg2", "OperationalError", 'File "'):
        assert leak not in answer.body


def test_web_answers_503_while_the_database_is_away_and_recovers_by_itself(live_kampus: LiveKampus) -> None:
    live = live_kampus
    auth = {"Authorization": f"Bearer {live.api_token}"}
    assert fetch(live.url("/")).status == 200
    assert fetch(live.url("/api/v1/me"), headers=auth).status == 200

    live.database.take_away()
    outage_started = time.monotonic()
    try:
        # A page, in the visitor's language (the cookie or Accept-Language: the profile needs the database).
        page = fetch(live.url("/"), headers={"Accept-Language": "fi"})
        assert_clear_503(page)
        assert page.headers["Content-Type"].startswith("text/html")
        assert '<html lang="fi">' in page.body
        with translation.override("fi"):
            finnish = translation.gettext(OUTAGE_MESSAGE)
        assert finnish != OUTAGE_MESSAGE
        assert finnish in page.body

        # The API: its {detail, code} body, for reads and writes alike.
        for method, path in (("GET", "/api/v1/me"), ("POST", "/api/v1/bookings")):
            answer = fetch(
                live.url(path),
                method=method,
                headers={**auth, "Content-Type": "application/json", "Accept-Language": "en"},
                body=b"{}" if method == "POST" else None,
            )
            assert_clear_503(answer)
            assert json.loads(answer.body) == {"detail": OUTAGE_MESSAGE, "code": "database_unavailable"}

        # A calendar feed and a page a form posts to.
        assert_clear_503(fetch(live.url("/calendar/rooms/1/public.ics")))
        assert_clear_503(fetch(live.url("/accounts/login/"), method="POST", body=b"username=x&password=y"))

        # /healthz names the part that is down.
        health = fetch(live.url("/healthz"))
        assert health.status == 503
        report = json.loads(health.body)
        assert report["status"] == "down"
        assert report["checks"]["database"]["status"] == "down"

        # /metrics still answers, saying the database is down.
        scrape = fetch(live.url("/metrics"), headers={"Authorization": f"Bearer {METRICS_TOKEN}"})
        assert scrape.status == 200
        samples = {
            sample.name: sample.value
            for family in text_string_to_metric_families(scrape.body)
            for sample in family.samples
        }
        assert samples["kampus_database_up"] == 0

        # The worker rides the outage out (django-q2 restarts its task pusher) instead of exiting.
        time.sleep(max(0.0, OUTAGE_SECONDS - (time.monotonic() - outage_started)))
        assert live.worker.poll() is None, live.worker_log.read_text()
    finally:
        live.database.give_back()
    back_at = live.database.query("SELECT now()")[0][0]

    # The very first request after the database is back is served: no restart, no warm-up.
    assert fetch(live.url("/")).status == 200
    assert fetch(live.url("/api/v1/me"), headers=auth).status == 200
    health = json.loads(fetch(live.url("/healthz")).body)
    assert health["checks"]["database"]["status"] == "ok"
    assert live.web.poll() is None

    # The worker takes jobs again: a job queued now runs (it records a heartbeat under a name of its own).
    live.manage(
        "shell",
        "-c",
        "from django_q.tasks import async_task; "
        "async_task('campus.services.heartbeat_record', name='queued after the outage', kind='worker')",
    )
    deadline = time.monotonic() + 60
    while True:
        rows = live.database.query("SELECT beat_at FROM campus_heartbeat WHERE name = 'queued after the outage'")
        if rows and rows[0][0] >= back_at:
            break
        assert live.worker.poll() is None, live.worker_log.read_text()
        assert time.monotonic() < deadline, f"the worker ran no job after the outage:\n{live.worker_log.read_text()}"
        time.sleep(0.5)
    assert json.loads(fetch(live.url("/healthz")).body)["checks"]["worker"]["status"] == "ok"

    # LOG_FORMAT=json: one object per request with its id, method, path, status and duration.
    lines = [json.loads(line) for line in live.web_log.read_text().splitlines() if line.startswith("{")]
    healthz_503 = [line for line in lines if line.get("path") == "/healthz" and line.get("status") == 503]
    assert healthz_503, live.web_log.read_text()
    assert {"request_id", "method", "duration_ms", "time", "level"} <= set(healthz_503[0])
    assert not any("Traceback" in line.get("message", "") for line in lines)


# --- which errors are an outage ---------------------------------------------------------------


def wrapped(django_error: type[Exception], cause: Exception) -> Exception:
    """Return ``django_error`` raised from ``cause``, as Django's database wrapper raises it."""
    error = django_error(str(cause))
    error.__cause__ = cause
    return error


def test_a_lost_or_refused_connection_is_an_outage() -> None:
    refused = psycopg2.OperationalError('connection to server at "127.0.0.1", port 5432 failed: Connection refused')
    assert is_database_outage(wrapped(OperationalError, refused))
    closed = psycopg2.InterfaceError("connection already closed")
    assert is_database_outage(wrapped(InterfaceError, closed))


def test_errors_of_a_database_that_answers_are_not_an_outage() -> None:
    assert not is_database_outage(IntegrityError("duplicate key value"))
    assert not is_database_outage(ValueError("not a database error"))


def sleep_past_a_statement_timeout() -> None:
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL statement_timeout = 10")
        cursor.execute("SELECT pg_sleep(1)")


def test_a_statement_timeout_is_not_an_outage(on_postgres: None, db: None) -> None:
    with pytest.raises(OperationalError) as raised:
        sleep_past_a_statement_timeout()
    assert not is_database_outage(raised.value)


def test_a_terminated_connection_is_an_outage(on_postgres: None, db: None) -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    # A second connection of our own, terminated by the server: the same error a restart gives.
    own = psycopg2.connect(**connection.get_connection_params())
    try:
        with own.cursor() as cursor:
            cursor.execute("SELECT pg_backend_pid()")
            pid = cursor.fetchone()[0]
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_terminate_backend(%s)", [pid])
        with pytest.raises(psycopg2.OperationalError) as raised, own.cursor() as cursor:
            cursor.execute("SELECT 1")
    finally:
        own.close()
    assert is_database_outage(wrapped(OperationalError, raised.value))


# --- each path an outage takes through a request -----------------------------------------------

OUTAGE = wrapped(OperationalError, psycopg2.OperationalError("server closed the connection unexpectedly"))


def raise_outage(*args: object, **kwargs: object) -> None:
    raise OUTAGE


@pytest.fixture
def quiet_client() -> Client:
    """A test client that answers like the server does (no exception re-raised into the test)."""
    return Client(raise_request_exception=False)


def test_an_outage_in_a_view_answers_the_page(
    db: None, joint_campus: object, quiet_client: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("campus.views_site.render", raise_outage)
    answer = quiet_client.get("/", headers={"Accept-Language": "en"})
    assert answer.status_code == 503
    assert answer["Retry-After"].isdigit()
    assert OUTAGE_MESSAGE in answer.content.decode()


def test_an_outage_in_a_middleware_answers_the_page(
    db: None, joint_campus: object, quiet_client: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("campus.middleware.default_campus_zone_name", raise_outage)
    answer = quiet_client.get("/", headers={"Accept-Language": "en"})
    assert answer.status_code == 503
    assert OUTAGE_MESSAGE in answer.content.decode()


def test_an_outage_in_an_api_operation_answers_the_api_error(
    db: None, lukio_staff: object, quiet_client: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    quiet_client.force_login(lukio_staff)
    monkeypatch.setattr("api.routers.rooms.selectors.room_list", raise_outage)
    answer = quiet_client.get("/api/v1/rooms", headers={"Accept-Language": "en"})
    assert answer.status_code == 503
    assert answer.json() == {"detail": OUTAGE_MESSAGE, "code": "database_unavailable"}
    assert answer["Retry-After"].isdigit()


def test_other_errors_stay_500_without_details(
    db: None, joint_campus: object, quiet_client: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    def fail(*args: object, **kwargs: object) -> None:
        raise IntegrityError("duplicate key value violates unique constraint")

    monkeypatch.setattr("campus.middleware.default_campus_zone_name", fail)
    answer = quiet_client.get("/")
    assert answer.status_code == 500
    assert "duplicate key" not in answer.content.decode()
