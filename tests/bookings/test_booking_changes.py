"""Changing, cancelling and releasing bookings: scopes over a series, re-checks, and who may do it."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection

from bookings.errors import BookingRuleBroken, BookingStateError, SlotTaken
from bookings.models import Booking, BookingBlock, BookingStatus
from bookings.services import Scope, active_overlaps_exist, booking_cancel, booking_release, booking_update
from campus.exceptions import InvalidInput, PermissionDenied
from campus.models import Holiday, Membership, Role
from tests.bookings.conftest import (
    at,
    book,
    cancel_the_clash_before_it_is_described,
    error_fields,
    in_helsinki,
    local_starts,
    next_last_sunday,
    wall,
)
from tests.conftest import make_user

pytestmark = pytest.mark.usefixtures("blocks_stay_consistent")

WEEK = dt.timedelta(weeks=1)
DAY = dt.timedelta(days=1)


def fresh(bookings: list[Booking]) -> list[Booking]:
    """Return ``bookings`` as they are now in the database, in start order."""
    return list(Booking.objects.filter(pk__in=[b.pk for b in bookings]).order_by("start"))


def block_of(booking: Booking) -> tuple[dt.datetime, dt.datetime]:
    block = BookingBlock.objects.get(booking=booking)
    return block.start, block.blocked_until


@pytest.fixture
def weekly(joint_campus, lukio_staff, monday) -> list[Booking]:
    """Four Monday lessons 10–11 in the lukio classroom, booked by the lukio teacher."""
    result = book(
        lukio_staff, joint_campus.classroom, at(monday, 10), at(monday, 11), title="Maths", rrule="FREQ=WEEKLY;COUNT=4"
    )
    return result.bookings


# --- booking_update ----------------------------------------------------------------------------


def test_moving_one_occurrence_moves_only_that_one_and_frees_its_old_slot(
    joint_campus, lukio_staff, vocational_staff, weekly, monday
):
    second = weekly[1]
    tuesday = monday + WEEK + DAY

    [moved] = booking_update(
        booking=second, actor=lukio_staff, scope=Scope.OCCURRENCE, start=at(tuesday, 12), end=at(tuesday, 13, 30)
    )

    assert (moved.start, moved.end) == (at(tuesday, 12), at(tuesday, 13, 30))
    assert block_of(moved) == (at(tuesday, 12), at(tuesday, 13, 30))
    assert local_starts(fresh(weekly)) == [
        wall(monday, 10),
        wall(tuesday, 12),
        wall(monday + 2 * WEEK, 10),
        wall(monday + 3 * WEEK, 10),
    ]
    assert moved.series_id == weekly[0].series_id
    book(vocational_staff, joint_campus.classroom, at(monday + WEEK, 10), at(monday + WEEK, 11))


def test_moving_keeps_the_length_when_only_the_start_is_given(lukio_staff, weekly, monday):
    [moved] = booking_update(booking=weekly[0], actor=lukio_staff, start=at(monday, 14))

    assert (moved.start, moved.end) == (at(monday, 14), at(monday, 15))


def test_moving_onto_another_booking_is_refused_and_changes_nothing(
    joint_campus, lukio_staff, fm_of_lukio, weekly, monday
):
    other = book(fm_of_lukio, joint_campus.classroom, at(monday + WEEK, 12), at(monday + WEEK, 13), title="Inspection")
    second = weekly[1]

    with pytest.raises(SlotTaken) as refused:
        booking_update(booking=second, actor=lukio_staff, start=at(monday + WEEK, 12, 30), title="Moved")

    [conflict] = refused.value.conflicts
    assert (conflict["start"], conflict["title"]) == (at(monday + WEEK, 12), "Inspection")
    second.refresh_from_db()
    assert (second.start, second.end, second.title) == (at(monday + WEEK, 10), at(monday + WEEK, 11), "Maths")
    assert block_of(second) == (at(monday + WEEK, 10), at(monday + WEEK, 11))
    assert block_of(other.first) == (at(monday + WEEK, 12), at(monday + WEEK, 13))


def test_moving_onto_another_occurrence_of_the_same_series_is_refused(lukio_staff, weekly, monday):
    with pytest.raises(SlotTaken):
        booking_update(booking=weekly[1], actor=lukio_staff, start=at(monday + 2 * WEEK, 10, 30))

    assert local_starts(fresh(weekly))[1] == wall(monday + WEEK, 10)


def test_moving_within_its_own_slot_is_allowed(lukio_staff, weekly, monday):
    [moved] = booking_update(booking=weekly[0], actor=lukio_staff, start=at(monday, 10, 30), end=at(monday, 11, 30))

    assert block_of(moved) == (at(monday, 10, 30), at(monday, 11, 30))


def test_moving_outside_opening_hours_is_refused_and_changes_nothing(lukio_staff, weekly, monday):
    with pytest.raises(BookingRuleBroken) as refused:
        booking_update(booking=weekly[0], actor=lukio_staff, start=at(monday, 20, 30))

    assert refused.value.code == "outside_opening_hours"
    assert local_starts(fresh(weekly))[0] == wall(monday, 10)


def test_moving_into_the_past_is_refused(lukio_staff, weekly, monday):
    with pytest.raises(BookingRuleBroken) as refused:
        booking_update(booking=weekly[1], actor=lukio_staff, start=at(monday, 12), now=at(monday, 13))

    assert refused.value.code == "in_the_past"


@pytest.mark.postgres
def test_a_move_the_database_refused_for_a_clash_since_cancelled_goes_through(
    joint_campus, lukio_staff, monday, monkeypatch
):
    """A refusal naming no clash would tell the mover nothing: the slot is free by then, so the move is made."""
    if connection.vendor != "postgresql":
        pytest.skip("the exclusion constraint exists only on PostgreSQL")
    physics = book(lukio_staff, joint_campus.classroom, at(monday, 10), at(monday, 11), title="Physics").first
    chemistry = book(lukio_staff, joint_campus.classroom, at(monday, 13), at(monday, 14), title="Chemistry").first
    calls = cancel_the_clash_before_it_is_described(monkeypatch, physics, lukio_staff, blind_first_check=True)

    [moved] = booking_update(booking=chemistry, actor=lukio_staff, start=at(monday, 10, 30), end=at(monday, 11, 30))

    assert len(calls) == 2  # the blind check, then the reading after the violation that found Physics gone
    assert (moved.start, moved.end) == (at(monday, 10, 30), at(monday, 11, 30))
    assert Booking.objects.get(pk=physics.pk).status == BookingStatus.CANCELLED


def test_moving_to_another_room_moves_its_block(joint_campus, lukio_staff, weekly, monday):
    [moved] = booking_update(booking=weekly[0], actor=lukio_staff, room=joint_campus.lab)

    assert moved.room == joint_campus.lab
    assert BookingBlock.objects.get(booking=moved).part == joint_campus.lab
    assert (moved.start, moved.end) == (at(monday, 10), at(monday, 11))


def test_title_change_with_scope_following_changes_this_and_later_occurrences(lukio_staff, weekly):
    changed = booking_update(booking=weekly[1], actor=lukio_staff, scope=Scope.FOLLOWING, title="Maths, advanced")

    assert [b.pk for b in changed] == [b.pk for b in weekly[1:]]
    assert [b.title for b in fresh(weekly)] == ["Maths", "Maths, advanced", "Maths, advanced", "Maths, advanced"]


def test_title_change_with_scope_series_changes_every_occurrence(lukio_staff, weekly):
    booking_update(booking=weekly[2], actor=lukio_staff, scope=Scope.SERIES, title="Algebra", attendees=24)

    assert {(b.title, b.attendees) for b in fresh(weekly)} == {("Algebra", 24)}


def test_title_change_with_scope_occurrence_changes_only_that_one(lukio_staff, weekly):
    booking_update(booking=weekly[2], actor=lukio_staff, title="Exam")

    assert [b.title for b in fresh(weekly)] == ["Maths", "Maths", "Exam", "Maths"]


def test_scope_series_leaves_past_occurrences_untouched(lukio_staff, weekly, monday):
    changed = booking_update(
        booking=weekly[3], actor=lukio_staff, scope=Scope.SERIES, title="Revision", now=at(monday + WEEK, 12)
    )

    assert len(changed) == 2
    assert [b.title for b in fresh(weekly)] == ["Maths", "Maths", "Revision", "Revision"]


def test_time_shift_of_the_series_keeps_the_local_wall_time_across_the_clock_change(joint_campus, lukio_staff):
    change = next_last_sunday(3)
    first_monday = change - dt.timedelta(days=13)
    now = at(first_monday - WEEK, 8)  # explicit, so the series is never too far ahead for the room's rules
    series = book(
        lukio_staff,
        joint_campus.classroom,
        at(first_monday, 10),
        at(first_monday, 11),
        rrule="FREQ=WEEKLY;COUNT=4",
        now=now,
    ).bookings

    booking_update(
        booking=series[0],
        actor=lukio_staff,
        scope=Scope.SERIES,
        start=at(first_monday, 11),
        end=at(first_monday, 12, 30),
        now=now,
    )

    moved = fresh(series)
    assert local_starts(moved) == [wall(first_monday + n * WEEK, 11) for n in range(4)]
    assert [in_helsinki(b.end).time() for b in moved] == [dt.time(12, 30)] * 4
    assert [b.start.astimezone(dt.UTC).hour for b in moved] == [9, 9, 8, 8]
    assert [block_of(b) for b in moved] == [(b.start, b.end) for b in moved]


def test_time_shift_with_scope_following_moves_this_and_later_occurrences(lukio_staff, weekly, monday):
    booking_update(
        booking=weekly[1],
        actor=lukio_staff,
        scope=Scope.FOLLOWING,
        start=at(monday + WEEK + DAY, 13),
        end=at(monday + WEEK + DAY, 14),
    )

    assert local_starts(fresh(weekly)) == [
        wall(monday, 10),
        wall(monday + WEEK + DAY, 13),
        wall(monday + 2 * WEEK + DAY, 13),
        wall(monday + 3 * WEEK + DAY, 13),
    ]


def test_time_shift_of_the_series_frees_the_old_slots(joint_campus, lukio_staff, vocational_staff, weekly, monday):
    booking_update(booking=weekly[0], actor=lukio_staff, scope=Scope.SERIES, start=at(monday, 12), end=at(monday, 13))

    freed = [
        book(vocational_staff, joint_campus.classroom, at(monday + n * WEEK, 10), at(monday + n * WEEK, 11)).first
        for n in range(4)
    ]

    assert [booking.status for booking in freed] == [BookingStatus.CONFIRMED] * 4
    assert local_starts(freed) == [wall(monday + n * WEEK, 10) for n in range(4)]
    assert local_starts(fresh(weekly)) == [wall(monday + n * WEEK, 12) for n in range(4)]


def test_a_time_shift_that_clashes_once_moves_no_occurrence(joint_campus, lukio_staff, fm_of_lukio, weekly, monday):
    book(fm_of_lukio, joint_campus.classroom, at(monday + 2 * WEEK, 12), at(monday + 2 * WEEK, 13))

    with pytest.raises(SlotTaken) as refused:
        booking_update(booking=weekly[0], actor=lukio_staff, scope=Scope.SERIES, start=at(monday, 12))

    assert [c["requested_start"] for c in refused.value.conflicts] == [at(monday + 2 * WEEK, 12)]
    assert local_starts(fresh(weekly)) == [wall(monday + n * WEEK, 10) for n in range(4)]


def test_a_time_shift_onto_a_holiday_moves_no_occurrence(joint_campus, lukio_staff, weekly, monday):
    Holiday.objects.create(campus=joint_campus.campus, date=monday + 2 * WEEK + DAY, name="Epiphany")

    with pytest.raises(BookingRuleBroken) as refused:
        booking_update(booking=weekly[0], actor=lukio_staff, scope=Scope.SERIES, start=at(monday + DAY, 10))

    assert refused.value.code == "outside_opening_hours"
    assert "Epiphany" in refused.value.message
    assert local_starts(fresh(weekly)) == [wall(monday + n * WEEK, 10) for n in range(4)]


def test_lengthening_a_series_may_not_make_two_of_its_occurrences_overlap(lukio_staff, weekly, monday):
    # A make-up lesson: the second occurrence was moved to right after the first.
    booking_update(booking=weekly[1], actor=lukio_staff, start=at(monday, 11), end=at(monday, 12))

    with pytest.raises(SlotTaken) as refused:
        booking_update(booking=weekly[0], actor=lukio_staff, scope=Scope.SERIES, end=at(monday, 11, 30))

    assert refused.value.conflicts  # names the occurrence the first one would run into
    assert [(in_helsinki(b.start).time(), in_helsinki(b.end).time()) for b in fresh(weekly)[:2]] == [
        (dt.time(10), dt.time(11)),
        (dt.time(11), dt.time(12)),
    ]
    assert not active_overlaps_exist()


def test_raising_attendees_over_the_capacity_is_refused(lukio_staff, weekly):
    with pytest.raises(BookingRuleBroken) as refused:
        booking_update(booking=weekly[0], actor=lukio_staff, scope=Scope.SERIES, attendees=31)

    assert refused.value.code == "over_capacity"
    assert {b.attendees for b in fresh(weekly)} == {None}


def test_moving_to_a_smaller_room_with_more_attendees_than_it_holds_is_refused(joint_campus, lukio_staff, monday):
    booking = book(lukio_staff, joint_campus.classroom, at(monday, 10), at(monday, 11), attendees=10).first

    with pytest.raises(BookingRuleBroken) as refused:
        booking_update(booking=booking, actor=lukio_staff, room=joint_campus.lab, attendees=25)  # the lab holds 20

    assert refused.value.code == "over_capacity"
    booking.refresh_from_db()
    assert (booking.room, booking.attendees) == (joint_campus.classroom, 10)


def test_moving_to_a_smaller_room_while_lowering_the_attendees_to_fit_is_allowed(joint_campus, lukio_staff, monday):
    booking = book(lukio_staff, joint_campus.classroom, at(monday, 10), at(monday, 11), attendees=25).first

    [moved] = booking_update(booking=booking, actor=lukio_staff, room=joint_campus.lab, attendees=18)

    assert (moved.room, moved.attendees) == (joint_campus.lab, 18)


def test_fields_that_cannot_be_changed_are_refused(lukio_staff, weekly):
    with pytest.raises(InvalidInput) as refused:
        booking_update(booking=weekly[0], actor=lukio_staff, status=BookingStatus.CANCELLED, booked_by=None)

    assert error_fields(refused.value) == ["booked_by", "status"]


def test_an_empty_title_is_refused_on_change(lukio_staff, weekly):
    with pytest.raises(InvalidInput) as refused:
        booking_update(booking=weekly[0], actor=lukio_staff, title="  ")
    assert error_fields(refused.value) == ["title"]


def test_an_unknown_scope_is_refused(lukio_staff, weekly):
    with pytest.raises(InvalidInput) as refused:
        booking_update(booking=weekly[0], actor=lukio_staff, scope="everything", title="X")
    assert error_fields(refused.value) == ["scope"]


def test_a_cancelled_booking_cannot_be_changed(lukio_staff, weekly):
    booking_cancel(booking=weekly[0], actor=lukio_staff)

    with pytest.raises(BookingStateError):
        booking_update(booking=weekly[0], actor=lukio_staff, title="Back again")


# --- booking_cancel ----------------------------------------------------------------------------


def test_cancelling_one_occurrence_frees_its_slot(joint_campus, lukio_staff, vocational_staff, weekly, monday):
    [cancelled] = booking_cancel(booking=weekly[1], actor=lukio_staff, scope=Scope.OCCURRENCE)

    assert cancelled.status == BookingStatus.CANCELLED
    assert [b.status for b in fresh(weekly)] == ["confirmed", "cancelled", "confirmed", "confirmed"]
    assert not BookingBlock.objects.filter(booking=weekly[1]).exists()
    book(vocational_staff, joint_campus.classroom, at(monday + WEEK, 10), at(monday + WEEK, 11))


def test_cancelling_the_following_occurrences_keeps_the_earlier_ones(
    joint_campus, lukio_staff, vocational_staff, weekly, monday
):
    cancelled = booking_cancel(booking=weekly[2], actor=lukio_staff, scope=Scope.FOLLOWING)

    assert [b.pk for b in cancelled] == [b.pk for b in weekly[2:]]
    assert [b.status for b in fresh(weekly)] == ["confirmed", "confirmed", "cancelled", "cancelled"]
    book(vocational_staff, joint_campus.classroom, at(monday + 3 * WEEK, 10), at(monday + 3 * WEEK, 11))
    with pytest.raises(SlotTaken):
        book(vocational_staff, joint_campus.classroom, at(monday + WEEK, 10), at(monday + WEEK, 11))


def test_cancelling_the_series_frees_every_slot(joint_campus, lukio_staff, vocational_staff, weekly, monday):
    cancelled = booking_cancel(booking=weekly[3], actor=lukio_staff, scope=Scope.SERIES)

    assert len(cancelled) == 4
    assert {b.status for b in fresh(weekly)} == {"cancelled"}
    assert not BookingBlock.objects.exists()
    book(vocational_staff, joint_campus.classroom, at(monday, 10), at(monday, 11), rrule="FREQ=WEEKLY;COUNT=4")


def test_cancelling_the_series_leaves_past_occurrences_untouched(lukio_staff, weekly, monday):
    cancelled = booking_cancel(booking=weekly[0], actor=lukio_staff, scope=Scope.SERIES, now=at(monday + WEEK, 12))

    assert [b.pk for b in cancelled] == [b.pk for b in weekly[2:]]
    assert [b.status for b in fresh(weekly)] == ["confirmed", "confirmed", "cancelled", "cancelled"]
    assert set(BookingBlock.objects.values_list("booking_id", flat=True)) == {weekly[0].pk, weekly[1].pk}


def test_cancelling_a_one_off_booking(joint_campus, lukio_staff, monday):
    booking = book(lukio_staff, joint_campus.classroom, at(monday, 10), at(monday, 11)).first

    booking_cancel(booking=booking, actor=lukio_staff, scope=Scope.SERIES)

    booking.refresh_from_db()
    assert booking.status == BookingStatus.CANCELLED
    assert not BookingBlock.objects.exists()


def test_cancelling_an_already_cancelled_booking_is_a_state_error(lukio_staff, weekly):
    booking_cancel(booking=weekly[0], actor=lukio_staff)

    with pytest.raises(BookingStateError) as refused:
        booking_cancel(booking=weekly[0], actor=lukio_staff)

    assert refused.value.code == "invalid_state"
    assert refused.value.http_status == 409


def test_cancelling_a_booking_that_has_ended_is_a_state_error(lukio_staff, weekly, monday):
    with pytest.raises(BookingStateError):
        booking_cancel(booking=weekly[0], actor=lukio_staff, now=at(monday, 11))

    assert fresh(weekly)[0].status == BookingStatus.CONFIRMED


# --- booking_release ---------------------------------------------------------------------------


def test_releasing_a_running_booking_frees_the_rest_of_the_slot_at_once(
    joint_campus, lukio_staff, vocational_staff, monday
):
    room = joint_campus.shared_auditorium
    booking = book(lukio_staff, room, at(monday, 10), at(monday, 12)).first
    finished = at(monday, 10, 40)

    released = booking_release(booking=booking, actor=lukio_staff, now=finished)

    assert released.status == BookingStatus.RELEASED
    assert released.released_at == finished
    booking.refresh_from_db()
    assert (booking.status, booking.released_at) == (BookingStatus.RELEASED, finished)
    assert (booking.start, booking.end) == (at(monday, 10), at(monday, 12))  # the record keeps what was booked
    assert not BookingBlock.objects.filter(booking=booking).exists()
    walk_in = book(vocational_staff, room, finished, at(monday, 12), now=finished)
    assert walk_in.first.status == BookingStatus.CONFIRMED


def test_releasing_before_the_start_is_refused(lukio_staff, weekly, monday):
    with pytest.raises(BookingStateError) as refused:
        booking_release(booking=weekly[0], actor=lukio_staff, now=at(monday, 9, 59))

    assert refused.value.code == "not_started"
    assert fresh(weekly)[0].status == BookingStatus.CONFIRMED


def test_releasing_after_the_end_is_refused(lukio_staff, weekly, monday):
    with pytest.raises(BookingStateError) as refused:
        booking_release(booking=weekly[0], actor=lukio_staff, now=at(monday, 11))

    assert refused.value.code == "already_ended"


def test_releasing_a_released_or_cancelled_booking_is_refused(lukio_staff, weekly, monday):
    booking_release(booking=weekly[0], actor=lukio_staff, now=at(monday, 10, 30))
    booking_cancel(booking=weekly[1], actor=lukio_staff)

    with pytest.raises(BookingStateError):
        booking_release(booking=weekly[0], actor=lukio_staff, now=at(monday, 10, 45))
    with pytest.raises(BookingStateError):
        booking_release(booking=weekly[1], actor=lukio_staff, now=at(monday + WEEK, 10, 30))


def test_releasing_one_occurrence_leaves_the_rest_of_the_series(lukio_staff, weekly, monday):
    booking_release(booking=weekly[0], actor=lukio_staff, now=at(monday, 10, 30))

    assert [b.status for b in fresh(weekly)] == ["released", "confirmed", "confirmed", "confirmed"]


# --- who may change ----------------------------------------------------------------------------


def _update(booking, actor, monday):
    return booking_update(booking=booking, actor=actor, title="Changed")


def _cancel(booking, actor, monday):
    return booking_cancel(booking=booking, actor=actor)


def _release(booking, actor, monday):
    return booking_release(booking=booking, actor=actor, now=at(monday, 10, 30))


ACTIONS = [pytest.param(_update, id="update"), pytest.param(_cancel, id="cancel"), pytest.param(_release, id="release")]
OUTCOME = {  # (title, status) after each action
    _update: ("Changed", BookingStatus.CONFIRMED),
    _cancel: ("Lesson", BookingStatus.CANCELLED),
    _release: ("Lesson", BookingStatus.RELEASED),
}


@pytest.mark.parametrize("action", ACTIONS)
@pytest.mark.parametrize(
    ("actor_name", "room_name"),
    [
        pytest.param("lukio_staff", "classroom", id="booker"),
        pytest.param("lukio_staff", "shared_auditorium", id="booker-shared-room"),
        pytest.param("fm_of_lukio", "classroom", id="owner-institution-facility-manager"),
        pytest.param("campus_fm", "shared_auditorium", id="campus-facility-manager-shared-room"),
        pytest.param("campus_fm", "classroom", id="campus-facility-manager"),
        pytest.param("front_desk", "classroom", id="front-desk"),
        pytest.param("front_desk", "shared_auditorium", id="front-desk-shared-room"),
    ],
)
def test_the_booker_the_rooms_facility_managers_and_the_front_desk_may_change(
    request, joint_campus, lukio_staff, monday, actor_name, room_name, action
):
    room = getattr(joint_campus, room_name)
    booking = book(lukio_staff, room, at(monday, 10), at(monday, 11)).first
    actor = request.getfixturevalue(actor_name)

    action(booking, actor, monday)

    booking.refresh_from_db()
    assert (booking.title, booking.status) == OUTCOME[action]


@pytest.mark.parametrize("action", ACTIONS)
def test_another_institutions_staff_may_not_change(joint_campus, lukio_staff, vocational_staff, monday, action):
    booking = book(lukio_staff, joint_campus.classroom, at(monday, 10), at(monday, 11)).first

    with pytest.raises(PermissionDenied):
        action(booking, vocational_staff, monday)

    booking.refresh_from_db()
    assert (booking.title, booking.status) == ("Lesson", BookingStatus.CONFIRMED)
    assert BookingBlock.objects.filter(booking=booking).exists()


@pytest.mark.parametrize("action", ACTIONS)
def test_a_colleague_who_did_not_book_may_not_change(joint_campus, lukio_staff, lukio_colleague, monday, action):
    booking = book(lukio_staff, joint_campus.classroom, at(monday, 10), at(monday, 11)).first

    with pytest.raises(PermissionDenied):
        action(booking, lukio_colleague, monday)


def test_an_institutions_facility_manager_may_not_change_bookings_of_shared_rooms(
    joint_campus, lukio_staff, fm_of_lukio, monday
):
    booking = book(lukio_staff, joint_campus.shared_auditorium, at(monday, 10), at(monday, 11)).first

    with pytest.raises(PermissionDenied):
        booking_cancel(booking=booking, actor=fm_of_lukio)
    booking_cancel(booking=booking, actor=lukio_staff)


def test_the_owner_a_series_was_handed_over_to_may_change_it(joint_campus, lukio_staff, weekly):
    successor = make_user("lukio.successor")
    Membership.objects.create(user=successor, institution=joint_campus.lukio, role=Role.STAFF)
    series = weekly[0].series
    series.owner = successor
    series.save()

    booking_cancel(booking=Booking.objects.get(pk=weekly[0].pk), actor=successor, scope=Scope.SERIES)

    assert {b.status for b in fresh(weekly)} == {"cancelled"}
