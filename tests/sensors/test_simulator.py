"""The sensor simulator's model and clock: people as booked with some no-shows, unbooked use, the same readings for
the same seed, a clock that runs at its speed until the present; the demo campus's sensors."""

from __future__ import annotations

import datetime as dt
import itertools
import json
import zoneinfo
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone

from bookings.models import Booking, BookingStatus
from campus.demo import seed_demo_campus
from campus.models import OpeningHours, Room
from sensors.demo import DEMO_SENSORS, demo_external_id, seed_demo_sensors
from sensors.management.commands.simulate_sensors import parse_start
from sensors.models import Sensor, SensorKind
from sensors.payloads import parse_payload
from sensors.simulator import (
    OccupancyModel,
    RoomFacts,
    SimulatedSensor,
    Simulator,
    Stay,
    load_world,
    payload_of,
    reading_of,
    sample_times,
)
from tests.web.conftest import running_booking

from .mqtt import free_port

HELSINKI = zoneinfo.ZoneInfo("Europe/Helsinki")
CLASSROOM = RoomFacts(id=1, capacity=30)
LIBRARY = RoomFacts(id=2, capacity=40, is_bookable=False)
HALL = RoomFacts(id=10, capacity=90, sections=(11, 12, 13))
SECTION = RoomFacts(id=11, capacity=30, wholes=((10, 3),))
WEDNESDAY = dt.date(2026, 3, 11)


def evening(day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=HELSINKI)


def evening_lessons(count: int, *, attendees: int | None = 20, room: int = 1) -> list[Stay]:
    """One 90-minute lesson at 19:00 on each of ``count`` days, outside the hours of unbooked use."""
    return [
        Stay(
            booking_id=number,
            room_id=room,
            start=evening(WEDNESDAY + dt.timedelta(days=number), 19),
            end=evening(WEDNESDAY + dt.timedelta(days=number), 20, 30),
            attendees=attendees,
        )
        for number in range(count)
    ]


def model(stays: list[Stay], *, seed: int = 0, rooms=(CLASSROOM, LIBRARY, HALL, SECTION)) -> OccupancyModel:
    return OccupancyModel(rooms=rooms, stays=stays, zone=HELSINKI, seed=seed)


# --- The model ----------------------------------------------------------------------------------------


def test_people_come_roughly_as_booked_and_some_bookings_are_no_shows():
    lessons = evening_lessons(300)
    occupancy = model(lessons)

    in_the_middle = [occupancy.people(1, lesson.start + dt.timedelta(minutes=40)) for lesson in lessons]

    no_shows = in_the_middle.count(0)
    assert 0.05 * len(lessons) <= no_shows <= 0.2 * len(lessons)
    came = [people for people in in_the_middle if people]
    assert all(14 <= people <= 20 for people in came)  # 70–100 % of the 20 booked
    assert len(set(came)) > 3


def test_without_a_number_booked_a_share_of_the_room_comes_and_never_more_than_fit():
    lessons = evening_lessons(100, attendees=None)
    occupancy = model(lessons)

    came = [occupancy.people(1, lesson.start + dt.timedelta(minutes=40)) for lesson in lessons]

    assert max(came) <= CLASSROOM.capacity
    assert 5 <= sum(came) / len([people for people in came if people]) <= 26


def test_the_room_fills_after_the_start_and_empties_at_the_end():
    lessons = evening_lessons(100)
    occupancy = model(lessons)

    for lesson in lessons:
        assert occupancy.people(1, lesson.start - dt.timedelta(minutes=10)) == 0
        assert occupancy.people(1, lesson.end + dt.timedelta(minutes=10)) == 0
        early, settled = (occupancy.people(1, lesson.start + dt.timedelta(minutes=m)) for m in (0, 20))
        assert early <= settled
    finished_early = [
        lesson
        for lesson in lessons
        if occupancy.people(1, lesson.start + dt.timedelta(minutes=40))
        and not occupancy.people(1, lesson.end - dt.timedelta(minutes=6))
    ]
    assert finished_early  # some end before their time, as released bookings do


def test_rooms_that_cannot_be_booked_are_used_most_hours_and_free_rooms_now_and_then():
    occupancy = model([])
    days = [WEDNESDAY + dt.timedelta(days=n) for n in range(28) if (WEDNESDAY + dt.timedelta(days=n)).weekday() < 5]
    moments = [evening(day, hour, 30) for day in days for hour in range(8, 18)]
    night = [evening(day, hour, 30) for day in days for hour in (0, 3, 6, 20, 23)]

    library_used = sum(1 for moment in moments if occupancy.people(LIBRARY.id, moment))
    classroom_used = sum(1 for moment in moments if occupancy.people(CLASSROOM.id, moment))

    assert library_used > 0.4 * len(moments)
    assert 0 < classroom_used < 0.2 * len(moments)
    assert not any(occupancy.people(room, moment) for room in (1, 2) for moment in night)


