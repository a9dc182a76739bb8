"""The timetable import page in a real browser: choose a file, read the dry run, confirm; axe-core on every state."""

from __future__ import annotations

import datetime as dt
import re

import pytest

from bookings import services
from bookings.models import Booking, BookingSeries
from tests.bookings.test_ical_import import calendar, vevent
from tests.e2e.conftest import PHONE, World, check_a11y, signed_in

pytestmark = pytest.mark.browser

WEEK = dt.timedelta(weeks=1)


def timetable(world: World) -> bytes:
    return calendar(
        vevent(
            "Maths 2B",
            world.at(10),
            world.at(11, 15),
            "RRULE:FREQ=WEEKLY;COUNT=3",
            "LOCATION:Room 101",
            "ATTENDEE;CN=Student:mailto:student@school.example.org",
        ),
        vevent("Parents' evening", world.at(17), world.at(18, 30)),
        "\r\n".join(
            [
                "BEGIN:VEVENT",
                "UID:sports-day@tests",
                "SUMMARY:Sports day",
                f"DTSTART;VALUE=DATE:{world.day + dt.timedelta(days=1):%Y%m%d}",
                "END:VEVENT",
            ]
        ),
    )


def choose_file(page, world: World, content: bytes) -> None:
    page.get_by_label("Calendar file (.ics)").set_input_files(
        files=[{"name": "timetable.ics", "mimeType": "text/calendar", "buffer": content}]
    )
    page.get_by_label("Room", exact=True).select_option(value=str(world.campus.classroom.pk))
    page.get_by_role("button", name="Check the file").click()
    page.wait_for_load_state()


def test_a_facility_manager_checks_a_timetable_and_imports_it(page, world):
    signed_in(page, world.fm_of_lukio)
    page.get_by_role("link", name="Import a timetable").click()
    page.get_by_role("heading", name="Import a timetable", level=1).wait_for()
    check_a11y(page, "import-timetable")

    choose_file(page, world, timetable(world))

    page.get_by_role("heading", name="Check: this file can be imported").wait_for()
    assert page.get_by_text("4 dates would be booked.").is_visible()
    table = page.get_by_role("table", name="The file's events, in date order")
    rows = table.locator("tbody tr")
    assert rows.count() == 3
    maths = rows.filter(has_text="Maths 2B")
    assert "Place in the file: Room 101" in maths.inner_text()
    assert "Weekly series: 3 dates" in maths.inner_text()
    assert "Would be booked" in maths.inner_text()
    assert "Left out" in rows.filter(has_text="Sports day").inner_text()
    assert Booking.objects.count() == 0
    check_a11y(page, "import-timetable-preview")

    page.get_by_role("button", name="Import: book 4 dates").click()
    page.wait_for_load_state()

    assert page.url.endswith("/bookings/mine/"), page.url
    assert page.get_by_text("Imported timetable.ics: 4 dates booked in A101 Classroom 101.").is_visible()
    assert Booking.objects.filter(booked_by=world.fm_of_lukio, room=world.campus.classroom).count() == 4
    assert BookingSeries.objects.count() == 1


def test_a_file_with_a_clash_shows_why_and_books_nothing(page, world):
    services.booking_create(
        room=world.campus.classroom,
        booked_by=world.lukio_staff,
        title="Exam",
        start=world.at(10, 30, days=7),
        end=world.at(11, 30, days=7),
    )
    signed_in(page, world.fm_of_lukio, next_url="/manage/import/")

    choose_file(page, world, timetable(world))

    page.get_by_role("heading", name="This file cannot be imported like this").wait_for()
    maths = page.get_by_role("row").filter(has_text="Maths 2B")
    assert "Cannot be booked" in maths.inner_text()
    assert re.search(r"Clashes with .*Exam", maths.inner_text())
    assert page.get_by_role("button", name=re.compile("^Import")).count() == 0
    check_a11y(page, "import-timetable-refused")
    assert Booking.objects.count() == 1


def test_a_file_that_is_no_calendar_is_a_form_error(page, world):
    signed_in(page, world.fm_of_lukio, next_url="/manage/import/")

    choose_file(page, world, b"room;start;end\r\nA101;10:00;11:00\r\n")

    alert = page.get_by_role("alert")
    alert.wait_for()
    assert "The file is not an iCalendar (.ics) file" in alert.inner_text()
    check_a11y(page, "import-timetable-errors")


def test_the_import_page_in_finnish_fits_a_phone(new_page, world):
    page = new_page(locale="fi-FI", viewport=PHONE, phone=True)
    signed_in(page, world.fm_of_lukio, next_url="/manage/import/")
    page.get_by_role("heading", name="Tuo lukujärjestys", level=1).wait_for()

    page.get_by_label("Kalenteritiedosto (.ics)").set_input_files(
        files=[{"name": "lukujarjestys.ics", "mimeType": "text/calendar", "buffer": timetable(world)}]
    )
    page.get_by_label("Tila", exact=True).select_option(value=str(world.campus.classroom.pk))
    page.get_by_role("button", name="Tarkista tiedosto").click()
    page.get_by_role("heading", name="Tarkistus: tämän tiedoston voi tuoda").wait_for()

    widths = page.evaluate("() => [document.scrollingElement.scrollWidth, window.innerWidth]")
    assert widths[0] <= widths[1], f"the preview scrolls sideways on a phone: {widths[0]}px in {widths[1]}px"
    check_a11y(page, "import-timetable-preview-fi-phone")
