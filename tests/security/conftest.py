"""The authorisation matrix's world, built once per module inside a transaction that is rolled back at its end."""

from __future__ import annotations

import pytest
from django.db import transaction

from tests.security.world import World, build_world


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker) -> World:
    """Build the matrix's world once for the module; each test's ``db`` savepoint undoes what the test writes."""
    with django_db_blocker.unblock(), transaction.atomic():
        built = build_world()
        yield built
        transaction.set_rollback(True)
