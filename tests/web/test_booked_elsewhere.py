"""A person who books two rooms at the same time is warned (never refused): on Check, after booking, in the API."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse

from bookings import selectors
from bookings.models import Booking, BookingStatus
from bookings.services import booking_cancel
from tests.bookings.conftest import at, book
from tests.web.conftest import client_for

pytestmark = pytest.mark.usefixtures("always_open")


def form_data(joint_campus, day: dt.date, **changes) -> dict[str, str]:
    data = {
        "title": "Maths",
        "room": str(joint_campus.classroom.pk),
        "date": day.isoformat(),
        "start_time": "10:30",
        "end_time": "11:30",
        "repeat": "none",
        "purpose": "teaching",
        "visibility": "institution",
    }
    data.update(changes)
    return data


# --- the lookup ----------------------------------------------------------------------------------------


def test_the_lookup_finds_ones_own_active_bookings_that_overlap_in_one_query(
    django_assert_num_queries, joint_campus, lukio_staff, vocational_staff, day, physics
):
    book(lukio_staff, joint_campus.lab, at(day, 11), at(day, 12), title="Adjacent")
    cancelled = book(lukio_staff, joint_campus.shared_auditorium, at(day, 10), at(day, 11), title="Dropped").first
    booking_cancel(booking=cancelled, actor=lukio_staff)
    book(vocational_staff, joint_campus.shared_auditorium, at(day, 10), at(day, 11), title="Someone else's")
    intervals = [
        (at(day, 10, 30), at(day, 11)),
        (at(day + dt.timedelta(days=7), 10), at(day + dt.timedelta(days=7), 11)),
    ]

    with django_assert_num_queries(1):
        found = selectors.own_bookings_overlapping(user=lukio_staff, intervals=intervals)

    assert [b.title for b in found] == ["Physics"]


def test_the_lookup_leaves_out_the_bookings_being_made(joint_campus, lukio_staff, day, physics):
    assert (
        selectors.own_bookings_overlapping(
            user=lukio_staff, intervals=[(at(day, 10), at(day, 11))], exclude_ids=[physics.pk]
        )
        == []
    )


# --- the booking page ----------------------------------------------------------------------------------


def test_check_warns_of_a_booking_elsewhere_at_the_same_time(joint_campus, lukio_staff, day, physics):
    response = client_for(lukio_staff).post(
        reverse("bookings:new"), {**form_data(joint_campus, day), "action": "check"}
    )

    html = response.content.decode()
    assert "Check: this can be booked" in html
    assert "You are already booked elsewhere at the same time" in html
    assert "Physics" in html
    assert "A201 Chemistry lab" in html
    assert not Booking.objects.filter(title="Maths").exists()


def test_the_live_preview_warns_too(joint_campus, lukio_staff, day, physics):
    html = client_for(lukio_staff).post(reverse("bookings:preview"), form_data(joint_campus, day)).content.decode()
    assert "You are already booked elsewhere at the same time" in html


def test_booking_anyway_books_and_then_warns(joint_campus, lukio_staff, day, physics):
    client = client_for(lukio_staff)
    response = client.post(reverse("bookings:new"), {**form_data(joint_campus, day), "action": "book"}, follow=True)

    assert Booking.objects.get(title="Maths").status == BookingStatus.CONFIRMED
    html = response.content.decode()
    assert "Booking confirmed." in html
    assert "You are already booked elsewhere at the same time: Physics, A201 Chemistry lab" in html


def test_no_warning_without_an_overlap(joint_campus, lukio_staff, day, physics):
    data = form_data(joint_campus, day, start_time="11:00", end_time="12:00")
    html = client_for(lukio_staff).post(reverse("bookings:new"), {**data, "action": "check"}).content.decode()
    assert "Check: this can be booked" in html
    assert "booked elsewhere" not in html


def test_booking_for_someone_else_warns_of_nothing(joint_campus, front_desk, day):
    book(front_desk, joint_campus.lab, at(day, 10), at(day, 11), title="Own errand")
    data = form_data(joint_campus, day, on_behalf_of_name="Visiting lecturer", institution="campus")
    html = client_for(front_desk).post(reverse("bookings:new"), {**data, "action": "check"}).content.decode()
    assert "Check: this can be booked" in html
    assert "booked elsewhere" not in html
