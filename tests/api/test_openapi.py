"""The OpenAPI document and the interactive docs are public."""

import json

import jsonschema_rs  # installed with schemathesis (dev extra)
import pytest
from django.test import Client

from .conftest import API


def test_openapi_json_is_served_without_login_and_lists_the_endpoints(db):
    response = Client().get(f"{API}/openapi.json")

    assert response.status_code == 200
    schema = response.json()
    assert schema["info"]["title"] == "Kampus API"
    for path in ["/me", "/me/language", "/institutions", "/campuses", "/buildings", "/rooms", "/rooms/{room_id}"]:
        assert f"{API}{path}" in schema["paths"], path
    schemes = schema["components"]["securitySchemes"]
    assert {s["type"] for s in schemes.values()} == {"http", "apiKey"}
    rooms = schema["paths"][f"{API}/rooms"]["get"]
    assert {"limit", "offset", "building", "kind", "capacity_min", "equipment", "step_free"} <= {
        p["name"] for p in rooms["parameters"]
    }
    assert {"items", "count", "next"} <= set(schema["components"]["schemas"]["PagedRoomOut"]["properties"])


def test_the_docs_page_is_public(db):
    response = Client().get(f"{API}/docs")

    assert response.status_code == 200
    assert b"openapi.json" in response.content


def documented_body_schema(openapi: dict, path: str, method: str, status: int) -> dict:
    """Return the JSON schema the document declares for an answer, with its components to resolve refs."""
    content = openapi["paths"][f"{API}{path}"][method]["responses"][str(status)]["content"]
    return {**content["application/json"]["schema"], "components": openapi["components"]}


def test_a_rule_refusal_matches_the_422_the_document_declares(db, staff_api, joint_campus):
    openapi = Client().get(f"{API}/openapi.json").json()
    past = "2020-03-10T10:00:00+02:00"
    body = {"room": joint_campus.classroom.pk, "title": "Late", "start": past, "end": "2020-03-10T11:00:00+02:00"}

    response = staff_api.post(f"{API}/bookings", json.dumps(body), content_type="application/json")

    assert response.status_code == 422
    assert "rule" in response.json()
    assert "errors" not in response.json()
    jsonschema_rs.validate(documented_body_schema(openapi, "/bookings", "post", 422), response.json())


def test_an_unparseable_body_answers_the_documented_400(db, staff_api):
    openapi = Client().get(f"{API}/openapi.json").json()

    response = staff_api.post(f"{API}/me/tokens", "{not json", content_type="application/json")

    assert response.status_code == 400
    jsonschema_rs.validate(documented_body_schema(openapi, "/me/tokens", "post", 400), response.json())


SCOPED_BODIES = [
    ("/bookings/{booking_id}", "patch"),
    ("/bookings/{booking_id}/cancel", "post"),
    ("/approvals/{booking_id}/approve", "post"),
    ("/approvals/{booking_id}/reject", "post"),
]


@pytest.mark.parametrize(("path", "method"), SCOPED_BODIES)
def test_every_scoped_body_takes_the_one_scope_enum(db, path, method):
    openapi = Client().get(f"{API}/openapi.json").json()
    body = openapi["paths"][f"{API}{path}"][method]["requestBody"]["content"]["application/json"]["schema"]
    schema = {**body, "components": openapi["components"]}

    assert openapi["components"]["schemas"]["Scope"]["enum"] == ["occurrence", "following", "series"]
    jsonschema_rs.validate(schema, {"scope": "following", "reason": "Full"})
    with pytest.raises(jsonschema_rs.ValidationError):
        jsonschema_rs.validate(schema, {"scope": "forever"})
