"""Auto-release of no-shows: released only on live, sufficient, online evidence (or a missing required check-in).

Bookings are made through the services on a day ahead, and the job is run with ``now`` set inside
them, so the readings are the "live" data of that moment. The classroom (A101, lukio's) has a
people counter; the lab (A201) has no sensor. The default no-show time is 15 minutes.
"""

from __future__ import annotations

import datetime as dt

import pytest
from django_q.models import Schedule

from bookings.errors import BookingStateError
from bookings.models import (
    Booking,
    BookingAction,
    BookingEvent,
    BookingPolicy,
    BookingStatus,
    CheckIn,
    Notification,
    NotificationKind,
)
from bookings.services import booking_check_in
from campus.models import Membership, Role, Room, RoomKind
from sensors.models import Sensor, SensorKind, SensorStatus
from tests.bookings.conftest import at, book
from tests.bookings.test_engine_races import describe, run_at_once
from tests.conftest import make_user
from tests.utilisation.conftest import read
from utilisation import tasks_release
from utilisation.auto_release import release_no_shows

MINUTE = dt.timedelta(minutes=1)


def online(sensor: Sensor) -> Sensor:
    Sensor.objects.filter(pk=sensor.pk).update(status=SensorStatus.ONLINE)
    sensor.refresh_from_db()
    return sensor


@pytest.fixture
def counter(joint_campus) -> Sensor:
    """The classroom's people counter, online."""
    return online(Sensor.objects.create(external_id="a101-counter", kind=SensorKind.COUNT, room=joint_campus.classroom))


@pytest.fixture
def lesson(joint_campus, lukio_staff, day) -> Booking:
    """The lukio teacher's lesson in the classroom, 10–11 on ``day``."""
    return book(lukio_staff, joint_campus.classroom, at(day, 10), at(day, 11), title="Maths").first


def empty_every_five_minutes(sensor: Sensor, start: dt.datetime, *, until_minute: int = 15) -> None:
    """Readings of nobody at start, +5, +10 (each holds 5 minutes): the first 15 minutes fully covered."""
    for minute in range(0, until_minute, 5):
        read(sensor, start + minute * MINUTE, 0)


def status_of(booking: Booking) -> str:
    return Booking.objects.get(pk=booking.pk).status


# --- released --------------------------------------------------------------------------------------


def test_a_no_show_is_released_the_booker_told_and_the_rest_of_the_slot_freed(
    joint_campus, counter, lesson, lukio_staff, lukio_colleague, day
):
    empty_every_five_minutes(counter, lesson.start)
    now = lesson.start + 16 * MINUTE

    result = release_no_shows(now=now)

    assert result.released == [lesson.pk]
    stored = Booking.objects.get(pk=lesson.pk)
    assert (stored.status, stored.released_at) == (BookingStatus.RELEASED, now)
    event = BookingEvent.objects.get(booking_id=lesson.pk, action=BookingAction.RELEASE)
    assert (event.actor_id, event.reason) == (None, "no-show")
    notice = Notification.objects.get(booking_id=lesson.pk, kind=NotificationKind.RELEASED)
    assert notice.recipient == lukio_staff
    # In the booker's language: the installation's default (Finnish) when they chose none.
    assert notice.reason == (
        "Tilassa ei ollut ketään eikä kukaan kirjautunut sisään ensimmäisten 15 minuutin aikana, "
        "joten varaus vapautettiin muille."
    )
    # The rest of the slot is free: a colleague books it.
    taken = book(lukio_colleague, joint_campus.classroom, at(day, 10, 20), at(day, 11)).first
    assert taken.status == BookingStatus.CONFIRMED


def test_check_in_required_releases_without_a_sensor_when_nobody_checked_in(joint_campus, lukio_staff, day):
    lukio_staff.preferred_language = "en"
    lukio_staff.save()
    BookingPolicy.objects.create(room=joint_campus.lab, check_in=CheckIn.REQUIRED)
    lab_lesson = book(lukio_staff, joint_campus.lab, at(day, 12), at(day, 13)).first

    assert release_no_shows(now=lab_lesson.start + 14 * MINUTE).released == []
    assert release_no_shows(now=lab_lesson.start + 15 * MINUTE).released == [lab_lesson.pk]

    notice = Notification.objects.get(booking_id=lab_lesson.pk, kind=NotificationKind.RELEASED)
    assert notice.reason == "Nobody checked in during the first 15 minutes, so the booking was released for others."


def test_check_in_required_keeps_a_booking_that_was_checked_in(joint_campus, lukio_staff, day):
    BookingPolicy.objects.create(room=joint_campus.lab, check_in=CheckIn.REQUIRED)
    lab_lesson = book(lukio_staff, joint_campus.lab, at(day, 12), at(day, 13)).first
    booking_check_in(booking=lab_lesson, actor=lukio_staff, via="web", now=lab_lesson.start + 3 * MINUTE)

    assert release_no_shows(now=lab_lesson.start + 20 * MINUTE).released == []
    assert status_of(lab_lesson) == BookingStatus.CONFIRMED


