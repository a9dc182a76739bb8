"""Signing in and out, the forgotten-password flow and changing the password."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest
from django.contrib.auth import SESSION_KEY
from django.contrib.auth.models import AnonymousUser
from django.template.loader import render_to_string
from django.test import Client, RequestFactory
from django.urls import reverse

from campus.models import User

PASSWORD = "pass-for-tests-1"
NEW_PASSWORD = "Lumihiutale-Kevät-2031"


class Tags(HTMLParser):
    """Collect the start tags of a page with their attributes, and the text of elements by id."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str]]] = []
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, {name: value or "" for name, value in attrs}))

    def find(self, tag: str, **wanted: str) -> list[dict[str, str]]:
        return [
            attrs
            for name, attrs in self.tags
            if name == tag and all(attrs.get(key) == value for key, value in wanted.items())
        ]

    def one(self, tag: str, **wanted: str) -> dict[str, str]:
        found = self.find(tag, **wanted)
        assert len(found) == 1, f"expected one <{tag} {wanted}>, found {len(found)}"
        return found[0]

    def ids(self) -> set[str]:
        return {attrs["id"] for _, attrs in self.tags if "id" in attrs}


def english() -> Client:
    return Client(headers={"accept-language": "en"})


def assert_every_input_is_labelled(page: Tags) -> None:
    labelled = {attrs["for"] for attrs in page.find("label")}
    for attrs in page.find("input"):
        if attrs.get("type") in {"hidden", "submit"} or "hidden" in attrs:
            continue
        assert attrs.get("id") in labelled, f"input {attrs.get('name')} has no label"


def assert_described_by_existing_ids(page: Tags, field: dict[str, str]) -> list[str]:
    described_by = field.get("aria-describedby", "").split()
    assert set(described_by) <= page.ids(), f"aria-describedby names missing ids: {described_by}"
    return described_by


# --- Signing in ----------------------------------------------------------------------------------


def test_the_sign_in_page_has_labelled_fields_for_password_managers(db):
    response = english().get(reverse("login"))

    assert response.status_code == 200
    page = Tags(response.text)
    assert_every_input_is_labelled(page)
    username = page.one("input", name="username")
    password = page.one("input", name="password")
    assert username["autocomplete"] == "username"
    assert password["autocomplete"] == "current-password"
    assert password["type"] == "password"
    assert "required" in username
    assert "required" in password
    assert assert_described_by_existing_ids(page, username) == ["id_username_helptext"]
    assert page.one("form", action=reverse("login"))["method"] == "post"
    assert page.find("a", href=reverse("password_reset"))


def test_signing_in_goes_to_the_front_page(teacher):
    client = english()

    response = client.post(reverse("login"), {"username": "liisa.lehtonen", "password": PASSWORD})

    assert response.status_code == 302
    assert response["Location"] == reverse("campus:home")
    assert client.session[SESSION_KEY] == str(teacher.pk)


def test_signing_in_returns_to_the_page_asked_for(teacher):
    client = english()
    asked_for = reverse("bookings:mine")

    page = client.get(reverse("login"), {"next": asked_for})
    response = client.post(reverse("login"), {"username": "liisa.lehtonen", "password": PASSWORD, "next": asked_for})

    assert Tags(page.text).one("input", name="next", value=asked_for)["type"] == "hidden"
    assert response.status_code == 302
    assert response["Location"] == asked_for


def test_a_wrong_password_shows_an_error_linked_to_the_fields(teacher):
    client = english()

    response = client.post(reverse("login"), {"username": "liisa.lehtonen", "password": "wrong-password"})

    assert response.status_code == 200
    page = Tags(response.text)
    assert page.one("div", id="error-summary")["role"] == "alert"
    assert page.one("li", id="login-error")
    assert page.find("a", href="#id_username")
    assert "Please enter a correct username and password" in response.text
    username = page.one("input", name="username")
    password = page.one("input", name="password")
    assert username["value"] == "liisa.lehtonen"
    assert "value" not in password
    for field in (username, password):
        assert field["aria-invalid"] == "true"
        assert "login-error" in assert_described_by_existing_ids(page, field)
    assert SESSION_KEY not in client.session


def test_a_missing_password_is_an_error_of_the_password_field(teacher):
    response = english().post(reverse("login"), {"username": "liisa.lehtonen", "password": ""})

    page = Tags(response.text)
    password = page.one("input", name="password")
    assert password["aria-invalid"] == "true"
    assert assert_described_by_existing_ids(page, password) == ["id_password_error"]
    assert page.find("a", href="#id_password")


def test_signing_out_is_a_post_and_returns_to_the_front_page(teacher):
    client = english()
    client.force_login(teacher)

    refused = client.get(reverse("logout"))
    response = client.post(reverse("logout"))

    assert refused.status_code == 405
    assert response.status_code == 302
    assert response["Location"] == reverse("campus:home")
    assert SESSION_KEY not in client.session


def test_every_page_offers_signing_out_as_a_form(teacher):
    client = english()
    client.force_login(teacher)

    page = Tags(client.get(reverse("campus:accessibility")).text)

    assert page.one("form", action=reverse("logout"))["method"] == "post"


def test_the_signed_out_page_offers_signing_in_again(db):
    request = RequestFactory().get("/")
    request.user = AnonymousUser()

    html = render_to_string("registration/logged_out.html", request=request)

    assert "You have signed out" in html
    assert f'href="{reverse("login")}"' in html


