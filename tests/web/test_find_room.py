"""Find a room: the search form, its checks, best-first results and the one-click booking."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from bookings import selectors, views_booking
from bookings.errors import BookingRuleBroken
from bookings.models import Access, Booking, BookingPolicy, BookingStatus, Purpose
from bookings.services import booking_dry_run
from campus.exceptions import PermissionDenied
from campus.models import Room, RoomKind
from tests.bookings.conftest import SUNDAY, at, book, next_weekday_after, today
from tests.web.conftest import client_for


def search(client: Client, day: dt.date, start: str = "10:00", **params) -> str:
    query = {"date": day.isoformat(), "start": start, "duration": "60", **params}
    response = client.get(reverse("bookings:find-room"), query)
    assert response.status_code == 200
    return response.content.decode()


def result_room_ids(html: str) -> list[int]:
    """Return the ids of the rooms offered, in page order (each result's Book button)."""
    return [int(pk) for pk in re.findall(r'<button type="submit" name="room" value="(\d+)"', html)]


def test_anonymous_visitors_are_sent_to_sign_in(client, joint_campus):
    response = client.get(reverse("bookings:find-room"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_staff_see_the_search_form_with_the_equipment_catalogue(joint_campus, lukio_staff):
    response = client_for(lukio_staff).get(reverse("bookings:find-room"))
    html = response.content.decode()
    assert response.status_code == 200
    assert 'name="date"' in html
    assert 'name="duration"' in html
    assert 'name="step_free"' in html
    assert 'value="projector"' in html
    assert 'value="sinks"' in html
    assert "free rooms" not in html


def test_rooms_are_ordered_best_first_smallest_then_fewest_extras_then_code(joint_campus, lukio_staff, tuesday):
    bare = Room.objects.create(
        building=joint_campus.main_building, code="A300", name="Small room", kind=RoomKind.CLASSROOM, capacity=20
    )
    html = search(client_for(lukio_staff), tuesday, people="10")
    campus = joint_campus
    # 20 seats without extras, 20 seats with sinks and projector, 30 seats, 200 seats.
    assert result_room_ids(html) == [bare.pk, campus.lab.pk, campus.classroom.pk, campus.shared_auditorium.pk]
    assert "4 free rooms" in html


def test_asked_for_equipment_is_not_an_extra(joint_campus, lukio_staff, tuesday):
    big = Room.objects.create(
        building=joint_campus.main_building, code="A102", name="Classroom 102", kind=RoomKind.CLASSROOM, capacity=20
    )
    big.equipment.add(joint_campus.projector)
    html = search(client_for(lukio_staff), tuesday, equipment="projector")
    # Both hold 20; the lab's sinks are an extra nobody asked for.
    assert result_room_ids(html)[:2] == [big.pk, joint_campus.lab.pk]


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"people": "25"}, {"classroom", "shared_auditorium"}),
        ({"equipment": "sinks"}, {"lab"}),
        ({"step_free": "on"}, {"classroom", "shared_auditorium"}),
        ({"people": "25", "step_free": "on", "equipment": "projector"}, {"classroom"}),
    ],
)
def test_people_equipment_and_step_free_filter_the_rooms(joint_campus, lukio_staff, tuesday, params, expected):
    html = search(client_for(lukio_staff), tuesday, **params)
    assert set(result_room_ids(html)) == {getattr(joint_campus, name).pk for name in expected}


def test_the_building_filters_the_rooms(joint_campus, lukio_staff, tuesday):
    workshop = Room.objects.create(
        building=joint_campus.workshop_building, code="B100", name="Metal workshop", kind=RoomKind.WORKSHOP, capacity=16
    )
    html = search(client_for(lukio_staff), tuesday, building=str(joint_campus.workshop_building.pk))
    assert result_room_ids(html) == [workshop.pk]


def test_a_busy_room_is_not_offered(joint_campus, lukio_staff, tuesday):
    book(lukio_staff, joint_campus.classroom, at(tuesday, 9, 30), at(tuesday, 10, 30))
    html = search(client_for(lukio_staff), tuesday, people="25")
    assert result_room_ids(html) == [joint_campus.shared_auditorium.pk]


def test_results_show_facts_and_accessibility_in_words(joint_campus, lukio_staff, tuesday):
    html = search(client_for(lukio_staff), tuesday, equipment="sinks")
    assert "A201 Chemistry lab" in html
    assert "Main building, floor 2" in html
    assert "20 people" in html
    assert "No step-free access" in html
    assert "No induction loop" in html
    assert 'name="title" value="Meeting"' in html
    assert "What is it for?" in html


