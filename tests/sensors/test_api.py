"""The sensor API: the registry and readings for facility managers of the rooms, dead letters, gateway tokens,
and HTTP ingest with a gateway token."""

from __future__ import annotations

import datetime as dt
import json
from urllib.parse import parse_qs, urlsplit

import pytest
from django.core.management import call_command
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from api.tokens import token_create
from campus.models import Campus, User
from sensors.models import DeadLetter, DeadLetterReason, IngestToken, Reading, Sensor, SensorKind
from sensors.services import gateway_token_create

from .conftest import body, ingest, iso

API = "/api/v1"
pytestmark = pytest.mark.django_db


def api_client(user: User) -> Client:
    _, raw = token_create(user=user, name="tests")
    return Client(headers={"Authorization": f"Bearer {raw}"})


def post(client: Client, path: str, data: dict):
    return client.post(f"{API}{path}", json.dumps(data), content_type="application/json")


def patch(client: Client, path: str, data: dict):
    return client.patch(f"{API}{path}", json.dumps(data), content_type="application/json")


# --- The registry ------------------------------------------------------------------------------------


def test_a_facility_manager_registers_a_sensor_in_a_room_they_manage(fm_of_lukio, joint_campus):
    response = post(
        api_client(fm_of_lukio),
        "/sensors",
        {"external_id": "a101-door", "kind": "count", "room": joint_campus.classroom.pk, "vendor": "Xovis"},
    )

    assert response.status_code == 201, response.content
    sensor = Sensor.objects.get()
    assert response.json()["id"] == sensor.pk
    assert response.json()["status"] == "new"
    assert response.json()["room"]["label"] == joint_campus.classroom.label
    assert (sensor.external_id, sensor.kind, sensor.room, sensor.vendor) == (
        "a101-door",
        "count",
        joint_campus.classroom,
        "Xovis",
    )


def test_a_facility_manager_may_not_register_a_sensor_in_a_room_they_do_not_manage(fm_of_lukio, joint_campus):
    response = post(
        api_client(fm_of_lukio),
        "/sensors",
        {"external_id": "x", "kind": "count", "room": joint_campus.shared_auditorium.pk},
    )

    assert response.status_code == 403
    assert response.json()["code"] == "permission_denied"
    assert not Sensor.objects.exists()


def test_the_campus_facility_manager_registers_in_the_shared_rooms(campus_fm, joint_campus):
    response = post(
        api_client(campus_fm),
        "/sensors",
        {"external_id": "a001", "kind": "presence", "room": joint_campus.shared_auditorium.pk},
    )

    assert response.status_code == 201


def test_staff_may_not_use_the_registry(lukio_staff, counter):
    client = api_client(lukio_staff)

    assert client.get(f"{API}/sensors").status_code == 403
    assert client.get(f"{API}/sensors/{counter.pk}/readings").status_code == 403
    assert post(client, "/sensors", {"external_id": "x", "kind": "count", "room": counter.room_id}).status_code == 403
    assert client.get(f"{API}/dead-letters").status_code == 403


@pytest.mark.parametrize(
    ("external_id", "field"),
    [("has space", "external_id"), ("a/b", "external_id"), ("a+", "external_id"), ("a101-counter", "external_id")],
)
def test_an_external_id_that_is_no_topic_level_or_taken_is_refused(fm_of_lukio, counter, external_id, field):
    response = post(
        api_client(fm_of_lukio), "/sensors", {"external_id": external_id, "kind": "count", "room": counter.room_id}
    )

    assert response.status_code == 422
    assert [error["field"] for error in response.json()["errors"]] == [field]


def test_an_unknown_room_is_a_field_error(fm_of_lukio):
    response = post(api_client(fm_of_lukio), "/sensors", {"external_id": "x", "kind": "count", "room": 999999})

    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "room"


