"""Moves obey the target room's access rules; wide scopes need permission on every occurrence."""

from __future__ import annotations

import datetime as dt

import pytest

from bookings import services
from bookings.errors import BookingRuleBroken, SlotTaken
from bookings.models import Booking, BookingPolicy, BookingStatus, Notification, NotificationKind
from campus.exceptions import InvalidInput, PermissionDenied
from campus.models import Building, Campus, Room
from tests.bookings.conftest import at, book


def test_moving_into_a_request_only_room_makes_the_booking_a_request(
    joint_campus, requests_for_classroom, vocational_staff, fm_of_lukio, day
):
    booking = book(vocational_staff, joint_campus.shared_auditorium, at(day, 10), at(day, 11)).first
    assert booking.status == BookingStatus.CONFIRMED

    services.booking_update(booking=booking, actor=vocational_staff, room=joint_campus.classroom)

    booking.refresh_from_db()
    assert booking.room == joint_campus.classroom
    assert booking.status == BookingStatus.PENDING
    assert booking.expires_at is not None
    assert Notification.objects.filter(booking=booking, kind=NotificationKind.REQUEST, recipient=fm_of_lukio).exists()


def test_a_series_wide_cancel_needs_permission_on_every_occurrence(joint_campus, lukio_staff, fm_of_vocational, day):
    series = book(lukio_staff, joint_campus.classroom, at(day, 10), at(day, 11), rrule="FREQ=WEEKLY;COUNT=3").bookings
    workshop = Room.objects.create(
        building=joint_campus.workshop_building,
        code="B1",
        name="Workshop",
        capacity=30,
        owner=joint_campus.vocational,
    )
    services.booking_update(booking=series[2], actor=lukio_staff, room=workshop, scope="occurrence")
    series[2].refresh_from_db()

    with pytest.raises(PermissionDenied):
        services.booking_cancel(booking=series[2], actor=fm_of_vocational, scope="series")
    assert Booking.objects.filter(pk__in=[b.pk for b in series], status=BookingStatus.CONFIRMED).count() == 3
    services.booking_cancel(booking=series[2], actor=fm_of_vocational, scope="occurrence")  # its own room: allowed


def test_a_booking_cannot_move_to_another_campus(joint_campus, lukio_staff, day):
    other = Campus.objects.create(name="Elsewhere", time_zone="Europe/Helsinki")
    room = Room.objects.create(
        building=Building.objects.create(campus=other, code="X", name="X"), code="X1", name="X1", capacity=5
    )
    booking = book(lukio_staff, joint_campus.classroom, at(day, 10), at(day, 11)).first

    with pytest.raises(InvalidInput) as refused:
        services.booking_update(booking=booking, actor=lukio_staff, room=room)
    assert refused.value.extra["errors"][0]["field"] == "room"


def test_the_front_desks_bookings_for_other_people_are_not_its_own_quota(joint_campus, front_desk, day):
    BookingPolicy.objects.create(campus=joint_campus.campus, max_active_bookings=1)
    for hour in (8, 10, 12):
        services.booking_create(
            room=joint_campus.shared_auditorium,
            booked_by=front_desk,
            title="Visitor",
            start=at(day, hour),
            end=at(day, hour + 1),
            on_behalf_of_name=f"Visitor {hour}",
        )
    services.booking_create(
        room=joint_campus.shared_auditorium, booked_by=front_desk, title="Own", start=at(day, 14), end=at(day, 15)
    )
    with pytest.raises(BookingRuleBroken) as refused:
        services.booking_create(
            room=joint_campus.shared_auditorium,
            booked_by=front_desk,
            title="Own 2",
            start=at(day, 16),
            end=at(day, 17),
        )
    assert refused.value.code == "quota_exceeded"


def test_skip_conflicts_with_every_date_taken_answers_with_the_clashes(
    joint_campus, lukio_staff, vocational_staff, day
):
    book(lukio_staff, joint_campus.shared_auditorium, at(day, 10), at(day, 11), rrule="FREQ=WEEKLY;COUNT=2")

    with pytest.raises(SlotTaken) as refused:
        book(
            vocational_staff,
            joint_campus.shared_auditorium,
            at(day, 10),
            at(day, 11),
            rrule="FREQ=WEEKLY;COUNT=2",
            skip_conflicts=True,
        )
    assert len(refused.value.conflicts) == 2
    assert refused.value.conflicts[0]["start"].utcoffset() is not None


def test_moving_this_and_following_splits_the_series_so_each_rule_stays_true(joint_campus, lukio_staff, day):
    from bookings.models import BookingSeries
    from bookings.recurrence import expand

    result = book(lukio_staff, joint_campus.classroom, at(day, 10), at(day, 11), rrule="FREQ=WEEKLY;BYDAY=TU;COUNT=4")
    third = result.bookings[2]
    new_day = day + dt.timedelta(weeks=2, days=1)  # the third occurrence moves to Wednesday at noon

    services.booking_update(
        booking=third, actor=lukio_staff, scope="following", start=at(new_day, 12), end=at(new_day, 13)
    )

    old, new = BookingSeries.objects.order_by("pk")
    zone = joint_campus.campus.zone
    for series in (old, new):
        stored = [b.start for b in Booking.objects.filter(series=series).order_by("start")]
        first = stored[0]
        expanded = expand(
            rule=series.rrule,
            start=first,
            end=first + dt.timedelta(hours=1),
            exdates=[],
            zone=zone,
            now=first - dt.timedelta(days=1),
        )
        assert [o.start for o in expanded] == stored
    assert "BYDAY=WE" in new.rrule
    assert Booking.objects.filter(series=old).count() == 2
    assert Booking.objects.filter(series=new).count() == 2


def test_moving_the_whole_series_moves_its_rule(joint_campus, lukio_staff, day):
    from bookings.models import BookingSeries

    result = book(lukio_staff, joint_campus.classroom, at(day, 10), at(day, 11), rrule="FREQ=WEEKLY;BYDAY=TU;COUNT=3")
    thursday = day + dt.timedelta(days=2)

    services.booking_update(
        booking=result.first, actor=lukio_staff, scope="series", start=at(thursday, 9), end=at(thursday, 10)
    )

    [series] = BookingSeries.objects.all()
    assert "BYDAY=TH" in series.rrule
    assert series.dtstart == at(thursday, 9)
    assert Booking.objects.filter(series=series).count() == 3