def test_nobody_drops_into_a_booked_room():
    days = [WEDNESDAY + dt.timedelta(days=n) for n in range(20)]
    day_lessons = [
        Stay(booking_id=n, room_id=1, start=evening(day, 8), end=evening(day, 18)) for n, day in enumerate(days)
    ]
    occupancy = model(day_lessons)

    no_shows = [lesson for lesson in day_lessons if occupancy.visit_of(lesson) is None]
    assert no_shows
    for lesson in no_shows:  # booked but nobody came: the room stays empty all day
        moments = [lesson.start + dt.timedelta(minutes=m) for m in range(30, 600, 15)]
        assert not any(occupancy.people(1, moment) for moment in moments)


def test_a_booking_of_the_whole_hall_spreads_its_people_over_the_sections():
    whole = Stay(booking_id=1, room_id=HALL.id, start=evening(WEDNESDAY, 19), end=evening(WEDNESDAY, 21), attendees=60)
    for seed in range(40):
        occupancy = model([whole], seed=seed)
        visit = occupancy.visit_of(whole)
        if visit is None:
            continue
        middle = whole.start + dt.timedelta(minutes=50)
        assert occupancy.people(SECTION.id, middle) == round(visit.people / 3)
        assert occupancy.people(HALL.id, middle) == visit.people
        return
    pytest.fail("every seed made the hall booking a no-show")


def test_a_section_booking_counts_in_the_whole_hall():
    section = Stay(booking_id=1, room_id=SECTION.id, start=evening(WEDNESDAY, 19), end=evening(WEDNESDAY, 21))
    occupancy = model([section])
    middle = section.start + dt.timedelta(minutes=50)

    assert occupancy.people(HALL.id, middle) == occupancy.people(SECTION.id, middle)


def test_the_same_seed_gives_the_same_readings_and_another_seed_others():
    lessons = evening_lessons(30)
    counter = SimulatedSensor(external_id="c", kind=SensorKind.COUNT, room_id=1)
    moments = [lesson.start + dt.timedelta(minutes=m) for lesson in lessons for m in range(0, 90, 7)]

    first = [reading_of(model(lessons, seed=7), counter, moment) for moment in moments]
    again = [reading_of(model(lessons, seed=7), counter, moment) for moment in reversed(moments)][::-1]
    other = [reading_of(model(lessons, seed=8), counter, moment) for moment in moments]

    assert first == again
    assert first != other


def test_presence_says_whether_anyone_is_there():
    lessons = evening_lessons(20)
    occupancy = model(lessons)
    presence = SimulatedSensor(external_id="p", kind=SensorKind.PRESENCE, room_id=1)
    moments = [lesson.start + dt.timedelta(minutes=m) for lesson in lessons for m in (-30, 30)]

    readings = [reading_of(occupancy, presence, moment) for moment in moments]

    assert [reading["present"] for reading in readings] == [occupancy.people(1, m) > 0 for m in moments]
    assert {reading["present"] for reading in readings} == {True, False}


def test_the_payloads_are_kampus_json_that_the_ingester_reads():
    occupancy = model(evening_lessons(1))
    counter = SimulatedSensor(external_id="c", kind=SensorKind.COUNT, room_id=1)
    times = sample_times(evening(WEDNESDAY, 19), evening(WEDNESDAY, 19, 5), dt.timedelta(minutes=1))

    one, batch = (
        payload_of([reading_of(occupancy, counter, times[0])]),
        payload_of([reading_of(occupancy, counter, moment) for moment in times]),
    )

    assert isinstance(json.loads(one), dict)
    assert len(json.loads(batch)) == 6
    parsed = parse_payload(batch, received_at=evening(WEDNESDAY, 19, 6))
    assert [reading.ts for reading in parsed.readings] == times


# --- The clock ------------------------------------------------------------------------------------------


class Recorder:
    """A sink that keeps what it is given, to look at the simulator's clock without a broker."""

    description = "a list"

    def __init__(self) -> None:
        self.sent: list[tuple[str, list[dict]]] = []

    def send(self, external_id: str, payload: bytes) -> None:
        readings = json.loads(payload)
        self.sent.append((external_id, readings if isinstance(readings, list) else [readings]))

    def close(self) -> None:
        pass

    def times_of(self, external_id: str) -> list[dt.datetime]:
        return [dt.datetime.fromisoformat(r["ts"]) for sensor, rs in self.sent if sensor == external_id for r in rs]


@pytest.mark.django_db
def test_the_clock_runs_at_its_speed_up_to_the_present_and_then_keeps_to_real_time(counter, presence, joint_campus):
    sink = Recorder()
    start = timezone.now() - dt.timedelta(minutes=30)
    simulator = Simulator(campus=joint_campus.campus, sink=sink, speed=36000, start=start, report=lambda line: None)

    progress = simulator.run(duration=1.5)  # 30 minutes at 36000× take a twentieth of a second

    now = timezone.now()
    for sensor in (counter, presence):
        times = sink.times_of(sensor.external_id)
        assert times[0] <= start < times[0] + dt.timedelta(minutes=1)
        assert all(later - earlier == dt.timedelta(minutes=1) for earlier, later in itertools.pairwise(times))
        assert now - dt.timedelta(minutes=1) < times[-1] <= now  # caught up, and nothing from the future
    assert progress.readings == len(sink.times_of(counter.external_id)) * 2
    assert any(len(readings) > 1 for _sensor, readings in sink.sent)  # what falls due together goes as a batch


