"""A sensor simulator for demos and tests: readings that follow the bookings, published like real sensors.

``OccupancyModel`` says how many people are in a room at a moment: the people of its bookings
(roughly as many as booked, arriving over the first minutes and leaving towards the end, some
finishing early) — except the no-shows, where nobody comes — plus unbooked use (a few people
dropping into a free room, and all day long in rooms that cannot be booked, such as a library).
How a room's bookings are attended is its ``RoomBehaviour``: by default the rates below; the demo
campus gives some rooms others (``sensors.demo.demo_behaviours``), so that its reports tell a story.
Every choice is drawn from a random generator seeded with ``seed`` and what it is about (the
booking, the room and hour, the sensor and time), so the same seed gives the same readings
whatever the start, speed or order, and running over the same period again gives the same
(sensor, time) pairs, which Kampus stores once.

``Simulator`` keeps a simulated clock that starts at ``start`` and runs ``speed`` times as fast as
the real one until it reaches the present; from then on it keeps to real time, because a reading
from the future is refused. Each sensor reports every ``interval`` seconds of simulated time
(on the minute, with the default 60 s); readings that fall due together are sent as one batch. A
sink sends them: ``MqttSink`` publishes with QoS 1 on ``<prefix>/<external id>`` as a sensor
would, ``HttpSink`` posts them to ``POST /api/v1/readings`` with a gateway token.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import math
import random
import socket
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Protocol

import paho.mqtt.client as mqtt
from django.db import close_old_connections, connection
from django.db.models import Q
from django.utils import timezone

from bookings.models import Booking, BookingStatus
from campus.models import Campus, Room
from sensors.ingester import parse_mqtt_url
from sensors.models import Sensor, SensorKind

logger = logging.getLogger("sensors.simulator")

# Share of bookings where nobody comes (in a room of ordinary behaviour).
NO_SHOW_RATE = 0.12
# Share of the bookings people attend that end early (the rest of the slot stays empty; ordinary behaviour).
EARLY_FINISH_RATE = 0.2
# Chance that a free bookable room gets a drop-in in a given hour of the day (weekdays; a third at weekends).
DROP_IN_RATE = 0.08
# Chance that a room that cannot be booked (a library, a study area) is used in a given hour.
OPEN_ROOM_USE_RATE = 0.75
# Hours (campus time) in which unbooked use happens: 8:00–17:59.
DAY_HOURS = range(8, 18)
# Share of counts that are off by one, as real counters are.
COUNT_ERROR_RATE = 0.1
# Bookings and sensors are read again this often (real seconds), so changes show up.
RELOAD_SECONDS = 60.0
# The simulator reports its progress this often (real seconds).
REPORT_SECONDS = 60.0
# Longest sleep between looks at the clock and at the stop flag.
MAX_SLEEP_SECONDS = 0.5


# --- The model of people in rooms ------------------------------------------------------------------


@dataclass(frozen=True)
class RoomBehaviour:
    """How the people of a room's bookings behave; the defaults are an ordinary room, the demo tells a story with
    others (a gym with many no-shows, labs used by half their capacity, crowded small meeting rooms)."""

    # Share of bookings where nobody comes.
    no_show_rate: float = NO_SHOW_RATE
    # Share of the attended bookings that end early.
    early_finish_rate: float = EARLY_FINISH_RATE
    # Range of the share of the booked attendees who come; above 1, more people come than were booked.
    turnout: tuple[float, float] = (0.7, 1.0)
    # Range of the share of the capacity expected when a booking says nothing of its attendees.
    fill: tuple[float, float] = (0.4, 0.85)
    # When set, the range of the share of the capacity that comes whatever the booking says (replaces turnout and
    # fill): a lab booked for a class that half fills it.
    capacity_share: tuple[float, float] | None = None
    # The most people, as a share of the capacity; above 1, the room is crowded.
    crowding: float = 1.0


ORDINARY = RoomBehaviour()


@dataclass(frozen=True)
class RoomFacts:
    """What the model needs of a room: its size, whether it can be booked, how it is divided and how it is used."""

    id: int
    capacity: int
    is_bookable: bool = True
    sections: tuple[int, ...] = ()  # the rooms it is combined from (a whole sports hall)
    wholes: tuple[tuple[int, int], ...] = ()  # (whole room, number of its sections) it is a section of
    behaviour: RoomBehaviour = ORDINARY


@dataclass(frozen=True)
class Stay:
    """A booking that people may come to: confirmed, or released early (then it ends when released)."""

    booking_id: int
    room_id: int
    start: dt.datetime
    end: dt.datetime
    attendees: int | None = None


@dataclass(frozen=True)
class Visit:
    """People in a room for a while: they arrive between ``arrive`` and ``settled``, leave between ``leaving`` and
    ``gone``."""

    arrive: dt.datetime
    settled: dt.datetime
    leaving: dt.datetime
    gone: dt.datetime
    people: int

    def at(self, moment: dt.datetime) -> float:
        """Return how many of the visit's people are in the room at ``moment``."""
        if moment < self.arrive or moment >= self.gone:
            return 0.0
        if moment < self.settled:
            return self.people * (moment - self.arrive) / (self.settled - self.arrive)
        if moment < self.leaving:
            return float(self.people)
        return self.people * (self.gone - moment) / (self.gone - self.leaving)


