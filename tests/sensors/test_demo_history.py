"""Rooms that behave as the demo's story says, and history stored without the network's age limit."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone

from campus.demo import seed_demo_campus
from sensors.demo import CROWDED, GYM, LAB, demo_behaviours, demo_history_days, seed_demo_sensors
from sensors.management.commands import simulate_sensors
from sensors.models import DeadLetterReason, Reading, Sensor
from sensors.services import HistoricReading, readings_store_history
from sensors.simulator import ORDINARY, OccupancyModel, Progress, RoomBehaviour, RoomFacts, Stay, load_world

from .conftest import ingest, iso

HELSINKI = zoneinfo.ZoneInfo("Europe/Helsinki")
WEDNESDAY = dt.date(2026, 3, 11)


def lessons(count: int, *, room: int, attendees: int | None) -> list[Stay]:
    """One 90-minute booking at 19:00 on each of ``count`` days (after the hours of unbooked use)."""
    return [
        Stay(
            booking_id=number,
            room_id=room,
            start=dt.datetime.combine(WEDNESDAY + dt.timedelta(days=number), dt.time(19), tzinfo=HELSINKI),
            end=dt.datetime.combine(WEDNESDAY + dt.timedelta(days=number), dt.time(20, 30), tzinfo=HELSINKI),
            attendees=attendees,
        )
        for number in range(count)
    ]


def people_in_the_middle(behaviour: RoomBehaviour, *, capacity: int, attendees: int | None) -> list[int]:
    """Return how many people are in a room of ``behaviour`` 40 minutes into each of 400 bookings."""
    room = RoomFacts(id=1, capacity=capacity, behaviour=behaviour)
    stays = lessons(400, room=1, attendees=attendees)
    model = OccupancyModel(rooms=[room], stays=stays, zone=HELSINKI, seed=3)
    return [model.people(1, stay.start + dt.timedelta(minutes=40)) for stay in stays]


# --- Behaviour in the model ----------------------------------------------------------------------------


def test_a_room_with_many_no_shows_stays_empty_in_that_share_of_its_bookings():
    ordinary = people_in_the_middle(ORDINARY, capacity=30, attendees=20)
    gym = people_in_the_middle(RoomBehaviour(no_show_rate=0.4), capacity=30, attendees=20)

    # 400 bookings: the binomial's standard deviation is under 2.5 percentage points.
    assert 0.07 <= ordinary.count(0) / 400 <= 0.17
    assert 0.33 <= gym.count(0) / 400 <= 0.47


def test_a_capacity_share_fills_that_share_of_the_room_whatever_was_booked():
    for attendees in (None, 6, 24):
        came = [people for people in people_in_the_middle(LAB, capacity=24, attendees=attendees) if people]
        # 40–65 % of 24 seats: 9.6–15.6, rounded.
        assert min(came) >= 10
        assert max(came) <= 16


def test_a_crowded_room_holds_more_people_than_booked_and_sometimes_more_than_fit():
    came = [people for people in people_in_the_middle(CROWDED, capacity=6, attendees=5) if people]

    assert len(came) >= 0.9 * 400  # hardly any no-shows
    assert min(came) >= 5  # at least everyone booked
    assert max(came) <= 7  # at most 1.3 × 6 (5 × 1.5 = 7.5 would not fit)
    assert sum(1 for people in came if people > 5) > len(came) / 2
    assert any(people == 7 for people in came)


def test_the_ordinary_behaviour_is_the_models_defaults():
    assert RoomBehaviour() == ORDINARY
    assert RoomFacts(id=1, capacity=10).behaviour == ORDINARY
    came = [people for people in people_in_the_middle(ORDINARY, capacity=30, attendees=20) if people]
    assert all(14 <= people <= 20 for people in came)  # 70–100 % of the 20 booked


# --- The demo's behaviours -----------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_demo_gives_its_story_rooms_their_behaviour_and_the_world_carries_it():
    demo = seed_demo_campus()
    seed_demo_sensors(demo)
    rooms = demo.rooms

    behaviours = demo_behaviours(demo.campus)

    assert behaviours[rooms["C101"].pk] == GYM
    assert behaviours[rooms["C100"].pk] == GYM
    assert behaviours[rooms["A301"].pk] == LAB
    assert behaviours[rooms["A151"].pk] == CROWDED
    assert rooms["A101"].pk not in behaviours
    now = timezone.now()
    _sensors, facts, _stays = load_world(demo.campus, since=now, until=now, behaviours=behaviours)
    by_id = {room.id: room.behaviour for room in facts}
    assert by_id[rooms["C100"].pk] == GYM  # the whole hall, loaded because its sections have sensors
    assert by_id[rooms["A302"].pk] == LAB
    assert by_id[rooms["A101"].pk] == ORDINARY


@pytest.mark.django_db
def test_the_live_simulator_of_the_demo_campus_uses_the_demos_behaviours(monkeypatch):
    demo = seed_demo_campus()
    given = {}

    class FakeSimulator:
        def __init__(self, **options):
            given.update(options)

        def stop(self, *_args):
            pass

        def run(self, **_options):
            return Progress(sensors=1)

    class FakeSink:
        description = "nowhere"

        def close(self):
            pass

    monkeypatch.setattr(simulate_sensors, "Simulator", FakeSimulator)
    monkeypatch.setattr(simulate_sensors.Command, "_sink", lambda self, options: FakeSink())

    call_command("simulate_sensors", "--once", stdout=StringIO())

    assert given["behaviours"] == demo_behaviours(demo.campus)
    assert given["behaviours"][demo.rooms["C102"].pk] == GYM


def test_the_history_covers_the_weekdays_from_the_demo_bookings_first_monday_to_yesterday():
    days = demo_history_days(today=dt.date(2026, 12, 4))  # a Friday

    assert days[0] == dt.date(2026, 11, 2)  # the Monday of the week 4 weeks before
    assert days[-1] == dt.date(2026, 12, 3)
    assert len(days) == 4 * 5 + 4
    assert all(day.weekday() < 5 for day in days)


# --- Storing history --------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_history_older_than_the_age_limit_is_stored_once_though_the_network_refuses_it(counter, presence):
    now = timezone.now()
    old = (now - dt.timedelta(days=30)).replace(microsecond=0)
    refused = ingest({"ts": iso(old), "count": 5}, sensor=counter.external_id, received_at=now)
    assert [letter.reason for letter in refused.dead_letters] == [DeadLetterReason.TOO_OLD]
    counter, presence = Sensor.objects.select_related("room__building").filter(pk__in=[counter.pk, presence.pk])
    readings = [
        HistoricReading(sensor=counter, ts=old, count=5),
        HistoricReading(sensor=counter, ts=old + dt.timedelta(minutes=5), count=0),
        HistoricReading(sensor=presence, ts=old, present=True),
    ]

    first = readings_store_history(readings=readings, now=now)
    again = readings_store_history(readings=readings, now=now)

    assert (first.stored, first.duplicates) == (3, 0)
    assert (again.stored, again.duplicates) == (0, 3)
    stored = Reading.objects.order_by("sensor_id", "ts").values_list("sensor__external_id", "ts", "count", "present")
    assert sorted(stored) == sorted(
        [
            (counter.external_id, old, 5, None),
            (counter.external_id, old + dt.timedelta(minutes=5), 0, None),
            (presence.external_id, old, None, True),
        ]
    )
    assert set(Reading.objects.values_list("received_at", flat=True)) == {now}
    # History says nothing about whether a sensor is online now.
    assert list(Sensor.objects.filter(pk__in=[counter.pk, presence.pk]).values_list("last_seen", flat=True)) == [
        None,
        None,
    ]


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("kind_of_problem", "reading"),
    [
        ("wrong kind", {"present": True}),
        ("count out of range", {"count": 3 * 30 + 11}),
        ("from the future", {"count": 3, "ahead": dt.timedelta(hours=1)}),
    ],
)
def test_history_keeps_every_check_but_the_age_limit(counter, kind_of_problem, reading):
    now = timezone.now()
    counter = Sensor.objects.select_related("room__building").get(pk=counter.pk)
    ahead = reading.pop("ahead", -dt.timedelta(days=20))

    with pytest.raises(ValueError, match="refused"):
        readings_store_history(readings=[HistoricReading(sensor=counter, ts=now + ahead, **reading)], now=now)

    assert not Reading.objects.exists()