def test_the_list_shows_only_the_sensors_of_managed_rooms_and_filters(
    fm_of_lukio, counter, presence, auditorium_counter
):
    client = api_client(fm_of_lukio)

    listed = client.get(f"{API}/sensors").json()
    by_kind = client.get(f"{API}/sensors", {"kind": "presence"}).json()
    by_room = client.get(f"{API}/sensors", {"room": counter.room_id}).json()

    assert [item["external_id"] for item in listed["items"]] == ["a101-counter", "a201-presence"]
    assert listed["count"] == 2
    assert [item["external_id"] for item in by_kind["items"]] == ["a201-presence"]
    assert [item["external_id"] for item in by_room["items"]] == ["a101-counter"]
    assert client.get(f"{API}/sensors/{auditorium_counter.pk}").status_code == 404


def test_the_list_costs_the_same_few_queries_for_any_number_of_sensors(
    fm_of_lukio, joint_campus, django_assert_num_queries
):
    client = api_client(fm_of_lukio)
    for n in range(3):
        Sensor.objects.create(external_id=f"s{n}", kind=SensorKind.COUNT, room=joint_campus.classroom)
    client.get(f"{API}/sensors")  # the token's last use is written once a minute: not in the counts below
    with CaptureQueriesContext(connection) as three:
        client.get(f"{API}/sensors")
    for n in range(3, 30):
        Sensor.objects.create(external_id=f"s{n}", kind=SensorKind.COUNT, room=joint_campus.lab)

    with django_assert_num_queries(len(three.captured_queries)):
        assert client.get(f"{API}/sensors").json()["count"] == 30
    assert len(three.captured_queries) <= 8


def test_patch_changes_only_the_given_fields(fm_of_lukio, counter, joint_campus):
    response = patch(
        api_client(fm_of_lukio), f"/sensors/{counter.pk}", {"is_active": False, "room": joint_campus.lab.pk}
    )

    assert response.status_code == 200, response.content
    counter.refresh_from_db()
    assert (counter.is_active, counter.room, counter.external_id) == (False, joint_campus.lab, "a101-counter")


def test_patch_may_not_move_a_sensor_into_a_room_one_does_not_manage(fm_of_lukio, counter, joint_campus):
    response = patch(api_client(fm_of_lukio), f"/sensors/{counter.pk}", {"room": joint_campus.shared_auditorium.pk})

    assert response.status_code == 403
    counter.refresh_from_db()
    assert counter.room == joint_campus.classroom


def test_patch_refuses_null_for_a_field_that_must_have_a_value(fm_of_lukio, counter):
    response = patch(api_client(fm_of_lukio), f"/sensors/{counter.pk}", {"kind": None})

    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "body.kind"


# --- Readings ----------------------------------------------------------------------------------------


def test_readings_are_paged_oldest_first_with_an_absolute_next_link(fm_of_lukio, counter):
    start = timezone.now().replace(microsecond=0) - dt.timedelta(hours=1)
    ingest([{"ts": iso(start + dt.timedelta(minutes=m)), "count": m} for m in range(5)], sensor=counter.external_id)
    client = api_client(fm_of_lukio)

    first = client.get(f"{API}/sensors/{counter.pk}/readings", {"limit": 2}).json()
    second = client.get(first["next"]).json()

    assert first["count"] == 5
    assert [item["count"] for item in first["items"]] == [0, 1]
    assert first["next"].startswith("http://testserver/api/v1/sensors/")
    assert parse_qs(urlsplit(first["next"]).query)["offset"] == ["2"]
    assert [item["count"] for item in second["items"]] == [2, 3]
    assert first["items"][0] == {
        "ts": (start).astimezone(counter.room.building.campus.zone).isoformat(),
        "count": 0,
        "present": None,
    }


def test_readings_between_from_and_to(fm_of_lukio, counter):
    start = timezone.now().replace(microsecond=0) - dt.timedelta(hours=1)
    ingest([{"ts": iso(start + dt.timedelta(minutes=m)), "count": m} for m in range(5)], sensor=counter.external_id)

    response = api_client(fm_of_lukio).get(
        f"{API}/sensors/{counter.pk}/readings",
        {"from": iso(start + dt.timedelta(minutes=1)), "to": iso(start + dt.timedelta(minutes=3))},
    )

    assert response.status_code == 200, response.content
    assert [item["count"] for item in response.json()["items"]] == [1, 2]


