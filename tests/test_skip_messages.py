"""A skipped test says what is actually missing; under CI=true it fails instead of skipping."""

from __future__ import annotations

import pytest

from tests.conftest import postgres_missing_reason, postgres_unreachable_reason, require_service
from tests.e2e.conftest import chromium_missing_reason


def test_without_database_url_the_postgres_tests_ask_for_it():
    reason = postgres_missing_reason(None)

    assert "set DATABASE_URL=postgres://" in reason
    assert "install" not in reason


def test_a_database_url_of_another_database_is_named():
    reason = postgres_missing_reason("sqlite:///db.sqlite3")

    assert "sqlite" in reason
    assert "set DATABASE_URL=postgres://" in reason


def test_an_unreachable_postgres_server_asks_to_install_or_start_it():
    # Port 9 (discard) on the loopback: nothing listens there, so the connection is refused at once.
    reason = postgres_unreachable_reason({"HOST": "127.0.0.1", "PORT": "9", "USER": "postgres", "PASSWORD": ""})

    assert reason is not None
    assert "install and start PostgreSQL" in reason
    assert "127.0.0.1:9" in reason


def test_a_missing_chromium_asks_to_install_it():
    reason = chromium_missing_reason(configured="", found_on_path=None)

    assert "apt-get install chromium" in reason


def test_a_wrong_kampus_chromium_is_named():
    reason = chromium_missing_reason(configured="/nowhere/chromium", found_on_path="/usr/bin/chromium")

    assert "KAMPUS_CHROMIUM=/nowhere/chromium" in reason
    assert "apt-get" not in reason


def test_a_missing_service_skips_outside_ci_and_fails_under_ci(monkeypatch):
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception, match="set DATABASE_URL"):
        require_service("PostgreSQL", postgres_missing_reason(None))

    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="set DATABASE_URL"):
        require_service("PostgreSQL", postgres_missing_reason(None))


def test_a_missing_mqtt_broker_asks_to_install_mosquitto_and_set_mqtt_url():
    from tests.sensors.conftest import mqtt_missing_reason

    unset = mqtt_missing_reason(None)
    unreachable = mqtt_missing_reason("mqtt://127.0.0.1:9")

    assert "apt-get install mosquitto" in unset
    assert "MQTT_URL=mqtt://127.0.0.1:1883" in unset
    assert "install and start Mosquitto" in unreachable
    assert "mqtt://127.0.0.1:9" in unreachable


def test_missing_postgresql_server_binaries_ask_to_install_them(monkeypatch):
    from tests import postgres_cluster

    monkeypatch.setattr(postgres_cluster, "server_binaries", lambda: None)

    assert "apt-get install postgresql" in postgres_cluster.missing_reason()


def test_a_missing_redis_asks_to_install_redis_server_and_set_redis_url():
    from tests.conftest import redis_missing_reason

    unset = redis_missing_reason(None)
    unreachable = redis_missing_reason("redis://127.0.0.1:9/0", "Connection refused")

    assert "apt-get install redis-server" in unset
    assert "REDIS_URL=redis://127.0.0.1:6379/0" in unset
    assert "install and start Redis" in unreachable
    assert "redis://127.0.0.1:9/0" in unreachable
