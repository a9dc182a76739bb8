"""manage.py create_token and the token admin."""

from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.test import Client

from api.models import ApiToken
from api.tokens import hash_token, token_create

from .conftest import API


def test_create_token_prints_the_token_as_its_last_line_and_it_authenticates(lukio_staff):
    out = StringIO()

    call_command("create_token", "lukio.teacher", "--name", "timetable sync", stdout=out)

    lines = out.getvalue().strip().splitlines()
    raw = lines[-1]
    assert len(lines) > 1
    token = ApiToken.objects.get(user=lukio_staff)
    assert token.name == "timetable sync"
    assert token.hashed_key == hash_token(raw)
    response = Client().get(f"{API}/me", headers={"Authorization": f"Bearer {raw}"})
    assert response.status_code == 200
    assert response.json()["username"] == "lukio.teacher"


def test_create_token_refuses_an_unknown_user(db):
    with pytest.raises(CommandError, match="nobody"):
        call_command("create_token", "nobody", stdout=StringIO())


def test_the_admin_revokes_selected_tokens(superuser, lukio_staff):
    token, raw = token_create(user=lukio_staff, name="old laptop")
    client = Client()
    client.force_login(superuser)

    response = client.post("/admin/api/apitoken/", {"action": "revoke", "_selected_action": [token.pk]}, follow=True)

    assert response.status_code == 200
    token.refresh_from_db()
    assert token.revoked_at is not None
    assert Client().get(f"{API}/me", headers={"Authorization": f"Bearer {raw}"}).status_code == 401


def test_the_admin_shows_the_hash_read_only_and_cannot_add_tokens(superuser, lukio_staff):
    token, _ = token_create(user=lukio_staff, name="sync")
    client = Client()
    client.force_login(superuser)

    change_page = client.get(f"/admin/api/apitoken/{token.pk}/change/")

    assert change_page.status_code == 200
    assert token.hashed_key in change_page.content.decode()
    assert 'name="hashed_key"' not in change_page.content.decode()
    assert client.get("/admin/api/apitoken/add/").status_code == 403


def test_people_create_list_and_revoke_their_own_tokens(client_with_token, lukio_staff, vocational_staff):
    from django.test import Client

    owner = client_with_token(lukio_staff)
    created = owner.post("/api/v1/me/tokens", {"name": "timetable sync"}, content_type="application/json")
    assert created.status_code == 201
    body = created.json()
    raw = body["token"]
    assert raw.startswith(body["prefix"])
    assert "token" not in owner.get("/api/v1/me/tokens").json()[0]
    new_client = Client(headers={"Authorization": f"Bearer {raw}"})
    assert new_client.get("/api/v1/me").json()["username"] == lukio_staff.username

    stranger = client_with_token(vocational_staff)
    assert stranger.post(f"/api/v1/me/tokens/{body['id']}/revoke").status_code == 404
    assert owner.post(f"/api/v1/me/tokens/{body['id']}/revoke").status_code == 200
    assert new_client.get("/api/v1/me").status_code == 401
