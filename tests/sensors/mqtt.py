"""Helpers of the MQTT tests: a Mosquitto started from deploy/mosquitto.conf, ingester processes, a publisher.

Everything runs on the loopback with bounded waits; a broker or ingester a test starts is stopped
by the test's fixture whatever happens.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import quote

import paho.mqtt.client as mqtt
from django.db import connection
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from sensors.ingester import Ingester, parse_mqtt_url

REPO = Path(__file__).resolve().parents[2]
DEPLOY_CONFIG = REPO / "deploy" / "mosquitto.conf"
DEPLOY_ACL = REPO / "deploy" / "mosquitto.acl"
INGESTER_ACCOUNT = "kampus-ingester"
GATEWAY_ACCOUNT = "kampus-gateway"
# Lines of deploy/mosquitto.conf a test broker changes: where it listens and where its files are.
REWRITTEN = ("listener", "password_file", "acl_file", "persistence_location")


def wait_until(condition: Callable[[], bool], *, timeout: float, what: str, interval: float = 0.1) -> None:
    """Return when ``condition()`` holds; fail the test saying ``what`` did not happen within ``timeout`` s."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"within {timeout:g} s: {what}")
        time.sleep(interval)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def port_open(host: str, port: int) -> bool:
    try:
        socket.create_connection((host, port), timeout=1).close()
    except OSError:
        return False
    return True


def mosquitto_binary() -> str | None:
    return shutil.which("mosquitto") or next(
        (path for path in ("/usr/sbin/mosquitto", "/usr/local/sbin/mosquitto") if os.access(path, os.X_OK)), None
    )


def child_database_url() -> str:
    """Return the URL of the test database pytest-django created, for processes the test starts."""
    settings = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{settings['NAME']}"
    auth = quote(settings["USER"] or "", safe="")
    if settings["PASSWORD"]:
        auth += ":" + quote(settings["PASSWORD"], safe="")
    host = settings["HOST"] or "127.0.0.1"
    port = f":{settings['PORT']}" if settings["PORT"] else ""
    return f"postgres://{auth}@{host}{port}/{quote(settings['NAME'], safe='')}"


def broker_config_text(*, port: int, directory: Path) -> str:
    """Return deploy/mosquitto.conf with only its listener and file locations moved to ``port`` and ``directory``."""
    replacements = {
        "listener": f"listener {port} 127.0.0.1",
        "password_file": f"password_file {directory / 'kampus.passwd'}",
        "acl_file": f"acl_file {directory / 'kampus.acl'}",
        "persistence_location": f"persistence_location {directory}/",
    }
    lines, seen = [], []
    for line in DEPLOY_CONFIG.read_text(encoding="utf-8").splitlines():
        key = line.split(" ", 1)[0]
        if key in replacements:
            seen.append(key)
            line = replacements[key]
        lines.append(line)
    assert sorted(seen) == sorted(REWRITTEN), f"deploy/mosquitto.conf should set each of {REWRITTEN} once: {seen}"
    return "\n".join(lines) + "\n"


class Broker:
    """A Mosquitto from deploy/mosquitto.conf (and deploy/mosquitto.acl) on a spare loopback port."""

    def __init__(self, binary: str) -> None:
        self.binary = binary
        self.port = free_port()
        # Not under pytest's tmp_path: Mosquitto started as root drops to its own user, which must reach it.
        self.directory = Path(tempfile.mkdtemp(prefix="kampus-mosquitto-"))
        self.passwords = {INGESTER_ACCOUNT: secrets.token_urlsafe(12), GATEWAY_ACCOUNT: secrets.token_urlsafe(12)}
        (self.directory / "mosquitto.conf").write_text(broker_config_text(port=self.port, directory=self.directory))
        shutil.copy(DEPLOY_ACL, self.directory / "kampus.acl")
        password_file = self.directory / "kampus.passwd"
        password_file.touch()
        for account, password in self.passwords.items():
            subprocess.run(["mosquitto_passwd", "-b", str(password_file), account, password], check=True, timeout=10)
        if os.geteuid() == 0:
            with contextlib.suppress(KeyError):
                user = pwd.getpwnam("mosquitto")
                for path in [self.directory, *self.directory.iterdir()]:
                    os.chown(path, user.pw_uid, user.pw_gid)
        self.log = self.directory / "broker.log"
        self.process: subprocess.Popen | None = None

    def url(self, account: str = INGESTER_ACCOUNT) -> str:
        return f"mqtt://{account}:{quote(self.passwords[account], safe='')}@127.0.0.1:{self.port}"

    def start(self) -> None:
        with self.log.open("a") as log:
            self.process = subprocess.Popen(
                [self.binary, "-c", str(self.directory / "mosquitto.conf")], stdout=log, stderr=subprocess.STDOUT
            )
        wait_until(
            lambda: port_open("127.0.0.1", self.port) or self.process.poll() is not None,
            timeout=15,
            what="Mosquitto accepts connections",
        )
        assert self.process.poll() is None, self.log.read_text()

    def stop(self) -> None:
        """Stop it as a service manager would (SIGTERM): it writes its sessions and queues to disk."""
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=15)
        self.process = None

    def close(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=15)
        shutil.rmtree(self.directory, ignore_errors=True)


