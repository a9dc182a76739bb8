"""A room's page (facts, rules, week calendar) and its printable door sign."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from django.contrib.staticfiles import finders
from django.test import Client
from django.urls import reverse
from django.utils import formats

from bookings.models import Access, BookingPolicy, Visibility
from campus.models import Holiday, Room, RoomKind
from tests.bookings.conftest import HELSINKI, at, book, today
from tests.web.conftest import client_for


def room_page(client: Client, room, day: dt.date, name: str = "bookings:room-detail") -> str:
    response = client.get(reverse(name, args=[room.pk]), {"week": day.isoformat()})
    assert response.status_code == 200
    return response.content.decode()


@pytest.mark.parametrize("name", ["bookings:room-detail", "bookings:room-print"])
def test_anonymous_visitors_are_sent_to_sign_in(client, joint_campus, name):
    response = client.get(reverse(name, args=[joint_campus.classroom.pk]))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


@pytest.mark.parametrize("name", ["bookings:room-detail", "bookings:room-print"])
def test_a_missing_room_is_not_found(joint_campus, lukio_staff, name):
    assert client_for(lukio_staff).get(reverse(name, args=[999999])).status_code == 404


def test_the_room_page_shows_facts_accessibility_and_rules_in_words(joint_campus, vocational_staff):
    BookingPolicy.objects.create(room=joint_campus.classroom, max_duration_minutes=90, other_access=Access.REQUEST)
    response = client_for(vocational_staff).get(reverse("bookings:room-detail", args=[joint_campus.classroom.pk]))
    html = response.content.decode()
    assert response.status_code == 200
    for fact in (
        "A101 Classroom 101",
        "A Main building",
        "Classroom",
        "30 people",
        "Projector",
        "Otava Upper Secondary",
    ):
        assert fact in html
    assert "<dt>Step-free access</dt><dd>Yes</dd>" in html
    assert "<dt>Induction loop</dt><dd>No</dd>" in html
    assert "at most 1 h 30 min" in html
    assert "Staff of other institutions: send a request that a facility manager approves" in html
    assert reverse("bookings:room-print", args=[joint_campus.classroom.pk]) in html


def test_a_shared_room_says_who_runs_it(joint_campus, lukio_staff):
    html = room_page(client_for(lukio_staff), joint_campus.shared_auditorium, today())
    assert "Shared: run by the campus's facility services" in html


def test_the_week_runs_monday_to_sunday_with_opening_hours_and_closed_days(joint_campus, lukio_staff, tuesday):
    Holiday.objects.create(campus=joint_campus.campus, date=tuesday + dt.timedelta(days=2), name="Founders' day")
    html = room_page(client_for(lukio_staff), joint_campus.classroom, tuesday)
    monday = tuesday - dt.timedelta(days=1)
    assert html.count('<li class="day') == 7
    assert f'id="day-{monday.isoformat()}"' in html
    assert f'id="day-{(monday + dt.timedelta(days=6)).isoformat()}"' in html
    opens, closes = formats.time_format(dt.time(7)), formats.time_format(dt.time(21))
    assert f"Open {opens}–{closes}" in html
    assert "Closed (holiday: Founders&#x27; day)" in html
    assert "Closed (closed on this weekday)" in html  # Sunday
    previous = (monday - dt.timedelta(days=7)).isoformat()
    following = (monday + dt.timedelta(days=7)).isoformat()
    assert f"?week={previous}" in html
    assert f"?week={following}" in html


def test_busy_slots_show_titles_to_the_own_institution_and_reserved_to_others(
    joint_campus, lukio_staff, vocational_staff, tuesday
):
    booking = book(
        lukio_staff, joint_campus.classroom, at(tuesday, 10), at(tuesday, 11, 30), title="Maths 2B retake"
    ).first
    own = room_page(client_for(lukio_staff), joint_campus.classroom, tuesday)
    other = room_page(client_for(vocational_staff), joint_campus.classroom, tuesday)
    time = f"{formats.time_format(dt.time(10))}–{formats.time_format(dt.time(11, 30))}"
    for html in (own, other):
        assert time in html
        assert "Busy" in html
        assert reverse("bookings:detail", args=[booking.pk]) in html
    assert "Maths 2B retake" in own
    assert "Maths 2B retake" not in other
    assert "Reserved" in other


def test_free_gaps_are_written_as_free_with_a_link_to_book_them(joint_campus, lukio_staff, tuesday):
    book(lukio_staff, joint_campus.classroom, at(tuesday, 10), at(tuesday, 11))
    html = room_page(client_for(lukio_staff), joint_campus.classroom, tuesday)
    assert "Free" in html
    after = f"start={tuesday.isoformat()}T11%3A00&amp;end={tuesday.isoformat()}T12%3A00"
    assert f"{reverse('bookings:new')}?room={joint_campus.classroom.pk}&amp;{after}" in html
    assert "Book here" in html


def test_a_week_in_the_past_offers_nothing_to_book(joint_campus, lukio_staff):
    html = room_page(client_for(lukio_staff), joint_campus.classroom, today() - dt.timedelta(days=14))
    assert "Book here" not in html


def test_a_booked_section_makes_the_whole_room_busy(joint_campus, lukio_staff, tuesday):
    building = joint_campus.main_building
    section = Room.objects.create(building=building, code="GYM-1", name="Gym section 1", kind=RoomKind.GYM, capacity=30)
    whole = Room.objects.create(building=building, code="GYM", name="Gym", kind=RoomKind.GYM, capacity=90)
    whole.sections.set([section])
    book(lukio_staff, section, at(tuesday, 10), at(tuesday, 11), title="Floorball")
    html = room_page(client_for(lukio_staff), whole, tuesday)
    assert "Floorball" in html
    assert "(Gym section 1)" in html


def test_the_door_sign_shows_only_public_titles(joint_campus, lukio_staff, tuesday):
    book(
        lukio_staff,
        joint_campus.classroom,
        at(tuesday, 8),
        at(tuesday, 9),
        title="Open day",
        visibility=Visibility.PUBLIC,
    )
    book(
        lukio_staff,
        joint_campus.classroom,
        at(tuesday, 10),
        at(tuesday, 11),
        title="Staff meeting",
        visibility=Visibility.CAMPUS,
    )
    book(lukio_staff, joint_campus.classroom, at(tuesday, 12), at(tuesday, 13), title="Maths 2B")
    html = room_page(client_for(lukio_staff), joint_campus.classroom, tuesday, name="bookings:room-print")
    assert "Open day" in html
    assert "Staff meeting" not in html
    assert "Maths 2B" not in html
    assert html.count("Reserved") == 2
    assert '<span class="door-code">A101</span>' in html
    assert "Free all day" in html
    # The print button works without JavaScript by saying how to print, and is not printed itself.
    assert 'class="no-print print-help"' in html
    assert "use your browser's Print command" in html
    assert "data-print hidden" in html


def test_print_styles_are_for_a4_without_navigation():
    css = Path(finders.find("kampus/booking.css")).read_text(encoding="utf-8")
    print_rules = css[css.index("@media print") :]
    assert "size: A4" in print_rules
    assert ".site-header" in print_rules
    assert ".no-print" in print_rules


def test_the_week_defaults_to_this_week_and_ignores_a_bad_week(joint_campus, lukio_staff):
    client = client_for(lukio_staff)
    this_monday = today() - dt.timedelta(days=today().weekday())
    for query in ({}, {"week": "not-a-date"}):
        html = client.get(reverse("bookings:room-detail", args=[joint_campus.classroom.pk]), query).content.decode()
        assert f'id="day-{this_monday.isoformat()}"' in html
        assert "Today" in html


def test_times_are_shown_in_the_campus_zone(joint_campus, lukio_staff, tuesday):
    start = dt.datetime.combine(tuesday, dt.time(14), tzinfo=HELSINKI)
    book(lukio_staff, joint_campus.classroom, start, start + dt.timedelta(hours=1))
    html = room_page(client_for(lukio_staff), joint_campus.classroom, tuesday)
    assert f"{formats.time_format(dt.time(14))}–{formats.time_format(dt.time(15))}" in html


def test_the_room_week_shows_a_closure_with_its_reason_and_no_free_time_then(
    joint_campus, lukio_staff, campus_fm, tuesday
):
    from bookings.services import closure_create

    closure_create(
        actor=campus_fm, room=joint_campus.classroom, start=at(tuesday, 10), end=at(tuesday, 12), reason="Exams"
    )
    page = client_for(lukio_staff).get(
        reverse("bookings:room-detail", args=[joint_campus.classroom.pk]), {"week": tuesday.isoformat()}
    )
    html = page.content.decode()
    assert "Closed" in html
    assert "Exams" in html


def test_the_book_link_of_a_gap_that_has_begun_is_named_by_where_it_books(joint_campus, lukio_staff, tuesday):
    from bookings.views_booking import week_schedule
    from bookings.visibility import viewer_for

    monday = tuesday - dt.timedelta(days=tuesday.weekday())
    days = week_schedule(joint_campus.classroom, monday, viewer=viewer_for(lukio_staff), now=at(tuesday, 15, 37))

    free = next(slot for day in days if day.date == tuesday for slot in day.slots if slot.kind == "free")
    assert free.start.astimezone(HELSINKI).hour == 7  # the gap began in the morning…
    assert free.book_from == at(tuesday, 15, 45)  # …but its link books from the next quarter hour
    assert "start=" + tuesday.isoformat() + "T15%3A45" in free.book_url