def test_readings_from_after_to_is_refused(fm_of_lukio, counter):
    now = timezone.now()

    response = api_client(fm_of_lukio).get(
        f"{API}/sensors/{counter.pk}/readings", {"from": iso(now), "to": iso(now - dt.timedelta(hours=1))}
    )

    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "to"


def test_readings_of_a_sensor_in_a_room_one_does_not_manage_are_not_found(fm_of_lukio, auditorium_counter):
    assert api_client(fm_of_lukio).get(f"{API}/sensors/{auditorium_counter.pk}/readings").status_code == 404


# --- Dead letters ------------------------------------------------------------------------------------


def test_dead_letters_are_listed_to_who_manages_the_sensor_room(fm_of_lukio, campus_fm, counter, auditorium_counter):
    ingest(b"broken", sensor=counter.external_id)
    ingest({"count": -1}, sensor=auditorium_counter.external_id)
    ingest({"count": 1}, sensor="unregistered")

    lukio = api_client(fm_of_lukio).get(f"{API}/dead-letters", headers={"Accept-Language": "sv"}).json()
    campus = api_client(campus_fm).get(f"{API}/dead-letters").json()
    filtered = api_client(campus_fm).get(f"{API}/dead-letters", {"reason": "unknown_sensor"}).json()

    assert [(item["reason"], item["sensor"]) for item in lukio["items"]] == [("malformed", counter.pk)]
    assert lukio["items"][0]["reason_text"] == "Inte läsbart (inte UTF-8-JSON)"  # in the request's language
    assert lukio["items"][0]["payload"] == "broken"
    # The campus's facility services see all the campus's rooms and the messages of unregistered sensors.
    assert sorted(item["reason"] for item in campus["items"]) == ["count_out_of_range", "malformed", "unknown_sensor"]
    assert [item["topic"] for item in filtered["items"]] == ["kampus/sensors/unregistered"]


# --- Gateway tokens and HTTP ingest --------------------------------------------------------------------


def gateway(raw: str) -> Client:
    return Client(headers={"Authorization": f"Bearer {raw}"})


def test_the_campus_facility_manager_creates_a_gateway_token_shown_once(campus_fm, joint_campus):
    client = api_client(campus_fm)

    created = post(client, "/gateway-tokens", {"name": "LoRa gateway", "campus": joint_campus.campus.pk})
    listed = client.get(f"{API}/gateway-tokens").json()

    assert created.status_code == 201, created.content
    assert created.json()["token"].startswith("kgw_")
    assert [item["name"] for item in listed["items"]] == ["LoRa gateway"]
    assert "token" not in listed["items"][0]
    assert IngestToken.objects.get().hashed_key != created.json()["token"]


def test_an_institution_facility_manager_may_not_create_gateway_tokens(fm_of_lukio, joint_campus):
    response = post(api_client(fm_of_lukio), "/gateway-tokens", {"name": "gw", "campus": joint_campus.campus.pk})

    assert response.status_code == 403
    assert not IngestToken.objects.exists()


def test_a_gateway_posts_readings_as_it_would_publish_them(joint_campus, counter):
    _, raw = gateway_token_create(actor=None, campus=joint_campus.campus, name="gw")
    ts = timezone.now().replace(microsecond=0)

    response = gateway(raw).post(
        f"{API}/readings?sensor={counter.external_id}",
        body([{"ts": iso(ts), "count": 5}, {"ts": iso(ts), "count": 5}, {"count": 1000}]),
        content_type="application/json",
    )

    assert response.status_code == 200, response.content
    assert response.json() == {
        "stored": 1,
        "duplicates": 1,
        "rejected": 1,
        "dead_letters": [{"reason": "count_out_of_range", "detail": "item 2: count=1000 allowed=0..100"}],
    }
    assert list(Reading.objects.values_list("ts", "count")) == [(ts, 5)]
    letter = DeadLetter.objects.get()
    assert (letter.source, letter.topic, letter.sensor) == ("http", counter.external_id, counter)


