"""The front page, the accessibility statement and the privacy notice."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.db import connection
from django.test import Client, override_settings
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import translation

from bookings import services
from campus import views_site
from campus.models import User
from tests.bookings.conftest import at, book, today
from tests.web.conftest import client_for, running_booking

STATEMENT = {
    "fi": ("Saavutettavuusseloste", "laissa digitaalisten palvelujen tarjoamisesta (306/2019)"),
    "sv": ("Tillgänglighetsutlåtande", "lagen om tillhandahållande av digitala tjänster (306/2019)"),
    "en": ("Accessibility statement", "Act on the Provision of Digital Services (306/2019)"),
}
NOTICE = {
    "fi": ("Tietosuojaseloste", "Rekisterinpitäjä on"),
    "sv": ("Dataskyddsbeskrivning", "Personuppgiftsansvarig är"),
    "en": ("Privacy notice", "The controller is"),
}


def assert_page_in(response, language: str, heading: str, phrase: str) -> None:
    assert response.status_code == 200
    assert f'<html lang="{language}">' in response.text
    assert f"<h1>{heading}</h1>" in response.text
    assert phrase in response.text
    assert f'<article class="prose" lang="{language}">' in response.text


# --- Accessibility statement and privacy notice --------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("language", ["fi", "sv", "en"])
def test_the_accessibility_statement_follows_the_browsers_language(language):
    response = Client(headers={"accept-language": language}).get(reverse("campus:accessibility"))

    assert_page_in(response, language, *STATEMENT[language])
    assert "WCAG 2.1" in response.text
    assert 'href="mailto:saavutettavuus@example.org"' in response.text


@pytest.mark.django_db
@pytest.mark.parametrize("language", ["fi", "sv", "en"])
def test_the_privacy_notice_follows_the_language_cookie(language):
    client = Client(headers={"accept-language": "de"})
    client.cookies["kampus_language"] = language

    response = client.get(reverse("campus:privacy"))

    assert_page_in(response, language, *NOTICE[language])


@pytest.mark.django_db
def test_the_pages_default_to_finnish():
    response = Client().get(reverse("campus:privacy"))

    assert_page_in(response, "fi", *NOTICE["fi"])


def test_a_signed_in_users_own_language_picks_the_page(lukio_staff):
    User.objects.filter(pk=lukio_staff.pk).update(preferred_language="sv")
    client = Client(headers={"accept-language": "en"})
    client.force_login(lukio_staff)

    response = client.get(reverse("campus:accessibility"))

    assert_page_in(response, "sv", *STATEMENT["sv"])


@pytest.mark.parametrize(("active", "page"), [("fi", "fi"), ("sv", "sv"), ("en", "en"), ("en-gb", "en"), ("de", "en")])
def test_a_language_without_its_own_page_falls_back_to_english(active, page):
    with translation.override(active):
        assert views_site.page_language() == page
        assert views_site.page_templates("privacy") == [f"pages/privacy_{page}.html", "pages/privacy_en.html"]


@pytest.mark.django_db
@pytest.mark.parametrize("language", ["fi", "sv", "en"])
def test_the_statement_names_the_supervisory_authority_and_the_date(language):
    response = Client(headers={"accept-language": language}).get(reverse("campus:accessibility"))

    assert "Traficom" in response.text
    date = views_site.ACCESSIBILITY_STATEMENT_DATE
    expected = f"{date.day}.{date.month}.{date.year}" if language != "en" else f"{date.day} November {date.year}"
    assert expected in response.text


@pytest.mark.django_db
@override_settings(
    KAMPUS_ACCESSIBILITY_CONTACT="palaute@koskipuisto.example",
    KAMPUS_CONTROLLER_NAME="Koskipuiston koulutuskuntayhtymä",
    KAMPUS_PRIVACY_CONTACT="tietosuoja@koskipuisto.example",
)
def test_the_contacts_and_the_controller_come_from_the_settings_at_request_time():
    client = Client(headers={"accept-language": "fi"})

    statement = client.get(reverse("campus:accessibility")).text
    notice = client.get(reverse("campus:privacy")).text

    assert 'href="mailto:palaute@koskipuisto.example"' in statement
    assert "<strong>Koskipuiston koulutuskuntayhtymä</strong>" in notice
    assert 'href="mailto:tietosuoja@koskipuisto.example"' in notice
    assert "kampuksen ylläpitäjä" not in notice


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("language", "placeholder"), [("fi", "kampuksen ylläpitäjä"), ("en", "the operator of the campus")]
)
def test_without_a_controller_setting_the_notice_names_the_operator(language, placeholder):
    response = Client(headers={"accept-language": language}).get(reverse("campus:privacy"))

    assert f"{NOTICE[language][1]} {placeholder}" in response.text


@pytest.mark.django_db
@pytest.mark.parametrize("language", ["fi", "sv", "en"])
def test_the_notice_says_sensors_only_count_people(language):
    phrase = {"fi": "montako ihmistä", "sv": "hur många personer", "en": "only count how many people"}[language]

    response = Client(headers={"accept-language": language}).get(reverse("campus:privacy"))

    assert phrase in response.text


@pytest.mark.django_db
def test_the_footer_links_to_both_pages():
    response = Client().get(reverse("campus:accessibility"))

    assert f'href="{reverse("campus:accessibility")}"' in response.text
    assert f'href="{reverse("campus:privacy")}"' in response.text


# --- Front page ----------------------------------------------------------------------------------


def test_anonymous_visitors_get_an_explanation_and_a_way_to_sign_in(joint_campus):
    response = Client(headers={"accept-language": "en"}).get(reverse("campus:home"))

    assert response.status_code == 200
    assert "Welcome to Kampus" in response.text
    assert "book shared rooms" in response.text
    assert f'class="button" href="{reverse("login")}"' in response.text
    assert f'href="{reverse("password_reset")}"' in response.text
    assert joint_campus.campus.name in response.text
    assert 'aria-label="Quick links"' not in response.text
    assert reverse("bookings:new") not in response.text


def test_signed_in_users_get_quick_links(lukio_staff):
    response = client_for(lukio_staff).get(reverse("campus:home"))

    assert response.status_code == 200
    assert 'aria-label="Quick links"' in response.text
    for name, label in [
        ("bookings:find-room", "Find a free room"),
        ("bookings:new", "New booking"),
        ("bookings:mine", "My bookings"),
    ]:
        assert f'href="{reverse(name)}">{label}</a>' in response.text
    assert f'href="{reverse("password_change")}"' in response.text
    assert "You have no more bookings today." in response.text


def test_the_front_page_lists_the_users_own_active_bookings_for_the_rest_of_today(
    joint_campus, always_open, lukio_staff, fm_of_lukio
):
    mine = running_booking(lukio_staff, joint_campus.classroom, "Maths 2b")
    running_booking(fm_of_lukio, joint_campus.lab, "Someone else's lab")
    cancelled = running_booking(lukio_staff, joint_campus.shared_auditorium, "Cancelled assembly")
    services.booking_cancel(booking=cancelled, actor=lukio_staff)
    tomorrow = today() + dt.timedelta(days=1)
    book(lukio_staff, joint_campus.classroom, at(tomorrow, 10), at(tomorrow, 11), title="Tomorrow's lesson")

    response = client_for(lukio_staff).get(reverse("campus:home"))

    assert f'href="{reverse("bookings:detail", args=[mine.pk])}">Maths 2b</a>' in response.text
    assert "A101 Classroom 101 · Main building" in response.text
    assert '<span class="badge today-now">Now</span>' in response.text
    assert "Someone else" not in response.text
    assert "Cancelled assembly" not in response.text
    assert "Tomorrow's lesson" not in response.text
    assert "You have no more bookings today." not in response.text


def test_a_pending_request_says_so_in_words(joint_campus, always_open, requests_for_auditorium, lukio_staff):
    running_booking(lukio_staff, joint_campus.shared_auditorium, "Assembly")

    response = client_for(lukio_staff).get(reverse("campus:home"))

    assert "Assembly</a>" in response.text
    assert '<span class="badge status-pending">Pending approval</span>' in response.text


def test_the_front_page_runs_a_fixed_number_of_queries(joint_campus, always_open, lukio_staff):
    client = client_for(lukio_staff)
    running_booking(lukio_staff, joint_campus.classroom, "First")
    with CaptureQueriesContext(connection) as one:
        client.get(reverse("campus:home"))
    running_booking(lukio_staff, joint_campus.lab, "Second")
    running_booking(lukio_staff, joint_campus.shared_auditorium, "Third")

    with CaptureQueriesContext(connection) as three:
        response = client.get(reverse("campus:home"))

    assert "Third" in response.text
    assert len(three) == len(one)


# --- the favicon ---------------------------------------------------------------------------------------


def test_favicon_ico_leads_to_kampus_icon(client, joint_campus):
    from django.contrib.staticfiles import finders

    response = client.get("/favicon.ico")

    assert response.status_code == 301
    assert response["Location"] == "/static/kampus/favicon.ico"
    with open(finders.find("kampus/favicon.ico"), "rb") as icon:
        assert icon.read(4) == b"\x00\x00\x01\x00"  # an ICO file's header


def test_every_page_names_its_icon(client, joint_campus):
    html = client.get(reverse("campus:home")).content.decode()
    assert '<link rel="icon" href="/static/kampus/favicon.svg" type="image/svg+xml">' in html
    assert '<link rel="icon" href="/static/kampus/favicon.ico" sizes="32x32">' in html


def test_page_titles_name_the_page_then_kampus(client, joint_campus):
    home = client.get("/", headers={"accept-language": "en"}).content.decode()
    login = client.get("/accounts/login/", headers={"accept-language": "en"}).content.decode()

    assert "<title>Kampus</title>" in home
    assert re.search(r"<title>\S.* – Kampus</title>", login)
