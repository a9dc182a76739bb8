"""Helpers and fixtures for API tests: JSON requests and the lukio teacher's token client."""

from __future__ import annotations

import pytest
from django.test import Client

API = "/api/v1"


def post(client: Client, path: str, body: dict | None = None, **headers: str):
    """POST ``body`` as JSON to the API's ``path``, with ``headers``."""
    return client.post(f"{API}{path}", body or {}, content_type="application/json", headers=headers)


def patch(client: Client, path: str, body: dict):
    """PATCH ``body`` as JSON to the API's ``path``."""
    return client.patch(f"{API}{path}", body, content_type="application/json")


@pytest.fixture
def staff_api(client_with_token, lukio_staff) -> Client:
    """A token client of the lukio teacher."""
    return client_with_token(lukio_staff)