def test_a_longer_no_show_time_from_the_building_policy_is_waited_for(joint_campus, counter, lesson):
    BookingPolicy.objects.create(building=joint_campus.main_building, no_show_minutes=30)
    empty_every_five_minutes(counter, lesson.start, until_minute=30)

    assert release_no_shows(now=lesson.start + 29 * MINUTE).released == []
    assert release_no_shows(now=lesson.start + 30 * MINUTE).released == [lesson.pk]


def test_readings_covering_just_over_half_of_the_window_are_enough(counter, lesson):
    # One reading at +7 holds until +15 (gap 10 minutes): 8 of 15 minutes, 53 % ≥ 50 %.
    read(counter, lesson.start + 7 * MINUTE, 0)

    assert release_no_shows(now=lesson.start + 16 * MINUTE).released == [lesson.pk]


# --- kept ------------------------------------------------------------------------------------------


def test_not_released_when_the_sensor_is_offline(counter, lesson):
    empty_every_five_minutes(counter, lesson.start)
    Sensor.objects.filter(pk=counter.pk).update(status=SensorStatus.OFFLINE)

    assert release_no_shows(now=lesson.start + 16 * MINUTE).released == []
    assert status_of(lesson) == BookingStatus.CONFIRMED


def test_not_released_when_one_of_two_sensors_is_not_heard_from(joint_campus, counter, lesson):
    Sensor.objects.create(external_id="a101-presence", kind=SensorKind.PRESENCE, room=joint_campus.classroom)
    empty_every_five_minutes(counter, lesson.start)

    assert release_no_shows(now=lesson.start + 16 * MINUTE).released == []


def test_not_released_without_data(counter, lesson):
    assert release_no_shows(now=lesson.start + 16 * MINUTE).released == []
    assert status_of(lesson) == BookingStatus.CONFIRMED


def test_not_released_when_the_data_is_too_thin(counter, lesson):
    # One reading at +8 holds until +15: 7 of 15 minutes, 47 % < 50 %: unknown, not empty.
    read(counter, lesson.start + 8 * MINUTE, 0)

    assert release_no_shows(now=lesson.start + 16 * MINUTE).released == []


def test_not_released_when_someone_was_present(counter, lesson):
    read(counter, lesson.start, 0)
    read(counter, lesson.start + 5 * MINUTE, 2)
    read(counter, lesson.start + 10 * MINUTE, 0)

    assert release_no_shows(now=lesson.start + 16 * MINUTE).released == []


def test_not_released_when_someone_came_after_the_window_but_before_the_job(counter, lesson):
    empty_every_five_minutes(counter, lesson.start)
    read(counter, lesson.start + 15 * MINUTE + dt.timedelta(seconds=20), 3)

    assert release_no_shows(now=lesson.start + 16 * MINUTE).released == []


def test_a_presence_sensor_saying_someone_is_there_keeps_the_booking(joint_campus, lukio_staff, day):
    sensor = online(Sensor.objects.create(external_id="a201-presence", kind=SensorKind.PRESENCE, room=joint_campus.lab))
    lab_lesson = book(lukio_staff, joint_campus.lab, at(day, 12), at(day, 13)).first
    read(sensor, lab_lesson.start - 2 * MINUTE, True)  # holds until the next reading
    read(sensor, lab_lesson.start + 6 * MINUTE, False)
    read(sensor, lab_lesson.start + 12 * MINUTE, False)

    assert release_no_shows(now=lab_lesson.start + 16 * MINUTE).released == []


def test_not_released_when_checked_in(counter, lesson, lukio_staff):
    empty_every_five_minutes(counter, lesson.start)
    booking_check_in(booking=lesson, actor=lukio_staff, via="web", now=lesson.start + 14 * MINUTE)

    assert release_no_shows(now=lesson.start + 16 * MINUTE).released == []
    assert status_of(lesson) == BookingStatus.CONFIRMED


def test_an_ended_booking_is_never_released(joint_campus, counter, lukio_staff, day):
    short = book(lukio_staff, joint_campus.classroom, at(day, 14), at(day, 14, 15)).first
    empty_every_five_minutes(counter, short.start)

    assert release_no_shows(now=short.start + 16 * MINUTE).released == []
    assert status_of(short) == BookingStatus.CONFIRMED
    assert not BookingEvent.objects.filter(booking_id=short.pk, action=BookingAction.RELEASE).exists()


def test_not_released_when_the_policy_is_off(joint_campus, counter, lesson):
    BookingPolicy.objects.create(room=joint_campus.classroom, check_in=CheckIn.OFF)
    empty_every_five_minutes(counter, lesson.start)

    assert release_no_shows(now=lesson.start + 16 * MINUTE).released == []


def test_by_default_a_room_without_a_sensor_is_never_released(joint_campus, lukio_staff, day):
    lab_lesson = book(lukio_staff, joint_campus.lab, at(day, 12), at(day, 13)).first

    assert release_no_shows(now=lab_lesson.start + 30 * MINUTE).released == []


