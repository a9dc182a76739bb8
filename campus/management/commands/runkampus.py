"""Run Kampus for development: the web server, the background worker and, when an MQTT broker answers at
``MQTT_URL``, the sensor ingester and the sensor simulator, all stopped together.

A small supervisor in the spirit of foreman/honcho. Each process is a ``manage.py`` command started
in its own process group: Ctrl-C in the terminal reaches only the supervisor, which stops each
process with SIGTERM and, after a grace period, kills what is left of its group (runserver's
autoreloader and qcluster start children of their own). Output is prefixed with the process name.
When one process exits by itself, the others are stopped and its exit status is returned.

The ingester (``ingest_mqtt``) and the simulator (``simulate_sensors``, the demo campus's sensors following
its bookings) start only when something accepts connections at ``MQTT_URL``; otherwise the supervisor
says so and runs without them. They are not critical: if one exits, the others go on.

The processes get ``KAMPUS_BASE_URL`` (the address in e-mail links) from ``--host`` and ``--port``
unless it is set already, so ``./kampus run --port 8765`` mails links to port 8765.

To add a process, append a ``ManagedProcess`` in ``Command.processes``.
"""

from __future__ import annotations

import contextlib
import ipaddress
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from django.conf import settings
from django.core.management import get_commands
from django.core.management.base import BaseCommand, CommandError, CommandParser, OutputWrapper

from sensors.simulator import broker_answers, safe_url

# How long a process may take to stop after SIGTERM before it is killed.
STOP_GRACE_SECONDS = 10.0
POLL_SECONDS = 0.2


def base_url_for(host: str, port: int) -> str:
    """Return the address of a web server listening on ``host``:``port`` as a browser on this machine reaches it."""
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return f"http://{host}:{port}"  # a host name
    if address.is_unspecified:
        # Listening on every interface: this machine's own address always works.
        address = ipaddress.ip_address("::1" if address.version == 6 else "127.0.0.1")
    return f"http://[{address}]:{port}" if address.version == 6 else f"http://{address}:{port}"


def process_environment(environ: Mapping[str, str], *, host: str, port: int) -> dict[str, str]:
    """Return ``environ`` for the supervised processes: with ``KAMPUS_BASE_URL`` of the web server unless set."""
    environment = {**environ, "PYTHONUNBUFFERED": "1"}
    if not environment.get("KAMPUS_BASE_URL"):
        environment["KAMPUS_BASE_URL"] = base_url_for(host, port)
    return environment


@dataclass
class ManagedProcess:
    """One supervised ``manage.py`` command."""

    name: str
    args: list[str]
    # A process that is not critical may exit (e.g. no MQTT broker) without stopping the others.
    critical: bool = True
    environment: dict[str, str] = field(default_factory=dict, repr=False)
    popen: subprocess.Popen | None = field(default=None, repr=False)

    def start(self, *, manage_py: Path, output: OutputWrapper, width: int, lock: threading.Lock) -> None:
        """Start the command in its own process group and copy its output, prefixed, to ``output``."""
        env = self.environment or {**os.environ, "PYTHONUNBUFFERED": "1"}
        self.popen = subprocess.Popen(
            [sys.executable, str(manage_py), *self.args],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            env=env,
            text=True,
            errors="replace",
            bufsize=1,
            process_group=0,
        )
        prefix = f"{self.name:<{width}} | "
        threading.Thread(target=_copy_lines, args=(self.popen.stdout, output, prefix, lock), daemon=True).start()

    def signal_group(self, signum: int) -> None:
        """Send ``signum`` to the process and its children; ignore a group that is already gone."""
        if self.popen is None:
            return
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.popen.pid, signum)


def _copy_lines(source: IO[str], output: OutputWrapper, prefix: str, lock: threading.Lock) -> None:
    """Copy ``source`` line by line to ``output`` (which adds a missing newline), each line prefixed."""
    for line in source:
        with lock:
            output.write(prefix + line)
            output.flush()


