"""What the sensors saw during each booking (BookingUse), with answers computed by hand (Helsinki times)."""

from __future__ import annotations

import datetime as dt

import pytest

from bookings.models import BookingStatus
from utilisation.models import BookingUse
from utilisation.rollups import rollup_pending, rollup_range

from .conftest import DAY, EVENING, at, book, read

pytestmark = pytest.mark.django_db


def every_five_minutes(sensor, first: dt.datetime, last: dt.datetime, count: int) -> None:
    moment = first
    while moment <= last:
        read(sensor, moment, count)
        moment += dt.timedelta(minutes=5)


def roll_day():
    return rollup_range(start=at(0), end=at(0, day=DAY + dt.timedelta(days=1)), now=EVENING)


@pytest.mark.parametrize(("checked_in", "no_show"), [(at(10, 5), False), (at(10, 40), True)])
def test_a_check_in_in_the_first_minutes_is_presence(counter, joint_campus, checked_in, no_show):
    """The counter saw nobody (a broken door beam, people came through another door): the booker checked in."""
    booking = book(joint_campus.classroom, at(10), at(11), institution=joint_campus.lukio)
    booking.checked_in_at = checked_in
    booking.save(update_fields=["checked_in_at"])
    every_five_minutes(counter, at(9, 50), at(11, 30), 0)

    roll_day()

    assert BookingUse.objects.get(booking=booking).no_show is no_show


def test_an_empty_room_with_data_is_a_no_show(counter, joint_campus):
    booking = book(joint_campus.classroom, at(10), at(11), institution=joint_campus.lukio)
    every_five_minutes(counter, at(9, 50), at(11, 30), 0)

    roll_day()

    use = BookingUse.objects.get(booking=booking)
    assert (use.covered_seconds, use.occupied_seconds, use.no_show) == (3600, 0, True)
    assert (use.first_presence_at, use.last_presence_at) == (None, None)
    assert (use.room, use.campus, use.start, use.end) == (
        joint_campus.classroom,
        joint_campus.campus,
        at(10),
        at(11),
    )


def test_people_staying_past_the_end_are_an_overrun(counter, joint_campus):
    booking = book(joint_campus.classroom, at(10), at(11), institution=joint_campus.lukio)
    every_five_minutes(counter, at(9, 50), at(10), 0)
    every_five_minutes(counter, at(10, 5), at(11, 15), 12)
    every_five_minutes(counter, at(11, 20), at(11, 40), 0)

    roll_day()

    use = BookingUse.objects.get(booking=booking)
    # People from 10:05 to 11:20: 55 of the booked 60 minutes occupied; present within the first 15.
    assert (use.covered_seconds, use.occupied_seconds, use.no_show) == (3600, 3300, False)
    assert (use.first_presence_at, use.last_presence_at) == (at(10, 5), at(11, 20))


def test_an_overrun_ends_where_the_next_booking_begins(counter, joint_campus):
    booking = book(joint_campus.classroom, at(10), at(11), institution=joint_campus.lukio)
    book(joint_campus.classroom, at(11, 10), at(12), institution=joint_campus.vocational)
    every_five_minutes(counter, at(10), at(12), 12)

    roll_day()

    assert BookingUse.objects.get(booking=booking).last_presence_at == at(11, 10)


def test_people_leaving_early_give_their_last_presence_before_the_end(counter, joint_campus):
    booking = book(joint_campus.classroom, at(10), at(11), institution=joint_campus.lukio)
    every_five_minutes(counter, at(10), at(10, 35), 5)
    every_five_minutes(counter, at(10, 40), at(11, 10), 0)

    roll_day()

    use = BookingUse.objects.get(booking=booking)
    assert (use.first_presence_at, use.last_presence_at) == (at(10), at(10, 40))
    assert (use.covered_seconds, use.occupied_seconds, use.no_show) == (3600, 2400, False)


def test_too_little_data_in_the_first_minutes_is_no_answer(counter, joint_campus):
    booking = book(joint_campus.classroom, at(10), at(11), institution=joint_campus.lukio)
    # Data from 10:12 only: 3 of the first 15 minutes (20 %, under the 50 % needed), nobody there.
    every_five_minutes(counter, at(10, 12), at(10, 57), 0)

    roll_day()

    use = BookingUse.objects.get(booking=booking)
    assert use.no_show is None
    assert use.covered_seconds == 48 * 60


def test_a_room_without_a_sensor_has_no_answer(joint_campus):
    booking = book(joint_campus.lab, at(10), at(11), institution=joint_campus.lukio)

    roll_day()

    use = BookingUse.objects.get(booking=booking)
    assert (use.covered_seconds, use.occupied_seconds, use.no_show, use.first_presence_at) == (0, 0, None, None)


def test_a_released_booking_is_measured_until_its_release(counter, joint_campus):
    booking = book(
        joint_campus.classroom,
        at(10),
        at(11),
        institution=joint_campus.lukio,
        status=BookingStatus.RELEASED,
        released_at=at(10, 30),
    )
    every_five_minutes(counter, at(10), at(10, 20), 4)
    every_five_minutes(counter, at(10, 25), at(11), 0)

    roll_day()

    use = BookingUse.objects.get(booking=booking)
    # Measured 10:00–10:30 only; people until 10:25; the booked end stays 11:00.
    assert (use.covered_seconds, use.occupied_seconds) == (1800, 1500)
    assert (use.last_presence_at, use.end) == (at(10, 25), at(11))


@pytest.mark.parametrize("status", [BookingStatus.PENDING, BookingStatus.REJECTED, BookingStatus.CANCELLED])
def test_bookings_not_confirmed_have_no_use(counter, joint_campus, status):
    book(joint_campus.classroom, at(10), at(11), institution=joint_campus.lukio, status=status)
    every_five_minutes(counter, at(10), at(11), 3)

    roll_day()

    assert not BookingUse.objects.exists()


def test_a_booking_that_has_not_started_has_no_use(counter, joint_campus):
    book(joint_campus.classroom, at(17), at(19), institution=joint_campus.lukio)
    book(joint_campus.classroom, at(18, 30), at(19), institution=joint_campus.lukio)

    rollup_range(start=at(0), end=at(23), now=at(18))

    assert list(BookingUse.objects.values_list("start", flat=True)) == [at(17)]


def test_cancelling_a_booking_removes_its_use(counter, joint_campus):
    booking = book(joint_campus.classroom, at(10), at(11), institution=joint_campus.lukio)
    every_five_minutes(counter, at(10), at(11), 3)
    rollup_pending(now=EVENING)
    assert BookingUse.objects.filter(booking=booking).exists()

    booking.status = BookingStatus.CANCELLED
    booking.save()
    result = rollup_pending(now=EVENING + dt.timedelta(minutes=5))

    assert not BookingUse.objects.exists()
    assert result.uses_deleted == 1


def test_readings_after_the_end_arriving_later_extend_the_last_presence(counter, joint_campus):
    booking = book(joint_campus.classroom, at(10), at(11), institution=joint_campus.lukio)
    every_five_minutes(counter, at(10), at(10, 55), 9)
    rollup_pending(now=at(11, 1))
    # At 11:01 the people are still there (the 10:55 reading holds until the time of the rollup).
    assert BookingUse.objects.get(booking=booking).last_presence_at == at(11, 1)

    every_five_minutes(counter, at(11), at(11, 15), 9)
    read(counter, at(11, 20), 0)
    rollup_pending(now=at(11, 30))

    use = BookingUse.objects.get(booking=booking)
    assert (use.last_presence_at, use.no_show, use.occupied_seconds) == (at(11, 20), False, 3600)