def _minutes(rng: random.Random, low: float, high: float) -> dt.timedelta:
    return dt.timedelta(minutes=rng.uniform(low, high))


class OccupancyModel:
    """How many people are in each room at a moment, from its bookings and unbooked use; deterministic per seed."""

    def __init__(self, *, rooms: Iterable[RoomFacts], stays: Iterable[Stay], zone: dt.tzinfo, seed: int) -> None:
        self.rooms = {room.id: room for room in rooms}
        self.zone = zone
        self.seed = seed
        self.stays_by_room: dict[int, list[Stay]] = defaultdict(list)
        for stay in stays:
            self.stays_by_room[stay.room_id].append(stay)
        self._visits: dict[int, Visit | None] = {}
        self._drop_ins: dict[tuple[int, dt.date, int], Visit | None] = {}

    def rng(self, *about: object) -> random.Random:
        return random.Random(":".join(str(part) for part in (self.seed, *about)))

    # -- bookings

    def visit_of(self, stay: Stay) -> Visit | None:
        """Return the people who come to ``stay``: None for a no-show."""
        if stay.booking_id not in self._visits:
            self._visits[stay.booking_id] = self._make_visit(stay)
        return self._visits[stay.booking_id]

    def _make_visit(self, stay: Stay) -> Visit | None:
        rng = self.rng("booking", stay.booking_id)
        room = self.rooms.get(stay.room_id)
        behaviour = room.behaviour if room is not None else ORDINARY
        if rng.random() < behaviour.no_show_rate:
            return None
        capacity = room.capacity if room is not None else stay.attendees or 10
        if behaviour.capacity_share is not None:
            wanted = capacity * rng.uniform(*behaviour.capacity_share)
        else:
            expected = stay.attendees or max(1, round(capacity * rng.uniform(*behaviour.fill)))
            wanted = expected * rng.uniform(*behaviour.turnout)
        people = max(1, min(math.floor(capacity * behaviour.crowding), round(wanted)))
        length = stay.end - stay.start
        end = stay.end
        if rng.random() < behaviour.early_finish_rate:
            end -= length * rng.uniform(0.1, 0.3)
        arrive = stay.start - _minutes(rng, 0, 6)
        settled = max(stay.start + _minutes(rng, 2, 8), arrive + dt.timedelta(minutes=1))
        leaving = min(max(end - _minutes(rng, 0, 5), settled), end)
        gone = max(end + _minutes(rng, 1, 4), leaving + dt.timedelta(minutes=1))
        return Visit(arrive=arrive, settled=settled, leaving=leaving, gone=gone, people=people)

    def _shares(self, room_id: int) -> list[tuple[int, float]]:
        """Return the rooms whose bookings bring people into ``room_id``, with the share of their people it gets."""
        room = self.rooms.get(room_id)
        shares = [(room_id, 1.0)]
        if room is not None:
            shares += [(whole, 1.0 / count) for whole, count in room.wholes]  # the whole hall, spread over it
            shares += [(section, 1.0) for section in room.sections]  # a section's people are in the hall
        return shares

    def booked(self, room_id: int, start: dt.datetime, end: dt.datetime) -> bool:
        """Return whether ``room_id`` (or a part of it, or a whole it is part of) is booked in [start, end)."""
        return any(
            stay.start < end and start < stay.end
            for other, _share in self._shares(room_id)
            for stay in self.stays_by_room.get(other, ())
        )

    # -- unbooked use

    def drop_in(self, room_id: int, day: dt.date, hour: int) -> Visit | None:
        """Return the unbooked use of ``room_id`` starting in ``hour`` of ``day`` (campus time), if any."""
        key = (room_id, day, hour)
        if key not in self._drop_ins:
            self._drop_ins[key] = self._make_drop_in(room_id, day, hour)
        return self._drop_ins[key]

    def _make_drop_in(self, room_id: int, day: dt.date, hour: int) -> Visit | None:
        room = self.rooms.get(room_id)
        if room is None or hour not in DAY_HOURS:
            return None
        rng = self.rng("drop-in", room_id, day.isoformat(), hour)
        rate = OPEN_ROOM_USE_RATE if not room.is_bookable else DROP_IN_RATE
        if day.weekday() >= 5:
            rate /= 3
        if rng.random() >= rate:
            return None
        start = dt.datetime.combine(day, dt.time(hour), tzinfo=self.zone) + _minutes(rng, 0, 40)
        length = _minutes(rng, 15, 55)
        if room.is_bookable and self.booked(room_id, start - dt.timedelta(minutes=10), start + length):
            return None  # nobody walks into a booked room
        most = min(room.capacity, 4 if room.is_bookable else 15)
        people = rng.randint(1 if room.is_bookable else 2, max(1, most))
        return Visit(
            arrive=start,
            settled=start + _minutes(rng, 1, 5),
            leaving=start + length - _minutes(rng, 1, 5),
            gone=start + length,
            people=people,
        )

    # -- the answer

    def people(self, room_id: int, moment: dt.datetime) -> int:
        """Return how many people are in ``room_id`` at ``moment``."""
        total = 0.0
        for other, share in self._shares(room_id):
            for stay in self.stays_by_room.get(other, ()):
                visit = self.visit_of(stay)
                if visit is not None:
                    total += share * visit.at(moment)
        local = moment.astimezone(self.zone)
        for hour in (local.hour - 1, local.hour):  # a drop-in may run on from the hour before
            day = local.date()
            if hour < 0:
                continue
            visit = self.drop_in(room_id, day, hour)
            if visit is not None:
                total += visit.at(moment)
        return round(total)


