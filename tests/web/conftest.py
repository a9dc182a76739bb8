"""Helpers of the page tests: signed-in English clients and dates ahead."""

from __future__ import annotations

import datetime as dt

from django.test import Client

from campus.models import User
from tests.bookings.conftest import at, today


def client_for(user: User) -> Client:
    """Return a client signed in as ``user`` whose browser asks for English pages."""
    client = Client(headers={"accept-language": "en"})
    client.force_login(user)
    return client


def tomorrow(hour: int, minute: int = 0) -> dt.datetime:
    return at(today() + dt.timedelta(days=1), hour, minute)
