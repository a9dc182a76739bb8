"""Closures: a closed room or building takes no new bookings; affected bookings are listed, told and cancelled."""

from __future__ import annotations

import datetime as dt

import pytest

from bookings.errors import BookingRuleBroken
from bookings.models import (
    Booking,
    BookingAction,
    BookingBlock,
    BookingEvent,
    BookingStatus,
    Closure,
    Notification,
    NotificationKind,
)
from bookings.services import closure_affected_bookings, closure_cancel_bookings, closure_create
from campus.exceptions import InvalidInput, PermissionDenied
from campus.models import Room
from tests.bookings.conftest import at, book, error_fields

pytestmark = pytest.mark.usefixtures("blocks_stay_consistent")

WEEK = dt.timedelta(weeks=1)


def close_room(actor, room: Room, day: dt.date, *, reason: str = "Water damage", start: int = 7, end: int = 21):
    return closure_create(actor=actor, room=room, start=at(day, start), end=at(day, end), reason=reason)


def notifications(kind: str) -> list[tuple[int, int, str]]:
    """Return (recipient id, booking id, reason) of the notifications of ``kind``, by booking."""
    return sorted(Notification.objects.filter(kind=kind).values_list("recipient_id", "booking_id", "reason"))


# --- no new bookings while closed ----------------------------------------------------------------


def test_a_closed_room_refuses_new_bookings_inside_the_closure(joint_campus, fm_of_lukio, lukio_staff, day):
    closure, affected = close_room(fm_of_lukio, joint_campus.classroom, day, start=10, end=14)
    assert affected == []
    assert (closure.room, closure.building, closure.created_by) == (joint_campus.classroom, None, fm_of_lukio)

    with pytest.raises(BookingRuleBroken) as refused:
        book(lukio_staff, joint_campus.classroom, at(day, 13), at(day, 15))

    assert (refused.value.code, refused.value.rule) == ("closed", "closure")
    assert "Water damage" in refused.value.message
    assert not Booking.objects.exists()


def test_a_closed_room_takes_bookings_before_and_after_the_closure(joint_campus, fm_of_lukio, lukio_staff, day):
    close_room(fm_of_lukio, joint_campus.classroom, day, start=10, end=14)

    book(lukio_staff, joint_campus.classroom, at(day, 8), at(day, 10))
    book(lukio_staff, joint_campus.classroom, at(day, 14), at(day, 15))
    book(lukio_staff, joint_campus.lab, at(day, 11), at(day, 12))  # another room is not closed

    assert Booking.objects.count() == 3


def test_a_closed_building_refuses_bookings_in_each_of_its_rooms(joint_campus, campus_fm, lukio_staff, workshop, day):
    closure, _ = closure_create(
        actor=campus_fm,
        building=joint_campus.main_building,
        start=at(day, 0),
        end=at(day + dt.timedelta(days=1), 0),
        reason="Electrical works",
    )
    assert (closure.building, closure.room, closure.campus) == (joint_campus.main_building, None, joint_campus.campus)

    for room in (joint_campus.classroom, joint_campus.lab, joint_campus.shared_auditorium):
        with pytest.raises(BookingRuleBroken) as refused:
            book(lukio_staff, room, at(day, 10), at(day, 11))
        assert (refused.value.code, refused.value.rule) == ("closed", "closure")
    book(lukio_staff, workshop, at(day, 10), at(day, 11))  # the other building is open


def test_a_series_skips_the_occurrences_that_fall_into_a_closure(joint_campus, fm_of_lukio, lukio_staff, day):
    close_room(fm_of_lukio, joint_campus.classroom, day + WEEK, reason="Exams")

    result = book(lukio_staff, joint_campus.classroom, at(day, 10), at(day, 11), rrule="FREQ=WEEKLY;COUNT=3")

    assert [b.start for b in result.bookings] == [at(day, 10), at(day + 2 * WEEK, 10)]
    [skipped] = result.skipped
    assert (skipped.start, skipped.code) == (at(day + WEEK, 10), "closed")
    assert "Exams" in skipped.reason


# --- affected bookings ---------------------------------------------------------------------------


def test_closing_a_room_returns_the_bookings_inside_and_tells_their_bookers(
    joint_campus, fm_of_lukio, lukio_staff, vocational_staff, day
):
    inside = book(lukio_staff, joint_campus.classroom, at(day, 10), at(day, 11)).first
    overlapping = book(vocational_staff, joint_campus.classroom, at(day, 13), at(day, 15)).first
    book(lukio_staff, joint_campus.classroom, at(day, 15), at(day, 16))  # after the closure
    book(lukio_staff, joint_campus.lab, at(day, 10), at(day, 11))  # another room

    closure, affected = close_room(fm_of_lukio, joint_campus.classroom, day, start=9, end=14, reason="Leaking roof")

    assert affected == [inside, overlapping]
    assert closure_affected_bookings(closure) == [inside, overlapping]
    assert notifications(NotificationKind.CLOSURE) == sorted(
        [(lukio_staff.pk, inside.pk, "Leaking roof"), (vocational_staff.pk, overlapping.pk, "Leaking roof")]
    )
    # Being told is not being cancelled: the bookings stay until a facility manager cancels them.
    assert {b.status for b in Booking.objects.all()} == {BookingStatus.CONFIRMED}


