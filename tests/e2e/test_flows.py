"""What people do with Kampus, in a real browser: find and book a room, clash, repeat, cancel, approve, switch language.

The pages are found by role and label, as a screen reader finds them, so a missing label fails here too.
Data that is not the point of a test is made through the booking services, as every entry point does.
"""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.utils import formats, timezone

from bookings import services
from bookings.models import Access, Booking, BookingPolicy, BookingStatus
from campus.models import Room
from tests.bookings.conftest import HELSINKI
from tests.e2e.conftest import World, check_a11y, signed_in

pytestmark = pytest.mark.browser

WEEKLY = "FREQ=WEEKLY;COUNT=4"


def clock(value: dt.datetime) -> str:
    """Return ``value`` as the pages show a time (the active language's TIME_FORMAT, campus time)."""
    return formats.time_format(timezone.localtime(value, HELSINKI))


def fill_booking_form(page, *, title: str, room: Room, day: dt.date, start: str, end: str) -> None:
    page.get_by_label("What is it for?").fill(title)
    page.get_by_label("Room", exact=True).select_option(value=str(room.pk))
    page.get_by_label("Date", exact=True).fill(day.isoformat())
    page.get_by_label("Start time").fill(start)
    page.get_by_label("End time").fill(end)


def search_free_rooms(page, world: World, *, start: str = "10:00") -> None:
    page.get_by_label("Date", exact=True).fill(world.day.isoformat())
    page.get_by_label("Start time").fill(start)
    page.get_by_label("How long").select_option(label="1 hour")
    page.get_by_role("button", name="Search").click()
    page.wait_for_load_state()


def test_a_teacher_finds_a_free_room_and_books_it_in_one_click(page, world):
    signed_in(page, world.lukio_staff, next_url="/rooms/find/")
    expect_heading(page, "Find a free room")
    search_free_rooms(page, world)

    expect_heading(page, re.compile(r"3 free rooms"))
    page.get_by_label("What is it for?").fill("Maths 2B")
    page.get_by_label("Purpose").select_option(label="Teaching")
    page.get_by_role("button", name="Book A101 Classroom 101").click()
    page.wait_for_load_state()

    assert re.search(r"/bookings/\d+/$", page.url), page.url
    expect_heading(page, "Maths 2B", level=1)
    assert page.get_by_text("Booking confirmed.").is_visible()
    booking = Booking.objects.get(title="Maths 2B")
    assert booking.room == world.campus.classroom
    assert booking.purpose == "teaching"
    assert booking.status == BookingStatus.CONFIRMED
    assert timezone.localtime(booking.start, HELSINKI) == world.at(10)
    assert booking.end - booking.start == dt.timedelta(hours=1)


def test_booking_a_taken_slot_shows_the_clashing_time(page, world):
    taken = services.booking_create(
        room=world.campus.classroom,
        booked_by=world.vocational_staff,
        title="Welding theory",
        start=world.at(10),
        end=world.at(11),
    ).first
    signed_in(page, world.lukio_staff, next_url="/bookings/new/")
    fill_booking_form(page, title="Physics 1", room=world.campus.classroom, day=world.day, start="10:30", end="11:30")
    page.get_by_role("button", name="Book", exact=True).click()
    page.wait_for_load_state()

    summary = page.get_by_role("alert")
    assert summary.is_visible()
    assert "Please check the following" in summary.inner_text()
    clashes = page.locator(".conflicts li")
    assert clashes.count() == 1
    clash = clashes.first.inner_text()
    assert f"{clock(taken.start)}–{clock(taken.end)}" in clash, clash
    assert "Reserved" in clash  # another institution's title is not shown to a lukio teacher
    assert not Booking.objects.filter(title="Physics 1").exists()
    check_a11y(page, "booking-form-conflict")


def test_a_weekly_series_is_checked_then_booked_and_lists_its_dates(page, world):
    signed_in(page, world.lukio_staff, next_url="/bookings/new/")
    fill_booking_form(page, title="Chemistry 1", room=world.campus.lab, day=world.day, start="12:00", end="13:00")
    page.get_by_label("Repeat", exact=True).select_option(label="Every week")
    page.get_by_role("radio", name="On a date").check()
    last = world.day + dt.timedelta(weeks=3)
    page.get_by_label("Last date").fill(last.isoformat())

    page.get_by_role("button", name="Check").click()
    page.wait_for_load_state()
    preview = page.locator("#booking-preview")
    assert "4 dates would be booked" in preview.inner_text()
    assert preview.locator(".occurrences li").count() == 4
    assert not Booking.objects.filter(title="Chemistry 1").exists()  # "Check" books nothing
    check_a11y(page, "booking-form-preview")

    page.get_by_role("button", name="Book", exact=True).click()
    page.wait_for_load_state()
    assert page.get_by_text("Booking confirmed for 4 dates.").is_visible()
    table = page.get_by_role("table")
    assert "4 dates in the series" in table.locator("caption").inner_text()
    assert table.locator("tbody tr").count() == 4
    starts = [timezone.localtime(b.start, HELSINKI) for b in Booking.objects.filter(title="Chemistry 1")]
    assert sorted(starts) == [world.at(12, days=7 * week) for week in range(4)]


