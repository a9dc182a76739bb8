"""Hardening of the pages: personal details by who the viewer is, odd dates, no caching of signed-in pages."""

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib.auth.models import AnonymousUser
from django.http import HttpResponse
from django.test import Client, RequestFactory
from django.urls import reverse

from bookings import services
from bookings.models import Booking, Visibility
from campus.security import ContentSecurityPolicyMiddleware
from tests.bookings.conftest import at, book, today
from tests.web.conftest import client_for


@pytest.fixture
def welding(joint_campus, vocational_staff, day) -> Booking:
    """A vocational teacher's campus-wide booking of the shared auditorium, for a guest."""
    return book(
        vocational_staff,
        joint_campus.shared_auditorium,
        at(day, 12),
        at(day, 13),
        title="Welding show",
        visibility=Visibility.CAMPUS,
        on_behalf_of_name="Guest welder",
    ).first


PEOPLE = [
    "Liisa Lehtonen",
    "Maija Meikäläinen",
    "maija@example.org",
    "Parents&#x27; association",
    "parents&#x27; evening",
]


# --- personal details --------------------------------------------------------------------------------


def test_a_public_booking_shows_another_institution_its_title_but_not_its_people(vocational_staff, open_day):
    page = client_for(vocational_staff).get(reverse("bookings:detail", args=[open_day.pk])).content.decode()

    assert "Open day" in page
    assert [person for person in PEOPLE if person in page] == []
    assert "shown only to its institution and the facility services" in page


@pytest.mark.parametrize("who", ["lukio_staff", "lukio_colleague", "front_desk"])
def test_the_booker_the_institution_and_the_front_desk_see_the_people_of_a_booking(request, open_day, who):
    page = client_for(request.getfixturevalue(who)).get(reverse("bookings:detail", args=[open_day.pk]))

    assert [person for person in PEOPLE if person not in page.content.decode()] == []


def test_the_day_list_names_the_booker_only_to_those_who_see_the_details(fm_of_lukio, front_desk, welding, day):
    url = f"{reverse('manage:front-desk')}?date={day.isoformat()}"

    manager = client_for(fm_of_lukio).get(url).content.decode()
    desk = client_for(front_desk).get(url).content.decode()
    printed = (
        client_for(fm_of_lukio).get(f"{reverse('manage:front-desk-print')}?date={day.isoformat()}").content.decode()
    )

    assert "Welding show" in manager
    assert "Ville Virtanen" not in manager
    assert "Ville Virtanen" not in printed
    assert "Guest welder" not in manager
    assert "Ville Virtanen" in desk
    assert "Guest welder" in desk


def test_a_closure_names_the_bookers_only_to_those_who_see_the_details(
    joint_campus, campus_fm, fm_of_lukio, welding, day
):
    closure, _affected = services.closure_create(
        actor=campus_fm, building=joint_campus.main_building, start=at(day, 0), end=at(day, 23), reason="Fire drill"
    )
    url = reverse("manage:closure-detail", args=[closure.pk])

    manager = client_for(fm_of_lukio).get(url).content.decode()
    campus_manager = client_for(campus_fm).get(url).content.decode()

    assert "Welding show" in manager
    assert "Ville Virtanen" not in manager
    assert "Ville Virtanen" in campus_manager


# --- dates outside the years Kampus knows ------------------------------------------------------------


@pytest.mark.parametrize("week", ["0001-01-01", "9999-12-31"])
@pytest.mark.parametrize("page", ["bookings:room-detail", "bookings:room-print"])
def test_a_room_week_far_outside_the_years_shows_this_week(lukio_staff, joint_campus, page, week):
    response = client_for(lukio_staff).get(f"{reverse(page, args=[joint_campus.classroom.pk])}?week={week}")

    assert response.status_code == 200
    monday = today() - dt.timedelta(days=today().weekday())
    assert response.context["monday"] == monday


@pytest.mark.parametrize("date", ["0001-01-01", "9999-12-31"])
@pytest.mark.parametrize("page", ["manage:front-desk", "manage:front-desk-print"])
def test_a_front_desk_day_far_outside_the_years_shows_today_and_says_so(front_desk, page, date):
    response = client_for(front_desk).get(f"{reverse(page)}?date={date}")

    assert response.status_code == 200
    assert response.context["day"] == response.context["today"]
    assert "is not between 1900 and 2200" in response.context["date_error"]


@pytest.mark.parametrize("start", ["9999-12-31T23:30", "0001-01-01T00:00"])
def test_a_booking_form_prefilled_far_outside_the_years_starts_from_now(lukio_staff, start):
    response = client_for(lukio_staff).get(f"{reverse('bookings:new')}?start={start}")

    assert response.status_code == 200
    assert response.context["form"].initial["date"] >= today()


def test_a_room_search_far_outside_the_years_is_a_form_error(lukio_staff, joint_campus):
    response = client_for(lukio_staff).get(f"{reverse('bookings:find-room')}?date=9999-12-31&start=23:00&duration=60")

    assert response.status_code == 200
    assert "between 1900 and 2200" in response.context["form"].errors["date"][0]


@pytest.mark.parametrize(("first", "last"), [("9999-12-31", "9999-12-31"), ("0001-01-01", "0001-01-01")])
def test_a_closure_far_outside_the_years_is_a_form_error(campus_fm, joint_campus, first, last):
    body = {
        "target": f"building:{joint_campus.main_building.pk}",
        "start_date": first,
        "end_date": last,
        "reason": "Renovation",
    }

    response = client_for(campus_fm).post(reverse("manage:closures"), body)

    assert response.status_code == 422
    errors = response.context["form"].errors
    assert "between 1900 and 2200" in errors["start_date"][0]
    assert "between 1900 and 2200" in errors["end_date"][0]


# --- caching -------------------------------------------------------------------------------------------


def cache_directives(response) -> set[str]:
    return {part.strip() for part in response.get("Cache-Control", "").split(",") if part.strip()}


@pytest.mark.parametrize("page", ["campus:home", "bookings:mine", "bookings:find-room", "manage:front-desk"])
def test_signed_in_pages_are_kept_by_no_cache(front_desk, page):
    response = client_for(front_desk).get(reverse(page))

    assert response.status_code == 200
    assert {"private", "no-store"} <= cache_directives(response)


def test_pages_for_everyone_are_left_to_the_caches(db):
    response = Client().get(reverse("campus:accessibility"))

    assert response.status_code == 200
    assert "no-store" not in cache_directives(response)


def test_static_files_and_a_views_own_caching_are_left_as_they_are(lukio_staff):
    def run(path: str, response: HttpResponse) -> HttpResponse:
        request = RequestFactory().get(path)
        request.user = lukio_staff
        return ContentSecurityPolicyMiddleware(lambda request: response)(request)

    cached = HttpResponse("page")
    cached["Cache-Control"] = "max-age=60"

    assert "Cache-Control" not in run("/static/css/kampus.css", HttpResponse("css"))
    assert run("/bookings/mine/", cached)["Cache-Control"] == "max-age=60"


def test_an_anonymous_request_gets_no_cache_control_from_the_middleware():
    request = RequestFactory().get("/")
    request.user = AnonymousUser()

    response = ContentSecurityPolicyMiddleware(lambda request: HttpResponse("page"))(request)

    assert "Cache-Control" not in response