def test_closing_a_building_affects_the_bookings_of_all_its_rooms_only(
    joint_campus, campus_fm, lukio_staff, vocational_staff, workshop, day
):
    in_classroom = book(lukio_staff, joint_campus.classroom, at(day, 10), at(day, 11)).first
    in_auditorium = book(vocational_staff, joint_campus.shared_auditorium, at(day, 12), at(day, 13)).first
    book(lukio_staff, workshop, at(day, 10), at(day, 11))

    _, affected = closure_create(
        actor=campus_fm, building=joint_campus.main_building, start=at(day, 7), end=at(day, 21), reason="Power cut"
    )

    assert affected == [in_classroom, in_auditorium]


def test_cancelled_bookings_are_not_affected_by_a_closure(joint_campus, fm_of_lukio, lukio_staff, day):
    booking = book(lukio_staff, joint_campus.classroom, at(day, 10), at(day, 11)).first
    Booking.objects.filter(pk=booking.pk).update(status=BookingStatus.CANCELLED)
    BookingBlock.objects.filter(booking=booking).delete()

    _, affected = close_room(fm_of_lukio, joint_campus.classroom, day)

    assert affected == []
    assert not Notification.objects.exists()


def test_cancelling_the_bookings_of_a_closure_cancels_them_all_and_frees_their_slots(
    joint_campus, campus_fm, lukio_staff, vocational_staff, day
):
    series = book(lukio_staff, joint_campus.classroom, at(day, 10), at(day, 11), rrule="FREQ=DAILY;COUNT=2").bookings
    voc = book(vocational_staff, joint_campus.shared_auditorium, at(day, 12), at(day, 13)).first
    own = book(campus_fm, joint_campus.shared_auditorium, at(day, 14), at(day, 15)).first
    closure, _ = closure_create(
        actor=campus_fm,
        building=joint_campus.main_building,
        start=at(day, 0),
        end=at(day + dt.timedelta(days=2), 0),
        reason="Power cut",
    )

    cancelled = closure_cancel_bookings(closure=closure, actor=campus_fm)

    assert [b.pk for b in cancelled] == [series[0].pk, voc.pk, own.pk, series[1].pk]
    assert set(Booking.objects.values_list("status", flat=True)) == {BookingStatus.CANCELLED}
    assert not BookingBlock.objects.exists()
    events = BookingEvent.objects.filter(action=BookingAction.CANCEL)
    assert sorted(e.booking_id for e in events) == sorted(b.pk for b in cancelled)
    assert {(e.actor_id, e.reason, e.before["status"], e.after["status"]) for e in events} == {
        (campus_fm.pk, "Closed: Power cut", BookingStatus.CONFIRMED, BookingStatus.CANCELLED)
    }
    # One message per booker (not per occurrence), and none to the facility manager who cancelled.
    assert notifications(NotificationKind.CANCELLED) == sorted(
        [(lukio_staff.pk, series[0].pk, "Closed: Power cut"), (vocational_staff.pk, voc.pk, "Closed: Power cut")]
    )
    assert closure_affected_bookings(closure) == []
    assert closure_cancel_bookings(closure=closure, actor=campus_fm) == []
    book(lukio_staff, joint_campus.lab, at(day + dt.timedelta(days=2), 10), at(day + dt.timedelta(days=2), 11))


# --- who may close -------------------------------------------------------------------------------


@pytest.mark.parametrize("closer", ["fm_of_lukio", "campus_fm"])
def test_facility_managers_of_the_owner_or_the_campus_may_close_a_room(request, joint_campus, closer, day):
    closure, _ = close_room(request.getfixturevalue(closer), joint_campus.classroom, day)

    assert Closure.objects.get() == closure


def test_the_campus_facility_manager_may_close_a_shared_room(joint_campus, campus_fm, day):
    close_room(campus_fm, joint_campus.shared_auditorium, day)

    assert Closure.objects.count() == 1


@pytest.mark.parametrize("closer", ["lukio_staff", "vocational_staff", "fm_of_vocational", "front_desk"])
def test_staff_and_other_institutions_facility_managers_may_not_close_a_room(request, joint_campus, closer, day):
    with pytest.raises(PermissionDenied):
        close_room(request.getfixturevalue(closer), joint_campus.classroom, day)

    assert not Closure.objects.exists()


def test_an_institutions_facility_manager_may_not_close_a_shared_room(joint_campus, fm_of_lukio, day):
    with pytest.raises(PermissionDenied):
        close_room(fm_of_lukio, joint_campus.shared_auditorium, day)


