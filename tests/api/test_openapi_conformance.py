"""The OpenAPI document tells the truth: schemathesis calls every operation as a teacher and as facility managers.

For each operation it generates valid and invalid requests from the document itself (hypothesis,
a bounded number of examples) and sends them through Kampus's WSGI application, in the test's
PostgreSQL transaction; every answer must be a documented status with a body matching its declared
schema, and never a 5xx. See docs/api.md ("The OpenAPI document is checked").

Every operation of the document is called (``test_schemathesis_calls_every_operation_of_the_document``),
each with roles of which one may succeed there (``test_some_role_called_may_succeed_at_every_operation``,
read from the authorisation matrix): a teacher, the lukio's facility manager and the campus's facility
manager (sensors, gateway tokens, reports of the whole campus), and for HTTP ingest the campus's
gateway token.

Left out: schemathesis's "positive data acceptance" (a schema-valid request must get 2xx). The
booking rules (opening hours, windows, clashes, permissions) refuse most random but schema-valid
requests with a documented 422, 403 or 409, which no schema can express. And for HTTP ingest, its
"negative data rejection": like the MQTT ingester, it answers a wrong body with 200 and the body's
dead letter (docs/sensors.md), so a body outside the documented shape is accepted on purpose.
"""

from __future__ import annotations

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from django.utils import timezone
from hypothesis import HealthCheck, Phase, settings
from schemathesis.specs.openapi.checks import negative_data_rejection, positive_data_acceptance

from api.api import api
from api.tokens import token_create
from bookings.models import BookingStatus
from bookings.services import closure_create
from sensors.models import DeadLetter, DeadLetterReason, IngestSource, Reading, Sensor, SensorKind
from sensors.services import gateway_token_create
from tests.bookings.conftest import at, book
from tests.security.test_authorisation_matrix import EXPECTED, api_operations
from tests.security.world import ROLES

# Small enough for CI (two cores), large enough to reach every status of every operation.
EXAMPLES_PER_OPERATION = 20
# The operations a gateway token (not a person's) authenticates; the other operations get the people's tokens.
GATEWAY_OPERATIONS = {"POST /api/v1/readings"}
# The people schemathesis calls as, by their column in the authorisation matrix.
MATRIX_ROLES = {"teacher": "staff_a", "facility manager": "fm_a", "campus facility manager": "campus_fm"}

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
def tokens(on_postgres, connection_kept_open, joint_campus, lukio_staff, fm_of_lukio, campus_fm, day) -> dict[str, str]:
    """A small campus with bookings, a request, a series, a closure and a sensor; a token for each role and the
    gateway."""
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
    # A sensor with a reading and a refused message, so that the sensor operations have rows to answer.
    sensor = Sensor.objects.create(external_id="a101-counter", kind=SensorKind.COUNT, room=joint_campus.classroom)
    now = timezone.now()
    Reading.objects.create(
        sensor=sensor, room=sensor.room, campus=joint_campus.campus, ts=now, count=3, received_at=now
    )
    DeadLetter.objects.create(
        received_at=now,
        source=IngestSource.MQTT,
        sensor=sensor,
        campus=joint_campus.campus,
        reason=DeadLetterReason.INVALID,
        payload_bytes=3,
    )
    people = {"teacher": lukio_staff, "facility manager": fm_of_lukio, "campus facility manager": campus_fm}
    assert set(people) == set(MATRIX_ROLES)
    return {
        **{role: token_create(user=person, name="schemathesis")[1] for role, person in people.items()},
        "gateway": gateway_token_create(actor=None, campus=joint_campus.campus, name="schemathesis")[1],
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
    gateway = f"{case.operation.method.upper()} {case.operation.path}" in GATEWAY_OPERATIONS
    for role, token in tokens.items():
        if (role == "gateway") != gateway:
            continue
        case.call_and_validate(
            base_url="http://testserver",
            headers={"Authorization": f"Bearer {token}"},
            excluded_checks=[positive_data_acceptance, *([negative_data_rejection] if gateway else [])],
        )


def test_schemathesis_calls_every_operation_of_the_document():
    called = {f"{result.ok().method.upper()} {result.ok().path}" for result in schema.get_all_operations()}

    assert called == api_operations()


def test_some_role_called_may_succeed_at_every_operation():
    # The authorisation matrix says who gets a 2xx where; a gateway row is called with the gateway's token.
    may_succeed = set()
    for (route, owner), statuses in EXPECTED.items():
        by_role = dict(zip(ROLES, statuses.split(), strict=True))
        if owner == "gateway" or any(by_role[role].startswith("2") for role in MATRIX_ROLES.values()):
            may_succeed.add(route)

    assert api_operations() - may_succeed == set()
    assert {route for (route, owner) in EXPECTED if owner == "gateway"} == GATEWAY_OPERATIONS