class Command(BaseCommand):
    help = (
        "Run the development web server and the background worker together, and the MQTT ingester and the sensor "
        "simulator when a broker answers at MQTT_URL; Ctrl-C stops all of them."
    )

    # The supervisor handles its own signals; Django's checks run in the children.
    requires_system_checks = []
    # What became of the sensor processes (set by ``sensor_processes``), said when Kampus starts.
    sensor_note = ""

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--host", default="127.0.0.1", help="Address for the web server (default 127.0.0.1).")
        parser.add_argument("--port", type=int, default=8000, help="Port for the web server (default 8000).")
        parser.add_argument("--no-worker", action="store_true", help="Do not start the django-q2 worker.")
        parser.add_argument("--no-reload", action="store_true", help="Do not restart the web server when code changes.")
        parser.add_argument(
            "--no-sensors", action="store_true", help="Do not start the MQTT ingester and the sensor simulator."
        )

    def processes(self, options: dict) -> list[ManagedProcess]:
        """Return the processes to run for ``options``, in start order."""
        runserver = ["runserver", f"{options['host']}:{options['port']}"]
        if options["no_reload"]:
            runserver.append("--noreload")
        environment = process_environment(os.environ, host=options["host"], port=options["port"])
        processes = [ManagedProcess("web", runserver, environment=environment)]
        if not options["no_worker"]:
            processes.append(ManagedProcess("worker", ["qcluster"], environment=environment))
        if not options.get("no_sensors"):
            processes += self.sensor_processes(environment)
        available = get_commands()
        missing = [p.args[0] for p in processes if p.args[0] not in available]
        if missing:
            raise CommandError(f"unknown management command(s): {', '.join(missing)}")
        return processes

    def sensor_processes(self, environment: dict[str, str]) -> list[ManagedProcess]:
        """Return the ingester and the simulator when a broker answers at ``MQTT_URL`` (else none); note which."""
        url = settings.MQTT_URL
        if not broker_answers(url):
            self.sensor_note = (
                f"No MQTT broker answers at MQTT_URL={safe_url(url)}: running without the sensor ingester and "
                "simulator (start Mosquitto, or set MQTT_URL; docs/sensors.md)."
            )
            return []
        self.sensor_note = (
            f"An MQTT broker answers at {safe_url(url)}: starting the sensor ingester and the simulator "
            "(the demo rooms' occupancy follows their bookings)."
        )
        return [
            ManagedProcess("ingester", ["ingest_mqtt"], critical=False, environment=environment),
            ManagedProcess("simulator", ["simulate_sensors"], critical=False, environment=environment),
        ]

    def handle(self, *args, **options) -> None:
        processes = self.processes(options)
        if self.sensor_note:
            self.stdout.write(self.sensor_note)
        manage_py = Path(settings.BASE_DIR) / "manage.py"
        stop_requested = threading.Event()

        def request_stop(signum: int, frame: object) -> None:
            stop_requested.set()

        previous = {sig: signal.signal(sig, request_stop) for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)}
        lock = threading.Lock()
        width = max(len(p.name) for p in processes)
        exit_code = 0
        try:
            for process in processes:
                process.start(manage_py=manage_py, output=self.stdout, width=width, lock=lock)
            with lock:
                self.stdout.write(
                    self.style.SUCCESS(
                        f"Kampus is starting at {base_url_for(options['host'], options['port'])}/ "
                        f"({', '.join(p.name for p in processes)}). Ctrl-C stops everything."
                    )
                )
            exit_code = self._watch(processes, stop_requested, lock)
        finally:
            self._stop_all(processes, lock)
            for sig, handler in previous.items():
                signal.signal(sig, handler)
        if exit_code:
            raise CommandError(f"stopped because a process failed (exit status {exit_code})", returncode=exit_code)

    def _watch(self, processes: list[ManagedProcess], stop_requested: threading.Event, lock: threading.Lock) -> int:
        """Wait for a stop request or a critical process to exit; return the exit status to report."""
        running = list(processes)
        while not stop_requested.wait(POLL_SECONDS):
            for process in list(running):
                code = process.popen.poll()
                if code is None:
                    continue
                running.remove(process)
                with lock:
                    self.stderr.write(f"{process.name} exited with status {code}.")
                if process.critical:
                    with lock:
                        self.stderr.write("Stopping the other processes.")
                    return code if code > 0 else 1
        with lock:
            self.stdout.write("Stopping Kampus…")
        return 0

    def _stop_all(self, processes: list[ManagedProcess], lock: threading.Lock) -> None:
        """Send SIGTERM to every process still running; kill the groups that outlast the grace period."""
        alive = [p for p in processes if p.popen is not None and p.popen.poll() is None]
        # SIGTERM to the leader only: qcluster stops its own workers in order, and runserver's
        # autoreloader kills its child; a signal to the whole group would make qcluster hang.
        for process in alive:
            process.popen.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + STOP_GRACE_SECONDS
        for process in alive:
            try:
                process.popen.wait(timeout=max(0.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                with lock:
                    self.stderr.write(f"{process.name} did not stop in {STOP_GRACE_SECONDS:.0f} s; killing it.")
                process.signal_group(signal.SIGKILL)
                process.popen.wait()
        # Reap what is left of each group (e.g. runserver's reloader child) so nothing keeps the port.
        for process in processes:
            process.signal_group(signal.SIGKILL)
