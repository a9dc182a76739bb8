"""Hardening of the API: personal details by who the viewer is, odd input answered 422, answers never cached."""

from __future__ import annotations

import datetime as dt

import pytest

from bookings.models import Booking, BookingStatus, Visibility
from tests.api.conftest import patch, post
from tests.bookings.conftest import at, book

API = "/api/v1"


@pytest.fixture
def hidden_lesson(joint_campus, lukio_staff, day) -> Booking:
    """A lukio lesson only the lukio sees the title of."""
    return book(
        lukio_staff,
        joint_campus.lab,
        at(day, 12),
        at(day, 13),
        title="Titration",
        visibility=Visibility.INSTITUTION,
        attendees=18,
    ).first


def field_errors(response) -> dict[str, str]:
    return {error["field"]: error["message"] for error in response.json()["errors"]}


# --- personal details --------------------------------------------------------------------------


def test_a_public_booking_shows_its_title_but_not_its_people_to_another_institution(
    client_with_token, vocational_staff, open_day
):
    client = client_with_token(vocational_staff)

    item = client.get(f"{API}/bookings/{open_day.pk}").json()
    [listed] = client.get(f"{API}/bookings").json()["items"]

    for body in (item, listed):
        assert (body["title"], body["description"], body["attendees"]) == ("Open day", "Everyone welcome", 40)
        assert body["purpose"] == "teaching"
        assert (body["booked_by"], body["on_behalf_of"], body["decision_reason"]) == (None, None, None)


@pytest.mark.parametrize("who", ["lukio_staff", "lukio_colleague", "campus_fm", "front_desk", "fm_of_lukio"])
def test_the_booker_the_institution_and_the_campus_services_see_the_people(request, client_with_token, open_day, who):
    body = client_with_token(request.getfixturevalue(who)).get(f"{API}/bookings/{open_day.pk}").json()

    assert body["booked_by"] == "Liisa Lehtonen"
    assert body["on_behalf_of"] == {
        "name": "Maija Meikäläinen",
        "contact": "maija@example.org",
        "organisation": "Parents' association",
    }
    assert body["decision_reason"] == "Approved for the parents' evening"


def test_the_facility_manager_of_the_rooms_owner_sees_the_people_of_another_institutions_booking(
    client_with_token, joint_campus, vocational_staff, fm_of_lukio, lukio_staff, day
):
    booking = book(
        vocational_staff,
        joint_campus.classroom,
        at(day, 14),
        at(day, 15),
        title="Welding theory",
        visibility=Visibility.CAMPUS,
        on_behalf_of_name="Guest lecturer",
    ).first

    manager = client_with_token(fm_of_lukio).get(f"{API}/bookings/{booking.pk}").json()
    teacher = client_with_token(lukio_staff).get(f"{API}/bookings/{booking.pk}").json()

    assert (manager["booked_by"], manager["on_behalf_of"]["name"]) == ("Ville Virtanen", "Guest lecturer")
    assert (teacher["title"], teacher["booked_by"], teacher["on_behalf_of"]) == ("Welding theory", None, None)


def test_a_hidden_booking_hides_its_purpose_and_attendees_too(client_with_token, vocational_staff, hidden_lesson):
    body = client_with_token(vocational_staff).get(f"{API}/bookings/{hidden_lesson.pk}").json()

    assert body["title"] is None
    assert (body["description"], body["purpose"], body["attendees"]) == (None, None, None)
    assert (body["booked_by"], body["on_behalf_of"], body["decision_reason"]) == (None, None, None)


def test_the_history_of_a_public_booking_is_not_for_other_institutions(
    client_with_token, vocational_staff, lukio_colleague, campus_fm, open_day
):
    stranger = client_with_token(vocational_staff).get(f"{API}/bookings/{open_day.pk}/history")
    colleague = client_with_token(lukio_colleague).get(f"{API}/bookings/{open_day.pk}/history")
    manager = client_with_token(campus_fm).get(f"{API}/bookings/{open_day.pk}/history")

    assert (stranger.status_code, stranger.json()["code"]) == (403, "permission_denied")
    assert (colleague.status_code, manager.status_code) == (200, 200)
    assert colleague.json()["items"][0]["action"] == "create"


