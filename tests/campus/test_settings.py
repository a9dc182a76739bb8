"""Settings come from the environment: each case imports campus.settings in a fresh interpreter."""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

BASE_DIR = Path(__file__).resolve().parents[2]

# Every variable campus/settings.py reads; the tests start from an environment without any of them.
KAMPUS_VARIABLES = {
    "DATABASE_URL",
    "MQTT_URL",
    "MQTT_TOPIC_PREFIX",
    "MQTT_CLIENT_ID",
    "MQTT_SESSION_EXPIRY_SECONDS",
    "INGEST_BATCH_SIZE",
    "INGEST_FLUSH_SECONDS",
    "SENSOR_MAX_PAYLOAD_BYTES",
    "SENSOR_MAX_FUTURE_SECONDS",
    "SENSOR_MAX_AGE_DAYS",
    "SENSOR_COUNT_LIMIT_FACTOR",
    "SENSOR_COUNT_LIMIT_EXTRA",
    "SENSOR_READING_RETENTION_DAYS",
    "SENSOR_DEAD_LETTER_RETENTION_DAYS",
    # Set by the browser tests for pytest-django's live server; `check --deploy` would flag it.
    "DJANGO_ALLOW_ASYNC_UNSAFE",
    "SECRET_KEY",
    "DEBUG",
    "ALLOWED_HOSTS",
    "CSRF_TRUSTED_ORIGINS",
    "SECURE_SSL_REDIRECT",
    "SECURE_HSTS_SECONDS",
    "SECURE_HSTS_INCLUDE_SUBDOMAINS",
    "SECURE_HSTS_PRELOAD",
    "TRUST_X_FORWARDED_PROTO",
    "TRUST_X_FORWARDED_FOR",
    "AXES_FAILURE_LIMIT",
    "AXES_ADDRESS_FAILURE_LIMIT",
    "AXES_COOLOFF_MINUTES",
    "TIME_ZONE",
    "LANGUAGE_CODE",
    "KAMPUS_BASE_URL",
    "KAMPUS_ICAL_UID_DOMAIN",
    "KAMPUS_WORKERS",
    "REDIS_URL",
    "KAMPUS_QUEUE_NAME",
    "KAMPUS_MANIFEST_STATIC",
    "EMAIL_BACKEND",
    "EMAIL_HOST",
    "EMAIL_PORT",
    "EMAIL_HOST_USER",
    "EMAIL_HOST_PASSWORD",
    "EMAIL_USE_TLS",
    "DEFAULT_FROM_EMAIL",
    "LOG_LEVEL",
    "DJANGO_SETTINGS_MODULE",
}

PRODUCTION_KEY = "x" + secrets.token_urlsafe(60)

# Print the settings a test asks about as JSON (values that JSON cannot carry become strings).
READ_SETTINGS = """
import json, sys
from django.conf import settings
print(json.dumps({name: getattr(settings, name, None) for name in sys.argv[1:]}, default=str))
"""


def clean_env(**variables: str) -> dict[str, str]:
    """Return this process's environment without Kampus variables, plus ``variables``."""
    env = {name: value for name, value in os.environ.items() if name not in KAMPUS_VARIABLES}
    env["DJANGO_SETTINGS_MODULE"] = "campus.settings"
    env.update(variables)
    return env


