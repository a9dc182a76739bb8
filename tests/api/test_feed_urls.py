"""The API's feed URLs: GET /rooms/{id} and GET /me carry absolute addresses that work with no other credential."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from django.test import Client
from icalendar import Calendar

from tests.api.conftest import API
from tests.bookings.conftest import TUESDAY, at, book, next_weekday_after, today
from tests.conftest import make_user


def path_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.path}?{parts.query}" if parts.query else parts.path


def summaries(body: bytes) -> list[str]:
    return sorted(str(event["SUMMARY"]) for event in Calendar.from_ical(body).walk("VEVENT"))


@pytest.fixture
def lesson(joint_campus, lukio_staff):
    tuesday = next_weekday_after(today(), TUESDAY)
    return book(lukio_staff, joint_campus.classroom, at(tuesday, 10), at(tuesday, 11), title="Physics").first


@pytest.fixture
def anonymous() -> Client:
    """A calendar client: no cookie, no header but the address."""
    return Client()


def test_the_api_room_detail_carries_a_feed_url_for_the_requesting_user(
    anonymous, staff_api, joint_campus, lukio_staff, vocational_staff, lesson
):
    body = staff_api.get(f"{API}/rooms/{joint_campus.classroom.pk}").json()

    assert body["ical_url"].startswith("http://testserver/calendar/feeds/room/")
    assert body["public_ical_url"] is None
    response = anonymous.get(path_of(body["ical_url"]))
    assert response.status_code == 200
    assert summaries(response.content) == ["Physics"]


def test_the_api_public_feed_url_of_a_public_room(anonymous, staff_api, joint_campus, lesson):
    joint_campus.classroom.public_feed = True
    joint_campus.classroom.save()

    body = staff_api.get(f"{API}/rooms/{joint_campus.classroom.pk}").json()

    assert body["public_ical_url"] == f"http://testserver/calendar/rooms/{joint_campus.classroom.pk}/public.ics"
    assert anonymous.get(path_of(body["public_ical_url"])).status_code == 200


def test_the_api_me_carries_my_own_feed_url(anonymous, staff_api, lukio_staff, lesson):
    body = staff_api.get(f"{API}/me").json()

    response = anonymous.get(path_of(body["ical_url"]))
    assert response.status_code == 200
    assert summaries(response.content) == ["Physics"]


def test_another_person_s_token_gives_their_own_feed_url(anonymous, client_with_token, joint_campus, lesson):
    outsider = make_user("outsider")

    api = client_with_token(outsider)
    body = api.get(f"{API}/rooms/{joint_campus.classroom.pk}", headers={"accept-language": "en"}).json()

    assert f"/room/{joint_campus.classroom.pk}/{outsider.pk}-" in body["ical_url"]
    assert summaries(anonymous.get(path_of(body["ical_url"])).content) == ["Reserved"]