# --- Sensors and their readings --------------------------------------------------------------------


@dataclass(frozen=True)
class SimulatedSensor:
    external_id: str
    kind: str
    room_id: int


def measurement_of(
    model: OccupancyModel, sensor: SimulatedSensor, moment: dt.datetime
) -> tuple[int | None, bool | None]:
    """Return what ``sensor`` measures at ``moment`` as (count, present): a counter gives its room's people
    (sometimes one off when people are there), a presence sensor whether anyone is."""
    people = model.people(sensor.room_id, moment)
    if sensor.kind == SensorKind.PRESENCE:
        return None, people > 0
    if people:  # an empty room is counted right
        rng = model.rng("count", sensor.external_id, int(moment.timestamp()))
        if rng.random() < COUNT_ERROR_RATE:
            people = max(0, people + rng.choice((-1, 1)))
    return people, None


def reading_of(model: OccupancyModel, sensor: SimulatedSensor, moment: dt.datetime) -> dict:
    """Return the reading ``sensor`` sends at ``moment`` (Kampus JSON): its count or its presence."""
    count, present = measurement_of(model, sensor, moment)
    ts = moment.astimezone(model.zone).isoformat()
    return {"ts": ts, "present": present} if count is None else {"ts": ts, "count": count}


def payload_of(readings: list[dict]) -> bytes:
    """Return the Kampus JSON of ``readings``: one object, or a batch (a list) when there are several."""
    return json.dumps(readings[0] if len(readings) == 1 else readings, separators=(",", ":")).encode()