class IngesterProcess:
    """``manage.py ingest_mqtt`` in a process of its own, on the test database (or ``database_url``); log in a file."""

    def __init__(
        self,
        *,
        url: str,
        client_id: str,
        log_directory: Path,
        prefix: str = "kampus/sensors",
        shared: str | None = None,
        batch_size: int = 100,
        flush_seconds: float = 0.2,
        database_url: str | None = None,
    ) -> None:
        self.client_id = client_id
        self.shared = shared
        self.log = log_directory / f"ingester-{client_id}.log"
        self.environment = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "tests.settings",
            "DATABASE_URL": database_url or child_database_url(),
            "MQTT_URL": url,
            "MQTT_TOPIC_PREFIX": prefix,
            "MQTT_SESSION_EXPIRY_SECONDS": "600",
            "INGEST_BATCH_SIZE": str(batch_size),
            "INGEST_FLUSH_SECONDS": str(flush_seconds),
            "PYTHONUNBUFFERED": "1",
            "LOG_LEVEL": "INFO",
        }
        self.process: subprocess.Popen | None = None
        self.starts = 0

    def start(self, *, wait: bool = True) -> None:
        command = [sys.executable, str(REPO / "manage.py"), "ingest_mqtt", "--client-id", self.client_id]
        if self.shared:
            command += ["--shared", self.shared]
        self.starts += 1
        with self.log.open("a") as log:
            log.write(f"--- start {self.starts}\n")
            log.flush()
            self.process = subprocess.Popen(
                command, env=self.environment, cwd=REPO, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
            )
        if wait:
            self.wait_for_line("subscribed to", count=self.starts, timeout=30)

    def text(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")

    def wait_for_line(self, fragment: str, *, count: int = 1, timeout: float) -> None:
        def seen() -> bool:
            assert self.process is not None
            assert self.process.poll() is None, self.text()
            return self.text().count(fragment) >= count

        wait_until(seen, timeout=timeout, what=f"the ingester logs {fragment!r} ({count}×):\n{self.text()}")

    def terminate(self, *, timeout: float = 20) -> int:
        """Send SIGTERM and return the exit status (the ingester writes what it holds, then exits)."""
        assert self.process is not None
        self.process.send_signal(signal.SIGTERM)
        return self.process.wait(timeout=timeout)

    def kill(self) -> None:
        """SIGKILL: no chance to write or acknowledge anything."""
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=10)

    def last_counters(self) -> dict[str, int]:
        lines = [line for line in self.text().splitlines() if line.startswith("ingester stopped:")]
        assert lines, self.text()
        return {name: int(value) for name, value in re.findall(r"(\w+)=(\d+)", lines[-1])}

    def close(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)


class Publisher:
    """A sensor gateway publishing with QoS 1 (MQTT v5)."""

    def __init__(self, url: str, client_id: str | None = None, *, inflight: int = 200) -> None:
        address = parse_mqtt_url(url)
        self.client = mqtt.Client(
            mqtt.CallbackAPIVersion.VERSION2,
            client_id=client_id or f"kampus-test-publisher-{secrets.token_hex(4)}",
            protocol=mqtt.MQTTv5,
        )
        if address.username:
            self.client.username_pw_set(address.username, address.password)
        self.client.max_queued_messages_set(0)
        self.client.max_inflight_messages_set(inflight)
        self.connected = threading.Event()
        self.client.on_connect = lambda client, userdata, flags, reason, properties: (
            self.connected.set() if not reason.is_failure else None
        )
        self.client.connect(address.host, address.port, keepalive=30)
        self.client.loop_start()
        assert self.connected.wait(10), "the publisher could not connect"
        self.sent: list[mqtt.MQTTMessageInfo] = []

    def publish(self, topic: str, payload: bytes, qos: int = 1) -> None:
        self.sent.append(self.client.publish(topic, payload, qos=qos))

    def wait_until_delivered(self, timeout: float = 60) -> None:
        """Return when the broker has acknowledged every message (PUBACK): it holds them now."""
        wait_until(lambda: all(info.is_published() for info in self.sent), timeout=timeout, what="PUBACK for all")

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


def drop_session(url: str, client_id: str) -> None:
    """End the persistent session of ``client_id`` on the broker (clean start, expiry 0), with its queue."""
    address = parse_mqtt_url(url)
    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=client_id, protocol=mqtt.MQTTv5)
    if address.username:
        client.username_pw_set(address.username, address.password)
    properties = Properties(PacketTypes.CONNECT)
    properties.SessionExpiryInterval = 0
    connected = threading.Event()
    client.on_connect = lambda *args: connected.set()
    with contextlib.suppress(OSError):
        client.connect(address.host, address.port, clean_start=True, properties=properties)
        client.loop_start()
        connected.wait(5)
        client.disconnect()
        client.loop_stop()


@contextlib.contextmanager
def running_ingester(**options) -> Iterator[Ingester]:
    """Run an ``Ingester`` in a thread of this process (on the test database) until the block ends."""
    ingester = Ingester(**options)
    failure: list[BaseException] = []

    def run() -> None:
        try:
            ingester.run()
        except BaseException as error:  # reported by the test below
            failure.append(error)
        finally:
            connection.close()

    thread = threading.Thread(target=run, name="ingester", daemon=True)
    thread.start()
    try:
        assert ingester.wait_until_subscribed(15), "the ingester did not subscribe"
        yield ingester
    finally:
        ingester.stop()
        thread.join(30)
        drop_session(options["url"], options["client_id"])
    assert not thread.is_alive(), "the ingester did not stop"
    assert not failure, failure
