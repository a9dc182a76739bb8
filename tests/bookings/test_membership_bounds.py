"""Memberships bound bookings: every write needs one valid today, and a booking ends before its membership does."""

from __future__ import annotations

import datetime as dt

import pytest

from bookings.errors import BookingRuleBroken
from bookings.models import Booking, BookingStatus
from bookings.services import (
    booking_cancel,
    booking_release,
    booking_series_handover,
    booking_update,
    closure_create,
)
from campus.exceptions import PermissionDenied
from campus.models import Membership, Role
from tests.bookings.conftest import at, book, today
from tests.conftest import make_user

pytestmark = pytest.mark.usefixtures("blocks_stay_consistent")

WEEK = dt.timedelta(weeks=1)
YESTERDAY = dt.timedelta(days=-1)


@pytest.fixture
def substitute(joint_campus, monday):
    """A lukio substitute whose membership ends on the Monday a week from the next one."""
    user = make_user("substitute")
    Membership.objects.create(user=user, institution=joint_campus.lukio, role=Role.STAFF, valid_until=monday + WEEK)
    return user


def end_memberships(user, *, institution=None) -> None:
    memberships = Membership.objects.filter(user=user)
    if institution is not None:
        memberships = memberships.filter(institution=institution)
    memberships.update(valid_until=today() + YESTERDAY)


def test_a_booking_on_the_last_day_of_the_membership_is_allowed_the_day_after_refused(joint_campus, substitute, monday):
    last_day = monday + WEEK

    book(substitute, joint_campus.classroom, at(last_day, 19), at(last_day, 21))
    with pytest.raises(BookingRuleBroken) as refused:
        book(
            substitute,
            joint_campus.classroom,
            at(last_day + dt.timedelta(days=1), 8),
            at(last_day + dt.timedelta(days=1), 9),
        )

    assert (refused.value.code, refused.value.rule, refused.value.allowed) == (
        "membership_ends",
        "membership",
        last_day,
    )
    assert last_day.isoformat() in refused.value.message


def test_a_series_reaching_past_the_membership_is_refused_whole(joint_campus, substitute, monday):
    with pytest.raises(BookingRuleBroken) as refused:
        book(substitute, joint_campus.classroom, at(monday, 10), at(monday, 11), rrule="FREQ=WEEKLY;COUNT=3")

    assert refused.value.code == "membership_ends"
    assert not Booking.objects.exists()


def test_memberships_that_follow_one_another_count_as_one(joint_campus, substitute, monday):
    Membership.objects.create(
        user=substitute,
        institution=joint_campus.lukio,
        role=Role.FACILITY_MANAGER,
        valid_from=monday + WEEK + dt.timedelta(days=1),
        valid_until=monday + 3 * WEEK,
    )

    result = book(substitute, joint_campus.classroom, at(monday, 10), at(monday, 11), rrule="FREQ=WEEKLY;COUNT=3")
    with pytest.raises(BookingRuleBroken) as refused:
        book(substitute, joint_campus.classroom, at(monday + 4 * WEEK, 10), at(monday + 4 * WEEK, 11))

    assert len(result.bookings) == 3
    assert refused.value.allowed == monday + 3 * WEEK


def test_a_membership_elsewhere_does_not_extend_this_one(joint_campus, substitute, monday):
    Membership.objects.create(user=substitute, institution=joint_campus.vocational, role=Role.STAFF)

    with pytest.raises(BookingRuleBroken) as refused:
        book(substitute, joint_campus.classroom, at(monday + 2 * WEEK, 10), at(monday + 2 * WEEK, 11))
    booked_for_vocational = book(
        substitute,
        joint_campus.shared_auditorium,
        at(monday + 2 * WEEK, 10),
        at(monday + 2 * WEEK, 11),
        institution=joint_campus.vocational,
    )

    assert refused.value.code == "membership_ends"
    assert booked_for_vocational.first.institution == joint_campus.vocational


def test_the_booker_cannot_move_a_booking_past_their_membership(joint_campus, substitute, monday):
    booking = book(substitute, joint_campus.classroom, at(monday, 10), at(monday, 11)).first

    with pytest.raises(BookingRuleBroken) as refused:
        booking_update(
            booking=booking, actor=substitute, start=at(monday + 2 * WEEK, 10), end=at(monday + 2 * WEEK, 11)
        )

    assert refused.value.code == "membership_ends"
    booking.refresh_from_db()
    assert booking.start == at(monday, 10)