# --- Forgotten password --------------------------------------------------------------------------


def reset_link(body: str) -> str:
    match = re.search(r"https?://testserver(/accounts/reset/\S+/\S+/)", body)
    assert match, body
    return match.group(1)


def test_the_reset_page_has_a_labelled_email_field(db):
    response = english().get(reverse("password_reset"))

    page = Tags(response.text)
    assert response.status_code == 200
    assert_every_input_is_labelled(page)
    assert page.one("input", name="email")["autocomplete"] == "email"


def test_a_password_reset_mails_a_link_that_lets_the_user_choose_a_new_password(teacher, mailoutbox):
    client = english()

    response = client.post(reverse("password_reset"), {"email": "liisa.lehtonen@example.org"})

    assert response.status_code == 302
    assert response["Location"] == reverse("password_reset_done")
    assert len(mailoutbox) == 1
    mail = mailoutbox[0]
    assert mail.to == ["liisa.lehtonen@example.org"]
    assert mail.subject == "Password reset on testserver"
    assert "Hello Liisa Lehtonen," in mail.body
    assert "Your username: liisa.lehtonen" in mail.body

    form_page = client.get(reset_link(mail.body), follow=True)
    page = Tags(form_page.text)
    assert form_page.status_code == 200
    assert_every_input_is_labelled(page)
    new_password = page.one("input", name="new_password1")
    assert new_password["autocomplete"] == "new-password"
    assert assert_described_by_existing_ids(page, new_password) == ["id_new_password1_helptext"]

    done = client.post(form_page.redirect_chain[-1][0], {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})

    assert done.status_code == 302
    assert done["Location"] == reverse("password_reset_complete")
    teacher.refresh_from_db()
    assert teacher.check_password(NEW_PASSWORD)


@pytest.mark.parametrize(
    ("preferred", "accept_language", "subject"),
    [
        ("sv", "en", "Lösenord nollställt på testserver"),
        ("fi", "sv", "Salasanan nollaus sivustolla testserver"),
        ("", "fi", "Salasanan nollaus sivustolla testserver"),
        ("", "sv", "Lösenord nollställt på testserver"),
    ],
)
def test_the_reset_mail_speaks_the_users_language_else_the_pages(
    teacher, mailoutbox, preferred, accept_language, subject
):
    User.objects.filter(pk=teacher.pk).update(preferred_language=preferred)
    client = Client(headers={"accept-language": accept_language})

    client.post(reverse("password_reset"), {"email": "liisa.lehtonen@example.org"})

    assert [mail.subject.strip() for mail in mailoutbox] == [subject]


def test_an_unknown_address_gets_the_same_answer_and_no_mail(db, mailoutbox):
    response = english().post(reverse("password_reset"), {"email": "nobody@example.org"})

    assert response.status_code == 302
    assert response["Location"] == reverse("password_reset_done")
    assert mailoutbox == []


def test_a_spoilt_reset_link_says_so_and_offers_a_new_one(teacher):
    response = english().get(reverse("password_reset_confirm", args=["MQ", "not-a-token"]), follow=True)

    assert response.status_code == 200
    assert "This link no longer works" in response.text
    assert not Tags(response.text).find("input", name="new_password1")
    assert f'href="{reverse("password_reset")}"' in response.text


def test_mismatched_new_passwords_are_an_error_of_the_confirmation_field(teacher, mailoutbox):
    client = english()
    client.post(reverse("password_reset"), {"email": "liisa.lehtonen@example.org"})
    form_page = client.get(reset_link(mailoutbox[0].body), follow=True)

    response = client.post(
        form_page.redirect_chain[-1][0], {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD + "x"}
    )

    page = Tags(response.text)
    confirmation = page.one("input", name="new_password2")
    assert confirmation["aria-invalid"] == "true"
    assert "id_new_password2_error" in assert_described_by_existing_ids(page, confirmation)
    assert page.find("a", href="#id_new_password2")


# --- Changing the password -----------------------------------------------------------------------


def test_changing_the_password_needs_signing_in(db):
    response = english().get(reverse("password_change"))

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_a_signed_in_user_changes_the_password_and_stays_signed_in(teacher):
    client = english()
    client.force_login(teacher)

    page = Tags(client.get(reverse("password_change")).text)
    response = client.post(
        reverse("password_change"),
        {"old_password": PASSWORD, "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    )

    assert_every_input_is_labelled(page)
    assert page.one("input", name="old_password")["autocomplete"] == "current-password"
    assert page.one("input", name="new_password1")["autocomplete"] == "new-password"
    assert response.status_code == 302
    assert response["Location"] == reverse("password_change_done")
    teacher.refresh_from_db()
    assert teacher.check_password(NEW_PASSWORD)
    assert client.get(reverse("password_change_done")).status_code == 200


def test_a_wrong_current_password_is_linked_to_its_field(teacher):
    client = english()
    client.force_login(teacher)

    response = client.post(
        reverse("password_change"),
        {"old_password": "not-it", "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    )

    page = Tags(response.text)
    old = page.one("input", name="old_password")
    assert response.status_code == 200
    assert old["aria-invalid"] == "true"
    assert assert_described_by_existing_ids(page, old) == ["id_old_password_error"]
    assert page.find("a", href="#id_old_password")
    teacher.refresh_from_db()
    assert teacher.check_password(PASSWORD)