def test_when_the_building_is_closed_no_room_is_free_and_other_times_are_suggested(joint_campus, lukio_staff):
    sunday = next_weekday_after(today(), SUNDAY)
    html = search(client_for(lukio_staff), sunday)
    assert result_room_ids(html) == []
    assert "No room is free at that time" in html
    monday = sunday + dt.timedelta(days=1)
    # The suggestions lead to the same search on the next open day.
    assert f"date={monday.isoformat()}" in html
    assert "free rooms" in html


def test_a_need_no_room_meets_says_so_instead_of_suggesting_times(joint_campus, lukio_staff, tuesday):
    html = search(client_for(lukio_staff), tuesday, people="500")
    assert "No room has everything you asked for, whatever the time" in html


def test_a_date_in_the_past_is_refused_with_a_linked_message(joint_campus, lukio_staff):
    yesterday = today() - dt.timedelta(days=1)
    html = search(client_for(lukio_staff), yesterday)
    assert "The date is in the past" in html
    assert 'href="#id_date"' in html
    assert 'aria-describedby="id_date_error"' in html
    assert result_room_ids(html) == []


def test_an_end_before_the_start_is_refused(joint_campus, lukio_staff, tuesday):
    html = search(client_for(lukio_staff), tuesday, start="10:00", end="09:00")
    assert "The end time must be after the start time." in html
    assert 'href="#id_end"' in html


def test_an_end_time_replaces_the_duration(joint_campus, lukio_staff, tuesday):
    book(lukio_staff, joint_campus.classroom, at(tuesday, 11, 30), at(tuesday, 12, 30))
    client = client_for(lukio_staff)
    assert joint_campus.classroom.pk in result_room_ids(search(client, tuesday, start="10:00", end="11:30"))
    assert joint_campus.classroom.pk not in result_room_ids(search(client, tuesday, start="10:00", end="12:00"))


def test_one_click_book_books_the_room_and_shows_the_booking(joint_campus, lukio_staff, tuesday):
    client = client_for(lukio_staff)
    response = client.post(
        reverse("bookings:new"),
        {
            "confirm": "1",
            "room": joint_campus.classroom.pk,
            "start": f"{tuesday.isoformat()}T10:00",
            "end": f"{tuesday.isoformat()}T11:00",
            "attendees": "12",
            "title": "Team meeting",
            "purpose": "meeting",
        },
    )
    booking = Booking.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("bookings:detail", args=[booking.pk])
    assert (booking.room, booking.title, booking.attendees) == (joint_campus.classroom, "Team meeting", 12)
    assert booking.start == at(tuesday, 10)
    assert booking.end == at(tuesday, 11)
    assert booking.status == BookingStatus.CONFIRMED
    assert booking.institution == joint_campus.lukio
    page = client.get(response["Location"]).content.decode()
    assert "Booking confirmed." in page


