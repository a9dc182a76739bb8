"""The sensor pages for facility managers (sensors, dead letters) and the occupancy on the room page."""

from __future__ import annotations

import datetime as dt
import html
import re

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import formats, timezone

from campus.models import Room
from sensors.health import sensors_mark_offline
from sensors.models import DeadLetter, DeadLetterReason, IngestSource, Sensor, SensorKind
from tests.web.conftest import client_for

from .conftest import ingest, iso

pytestmark = pytest.mark.django_db

SENSORS = reverse("sensors:list")
DEAD_LETTERS = reverse("sensors:dead-letters")


def text(fragment: str) -> str:
    """Return the words of an HTML fragment, tags removed and white space collapsed."""
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", fragment)).split())


def rows(page: str) -> list[str]:
    """Return the text of each body row of the page's table."""
    body = page.split("<tbody>", 1)[1].split("</tbody>", 1)[0] if "<tbody>" in page else ""
    return [text(row) for row in body.split("<tr>")[1:]]


def get(client: Client, url: str, **params) -> str:
    response = client.get(url, params)
    assert response.status_code == 200, response.status_code
    return response.content.decode()


def reading(sensor: Sensor, *, minutes_ago: float, **value) -> None:
    moment = timezone.now() - dt.timedelta(minutes=minutes_ago)
    result = ingest({"ts": iso(moment), **value}, sensor=sensor.external_id, received_at=moment)
    assert result.stored == 1, result


@pytest.fixture
def vocational_counter(vocational_room: Room) -> Sensor:
    return Sensor.objects.create(external_id="voc-counter", kind=SensorKind.COUNT, room=vocational_room)


# --- who may open them -----------------------------------------------------------------------------


@pytest.mark.parametrize("url", [SENSORS, DEAD_LETTERS])
def test_the_pages_are_for_facility_managers(url, client, lukio_staff, front_desk, fm_of_lukio):
    assert client.get(url).status_code == 302  # to sign in
    assert client_for(lukio_staff).get(url).status_code == 403
    assert client_for(front_desk).get(url).status_code == 403
    assert client_for(fm_of_lukio).get(url).status_code == 200


def test_the_front_page_tells_facility_managers_how_many_sensors_are_offline(
    counter, presence, fm_of_lukio, lukio_staff
):
    # The header has no room for another item at 1280 px (tests/e2e/test_header.py): the front page links the page.
    home = reverse("campus:home")
    assert "No sensor of your rooms is offline." in text(get(client_for(fm_of_lukio), home))
    reading(counter, minutes_ago=45, count=2)
    sensors_mark_offline()

    page = get(client_for(fm_of_lukio), home)

    assert f'<a href="{SENSORS}?status=offline">1 sensor of your rooms is offline</a>' in page
    assert SENSORS not in get(client_for(lukio_staff), home)


# --- the sensors -----------------------------------------------------------------------------------


def test_a_facility_manager_sees_the_sensors_of_their_rooms_offline_first_with_status_last_seen_and_reading(
    counter, presence, vocational_counter, fm_of_lukio, joint_campus
):
    reading(counter, minutes_ago=45, count=12)
    reading(presence, minutes_ago=2, present=True)
    sensors_mark_offline()

    page = get(client_for(fm_of_lukio), SENSORS)

    assert rows(page) == [
        f"a101-counter People counter {joint_campus.classroom.label}"
        f" Offline since {_short(counter, 'status_changed_at')}"
        f" {_short(counter, 'last_seen')} 45 minutes ago 12 people 45 minutes ago",
        f"a201-presence Presence sensor {joint_campus.lab.label} Online"
        f" {_short(presence, 'last_seen')} 2 minutes ago Someone present 2 minutes ago",
    ]
    assert "voc-counter" not in page  # the vocational college's room
    assert "2 sensors: 1 online, 1 offline, 0 not heard from yet." in text(page)
    assert f'href="{reverse("bookings:room-detail", args=[joint_campus.classroom.pk])}"' in page


def _short(sensor: Sensor, field: str) -> str:
    sensor.refresh_from_db()
    return formats.date_format(timezone.localtime(getattr(sensor, field)), "SHORT_DATETIME_FORMAT")


def test_the_campus_facility_manager_sees_every_room_s_sensors_and_filters_by_status(
    counter, vocational_counter, campus_fm
):
    reading(counter, minutes_ago=1, count=3)
    client = client_for(campus_fm)

    assert [row.split()[0] for row in rows(get(client, SENSORS))] == ["voc-counter", "a101-counter"]  # new first
    assert [row.split()[0] for row in rows(get(client, SENSORS, status="online"))] == ["a101-counter"]
    assert "No sensor of yours has this status." in get(client, SENSORS, status="offline")
    assert len(rows(get(client, SENSORS, status="nonsense"))) == 2  # an unknown status filters nothing


def test_sensors_never_heard_from_and_inactive_ones_say_so(counter, presence, fm_of_lukio):
    Sensor.objects.filter(pk=presence.pk).update(is_active=False)

    listed = rows(get(client_for(fm_of_lukio), SENSORS))

    assert "Not heard from yet Never None yet" in listed[0]
    assert "Inactive" in listed[1]


