"""Lists answer {items, count, next} and take limit/offset within bounds."""

from urllib.parse import parse_qs, urlsplit

import pytest
from django.conf import settings

from api.pagination import DEFAULT_LIMIT, MAX_LIMIT
from campus.models import Room

from .conftest import API


@pytest.fixture
def many_rooms(joint_campus) -> None:
    for n in range(7):
        Room.objects.create(building=joint_campus.workshop_building, code=f"B{n:02}", name=f"Room {n}", capacity=10)


def test_a_page_has_items_count_and_an_absolute_next_link_keeping_the_filters(staff_api, joint_campus, many_rooms):
    body = staff_api.get(f"{API}/rooms", {"building": joint_campus.workshop_building.pk, "limit": 3}).json()

    assert body["count"] == 7
    assert [r["code"] for r in body["items"]] == ["B00", "B01", "B02"]
    url = urlsplit(body["next"])
    assert (url.scheme, url.netloc, url.path) == ("http", "testserver", f"{API}/rooms")
    assert parse_qs(url.query) == {
        "building": [str(joint_campus.workshop_building.pk)],
        "limit": ["3"],
        "offset": ["3"],
    }


def test_following_next_walks_every_item_and_the_last_page_has_no_next(staff_api, many_rooms):
    seen, url, pages = [], f"{API}/rooms?limit=4", 0
    while url:
        body = staff_api.get(url).json()
        seen += [r["code"] for r in body["items"]]
        url, pages = body["next"], pages + 1

    assert pages == 3  # 10 rooms, 4 a page
    assert len(seen) == len(set(seen)) == 10


def test_next_keeps_repeated_parameters(staff_api, joint_campus):
    body = staff_api.get(f"{API}/rooms?equipment=projector&equipment=sinks&limit=1&offset=0").json()
    assert body["next"] is None  # only the lab has both

    body = staff_api.get(f"{API}/rooms?equipment=projector&limit=1").json()
    assert parse_qs(urlsplit(body["next"]).query)["equipment"] == ["projector"]


def test_an_offset_past_the_end_gives_an_empty_page(staff_api, joint_campus):
    body = staff_api.get(f"{API}/rooms", {"offset": 50}).json()

    assert body == {"items": [], "count": 3, "next": None}


def test_limit_defaults_to_100(staff_api, joint_campus):
    for n in range(DEFAULT_LIMIT):
        Room.objects.create(building=joint_campus.workshop_building, code=f"B{n:03}", name=f"Room {n}", capacity=5)

    body = staff_api.get(f"{API}/rooms").json()

    assert len(body["items"]) == DEFAULT_LIMIT == 100
    assert parse_qs(urlsplit(body["next"]).query) == {"limit": ["100"], "offset": ["100"]}


@pytest.mark.parametrize(
    ("query", "field"), [({"limit": 1001}, "limit"), ({"limit": 0}, "limit"), ({"offset": -1}, "offset")]
)
def test_limit_and_offset_out_of_bounds_are_refused_with_422(staff_api, joint_campus, query, field):
    response = staff_api.get(f"{API}/rooms", query)

    assert response.status_code == 422
    assert response.json()["code"] == "invalid"
    assert [e["field"] for e in response.json()["errors"]] == [field]


def test_the_maximum_limit_is_accepted_and_matches_the_settings(staff_api, joint_campus):
    assert staff_api.get(f"{API}/equipment", {"limit": 1000}).status_code == 200
    assert settings.KAMPUS_API_MAX_LIMIT == MAX_LIMIT == 1000