def test_a_refused_one_click_book_shows_the_booking_form_with_the_reason(joint_campus, lukio_staff, tuesday):
    book(lukio_staff, joint_campus.classroom, at(tuesday, 10), at(tuesday, 11), title="Taken meanwhile")
    response = client_for(lukio_staff).post(
        reverse("bookings:new"),
        {
            "confirm": "1",
            "room": joint_campus.classroom.pk,
            "start": f"{tuesday.isoformat()}T10:00",
            "end": f"{tuesday.isoformat()}T11:00",
            "title": "Team meeting",
            "purpose": "meeting",
        },
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert "bookings/booking_form.html" in [template.name for template in response.templates]
    assert "The room is already booked at that time." in html
    assert "Taken meanwhile" in html
    assert 'value="Team meeting"' in html
    assert Booking.objects.count() == 1


# --- what booking each room takes -------------------------------------------------------------------


def room_card(html: str, label: str) -> str:
    """Return the HTML of the result card whose heading starts with ``label``."""
    start = html.index(f"<h3>{label}")
    ends = [end for end in (html.find('<li class="card', start), html.find("</ol>", start)) if end != -1]
    return html[start : min(ends)]


def test_results_say_before_booking_which_rooms_take_a_request(
    joint_campus, lukio_staff, tuesday, requests_for_auditorium
):
    html = search(client_for(lukio_staff), tuesday)

    auditorium = room_card(html, "A001 Auditorium")
    assert "Request:</strong> a facility manager decides before the room is yours." in auditorium
    assert "Send a request" in auditorium
    classroom = room_card(html, "A101 Classroom 101")
    assert "Booked at once" in classroom
    assert "Request:" not in classroom


def test_the_campus_facility_manager_books_the_shared_room_at_once(
    joint_campus, campus_fm, tuesday, requests_for_auditorium
):
    auditorium = room_card(search(client_for(campus_fm), tuesday), "A001 Auditorium")
    assert "Booked at once" in auditorium


def test_a_room_one_may_not_book_says_so_offers_no_book_button_and_comes_last(joint_campus, vocational_staff, tuesday):
    BookingPolicy.objects.create(room=joint_campus.classroom, other_access=Access.NONE)
    html = search(client_for(vocational_staff), tuesday)

    assert "You may not book this room." in room_card(html, "A101 Classroom 101")
    assert joint_campus.classroom.pk not in result_room_ids(html)
    assert html.index("<h3>A101 Classroom 101") > html.index("<h3>A001 Auditorium")


@pytest.mark.parametrize("person", ["lukio_staff", "vocational_staff", "campus_fm", "fm_of_lukio", "front_desk"])
def test_the_access_shown_is_what_booking_then_does(request, joint_campus, tuesday, person):
    """The search's access per room agrees with the booking service for every kind of person."""
    user = request.getfixturevalue(person)
    BookingPolicy.objects.create(room=joint_campus.shared_auditorium, other_access=Access.REQUEST)
    BookingPolicy.objects.create(room=joint_campus.lab, other_access=Access.NONE)
    BookingPolicy.objects.create(room=joint_campus.classroom, owner_access=Access.REQUEST)
    rooms = [joint_campus.classroom, joint_campus.lab, joint_campus.shared_auditorium]
    shown = selectors.room_access_for(user=user, rooms=rooms)
    for room in rooms:
        try:
            result = booking_dry_run(
                booked_by=user, now=timezone.now(), room=room, title="x", start=at(tuesday, 10), end=at(tuesday, 11)
            )
        except (BookingRuleBroken, PermissionDenied):
            done = Access.NONE
        else:
            done = Access.REQUEST if result.first.status == BookingStatus.PENDING else Access.DIRECT
        assert shown[room.pk] == done, room.code


def test_the_access_of_many_rooms_costs_as_many_queries_as_of_one(django_assert_num_queries, joint_campus, lukio_staff):
    one = [joint_campus.classroom]
    many = [
        Room.objects.create(building=joint_campus.main_building, code=f"C{n}", name=f"Room {n}", capacity=10)
        for n in range(12)
    ]
    rooms = list(Room.objects.filter(pk__in=[r.pk for r in one]).select_related("building"))
    with django_assert_num_queries(2):
        selectors.room_access_for(user=lukio_staff, rooms=rooms)
    rooms = list(Room.objects.filter(pk__in=[r.pk for r in many]).select_related("building"))
    with django_assert_num_queries(2):
        selectors.room_access_for(user=lukio_staff, rooms=rooms)


# --- the one-click booking's purpose ---------------------------------------------------------------------


def test_the_one_click_booking_asks_for_the_purpose_instead_of_assuming_a_meeting(joint_campus, lukio_staff, tuesday):
    html = search(client_for(lukio_staff), tuesday)
    assert '<select id="quick-purpose" name="purpose" required' in html
    assert '<option value="" selected>' in html
    assert '<option value="exam">Exam</option>' in html


def test_a_one_click_booking_without_a_purpose_asks_for_it(joint_campus, lukio_staff, tuesday):
    response = client_for(lukio_staff).post(
        reverse("bookings:new"),
        {
            "confirm": "1",
            "room": joint_campus.classroom.pk,
            "start": f"{tuesday.isoformat()}T10:00",
            "end": f"{tuesday.isoformat()}T11:00",
            "title": "Team meeting",
        },
    )
    assert response.status_code == 200
    assert response.context["form"].errors["purpose"]
    assert not Booking.objects.exists()


def test_a_one_click_booking_keeps_the_chosen_purpose(joint_campus, lukio_staff, tuesday):
    client_for(lukio_staff).post(
        reverse("bookings:new"),
        {
            "confirm": "1",
            "room": joint_campus.classroom.pk,
            "start": f"{tuesday.isoformat()}T10:00",
            "end": f"{tuesday.isoformat()}T11:00",
            "title": "Maths exam",
            "purpose": "exam",
        },
    )
    assert Booking.objects.get().purpose == Purpose.EXAM


def test_many_free_rooms_are_shown_a_page_at_a_time_in_the_same_order(joint_campus, lukio_staff, tuesday, monkeypatch):
    client = client_for(lukio_staff)
    everything = result_room_ids(search(client, tuesday))
    assert len(everything) >= 3
    monkeypatch.setattr(views_booking, "FIND_ROOM_PAGE_SIZE", 2)
    pages, number = [], 1
    while True:
        html = search(client, tuesday, page=str(number))
        assert f"{len(everything)} free rooms" in html  # the heading counts every page
        pages.append(result_room_ids(html))
        assert ('rel="prev"' in html) == (number > 1)
        if 'rel="next"' not in html:
            break
        number += 1
    assert all(len(page) <= 2 for page in pages)
    assert [pk for page in pages for pk in page] == everything
    assert len(pages) == (len(everything) + 1) // 2