def run_python(code: str, *args: str, **variables: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", code, *args],
        cwd=BASE_DIR,
        env=clean_env(**variables),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def read_settings(*names: str, **variables: str) -> dict:
    """Return the settings ``names`` as campus.settings computes them under ``variables``."""
    result = run_python(READ_SETTINGS, *names, **variables)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_calendar_uids_take_the_base_url_s_host_unless_their_domain_is_set():
    derived = read_settings("KAMPUS_ICAL_UID_DOMAIN", DEBUG="1", KAMPUS_BASE_URL="https://kampus.example.org:8443/")
    chosen = read_settings(
        "KAMPUS_ICAL_UID_DOMAIN",
        DEBUG="1",
        KAMPUS_BASE_URL="https://new.example.org",
        KAMPUS_ICAL_UID_DOMAIN="old.example.org",
    )

    assert derived["KAMPUS_ICAL_UID_DOMAIN"] == "kampus.example.org"
    assert chosen["KAMPUS_ICAL_UID_DOMAIN"] == "old.example.org"


def test_database_url_for_postgresql_is_parsed():
    database = read_settings("DATABASES", DEBUG="1", DATABASE_URL="postgres://kampus:pw@db.example.org:5433/kampus")[
        "DATABASES"
    ]["default"]

    assert database["ENGINE"] == "django.db.backends.postgresql"
    assert database["NAME"] == "kampus"
    assert database["HOST"] == "db.example.org"
    assert database["PORT"] == 5433
    assert database["USER"] == "kampus"
    assert "transaction_mode" not in database.get("OPTIONS", {})


def test_default_database_is_sqlite_with_immediate_transactions_wal_and_busy_timeout():
    database = read_settings("DATABASES", DEBUG="1")["DATABASES"]["default"]

    assert database["ENGINE"] == "django.db.backends.sqlite3"
    assert database["NAME"] == str(BASE_DIR / "db.sqlite3")
    assert database["OPTIONS"]["transaction_mode"] == "IMMEDIATE"
    assert "journal_mode=WAL" in database["OPTIONS"]["init_command"]
    assert database["OPTIONS"]["timeout"] >= 5


def test_debug_off_without_secret_key_is_refused_with_a_clear_message():
    result = run_python("import django; django.setup()")

    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert "SECRET_KEY is not set" in result.stderr


@pytest.mark.parametrize("value", ["maybe", "2", "enabled"])
def test_debug_with_a_value_that_is_not_a_boolean_is_refused(value):
    result = run_python("import django; django.setup()", DEBUG=value, SECRET_KEY=PRODUCTION_KEY)

    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert f"DEBUG={value!r} is not a boolean" in result.stderr


@pytest.mark.parametrize(
    ("value", "expected"), [("1", True), ("true", True), ("ON", True), ("0", False), ("no", False)]
)
def test_debug_accepts_the_usual_spellings_of_booleans(value, expected):
    assert read_settings("DEBUG", DEBUG=value, SECRET_KEY=PRODUCTION_KEY)["DEBUG"] is expected


def test_debug_off_secures_cookies_hsts_and_redirects_to_https():
    values = read_settings(
        "SESSION_COOKIE_SECURE",
        "CSRF_COOKIE_SECURE",
        "SECURE_HSTS_SECONDS",
        "SECURE_SSL_REDIRECT",
        "ALLOWED_HOSTS",
        SECRET_KEY=PRODUCTION_KEY,
    )

    assert values["SESSION_COOKIE_SECURE"] is True
    assert values["CSRF_COOKIE_SECURE"] is True
    assert values["SECURE_HSTS_SECONDS"] > 0
    assert values["SECURE_SSL_REDIRECT"] is True
    assert values["ALLOWED_HOSTS"] == []


def test_ssl_redirect_can_be_switched_off_behind_a_redirecting_proxy():
    values = read_settings(
        "SECURE_SSL_REDIRECT", "SECURE_PROXY_SSL_HEADER", SECRET_KEY=PRODUCTION_KEY, SECURE_SSL_REDIRECT="0"
    )

    assert values["SECURE_SSL_REDIRECT"] is False
    assert values["SECURE_PROXY_SSL_HEADER"] is None


def test_forwarded_proto_is_trusted_only_when_asked():
    values = read_settings("SECURE_PROXY_SSL_HEADER", SECRET_KEY=PRODUCTION_KEY, TRUST_X_FORWARDED_PROTO="1")

    assert values["SECURE_PROXY_SSL_HEADER"] == ["HTTP_X_FORWARDED_PROTO", "https"]


def test_debug_on_allows_local_hosts_and_uses_plain_static_storage():
    values = read_settings("ALLOWED_HOSTS", "STORAGES", "SESSION_COOKIE_SECURE", DEBUG="1")

    assert "127.0.0.1" in values["ALLOWED_HOSTS"]
    assert values["STORAGES"]["staticfiles"]["BACKEND"] == "django.contrib.staticfiles.storage.StaticFilesStorage"
    assert values["SESSION_COOKIE_SECURE"] is False


def test_debug_off_uses_whitenoise_manifest_storage():
    values = read_settings("STORAGES", SECRET_KEY=PRODUCTION_KEY)

    assert values["STORAGES"]["staticfiles"]["BACKEND"] == "whitenoise.storage.CompressedManifestStaticFilesStorage"


def test_lists_time_zone_language_and_base_url_come_from_the_environment():
    values = read_settings(
        "ALLOWED_HOSTS",
        "CSRF_TRUSTED_ORIGINS",
        "TIME_ZONE",
        "LANGUAGE_CODE",
        "KAMPUS_BASE_URL",
        "Q_CLUSTER",
        SECRET_KEY=PRODUCTION_KEY,
        ALLOWED_HOSTS="kampus.example.org, www.kampus.example.org ,",
        CSRF_TRUSTED_ORIGINS="https://kampus.example.org",
        TIME_ZONE="Europe/Stockholm",
        LANGUAGE_CODE="sv",
        KAMPUS_BASE_URL="https://kampus.example.org/",
        KAMPUS_WORKERS="4",
    )

    assert values["ALLOWED_HOSTS"] == ["kampus.example.org", "www.kampus.example.org"]
    assert values["CSRF_TRUSTED_ORIGINS"] == ["https://kampus.example.org"]
    assert values["TIME_ZONE"] == "Europe/Stockholm"
    assert values["LANGUAGE_CODE"] == "sv"
    assert values["KAMPUS_BASE_URL"] == "https://kampus.example.org"
    assert values["Q_CLUSTER"]["workers"] == 4


def test_defaults_mqtt_url_and_background_jobs_on_the_orm_broker():
    values = read_settings("MQTT_URL", "Q_CLUSTER", "TIME_ZONE", "LANGUAGE_CODE", DEBUG="1")

    assert values["MQTT_URL"] == "mqtt://127.0.0.1:1883"
    assert values["Q_CLUSTER"]["orm"] == "default"
    assert "redis" not in values["Q_CLUSTER"]
    assert values["Q_CLUSTER"]["name"] == "kampus"
    assert values["Q_CLUSTER"]["timeout"] < values["Q_CLUSTER"]["retry"]
    assert values["TIME_ZONE"] == "Europe/Helsinki"
    assert values["LANGUAGE_CODE"] == "fi"


def test_redis_url_moves_the_job_queue_from_the_database_to_redis_under_the_queue_name():
    values = read_settings(
        "Q_CLUSTER", DEBUG="1", REDIS_URL="redis://redis.example.org:6379/2", KAMPUS_QUEUE_NAME="kampus-staging"
    )["Q_CLUSTER"]

    assert values["redis"] == "redis://redis.example.org:6379/2"
    assert "orm" not in values
    assert values["name"] == "kampus-staging"


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("REDIS_URL", "http://127.0.0.1:6379", "REDIS_URL='http://127.0.0.1:6379': use redis://"),
        ("KAMPUS_QUEUE_NAME", "kampus queue", "KAMPUS_QUEUE_NAME='kampus queue': use letters"),
        ("KAMPUS_QUEUE_NAME", "", "KAMPUS_QUEUE_NAME='': use letters"),
    ],
)
def test_a_job_queue_setting_that_cannot_work_is_refused_naming_it(variable, value, message):
    result = run_python("import django; django.setup()", DEBUG="1", **{variable: value})

    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert message in result.stderr


