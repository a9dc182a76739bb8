"""Helpers of the page tests: signed-in English clients and dates ahead."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client
from django.utils import timezone

from bookings.models import Booking
from campus.models import Membership, OpeningHours, Role, User
from tests.bookings.conftest import HELSINKI, at, book, today
from tests.conftest import make_user


def client_for(user: User) -> Client:
    """Return a client signed in as ``user`` whose browser asks for English pages."""
    client = Client(headers={"accept-language": "en"})
    client.force_login(user)
    return client


def signed_in(user: User) -> Client:
    """Return a client signed in as ``user`` whose browser asks for no language (pages in the installation's)."""
    client = Client()
    client.force_login(user)
    return client


def tomorrow(hour: int, minute: int = 0) -> dt.datetime:
    return at(today() + dt.timedelta(days=1), hour, minute)


def running_booking(user: User, room, title: str = "Running lesson") -> Booking:
    """Book ``room`` so that the booking is running now, within today (created as if a while ago)."""
    now = timezone.now().astimezone(HELSINKI)
    midnight = now.replace(hour=0, minute=0, second=0, microsecond=0)
    start = max(now - dt.timedelta(minutes=20), midnight).replace(second=0, microsecond=0)
    end = min(start + dt.timedelta(minutes=40), midnight.replace(hour=23, minute=59, second=59))
    return book(user, room, start, end, title=title, now=start - dt.timedelta(minutes=5)).first


@pytest.fixture
def always_open(joint_campus) -> None:
    """Open both buildings round the clock every day, so that tests run at any hour and weekday."""
    for building in (joint_campus.main_building, joint_campus.workshop_building):
        OpeningHours.objects.filter(building=building).delete()
        for weekday in range(7):
            OpeningHours.objects.create(
                building=building, weekday=weekday, opens=dt.time(0, 0), closes=dt.time(23, 59, 59)
            )


@pytest.fixture
def teacher(joint_campus) -> User:
    """A lukio teacher who signs in with her own name as username (liisa.lehtonen) and the tests' password."""
    user = make_user("liisa.lehtonen", first_name="Liisa", last_name="Lehtonen")
    Membership.objects.create(user=user, institution=joint_campus.lukio, role=Role.STAFF)
    return user