def sample_times(first: dt.datetime, last: dt.datetime, interval: dt.timedelta) -> list[dt.datetime]:
    """Return the reporting times in [first, last]: the multiples of ``interval`` since the epoch."""
    step = interval.total_seconds()
    begin = math.ceil(first.timestamp() / step)
    end = math.floor(last.timestamp() / step)
    return [dt.datetime.fromtimestamp(k * step, tz=dt.UTC) for k in range(begin, end + 1)]


def sample_time_at_or_before(moment: dt.datetime, interval: dt.timedelta) -> dt.datetime:
    """Return the last reporting time at or before ``moment``."""
    step = interval.total_seconds()
    return dt.datetime.fromtimestamp(math.floor(moment.timestamp() / step) * step, tz=dt.UTC)


def load_world(
    campus: Campus,
    *,
    since: dt.datetime,
    until: dt.datetime,
    behaviours: Mapping[int, RoomBehaviour] | None = None,
) -> tuple[list[SimulatedSensor], list[RoomFacts], list[Stay]]:
    """Read the campus's active sensors, their rooms (with the rooms combined from or with them, each with its
    behaviour from ``behaviours`` by room id, else an ordinary one) and the bookings people come to in
    [since, until)."""
    behaviours = behaviours or {}
    sensors = [
        SimulatedSensor(external_id=sensor.external_id, kind=sensor.kind, room_id=sensor.room_id)
        for sensor in Sensor.objects.filter(room__building__campus=campus, is_active=True).order_by("external_id")
    ]
    sensor_rooms = {sensor.room_id for sensor in sensors}
    rooms = Room.objects.filter(
        Q(pk__in=sensor_rooms) | Q(sections__in=sensor_rooms) | Q(combined_rooms__in=sensor_rooms)
    ).distinct()
    facts = []
    room_ids = set()
    for room in rooms.prefetch_related("sections", "combined_rooms__sections"):
        room_ids.add(room.pk)
        facts.append(
            RoomFacts(
                id=room.pk,
                capacity=room.capacity,
                is_bookable=room.is_bookable,
                sections=tuple(sorted(section.pk for section in room.sections.all())),
                wholes=tuple(sorted((whole.pk, len(whole.sections.all())) for whole in room.combined_rooms.all())),
                behaviour=behaviours.get(room.pk, ORDINARY),
            )
        )
    bookings = Booking.objects.filter(
        room_id__in=room_ids,
        status__in=[BookingStatus.CONFIRMED, BookingStatus.RELEASED],
        start__lt=until,
        end__gt=since,
    ).values_list("pk", "room_id", "start", "end", "attendees", "status", "released_at")
    stays = [
        Stay(
            booking_id=pk,
            room_id=room_id,
            start=start,
            end=released_at if status == BookingStatus.RELEASED and released_at else end,
            attendees=attendees,
        )
        for pk, room_id, start, end, attendees, status, released_at in bookings
    ]
    return sensors, facts, [stay for stay in stays if stay.start < stay.end]


# --- Where readings go -----------------------------------------------------------------------------


class SinkError(Exception):
    """A sink cannot be used (no broker answers, the server refuses the token)."""


class Sink(Protocol):
    description: str

    def send(self, external_id: str, payload: bytes) -> None: ...

    def close(self) -> None: ...


def safe_url(url: str) -> str:
    """Return ``url`` without its password, for messages."""
    parts = urllib.parse.urlsplit(url)
    if parts.password is None:
        return url
    netloc = f"{parts.username}:***@{parts.hostname}" + (f":{parts.port}" if parts.port else "")
    return urllib.parse.urlunsplit(parts._replace(netloc=netloc))


def broker_answers(url: str, *, timeout: float = 1.0) -> bool:
    """Return whether something accepts TCP connections at the broker address of ``url``."""
    try:
        address = parse_mqtt_url(url)
        socket.create_connection((address.host, address.port), timeout=timeout).close()
    except (OSError, ValueError):
        return False
    return True