def test_one_occurrence_is_cancelled_from_my_bookings(page, world):
    result = services.booking_create(
        room=world.campus.lab,
        booked_by=world.lukio_staff,
        title="Biology 3",
        start=world.at(14),
        end=world.at(15),
        rrule=WEEKLY,
    )
    first = result.bookings[0]
    signed_in(page, world.lukio_staff, next_url="/bookings/mine/")
    expect_heading(page, "My bookings", level=1)
    upcoming = page.get_by_role("region", name=re.compile("Upcoming"))
    upcoming.get_by_role("link", name=re.compile(r"^Cancel\b.*Biology 3")).first.click()
    page.wait_for_load_state()

    expect_heading(page, "Cancel booking", level=1)
    only_this = page.get_by_role("radio", name="Only this occurrence")
    only_this.check()
    page.get_by_role("button", name="Yes, cancel the booking").click()
    page.wait_for_load_state()

    assert page.get_by_text("The booking was cancelled.").is_visible()
    statuses = dict(Booking.objects.filter(series=first.series).values_list("pk", "status"))
    assert statuses.pop(first.pk) == BookingStatus.CANCELLED
    assert set(statuses.values()) == {BookingStatus.CONFIRMED}
    assert len(statuses) == 3


def test_a_facility_manager_approves_a_request_from_the_queue(new_page, world):
    BookingPolicy.objects.create(room=world.campus.classroom, other_access=Access.REQUEST)
    teacher = signed_in(new_page(), world.vocational_staff, next_url="/bookings/new/")
    fill_booking_form(
        teacher, title="Parents' evening", room=world.campus.classroom, day=world.day, start="17:00", end="18:00"
    )
    teacher.get_by_role("button", name="Book", exact=True).click()
    teacher.wait_for_load_state()
    assert teacher.get_by_text("Request sent, waiting for approval by a facility manager.").is_visible()
    request = Booking.objects.get(title="Parents' evening")
    assert request.status == BookingStatus.PENDING

    manager = signed_in(new_page(), world.fm_of_lukio, next_url="/manage/approvals/")
    card = manager.get_by_role("listitem").filter(has=manager.get_by_role("heading", name="Parents' evening"))
    assert card.count() == 1
    check_a11y(manager, "approvals-one-request")
    card.get_by_role("button", name=re.compile(r"^Approve")).click()
    manager.wait_for_load_state()
    assert manager.get_by_text("Approved: Parents' evening.").is_visible()
    assert manager.get_by_text("No requests are waiting for your decision.").is_visible()

    request.refresh_from_db()
    assert request.status == BookingStatus.CONFIRMED
    teacher.goto(f"/bookings/{request.pk}/")
    assert teacher.locator(".booking-status .badge").inner_text() == "Confirmed"


def test_switching_to_swedish_translates_the_page_and_its_language(page, world):
    signed_in(page, world.lukio_staff)
    assert page.locator("html").get_attribute("lang") == "en"
    page.get_by_role("form", name="Language").get_by_role("button", name="Svenska").click()
    page.wait_for_load_state()

    assert page.locator("html").get_attribute("lang") == "sv"
    expect_heading(page, "Välkommen till Kampus", level=1)
    languages = page.get_by_role("form", name="Språk")
    assert languages.get_by_role("button", name="Suomi").is_visible()
    assert languages.get_by_role("button", name="English").is_visible()
    assert languages.get_by_role("button", name="Svenska").count() == 0
    assert page.get_by_role("link", name="Hoppa till innehållet").count() == 1


def test_the_find_room_page_fits_a_phone(phone, world):
    signed_in(phone, world.lukio_staff, next_url="/rooms/find/")
    assert_no_horizontal_scroll(phone, "find-room form")
    search_free_rooms(phone, world)
    expect_heading(phone, re.compile(r"free rooms?"))
    assert_no_horizontal_scroll(phone, "find-room results")
    book = phone.get_by_role("button", name="Book A101 Classroom 101")
    book.scroll_into_view_if_needed()
    assert book.is_visible()
    box = book.bounding_box()
    assert box is not None
    assert box["x"] >= 0
    assert box["x"] + box["width"] <= 390
    assert box["height"] >= 24, "touch targets need some height"
    check_a11y(phone, "find-room-results-phone")


def test_the_main_pages_fit_a_phone(phone, world):
    series = services.booking_create(
        room=world.campus.lab,
        booked_by=world.lukio_staff,
        title="Chemistry 1",
        start=world.at(12),
        end=world.at(13),
        rrule=WEEKLY,
    )
    signed_in(phone, world.lukio_staff)
    for url in [
        "/",
        "/bookings/new/",
        "/bookings/mine/",
        f"/bookings/{series.first.pk}/",
        f"/bookings/{series.first.pk}/cancel/",
        f"/rooms/{world.campus.lab.pk}/?week={world.day.isoformat()}",
        "/accessibility/",
    ]:
        phone.goto(url)
        assert_no_horizontal_scroll(phone, url)


def test_the_keyboard_reaches_the_skip_link_first_and_it_moves_focus_to_the_content(page, world):
    page.goto("/")
    page.keyboard.press("Tab")
    focused = page.evaluate("() => [document.activeElement.textContent.trim(), document.activeElement.tagName]")
    assert focused == ["Skip to content", "A"]
    outline, shadow = page.evaluate(
        "() => { const css = getComputedStyle(document.activeElement); return [css.outlineStyle, css.boxShadow]; }"
    )
    assert (outline, shadow) != ("none", "none"), "the focused skip link shows no focus indicator"
    page.keyboard.press("Enter")
    assert page.evaluate("() => document.activeElement.id") == "main"


# --- helpers ---------------------------------------------------------------------------------------


def expect_heading(page, name, *, level: int | None = None) -> None:
    options = {"name": name} if level is None else {"name": name, "level": level}
    heading = page.get_by_role("heading", **options)
    heading.first.wait_for(state="visible")


def assert_no_horizontal_scroll(page, what: str) -> None:
    widths = page.evaluate("() => [document.scrollingElement.scrollWidth, window.innerWidth]")
    assert widths[0] <= widths[1], f"{what} scrolls sideways on a phone: {widths[0]}px wide in {widths[1]}px"
