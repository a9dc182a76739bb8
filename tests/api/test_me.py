"""GET /me and POST /me/language."""

import datetime as dt

import pytest
from django.test import Client
from django.utils import timezone

from campus.models import Membership, Role

from .conftest import API


def test_me_shows_the_user_and_every_membership_with_its_validity(staff_api, lukio_staff, joint_campus):
    today = timezone.localdate(timezone=joint_campus.campus.zone)
    expired = Membership.objects.create(
        user=lukio_staff,
        campus=joint_campus.campus,
        role=Role.FRONT_DESK,
        valid_from=today - dt.timedelta(days=30),
        valid_until=today - dt.timedelta(days=1),
    )
    current = Membership.objects.get(user=lukio_staff, role=Role.STAFF)

    body = staff_api.get(f"{API}/me").json()

    assert body["id"] == lukio_staff.pk
    assert body["username"] == "lukio.teacher"
    assert body["full_name"] == "Liisa Lehtonen"
    assert body["email"] == "lukio.teacher@example.org"
    assert body["preferred_language"] is None
    assert body["language"] == "fi"  # the server default with no preference and no Accept-Language
    assert body["memberships"] == [
        {
            "id": current.pk,
            "role": "staff",
            "institution": {"id": joint_campus.lukio.pk, "name": "Otava Upper Secondary", "short_code": "lukio"},
            "campus": None,
            "valid_from": None,
            "valid_until": None,
            "is_valid_today": True,
        },
        {
            "id": expired.pk,
            "role": "front_desk",
            "institution": None,
            "campus": {"id": joint_campus.campus.pk, "name": "Otava Campus"},
            "valid_from": (today - dt.timedelta(days=30)).isoformat(),
            "valid_until": (today - dt.timedelta(days=1)).isoformat(),
            "is_valid_today": False,
        },
    ]


def test_a_membership_starting_tomorrow_is_not_valid_today(staff_api, lukio_staff, joint_campus):
    tomorrow = timezone.localdate(timezone=joint_campus.campus.zone) + dt.timedelta(days=1)
    Membership.objects.create(user=lukio_staff, institution=joint_campus.adult, role=Role.STAFF, valid_from=tomorrow)

    memberships = staff_api.get(f"{API}/me").json()["memberships"]

    assert [m["is_valid_today"] for m in memberships] == [True, False]


def test_me_answers_in_the_users_preferred_language(staff_api, lukio_staff):
    lukio_staff.preferred_language = "sv"
    lukio_staff.save()

    response = staff_api.get(f"{API}/me")

    assert response.json()["preferred_language"] == "sv"
    assert response.json()["language"] == "sv"
    assert response["Content-Language"] == "sv"


@pytest.mark.parametrize("session", [False, True])
def test_an_explicit_accept_language_wins_over_the_profile_for_that_request(client_with_token, lukio_staff, session):
    lukio_staff.preferred_language = "sv"
    lukio_staff.save()
    if session:
        client = Client()
        client.force_login(lukio_staff)
    else:
        client = client_with_token(lukio_staff)

    asked = client.get(f"{API}/me", headers={"Accept-Language": "fi-FI, en;q=0.5"})
    unknown = client.get(f"{API}/me", headers={"Accept-Language": "de"})
    refused = client.get(f"{API}/bookings/999999", headers={"Accept-Language": "en"})

    assert asked.json()["language"] == "fi"
    assert asked["Content-Language"] == "fi"
    assert unknown.json()["language"] == "sv"  # a language Kampus lacks leaves the profile's
    assert refused.json()["detail"] == "Not found."


def test_without_a_preference_the_language_follows_accept_language(staff_api):
    response = staff_api.get(f"{API}/me", headers={"Accept-Language": "en"})

    assert response.json()["language"] == "en"


def test_setting_my_language_stores_it_and_answers_in_it(staff_api, lukio_staff):
    response = staff_api.post(f"{API}/me/language", {"language": "en"}, content_type="application/json")

    assert response.status_code == 200
    assert response.json()["preferred_language"] == "en"
    assert response.json()["language"] == "en"
    lukio_staff.refresh_from_db()
    assert lukio_staff.preferred_language == "en"


def test_an_unknown_language_is_refused_with_field_errors(staff_api, lukio_staff):
    response = staff_api.post(f"{API}/me/language", {"language": "de"}, content_type="application/json")

    assert response.status_code == 422
    body = response.json()
    assert body["code"] == "invalid"
    assert [e["field"] for e in body["errors"]] == ["body.language"]
    lukio_staff.refresh_from_db()
    assert lukio_staff.preferred_language == ""
