"""Closures in the admin: a facility manager closes only rooms they manage (and the campus's, buildings)."""

from __future__ import annotations

import datetime as dt

import pytest

from bookings.models import Closure
from campus.models import Room
from tests.web.conftest import signed_in

ADD = "/admin/bookings/closure/add/"


def closure_form(*, room: Room | None = None, building=None) -> dict[str, str]:
    day = dt.date.today() + dt.timedelta(days=30)
    return {
        "room": room.pk if room else "",
        "building": building.pk if building else "",
        "start_0": day.isoformat(),
        "start_1": "08:00",
        "end_0": day.isoformat(),
        "end_1": "16:00",
        "reason": "Renovation",
    }


@pytest.mark.parametrize("target", ["other_institutions_room", "shared_room", "building"])
def test_an_institution_facility_manager_cannot_close_what_they_do_not_manage(
    fm_of_lukio, joint_campus, vocational_room, target
):
    data = {
        "other_institutions_room": closure_form(room=vocational_room),
        "shared_room": closure_form(room=joint_campus.shared_auditorium),
        "building": closure_form(building=joint_campus.main_building),
    }[target]

    response = signed_in(fm_of_lukio).post(ADD, data)

    assert response.status_code == 200
    assert response.context["adminform"].form.errors
    assert not Closure.objects.exists()


def test_an_institution_facility_manager_closes_their_own_room(fm_of_lukio, joint_campus):
    response = signed_in(fm_of_lukio).post(ADD, closure_form(room=joint_campus.lab))

    assert response.status_code == 302
    assert Closure.objects.get().room == joint_campus.lab


def test_the_closure_form_offers_only_what_the_user_may_close(fm_of_lukio, campus_fm, joint_campus, vocational_room):
    own = signed_in(fm_of_lukio).get(ADD).context["adminform"].form
    campus_wide = signed_in(campus_fm).get(ADD).context["adminform"].form

    assert set(own.fields["room"].queryset) == {joint_campus.classroom, joint_campus.lab}
    assert not own.fields["building"].queryset.exists()
    assert set(campus_wide.fields["building"].queryset) == {joint_campus.main_building, joint_campus.workshop_building}
    assert vocational_room in campus_wide.fields["room"].queryset
