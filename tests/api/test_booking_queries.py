"""How many queries a booking costs: not one more per occurrence of a series."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.api.conftest import API
from tests.bookings.conftest import at

# Measured when written (PostgreSQL and SQLite alike); lower it when the engine gets cheaper.
ONE_OFF_QUERIES_AT_MOST = 31


def _queries_to_book(api, room, monday, **extra) -> int:
    body = {
        "room": room.pk,
        "title": "Counted",
        "start": at(monday, 10).isoformat(),
        "end": at(monday, 11).isoformat(),
        "purpose": "meeting",
        **extra,
    }
    with CaptureQueriesContext(connection) as queries:
        response = api.post(f"{API}/bookings", body, content_type="application/json")
    assert response.status_code == 201, response.content
    return len(queries.captured_queries)


@pytest.mark.parametrize("count", [10, 40])
def test_a_series_costs_the_same_queries_whatever_its_length(staff_api, joint_campus, monday, count):
    one_off = _queries_to_book(staff_api, joint_campus.classroom, monday)
    series = _queries_to_book(staff_api, joint_campus.lab, monday, rrule=f"FREQ=DAILY;COUNT={count}")

    assert one_off <= ONE_OFF_QUERIES_AT_MOST
    # A fixed few more (the series row, its exceptions); a query per occurrence would add ``count``.
    assert series - one_off <= 8, f"a {count}-occurrence series took {series} queries, a one-off {one_off}"