# --- datetimes out of range or without an offset ---------------------------------------------------


def new_booking(room_id: int, day: dt.date, **changes) -> dict:
    body = {"room": room_id, "title": "Lesson", "start": at(day, 10).isoformat(), "end": at(day, 11).isoformat()}
    return {**body, **changes}


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"start": "0001-01-01T00:00:00+14:00"}, "body.start"),
        ({"end": "9999-12-31T23:59:59-14:00"}, "body.end"),
        ({"rrule": "FREQ=WEEKLY;COUNT=3", "exdates": ["0001-01-01"]}, "body.exdates.0"),
        ({"rrule": "FREQ=WEEKLY;COUNT=3", "exdates": ["9999-12-31T10:00:00-14:00"]}, "body.exdates.0"),
    ],
)
def test_a_booking_outside_the_years_kampus_knows_is_refused_with_a_field_error(
    staff_api, joint_campus, day, changes, field
):
    response = post(staff_api, "/bookings", new_booking(joint_campus.classroom.pk, day, **changes))

    assert (response.status_code, response.json()["code"]) == (422, "invalid")
    assert "1900" in field_errors(response)[field]
    assert not Booking.objects.exists()


@pytest.mark.parametrize("field", ["start", "end"])
def test_a_time_without_its_utc_offset_is_refused_with_a_field_error(
    client_with_token, lukio_staff, joint_campus, day, field
):
    client = client_with_token(lukio_staff)
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    changes = {field: at(day, 10 if field == "start" else 11).replace(tzinfo=None).isoformat()}

    response = post(client, "/bookings", new_booking(joint_campus.classroom.pk, day, **changes))

    assert response.status_code == 422
    assert "UTC offset" in field_errors(response)[f"body.{field}"]


@pytest.mark.parametrize(
    ("path", "field"),
    [
        ("/bookings?from=0001-01-01T00:00:00%2B05:00", "from"),
        ("/bookings?from=2030-01-01T00:00:00%2B02:00&to=9999-12-31T23:00:00-05:00", "to"),
        ("/rooms?free_from=0001-01-01T00:00:00%2B05:00&free_to=0001-01-02T00:00:00%2B05:00", "free_from"),
        ("/rooms?free_from=2030-01-01T10:00:00%2B02:00&free_to=9999-12-31T23:00:00-05:00", "free_to"),
    ],
)
def test_a_search_outside_the_years_kampus_knows_is_refused_with_a_field_error(staff_api, joint_campus, path, field):
    response = staff_api.get(f"{API}{path}")

    assert response.status_code == 422
    assert "1900" in field_errors(response)[field]


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("from=0001-01-01T00:00:00%2B05:00&to=0001-01-02T00:00:00%2B05:00", "from"),
        ("from=9999-12-30T00:00:00-05:00&to=9999-12-31T23:00:00-05:00", "from"),
        ("from=2030-01-01T00:00:00&to=2030-01-02T00:00:00", "from"),
    ],
)
def test_an_availability_query_outside_the_years_or_without_offsets_is_refused(staff_api, joint_campus, query, field):
    response = staff_api.get(f"{API}/rooms/{joint_campus.classroom.pk}/availability?{query}")

    assert response.status_code == 422
    assert field in field_errors(response)


def test_a_closure_outside_the_years_kampus_knows_is_refused(client_with_token, campus_fm, joint_campus):
    body = {
        "building": joint_campus.main_building.pk,
        "start": "0001-01-01T00:00:00+14:00",
        "end": "0001-01-02T00:00:00+14:00",
        "reason": "Renovation",
    }

    response = post(client_with_token(campus_fm), "/closures", body)

    assert response.status_code == 422
    assert "1900" in field_errors(response)["body.start"]


