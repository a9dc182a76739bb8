"""The calendar pages in a real browser: Subscribe (copy, subscribe, a new address) and "add to my calendar".

Each page is also scanned by axe-core (WCAG 2.1 A/AA) through ``check_a11y``.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from icalendar import Calendar

from bookings import services
from tests.e2e.conftest import World, check_a11y, signed_in

pytestmark = pytest.mark.browser

SUBSCRIBE = "/calendar/subscribe/"


@pytest.fixture
def lessons(world: World):
    return services.booking_create(
        room=world.campus.classroom,
        booked_by=world.lukio_staff,
        title="Maths 2B",
        start=world.at(10),
        end=world.at(11),
        rrule="FREQ=WEEKLY;COUNT=3",
    ).bookings


def test_the_subscribe_page_gives_addresses_to_copy_and_to_open_in_a_calendar_app(page, world: World, lessons):
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    signed_in(page, world.lukio_staff, next_url=SUBSCRIBE)
    page.get_by_role("heading", name="Calendar subscriptions", level=1).wait_for()
    check_a11y(page, "calendar:subscribe")

    own = page.get_by_label("Address of the calendar “My bookings”")
    url = own.input_value()
    assert re.fullmatch(
        rf"{re.escape(page.url.split('/calendar/')[0])}/calendar/feeds/person/\d+/[\w-]+\.ics\?lang=en", url
    )
    subscribe = page.get_by_role("link", name="Subscribe in your calendar app (My bookings)")
    assert subscribe.get_attribute("href") == "webcal" + url[url.index(":") :]

    page.get_by_role("button", name="Copy the address (My bookings)").click()
    page.get_by_role("status").filter(has_text="The address was copied.").wait_for()
    assert page.evaluate("navigator.clipboard.readText()") == url

    feed = page.request.get(url)
    assert feed.status == 200
    assert feed.headers["content-type"] == "text/calendar; charset=utf-8"
    titles = {str(event["SUMMARY"]) for event in Calendar.from_ical(feed.body()).walk("VEVENT")}
    assert titles == {"Maths 2B"}
    for heading in ("Outlook", "Google Calendar", "iPhone and iPad", "Android"):
        assert page.get_by_role("heading", name=heading, level=3).is_visible()


def test_a_room_is_chosen_from_its_page_and_its_address_shown(page, world: World, lessons):
    world.campus.classroom.public_feed = True
    world.campus.classroom.save()
    signed_in(page, world.vocational_staff, next_url=f"/rooms/{world.campus.classroom.pk}/")

    page.get_by_role("link", name="Subscribe to the room's calendar").click()
    page.get_by_role("heading", name="Calendar subscriptions", level=1).wait_for()
    check_a11y(page, "calendar-subscribe-room")

    label = world.campus.classroom.label
    url = page.get_by_label(f"Address of the calendar “{label}”").input_value()
    assert f"/calendar/feeds/room/{world.campus.classroom.pk}/" in url
    feed = Calendar.from_ical(page.request.get(url).body())
    assert {str(event["SUMMARY"]) for event in feed.walk("VEVENT")} == {
        "Reserved"
    }  # the lukio's lessons, hidden from the college
    public = page.get_by_label("Public address").input_value()
    assert public.endswith(f"/calendar/rooms/{world.campus.classroom.pk}/public.ics")

    page.get_by_label("Room", exact=True).select_option(label=f"{world.campus.lab.label} (Main building)")
    page.get_by_role("button", name="Show the room's address").click()
    assert page.get_by_label(f"Address of the calendar “{world.campus.lab.label}”").is_visible()


def test_a_new_address_after_confirmation_and_the_old_one_is_gone(page, world: World, lessons):
    signed_in(page, world.lukio_staff, next_url=SUBSCRIBE)
    old = page.get_by_label("Address of the calendar “My bookings”").input_value()

    page.get_by_role("link", name="Get a new address (My bookings)").click()
    page.get_by_role("heading", name="Get a new calendar address", level=1).wait_for()
    check_a11y(page, "calendar-new-address")
    page.get_by_role("button", name="Yes, make a new address").click()

    page.get_by_role("heading", name="Calendar subscriptions", level=1).wait_for()
    assert page.get_by_text("has a new address").is_visible()
    new = page.get_by_label("Address of the calendar “My bookings”").input_value()
    assert new != old
    assert page.request.get(old).status == 410
    assert page.request.get(new).status == 200


def test_add_to_my_calendar_downloads_the_booking_and_its_series(page, world: World, lessons):
    signed_in(page, world.lukio_staff, next_url=f"/bookings/{lessons[1].pk}/")
    check_a11y(page, "booking-detail-add-to-calendar")

    with page.expect_download() as one:
        page.get_by_role("link", name="Add to my calendar", exact=True).click()
    assert one.value.suggested_filename == f"kampus-booking-{lessons[1].pk}.ics"
    (event,) = Calendar.from_ical(Path(one.value.path()).read_bytes()).walk("VEVENT")
    assert str(event["SUMMARY"]) == "Maths 2B"
    assert event.decoded("DTSTART") == lessons[1].start

    with page.expect_download() as series:
        page.get_by_role("link", name="Add the whole series to my calendar").click()
    (master,) = Calendar.from_ical(Path(series.value.path()).read_bytes()).walk("VEVENT")
    assert "RRULE" in master


@pytest.mark.parametrize(("locale", "heading"), [("fi-FI", "Kalenteritilaukset"), ("sv-SE", "Kalenderprenumerationer")])
def test_the_subscribe_page_in_finnish_and_swedish(new_page, world: World, lessons, locale, heading):
    page = new_page(locale=locale)
    signed_in(page, world.lukio_staff, next_url=SUBSCRIBE)

    page.get_by_role("heading", name=heading, level=1).wait_for()
    check_a11y(page, f"calendar-subscribe-{locale}")
    url = page.locator("input.feed-url").first.input_value()
    assert url.endswith(f"?lang={locale[:2]}")
