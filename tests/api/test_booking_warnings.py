"""The API's create answer warns, in an additive `warnings` list, of your bookings elsewhere at the same time."""

from __future__ import annotations

from tests.bookings.conftest import at


def test_the_api_answers_created_with_a_warning(client_with_token, joint_campus, lukio_staff, day, physics):
    response = client_with_token(lukio_staff).post(
        "/api/v1/bookings",
        {
            "room": joint_campus.classroom.pk,
            "title": "Maths",
            "start": at(day, 10, 30).isoformat(),
            "end": at(day, 11, 30).isoformat(),
        },
        content_type="application/json",
        headers={"accept-language": "en"},
    )

    assert response.status_code == 201
    [warning] = response.json()["warnings"]
    assert warning["code"] == "you_are_booked_elsewhere"
    assert "already booked elsewhere" in warning["message"]
    [other] = warning["bookings"]
    assert other["id"] == physics.pk
    assert other["title"] == "Physics"
    assert other["room"]["label"] == "A201 Chemistry lab"


def test_the_api_answers_no_warnings_when_there_is_no_overlap(
    client_with_token, joint_campus, lukio_staff, day, physics
):
    response = client_with_token(lukio_staff).post(
        "/api/v1/bookings",
        {
            "room": joint_campus.classroom.pk,
            "title": "Maths",
            "start": at(day, 12).isoformat(),
            "end": at(day, 13).isoformat(),
        },
        content_type="application/json",
        headers={"accept-language": "en"},
    )
    assert response.status_code == 201
    assert response.json()["warnings"] == []