def test_the_sensors_page_is_paged_and_its_queries_do_not_grow_with_the_sensors(
    joint_campus, campus_fm, django_assert_max_num_queries
):
    Sensor.objects.bulk_create(
        Sensor(external_id=f"s{number:03}", kind=SensorKind.COUNT, room=joint_campus.classroom) for number in range(60)
    )
    client = client_for(campus_fm)

    with django_assert_max_num_queries(12):
        first = get(client, SENSORS)
    second = get(client, SENSORS, page=2)

    assert len(rows(first)) == 50
    assert len(rows(second)) == 10
    assert "Page 1 of 2" in first
    assert 'href="?page=2" rel="next"' in first


def test_a_manager_without_sensors_is_told_how_to_register_them(fm_of_lukio):
    assert "No sensors are registered in the rooms you manage." in get(client_for(fm_of_lukio), SENSORS)


# --- dead letters ----------------------------------------------------------------------------------


def test_dead_letters_are_listed_newest_first_with_their_reasons(counter, vocational_counter, fm_of_lukio):
    ingest(b"{not json", sensor=counter.external_id, received_at=timezone.now() - dt.timedelta(hours=2))
    ingest({"count": -4}, sensor=counter.external_id, received_at=timezone.now() - dt.timedelta(minutes=5))
    ingest({"count": -1}, sensor=vocational_counter.external_id)  # not a room of theirs

    listed = rows(get(client_for(fm_of_lukio), DEAD_LETTERS))

    assert len(listed) == 2
    assert "5 minutes ago Count negative or too large" in listed[0]
    assert "a101-counter MQTT" in listed[0]
    assert '{"count": -4}' in listed[0]
    assert "2 hours ago Not readable (not UTF-8 JSON)" in listed[1]
    assert "{not json" in listed[1]


def test_dead_letters_are_paged_and_filtered_by_reason(counter, campus_fm):
    now = timezone.now()
    DeadLetter.objects.bulk_create(
        DeadLetter(
            received_at=now - dt.timedelta(minutes=number),
            source=IngestSource.HTTP,
            topic="a101-counter",
            sensor=counter,
            campus=counter.room.building.campus,
            reason=DeadLetterReason.FUTURE if number % 2 else DeadLetterReason.TOO_OLD,
            detail=f"letter {number}",
            payload="{}",
            payload_bytes=2,
        )
        for number in range(70)
    )
    client = client_for(campus_fm)

    first, second = get(client, DEAD_LETTERS), get(client, DEAD_LETTERS, page=2)
    future = get(client, DEAD_LETTERS, reason="future")

    assert [row.split("letter ")[1].split()[0] for row in rows(first)][:3] == ["0", "1", "2"]
    assert len(rows(first)) == 50
    assert len(rows(second)) == 20
    assert "70 refused messages" in text(first)
    assert "35 refused messages" in text(future)
    assert all("Time too far in the future" in row for row in rows(future))
    assert "Page 1 of" not in future  # 35 fit on one page


def test_no_dead_letters_says_so(fm_of_lukio):
    assert "No refused messages." in get(client_for(fm_of_lukio), DEAD_LETTERS)


# --- occupancy on the room page --------------------------------------------------------------------


def occupancy_on_room_page(user, room: Room) -> str | None:
    page = get(client_for(user), reverse("bookings:room-detail", args=[room.pk]))
    found = re.search(r"<dt>Occupancy now</dt>\s*<dd[^>]*>(.*?)</dd>", page, re.S)
    return text(found.group(1)) if found else None


def test_the_room_page_shows_the_latest_count_and_when(counter, presence, lukio_staff, joint_campus):
    reading(counter, minutes_ago=4, count=11)
    reading(counter, minutes_ago=2, count=12)

    assert occupancy_on_room_page(lukio_staff, joint_campus.classroom) == "12 people, 2 minutes ago"


def test_a_count_of_nobody_and_presence_are_said_in_words(counter, presence, lukio_staff, joint_campus):
    reading(counter, minutes_ago=1, count=0)
    reading(presence, minutes_ago=3, present=True)

    assert occupancy_on_room_page(lukio_staff, joint_campus.classroom) == "Empty (no one counted), 1 minute ago"
    assert occupancy_on_room_page(lukio_staff, joint_campus.lab) == "Someone present, 3 minutes ago"


def test_a_count_wins_over_presence_in_the_same_room(counter, lukio_staff, joint_campus):
    door = Sensor.objects.create(external_id="a101-pir", kind=SensorKind.PRESENCE, room=joint_campus.classroom)
    reading(door, minutes_ago=0.5, present=False)
    reading(counter, minutes_ago=5, count=7)

    assert occupancy_on_room_page(lukio_staff, joint_campus.classroom) == "7 people, 5 minutes ago"


def test_an_old_reading_is_not_passed_off_as_now(counter, lukio_staff, joint_campus, settings):
    settings.KAMPUS_SENSOR_FRESH_MINUTES = 15
    reading(counter, minutes_ago=20, count=9)

    assert occupancy_on_room_page(lukio_staff, joint_campus.classroom) == (
        "Unknown: the room's sensors have sent nothing in the last 15 minutes"
    )


def test_a_room_without_sensors_says_nothing_about_occupancy(counter, lukio_staff, joint_campus):
    assert occupancy_on_room_page(lukio_staff, joint_campus.lab) is None