@pytest.mark.parametrize("closer", ["fm_of_lukio", "lukio_staff", "lukio_admin"])
def test_only_campus_facility_managers_may_close_a_whole_building(request, joint_campus, closer, day):
    with pytest.raises(PermissionDenied):
        closure_create(
            actor=request.getfixturevalue(closer),
            building=joint_campus.main_building,
            start=at(day, 7),
            end=at(day, 21),
            reason="Renovation",
        )

    assert not Closure.objects.exists()


def test_staff_may_not_cancel_the_bookings_of_a_closure(joint_campus, fm_of_lukio, lukio_staff, day):
    booking = book(lukio_staff, joint_campus.classroom, at(day, 10), at(day, 11)).first
    closure, _ = close_room(fm_of_lukio, joint_campus.classroom, day)

    with pytest.raises(PermissionDenied):
        closure_cancel_bookings(closure=closure, actor=lukio_staff)

    assert Booking.objects.get(pk=booking.pk).status == BookingStatus.CONFIRMED


def test_a_closure_needs_a_reason_and_exactly_one_of_room_or_building(joint_campus, campus_fm, day):
    with pytest.raises(InvalidInput) as refused:
        close_room(campus_fm, joint_campus.classroom, day, reason="  ")
    assert error_fields(refused.value) == ["reason"]
    with pytest.raises(InvalidInput):
        closure_create(actor=campus_fm, start=at(day, 7), end=at(day, 21), reason="Nothing")
    with pytest.raises(InvalidInput):
        closure_create(
            actor=campus_fm,
            room=joint_campus.classroom,
            building=joint_campus.main_building,
            start=at(day, 7),
            end=at(day, 21),
            reason="Both",
        )
    with pytest.raises(InvalidInput) as refused:
        close_room(campus_fm, joint_campus.classroom, day, start=12, end=10)
    assert error_fields(refused.value) == ["end"]

    assert not Closure.objects.exists()


# --- divisible rooms -----------------------------------------------------------------------------


def test_closing_a_section_affects_bookings_of_the_whole_room_and_refuses_new_ones(gym, campus_fm, lukio_staff, day):
    whole = book(lukio_staff, gym.whole, at(day, 10), at(day, 11)).first

    _, affected = close_room(campus_fm, gym.sections[0], day, reason="Broken floor")

    assert affected == [whole]
    with pytest.raises(BookingRuleBroken) as refused:
        book(lukio_staff, gym.whole, at(day, 12), at(day, 13))
    assert refused.value.code == "closed"


def test_closing_the_whole_room_affects_bookings_of_its_sections_and_refuses_new_ones(gym, campus_fm, lukio_staff, day):
    section = book(lukio_staff, gym.sections[2], at(day, 10), at(day, 11)).first

    _, affected = close_room(campus_fm, gym.whole, day, reason="Event set-up")

    assert affected == [section]
    for part in gym.sections:
        with pytest.raises(BookingRuleBroken) as refused:
            book(lukio_staff, part, at(day, 12), at(day, 13))
        assert refused.value.code == "closed"


def test_closing_a_section_leaves_the_other_sections_open(gym, campus_fm, lukio_staff, vocational_staff, day):
    sibling = book(vocational_staff, gym.sections[1], at(day, 10), at(day, 11)).first

    closure, affected = close_room(campus_fm, gym.sections[0], day, reason="Broken floor")

    assert affected == []
    assert closure_affected_bookings(closure) == []
    assert not Notification.objects.filter(booking=sibling).exists()
    book(lukio_staff, gym.sections[2], at(day, 12), at(day, 13))  # the third section takes new bookings


def test_cancelling_a_sections_closure_bookings_spares_the_other_sections(gym, campus_fm, vocational_staff, day):
    sibling = book(vocational_staff, gym.sections[1], at(day, 10), at(day, 11)).first
    closure, _ = close_room(campus_fm, gym.sections[0], day, reason="Broken floor")

    assert closure_cancel_bookings(closure=closure, actor=campus_fm) == []

    assert Booking.objects.get(pk=sibling.pk).status == BookingStatus.CONFIRMED


def test_free_room_search_and_availability_leave_closed_time_out(joint_campus, campus_fm, day):
    from bookings.selectors import room_availability, rooms_free_between
    from campus.selectors import room_list

    closure_start, closure_end = at(day, 10), at(day, 12)
    closure_create(actor=campus_fm, room=joint_campus.classroom, start=closure_start, end=closure_end, reason="Exams")

    free = rooms_free_between(room_list(), start=at(day, 10, 30), end=at(day, 11))
    assert joint_campus.classroom not in free
    assert joint_campus.lab in free
    availability = room_availability(room=joint_campus.classroom, start=at(day, 0), end=at(day, 23))
    assert all(not (a < closure_end and b > closure_start) for a, b in availability.free)
    assert [(c.start, c.end, c.reason) for c in availability.closures] == [(closure_start, closure_end, "Exams")]
