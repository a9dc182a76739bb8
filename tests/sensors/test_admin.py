"""Sensors in the admin: facility managers register sensors in the rooms they manage; readings and dead letters
are read-only and shown to who manages the sensor's room; gateway tokens to the campus's facility managers."""

from __future__ import annotations

import pytest
from django.test import Client

from campus.models import User
from sensors.models import DeadLetter, IngestToken, Reading, Sensor
from sensors.services import gateway_token_create

from .conftest import ingest

pytestmark = pytest.mark.django_db

ADD = "/admin/sensors/sensor/add/"


def signed_in(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def sensor_form(room, external_id: str = "a101-door") -> dict[str, str]:
    return {
        "external_id": external_id,
        "kind": "count",
        "room": str(room.pk),
        "vendor": "",
        "model": "",
        "is_active": "on",
        "installed_at": "",
    }


def test_a_facility_manager_registers_a_sensor_in_their_room(fm_of_lukio, joint_campus):
    response = signed_in(fm_of_lukio).post(ADD, sensor_form(joint_campus.lab))

    assert response.status_code == 302, response.context["adminform"].form.errors if response.context else ""
    assert Sensor.objects.get().room == joint_campus.lab


def test_the_form_offers_only_managed_rooms_and_refuses_others(fm_of_lukio, joint_campus):
    client = signed_in(fm_of_lukio)

    offered = client.get(ADD).context["adminform"].form.fields["room"].queryset
    refused = client.post(ADD, sensor_form(joint_campus.shared_auditorium))

    assert set(offered) == {joint_campus.classroom, joint_campus.lab}
    assert refused.status_code == 200
    assert refused.context["adminform"].form.errors
    assert not Sensor.objects.exists()


def test_a_taken_external_id_is_a_field_error(fm_of_lukio, counter, joint_campus):
    response = signed_in(fm_of_lukio).post(ADD, sensor_form(joint_campus.lab, external_id=counter.external_id))

    assert response.status_code == 200
    assert "external_id" in response.context["adminform"].form.errors


def test_a_change_goes_through_the_service(fm_of_lukio, counter, joint_campus):
    data = sensor_form(joint_campus.lab, external_id=counter.external_id)
    data.pop("is_active")  # unchecked

    response = signed_in(fm_of_lukio).post(f"/admin/sensors/sensor/{counter.pk}/change/", data)

    assert response.status_code == 302
    counter.refresh_from_db()
    assert (counter.room, counter.is_active) == (joint_campus.lab, False)


def test_lists_show_the_managed_rooms_sensors_readings_and_dead_letters(
    fm_of_lukio, campus_fm, counter, auditorium_counter
):
    ingest({"count": 1}, sensor=counter.external_id)
    ingest({"count": 2}, sensor=auditorium_counter.external_id)
    ingest(b"broken", sensor=counter.external_id)
    ingest(b"broken", sensor=auditorium_counter.external_id)
    ingest(b"broken", sensor="unregistered")
    lukio, campus = signed_in(fm_of_lukio), signed_in(campus_fm)

    def listed(client: Client, model: str) -> set:
        response = client.get(f"/admin/sensors/{model}/")
        assert response.status_code == 200
        return set(response.context["cl"].result_list)

    assert listed(lukio, "sensor") == {counter}
    assert listed(lukio, "reading") == set(Reading.objects.filter(sensor=counter))
    assert listed(lukio, "deadletter") == set(DeadLetter.objects.filter(sensor=counter))
    assert listed(campus, "deadletter") == set(DeadLetter.objects.all())
    assert listed(campus, "sensor") == {counter, auditorium_counter}


def test_readings_and_dead_letters_are_read_only(fm_of_lukio, counter):
    ingest({"count": 1}, sensor=counter.external_id)
    ingest(b"broken", sensor=counter.external_id)
    client = signed_in(fm_of_lukio)
    reading, letter = Reading.objects.get(), DeadLetter.objects.get()

    assert client.get("/admin/sensors/reading/add/").status_code == 403
    assert client.post(f"/admin/sensors/reading/{reading.pk}/change/", {"count": "5"}).status_code == 403
    assert client.get(f"/admin/sensors/deadletter/{letter.pk}/change/").status_code == 200
    reading.refresh_from_db()
    assert reading.count == 1


def test_staff_do_not_reach_the_sensor_admin(lukio_staff):
    assert signed_in(lukio_staff).get("/admin/sensors/sensor/").status_code == 302  # to the sign-in page


def test_the_campus_facility_manager_revokes_gateway_tokens(campus_fm, fm_of_lukio, joint_campus):
    token, _raw = gateway_token_create(actor=None, campus=joint_campus.campus, name="gw")

    assert signed_in(fm_of_lukio).get("/admin/sensors/ingesttoken/").status_code == 403
    response = signed_in(campus_fm).post(
        "/admin/sensors/ingesttoken/", {"action": "revoke", "_selected_action": [str(token.pk)]}
    )

    assert response.status_code == 302
    assert IngestToken.objects.get().revoked_at is not None