# --- repeated no-shows of a series ----------------------------------------------------------------


def test_three_no_shows_in_a_row_tell_the_booker_and_the_facility_manager_once(
    joint_campus, counter, lukio_staff, fm_of_lukio, day
):
    fm_of_lukio.preferred_language = "sv"
    fm_of_lukio.save()
    series = book(lukio_staff, joint_campus.classroom, at(day, 8), at(day, 9), rrule="FREQ=WEEKLY;COUNT=5")
    occurrences = series.bookings
    streak_notices = Notification.objects.filter(kind=NotificationKind.NO_SHOW_SERIES)

    for index, occurrence in enumerate(occurrences[:4]):
        empty_every_five_minutes(counter, occurrence.start)
        assert release_no_shows(now=occurrence.start + 16 * MINUTE).released == [occurrence.pk]
        if index < 2:
            assert not streak_notices.exists()

    # Told once, on the third: the booker and the classroom's decider (lukio's facility manager).
    assert sorted(streak_notices.values_list("recipient__username", "booking_id")) == sorted(
        [(lukio_staff.username, occurrences[2].pk), (fm_of_lukio.username, occurrences[2].pk)]
    )
    # Each in their own language.
    assert streak_notices.get(recipient=lukio_staff).reason == (
        "Tämän toistuvan varauksen viimeiset 3 kertaa vapautettiin, koska ketään ei tullut."
    )
    assert streak_notices.get(recipient=fm_of_lukio).reason == (
        "De senaste 3 tillfällena av den här återkommande bokningen frigjordes eftersom ingen kom."
    )


def test_an_occurrence_that_was_used_breaks_the_streak(joint_campus, counter, lukio_staff, fm_of_lukio, day):
    occurrences = book(
        lukio_staff, joint_campus.classroom, at(day, 8), at(day, 9), rrule="FREQ=WEEKLY;COUNT=4"
    ).bookings
    for index, occurrence in enumerate(occurrences):
        if index == 1:
            read(counter, occurrence.start + MINUTE, 12)  # the class came that week
        else:
            empty_every_five_minutes(counter, occurrence.start)
        release_no_shows(now=occurrence.start + 16 * MINUTE)

    statuses = [status_of(o) for o in occurrences]
    assert statuses == [BookingStatus.RELEASED, BookingStatus.CONFIRMED, BookingStatus.RELEASED, BookingStatus.RELEASED]
    assert not Notification.objects.filter(kind=NotificationKind.NO_SHOW_SERIES).exists()


# --- the job ---------------------------------------------------------------------------------------


def test_the_job_runs_every_minute_and_calls_the_release(db):
    schedule = Schedule.objects.get(func="utilisation.tasks_release.release_no_show_bookings")
    assert (schedule.schedule_type, schedule.minutes, schedule.repeats) == (Schedule.MINUTES, 1, -1)
    assert tasks_release.release_no_show_bookings() == "0 bookings examined, 0 released as no-shows, 0 kept"


# --- a check-in racing the job (PostgreSQL) ---------------------------------------------------------


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("round_", range(6))
def test_a_check_in_racing_the_job_either_wins_or_is_refused_never_both(on_postgres, joint_campus, day, round_):
    # Another room and another teacher each round, so nothing but the booking's row lock orders the two.
    room = Room.objects.create(
        building=joint_campus.main_building,
        code=f"R{round_}",
        name=f"Room {round_}",
        kind=RoomKind.CLASSROOM,
        capacity=20,
        owner=joint_campus.lukio,
    )
    teacher = make_user(f"teacher{round_}")
    Membership.objects.create(user=teacher, institution=joint_campus.lukio, role=Role.STAFF)
    sensor = online(Sensor.objects.create(external_id=f"r{round_}-counter", kind=SensorKind.COUNT, room=room))
    booking = book(teacher, room, at(day, 10), at(day, 11)).first
    empty_every_five_minutes(sensor, booking.start)
    now = booking.start + 16 * MINUTE

    outcomes = run_at_once(
        [
            ("check-in", lambda: booking_check_in(booking=booking, actor=teacher, via="web", now=now)),
            ("job", lambda: release_no_shows(now=now)),
        ]
    )

    check_in, job = outcomes
    assert job.won, describe(outcomes)
    stored = Booking.objects.get(pk=booking.pk)
    if check_in.won:
        # The check-in came first: the job found it under the lock and kept the booking.
        assert (stored.status, job.value.released) == (BookingStatus.CONFIRMED, []), describe(outcomes)
        assert stored.checked_in_at == now
    else:
        assert isinstance(check_in.error, BookingStateError), describe(outcomes)
        assert check_in.error.code == "released"
        assert (stored.status, stored.checked_in_at, job.value.released) == (BookingStatus.RELEASED, None, [booking.pk])
    assert not (stored.checked_in_at is not None and stored.status == BookingStatus.RELEASED)
