"""Booking rules in the admin: each facility manager sets rules only where they decide."""

from __future__ import annotations

import pytest

from bookings import policies
from bookings.models import Access, BookingPolicy
from campus.exceptions import PermissionDenied
from campus.models import Room
from tests.web.conftest import signed_in

ADD = "/admin/bookings/bookingpolicy/add/"
CHANGELIST = "/admin/bookings/bookingpolicy/"


def policy_form(*, room: Room | None = None, building=None, campus=None, **fields: str) -> dict[str, str]:
    data = {
        "campus": campus.pk if campus else "",
        "building": building.pk if building else "",
        "room": room.pk if room else "",
        "owner_access": "",
        "other_access": "",
        "owner_window_days": "",
        "other_window_days": "",
        "min_duration_minutes": "",
        "max_duration_minutes": "",
        "min_notice_minutes": "",
        "max_advance_days": "",
        "max_active_bookings": "",
        "request_expiry_hours": "",
    }
    data.update(fields)
    return data


def form_errors(response) -> dict:
    return response.context["adminform"].form.errors


@pytest.mark.parametrize("target", ["other_institutions_room", "shared_room", "building", "campus"])
def test_an_institution_facility_manager_cannot_add_rules_where_they_do_not_decide(
    fm_of_lukio, joint_campus, vocational_room, target
):
    data = {
        "other_institutions_room": policy_form(room=vocational_room, owner_access=Access.NONE),
        "shared_room": policy_form(room=joint_campus.shared_auditorium, other_access=Access.NONE),
        "building": policy_form(building=joint_campus.main_building, other_access=Access.NONE),
        "campus": policy_form(campus=joint_campus.campus, other_access=Access.NONE),
    }[target]

    response = signed_in(fm_of_lukio).post(ADD, data)

    assert response.status_code == 200
    field = {"building": "building", "campus": "campus"}.get(target, "room")
    assert field in form_errors(response)
    assert not BookingPolicy.objects.exists()


def test_an_institution_facility_manager_adds_rules_for_their_own_room(fm_of_lukio, joint_campus):
    response = signed_in(fm_of_lukio).post(ADD, policy_form(room=joint_campus.lab, other_access=Access.REQUEST))

    assert response.status_code == 302, form_errors(response)
    assert BookingPolicy.objects.get().room == joint_campus.lab


@pytest.mark.parametrize("target", ["other_institutions_room", "building", "campus"])
def test_a_campus_facility_manager_sets_rules_anywhere_on_the_campus(campus_fm, joint_campus, vocational_room, target):
    data = {
        "other_institutions_room": policy_form(room=vocational_room, owner_access=Access.REQUEST),
        "building": policy_form(building=joint_campus.main_building, other_access=Access.REQUEST),
        "campus": policy_form(campus=joint_campus.campus, max_advance_days="200"),
    }[target]

    response = signed_in(campus_fm).post(ADD, data)

    assert response.status_code == 302, form_errors(response)
    assert BookingPolicy.objects.count() == 1


def test_an_institution_facility_manager_cannot_move_their_rules_to_another_room(
    fm_of_lukio, joint_campus, vocational_room
):
    policy = BookingPolicy.objects.create(room=joint_campus.lab, other_access=Access.REQUEST)
    url = f"{CHANGELIST}{policy.pk}/change/"

    response = signed_in(fm_of_lukio).post(url, policy_form(room=vocational_room, owner_access=Access.NONE))

    assert response.status_code == 200
    assert "room" in form_errors(response)
    policy.refresh_from_db()
    assert (policy.room, policy.owner_access) == (joint_campus.lab, "")


