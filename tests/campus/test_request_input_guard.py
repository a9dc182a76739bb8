"""Input no database can hold (NUL characters) and unreadable form bodies are refused, never a 500."""

from __future__ import annotations

import json

import pytest
from django.test import Client

from bookings.models import Booking, BookingStatus
from tests.api.conftest import post
from tests.bookings.conftest import at, book

API = "/api/v1"
NUL_MESSAGE = "Text may not contain NUL characters"


@pytest.fixture
def lesson(joint_campus, lukio_staff, day) -> Booking:
    return book(lukio_staff, joint_campus.classroom, at(day, 10), at(day, 11), title="Lesson").first


@pytest.fixture
def api(client_with_token, lukio_staff) -> Client:
    client = client_with_token(lukio_staff, **{"Accept-Language": "en"})
    client.raise_request_exception = False
    return client


@pytest.fixture
def fm_api(client_with_token, fm_of_lukio) -> Client:
    client = client_with_token(fm_of_lukio, **{"Accept-Language": "en"})
    client.raise_request_exception = False
    return client


@pytest.fixture
def browser(lukio_staff) -> Client:
    client = Client(headers={"Accept-Language": "en"})
    client.raise_request_exception = False
    client.force_login(lukio_staff)
    return client


def assert_refused_field(response, field: str) -> None:
    assert response.status_code == 422, response.content
    body = response.json()
    assert body["code"] == "invalid"
    assert NUL_MESSAGE in body["detail"]
    assert body["errors"] == [{"field": field, "message": body["detail"]}]


# --- the API ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "field"),
    [("equipment=%00", "equipment"), ("equipment=projector&equipment=a%00b", "equipment"), ("%00=1", "\\x00")],
)
def test_a_nul_in_a_query_filter_is_refused_with_the_field_named(on_postgres, api, joint_campus, query, field):
    assert_refused_field(api.get(f"{API}/rooms?{query}"), field)


def test_a_nul_in_a_booking_title_is_refused(on_postgres, api, joint_campus, day):
    body = {
        "room": joint_campus.classroom.pk,
        "title": "Lesson\x00",
        "start": at(day, 12).isoformat(),
        "end": at(day, 13).isoformat(),
    }

    assert_refused_field(post(api, "/bookings", body), "body.title")
    assert not Booking.objects.exists()


def test_a_nul_in_a_nested_field_is_refused_with_its_path(on_postgres, api, joint_campus, day):
    body = {
        "room": joint_campus.classroom.pk,
        "title": "Lesson",
        "start": at(day, 12).isoformat(),
        "end": at(day, 13).isoformat(),
        "on_behalf_of": {"name": "Maija\x00"},
    }

    assert_refused_field(post(api, "/bookings", body), "body.on_behalf_of.name")


def test_a_nul_in_a_changed_title_is_refused(on_postgres, api, lesson):
    response = api.patch(f"{API}/bookings/{lesson.pk}", json.dumps({"title": "\x00"}), content_type="application/json")

    assert_refused_field(response, "body.title")


def test_a_nul_in_a_token_name_is_refused(on_postgres, api):
    assert_refused_field(post(api, "/me/tokens", {"name": "laptop\x00"}), "body.name")


def test_a_nul_in_a_handover_username_is_refused(on_postgres, api, lesson):
    assert_refused_field(post(api, f"/bookings/{lesson.pk}/handover", {"to_user": "\x00"}), "body.to_user")


def test_a_nul_in_a_rejection_reason_is_refused(on_postgres, fm_api, lesson):
    Booking.objects.filter(pk=lesson.pk).update(status=BookingStatus.PENDING)
    response = post(fm_api, f"/approvals/{lesson.pk}/reject", {"reason": "no\x00"})

    assert_refused_field(response, "body.reason")
    assert Booking.objects.get(pk=lesson.pk).status == BookingStatus.PENDING


def test_a_nul_in_a_closure_reason_is_refused(on_postgres, fm_api, joint_campus, day):
    body = {"room": joint_campus.classroom.pk, "start": at(day, 8).isoformat(), "end": at(day, 9).isoformat()}

    assert_refused_field(post(fm_api, "/closures", {**body, "reason": "\x00"}), "body.reason")


def test_a_nul_in_a_form_body_to_the_api_is_refused(on_postgres, api, lesson):
    response = api.post(f"{API}/bookings/{lesson.pk}/cancel", {"scope": "occurrence\x00"})

    assert_refused_field(response, "scope")
    assert Booking.objects.get(pk=lesson.pk).status == BookingStatus.CONFIRMED


def test_a_multipart_body_without_a_boundary_to_the_api_is_refused(on_postgres, api, lesson):
    response = api.post(f"{API}/bookings/{lesson.pk}/cancel", b"scope=series", content_type="multipart/form-data")

    assert response.status_code == 400
    assert response.json()["code"] == "bad_request"
    assert "could not be read" in response.json()["detail"]
    assert Booking.objects.get(pk=lesson.pk).status == BookingStatus.CONFIRMED


def test_a_nul_in_the_session_cookie_is_refused(on_postgres, joint_campus):
    client = Client(headers={"Accept-Language": "en"})
    client.raise_request_exception = False
    # A quoted cookie's octal escapes decode to NUL characters.
    response = client.get("/", headers={"Cookie": 'sessionid="' + "\\000" * 32 + '"'})

    assert response.status_code == 400
    assert NUL_MESSAGE in response.text


def test_the_refusal_speaks_the_requests_language(on_postgres, api, joint_campus):
    response = api.get(f"{API}/rooms?equipment=%00", headers={"Accept-Language": "fi"})

    assert response.status_code == 422
    assert "NUL" in response.json()["detail"]
    assert NUL_MESSAGE not in response.json()["detail"]


# --- the pages -------------------------------------------------------------------------------


def test_a_nul_in_a_page_filter_is_answered_with_an_error_page(on_postgres, browser, day):
    response = browser.get(f"/rooms/find/?date={day.isoformat()}&start=10:00&duration=60&equipment=%00")

    assert response.status_code == 400
    assert NUL_MESSAGE in response.text
    assert 'class="brand"' in response.text  # the site's page, not a bare text


def test_a_nul_in_a_page_form_field_is_refused(on_postgres, browser, lesson):
    response = browser.post(f"/bookings/{lesson.pk}/cancel/", {"reason": "ill\x00"})

    assert response.status_code == 400
    assert NUL_MESSAGE in response.text
    assert Booking.objects.get(pk=lesson.pk).status == BookingStatus.CONFIRMED


def test_a_multipart_page_post_without_a_boundary_gets_an_error_page(on_postgres, browser, lesson):
    response = browser.post(f"/bookings/{lesson.pk}/cancel/", b"reason=x", content_type="multipart/form-data")

    assert response.status_code == 400
    assert "could not be read" in response.text
    assert 'class="brand"' in response.text
    assert Booking.objects.get(pk=lesson.pk).status == BookingStatus.CONFIRMED
