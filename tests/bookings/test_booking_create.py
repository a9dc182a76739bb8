"""booking_create for one-off bookings: slots, buffers, opening hours, capacity and who books for whom."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.utils import timezone

from bookings.errors import BookingRuleBroken, SlotTaken
from bookings.models import Booking, BookingBlock, BookingStatus
from bookings.services import conflicts
from campus.exceptions import InvalidInput, PermissionDenied
from campus.models import (
    Campus,
    Holiday,
    Institution,
    InstitutionKind,
    Membership,
    OpeningHours,
    OpeningHoursException,
    Role,
)
from tests.bookings.conftest import at, book, cancel_the_clash_before_it_is_described, error_fields, in_helsinki, today
from tests.conftest import make_user

pytestmark = pytest.mark.usefixtures("blocks_stay_consistent")

# --- one-off bookings --------------------------------------------------------------------------


def test_booking_is_created_confirmed_with_one_block_on_its_room(joint_campus, lukio_staff, monday):
    result = book(lukio_staff, joint_campus.classroom, at(monday, 10), at(monday, 11), title="  Maths 1  ")

    booking = Booking.objects.get()
    assert result.bookings == [booking]
    assert result.series is None
    assert result.skipped == []
    assert booking.status == BookingStatus.CONFIRMED
    assert booking.title == "Maths 1"
    assert booking.institution == joint_campus.lukio
    assert booking.campus == joint_campus.campus
    assert booking.booked_by == lukio_staff
    assert (booking.start, booking.end) == (at(monday, 10), at(monday, 11))
    assert booking.start.utcoffset() == dt.timedelta(0)  # stored in UTC
    block = BookingBlock.objects.get()
    assert (block.booking, block.part) == (booking, joint_campus.classroom)
    assert (block.start, block.blocked_until) == (at(monday, 10), at(monday, 11))


def test_adjacent_bookings_are_both_allowed(joint_campus, lukio_staff, monday):
    book(lukio_staff, joint_campus.classroom, at(monday, 9), at(monday, 10))
    book(lukio_staff, joint_campus.classroom, at(monday, 10), at(monday, 11))
    book(lukio_staff, joint_campus.classroom, at(monday, 8), at(monday, 9))

    assert Booking.objects.count() == 3
    assert BookingBlock.objects.count() == 3


def test_overlapping_booking_is_refused_with_the_clashing_slot(joint_campus, lukio_staff, monday):
    book(lukio_staff, joint_campus.classroom, at(monday, 10), at(monday, 11), title="Physics")

    with pytest.raises(SlotTaken) as refused:
        book(lukio_staff, joint_campus.classroom, at(monday, 10, 30), at(monday, 12))

    assert refused.value.code == "slot_taken"
    assert refused.value.http_status == 409
    [conflict] = refused.value.conflicts
    assert {key: conflict[key] for key in ("start", "end", "title", "room")} == {
        "start": at(monday, 10),
        "end": at(monday, 11),
        "title": "Physics",
        "room": "A101",
    }
    assert refused.value.extra["conflicts"] == refused.value.conflicts
    assert Booking.objects.count() == 1


def test_a_booking_inside_another_and_one_around_it_are_both_refused(joint_campus, lukio_staff, monday):
    book(lukio_staff, joint_campus.classroom, at(monday, 10), at(monday, 12))

    with pytest.raises(SlotTaken):
        book(lukio_staff, joint_campus.classroom, at(monday, 10, 30), at(monday, 11))
    with pytest.raises(SlotTaken):
        book(lukio_staff, joint_campus.classroom, at(monday, 9), at(monday, 13))
    assert Booking.objects.count() == 1


def test_clash_hides_the_title_from_a_viewer_who_may_not_see_it(joint_campus, lukio_staff, vocational_staff, monday):
    room = joint_campus.shared_auditorium
    book(lukio_staff, room, at(monday, 10), at(monday, 11), title="Matriculation exam briefing")

    with pytest.raises(SlotTaken) as refused:
        book(vocational_staff, room, at(monday, 10), at(monday, 11))

    [conflict] = refused.value.conflicts
    assert conflict["title"] is None
    assert (conflict["start"], conflict["end"], conflict["room"]) == (at(monday, 10), at(monday, 11), "A001")


def test_a_booking_in_another_room_at_the_same_time_is_allowed(joint_campus, lukio_staff, monday):
    book(lukio_staff, joint_campus.classroom, at(monday, 10), at(monday, 11))
    book(lukio_staff, joint_campus.lab, at(monday, 10), at(monday, 11))

    assert Booking.objects.count() == 2


def test_end_before_start_is_invalid_input_naming_the_end(joint_campus, lukio_staff, monday):
    with pytest.raises(InvalidInput) as refused:
        book(lukio_staff, joint_campus.classroom, at(monday, 11), at(monday, 10))
    assert error_fields(refused.value) == ["end"]

    with pytest.raises(InvalidInput) as empty:
        book(lukio_staff, joint_campus.classroom, at(monday, 11), at(monday, 11))
    assert error_fields(empty.value) == ["end"]
    assert not Booking.objects.exists()


def test_naive_datetimes_are_refused(joint_campus, lukio_staff, monday):
    naive_start = dt.datetime.combine(monday, dt.time(10))
    naive_end = dt.datetime.combine(monday, dt.time(11))

    with pytest.raises(InvalidInput) as naive_both:
        book(lukio_staff, joint_campus.classroom, naive_start, naive_end)
    assert error_fields(naive_both.value) == ["start"]
    with pytest.raises(InvalidInput) as naive_end_only:
        book(lukio_staff, joint_campus.classroom, at(monday, 10), naive_end)
    assert error_fields(naive_end_only.value) == ["end"]
    assert not Booking.objects.exists()


def test_an_empty_title_is_refused(joint_campus, lukio_staff, monday):
    with pytest.raises(InvalidInput) as refused:
        book(lukio_staff, joint_campus.classroom, at(monday, 10), at(monday, 11), title="   ")
    assert error_fields(refused.value) == ["title"]


def test_a_booking_starting_in_the_past_is_refused(joint_campus, lukio_staff):
    start = timezone.now() - dt.timedelta(hours=1)

    with pytest.raises(BookingRuleBroken) as refused:
        book(lukio_staff, joint_campus.classroom, start, start + dt.timedelta(hours=2))

    assert refused.value.code == "in_the_past"
    assert refused.value.rule == "earliest_start"
    assert not Booking.objects.exists()


def test_the_past_is_measured_from_the_now_given(joint_campus, lukio_staff, monday):
    with pytest.raises(BookingRuleBroken) as refused:
        book(lukio_staff, joint_campus.classroom, at(monday, 10), at(monday, 11), now=at(monday, 10, 1))
    assert refused.value.code == "in_the_past"
    assert refused.value.allowed == at(monday, 10, 1)

    book(lukio_staff, joint_campus.classroom, at(monday, 10), at(monday, 11), now=at(monday, 10))
    assert Booking.objects.count() == 1


def test_more_attendees_than_the_capacity_are_refused(joint_campus, lukio_staff, monday):
    with pytest.raises(BookingRuleBroken) as refused:
        book(lukio_staff, joint_campus.classroom, at(monday, 10), at(monday, 11), attendees=31)

    assert refused.value.code == "over_capacity"
    assert refused.value.rule == "capacity"
    assert refused.value.allowed == joint_campus.classroom.capacity == 30
    assert refused.value.http_status == 422
    assert not Booking.objects.exists()


def test_attendees_up_to_the_capacity_are_allowed(joint_campus, lukio_staff, monday):
    result = book(lukio_staff, joint_campus.classroom, at(monday, 10), at(monday, 11), attendees=30)
    assert result.first.attendees == 30


def test_a_room_that_is_not_bookable_is_refused(joint_campus, lukio_staff, monday):
    room = joint_campus.classroom
    room.is_bookable = False
    room.save()

    with pytest.raises(BookingRuleBroken) as refused:
        book(lukio_staff, room, at(monday, 10), at(monday, 11))

    assert refused.value.code == "room_not_bookable"
    assert not Booking.objects.exists()


@pytest.mark.postgres
def test_the_database_refuses_an_overlap_the_service_check_missed(joint_campus, lukio_staff, monday, monkeypatch):
    """On PostgreSQL the exclusion constraint is the last line of defence (e.g. against a race)."""
    if connection.vendor != "postgresql":
        pytest.skip("the exclusion constraint exists only on PostgreSQL")
    book(lukio_staff, joint_campus.classroom, at(monday, 10), at(monday, 11), title="Physics")
    real_clashing_blocks = conflicts.clashing_blocks
    calls = []

    def blind_first_check(*args, **kwargs):
        calls.append(args)
        return [] if len(calls) == 1 else real_clashing_blocks(*args, **kwargs)

    monkeypatch.setattr(conflicts, "clashing_blocks", blind_first_check)

    with pytest.raises(SlotTaken) as refused:
        book(lukio_staff, joint_campus.classroom, at(monday, 10, 30), at(monday, 11, 30))

    assert len(calls) == 2  # the blind check, then the reading of the conflicts after the violation
    [conflict] = refused.value.conflicts
    assert (conflict["start"], conflict["title"]) == (at(monday, 10), "Physics")
    assert Booking.objects.count() == 1


@pytest.mark.parametrize(
    "refused_by",
    ["the service's check", pytest.param("the exclusion constraint", marks=pytest.mark.postgres)],
)
def test_a_clash_cancelled_before_the_refusal_is_described_lets_the_booking_through(
    joint_campus, lukio_staff, monday, monkeypatch, refused_by
):
    """A refusal naming no clash tells the booker nothing: the slot is free by then, so it is booked."""
    by_the_constraint = refused_by == "the exclusion constraint"
    if by_the_constraint and connection.vendor != "postgresql":
        pytest.skip("the exclusion constraint exists only on PostgreSQL")
    physics = book(lukio_staff, joint_campus.classroom, at(monday, 10), at(monday, 11), title="Physics").first
    calls = cancel_the_clash_before_it_is_described(
        monkeypatch, physics, lukio_staff, blind_first_check=by_the_constraint
    )

    result = book(lukio_staff, joint_campus.classroom, at(monday, 10, 30), at(monday, 11, 30), title="Chemistry")

    assert len(calls) == 3  # the check (blind, or finding Physics), the reading that found it gone, the check again
    assert (result.first.title, result.first.status) == ("Chemistry", BookingStatus.CONFIRMED)
    assert Booking.objects.get(pk=physics.pk).status == BookingStatus.CANCELLED


# --- buffer time -------------------------------------------------------------------------------


def test_buffer_blocks_the_room_after_the_booking(joint_campus, lukio_staff, buffered_room, monday):
    book(lukio_staff, buffered_room, at(monday, 10), at(monday, 11))

    block = BookingBlock.objects.get()
    assert block.blocked_until == at(monday, 11, 15)
    with pytest.raises(SlotTaken):
        book(lukio_staff, buffered_room, at(monday, 11), at(monday, 12))
    with pytest.raises(SlotTaken):
        book(lukio_staff, buffered_room, at(monday, 11, 14), at(monday, 12))
    book(lukio_staff, buffered_room, at(monday, 11, 15), at(monday, 12))
    assert Booking.objects.count() == 2


def test_a_booking_whose_buffer_runs_into_the_next_booking_is_refused(joint_campus, lukio_staff, buffered_room, monday):
    book(lukio_staff, buffered_room, at(monday, 10), at(monday, 11), title="Board meeting")

    with pytest.raises(SlotTaken) as refused:
        book(lukio_staff, buffered_room, at(monday, 9), at(monday, 9, 50))

    [conflict] = refused.value.conflicts
    assert (conflict["start"], conflict["title"]) == (at(monday, 10), "Board meeting")
    book(lukio_staff, buffered_room, at(monday, 9), at(monday, 9, 45))
    assert Booking.objects.count() == 2


# --- opening hours -----------------------------------------------------------------------------


def test_a_booking_outside_the_buildings_hours_is_refused_saying_when_it_is_open(joint_campus, lukio_staff, monday):
    with pytest.raises(BookingRuleBroken) as refused:
        book(lukio_staff, joint_campus.classroom, at(monday, 20), at(monday, 22))

    assert refused.value.code == "outside_opening_hours"
    assert refused.value.rule == "opening_hours"
    assert refused.value.allowed == {"opens": at(monday, 7), "closes": at(monday, 21)}
    with pytest.raises(BookingRuleBroken):
        book(lukio_staff, joint_campus.classroom, at(monday, 6, 30), at(monday, 8))
    book(lukio_staff, joint_campus.classroom, at(monday, 7), at(monday, 8))
    book(lukio_staff, joint_campus.classroom, at(monday, 20), at(monday, 21))
    assert Booking.objects.count() == 2


def test_saturday_has_shorter_hours(joint_campus, lukio_staff, monday):
    saturday = monday + dt.timedelta(days=5)

    with pytest.raises(BookingRuleBroken) as refused:
        book(lukio_staff, joint_campus.classroom, at(saturday, 14), at(saturday, 16))
    assert refused.value.allowed == {"opens": at(saturday, 9), "closes": at(saturday, 15)}
    book(lukio_staff, joint_campus.classroom, at(saturday, 9), at(saturday, 15))


def test_the_building_is_closed_on_sunday(joint_campus, lukio_staff, sunday):
    with pytest.raises(BookingRuleBroken) as refused:
        book(lukio_staff, joint_campus.classroom, at(sunday, 10), at(sunday, 11))

    assert refused.value.code == "outside_opening_hours"
    assert refused.value.allowed is None
    assert not Booking.objects.exists()


def test_a_booking_running_past_midnight_is_refused(joint_campus, lukio_staff, monday):
    with pytest.raises(BookingRuleBroken) as refused:
        book(lukio_staff, joint_campus.classroom, at(monday, 20), at(monday + dt.timedelta(days=1), 8))
    assert refused.value.code == "outside_opening_hours"


def test_a_rooms_own_opening_hours_override_its_buildings(joint_campus, lukio_staff, monday, sunday):
    lab = joint_campus.lab
    OpeningHours.objects.create(room=lab, weekday=0, opens=dt.time(12), closes=dt.time(16))
    OpeningHours.objects.create(room=lab, weekday=6, opens=dt.time(10), closes=dt.time(14))
    tuesday = monday + dt.timedelta(days=1)

    with pytest.raises(BookingRuleBroken) as before_opening:
        book(lukio_staff, lab, at(monday, 10), at(monday, 11))
    assert before_opening.value.allowed == {"opens": at(monday, 12), "closes": at(monday, 16)}
    with pytest.raises(BookingRuleBroken) as tuesday_closed:
        book(lukio_staff, lab, at(tuesday, 10), at(tuesday, 11))  # the building is open, the lab is not
    assert tuesday_closed.value.allowed is None
    book(lukio_staff, lab, at(monday, 12), at(monday, 13))
    book(lukio_staff, lab, at(sunday, 10), at(sunday, 11))  # the building is closed, the lab is open
    book(lukio_staff, joint_campus.classroom, at(monday, 10), at(monday, 11))  # other rooms keep the building's
    assert Booking.objects.count() == 3


def test_a_closed_day_exception_refuses_bookings(joint_campus, lukio_staff, monday):
    OpeningHoursException.objects.create(
        building=joint_campus.main_building, date=monday, closed=True, reason="Electrical works"
    )

    with pytest.raises(BookingRuleBroken) as refused:
        book(lukio_staff, joint_campus.classroom, at(monday, 10), at(monday, 11))

    assert refused.value.code == "outside_opening_hours"
    assert "Electrical works" in refused.value.message
    assert refused.value.allowed is None
    workshop_room = joint_campus.workshop_building.rooms.create(code="B1", name="Workshop", capacity=10)
    book(lukio_staff, workshop_room, at(monday, 10), at(monday, 11))  # the other building is open


def test_an_exception_with_shorter_hours_replaces_the_weekly_hours(joint_campus, lukio_staff, monday):
    OpeningHoursException.objects.create(
        building=joint_campus.main_building,
        date=monday,
        closed=False,
        opens=dt.time(10),
        closes=dt.time(14),
        reason="Staff day",
    )

    with pytest.raises(BookingRuleBroken) as too_early:
        book(lukio_staff, joint_campus.classroom, at(monday, 9), at(monday, 10))
    assert too_early.value.allowed == {"opens": at(monday, 10), "closes": at(monday, 14)}
    with pytest.raises(BookingRuleBroken):
        book(lukio_staff, joint_campus.classroom, at(monday, 13), at(monday, 15))
    book(lukio_staff, joint_campus.classroom, at(monday, 10), at(monday, 14))
    assert Booking.objects.count() == 1


def test_a_campus_holiday_refuses_bookings(joint_campus, lukio_staff, monday):
    Holiday.objects.create(campus=joint_campus.campus, date=monday, name="Independence Day")

    with pytest.raises(BookingRuleBroken) as refused:
        book(lukio_staff, joint_campus.classroom, at(monday, 10), at(monday, 11))

    assert refused.value.code == "outside_opening_hours"
    assert "Independence Day" in refused.value.message
    assert not Booking.objects.exists()


# --- who books for which institution -----------------------------------------------------------


def test_a_user_cannot_book_for_an_institution_they_do_not_belong_to(joint_campus, lukio_staff, monday):
    with pytest.raises(PermissionDenied) as refused:
        book(lukio_staff, joint_campus.classroom, at(monday, 10), at(monday, 11), institution=joint_campus.vocational)

    assert refused.value.code == "not_a_member"
    assert not Booking.objects.exists()


def test_a_user_of_two_institutions_must_choose_one(joint_campus, lukio_staff, monday):
    Membership.objects.create(user=lukio_staff, institution=joint_campus.adult, role=Role.STAFF)
    room = joint_campus.shared_auditorium

    with pytest.raises(InvalidInput) as refused:
        book(lukio_staff, room, at(monday, 10), at(monday, 11))
    assert error_fields(refused.value) == ["institution"]

    result = book(lukio_staff, room, at(monday, 10), at(monday, 11), institution=joint_campus.adult)
    assert result.first.institution == joint_campus.adult


def test_a_user_of_two_institutions_books_a_room_of_one_of_them_for_its_owner(joint_campus, lukio_staff, monday):
    Membership.objects.create(user=lukio_staff, institution=joint_campus.adult, role=Role.STAFF)

    result = book(lukio_staff, joint_campus.classroom, at(monday, 10), at(monday, 11))

    assert result.first.institution == joint_campus.lukio


def test_two_roles_at_one_institution_need_no_choice(joint_campus, lukio_staff, monday):
    Membership.objects.create(user=lukio_staff, institution=joint_campus.lukio, role=Role.INSTITUTION_ADMIN)

    result = book(lukio_staff, joint_campus.classroom, at(monday, 10), at(monday, 11))

    assert result.first.institution == joint_campus.lukio


def test_the_front_desk_books_for_any_institution_or_the_campus(joint_campus, front_desk, monday):
    room = joint_campus.shared_auditorium

    for_vocational = book(front_desk, room, at(monday, 10), at(monday, 11), institution=joint_campus.vocational)
    for_campus = book(front_desk, room, at(monday, 11), at(monday, 12), on_behalf_of_name="Choir Kaiku")

    assert for_vocational.first.institution == joint_campus.vocational
    assert for_campus.first.institution is None
    assert for_campus.first.on_behalf_of_name == "Choir Kaiku"


def test_an_institution_of_another_campus_is_refused(joint_campus, front_desk, monday):
    elsewhere = Campus.objects.create(name="Other campus")
    stranger = Institution.objects.create(
        campus=elsewhere, name="Elsewhere School", short_code="else", kind=InstitutionKind.OTHER
    )

    with pytest.raises(InvalidInput) as refused:
        book(front_desk, joint_campus.shared_auditorium, at(monday, 10), at(monday, 11), institution=stranger)
    assert error_fields(refused.value) == ["institution"]


def test_an_expired_membership_does_not_make_a_member_and_says_when_it_ended(joint_campus, monday):
    former = make_user("former.teacher")
    Membership.objects.create(
        user=former,
        institution=joint_campus.lukio,
        role=Role.STAFF,
        valid_until=today() - dt.timedelta(days=1),
    )

    with pytest.raises(PermissionDenied) as refused:
        book(former, joint_campus.classroom, at(monday, 10), at(monday, 11))
    assert refused.value.code == "membership_ended"
    assert (today() - dt.timedelta(days=1)).isoformat() in refused.value.message
    with pytest.raises(PermissionDenied):
        book(former, joint_campus.classroom, at(monday, 10), at(monday, 11), institution=joint_campus.lukio)
    assert not Booking.objects.exists()


def test_a_membership_counts_through_its_last_day(joint_campus, monday):
    leaving = make_user("leaving.teacher")
    membership = Membership.objects.create(
        user=leaving, institution=joint_campus.lukio, role=Role.STAFF, valid_until=monday
    )

    result = book(leaving, joint_campus.classroom, at(monday, 10), at(monday, 11))

    assert result.first.institution == joint_campus.lukio
    assert in_helsinki(result.first.start).hour == 10
    # Ending today it still holds today (the write is allowed), but a booking next week reaches past it.
    membership.valid_until = today()
    membership.save()
    with pytest.raises(BookingRuleBroken) as refused:
        book(leaving, joint_campus.classroom, at(monday, 12), at(monday, 13))
    assert (refused.value.code, refused.value.allowed) == ("membership_ends", today())
