"""The permission modules give one answer per question, whether asked once or for many rooms at a time.

``BookingReach`` (the booking form, the free-room search) and ``RoleScope`` (the admin) answer from
memberships loaded once; these tests hold them to the functions the services ask, for every kind of
person on the joint campus and every kind of room.
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from bookings import permissions
from bookings.models import Booking
from bookings.services import booking_create
from campus.exceptions import InvalidInput, PermissionDenied
from campus.models import Membership, Role
from campus.permissions import (
    is_room_manager,
    may_edit_term_calendar,
    may_manage_room,
    page_access,
    role_scope,
)
from tests.bookings.conftest import TUESDAY, at, next_weekday_after, today
from tests.conftest import make_user

PEOPLE = [
    "lukio_staff",
    "vocational_staff",
    "fm_of_lukio",
    "campus_fm",
    "lukio_admin",
    "front_desk",
    "two_schools",
    "vocational_fm",
    "superuser",
]


@pytest.fixture
def two_schools(joint_campus):
    user = make_user("two.schools")
    Membership.objects.create(user=user, institution=joint_campus.lukio, role=Role.STAFF)
    Membership.objects.create(user=user, institution=joint_campus.vocational, role=Role.STAFF)
    return user


@pytest.fixture
def vocational_fm(joint_campus):
    user = make_user("voc.fm")
    Membership.objects.create(user=user, institution=joint_campus.vocational, role=Role.FACILITY_MANAGER)
    return user


@pytest.fixture
def superuser(joint_campus):
    return make_user("root", is_superuser=True)


@pytest.fixture(params=PEOPLE)
def person(request):
    return request.getfixturevalue(request.param)


def rooms_of(campus):
    return [campus.classroom, campus.lab, campus.shared_auditorium]


def test_the_reach_overrides_rules_where_may_override_says(joint_campus, person):
    reach = permissions.booking_reach(person)
    for room in rooms_of(joint_campus):
        assert reach.may_override(room) == permissions.may_override(person, room), room.code
    assert reach.rooms_to_override(rooms_of(joint_campus)) == {
        room.pk for room in rooms_of(joint_campus) if permissions.may_override(person, room)
    }


def test_the_reach_books_for_the_institution_the_service_resolves(joint_campus, person):
    reach = permissions.booking_reach(person)
    for room in rooms_of(joint_campus):
        may_book, institution = reach.unchosen_institution(room)
        try:
            resolved = permissions.resolve_institution(user=person, institution=None, room=room)
        except PermissionDenied:
            assert not may_book, room.code
        except InvalidInput:
            # Several institutions, none the owner: any of them books the room as "other".
            assert may_book, room.code
            assert institution is not None, room.code
            assert institution.pk != room.owner_id, room.code
        else:
            assert (may_book, institution) == (True, resolved), room.code


def test_the_reach_offers_the_institutions_the_service_accepts(joint_campus, person):
    institutions, campus_itself = permissions.booking_reach(person).institutions_to_book_for()
    offered = {institution.pk for institution in institutions}
    for institution in (joint_campus.lukio, joint_campus.vocational, joint_campus.adult):
        try:
            permissions.resolve_institution(user=person, institution=institution, room=joint_campus.shared_auditorium)
        except PermissionDenied:
            assert institution.pk not in offered, institution.short_code
        else:
            assert institution.pk in offered, institution.short_code
    assert [i.name for i in institutions] == sorted(i.name for i in institutions)
    assert campus_itself == (person.is_superuser or person.memberships.filter(campus__isnull=False).exists())


def test_the_role_scope_keeps_the_rooms_and_calendars_the_services_allow(joint_campus, person):
    scope = role_scope(person)
    for room in rooms_of(joint_campus):
        assert scope.keeps_room(room) == may_manage_room(person, room), room.code
    for institution in (joint_campus.lukio, joint_campus.vocational, joint_campus.adult):
        assert scope.keeps_term_calendar(institution_id=institution.pk) == may_edit_term_calendar(
            person, institution_id=institution.pk
        ), institution.short_code
    assert scope.keeps_term_calendar(campus_id=joint_campus.campus.pk) == may_edit_term_calendar(
        person, campus_id=joint_campus.campus.pk
    )


def test_the_requests_queue_holds_the_rooms_the_person_decides(joint_campus, campus_fm, person):
    day = next_weekday_after(today(), TUESDAY)
    bookings = [
        booking_create(room=room, booked_by=campus_fm, title=room.code, start=at(day, 10), end=at(day, 11)).first
        for room in rooms_of(joint_campus)
    ]
    decidable = permissions.decided_by(person, on=timezone.localdate())
    queued = set() if decidable is None else set(Booking.objects.filter(decidable).values_list("pk", flat=True))
    assert queued == {booking.pk for booking in bookings if is_room_manager(person, booking.room)}


def test_page_access_follows_the_roles_held(joint_campus, person):
    access = page_access(person)
    roles = set(person.memberships.values_list("role", flat=True))
    assert access.is_facility_manager == (person.is_superuser or Role.FACILITY_MANAGER in roles)
    assert access.is_front_desk == (access.is_facility_manager or Role.FRONT_DESK in roles)
    assert access.may_use_admin == (access.is_facility_manager or Role.INSTITUTION_ADMIN in roles)
    assert access.sees_room_use == (access.is_facility_manager or Role.INSTITUTION_ADMIN in roles)


def test_an_ended_membership_gives_no_reach(joint_campus, lukio_staff):
    Membership.objects.filter(user=lukio_staff).update(valid_until=today() - dt.timedelta(days=1))
    reach = permissions.booking_reach(lukio_staff)
    assert reach.institutions_to_book_for() == ([], False)
    assert reach.unchosen_institution(joint_campus.classroom) == (False, None)


def test_the_closure_form_offers_what_the_service_lets_the_person_close(joint_campus, person):
    rooms, buildings = permissions.closable_targets(person)

    def may_close(*, room=None, building=None) -> bool:
        try:
            permissions.require_closure_permission(person, room=room, building=building)
        except PermissionDenied:
            return False
        return True

    assert set(rooms) == {room for room in rooms_of(joint_campus) if may_close(room=room)}
    for building in (joint_campus.main_building, joint_campus.workshop_building):
        assert (building in buildings) == may_close(building=building), building.code