def test_a_move_outside_the_years_kampus_knows_is_refused(staff_api, hidden_lesson):
    body = {"start": "9999-12-31T10:00:00-14:00", "end": "9999-12-31T11:00:00-14:00"}

    response = patch(staff_api, f"/bookings/{hidden_lesson.pk}", body)

    assert response.status_code == 422
    assert {"body.start", "body.end"} <= set(field_errors(response))


# --- numbers out of range --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "field"),
    [
        ("/bookings?offset=100000000000000000000", "offset"),
        ("/rooms?offset=9223372036854775807", "offset"),
        ("/bookings?room=9223372036854775808", "room"),
        ("/bookings?building=9223372036854775808", "building"),
        ("/bookings?institution=-9223372036854775809", "institution"),
        ("/rooms?building=9223372036854775808", "building"),
    ],
)
def test_huge_numbers_in_queries_are_refused_with_a_field_error(staff_api, joint_campus, path, field):
    response = staff_api.get(f"{API}{path}")

    assert response.status_code == 422
    assert field in field_errors(response)


@pytest.mark.parametrize("field", ["room", "institution"])
def test_huge_ids_in_a_new_booking_are_refused_with_a_field_error(staff_api, joint_campus, day, field):
    body = new_booking(joint_campus.classroom.pk, day, **{field: 2**63})

    response = post(staff_api, "/bookings", body)

    assert response.status_code == 422
    assert f"body.{field}" in field_errors(response)


def test_a_handover_to_an_overlong_username_is_refused_with_a_field_error(staff_api, hidden_lesson):
    response = post(staff_api, f"/bookings/{hidden_lesson.pk}/handover", {"to_user": "x" * 151})

    assert response.status_code == 422
    assert "150" in field_errors(response)["body.to_user"]


# --- explicit nulls in a change ------------------------------------------------------------------------


@pytest.mark.parametrize("field", ["title", "description", "purpose", "visibility"])
def test_a_change_to_null_of_a_field_that_needs_a_value_is_refused(staff_api, hidden_lesson, field):
    response = patch(staff_api, f"/bookings/{hidden_lesson.pk}", {field: None})

    assert (response.status_code, response.json()["code"]) == (422, "invalid")
    assert f"body.{field}" in field_errors(response)
    hidden_lesson.refresh_from_db()
    assert (hidden_lesson.title, hidden_lesson.status) == ("Titration", BookingStatus.CONFIRMED)


def test_a_change_of_attendees_to_null_clears_them(staff_api, hidden_lesson):
    response = patch(staff_api, f"/bookings/{hidden_lesson.pk}", {"attendees": None})

    assert response.status_code == 200
    assert response.json()[0]["attendees"] is None
    hidden_lesson.refresh_from_db()
    assert hidden_lesson.attendees is None


# --- caching -------------------------------------------------------------------------------------------


def test_answers_to_a_token_are_not_kept_by_shared_caches(staff_api, joint_campus):
    response = staff_api.get(f"{API}/rooms")

    assert response.status_code == 200
    assert {"private", "no-store"} <= {part.strip() for part in response["Cache-Control"].split(",")}


@pytest.mark.parametrize("body", ["[1]", "123", "null", '"occurrence"', "[]"])
def test_a_body_that_is_not_a_json_object_changes_nothing(staff_api, lukio_staff, joint_campus, monday, body):
    from bookings.models import Booking, BookingStatus

    booking = book(lukio_staff, joint_campus.classroom, at(monday, 10), at(monday, 11)).first

    response = staff_api.post(f"/api/v1/bookings/{booking.pk}/cancel", body, content_type="application/json")

    assert response.status_code == 400
    assert response.json()["code"] == "bad_request"
    assert Booking.objects.get(pk=booking.pk).status == BookingStatus.CONFIRMED


def test_true_is_not_a_room_id(staff_api, joint_campus, monday):
    from bookings.models import Booking

    body = {"room": True, "title": "x", "start": at(monday, 10).isoformat(), "end": at(monday, 11).isoformat()}

    response = staff_api.post("/api/v1/bookings", body, content_type="application/json")

    assert response.status_code == 422
    assert response.json()["errors"][0]["field"].endswith("room")
    assert not Booking.objects.exists()
