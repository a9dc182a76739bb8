"""A booking request's statements are planned once per PostgreSQL connection, not on every request."""

from __future__ import annotations

import contextlib

import pytest
from django.db import DatabaseError, connection, transaction
from django.test.utils import CaptureQueriesContext

from campus.sql_rows import _prepared_form, execute
from tests.api.conftest import API
from tests.bookings.conftest import at

# The hand-written statements every one-off booking through the API runs (campus.sql_rows.execute).
LABELS = {"token", "room", "context", "lock", "activity", "booking", "block", "event"}


def _book(api, room, day, hour: int):
    body = {
        "room": room.pk,
        "title": "Prepared",
        "start": at(day, hour).isoformat(),
        "end": at(day, hour + 1).isoformat(),
    }
    return api.post(f"{API}/bookings", body, content_type="application/json")


def _prepared_statements() -> dict[str, tuple[int, int]]:
    """Return the label of each of Kampus's statements prepared on this connection, with its generic and custom
    plan counts."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT name, generic_plans, custom_plans FROM pg_prepared_statements WHERE name LIKE 'kampus\\_%%'"
        )
        return {name.split("_")[1]: (generic, custom) for name, generic, custom in cursor.fetchall()}


def test_named_and_positional_parameters_become_numbered_ones():
    name, text, order = _prepared_form("SELECT %(b)s, %(a)s, %(b)s, '%%' FROM t", "probe")
    assert text == "SELECT $1, $2, $1, '%' FROM t"
    assert order == ("b", "a")
    assert name.startswith("kampus_probe_")

    _, text, count = _prepared_form("SELECT %s WHERE x = ANY(%s)", "probe")
    assert (text, count) == ("SELECT $1 WHERE x = ANY($2)", 2)
    # Another text, another name: two statements never share one.
    assert _prepared_form("SELECT %s", "probe")[0] != _prepared_form("SELECT %s + 1", "probe")[0]


@pytest.mark.postgres
def test_a_booking_request_is_planned_once_and_then_runs_its_generic_plans(
    on_postgres, staff_api, joint_campus, monday
):
    for hour in range(8, 16):
        assert _book(staff_api, joint_campus.classroom, monday, hour).status_code == 201

    prepared = _prepared_statements()
    assert set(prepared) >= LABELS, f"prepared: {sorted(prepared)}"
    # Eight requests: after PostgreSQL's five custom plans, the statements run without being planned again.
    for label in LABELS:
        generic, _custom = prepared[label]
        assert generic >= 3, f"{label}: {prepared[label]} (generic, custom) plans"


@pytest.mark.postgres
def test_the_request_runs_the_prepared_statements(on_postgres, staff_api, joint_campus, monday):
    assert _book(staff_api, joint_campus.classroom, monday, 8).status_code == 201
    with CaptureQueriesContext(connection) as queries:
        assert _book(staff_api, joint_campus.classroom, monday, 9).status_code == 201

    executed = [q["sql"].split("(")[0].split()[1].split("_")[1] for q in queries if q["sql"].startswith("EXECUTE ")]
    assert set(executed) == LABELS


@pytest.mark.postgres
def test_without_prepared_statements_the_same_statements_run_as_sql(
    on_postgres, settings, staff_api, joint_campus, monday
):
    settings.KAMPUS_DATABASE_PREPARED_STATEMENTS = False
    with CaptureQueriesContext(connection) as queries:
        response = _book(staff_api, joint_campus.classroom, monday, 8)

    assert response.status_code == 201
    assert not [q for q in queries if q["sql"].startswith(("PREPARE", "EXECUTE"))]


@pytest.mark.postgres
def test_a_statement_that_failed_to_prepare_is_prepared_on_its_next_use(on_postgres, db):
    sql = "SELECT %s::int + 1 AS probe_after_a_failure"
    with connection.cursor() as cursor:
        savepoint = transaction.savepoint()
        with contextlib.suppress(DatabaseError):
            cursor.execute("SELECT 1 / 0")  # the transaction is lost: preparing inside it fails too
        with pytest.raises(DatabaseError):
            execute(cursor, sql, [1], label="probe")
        transaction.savepoint_rollback(savepoint)

        execute(cursor, sql, [41], label="probe")
        assert cursor.fetchone() == (42,)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_new_connection_prepares_the_statements_again(on_postgres, staff_api, joint_campus, monday):
    assert _book(staff_api, joint_campus.classroom, monday, 8).status_code == 201
    connection.close()  # as after CONN_MAX_AGE, or a database restart

    assert _book(staff_api, joint_campus.classroom, monday, 9).status_code == 201
    assert set(_prepared_statements()) >= LABELS
