"""The API names reference data (equipment, holidays) in the request's language."""

from __future__ import annotations

import datetime as dt

import pytest

from tests.api.conftest import API
from tests.bookings.conftest import at
from tests.campus.test_reference_translations import translate_reference_data


@pytest.mark.parametrize(
    ("language", "projector", "holiday"),
    [("sv", "Videoprojektor", "Kristi himmelfärdsdag"), ("en", "Projector", "Ascension Day")],
)
def test_the_api_names_equipment_and_holidays_in_the_request_language(
    joint_campus, client_with_token, lukio_staff, tuesday, language, projector, holiday
):
    translated = translate_reference_data(joint_campus, tuesday)
    client = client_with_token(lukio_staff)
    headers = {"Accept-Language": language}

    catalogue = client.get(f"{API}/equipment", headers=headers).json()
    room = client.get(f"{API}/rooms/{translated.classroom.pk}", headers=headers).json()
    availability = client.get(
        f"{API}/rooms/{translated.classroom.pk}/availability",
        {"from": at(tuesday, 0).isoformat(), "to": at(tuesday + dt.timedelta(days=3), 0).isoformat()},
        headers=headers,
    ).json()

    assert {item["code"]: item["name"] for item in catalogue["items"]}["projector"] == projector
    assert {item["code"]: item["name"] for item in room["equipment"]} == {
        "projector": projector,
        "sinks": "Vesipisteet",
    }
    reasons = " ".join(day["reason"] for day in availability["closed"])
    assert holiday in reasons
