"""The header's language switch saves a signed-in user's choice; unknown API paths answer JSON."""

from django.test import Client

from campus.models import Language


def test_language_switch_saves_the_signed_in_users_profile_language(lukio_staff):
    lukio_staff.preferred_language = Language.FINNISH
    lukio_staff.save()
    client = Client()
    client.force_login(lukio_staff)

    response = client.post("/i18n/setlang/", {"language": "sv", "next": "/"})

    assert response.status_code == 302
    lukio_staff.refresh_from_db()
    assert lukio_staff.preferred_language == Language.SWEDISH
    assert '<html lang="sv">' in client.get("/").content.decode()


def test_language_switch_for_anonymous_visitors_sets_only_the_cookie(db):
    client = Client()
    response = client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    assert response.cookies["kampus_language"].value == "en"
    assert '<html lang="en">' in client.get("/").content.decode()


def test_an_unknown_api_path_answers_the_json_error_body(db):
    response = Client().get("/api/v1/no-such-thing")
    assert response.status_code == 404
    assert response.json() == {"detail": response.json()["detail"], "code": "not_found"}


def test_an_unknown_page_answers_the_sites_404_page(db):
    response = Client(headers={"accept-language": "en"}).get("/no-such-page/")
    assert response.status_code == 404
    assert "This page does not exist" in response.content.decode()
