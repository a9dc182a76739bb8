"""The OpenAPI document and the interactive docs are public."""

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
