"""API answers: every time in the campus zone with its offset; the request's language, pydantic's messages too."""

from __future__ import annotations

import datetime as dt
import zoneinfo

import pytest

from bookings.models import Booking, BookingStatus
from tests.bookings.conftest import at, book, today

from .conftest import API, post

HELSINKI = zoneinfo.ZoneInfo("Europe/Helsinki")


def assert_in_campus_zone(value: str) -> None:
    """Assert ``value`` is ISO 8601 with the offset Helsinki has at that instant (never Z or +00:00)."""
    moment = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    assert moment.utcoffset() == moment.astimezone(HELSINKI).utcoffset(), value


def test_every_time_of_a_booking_is_in_the_campus_zone(staff_api, joint_campus, day):
    created = post(
        staff_api,
        "/bookings",
        {
            "room": joint_campus.classroom.pk,
            "title": "Lesson",
            "start": at(day, 10).isoformat(),
            "end": at(day, 11).isoformat(),
        },
    ).json()

    booking = staff_api.get(f"{API}/bookings/{created['id']}").json()

    for name in ("start", "end", "created_at", "updated_at"):
        assert_in_campus_zone(booking[name])


def test_token_times_are_in_the_campus_zone(staff_api):
    tokens = staff_api.get(f"{API}/me/tokens").json()
    created = post(staff_api, "/me/tokens", {"name": "laptop"}).json()

    for name in ("created_at", "last_used_at"):
        assert_in_campus_zone(tokens[0][name])
    assert_in_campus_zone(created["created_at"])


def test_history_times_and_snapshots_are_in_the_campus_zone(staff_api, lukio_staff, joint_campus, day):
    booking = book(lukio_staff, joint_campus.classroom, at(day, 10), at(day, 11)).first

    events = staff_api.get(f"{API}/bookings/{booking.pk}/history").json()["items"]

    assert_in_campus_zone(events[0]["at"])
    assert_in_campus_zone(events[0]["after"]["start"])
    assert dt.datetime.fromisoformat(events[0]["after"]["start"]) == at(day, 10)


def test_closure_times_are_in_the_campus_zone(client_with_token, fm_of_lukio, joint_campus, day):
    api = client_with_token(fm_of_lukio)
    body = {"room": joint_campus.classroom.pk, "start": at(day, 8).isoformat(), "end": at(day, 9).isoformat()}

    created = post(api, "/closures", {**body, "reason": "Painting"}).json()
    listed = api.get(f"{API}/closures").json()["items"]

    for value in (created["closure"]["start"], listed[0]["start"], listed[0]["end"]):
        assert_in_campus_zone(value)


def test_a_rule_refusal_gives_its_allowed_time_in_the_campus_zone(staff_api, joint_campus):
    past = at(today() - dt.timedelta(days=1), 10)
    body = {"room": joint_campus.classroom.pk, "title": "Late", "start": past.isoformat()}

    response = post(staff_api, "/bookings", {**body, "end": (past + dt.timedelta(hours=1)).isoformat()})

    assert response.status_code == 422
    assert response.json()["rule"] == "earliest_start"
    assert_in_campus_zone(response.json()["allowed"])


def test_a_taken_slot_lists_its_conflicts_in_the_campus_zone(staff_api, lukio_staff, joint_campus, day):
    book(lukio_staff, joint_campus.classroom, at(day, 10), at(day, 11))
    body = {"room": joint_campus.classroom.pk, "title": "Clash", "start": at(day, 10).isoformat()}

    response = post(staff_api, "/bookings", {**body, "end": at(day, 11).isoformat()})

    assert response.status_code == 409
    assert_in_campus_zone(response.json()["conflicts"][0]["start"])
    assert_in_campus_zone(response.json()["conflicts"][0]["end"])


# --- times must be ISO 8601 ----------------------------------------------------------------------


@pytest.mark.parametrize("value", ["0.5", "1767225600", "1e9"])
def test_a_number_is_not_taken_for_a_time(staff_api, joint_campus, value):
    response = staff_api.get(f"{API}/bookings", {"to": value}, headers={"Accept-Language": "en"})

    assert response.status_code == 422
    assert response.json()["errors"] == [
        {"field": "to", "message": "Give the time in ISO 8601 with its UTC offset, e.g. 2026-03-10T10:00:00+02:00."}
    ]


def test_a_number_is_not_taken_for_a_time_in_a_body_either(staff_api, joint_campus):
    body = {"room": joint_campus.classroom.pk, "title": "Unix", "start": 1767225600, "end": 1767229200}

    response = post(staff_api, "/bookings", body)

    assert response.status_code == 422
    assert {error["field"] for error in response.json()["errors"]} == {"body.start", "body.end"}
    assert not Booking.objects.exists()


# --- pydantic's own messages ---------------------------------------------------------------------


def test_pydantic_messages_follow_the_requests_language(staff_api, joint_campus, day):
    body = {"room": joint_campus.classroom.pk, "title": "x" * 201, "start": "tomorrow", "attendees": 0}

    finnish = post(staff_api, "/bookings", body, **{"Accept-Language": "fi"}).json()
    swedish = post(staff_api, "/bookings", body, **{"Accept-Language": "sv"}).json()

    assert {e["field"]: e["message"] for e in finnish["errors"]} == {
        "body.title": "Anna enintään 200 merkkiä.",
        "body.start": "Anna aika ISO 8601 -muodossa UTC-poikkeamineen, esim. 2026-03-10T10:00:00+02:00.",
        "body.end": "Tämä kenttä on pakollinen.",
        "body.attendees": "Anna arvo, joka on vähintään 1.",
    }
    assert {e["field"]: e["message"] for e in swedish["errors"]}["body.end"] == "Det här fältet är obligatoriskt."


def test_pydantic_messages_of_a_query_are_translated_too(staff_api):
    response = staff_api.get(f"{API}/rooms", {"limit": "many"}, headers={"Accept-Language": "sv"})

    assert response.json()["errors"] == [{"field": "limit", "message": "Ange ett heltal."}]


def test_a_cancel_scope_error_is_translated(staff_api, lukio_staff, joint_campus, day):
    booking = book(lukio_staff, joint_campus.classroom, at(day, 10), at(day, 11)).first

    response = post(staff_api, f"/bookings/{booking.pk}/cancel", {"scope": 5}, **{"Accept-Language": "fi"})

    assert response.status_code == 422
    assert response.json()["errors"][0]["message"] == "Anna teksti."
    assert Booking.objects.get(pk=booking.pk).status == BookingStatus.CONFIRMED
