"""Who sees a booking's title: the booker's institution, the campus, or everyone, by the booking's visibility."""

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib.auth.models import AnonymousUser
from django.utils import translation

from bookings.errors import SlotTaken
from bookings.models import Visibility
from bookings.visibility import viewer_for
from campus.models import Campus, Institution, InstitutionKind, Membership, Role
from tests.bookings.conftest import at, book, today
from tests.conftest import make_user

pytestmark = pytest.mark.usefixtures("blocks_stay_consistent")

TITLE = "Parents' evening"


@pytest.fixture
def stranger(joint_campus):
    """A staff member of an institution on another campus."""
    campus = Campus.objects.create(name="Other campus")
    institution = Institution.objects.create(
        campus=campus, name="Elsewhere School", short_code="else", kind=InstitutionKind.OTHER
    )
    user = make_user("elsewhere.teacher")
    Membership.objects.create(user=user, institution=institution, role=Role.STAFF)
    return user


def lukio_booking(joint_campus, lukio_staff, monday, visibility, room_name="shared_auditorium"):
    room = getattr(joint_campus, room_name)
    return book(lukio_staff, room, at(monday, 17), at(monday, 19), title=TITLE, visibility=visibility).first


def test_an_institution_booking_shows_its_title_to_the_booker_and_the_booking_institution(
    joint_campus, lukio_staff, lukio_colleague, monday
):
    booking = lukio_booking(joint_campus, lukio_staff, monday, Visibility.INSTITUTION)

    assert viewer_for(lukio_staff).title_of(booking) == TITLE
    assert viewer_for(lukio_colleague).title_of(booking) == TITLE


@pytest.mark.parametrize("viewer_name", ["campus_fm", "front_desk"])
def test_an_institution_booking_shows_its_title_to_the_campus_facility_services(
    request, joint_campus, lukio_staff, monday, viewer_name
):
    booking = lukio_booking(joint_campus, lukio_staff, monday, Visibility.INSTITUTION)

    assert viewer_for(request.getfixturevalue(viewer_name)).title_of(booking) == TITLE


def test_an_institution_booking_hides_its_title_from_another_institutions_staff(
    joint_campus, lukio_staff, vocational_staff, monday
):
    booking = lukio_booking(joint_campus, lukio_staff, monday, Visibility.INSTITUTION)
    viewer = viewer_for(vocational_staff)

    assert viewer.title_of(booking) is None
    assert not viewer.sees_title(booking)
    with translation.override("en"):
        assert viewer.display_title(booking) == "Reserved"
    assert viewer_for(lukio_staff).display_title(booking) == TITLE


def test_an_institution_booking_hides_its_title_from_anonymous_visitors(joint_campus, lukio_staff, monday):
    booking = lukio_booking(joint_campus, lukio_staff, monday, Visibility.INSTITUTION)

    assert viewer_for(AnonymousUser()).title_of(booking) is None
    assert viewer_for(None).title_of(booking) is None


def test_the_owners_facility_manager_sees_titles_of_bookings_in_the_owners_rooms(
    joint_campus, vocational_staff, fm_of_lukio, monday
):
    in_lukio_room = book(vocational_staff, joint_campus.classroom, at(monday, 17), at(monday, 18), title="Welding")
    in_shared_room = book(
        vocational_staff, joint_campus.shared_auditorium, at(monday, 17), at(monday, 18), title="Welding"
    )

    assert viewer_for(fm_of_lukio).title_of(in_lukio_room.first) == "Welding"
    assert viewer_for(fm_of_lukio).title_of(in_shared_room.first) is None


def test_a_campus_booking_shows_its_title_to_every_member_of_the_campus(
    joint_campus, lukio_staff, vocational_staff, adult_staff, front_desk, monday
):
    booking = lukio_booking(joint_campus, lukio_staff, monday, Visibility.CAMPUS)

    for member in (lukio_staff, vocational_staff, adult_staff, front_desk):
        assert viewer_for(member).title_of(booking) == TITLE


def test_a_campus_booking_hides_its_title_from_outsiders(joint_campus, lukio_staff, stranger, monday):
    booking = lukio_booking(joint_campus, lukio_staff, monday, Visibility.CAMPUS)

    assert viewer_for(stranger).title_of(booking) is None
    assert viewer_for(AnonymousUser()).title_of(booking) is None


def test_a_public_booking_shows_its_title_to_anonymous_visitors(joint_campus, lukio_staff, stranger, monday):
    booking = lukio_booking(joint_campus, lukio_staff, monday, Visibility.PUBLIC)

    assert viewer_for(AnonymousUser()).title_of(booking) == TITLE
    assert viewer_for(stranger).title_of(booking) == TITLE


def test_an_expired_membership_no_longer_shows_titles(joint_campus, lukio_staff, monday):
    former = make_user("former.teacher")
    Membership.objects.create(
        user=former, institution=joint_campus.lukio, role=Role.STAFF, valid_until=today() - dt.timedelta(days=1)
    )
    booking = lukio_booking(joint_campus, lukio_staff, monday, Visibility.CAMPUS)

    assert viewer_for(former).title_of(booking) is None


def test_a_superuser_sees_every_title(joint_campus, lukio_staff, superuser, monday):
    booking = lukio_booking(joint_campus, lukio_staff, monday, Visibility.INSTITUTION)

    assert viewer_for(superuser).title_of(booking) == TITLE


def test_a_booking_for_the_campus_itself_is_hidden_from_the_institutions(
    joint_campus, front_desk, campus_fm, lukio_staff, monday
):
    booking = book(front_desk, joint_campus.shared_auditorium, at(monday, 17), at(monday, 18), title="Fire drill").first

    assert booking.institution is None
    assert viewer_for(campus_fm).title_of(booking) == "Fire drill"
    assert viewer_for(lukio_staff).title_of(booking) is None


def test_a_clash_shows_the_title_to_a_colleague_of_the_booker(joint_campus, lukio_staff, lukio_colleague, monday):
    lukio_booking(joint_campus, lukio_staff, monday, Visibility.INSTITUTION)

    with pytest.raises(SlotTaken) as refused:
        book(lukio_colleague, joint_campus.shared_auditorium, at(monday, 18), at(monday, 20))

    assert [c["title"] for c in refused.value.conflicts] == [TITLE]


def test_a_clash_with_a_campus_booking_shows_its_title_to_another_institution(
    joint_campus, lukio_staff, vocational_staff, monday
):
    lukio_booking(joint_campus, lukio_staff, monday, Visibility.CAMPUS)

    with pytest.raises(SlotTaken) as refused:
        book(vocational_staff, joint_campus.shared_auditorium, at(monday, 18), at(monday, 20))

    assert [c["title"] for c in refused.value.conflicts] == [TITLE]
