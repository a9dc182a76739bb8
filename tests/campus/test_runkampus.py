"""``manage.py runkampus`` (what ``./kampus run`` starts): the base URL of e-mail links follows its port; the
sensor ingester and simulator run when a broker answers at MQTT_URL; Ctrl-C stops every process."""

from __future__ import annotations

import contextlib
import os
import secrets
import signal
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from campus.demo import CAMPUS_NAME
from campus.management.commands.runkampus import Command, base_url_for, process_environment
from campus.models import Building, Campus, Room
from sensors.ingester import parse_mqtt_url
from sensors.models import Sensor, SensorKind
from tests.conftest import require_service
from tests.sensors.conftest import mqtt_missing_reason
from tests.sensors.mqtt import REPO, child_database_url, drop_session, free_port, port_open, wait_until


@pytest.mark.parametrize(
    ("host", "port", "url"),
    [
        ("127.0.0.1", 8765, "http://127.0.0.1:8765"),
        ("localhost", 8000, "http://localhost:8000"),
        ("0.0.0.0", 9000, "http://127.0.0.1:9000"),  # listening everywhere: links to this machine
        ("::", 9000, "http://[::1]:9000"),
        ("::1", 8080, "http://[::1]:8080"),
    ],
)
def test_the_base_url_follows_the_host_and_port_of_the_web_server(host, port, url):
    assert base_url_for(host, port) == url


def test_the_processes_get_the_base_url_of_the_chosen_port():
    environment = process_environment({"PATH": "/usr/bin"}, host="127.0.0.1", port=8765)

    assert environment["KAMPUS_BASE_URL"] == "http://127.0.0.1:8765"
    assert environment["PATH"] == "/usr/bin"


def test_an_explicit_base_url_wins():
    environment = process_environment({"KAMPUS_BASE_URL": "https://kampus.example.org"}, host="0.0.0.0", port=8765)

    assert environment["KAMPUS_BASE_URL"] == "https://kampus.example.org"


def test_the_port_option_reaches_the_web_server_and_the_base_url(monkeypatch):
    monkeypatch.delenv("KAMPUS_BASE_URL", raising=False)
    command = Command()
    options = command.create_parser("manage.py", "runkampus").parse_args(["--port", "8765", "--no-worker"])

    processes = command.processes(vars(options))

    assert processes[0].args[:2] == ["runserver", "127.0.0.1:8765"]
    assert processes[0].environment["KAMPUS_BASE_URL"] == "http://127.0.0.1:8765"


# --- The sensor ingester and simulator: started when a broker answers at MQTT_URL --------------------


@pytest.fixture
def broker_url() -> str:
    """The broker at MQTT_URL (as the sensor tests' ``mqtt_url``), or a skip saying what to start."""
    url = os.environ.get("MQTT_URL", "")
    address = parse_mqtt_url(url) if url else None
    if address is None or not port_open(address.host, address.port):
        require_service("an MQTT broker", mqtt_missing_reason(url or None))
    return url


def process_names(command: Command, *arguments: str) -> list[tuple[str, list[str], bool]]:
    options = command.create_parser("manage.py", "runkampus").parse_args(["--no-reload", *arguments])
    return [(process.name, process.args, process.critical) for process in command.processes(vars(options))]


@pytest.mark.mqtt
def test_when_a_broker_answers_the_ingester_and_the_simulator_run_too(broker_url, settings):
    settings.MQTT_URL = broker_url
    command = Command()

    names = process_names(command)

    assert names[2:] == [("ingester", ["ingest_mqtt"], False), ("simulator", ["simulate_sensors"], False)]
    assert command.sensor_note.startswith(f"An MQTT broker answers at {broker_url}")


def test_without_a_broker_kampus_runs_without_them_and_says_so(settings):
    settings.MQTT_URL = f"mqtt://kampus:secret-word@127.0.0.1:{free_port()}"
    command = Command()

    names = process_names(command)

    assert [name for name, _args, _critical in names] == ["web", "worker"]
    assert command.sensor_note.startswith("No MQTT broker answers at MQTT_URL=mqtt://kampus:***@127.0.0.1:")
    assert "secret-word" not in command.sensor_note


@pytest.mark.mqtt
def test_no_sensors_leaves_them_out(broker_url, settings):
    settings.MQTT_URL = broker_url

    assert [name for name, _args, _critical in process_names(Command(), "--no-sensors")] == ["web", "worker"]


def children_of(pid: int) -> set[int]:
    """Return the ids of the processes whose parent is ``pid`` (from /proc)."""
    children = set()
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError):
            fields = stat.read_text().rsplit(")", 1)[1].split()
            if int(fields[1]) == pid:
                children.add(int(stat.parent.name))
    return children


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


@pytest.mark.mqtt
@pytest.mark.django_db(transaction=True)
def test_ctrl_c_stops_the_web_server_the_ingester_and_the_simulator(broker_url):
    campus = Campus.objects.create(name=CAMPUS_NAME, time_zone="Europe/Helsinki")
    building = Building.objects.create(campus=campus, code="A", name="Main")
    room = Room.objects.create(building=building, code="A101", name="Classroom", capacity=30)
    Sensor.objects.create(external_id="a101-counter", kind=SensorKind.COUNT, room=room)
    client_id = f"kampus-test-ingester-{secrets.token_hex(4)}"
    environment = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.settings",
        "DEBUG": "1",
        "DATABASE_URL": child_database_url(),
        "MQTT_URL": broker_url,
        "MQTT_TOPIC_PREFIX": f"kampus-test-{secrets.token_hex(4)}/sensors",
        "MQTT_CLIENT_ID": client_id,
        "MQTT_SESSION_EXPIRY_SECONDS": "60",
    }
    supervisor = subprocess.Popen(
        [sys.executable, "manage.py", "runkampus", "--no-worker", "--no-reload", "--port", str(free_port())],
        cwd=REPO,
        env=environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    lines: list[str] = []
    reader = threading.Thread(target=lambda: lines.extend(supervisor.stdout), daemon=True)
    reader.start()
    children: set[int] = set()
    try:
        wait_until(
            lambda: (
                any(line.startswith("simulator | Simulating") for line in lines)
                and any(line.startswith("ingester  | subscribed to") for line in lines)
                and any("Quit the server with CONTROL-C" in line for line in lines)
            ),
            timeout=60,
            what=f"the web server, the ingester and the simulator start:\n{''.join(lines)}",
        )
        children = children_of(supervisor.pid)
        assert len(children) == 3, "".join(lines)

        supervisor.send_signal(signal.SIGINT)  # what Ctrl-C in the terminal sends to the supervisor
        supervisor.wait(timeout=30)
    finally:
        if supervisor.poll() is None:
            supervisor.kill()
            supervisor.wait()
        for child in children:
            if alive(child):
                os.kill(child, signal.SIGKILL)
        drop_session(broker_url, client_id)
    reader.join(5)

    assert supervisor.returncode == 0, "".join(lines)
    assert not [child for child in children if alive(child)]
    output = "".join(lines)
    assert "An MQTT broker answers at" in output
    assert "Stopping Kampus" in output
    assert "simulator | Simulator stopped: sensors=1" in output
    assert "ingester  | ingester stopped:" in output
