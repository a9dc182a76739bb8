"""Who may call the API: personal tokens, browser sessions with CSRF, and nobody else."""

import datetime as dt

import pytest
from django.test import Client
from django.utils import timezone

from api.models import ApiToken
from api.tokens import LAST_USED_PRECISION, hash_token, token_create, token_revoke

from .conftest import API


def test_a_personal_token_authenticates_as_its_user(lukio_staff):
    token, raw = token_create(user=lukio_staff, name="timetable sync")

    response = Client().get(f"{API}/me", headers={"Authorization": f"Bearer {raw}"})

    assert response.status_code == 200
    assert response.json()["username"] == "lukio.teacher"
    token.refresh_from_db()
    assert token.last_used_at is not None


def test_a_token_is_stored_only_as_its_hash_with_a_short_public_prefix(lukio_staff):
    token, raw = token_create(user=lukio_staff, name="sync")

    assert token.hashed_key == hash_token(raw)
    assert raw not in {token.hashed_key, token.prefix}
    assert raw.startswith(token.prefix)
    assert len(token.prefix) < len(raw) // 3


def test_last_used_is_written_at_most_once_a_minute(lukio_staff):
    token, raw = token_create(user=lukio_staff, name="sync")
    earlier = timezone.now() - dt.timedelta(seconds=10)
    ApiToken.objects.filter(pk=token.pk).update(last_used_at=earlier)
    client = Client(headers={"Authorization": f"Bearer {raw}"})

    client.get(f"{API}/me")
    token.refresh_from_db()
    assert token.last_used_at == earlier

    ApiToken.objects.filter(pk=token.pk).update(last_used_at=earlier - LAST_USED_PRECISION)
    client.get(f"{API}/me")
    token.refresh_from_db()
    assert token.last_used_at > earlier


def test_a_revoked_token_is_refused_with_401(lukio_staff):
    token, raw = token_create(user=lukio_staff, name="old laptop")
    token_revoke(token=token)

    response = Client().get(f"{API}/me", headers={"Authorization": f"Bearer {raw}"})

    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"
    assert response.json()["detail"]


def test_revoking_twice_keeps_the_first_revocation_time(lukio_staff):
    token, _ = token_create(user=lukio_staff, name="x")
    first = token_revoke(token=token).revoked_at

    assert token_revoke(token=token).revoked_at == first


@pytest.mark.parametrize("garbage", ["nonsense", "kmp_not-a-real-token", "kmp_", "Bearer"])
def test_a_garbage_token_is_refused_with_401(joint_campus, garbage):
    response = Client().get(f"{API}/rooms", headers={"Authorization": f"Bearer {garbage}"})

    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"


def test_a_wrong_token_is_refused_even_with_a_valid_session(lukio_staff):
    client = Client()
    client.force_login(lukio_staff)

    response = client.get(f"{API}/me", headers={"Authorization": "Bearer kmp_wrong"})

    assert response.status_code == 401


def test_a_token_of_a_deactivated_user_is_refused(lukio_staff):
    _, raw = token_create(user=lukio_staff, name="x")
    lukio_staff.is_active = False
    lukio_staff.save()

    response = Client().get(f"{API}/me", headers={"Authorization": f"Bearer {raw}"})

    assert response.status_code == 401


def test_without_credentials_resource_endpoints_answer_401_with_the_error_body(joint_campus):
    for path in ["/me", "/rooms", f"/rooms/{joint_campus.lab.pk}", "/institutions", "/campuses", "/buildings"]:
        response = Client().get(f"{API}{path}")

        assert response.status_code == 401, path
        assert response.json() == {"detail": response.json()["detail"], "code": "not_authenticated"}
        assert response["WWW-Authenticate"].startswith("Bearer")


def test_the_browser_session_authenticates_a_get(lukio_staff):
    client = Client(enforce_csrf_checks=True)
    client.force_login(lukio_staff)

    response = client.get(f"{API}/me")

    assert response.status_code == 200
    assert response.json()["username"] == "lukio.teacher"


