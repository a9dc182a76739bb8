"""Fixtures for API tests: clients that carry a personal token or a browser session."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.test import Client

from api.tokens import token_create
from campus.models import User

API = "/api/v1"


def post(client: Client, path: str, body: dict | None = None, **headers: str):
    """POST ``body`` as JSON to the API's ``path``, with ``headers``."""
    return client.post(f"{API}{path}", body or {}, content_type="application/json", headers=headers)


def patch(client: Client, path: str, body: dict):
    """PATCH ``body`` as JSON to the API's ``path``."""
    return client.patch(f"{API}{path}", body, content_type="application/json")


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
