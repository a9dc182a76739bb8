"""The OpenAPI document tells the truth: schemathesis calls every operation as a teacher and as a facility manager.

For each operation it generates valid and invalid requests from the document itself (hypothesis,
a bounded number of examples) and sends them through Kampus's WSGI application, in the test's
PostgreSQL transaction; every answer must be a documented status with a body matching its declared
schema, and never a 5xx. See docs/api.md ("The OpenAPI document is checked").

Left out: schemathesis's "positive data acceptance" (a schema-valid request must get 2xx). The
booking rules (opening hours, windows, clashes, permissions) refuse most random but schema-valid
requests with a documented 422, 403 or 409, which no schema can express.
"""

from __future__ import annotations

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, Phase, settings
from schemathesis.specs.openapi.checks import positive_data_acceptance

from api.api import api
from api.tokens import token_create
from bookings.models import BookingStatus
from bookings.services import closure_create
from tests.bookings.conftest import at, book

# Small enough for CI (two cores), large enough to reach every status of every operation.
EXAMPLES_PER_OPERATION = 25

schema = schemathesis.openapi.from_dict(api.get_openapi_schema())
schema.app = get_wsgi_application()  # every request, probes too, goes through Django in this process


@pytest.fixture
def connection_kept_open():
    """Keep the test's database connection across requests, as Django's test client does.

    The WSGI handler closes the connection when a request starts and ends; the test's transaction
    (and its data) would go with it.
    """
    for signal in (request_started, request_finished):
        signal.disconnect(close_old_connections)
    yield
    for signal in (request_started, request_finished):
        signal.connect(close_old_connections)


@pytest.fixture
def tokens(on_postgres, connection_kept_open, joint_campus, lukio_staff, fm_of_lukio, day) -> dict[str, str]:
    """A small campus with bookings, a request, a series and a closure; a token for each role."""
    book(lukio_staff, joint_campus.classroom, at(day, 8), at(day, 9), title="Lesson")
    book(lukio_staff, joint_campus.lab, at(day, 10), at(day, 11), rrule="FREQ=WEEKLY;COUNT=3", title="Series")
    request = book(lukio_staff, joint_campus.shared_auditorium, at(day, 12), at(day, 13), title="Request").first
    request.status = BookingStatus.PENDING
    request.save(update_fields=["status"])
    closure_create(
        actor=fm_of_lukio,
        room=joint_campus.classroom,
        building=None,
        start=at(day, 14),
        end=at(day, 15),
        reason="Paint",
    )
    return {
        "teacher": token_create(user=lukio_staff, name="schemathesis")[1],
        "facility manager": token_create(user=fm_of_lukio, name="schemathesis")[1],
    }


@schema.parametrize()
@settings(
    max_examples=EXAMPLES_PER_OPERATION,
    deadline=None,
    derandomize=True,  # the same examples on every run: CI is repeatable
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.filter_too_much],
)
def test_every_operation_answers_as_documented(case, tokens):
    for token in tokens.values():
        case.call_and_validate(
            base_url="http://testserver",
            headers={"Authorization": f"Bearer {token}"},
            excluded_checks=[positive_data_acceptance],
        )