class MqttSink:
    """Publish readings as sensors do: QoS 1 on ``<prefix>/<external id>``, MQTT v5."""

    def __init__(self, *, url: str, prefix: str, client_id: str | None = None, connect_timeout: float = 5.0) -> None:
        self.address = parse_mqtt_url(url)
        self.prefix = prefix.strip("/")
        self.description = f"MQTT {safe_url(url)}, topics {self.prefix}/<external id>, QoS 1"
        self.client = mqtt.Client(
            mqtt.CallbackAPIVersion.VERSION2,
            client_id=client_id or f"kampus-simulator-{socket.gethostname()}-{random.randrange(16**6):06x}",
            protocol=mqtt.MQTTv5,
        )
        if self.address.username is not None:
            self.client.username_pw_set(self.address.username, self.address.password)
        if self.address.tls:
            self.client.tls_set()
        self.client.max_inflight_messages_set(200)
        self.client.reconnect_delay_set(1, 30)
        self._connected = threading.Event()
        self._refused: list[str] = []
        self.client.on_connect = self._on_connect
        self._pending: list[mqtt.MQTTMessageInfo] = []
        try:
            self.client.connect(self.address.host, self.address.port, keepalive=30)
        except (OSError, ValueError) as error:
            raise SinkError(f"No MQTT broker answers at {safe_url(url)} ({error}).") from error
        self.client.loop_start()
        if not self._connected.wait(connect_timeout) or self._refused:
            self.client.loop_stop()
            reason = self._refused[0] if self._refused else f"no answer in {connect_timeout:g} s"
            raise SinkError(f"The MQTT broker at {safe_url(url)} did not accept the simulator ({reason}).")

    def _on_connect(self, client: mqtt.Client, userdata: object, flags: object, reason_code, properties) -> None:
        if reason_code.is_failure:
            self._refused.append(str(reason_code))
        self._connected.set()

    def send(self, external_id: str, payload: bytes) -> None:
        self._pending = [info for info in self._pending if not info.is_published()]
        self._pending.append(self.client.publish(f"{self.prefix}/{external_id}", payload, qos=1))

    def close(self, timeout: float = 10.0) -> None:
        """Wait (up to ``timeout`` s) until the broker has acknowledged everything sent, then disconnect."""
        deadline = time.monotonic() + timeout
        while any(not info.is_published() for info in self._pending) and time.monotonic() < deadline:
            time.sleep(0.05)
        self.client.disconnect()
        self.client.loop_stop()


