"""Fixtures for API tests: clients that carry a personal token or a browser session."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.test import Client

from api.tokens import token_create
from campus.models import User

API = "/api/v1"


@pytest.fixture
def client_with_token() -> Callable[[User], Client]:
    """Return a factory of Django test clients that send a fresh personal token for the user given."""

    def make(user: User) -> Client:
        _, raw = token_create(user=user, name="tests")
        return Client(headers={"Authorization": f"Bearer {raw}"})

    return make


@pytest.fixture
def staff_api(client_with_token, lukio_staff) -> Client:
    """A token client of the lukio teacher."""
    return client_with_token(lukio_staff)
