"""Memberships bound what people may do through the API: writes need one valid today, bookings stay inside it."""

from __future__ import annotations

import datetime as dt

import pytest

from bookings.models import Access, Booking, BookingPolicy, BookingStatus
from campus.models import Membership, Role
from tests.api.conftest import patch, post
from tests.bookings.conftest import TUESDAY, at, book, next_weekday_after, today
from tests.conftest import make_user

API = "/api/v1"


@pytest.fixture
def only_the_lukio_books_the_lab(joint_campus) -> None:
    BookingPolicy.objects.create(room=joint_campus.lab, owner_access=Access.DIRECT, other_access=Access.NONE)


def end_membership(user, on: dt.date) -> None:
    Membership.objects.filter(user=user).update(valid_until=on)


def test_an_ended_membership_cannot_move_or_stretch_its_bookings(
    client_with_token, joint_campus, lukio_staff, only_the_lukio_books_the_lab, day
):
    booking = book(lukio_staff, joint_campus.classroom, at(day, 10), at(day, 11)).first
    client = client_with_token(lukio_staff)
    end_membership(lukio_staff, today() - dt.timedelta(days=1))

    moved = patch(client, f"/bookings/{booking.pk}", {"room": joint_campus.lab.pk})
    stretched = patch(
        client, f"/bookings/{booking.pk}", {"start": at(day, 8).isoformat(), "end": at(day, 16).isoformat()}
    )

    assert moved.status_code == 403
    assert moved.json()["code"] == "membership_ended"
    assert (today() - dt.timedelta(days=1)).isoformat() in moved.json()["detail"]
    assert stretched.status_code == 403
    booking.refresh_from_db()
    assert (booking.room, booking.start, booking.end) == (joint_campus.classroom, at(day, 10), at(day, 11))


@pytest.mark.parametrize("action", ["cancel", "rename"])
def test_an_ended_membership_cannot_cancel_or_change_its_bookings(
    client_with_token, joint_campus, lukio_staff, day, action
):
    booking = book(lukio_staff, joint_campus.classroom, at(day, 10), at(day, 11)).first
    client = client_with_token(lukio_staff)
    end_membership(lukio_staff, today() - dt.timedelta(days=1))

    if action == "cancel":
        response = post(client, f"/bookings/{booking.pk}/cancel")
    else:
        response = patch(client, f"/bookings/{booking.pk}", {"title": "Renamed"})

    assert response.status_code == 403
    assert response.json()["code"] == "membership_ended"
    booking.refresh_from_db()
    assert (booking.status, booking.title) == (BookingStatus.CONFIRMED, "Lesson")


def test_an_ended_membership_cannot_book(client_with_token, joint_campus, lukio_staff, day):
    client = client_with_token(lukio_staff)
    end_membership(lukio_staff, today() - dt.timedelta(days=1))

    response = post(
        client,
        "/bookings",
        {
            "room": joint_campus.classroom.pk,
            "title": "Lesson",
            "start": at(day, 10).isoformat(),
            "end": at(day, 11).isoformat(),
        },
    )

    assert response.status_code == 403
    assert response.json()["code"] == "membership_ended"
    assert not Booking.objects.exists()


def test_an_ended_facility_manager_cannot_decide_requests(
    client_with_token, joint_campus, requests_for_classroom, fm_of_lukio, vocational_staff, day
):
    request = book(vocational_staff, joint_campus.classroom, at(day, 10), at(day, 11)).first
    client = client_with_token(fm_of_lukio)
    end_membership(fm_of_lukio, today() - dt.timedelta(days=1))

    response = post(client, f"/approvals/{request.pk}/approve")

    assert response.status_code == 403
    assert response.json()["code"] == "membership_ended"
    request.refresh_from_db()
    assert request.status == BookingStatus.PENDING


@pytest.fixture
def substitute(joint_campus):
    """A substitute teacher at the lukio whose membership ends in three weeks."""
    user = make_user("substitute")
    Membership.objects.create(
        user=user, institution=joint_campus.lukio, role=Role.STAFF, valid_until=today() + dt.timedelta(days=21)
    )
    return user


def test_a_substitute_cannot_book_past_the_end_of_their_membership(client_with_token, joint_campus, substitute):
    last_day = today() + dt.timedelta(days=21)
    after = next_weekday_after(last_day, TUESDAY)
    client = client_with_token(substitute)

    response = post(
        client,
        "/bookings",
        {
            "room": joint_campus.classroom.pk,
            "title": "Lesson",
            "start": at(after, 10).isoformat(),
            "end": at(after, 11).isoformat(),
        },
    )

    assert response.status_code == 422
    body = response.json()
    assert (body["code"], body["rule"], body["allowed"]) == ("membership_ends", "membership", last_day.isoformat())
    assert last_day.isoformat() in body["detail"]


def test_a_substitute_books_before_the_end_of_their_membership(client_with_token, joint_campus, substitute):
    before = next_weekday_after(today() + dt.timedelta(days=7), TUESDAY)
    client = client_with_token(substitute)

    response = post(
        client,
        "/bookings",
        {
            "room": joint_campus.classroom.pk,
            "title": "Lesson",
            "start": at(before, 10).isoformat(),
            "end": at(before, 11).isoformat(),
        },
    )

    assert response.status_code == 201, response.content


def test_a_substitutes_series_past_the_end_of_their_membership_is_refused_whole(
    client_with_token, joint_campus, substitute
):
    first = next_weekday_after(today() + dt.timedelta(days=2), TUESDAY)
    client = client_with_token(substitute)

    response = post(
        client,
        "/bookings",
        {
            "room": joint_campus.classroom.pk,
            "title": "Weekly",
            "start": at(first, 10).isoformat(),
            "end": at(first, 11).isoformat(),
            "rrule": "FREQ=WEEKLY;COUNT=6",
        },
    )

    assert response.status_code == 422
    assert response.json()["code"] == "membership_ends"
    assert not Booking.objects.exists()


def test_a_substitute_cannot_move_a_booking_past_the_end_of_their_membership(
    client_with_token, joint_campus, substitute
):
    before = next_weekday_after(today() + dt.timedelta(days=7), TUESDAY)
    booking = book(substitute, joint_campus.classroom, at(before, 10), at(before, 11)).first
    later = before + dt.timedelta(weeks=4)

    response = patch(
        client_with_token(substitute),
        f"/bookings/{booking.pk}",
        {"start": at(later, 10).isoformat(), "end": at(later, 11).isoformat()},
    )

    assert response.status_code == 422
    assert response.json()["code"] == "membership_ends"
