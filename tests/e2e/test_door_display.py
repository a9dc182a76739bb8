"""The door display in a real browser, with axe-core: a tablet at the door without signing in shows the
booking now as "Reserved", checks it in, and stays readable in Finnish and Swedish."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from bookings.models import Booking
from bookings.services import booking_create
from sensors.models import Sensor, SensorKind
from tests.e2e.conftest import World, check_a11y
from tests.utilisation.conftest import read
from utilisation.door_displays import door_display_create

pytestmark = pytest.mark.browser

TABLET = {"width": 1024, "height": 768}


@pytest.fixture
def door(world: World) -> tuple[str, Booking]:
    """The classroom's door display (its address) and a private lesson there that started 3 minutes ago."""
    lesson = booking_create(
        room=world.campus.classroom,
        booked_by=world.lukio_staff,
        title="Private tutoring for Ville",
        start=world.at(10),
        end=world.at(11),
    ).first
    start = timezone.now().replace(microsecond=0) - dt.timedelta(minutes=3)
    Booking.objects.filter(pk=lesson.pk).update(start=start, end=start + dt.timedelta(hours=1))
    counter = Sensor.objects.create(external_id="a101-counter", kind=SensorKind.COUNT, room=world.campus.classroom)
    read(counter, timezone.now() - dt.timedelta(minutes=1), 4)
    _display, raw = door_display_create(actor=world.fm_of_lukio, room=world.campus.classroom, name="A101 door")
    return f"/door/{raw}/", lesson


def test_the_door_display_checks_in_without_signing_in(new_page, door):
    url, lesson = door
    page = new_page(viewport=TABLET)

    page.goto(f"{url}?lang=en")
    page.get_by_role("heading", name="Classroom 101", exact=False, level=1).wait_for()
    now = page.get_by_role("region", name="Now", exact=True)
    assert "Reserved" in now.inner_text()
    assert "Ville" not in page.content()
    assert "4 people" in page.get_by_role("region", name="Occupancy now").inner_text()
    check_a11y(page, "door-display")

    page.get_by_role("button", name="Check in").click()
    page.get_by_role("status").wait_for()
    assert "Checked in. Welcome!" in page.get_by_role("status").inner_text()
    assert page.get_by_role("button", name="Check in").count() == 0
    assert Booking.objects.get(pk=lesson.pk).checked_in_at is not None
    check_a11y(page, "door-display-checked-in")


@pytest.mark.parametrize(("lang", "state"), [("fi", "Käytössä"), ("sv", "Upptaget")])
def test_the_door_display_in_finnish_and_swedish(new_page, door, lang, state):
    url, _lesson = door
    page = new_page(viewport=TABLET)

    page.goto(f"{url}?lang={lang}")

    assert page.locator("html").get_attribute("lang") == lang
    assert state in page.get_by_role("main").inner_text()
    check_a11y(page, f"door-display-{lang}")
