"""Checking a booking in: who may, when, idempotence, the audit log, and no change to the iCalendar output."""

from __future__ import annotations

import datetime as dt

import pytest

from bookings.errors import BookingStateError
from bookings.models import Booking, BookingAction, BookingEvent, BookingStatus
from bookings.services import booking_cancel, booking_check_in, booking_release, may_check_in
from campus.exceptions import PermissionDenied
from tests.bookings.conftest import at, book

pytestmark = pytest.mark.usefixtures("blocks_stay_consistent")

MINUTE = dt.timedelta(minutes=1)


def test_the_booker_checks_in_and_the_time_is_recorded_in_the_audit_log(physics, lukio_staff):
    now = physics.start + 5 * MINUTE
    sequence, updated_at = physics.sequence, physics.updated_at

    checked = booking_check_in(booking=physics, actor=lukio_staff, via="web", now=now)

    stored = Booking.objects.get(pk=physics.pk)
    assert checked.checked_in_at == now
    assert stored.checked_in_at == now
    assert stored.status == BookingStatus.CONFIRMED
    # Nothing of the calendar entry changed: neither its revision nor its LAST-MODIFIED.
    assert (stored.sequence, stored.updated_at) == (sequence, updated_at)
    event = BookingEvent.objects.get(booking_id=physics.pk, action=BookingAction.CHECK_IN)
    assert (event.actor_id, event.reason) == (lukio_staff.pk, "web")


def test_checking_in_twice_keeps_the_first_time_and_one_event(physics, lukio_staff):
    first = physics.start - 2 * MINUTE
    booking_check_in(booking=physics, actor=lukio_staff, via="web", now=first)
    booking_check_in(booking=physics, actor=lukio_staff, via="api", now=first + 20 * MINUTE)

    assert Booking.objects.get(pk=physics.pk).checked_in_at == first
    assert BookingEvent.objects.filter(booking_id=physics.pk, action=BookingAction.CHECK_IN).count() == 1


def test_check_in_opens_ten_minutes_before_the_start(physics, lukio_staff):
    with pytest.raises(BookingStateError) as refused:
        booking_check_in(booking=physics, actor=lukio_staff, via="web", now=physics.start - 11 * MINUTE)
    assert refused.value.code == "too_early"
    assert "09:50" in refused.value.message  # the lesson starts at 10:00 Helsinki time

    booking_check_in(booking=physics, actor=lukio_staff, via="web", now=physics.start - 10 * MINUTE)
    assert Booking.objects.get(pk=physics.pk).checked_in_at == physics.start - 10 * MINUTE


def test_an_ended_booking_cannot_be_checked_in(physics, lukio_staff):
    with pytest.raises(BookingStateError) as refused:
        booking_check_in(booking=physics, actor=lukio_staff, via="web", now=physics.end)
    assert refused.value.code == "already_ended"
    assert Booking.objects.get(pk=physics.pk).checked_in_at is None


def test_a_released_or_cancelled_booking_cannot_be_checked_in(joint_campus, lukio_staff, day):
    released = book(lukio_staff, joint_campus.classroom, at(day, 8), at(day, 9)).first
    booking_release(booking=released, actor=lukio_staff, now=released.start + 5 * MINUTE)
    cancelled = book(lukio_staff, joint_campus.classroom, at(day, 12), at(day, 13)).first
    booking_cancel(booking=cancelled, actor=lukio_staff)

    with pytest.raises(BookingStateError) as refused:
        booking_check_in(booking=released, actor=lukio_staff, via="web", now=released.start + 6 * MINUTE)
    assert refused.value.code == "released"
    with pytest.raises(BookingStateError) as refused:
        booking_check_in(booking=cancelled, actor=lukio_staff, via="web", now=cancelled.start)
    assert refused.value.code == "not_confirmed"


def test_a_pending_request_cannot_be_checked_in(joint_campus, vocational_staff, requests_for_classroom, day):
    request = book(vocational_staff, joint_campus.classroom, at(day, 14), at(day, 15)).first
    assert request.status == BookingStatus.PENDING

    with pytest.raises(BookingStateError) as refused:
        booking_check_in(booking=request, actor=vocational_staff, via="web", now=request.start)
    assert refused.value.code == "not_confirmed"


def test_those_who_may_change_the_booking_check_it_in_and_others_may_not(
    physics, vocational_staff, lukio_colleague, fm_of_lukio, front_desk
):
    now = physics.start
    for outsider in (vocational_staff, lukio_colleague):
        with pytest.raises(PermissionDenied):
            booking_check_in(booking=physics, actor=outsider, via="web", now=now)
        assert not may_check_in(outsider, physics, now)
    assert Booking.objects.get(pk=physics.pk).checked_in_at is None

    assert may_check_in(fm_of_lukio, physics, now)
    booking_check_in(booking=physics, actor=fm_of_lukio, via="web", now=now)
    booking_check_in(booking=physics, actor=front_desk, via="web", now=now + MINUTE)
    assert Booking.objects.get(pk=physics.pk).checked_in_at == now


def test_only_a_door_display_checks_in_without_a_person(physics):
    with pytest.raises(PermissionDenied):
        booking_check_in(booking=physics, actor=None, via="api", now=physics.start)

    booking_check_in(booking=physics, actor=None, via="door", now=physics.start)

    event = BookingEvent.objects.get(booking_id=physics.pk, action=BookingAction.CHECK_IN)
    assert (event.actor_id, event.reason) == (None, "door")
