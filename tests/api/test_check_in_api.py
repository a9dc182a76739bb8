"""POST /api/v1/bookings/{id}/check-in: answers the booking; 409 with a code when it cannot be checked in."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client
from django.utils import timezone

from bookings.models import Booking, BookingStatus
from tests.api.conftest import API
from tests.bookings.conftest import at, book

MINUTE = dt.timedelta(minutes=1)


def running(booking: Booking, *, started_minutes_ago: int = 5, length_minutes: int = 60) -> Booking:
    """Move ``booking`` (a row; the API reads no blocks here) so that it started that many minutes ago."""
    start = timezone.now().replace(microsecond=0) - started_minutes_ago * MINUTE
    Booking.objects.filter(pk=booking.pk).update(start=start, end=start + length_minutes * MINUTE)
    booking.refresh_from_db()
    return booking


@pytest.fixture
def lesson(physics) -> Booking:
    return running(physics)


def check_in(client: Client, booking_id: int):
    return client.post(f"{API}/bookings/{booking_id}/check-in")


def test_the_booker_checks_in_and_gets_the_booking_back(staff_api, lesson):
    before = timezone.now()

    response = check_in(staff_api, lesson.pk)

    assert response.status_code == 200
    body = response.json()
    assert (body["id"], body["status"]) == (lesson.pk, "confirmed")
    checked_in_at = dt.datetime.fromisoformat(body["checked_in_at"])
    assert before - dt.timedelta(seconds=1) <= checked_in_at <= timezone.now() + dt.timedelta(seconds=1)
    # The API gives times to the second.
    stored = Booking.objects.get(pk=lesson.pk).checked_in_at
    assert abs(stored - checked_in_at) < dt.timedelta(seconds=1)


def test_checking_in_again_answers_the_first_time(staff_api, lesson):
    first = check_in(staff_api, lesson.pk).json()["checked_in_at"]
    again = check_in(staff_api, lesson.pk)
    assert again.status_code == 200
    assert again.json()["checked_in_at"] == first


def test_the_rooms_facility_manager_may_check_in_another_teachers_booking(client_with_token, fm_of_lukio, lesson):
    assert check_in(client_with_token(fm_of_lukio), lesson.pk).status_code == 200


def test_someone_else_is_refused_with_403(client_with_token, vocational_staff, lesson):
    response = check_in(client_with_token(vocational_staff), lesson.pk)
    assert response.status_code == 403
    assert response.json()["code"] == "permission_denied"
    assert Booking.objects.get(pk=lesson.pk).checked_in_at is None


def test_without_a_token_401_and_a_missing_booking_404(staff_api, lesson):
    assert Client().post(f"{API}/bookings/{lesson.pk}/check-in").status_code == 401
    missing = check_in(staff_api, 987654)
    assert (missing.status_code, missing.json()["code"]) == (404, "not_found")


def test_too_early_is_409_too_early(staff_api, physics):
    start = timezone.now() + 30 * MINUTE
    Booking.objects.filter(pk=physics.pk).update(start=start, end=start + 60 * MINUTE)

    response = check_in(staff_api, physics.pk)

    assert response.status_code == 409
    assert response.json()["code"] == "too_early"


def test_an_ended_booking_is_409_already_ended(staff_api, physics):
    running(physics, started_minutes_ago=90, length_minutes=60)
    response = check_in(staff_api, physics.pk)
    assert (response.status_code, response.json()["code"]) == (409, "already_ended")


def test_a_released_booking_is_409_released(staff_api, lesson):
    Booking.objects.filter(pk=lesson.pk).update(status=BookingStatus.RELEASED, released_at=timezone.now())
    response = check_in(staff_api, lesson.pk)
    assert (response.status_code, response.json()["code"]) == (409, "released")


def test_a_pending_request_is_409_not_confirmed(
    client_with_token, joint_campus, vocational_staff, requests_for_classroom, day
):
    request = running(book(vocational_staff, joint_campus.classroom, at(day, 14), at(day, 15)).first)
    assert request.status == BookingStatus.PENDING

    response = check_in(client_with_token(vocational_staff), request.pk)

    assert (response.status_code, response.json()["code"]) == (409, "not_confirmed")


def test_room_rules_show_the_check_in_policy_and_the_no_show_minutes(staff_api, joint_campus):
    rules = staff_api.get(f"{API}/rooms/{joint_campus.classroom.pk}/rules").json()
    assert (rules["check_in"], rules["no_show_minutes"]) == ("sensor", 15)
