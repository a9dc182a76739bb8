"""The profile page: who you are, and your API tokens (made, shown once, revoked), instead of an "API" menu item."""

from __future__ import annotations

from django.urls import reverse

from api.models import ApiToken
from api.tokens import hash_token, token_create
from tests.web.conftest import client_for


def test_anonymous_visitors_are_sent_to_sign_in(client, joint_campus):
    response = client.get(reverse("campus:profile"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_the_header_has_no_api_item_and_names_the_person_with_a_link_to_the_profile(joint_campus, lukio_staff):
    html = client_for(lukio_staff).get(reverse("campus:home")).content.decode()
    header = html[html.index('<header class="site-header">') : html.index("</header>")]
    assert "/api/v1/docs" not in header
    assert ">API<" not in header
    assert f'<a class="who" href="{reverse("campus:profile")}" title="Your profile">Liisa Lehtonen</a>' in header


def test_the_profile_lists_ones_own_tokens_and_roles(joint_campus, lukio_staff, vocational_staff):
    token_create(user=lukio_staff, name="timetable sync")
    token_create(user=vocational_staff, name="someone else's")

    html = client_for(lukio_staff).get(reverse("campus:profile")).content.decode()

    assert "API tokens" in html
    assert "timetable sync" in html
    assert "someone else" not in html
    assert "Staff, Otava Upper Secondary" in html
    assert "/api/v1/docs" in html
    assert reverse("password_change") in html


def test_a_new_token_is_shown_once_and_works(joint_campus, lukio_staff):
    client = client_for(lukio_staff)

    response = client.post(reverse("campus:profile"), {"name": "calendar"})

    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"
    token = ApiToken.objects.get(user=lukio_staff)
    secret = response.context["secret"]
    assert token.name == "calendar"
    assert token.hashed_key == hash_token(secret)
    assert f'value="{secret}"' in response.content.decode()
    assert secret not in client.get(reverse("campus:profile")).content.decode()
    me = client_for(lukio_staff).get("/api/v1/me", headers={"authorization": f"Bearer {secret}"})
    assert me.status_code == 200


def test_a_token_needs_a_name(joint_campus, lukio_staff):
    response = client_for(lukio_staff).post(reverse("campus:profile"), {"name": "  "})
    assert response.status_code == 200
    assert response.context["form"].errors["name"]
    assert not ApiToken.objects.exists()


def test_one_revokes_ones_own_token_but_not_anothers(joint_campus, lukio_staff, vocational_staff):
    own, _secret = token_create(user=lukio_staff, name="old script")
    other, _secret = token_create(user=vocational_staff, name="theirs")
    client = client_for(lukio_staff)

    response = client.post(reverse("campus:profile-token-revoke", args=[own.pk]), follow=True)
    assert "The token old script was revoked." in response.content.decode()
    assert client.post(reverse("campus:profile-token-revoke", args=[other.pk])).status_code == 404
    assert client.get(reverse("campus:profile-token-revoke", args=[own.pk])).status_code == 405

    own.refresh_from_db()
    other.refresh_from_db()
    assert own.revoked_at is not None
    assert other.revoked_at is None
