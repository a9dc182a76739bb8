"""The demo campus's busiest room, subscribed as a calendar client would: the same occurrences as the API,
in Mozilla's ical.js and in recurring-ical-events."""

from __future__ import annotations

import datetime as dt
from io import StringIO
from urllib.parse import urlsplit

import pytest
from django.core.management import call_command
from django.db.models import Count
from django.test import Client

from bookings import feeds
from campus.models import Membership, Role, Room
from tests.api.conftest import API
from tests.calendar_clients import STATUS, Occurrence, icaljs_occurrences, python_occurrences


@pytest.fixture
def demo(db) -> None:
    call_command("seed_demo", stdout=StringIO())


def api_bookings(api: Client, room: Room) -> list[dict]:
    """Return every booking of ``room`` the API lists, following its ``next`` links."""
    items: list[dict] = []
    url = f"{API}/bookings?room={room.pk}&limit=100"
    while url:
        page = api.get(url, headers={"accept-language": "en"}).json()
        items += page["items"]
        url = page["next"]
    return items


@pytest.mark.parametrize("parse", [python_occurrences, icaljs_occurrences], ids=["recurring-ical-events", "ical.js"])
def test_a_demo_room_feed_shows_what_the_api_shows(demo, client_with_token, parse):
    room = Room.objects.annotate(count=Count("bookings")).order_by("-count", "pk").select_related("building__campus")[0]
    teacher = Membership.objects.filter(role=Role.STAFF, institution__isnull=False).order_by("pk")[0].user
    api = client_with_token(teacher)
    ical_url = api.get(f"{API}/rooms/{room.pk}", headers={"accept-language": "en"}).json()["ical_url"]
    parts = urlsplit(ical_url)

    response = Client().get(f"{parts.path}?{parts.query}")  # no cookie, no token header: the address only

    assert response.status_code == 200
    zone = room.building.campus.zone
    window = feeds.feed_window(today=dt.datetime.now(zone).date(), zone=zone)
    location = f"{room.label}, {room.building.name}, {room.building.campus.name}"
    from_api = sorted(
        Occurrence(
            start=dt.datetime.fromisoformat(item["start"]).astimezone(dt.UTC),
            end=dt.datetime.fromisoformat(item["end"]).astimezone(dt.UTC),
            summary=item["title"] or "Reserved",
            status=STATUS[item["status"]],
            location=location,
        )
        for item in api_bookings(api, room)
        if item["status"] != "rejected"
        and dt.datetime.fromisoformat(item["start"]) < window.end
        and dt.datetime.fromisoformat(item["end"]) > window.start
    )
    assert len(from_api) >= 10  # a real timetable, series included
    assert parse(response.content, window.start, window.end) == from_api