def test_a_manager_cannot_move_a_substitutes_booking_past_the_substitutes_membership(
    joint_campus, substitute, fm_of_lukio, monday
):
    booking = book(substitute, joint_campus.classroom, at(monday, 10), at(monday, 11)).first

    with pytest.raises(BookingRuleBroken) as refused:
        booking_update(
            booking=booking, actor=fm_of_lukio, start=at(monday + 2 * WEEK, 10), end=at(monday + 2 * WEEK, 11)
        )
    moved_inside = booking_update(booking=booking, actor=fm_of_lukio, start=at(monday, 12), end=at(monday, 13))

    assert refused.value.code == "membership_ends"
    assert moved_inside[0].start == at(monday, 12)


def test_a_series_cannot_be_handed_to_a_substitute_beyond_their_membership(
    joint_campus, lukio_staff, substitute, monday
):
    series = book(lukio_staff, joint_campus.classroom, at(monday, 10), at(monday, 11), rrule="FREQ=WEEKLY;COUNT=4")

    with pytest.raises(BookingRuleBroken) as refused:
        booking_series_handover(booking=series.first, actor=lukio_staff, to_user=substitute)

    assert refused.value.code == "membership_ends"
    assert set(Booking.objects.values_list("booked_by", flat=True)) == {lukio_staff.pk}


@pytest.mark.parametrize("write", ["update", "cancel", "release", "handover"])
def test_an_ended_membership_refuses_every_write_to_its_bookings(joint_campus, lukio_staff, monday, write):
    booking = book(lukio_staff, joint_campus.classroom, at(monday, 10), at(monday, 11)).first
    colleague = make_user("colleague")
    Membership.objects.create(user=colleague, institution=joint_campus.lukio, role=Role.STAFF)
    end_memberships(lukio_staff)

    writes = {
        "update": lambda: booking_update(booking=booking, actor=lukio_staff, title="Renamed"),
        "cancel": lambda: booking_cancel(booking=booking, actor=lukio_staff),
        "release": lambda: booking_release(booking=booking, actor=lukio_staff, now=at(monday, 10, 30)),
        "handover": lambda: booking_series_handover(booking=booking, actor=lukio_staff, to_user=colleague),
    }

    with pytest.raises(PermissionDenied) as refused:
        writes[write]()

    assert refused.value.code == "membership_ended"
    assert (today() + YESTERDAY).isoformat() in refused.value.message
    booking.refresh_from_db()
    assert (booking.status, booking.title, booking.booked_by) == (BookingStatus.CONFIRMED, "Lesson", lukio_staff)


def test_a_teacher_who_moved_institutions_cannot_change_the_old_institutions_bookings(
    joint_campus, lukio_staff, monday
):
    booking = book(lukio_staff, joint_campus.classroom, at(monday, 10), at(monday, 11)).first
    Membership.objects.create(user=lukio_staff, institution=joint_campus.vocational, role=Role.STAFF)
    end_memberships(lukio_staff, institution=joint_campus.lukio)

    with pytest.raises(PermissionDenied) as refused:
        booking_update(booking=booking, actor=lukio_staff, room=joint_campus.lab)

    assert refused.value.code == "membership_ended"


def test_a_manager_still_cancels_a_former_members_booking(joint_campus, lukio_staff, fm_of_lukio, monday):
    booking = book(lukio_staff, joint_campus.classroom, at(monday, 10), at(monday, 11)).first
    end_memberships(lukio_staff)

    cancelled = booking_cancel(booking=booking, actor=fm_of_lukio)

    assert cancelled[0].status == BookingStatus.CANCELLED


def test_an_ended_facility_manager_cannot_close_rooms(joint_campus, fm_of_lukio, monday):
    end_memberships(fm_of_lukio)

    with pytest.raises(PermissionDenied) as refused:
        closure_create(
            actor=fm_of_lukio, room=joint_campus.lab, start=at(monday, 8), end=at(monday, 16), reason="Paint"
        )

    assert refused.value.code == "membership_ended"
