"""How many queries a booking costs: not one more per occurrence of a series."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from bookings.models import Booking
from tests.api.conftest import API
from tests.bookings.conftest import at, in_helsinki

# Measured when written on PostgreSQL: the token (with its first use noted), the room, what the booking
# reads before its locks (one statement), the locks of the booker and the room's parts (one), the
# booker's bookings for the quota and the warnings (one), the clash check (one), the booking, its
# blocks and its audit event, and the transaction's savepoint and release. SQLite takes no row locks:
# one fewer. Lower it when the engine gets cheaper.
ONE_OFF_QUERIES_AT_MOST = 12


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
    assert series <= ONE_OFF_QUERIES_AT_MOST, f"a {count}-occurrence series took {series} queries"
    # At most the series row more (its exceptions are written with it); a query per occurrence would add ``count``.
    assert series - one_off <= 1, f"a {count}-occurrence series took {series} queries, a one-off {one_off}"


def test_a_teaching_series_that_skips_a_break_costs_no_more(staff_api, joint_campus, monday, lukio_break):
    one_off = _queries_to_book(staff_api, joint_campus.classroom, monday)
    series = _queries_to_book(
        staff_api, joint_campus.lab, monday, rrule="FREQ=DAILY;COUNT=20", purpose="teaching", skip_breaks=True
    )

    assert series <= ONE_OFF_QUERIES_AT_MOST
    assert series - one_off <= 1, f"a teaching series took {series} queries, a one-off {one_off}"
    # The break was left out (the term calendar was read, in the same statement) and days after it booked.
    booked = [in_helsinki(b.start).date() for b in Booking.objects.filter(room=joint_campus.lab)]
    assert not [day for day in booked if lukio_break.start <= day <= lukio_break.end]
    assert max(booked) > lukio_break.end


def test_a_refused_booking_lets_go_of_the_room_before_reading_what_clashes(staff_api, joint_campus, monday):
    _queries_to_book(staff_api, joint_campus.classroom, monday)
    body = {
        "room": joint_campus.classroom.pk,
        "title": "Too late",
        "start": at(monday, 10, 30).isoformat(),
        "end": at(monday, 11, 30).isoformat(),
    }
    with CaptureQueriesContext(connection) as queries:
        response = staff_api.post(f"{API}/bookings", body, content_type="application/json")
    assert response.status_code == 409, response.content
    assert response.json()["conflicts"][0]["title"] == "Counted"

    statements = [q["sql"] for q in queries.captured_queries]
    began = next(i for i, sql in enumerate(statements) if sql.startswith("SAVEPOINT"))
    rolled_back = next(i for i, sql in enumerate(statements) if sql.startswith("ROLLBACK TO SAVEPOINT"))
    described = next(i for i, sql in enumerate(statements) if 'JOIN "bookings_booking"' in sql)
    # Inside the transaction (holding the booker's and the room's locks on PostgreSQL): what the request
    # reads before its locks, the locks, the booker's bookings and the clash check; the clashing booking is
    # read for the answer after the rollback, so the room's next writer does not wait for it.
    assert rolled_back < described
    assert rolled_back - began - 1 <= (4 if connection.vendor == "postgresql" else 3), statements[began:rolled_back]