class HttpSink:
    """Post readings to ``POST /api/v1/readings?sensor=<external id>`` with a gateway token."""

    def __init__(self, *, base_url: str, token: str, timeout: float = 10.0) -> None:
        self.endpoint = base_url.rstrip("/") + "/api/v1/readings"
        self.token = token
        self.timeout = timeout
        self.description = f"HTTP POST {self.endpoint}"
        self.failures = 0

    def send(self, external_id: str, payload: bytes) -> None:
        request = urllib.request.Request(
            f"{self.endpoint}?{urllib.parse.urlencode({'sensor': external_id})}",
            data=payload,
            method="POST",
            headers={"Authorization": f"Bearer {self.token}", "Content-Type": "application/json"},
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                answer = json.loads(response.read() or b"{}")
        except urllib.error.HTTPError as error:
            if error.code == 401:
                raise SinkError(f"{self.endpoint} refused the gateway token (HTTP 401).") from error
            self.failures += 1
            logger.warning("%s answered HTTP %s for %s", self.endpoint, error.code, external_id)
            return
        except (OSError, ValueError) as error:
            self.failures += 1
            logger.warning("cannot post the readings of %s to %s: %s", external_id, self.endpoint, error)
            return
        if answer.get("rejected"):
            logger.warning("%s refused readings of %s: %s", self.endpoint, external_id, answer.get("dead_letters"))

    def close(self) -> None:
        pass


# --- The simulator -----------------------------------------------------------------------------------


@dataclass
class Progress:
    """What the simulator has sent, and how far its clock has come."""

    messages: int = 0
    readings: int = 0
    simulated_until: dt.datetime | None = None
    sensors: int = 0
    by_sensor: dict[str, int] = field(default_factory=lambda: defaultdict(int))

    def line(self) -> str:
        until = self.simulated_until.isoformat(timespec="seconds") if self.simulated_until else "-"
        return f"sensors={self.sensors} messages={self.messages} readings={self.readings} simulated_until={until}"


class Simulator:
    """Send the readings of a campus's sensors to ``sink`` along a simulated clock (see the module docstring)."""

    def __init__(
        self,
        *,
        campus: Campus,
        sink: Sink,
        seed: int = 0,
        speed: float = 1.0,
        start: dt.datetime | None = None,
        interval: dt.timedelta = dt.timedelta(seconds=60),
        clock: Callable[[], dt.datetime] = timezone.now,
        report: Callable[[str], None] = logger.info,
        behaviours: Mapping[int, RoomBehaviour] | None = None,
    ) -> None:
        if speed <= 0:
            raise ValueError("speed must be above 0")
        self.campus = campus
        self.sink = sink
        self.seed = seed
        self.speed = speed
        self.clock = clock
        self.start = start or clock()
        self.interval = interval
        self.report = report
        self.behaviours = dict(behaviours or {})
        self.progress = Progress()
        self._stopping = threading.Event()
        self._model: OccupancyModel | None = None
        self._sensors: list[SimulatedSensor] = []
        self._loaded_at = -math.inf
        self._window: tuple[dt.datetime, dt.datetime] | None = None

    def stop(self, *_args: object) -> None:
        """Ask ``run`` to send what is due and return (safe in a signal handler)."""
        self._stopping.set()

    def _load(self, moment: dt.datetime) -> None:
        if not connection.in_atomic_block:  # a long-running process: drop a connection the database closed
            close_old_connections()
        since, until = moment - dt.timedelta(hours=12), moment + dt.timedelta(hours=12)
        sensors, rooms, stays = load_world(self.campus, since=since, until=until, behaviours=self.behaviours)
        self._sensors = sensors
        self._model = OccupancyModel(rooms=rooms, stays=stays, zone=self.campus.zone, seed=self.seed)
        self._window = (since + dt.timedelta(hours=1), until - dt.timedelta(hours=1))
        self._loaded_at = time.monotonic()
        self.progress.sensors = len(sensors)

    def _ensure_loaded(self, moment: dt.datetime) -> None:
        stale = time.monotonic() - self._loaded_at >= RELOAD_SECONDS
        if self._model is None or stale or not (self._window[0] <= moment <= self._window[1]):
            self._load(moment)

    def send_round(self, times: list[dt.datetime]) -> None:
        """Send every sensor's readings at ``times``: one message per sensor (a batch when several are due)."""
        if not times:
            return
        self._ensure_loaded(times[-1])
        assert self._model is not None
        for sensor in self._sensors:
            readings = [reading_of(self._model, sensor, moment) for moment in times]
            self.sink.send(sensor.external_id, payload_of(readings))
            self.progress.messages += 1
            self.progress.readings += len(readings)
            self.progress.by_sensor[sensor.external_id] += len(readings)
        self.progress.simulated_until = times[-1]

    def simulated_now(self, began: float) -> dt.datetime:
        """Return the simulated time: ``speed`` times the real time since ``began``, never past the present."""
        elapsed = dt.timedelta(seconds=(time.monotonic() - began) * self.speed)
        return min(self.start + elapsed, self.clock())

    def run(self, *, once: bool = False, duration: float | None = None) -> Progress:
        """Send readings until stopped, for ``duration`` real seconds, or (``once``) one round at the start time."""
        began = time.monotonic()
        reported = began
        first = sample_time_at_or_before(self.start, self.interval)
        self._ensure_loaded(first)
        if once:
            self.send_round([first])
            return self.progress
        next_time = first
        while True:  # what is due is sent before a stop is obeyed: the first round always goes out
            now = self.simulated_now(began)
            if next_time <= now:
                due = sample_times(next_time, now, self.interval)
                self.send_round(due)
                next_time = due[-1] + self.interval
            if self._stopping.is_set() or (duration is not None and time.monotonic() - began >= duration):
                break
            if time.monotonic() - reported >= REPORT_SECONDS:
                self.report(f"simulator: {self.progress.line()}")
                reported = time.monotonic()
            caught_up = now >= self.clock() - dt.timedelta(seconds=1)
            wait = (next_time - now).total_seconds() / (1.0 if caught_up else self.speed)
            if duration is not None:
                wait = min(wait, duration - (time.monotonic() - began))
            self._stopping.wait(min(MAX_SLEEP_SECONDS, max(0.01, wait)))
        return self.progress