def test_deploy_check_passes_with_only_secret_key_and_allowed_hosts(tmp_path):
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=BASE_DIR,
        env=clean_env(
            SECRET_KEY=PRODUCTION_KEY,
            ALLOWED_HOSTS="kampus.example.org",
            # Keep the developer's db.sqlite3 out of it; the check itself does not touch the database.
            DATABASE_URL=f"sqlite:///{tmp_path / 'kampus.sqlite3'}",
        ),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )

    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_sensor_settings_have_defaults_and_come_from_the_environment():
    names = (
        "KAMPUS_MQTT_TOPIC_PREFIX",
        "KAMPUS_INGEST_BATCH_SIZE",
        "KAMPUS_SENSOR_MAX_AGE_DAYS",
        "KAMPUS_MQTT_CLIENT_ID",
    )
    defaults = read_settings(*names, DEBUG="1")
    chosen = read_settings(
        *names,
        DEBUG="1",
        MQTT_TOPIC_PREFIX="/site/sensors/",
        INGEST_BATCH_SIZE="50",
        SENSOR_MAX_AGE_DAYS="3",
        MQTT_CLIENT_ID="ingester-1",
    )

    assert defaults == {
        "KAMPUS_MQTT_TOPIC_PREFIX": "kampus/sensors",
        "KAMPUS_INGEST_BATCH_SIZE": 500,
        "KAMPUS_SENSOR_MAX_AGE_DAYS": 7,
        "KAMPUS_MQTT_CLIENT_ID": "",
    }
    assert chosen == {
        "KAMPUS_MQTT_TOPIC_PREFIX": "site/sensors",
        "KAMPUS_INGEST_BATCH_SIZE": 50,
        "KAMPUS_SENSOR_MAX_AGE_DAYS": 3,
        "KAMPUS_MQTT_CLIENT_ID": "ingester-1",
    }
