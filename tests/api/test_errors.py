"""Every error answers {detail, code}; invalid input adds errors; domain errors add their extras."""

import pytest
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from django.utils import translation
from ninja import NinjaAPI, Schema
from ninja.errors import HttpError
from ninja.testing import TestClient

from api.errors import field_path, install_error_handlers
from campus.exceptions import InvalidInput, KampusError, NotFound
from campus.models import Room


class SlotTaken(KampusError):
    code = "slot_taken"
    http_status = 409


class StartIn(Schema):
    start: int
    items: list[int] = []


def make_api() -> NinjaAPI:
    api = NinjaAPI(urls_namespace="errors-test")
    install_error_handlers(api)

    @api.get("/conflict")
    def conflict(request):
        raise SlotTaken("The slot is taken.", conflicts=[{"id": 7, "start": "2025-01-01T10:00:00Z"}])

    @api.get("/rule")
    def rule(request):
        raise KampusError("Too long.", code="too_long", rule="max_duration", allowed=120)

    @api.get("/invalid")
    def invalid(request):
        raise InvalidInput("Bad dates.", errors=[{"field": "body.end", "message": "End before start."}])

    @api.get("/domain-404")
    def domain_404(request):
        raise NotFound("No such series.")

    @api.get("/http-404")
    def http_404(request):
        raise Http404

    @api.get("/does-not-exist")
    def does_not_exist(request):
        return Room.objects.get(pk=-1)

    @api.get("/forbidden")
    def forbidden(request):
        raise DjangoPermissionDenied

    @api.get("/http-error")
    def http_error(request):
        raise HttpError(409, "Busy.")

    @api.get("/model-invalid")
    def model_invalid(request):
        raise DjangoValidationError({"capacity": ["Must be positive."], "__all__": ["Inconsistent."]})

    @api.get("/boom")
    def boom(request):
        raise RuntimeError("secret internals")

    @api.post("/body")
    def body(request, payload: StartIn):
        return {}

    return api


@pytest.fixture(scope="module")
def client() -> TestClient:
    return TestClient(make_api())


def test_a_domain_error_answers_its_status_and_code_with_its_extras(client):
    response = client.get("/conflict")

    assert response.status_code == 409
    assert response.json() == {
        "detail": "The slot is taken.",
        "code": "slot_taken",
        "conflicts": [{"id": 7, "start": "2025-01-01T10:00:00Z"}],
    }


def test_a_broken_rule_names_the_rule_and_what_is_allowed(client):
    response = client.get("/rule")

    assert response.status_code == 400
    assert response.json() == {"detail": "Too long.", "code": "too_long", "rule": "max_duration", "allowed": 120}


def test_domain_invalid_input_lists_field_errors(client):
    response = client.get("/invalid")

    assert response.status_code == 422
    assert response.json()["errors"] == [{"field": "body.end", "message": "End before start."}]


@pytest.mark.parametrize("path", ["/domain-404", "/http-404", "/does-not-exist"])
def test_not_found_in_every_form_answers_404_not_found(client, path, db):
    response = client.get(path)

    assert response.status_code == 404
    assert response.json()["code"] == "not_found"
    assert response.json()["detail"]


def test_django_permission_denied_answers_403(client):
    response = client.get("/forbidden")

    assert response.status_code == 403
    assert response.json()["code"] == "permission_denied"


def test_an_http_error_gets_a_code_from_its_status(client):
    assert client.get("/http-error").json() == {"detail": "Busy.", "code": "conflict"}


def test_a_django_validation_error_answers_422_with_field_errors(client):
    response = client.get("/model-invalid")

    assert response.status_code == 422
    assert response.json()["errors"] == [
        {"field": "capacity", "message": "Must be positive."},
        {"field": "", "message": "Inconsistent."},
    ]


def test_an_unexpected_exception_answers_500_json_without_internals(client, caplog):
    with translation.override("en"):
        response = client.get("/boom")

    assert response.status_code == 500
    assert response.json() == {"detail": "Internal error", "code": "internal_error"}
    assert "secret internals" not in response.content.decode()
    assert "RuntimeError" in caplog.text


def test_invalid_body_fields_are_named_by_their_path_in_the_body(client):
    response = client.post("/body", json={"start": "soon", "items": [1, "x"]})

    assert response.status_code == 422
    assert sorted(e["field"] for e in response.json()["errors"]) == ["body.items.1", "body.start"]


@pytest.mark.parametrize(
    ("loc", "path"),
    [
        (("query", "limit"), "limit"),
        (("path", "room_id"), "room_id"),
        (("body", "payload", "start"), "body.start"),
        (("body", "payload", "items", 0, "end"), "body.items.0.end"),
        (("body", "payload"), "body"),
        (("query", "equipment", 1), "equipment.1"),
    ],
)
def test_field_path_names_fields_without_view_argument_names(loc, path):
    assert field_path(loc) == path


def test_a_validation_error_through_the_real_api_has_the_error_body(staff_api, joint_campus):
    response = staff_api.get("/api/v1/rooms", {"capacity_min": "lots"})

    assert response.status_code == 422
    assert set(response.json()) == {"detail", "code", "errors"}
    assert response.json()["errors"][0]["field"] == "capacity_min"