def test_http_ingest_answers_bad_input_with_its_dead_letter(joint_campus, counter):
    _, raw = gateway_token_create(actor=None, campus=joint_campus.campus, name="gw")

    response = gateway(raw).post(
        f"{API}/readings?sensor={counter.external_id}", b"[1, 2", content_type="application/json"
    )

    assert response.status_code == 200
    assert response.json()["dead_letters"][0]["reason"] == DeadLetterReason.MALFORMED
    assert DeadLetter.objects.get().payload == "[1, 2"


def test_http_ingest_without_a_body_is_refused_and_stores_nothing(joint_campus, counter):
    _, raw = gateway_token_create(actor=None, campus=joint_campus.campus, name="gw")

    response = gateway(raw).post(f"{API}/readings?sensor={counter.external_id}", b"", content_type="application/json")

    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "body"
    assert not Reading.objects.exists()
    assert not DeadLetter.objects.exists()


def test_http_ingest_of_a_form_post_is_refused_not_an_error(joint_campus, counter):
    _, raw = gateway_token_create(actor=None, campus=joint_campus.campus, name="gw")

    response = gateway(raw).post(f"{API}/readings?sensor={counter.external_id}", {"count": "3"})

    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "body"
    assert not Reading.objects.exists()


def test_http_ingest_needs_a_gateway_token(joint_campus, counter, fm_of_lukio):
    _, raw = gateway_token_create(actor=None, campus=joint_campus.campus, name="gw")
    revoked, revoked_raw = gateway_token_create(actor=None, campus=joint_campus.campus, name="old")
    revoked.revoked_at = timezone.now()
    revoked.save()
    path = f"{API}/readings?sensor={counter.external_id}"
    _, personal = token_create(user=fm_of_lukio, name="mine")

    assert Client().post(path, body({"count": 1}), content_type="application/json").status_code == 401
    assert gateway(revoked_raw).post(path, body({"count": 1}), content_type="application/json").status_code == 401
    assert gateway(personal).post(path, body({"count": 1}), content_type="application/json").status_code == 401
    assert gateway(raw).post(f"{API}/readings", body({"count": 1}), content_type="application/json").status_code == 422
    assert not Reading.objects.exists()
    assert not DeadLetter.objects.exists()


def test_a_gateway_token_writes_only_its_campus_sensors(counter):
    other = Campus.objects.create(name="Elsewhere")
    _, raw = gateway_token_create(actor=None, campus=other, name="gw")

    response = gateway(raw).post(
        f"{API}/readings?sensor={counter.external_id}", body({"count": 1}), content_type="application/json"
    )

    assert response.json()["dead_letters"] == [{"reason": "unknown_sensor", "detail": f"sensor={counter.external_id}"}]
    assert not Reading.objects.exists()


def test_a_revoked_gateway_token_is_refused_from_then_on(campus_fm, joint_campus, counter):
    token, raw = gateway_token_create(actor=campus_fm, campus=joint_campus.campus, name="gw")

    revoked = post(api_client(campus_fm), f"/gateway-tokens/{token.pk}/revoke", {})
    answer = gateway(raw).post(
        f"{API}/readings?sensor={counter.external_id}", body({"count": 1}), content_type="application/json"
    )

    assert revoked.status_code == 200
    assert revoked.json()["revoked_at"] is not None
    assert answer.status_code == 401


def test_the_command_creates_a_gateway_token_and_prints_it_last(joint_campus, capsys):
    call_command("create_gateway_token", "LoRa gateway")

    raw = capsys.readouterr().out.strip().splitlines()[-1]
    token = IngestToken.objects.get()
    assert raw.startswith("kgw_")
    assert (token.name, token.campus, token.prefix) == ("LoRa gateway", joint_campus.campus, raw[:12])
