"""The admin as facility managers and institution admins use it: pages, scope and permissions."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.contrib import admin
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from campus.admin_site import KampusAdminSite
from campus.models import Building, Campus, Institution, InstitutionKind, Membership, OpeningHours, Role, Room, User
from tests.conftest import JointCampus, make_user
from tests.web.conftest import signed_in

ROOMS = "/admin/campus/room/"
BUILDINGS = "/admin/campus/building/"
MEMBERSHIPS = "/admin/campus/membership/"
IMPORT = "/admin/campus/membership/import/"


def changelist_codes(response) -> set[str]:
    """Return the codes of the rooms a room changelist response lists."""
    return {room.code for room in response.context["cl"].result_list}


def form_data(response) -> dict[str, Any]:
    """Return POST data that submits an admin change form, with its inlines, as the page shows it."""

    def post_value(value: Any) -> Any:
        if isinstance(value, list | tuple):
            return [str(item) for item in value]
        return "" if value is None else str(value)

    def add_fields(form, data: dict[str, Any]) -> None:
        for bound_field in form:
            value = bound_field.value()
            if isinstance(value, bool) or bound_field.widget_type == "checkbox":
                if value:
                    data[bound_field.html_name] = "on"
            else:
                data[bound_field.html_name] = post_value(value)

    data: dict[str, Any] = {}
    add_fields(response.context["adminform"].form, data)
    for inline in response.context["inline_admin_formsets"]:
        formset = inline.formset
        add_fields(formset.management_form, data)
        for form in formset.forms:
            add_fields(form, data)
    return data


@pytest.fixture
def other_campus(db) -> Campus:
    """A second campus with one building and room, out of everyone's scope but a superuser's."""
    campus = Campus.objects.create(name="Kaukola Campus")
    building = Building.objects.create(campus=campus, code="K", name="Kaukola house")
    Room.objects.create(building=building, code="K1", name="Far room", capacity=12)
    return campus


@pytest.fixture
def vocational_workshop(joint_campus: JointCampus) -> Room:
    return Room.objects.create(
        building=joint_campus.workshop_building,
        code="B100",
        name="Welding workshop",
        kind="workshop",
        capacity=8,
        owner=joint_campus.vocational,
    )


def test_the_admin_runs_on_the_kampus_site():
    assert isinstance(admin.site, KampusAdminSite), (
        'Put "campus.admin_site.KampusAdminConfig" in place of "django.contrib.admin" in INSTALLED_APPS'
    )


# --- Who gets in -------------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/admin/", ROOMS, MEMBERSHIPS])
def test_staff_without_an_admin_role_are_sent_to_sign_in(lukio_staff, path):
    response = signed_in(lukio_staff).get(path)

    assert response.status_code == 302
    assert response["Location"].startswith(f"/admin/login/?next={path}")


def test_front_desk_is_sent_to_sign_in(front_desk):
    response = signed_in(front_desk).get("/admin/")

    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")


def test_an_expired_facility_manager_is_sent_to_sign_in(campus_fm):
    Membership.objects.filter(user=campus_fm).update(valid_until=dt.date(2000, 1, 1))

    assert signed_in(campus_fm).get("/admin/").status_code == 302


def test_staff_may_sign_in_for_the_site_but_not_enter_the_admin(lukio_staff):
    client = Client()
    response = client.post(
        "/admin/login/?next=/", {"username": "lukio.teacher", "password": "pass-for-tests-1", "next": "/"}
    )

    assert response.status_code == 302
    assert response["Location"] == "/"
    assert client.get("/admin/").status_code == 302


def test_a_facility_manager_signs_in_without_is_staff(campus_fm):
    assert not campus_fm.is_staff
    client = Client()
    response = client.post(
        "/admin/login/", {"username": "campus.fm", "password": "pass-for-tests-1", "next": "/admin/"}
    )

    assert response.status_code == 302
    assert client.get("/admin/").status_code == 200


# --- Campus facility manager -----------------------------------------------------------------


def test_the_admin_index_shows_a_campus_facility_manager_the_campus_models(campus_fm):
    response = signed_in(campus_fm).get("/admin/")

    assert response.status_code == 200
    models = {model["object_name"] for app in response.context["app_list"] for model in app["models"]}
    assert {"Campus", "Institution", "Building", "Room", "Equipment", "Membership", "User"} <= models
    assert "Group" not in models  # Django's own models keep Django's permissions


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("", {"A101", "A201", "A001"}),
        ("kind=lab", {"A201"}),
        ("owner=shared", {"A001"}),
        ("capacity_range=1-10", set()),
        ("capacity_range=11-30", {"A101", "A201"}),
        ("capacity_range=31-60", set()),
        ("capacity_range=61-", {"A001"}),
        ("step_free__exact=1", {"A101", "A001"}),
        ("is_bookable__exact=1", {"A101", "A201", "A001"}),
        ("q=chemistry", {"A201"}),
        ("q=A00", {"A001"}),
    ],
)
def test_the_room_changelist_filters_and_searches(campus_fm, joint_campus, query, expected):
    response = signed_in(campus_fm).get(f"{ROOMS}?{query}")

    assert response.status_code == 200
    assert changelist_codes(response) == expected


def test_the_room_changelist_filters_by_building_owner_and_equipment(campus_fm, joint_campus, vocational_workshop):
    client = signed_in(campus_fm)

    by_building = client.get(f"{ROOMS}?building__id__exact={joint_campus.workshop_building.pk}")
    by_owner = client.get(f"{ROOMS}?owner={joint_campus.lukio.pk}")
    by_equipment = client.get(f"{ROOMS}?equipment__id__exact={joint_campus.sinks.pk}")

    assert changelist_codes(by_building) == {"B100"}
    assert changelist_codes(by_owner) == {"A101", "A201"}
    assert changelist_codes(by_equipment) == {"A201"}


def test_the_room_changelist_shows_shared_rooms_as_shared(campus_fm, joint_campus):
    response = signed_in(campus_fm).get(ROOMS, headers={"accept-language": "en"})

    assert response.status_code == 200
    assert "Shared" in response.text
    assert "Otava Upper Secondary" in response.text


def test_the_room_changelist_query_count_does_not_grow_with_rooms(campus_fm, joint_campus):
    client = signed_in(campus_fm)
    client.get(ROOMS)  # warm caches (content types, sessions)

    with CaptureQueriesContext(connection) as few:
        client.get(ROOMS)
    for number in range(10):
        Room.objects.create(
            building=joint_campus.workshop_building,
            code=f"B2{number:02}",
            name="Room",
            capacity=10,
            owner=joint_campus.adult,
        )
    with CaptureQueriesContext(connection) as many:
        client.get(ROOMS)

    assert len(many) == len(few)


def test_rooms_and_buildings_of_another_campus_are_out_of_scope(campus_fm, joint_campus, other_campus):
    client = signed_in(campus_fm)
    far_room = Room.objects.get(code="K1")

    assert "K1" not in changelist_codes(client.get(ROOMS))
    assert client.get(f"{ROOMS}{far_room.pk}/change/").status_code == 302  # "does not exist" → index
    assert client.get(f"{BUILDINGS}{far_room.building_id}/change/").status_code == 302


def test_a_superuser_sees_every_campus(joint_campus, other_campus, superuser):
    assert "K1" in changelist_codes(signed_in(superuser).get(ROOMS))


def test_a_campus_facility_manager_changes_a_room(campus_fm, joint_campus):
    client = signed_in(campus_fm)
    url = f"{ROOMS}{joint_campus.lab.pk}/change/"
    page = client.get(url)
    assert page.status_code == 200
    assert set(page.context["adminform"].form.fields) >= {"building", "owner", "equipment", "sections"}

    data = form_data(page)
    data.update({"capacity": "24", "step_free": "on", "_save": "Save"})
    response = client.post(url, data)

    assert response.status_code == 302, response.context["adminform"].form.errors if response.context else ""
    joint_campus.lab.refresh_from_db()
    assert joint_campus.lab.capacity == 24
    assert joint_campus.lab.step_free


def test_a_room_page_lets_its_manager_override_opening_hours(campus_fm, joint_campus):
    client = signed_in(campus_fm)
    url = f"{ROOMS}{joint_campus.lab.pk}/change/"
    data = form_data(client.get(url))
    data.update(
        {
            "opening_hours-TOTAL_FORMS": "1",
            "opening_hours-0-weekday": "0",
            "opening_hours-0-opens": "08:00",
            "opening_hours-0-closes": "16:00",
            "_save": "Save",
        }
    )

    response = client.post(url, data)

    assert response.status_code == 302
    assert OpeningHours.objects.filter(room=joint_campus.lab, weekday=0).count() == 1


def test_the_building_page_shows_rooms_hours_and_exceptions(campus_fm, joint_campus):
    response = signed_in(campus_fm).get(f"{BUILDINGS}{joint_campus.main_building.pk}/change/")

    assert response.status_code == 200
    inlines = {inline.formset.prefix: inline for inline in response.context["inline_admin_formsets"]}
    assert set(inlines) == {"rooms", "opening_hours", "opening_exceptions"}
    assert len(inlines["rooms"].formset.forms) == 3
    assert len(inlines["opening_hours"].formset.forms) == 6
    assert inlines["rooms"].has_add_permission
    assert not inlines["rooms"].has_delete_permission  # rooms carry bookings
    assert inlines["opening_exceptions"].has_delete_permission


def test_a_campus_facility_manager_adds_a_closing_day_to_a_building(campus_fm, joint_campus):
    client = signed_in(campus_fm)
    url = f"{BUILDINGS}{joint_campus.main_building.pk}/change/"
    data = form_data(client.get(url))
    data.update(
        {
            "opening_exceptions-TOTAL_FORMS": "1",
            "opening_exceptions-0-date": "2030-12-24",
            "opening_exceptions-0-closed": "on",
            "opening_exceptions-0-reason": "Christmas Eve",
            "_save": "Save",
        }
    )

    response = client.post(url, data)

    assert response.status_code == 302
    assert joint_campus.main_building.opening_exceptions.get().date == dt.date(2030, 12, 24)


def test_a_campus_facility_manager_views_the_campus_memberships(campus_fm, lukio_staff, lukio_admin):
    response = signed_in(campus_fm).get(MEMBERSHIPS)

    assert response.status_code == 200
    users = {membership.user.username for membership in response.context["cl"].result_list}
    assert users == {"campus.fm", "lukio.teacher", "lukio.admin"}
    assert not response.context["has_add_permission"]


def test_a_campus_facility_manager_cannot_add_memberships(campus_fm):
    client = signed_in(campus_fm)

    assert client.get(f"{MEMBERSHIPS}add/").status_code == 403
    assert client.get(IMPORT).status_code == 403


# --- Institution facility manager -------------------------------------------------------------


def test_an_institution_facility_manager_changes_a_room_of_their_institution(fm_of_lukio, joint_campus):
    client = signed_in(fm_of_lukio)
    url = f"{ROOMS}{joint_campus.classroom.pk}/change/"
    page = client.get(url)
    assert page.status_code == 200
    # They run the room but cannot move it or give it away.
    assert {"building", "owner"}.isdisjoint(page.context["adminform"].form.fields)

    data = form_data(page)
    data.update({"name": "Classroom 101 (renovated)", "_save": "Save"})
    response = client.post(url, data)

    assert response.status_code == 302
    joint_campus.classroom.refresh_from_db()
    assert joint_campus.classroom.name == "Classroom 101 (renovated)"
    assert joint_campus.classroom.owner == joint_campus.lukio


@pytest.mark.parametrize("room_name", ["vocational_workshop", "shared_auditorium"])
def test_an_institution_facility_manager_only_views_other_rooms(
    fm_of_lukio, joint_campus, vocational_workshop, room_name
):
    room = vocational_workshop if room_name == "vocational_workshop" else joint_campus.shared_auditorium
    client = signed_in(fm_of_lukio)
    url = f"{ROOMS}{room.pk}/change/"

    page = client.get(url)
    response = client.post(url, {"name": "Taken over", "_save": "Save"})

    assert page.status_code == 200
    assert not page.context["has_change_permission"]
    assert 'name="_save"' not in page.text
    assert response.status_code == 403
    room.refresh_from_db()
    assert room.name != "Taken over"


def test_an_institution_facility_manager_cannot_add_rooms_or_change_buildings(fm_of_lukio, joint_campus):
    client = signed_in(fm_of_lukio)

    assert client.get(f"{ROOMS}add/").status_code == 403
    building_page = client.get(f"{BUILDINGS}{joint_campus.main_building.pk}/change/")
    assert building_page.status_code == 200
    assert not building_page.context["has_change_permission"]
    assert client.post(f"{BUILDINGS}{joint_campus.main_building.pk}/change/", {}).status_code == 403


def test_an_institution_facility_manager_does_not_see_memberships(fm_of_lukio, lukio_staff):
    assert signed_in(fm_of_lukio).get(MEMBERSHIPS).status_code == 403


# --- Institution admin -------------------------------------------------------------------------


def test_an_institution_admin_lists_only_their_institutions_memberships(
    lukio_admin, lukio_staff, vocational_staff, campus_fm
):
    response = signed_in(lukio_admin).get(MEMBERSHIPS)

    assert response.status_code == 200
    users = {membership.user.username for membership in response.context["cl"].result_list}
    assert users == {"lukio.admin", "lukio.teacher"}


def test_an_institution_admin_cannot_open_or_delete_another_institutions_membership(lukio_admin, vocational_staff):
    other = Membership.objects.get(user=vocational_staff)
    client = signed_in(lukio_admin)

    assert client.get(f"{MEMBERSHIPS}{other.pk}/change/").status_code == 302  # "does not exist" → index
    client.post(f"{MEMBERSHIPS}{other.pk}/delete/", {"post": "yes"})

    assert Membership.objects.filter(pk=other.pk).exists()


def test_an_institution_admin_grants_roles_at_their_institution_only(lukio_admin, joint_campus):
    newcomer = make_user("new.teacher")
    client = signed_in(lukio_admin)
    page = client.get(f"{MEMBERSHIPS}add/")
    form = page.context["adminform"].form
    assert list(form.fields["institution"].queryset) == [joint_campus.lukio]
    assert "campus" not in form.fields

    refused = client.post(
        f"{MEMBERSHIPS}add/", {"user": newcomer.pk, "institution": joint_campus.vocational.pk, "role": Role.STAFF}
    )
    granted = client.post(
        f"{MEMBERSHIPS}add/", {"user": newcomer.pk, "institution": joint_campus.lukio.pk, "role": Role.STAFF}
    )

    assert refused.status_code == 200
    assert "institution" in refused.context["adminform"].form.errors
    assert granted.status_code == 302
    assert list(Membership.objects.filter(user=newcomer).values_list("institution__short_code", flat=True)) == ["lukio"]


def test_an_institution_admin_ends_and_deletes_their_memberships(lukio_admin, lukio_staff):
    membership = Membership.objects.get(user=lukio_staff)
    client = signed_in(lukio_admin)

    response = client.post(f"{MEMBERSHIPS}{membership.pk}/delete/", {"post": "yes"})

    assert response.status_code == 302
    assert not Membership.objects.filter(pk=membership.pk).exists()


def test_an_institution_admin_finds_people_with_autocomplete_and_only_views_them(lukio_admin, lukio_staff):
    client = signed_in(lukio_admin)

    found = client.get(
        "/admin/autocomplete/",
        {"app_label": "campus", "model_name": "membership", "field_name": "user", "term": "lukio.teach"},
    )
    user_page = client.get(f"/admin/campus/user/{lukio_staff.pk}/change/")
    changed = client.post(f"/admin/campus/user/{lukio_staff.pk}/change/", {"username": "renamed"})

    assert found.status_code == 200
    assert [result["text"] for result in found.json()["results"]] == ["Liisa Lehtonen"]
    assert user_page.status_code == 200
    assert not user_page.context["has_change_permission"]
    assert changed.status_code == 403


def test_an_institution_admin_does_not_see_people_of_another_campus(lukio_admin, other_campus):
    stranger = make_user("stranger")
    Membership.objects.create(
        user=stranger,
        role=Role.STAFF,
        institution=Institution.objects.create(
            campus=other_campus, name="Far school", short_code="far", kind=InstitutionKind.OTHER
        ),
    )

    response = signed_in(lukio_admin).get("/admin/campus/user/")

    usernames = {user.username for user in response.context["cl"].result_list}
    assert "lukio.admin" in usernames
    assert "stranger" not in usernames


def test_an_institution_admin_cannot_change_rooms(lukio_admin, joint_campus):
    page = signed_in(lukio_admin).get(f"{ROOMS}{joint_campus.classroom.pk}/change/")

    assert page.status_code == 200
    assert not page.context["has_change_permission"]


# --- Import members from CSV -------------------------------------------------------------------


def upload(text: str) -> SimpleUploadedFile:
    return SimpleUploadedFile("members.csv", text.encode(), content_type="text/csv")


def test_the_membership_changelist_links_to_the_import_for_institution_admins(lukio_admin):
    response = signed_in(lukio_admin).get(MEMBERSHIPS)

    assert f'href="{IMPORT}"' in response.text


def test_the_import_page_offers_only_the_admins_institutions(lukio_admin, joint_campus):
    response = signed_in(lukio_admin).get(IMPORT)

    assert response.status_code == 200
    assert list(response.context["form"].fields["institution"].queryset) == [joint_campus.lukio]


def test_importing_a_members_csv_creates_the_memberships(lukio_admin, lukio_staff, joint_campus):
    csv_text = "username,email,first_name,last_name,role\nnew.teacher,new@example.org,Noora,Nieminen,staff\n"

    response = signed_in(lukio_admin).post(IMPORT, {"institution": joint_campus.lukio.pk, "file": upload(csv_text)})

    assert response.status_code == 302
    assert response["Location"] == f"{MEMBERSHIPS}?institution__id__exact={joint_campus.lukio.pk}"
    membership = Membership.objects.get(user__username="new.teacher")
    assert (membership.institution, membership.role) == (joint_campus.lukio, Role.STAFF)


def test_an_import_with_bad_lines_shows_every_error_and_imports_nothing(lukio_admin, joint_campus):
    csv_text = (
        "username,email,role\n"
        "good.one,good@example.org,staff\n"
        "bad one,bad@example.org,staff\n"
        "bad.role,role@example.org,janitor\n"
    )

    response = signed_in(lukio_admin).post(IMPORT, {"institution": joint_campus.lukio.pk, "file": upload(csv_text)})

    assert response.status_code == 200
    errors = response.context["errors"]
    assert {(str(error["line"]), error["field"]) for error in errors} >= {("3", "username"), ("4", "role")}
    assert 'id="import-errors"' in response.text
    assert not User.objects.filter(username="good.one").exists()


def test_an_import_refuses_a_file_that_is_not_utf8(lukio_admin, joint_campus):
    file = SimpleUploadedFile("members.csv", "username,role\nmäki,staff\n".encode("latin-1"))

    response = signed_in(lukio_admin).post(IMPORT, {"institution": joint_campus.lukio.pk, "file": file})

    assert response.status_code == 200
    assert "file" in response.context["form"].errors


def test_an_institution_admin_cannot_import_into_another_institution(lukio_admin, joint_campus):
    csv_text = "username,email,role\nintruder,intruder@example.org,staff\n"

    response = signed_in(lukio_admin).post(
        IMPORT, {"institution": joint_campus.vocational.pk, "file": upload(csv_text)}
    )

    assert response.status_code == 200
    assert "institution" in response.context["form"].errors
    assert not User.objects.filter(username="intruder").exists()


# --- Sections of a divisible room (only rooms the person manages) -------------------------------


def section_choices(page) -> set[str]:
    return {room.code for room in page.context["adminform"].form.fields["sections"].queryset}


def test_the_room_editor_offers_an_institution_facility_manager_only_their_own_rooms_as_sections(
    fm_of_lukio, joint_campus, vocational_room
):
    page = signed_in(fm_of_lukio).get(f"{ROOMS}{joint_campus.classroom.pk}/change/")

    assert page.status_code == 200
    assert section_choices(page) == {"A201"}  # the lab; not the vocational room, not the shared auditorium


@pytest.mark.parametrize("section_name", ["vocational_room", "shared_auditorium"])
def test_an_institution_facility_manager_cannot_make_a_room_they_do_not_manage_a_section(
    fm_of_lukio, joint_campus, vocational_room, section_name
):
    section = vocational_room if section_name == "vocational_room" else joint_campus.shared_auditorium
    client = signed_in(fm_of_lukio)
    url = f"{ROOMS}{joint_campus.classroom.pk}/change/"
    data = form_data(client.get(url))
    data.update({"sections": [str(section.pk)], "_save": "Save"})

    response = client.post(url, data)

    assert response.status_code == 200
    assert "sections" in response.context["adminform"].form.errors
    assert not joint_campus.classroom.sections.exists()


def test_an_institution_facility_manager_makes_their_own_room_a_section(fm_of_lukio, joint_campus):
    client = signed_in(fm_of_lukio)
    url = f"{ROOMS}{joint_campus.classroom.pk}/change/"
    data = form_data(client.get(url))
    data.update({"sections": [str(joint_campus.lab.pk)], "_save": "Save"})

    response = client.post(url, data)

    assert response.status_code == 302
    assert list(joint_campus.classroom.sections.all()) == [joint_campus.lab]


def test_a_campus_facility_manager_may_combine_any_room_of_the_campus(campus_fm, joint_campus, vocational_room):
    client = signed_in(campus_fm)
    url = f"{ROOMS}{joint_campus.shared_auditorium.pk}/change/"
    page = client.get(url)
    data = form_data(page)
    data.update({"sections": [str(joint_campus.classroom.pk), str(vocational_room.pk)]})

    response = client.post(url, {**data, "_save": "Save"})

    assert {"A101", "A201", "A301"} <= section_choices(page)
    assert response.status_code == 302
    assert set(joint_campus.shared_auditorium.sections.values_list("code", flat=True)) == {"A101", "A301"}


def test_a_section_must_be_in_the_same_building(campus_fm, joint_campus, vocational_workshop):
    client = signed_in(campus_fm)
    url = f"{ROOMS}{joint_campus.shared_auditorium.pk}/change/"
    data = form_data(client.get(url))
    data.update({"sections": [str(vocational_workshop.pk)], "_save": "Save"})

    response = client.post(url, data)

    assert response.status_code == 200
    assert "sections" in response.context["adminform"].form.errors
    assert not joint_campus.shared_auditorium.sections.exists()


# --- Nobody changes their own memberships (but a superuser) ------------------------------------


def test_an_institution_admin_cannot_grant_themselves_a_role(lukio_admin, joint_campus):
    response = signed_in(lukio_admin).post(
        f"{MEMBERSHIPS}add/",
        {"user": lukio_admin.pk, "institution": joint_campus.lukio.pk, "role": Role.FACILITY_MANAGER},
    )

    assert response.status_code == 200
    assert "user" in response.context["adminform"].form.errors
    assert list(Membership.objects.filter(user=lukio_admin).values_list("role", flat=True)) == [Role.INSTITUTION_ADMIN]


def test_an_institution_admin_cannot_change_or_delete_their_own_membership(lukio_admin, joint_campus):
    own = Membership.objects.get(user=lukio_admin)
    client = signed_in(lukio_admin)

    page = client.get(f"{MEMBERSHIPS}{own.pk}/change/")
    changed = client.post(
        f"{MEMBERSHIPS}{own.pk}/change/",
        {"user": lukio_admin.pk, "institution": joint_campus.lukio.pk, "role": Role.FACILITY_MANAGER},
    )
    client.post(f"{MEMBERSHIPS}{own.pk}/delete/", {"post": "yes"})

    assert page.status_code == 200
    assert not page.context["has_change_permission"]
    assert changed.status_code == 403
    own.refresh_from_db()
    assert (own.role, own.valid_until) == (Role.INSTITUTION_ADMIN, None)


def test_an_institution_admin_cannot_move_a_colleagues_membership_onto_themselves(
    lukio_admin, lukio_staff, joint_campus
):
    colleague = Membership.objects.get(user=lukio_staff)
    client = signed_in(lukio_admin)
    url = f"{MEMBERSHIPS}{colleague.pk}/change/"

    response = client.post(
        url, {"user": lukio_admin.pk, "institution": joint_campus.lukio.pk, "role": Role.FACILITY_MANAGER}
    )

    assert response.status_code == 200
    assert "user" in response.context["adminform"].form.errors
    colleague.refresh_from_db()
    assert (colleague.user, colleague.role) == (lukio_staff, Role.STAFF)


def test_an_import_cannot_change_the_importers_own_memberships(lukio_admin, joint_campus):
    csv_text = "username,role\nlukio.admin,facility_manager\n"

    response = signed_in(lukio_admin).post(IMPORT, {"institution": joint_campus.lukio.pk, "file": upload(csv_text)})

    assert response.status_code == 200
    assert [(str(error["line"]), error["field"]) for error in response.context["errors"]] == [("2", "username")]
    assert not Membership.objects.filter(user=lukio_admin, role=Role.FACILITY_MANAGER).exists()


def test_a_superuser_may_change_their_own_memberships(joint_campus, superuser):
    response = signed_in(superuser).post(
        f"{MEMBERSHIPS}add/", {"user": superuser.pk, "institution": joint_campus.lukio.pk, "role": Role.STAFF}
    )

    assert response.status_code == 302


@pytest.mark.parametrize(
    ("who", "path", "field"),
    [
        ("lukio_admin", "/admin/campus/membership/add/", "user"),
        ("fm_of_lukio", "/admin/bookings/bookingpolicy/add/", "room"),
        ("fm_of_lukio", "/admin/bookings/closure/add/", "room"),
    ],
)
def test_a_search_field_given_something_that_is_no_id_is_a_form_error_not_a_crash(
    request, joint_campus, who, path, field
):
    from tests.web.conftest import client_for

    response = client_for(request.getfixturevalue(who)).post(path, {field: "abc"})

    assert response.status_code == 200
    assert "Select a valid choice" in response.content.decode()