@pytest.mark.django_db
def test_once_sends_one_reading_per_active_sensor(counter, presence, auditorium_counter, joint_campus):
    Sensor.objects.filter(pk=auditorium_counter.pk).update(is_active=False)
    sink = Recorder()

    Simulator(campus=joint_campus.campus, sink=sink, report=lambda line: None).run(once=True)

    assert sorted(sensor for sensor, _readings in sink.sent) == ["a101-counter", "a201-presence"]
    assert all(len(readings) == 1 for _sensor, readings in sink.sent)


@pytest.mark.django_db
def test_the_world_is_read_from_the_bookings_people_come_to(counter, joint_campus, lukio_staff):
    for weekday in range(7):
        OpeningHours.objects.update_or_create(
            building=joint_campus.main_building,
            weekday=weekday,
            defaults={"opens": dt.time(0), "closes": dt.time(23, 59)},
        )
    lesson = running_booking(lukio_staff, joint_campus.classroom)
    now = timezone.now()

    sensors, rooms, stays = load_world(joint_campus.campus, since=now - dt.timedelta(hours=1), until=now)

    assert sensors == [
        SimulatedSensor(external_id="a101-counter", kind=SensorKind.COUNT, room_id=joint_campus.classroom.pk)
    ]
    assert [room.id for room in rooms] == [joint_campus.classroom.pk]
    assert [(stay.booking_id, stay.start, stay.end) for stay in stays] == [(lesson.pk, lesson.start, lesson.end)]

    Booking.objects.filter(pk=lesson.pk).update(status=BookingStatus.CANCELLED)
    assert load_world(joint_campus.campus, since=now - dt.timedelta(hours=1), until=now)[2] == []


# --- The demo sensors ----------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_demo_registers_counters_and_presence_sensors_in_the_booked_rooms_once():
    demo = seed_demo_campus()

    first = seed_demo_sensors(demo)
    again = seed_demo_sensors(demo)

    expected = {demo_external_id(code, kind) for code, kinds in DEMO_SENSORS for kind in kinds}
    assert set(Sensor.objects.values_list("external_id", flat=True)) == expected
    assert (first.created, again.created, again.existing) == (len(expected), 0, len(expected))
    assert set(Sensor.objects.values_list("kind", flat=True)) == {SensorKind.COUNT, SensorKind.PRESENCE}
    assert Sensor.objects.filter(room__code="A101").count() == 2
    assert not Room.objects.get(code="A120").is_bookable  # the library: used without bookings


@pytest.mark.django_db
def test_without_a_broker_and_without_http_the_simulator_says_what_to_do(joint_campus, counter):
    with pytest.raises(CommandError) as refused:
        call_command(
            "simulate_sensors",
            "--once",
            "--campus",
            str(joint_campus.campus.pk),
            "--url",
            f"mqtt://127.0.0.1:{free_port()}",
            stdout=StringIO(),
        )

    message = str(refused.value)
    assert message.startswith("No MQTT broker answers at mqtt://127.0.0.1:")
    assert "--http" in message
    assert "create_gateway_token" in message


# --- The command's start time ---------------------------------------------------------------------------


NOW = dt.datetime(2026, 3, 10, 12, 0, tzinfo=dt.UTC)


@pytest.mark.parametrize(
    ("given", "start"),
    [
        ("now", NOW),
        ("3h", NOW - dt.timedelta(hours=3)),
        ("-90m", NOW - dt.timedelta(minutes=90)),
        ("1.5d", NOW - dt.timedelta(days=1.5)),
        ("2026-03-10T08:00", dt.datetime(2026, 3, 10, 8, 0, tzinfo=HELSINKI)),  # campus time
        ("2026-03-10T08:00+00:00", dt.datetime(2026, 3, 10, 8, 0, tzinfo=dt.UTC)),
    ],
)
def test_the_start_is_now_a_time_ago_or_a_time(given, start):
    assert parse_start(given, now=NOW, zone=HELSINKI) == start


def test_an_unreadable_start_is_refused_with_the_forms_it_takes():
    with pytest.raises(CommandError, match="give now, 90m, 3h, 1d"):
        parse_start("yesterday", now=NOW, zone=HELSINKI)


@pytest.mark.django_db
def test_a_start_older_than_kampus_accepts_is_refused(joint_campus, counter):
    with pytest.raises(CommandError, match="SENSOR_MAX_AGE_DAYS"):
        call_command("simulate_sensors", "--once", "--campus", "Otava Campus", "--start", "8d", stdout=StringIO())
