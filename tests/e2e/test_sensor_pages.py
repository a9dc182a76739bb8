"""The sensor pages in a real browser, with axe-core: a facility manager finds a silent sensor, its dead letters,
and a room's occupancy on the room page, on a desktop and a phone, in English, Finnish and Swedish."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.utils import timezone

from sensors.health import sensors_mark_offline
from sensors.models import Sensor, SensorKind
from sensors.services import IncomingMessage, readings_ingest
from tests.e2e.conftest import World, check_a11y, signed_in

pytestmark = pytest.mark.browser


def send(sensor: Sensor, payload: bytes, *, minutes_ago: float) -> None:
    """Ingest ``payload`` for ``sensor`` as received ``minutes_ago``, as the MQTT ingester would."""
    received = timezone.now() - dt.timedelta(minutes=minutes_ago)
    message = IncomingMessage(
        payload=payload,
        received_at=received,
        external_id=sensor.external_id,
        topic=f"kampus/sensors/{sensor.external_id}",
    )
    readings_ingest(messages=[message])


@pytest.fixture
def sensors(world: World) -> tuple[Sensor, Sensor]:
    """A counter in the classroom that fell silent, with two refused messages, and a presence sensor in the lab."""
    counter = Sensor.objects.create(external_id="a101-counter", kind=SensorKind.COUNT, room=world.campus.classroom)
    presence = Sensor.objects.create(external_id="lab-presence", kind=SensorKind.PRESENCE, room=world.campus.lab)
    now = timezone.now()
    send(counter, f'{{"ts": "{(now - dt.timedelta(minutes=45)).isoformat()}", "count": 14}}'.encode(), minutes_ago=45)
    send(counter, b'{"count": -3}', minutes_ago=44)
    send(counter, b"\xff not json <script>", minutes_ago=43)
    sensors_mark_offline(now=now)
    send(
        presence, f'{{"ts": "{(now - dt.timedelta(minutes=2)).isoformat()}", "present": true}}'.encode(), minutes_ago=2
    )
    return counter, presence


def test_a_facility_manager_finds_a_silent_sensor_and_its_refused_messages(page, world, sensors):
    signed_in(page, world.fm_of_lukio)
    page.get_by_role("link", name="1 sensor of your rooms is offline").click()
    page.get_by_role("heading", name="Sensors", level=1).wait_for()

    rows = page.get_by_role("table").get_by_role("row")
    assert rows.count() == 2  # the header and the one offline sensor (the link filters)
    silent = rows.nth(1)
    assert silent.get_by_role("rowheader").inner_text().startswith("a101-counter")
    assert "Offline" in silent.inner_text()
    assert "14 people" in silent.inner_text()
    check_a11y(page, "sensors-offline")

    page.get_by_label("Status").select_option(label="Any status")
    page.get_by_role("button", name="Show").click()
    page.wait_for_load_state()
    assert page.get_by_role("table").get_by_role("row").count() == 3
    assert "Someone present" in page.get_by_role("row", name=re.compile("lab-presence")).inner_text()
    check_a11y(page, "sensors")

    page.get_by_role("link", name="Refused messages (dead letters)").click()
    page.get_by_role("heading", name="Refused sensor messages", level=1).wait_for()
    reasons = [text.split("\n")[0] for text in page.get_by_role("rowheader").all_inner_texts()]
    assert reasons == ["Not readable (not UTF-8 JSON)", "Count negative or too large"]  # newest first
    assert page.get_by_text("not json <script>").count() == 1  # shown as text, never run
    check_a11y(page, "dead-letters")


def test_the_sensor_pages_on_a_phone(phone, world, sensors):
    signed_in(phone, world.campus_fm)
    phone.goto("/manage/sensors/")
    phone.get_by_role("heading", name="Sensors", level=1).wait_for()
    check_a11y(phone, "sensors-phone")
    phone.goto("/manage/sensors/dead-letters/")
    phone.get_by_role("heading", name="Refused sensor messages", level=1).wait_for()
    check_a11y(phone, "dead-letters-phone")


@pytest.mark.parametrize(
    ("locale", "heading", "occupancy"),
    [("fi-FI", "Anturit", "Joku paikalla"), ("sv-SE", "Sensorer", "Någon närvarande")],
)
def test_the_sensor_pages_and_the_occupancy_in_finnish_and_swedish(
    new_page, world, sensors, locale, heading, occupancy
):
    page = new_page(locale=locale)
    signed_in(page, world.campus_fm)
    page.goto("/manage/sensors/")
    page.get_by_role("heading", name=heading, level=1).wait_for()
    check_a11y(page, f"sensors-{locale[:2]}")
    page.goto(f"/rooms/{world.campus.lab.pk}/")
    assert occupancy in page.locator("dd.occupancy").inner_text()
    check_a11y(page, f"room-occupancy-{locale[:2]}")


def test_a_teacher_sees_the_occupancy_on_the_room_page_but_not_the_sensor_pages(page, world, sensors):
    signed_in(page, world.lukio_staff)
    page.goto(f"/rooms/{world.campus.lab.pk}/")
    occupancy = page.get_by_role("definition").filter(has_text="present")
    assert re.fullmatch(r"Someone present, \d\s+minutes? ago", occupancy.inner_text())
    assert page.locator("dd.occupancy time").get_attribute("datetime")
    check_a11y(page, "room-occupancy")

    page.goto(f"/rooms/{world.campus.classroom.pk}/")
    assert page.locator("dd.occupancy").inner_text().startswith("Unknown")

    response = page.goto("/manage/sensors/")
    assert response is not None
    assert response.status == 403
