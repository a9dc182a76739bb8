"""Publish simulated sensor readings that follow the bookings (see sensors/simulator.py and docs/sensors.md)."""

from __future__ import annotations

import datetime as dt
import os
import re
import signal
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from campus.demo import CAMPUS_NAME
from campus.models import Campus
from sensors.demo import demo_behaviours
from sensors.simulator import HttpSink, MqttSink, Simulator, SinkError, safe_url

RELATIVE = re.compile(r"-?(\d+(?:\.\d+)?)([mhd])")
UNITS = {"m": "minutes", "h": "hours", "d": "days"}


def parse_start(value: str, *, now: dt.datetime, zone: dt.tzinfo) -> dt.datetime:
    """Read ``now``, ``90m`` / ``3h`` / ``1d`` (that long ago; ``--start=-3h`` too), or an ISO 8601 time
    (campus time when it has no offset)."""
    if value == "now":
        return now
    relative = RELATIVE.fullmatch(value)
    if relative:
        return now - dt.timedelta(**{UNITS[relative[2]]: float(relative[1])})
    moment = parse_datetime(value)
    if moment is None:
        raise CommandError(
            f"--start {value!r}: give now, 90m, 3h, 1d (that long ago) or a time such as 2026-03-10T08:00."
        )
    return moment if timezone.is_aware(moment) else timezone.make_aware(moment, zone)


class Command(BaseCommand):
    help = (
        "Publish readings of a campus's sensors (by default the demo campus's) that follow its bookings, over MQTT "
        "(MQTT_URL) as sensors do, or with --http to POST /api/v1/readings when no broker answers. "
        "Ctrl-C or SIGTERM stops it."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--campus", help=f"Campus id or name (default: the demo campus, {CAMPUS_NAME}).")
        parser.add_argument(
            "--speed", type=float, default=1.0, help="Simulated seconds per real second until the present (default 1)."
        )
        parser.add_argument(
            "--start",
            default="now",
            help="Where the simulated clock starts: now (default), 90m, 3h or 1d ago, or an ISO 8601 time "
            "(campus time); no further back than SENSOR_MAX_AGE_DAYS.",
        )
        parser.add_argument(
            "--interval", type=float, default=60.0, help="Seconds of simulated time between readings (default 60)."
        )
        parser.add_argument("--once", action="store_true", help="Send one reading per sensor and stop.")
        parser.add_argument("--duration", type=float, help="Stop after this many real seconds.")
        parser.add_argument(
            "--seed", type=int, default=0, help="Seed of the simulation: the same seed, the same readings."
        )
        parser.add_argument("--url", help="Broker URL instead of MQTT_URL, e.g. mqtt://gateway:password@host:1883.")
        parser.add_argument(
            "--http",
            metavar="BASE_URL",
            help="When no MQTT broker answers, POST the readings to BASE_URL/api/v1/readings instead "
            "(e.g. http://127.0.0.1:8000), with --token.",
        )
        parser.add_argument(
            "--token",
            default=os.environ.get("KAMPUS_GATEWAY_TOKEN", ""),
            help="Gateway token for --http (manage.py create_gateway_token NAME); default KAMPUS_GATEWAY_TOKEN.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        campus = self._campus(options["campus"])
        now = timezone.now()
        start = parse_start(options["start"], now=now, zone=campus.zone)
        oldest = now - dt.timedelta(days=settings.KAMPUS_SENSOR_MAX_AGE_DAYS) + dt.timedelta(minutes=5)
        if start < oldest or start > now:
            raise CommandError(
                f"--start must lie between {oldest:%Y-%m-%d %H:%M} and now (UTC): Kampus refuses readings older "
                f"than SENSOR_MAX_AGE_DAYS ({settings.KAMPUS_SENSOR_MAX_AGE_DAYS}) and from the future."
            )
        if options["speed"] <= 0 or options["interval"] < 1:
            raise CommandError("--speed must be above 0 and --interval at least 1 second.")
        sink = self._sink(options)
        simulator = Simulator(
            campus=campus,
            sink=sink,
            seed=options["seed"],
            speed=options["speed"],
            start=start,
            interval=dt.timedelta(seconds=options["interval"]),
            report=self._say,
            # The demo campus's rooms are used as its story says (sensors/demo.py), as in its past weeks' readings.
            behaviours=demo_behaviours(campus) if campus.name == CAMPUS_NAME else None,
        )
        previous = {signum: signal.signal(signum, simulator.stop) for signum in (signal.SIGTERM, signal.SIGINT)}
        self._say(
            f"Simulating the sensors of {campus.name} from {start.astimezone(campus.zone):%Y-%m-%d %H:%M} "
            f"({campus.zone}) at {options['speed']:g}× (seed {options['seed']}, a reading every "
            f"{options['interval']:g} s) to {sink.description}."
        )
        try:
            progress = simulator.run(once=options["once"], duration=options["duration"])
        except SinkError as error:
            raise CommandError(str(error)) from error
        finally:
            sink.close()
            for signum, handler in previous.items():
                signal.signal(signum, handler)
        if progress.sensors == 0:
            self.stderr.write(f"{campus.name} has no active sensors: register some (or run manage.py seed_demo).")
        self._say(f"Simulator stopped: {progress.line()}")

    def _say(self, line: str) -> None:
        self.stdout.write(line)
        self.stdout.flush()

    def _campus(self, given: str | None) -> Campus:
        if given is None:
            campus = Campus.objects.filter(name=CAMPUS_NAME).first()
            if campus is None:
                raise CommandError(
                    f"There is no demo campus ({CAMPUS_NAME}): run manage.py seed_demo, or give --campus."
                )
            return campus
        found = Campus.objects.filter(pk=int(given)) if given.isdigit() else Campus.objects.filter(name=given)
        campus = found.first()
        if campus is None:
            raise CommandError(f"No campus {given!r}.")
        return campus

    def _sink(self, options: dict[str, Any]) -> MqttSink | HttpSink:
        url = options["url"] or settings.MQTT_URL
        try:
            return MqttSink(url=url, prefix=settings.KAMPUS_MQTT_TOPIC_PREFIX)
        except (SinkError, ValueError) as error:
            problem = str(error)
        if not options["http"]:
            raise CommandError(
                f"{problem} Start Mosquitto (docs/sensors.md) or set MQTT_URL; or send the readings over HTTP: "
                "manage.py create_gateway_token simulator, then simulate_sensors --http http://127.0.0.1:8000 "
                "--token kgw_…"
            )
        if not options["token"]:
            raise CommandError(f"{problem} --http needs a gateway token: --token (manage.py create_gateway_token).")
        sink = HttpSink(base_url=options["http"], token=options["token"])
        self.stderr.write(f"{problem} Sending to {safe_url(sink.endpoint)} instead.")
        return sink