def test_an_institution_facility_manager_cannot_change_or_delete_campus_rules(fm_of_lukio, joint_campus):
    policy = BookingPolicy.objects.create(campus=joint_campus.campus, other_access=Access.DIRECT)
    client = signed_in(fm_of_lukio)

    changed = client.post(
        f"{CHANGELIST}{policy.pk}/change/", policy_form(campus=joint_campus.campus, other_access="none")
    )
    client.post(CHANGELIST, {"action": "delete_selected", "_selected_action": [policy.pk], "post": "yes"})

    assert changed.status_code == 403
    policy.refresh_from_db()
    assert policy.other_access == Access.DIRECT


def test_the_rules_form_offers_an_institution_facility_manager_only_their_rooms(fm_of_lukio, joint_campus):
    form = signed_in(fm_of_lukio).get(ADD).context["adminform"].form

    assert set(form.fields["room"].queryset) == {joint_campus.classroom, joint_campus.lab}
    assert not form.fields["building"].queryset.exists()
    assert not form.fields["campus"].queryset.exists()


def test_the_rules_list_shows_an_institution_facility_manager_their_rooms_and_the_defaults(
    fm_of_lukio, joint_campus, vocational_room
):
    own = BookingPolicy.objects.create(room=joint_campus.lab, other_access=Access.REQUEST)
    campus_wide = BookingPolicy.objects.create(campus=joint_campus.campus, max_advance_days=300)
    building_wide = BookingPolicy.objects.create(building=joint_campus.main_building, max_advance_days=200)
    BookingPolicy.objects.create(room=vocational_room, owner_access=Access.REQUEST)

    response = signed_in(fm_of_lukio).get(CHANGELIST)

    assert response.status_code == 200
    assert set(response.context["cl"].result_list) == {own, campus_wide, building_wide}


def test_policy_save_refuses_an_institution_facility_manager_outside_their_rooms(
    fm_of_lukio, campus_fm, joint_campus, vocational_room
):
    for policy in (
        BookingPolicy(room=vocational_room, owner_access=Access.NONE),
        BookingPolicy(building=joint_campus.main_building, other_access=Access.NONE),
        BookingPolicy(campus=joint_campus.campus, other_access=Access.NONE),
    ):
        with pytest.raises(PermissionDenied):
            policies.policy_save(policy=policy, actor=fm_of_lukio)
    assert not BookingPolicy.objects.exists()

    policies.policy_save(policy=BookingPolicy(room=joint_campus.lab, other_access=Access.REQUEST), actor=fm_of_lukio)
    policies.policy_save(policy=BookingPolicy(campus=joint_campus.campus, max_advance_days=100), actor=campus_fm)
    assert BookingPolicy.objects.count() == 2


def test_the_room_search_of_the_rules_form_lists_only_managed_rooms(fm_of_lukio, joint_campus, vocational_room):
    client = signed_in(fm_of_lukio)

    def found(model_name: str) -> set[str]:
        response = client.get(
            "/admin/autocomplete/",
            {"app_label": "bookings", "model_name": model_name, "field_name": "room", "term": "A"},
        )
        assert response.status_code == 200
        return {Room.objects.get(pk=result["id"]).code for result in response.json()["results"]}

    assert found("bookingpolicy") == {"A101", "A201"}
    assert found("booking") == {"A001", "A101", "A201", "A301"}  # booking other rooms stays open to them


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"max_duration_minutes": "0"}, "max_duration_minutes"),
        ({"max_advance_days": "0"}, "max_advance_days"),
        ({"max_duration_minutes": "10"}, "max_duration_minutes"),  # below the inherited shortest (15)
        ({"min_duration_minutes": "120", "max_duration_minutes": "60"}, "min_duration_minutes"),
    ],
)
def test_rules_that_make_a_room_unbookable_are_refused_with_a_readable_error(fm_of_lukio, joint_campus, fields, field):
    response = signed_in(fm_of_lukio).post(ADD, policy_form(room=joint_campus.lab, **fields))

    assert response.status_code == 200
    assert field in form_errors(response)
    assert "policy_min_duration_not_above_max" not in response.content.decode()
    assert not BookingPolicy.objects.filter(room=joint_campus.lab).exists()