def test_a_session_post_without_csrf_token_is_refused_with_403(lukio_staff):
    client = Client(enforce_csrf_checks=True)
    client.force_login(lukio_staff)

    response = client.post(f"{API}/me/language", {"language": "sv"}, content_type="application/json")

    assert response.status_code == 403
    assert response.json()["code"] == "csrf_failed"
    assert set(response.json()) == {"detail", "code"}
    lukio_staff.refresh_from_db()
    assert lukio_staff.preferred_language == ""


def test_a_session_post_with_the_csrf_token_goes_through(lukio_staff):
    client = Client(enforce_csrf_checks=True)
    client.force_login(lukio_staff)
    client.get("/admin/login/")  # any page rendering the CSRF token sets the cookie
    csrf_token = client.cookies["csrftoken"].value

    response = client.post(
        f"{API}/me/language", {"language": "sv"}, content_type="application/json", headers={"X-CSRFToken": csrf_token}
    )

    assert response.status_code == 200
    lukio_staff.refresh_from_db()
    assert lukio_staff.preferred_language == "sv"


def test_a_token_post_needs_no_csrf_token(lukio_staff):
    _, raw = token_create(user=lukio_staff, name="x")
    client = Client(enforce_csrf_checks=True, headers={"Authorization": f"Bearer {raw}"})

    response = client.post(f"{API}/me/language", {"language": "en"}, content_type="application/json")

    assert response.status_code == 200


def test_an_anonymous_post_is_told_to_authenticate_not_about_csrf(joint_campus):
    response = Client(enforce_csrf_checks=True).post(
        f"{API}/me/language", {"language": "en"}, content_type="application/json"
    )

    assert response.status_code == 401


def test_a_token_with_a_validity_works_until_it_expires(lukio_staff):
    token, raw = token_create(user=lukio_staff, name="substitute's laptop", valid_days=30)
    client = Client(headers={"Authorization": f"Bearer {raw}"})

    assert token.expires_at == pytest.approx(timezone.now() + dt.timedelta(days=30), abs=dt.timedelta(seconds=5))
    assert client.get(f"{API}/me").status_code == 200

    ApiToken.objects.filter(pk=token.pk).update(expires_at=timezone.now() - dt.timedelta(seconds=1))
    response = client.get(f"{API}/me")

    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"
    token.refresh_from_db()
    assert token.has_expired
    assert not token.is_active


def test_the_owner_sets_and_sees_the_expiry_and_last_use_through_the_api(lukio_staff, client_with_token):
    api = client_with_token(lukio_staff)

    created = api.post(f"{API}/me/tokens", {"name": "sync", "valid_days": 7}, content_type="application/json")
    listed = {item["name"]: item for item in api.get(f"{API}/me/tokens").json()}

    assert created.status_code == 201
    assert created.json()["expires_at"] is not None
    assert listed["sync"]["expires_at"] == created.json()["expires_at"]
    assert listed["tests"]["expires_at"] is None  # the client's own token: valid until revoked
    assert listed["tests"]["last_used_at"] is not None


@pytest.mark.parametrize("days", [0, -1, 3651])
def test_a_validity_out_of_range_is_a_422_naming_the_field(lukio_staff, client_with_token, days):
    response = client_with_token(lukio_staff).post(
        f"{API}/me/tokens", {"name": "sync", "valid_days": days}, content_type="application/json"
    )

    assert response.status_code == 422
    assert "valid_days" in str(response.json()["errors"])


def test_the_profile_page_makes_a_token_that_expires_and_shows_when(lukio_staff):
    lukio_staff.preferred_language = "en"
    lukio_staff.save(update_fields=["preferred_language"])
    client = Client()
    client.force_login(lukio_staff)

    response = client.post("/profile/", {"name": "printer script", "valid_days": "2"})

    assert response.status_code == 200
    token = ApiToken.objects.get(user=lukio_staff, name="printer script")
    assert token.expires_at is not None
    assert (token.expires_at - timezone.now()).days == 1  # two days from now, less the seconds gone by
    page = client.get("/profile/").content.decode()
    assert '<th scope="col">Expires</th>' in page
    assert "When revoked" not in page  # the only token expires
