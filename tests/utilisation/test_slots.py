"""Room slots from raw readings and bookings, with answers computed by hand (Helsinki times, 15-minute slots)."""

from __future__ import annotations

import datetime as dt

import pytest

from bookings.models import BookingStatus
from sensors.models import Sensor, SensorKind
from tests.conftest import JointCampus
from utilisation.models import RoomSlot
from utilisation.rollups import rollup_pending, rollup_range

from .conftest import DAY, EVENING, HELSINKI, at, book, read, slots_of, wall

pytestmark = pytest.mark.django_db


def roll_day(**options):
    return rollup_range(start=at(0), end=at(0, day=DAY + dt.timedelta(days=1)), now=EVENING, **options)


def test_a_count_sensor_gives_time_weighted_mean_and_peak_per_slot(counter, joint_campus):
    for minute, count in ((0, 10), (5, 20), (12, 0), (20, 6)):
        read(counter, at(10, minute), count)

    roll_day()

    slots = slots_of(joint_campus.classroom)
    assert sorted(slots) == [wall(10, 0), wall(10, 15)]
    first, second = slots[wall(10, 0)], slots[wall(10, 15)]
    # 10:00–10:05 ten people (300 s), 10:05–10:12 twenty (420 s), 10:12–10:15 none (180 s):
    # mean = (10 × 300 + 20 × 420 + 0 × 180) / 900 = 11400 / 900 = 12.667; occupied 300 + 420 = 720 s.
    assert (first.covered_seconds, first.occupied_seconds, first.peak_count) == (900, 720, 20)
    assert first.mean_count == pytest.approx(11400 / 900, abs=1e-3)
    # 10:15–10:20 the 10:12 zero holds (until the next reading), 10:20–10:30 six people (the gap ends it at
    # 10:30): mean = (0 × 300 + 6 × 600) / 900 = 4; occupied 600 s; nothing after 10:30, so no 10:30 row.
    assert (second.covered_seconds, second.occupied_seconds, second.peak_count) == (900, 600, 6)
    assert second.mean_count == pytest.approx(4.0)
    assert (first.booked_seconds, first.booked_institution) == (0, None)
    assert first.campus == joint_campus.campus


def test_a_presence_sensor_gives_occupied_seconds_and_no_headcount(presence, joint_campus):
    read(presence, at(10, 0), True)
    read(presence, at(10, 8), False)
    read(presence, at(10, 30), True)

    roll_day()

    slots = slots_of(joint_campus.lab)
    # 10:00–10:08 present (480 s), 10:08–10:15 absent; the 10:08 reading holds until 10:18 (the gap):
    # the 10:15 slot has 180 s of data, under half its 15 minutes; 10:30–10:40 present.
    assert {start: (row.covered_seconds, row.occupied_seconds) for start, row in slots.items()} == {
        wall(10, 0): (900, 480),
        wall(10, 15): (180, 0),
        wall(10, 30): (600, 600),
    }
    assert all(row.mean_count is None and row.peak_count is None for row in slots.values())


def test_a_gap_longer_than_ten_minutes_is_missing_data(counter, joint_campus):
    read(counter, at(8, 0), 4)
    read(counter, at(8, 25), 4)

    roll_day()

    slots = slots_of(joint_campus.classroom)
    # 08:00 holds until 08:10 only; 08:10–08:25 has no data; 08:25 holds until 08:35.
    assert {start: (row.covered_seconds, row.occupied_seconds) for start, row in slots.items()} == {
        wall(8, 0): (600, 600),
        wall(8, 15): (300, 300),
        wall(8, 30): (300, 300),
    }
    # The mean is over the seconds with data: four people, not 4 × 600 / 900.
    assert slots[wall(8, 0)].mean_count == pytest.approx(4.0)


def test_several_sensors_in_one_room_merge_moment_by_moment(joint_campus: JointCampus):
    room = joint_campus.shared_auditorium
    door = Sensor.objects.create(external_id="door", kind=SensorKind.COUNT, room=room)
    camera = Sensor.objects.create(external_id="camera", kind=SensorKind.COUNT, room=room)
    motion = Sensor.objects.create(external_id="motion", kind=SensorKind.PRESENCE, room=room)
    read(door, at(10, 0), 5)
    read(door, at(10, 10), 3)
    read(camera, at(10, 5), 8)
    read(motion, at(10, 20), True)

    roll_day()

    slots = slots_of(room)
    first, second = slots[wall(10, 0)], slots[wall(10, 15)]
    # 10:00–10:05 door 5; 10:05–10:10 door 5, camera 8 → 8; 10:10–10:15 door 3, camera 8 → 8:
    # mean = (5 × 300 + 8 × 300 + 8 × 300) / 900 = 7, peak 8.
    assert (first.covered_seconds, first.occupied_seconds, first.peak_count) == (900, 900, 8)
    assert first.mean_count == pytest.approx(7.0)
    # 10:15–10:20 door 3 (the camera's 10:05 reading ended at 10:15); 10:20–10:30 only motion (present):
    # covered and occupied 900 s, but the headcount is over the 300 counted seconds: 3.
    assert (second.covered_seconds, second.occupied_seconds, second.peak_count) == (900, 900, 3)
    assert second.mean_count == pytest.approx(3.0)


def test_presence_makes_a_moment_occupied_even_when_a_counter_says_zero(joint_campus: JointCampus):
    room = joint_campus.shared_auditorium
    door = Sensor.objects.create(external_id="door", kind=SensorKind.COUNT, room=room)
    motion = Sensor.objects.create(external_id="motion", kind=SensorKind.PRESENCE, room=room)
    read(door, at(10, 0), 0)
    read(motion, at(10, 0), True)
    read(motion, at(10, 5), False)

    roll_day()

    slot = slots_of(room)[wall(10, 0)]
    # 10:00–10:05 present (counter 0), 10:05–10:10 nobody; both sensors stop at 10:10 and 10:15.
    assert (slot.covered_seconds, slot.occupied_seconds, slot.mean_count, slot.peak_count) == (900, 300, 0.0, 0)


@pytest.mark.parametrize(
    ("day", "utc_hours", "expected"),
    [
        # Autumn: 04:00 summer time is 03:00 winter time again; 03:00–04:00 happens twice.
        (
            dt.date(2026, 10, 25),
            [(20, 45), (21, 0), (0, 0), (0, 45), (1, 0)],
            [
                (dt.date(2026, 10, 24), 23 * 60 + 45, 6),
                (dt.date(2026, 10, 25), 0, 7),
                (dt.date(2026, 10, 25), 3 * 60, 7),
                (dt.date(2026, 10, 25), 3 * 60 + 45, 7),
                (dt.date(2026, 10, 25), 3 * 60, 7),
            ],
        ),
        # Spring: 03:00 winter time is 04:00 summer time; 03:00–04:00 never happens.
        (
            dt.date(2026, 3, 29),
            [(21, 45), (22, 0), (0, 45), (1, 0)],
            [
                (dt.date(2026, 3, 28), 23 * 60 + 45, 6),
                (dt.date(2026, 3, 29), 0, 7),
                (dt.date(2026, 3, 29), 2 * 60 + 45, 7),
                (dt.date(2026, 3, 29), 4 * 60, 7),
            ],
        ),
    ],
)
def test_local_date_minute_and_weekday_are_right_on_dst_days(counter, joint_campus, day, utc_hours, expected):
    starts = []
    for hour, minute in utc_hours:
        # Slots before midnight UTC belong to the day before.
        date = day if hour < 12 else day - dt.timedelta(days=1)
        start = dt.datetime(date.year, date.month, date.day, hour, minute, tzinfo=dt.UTC)
        starts.append(start)
        read(counter, start, 1)

    rollup_range(start=starts[0], end=starts[-1] + dt.timedelta(minutes=15), now=starts[-1] + dt.timedelta(days=1))

    rows = {row.start: row for row in RoomSlot.objects.filter(room=joint_campus.classroom)}
    assert [(rows[s].local_date, rows[s].local_minute, rows[s].iso_weekday) for s in starts] == expected


def test_slots_that_have_not_started_are_never_rolled(counter, joint_campus):
    read(counter, at(10, 12), 3)
    book(joint_campus.classroom, at(10, 0), at(11, 0), institution=joint_campus.lukio)

    rollup_range(start=at(0), end=at(23), now=at(10, 20))

    slots = slots_of(joint_campus.classroom)
    # At 10:20 the 10:00 and 10:15 slots have started; the 10:12 reading would hold until 10:22 but data
    # end at the time of the rollup: 300 s in the 10:15 slot.
    assert sorted(slots) == [wall(10, 0), wall(10, 15)]
    assert slots[wall(10, 15)].covered_seconds == 300
    assert slots[wall(10, 15)].booked_seconds == 900


def test_rolling_twice_gives_the_same_rows(counter, joint_campus):
    for minute in range(0, 60, 3):
        read(counter, at(9, minute), minute % 7)
    book(joint_campus.classroom, at(9, 10), at(9, 50), institution=joint_campus.lukio)
    roll_day()
    first = list(RoomSlot.objects.order_by("start").values())

    again = roll_day()

    assert list(RoomSlot.objects.order_by("start").values()) == first
    assert (again.slots_written, again.slots_deleted, again.uses_written) == (0, 0, 0)
    # Three rooms, each with the 72 slots from midnight to the evening's 18:00 (later ones have not started).
    assert again.slots_rolled == 3 * 72


def test_a_late_reading_re_rolls_only_the_slots_it_touches(counter, joint_campus):
    for minute in range(0, 120, 5):
        read(counter, at(8) + dt.timedelta(minutes=minute), 10)
    first = rollup_pending(now=at(12))
    before = {start: (row.rolled_at, row.mean_count) for start, row in slots_of(joint_campus.classroom).items()}
    # 08:00 … 09:55 every five minutes; the last reading holds until 10:05: nine slots.
    assert len(before) == 9

    read(counter, at(9, 7), 40, received_at=at(12, 5))
    result = rollup_pending(now=at(12, 10))

    after = {start: (row.rolled_at, row.mean_count) for start, row in slots_of(joint_campus.classroom).items()}
    # The 09:07 reading touches the slots overlapping [08:57, 09:17): 08:45, 09:00 and 09:15.
    assert result.slots_rolled == 3
    # 09:00 slot: 10 people 09:00–09:07 (420 s), 40 until 09:10 (180 s), 10 until 09:15 (300 s):
    # (4200 + 7200 + 3000) / 900 = 16.
    assert after[wall(9, 0)][1] == pytest.approx(16.0)
    assert after[wall(9, 0)][0] > before[wall(9, 0)][0]
    assert {start: value for start, value in after.items() if start != wall(9, 0)} == {
        start: value for start, value in before.items() if start != wall(9, 0)
    }
    assert result.version == first.version + 1


def test_nothing_new_changes_nothing_and_keeps_the_version(counter, joint_campus):
    read(counter, at(8), 1)
    first = rollup_pending(now=at(12))

    second = rollup_pending(now=at(12, 5))

    assert first.slots_written == 1
    assert (second.slots_rolled, second.slots_written, second.version) == (0, 0, first.version)


def test_a_booking_books_its_slots_and_cancelling_it_clears_them(joint_campus):
    room = joint_campus.classroom
    booking = book(room, at(10, 0), at(10, 50), institution=joint_campus.lukio)
    rollup_pending(now=EVENING)

    booked = {start: (row.booked_seconds, row.booked_institution_id) for start, row in slots_of(room).items()}
    assert booked == {
        wall(10, 0): (900, joint_campus.lukio.pk),
        wall(10, 15): (900, joint_campus.lukio.pk),
        wall(10, 30): (900, joint_campus.lukio.pk),
        wall(10, 45): (300, joint_campus.lukio.pk),
    }

    booking.status = BookingStatus.CANCELLED
    booking.save()
    result = rollup_pending(now=EVENING + dt.timedelta(minutes=5))

    # No data and no booking left: the rows go.
    assert slots_of(room) == {}
    assert result.slots_deleted == 4


@pytest.mark.parametrize("status", [BookingStatus.PENDING, BookingStatus.REJECTED, BookingStatus.CANCELLED])
def test_bookings_not_confirmed_book_nothing(joint_campus, status):
    book(joint_campus.classroom, at(10), at(11), institution=joint_campus.lukio, status=status)

    roll_day()

    assert slots_of(joint_campus.classroom) == {}


def test_a_released_booking_is_booked_until_its_release(joint_campus):
    room = joint_campus.classroom
    book(
        room,
        at(10),
        at(12),
        institution=joint_campus.lukio,
        status=BookingStatus.RELEASED,
        released_at=at(10, 40),
    )

    roll_day()

    assert {start: row.booked_seconds for start, row in slots_of(room).items()} == {
        wall(10, 0): 900,
        wall(10, 15): 900,
        wall(10, 30): 600,
    }


def test_section_and_whole_hall_bookings_book_each_other(joint_campus, hall):
    whole, one, two = hall
    book(one, at(10, 0), at(10, 10), institution=joint_campus.vocational)
    book(two, at(10, 8), at(10, 15), institution=joint_campus.adult)
    book(whole, at(11, 0), at(11, 15), institution=joint_campus.lukio)

    roll_day()

    def booked(room):
        return {start: (row.booked_seconds, row.booked_institution_id) for start, row in slots_of(room).items()}

    voc, adult, lukio = joint_campus.vocational.pk, joint_campus.adult.pk, joint_campus.lukio.pk
    # The hall: the union of both sections' bookings (10:00–10:15), held most by the vocational college
    # (600 s against 420 s); at 11:00 the whole hall.
    assert booked(whole) == {wall(10, 0): (900, voc), wall(11, 0): (900, lukio)}
    assert booked(one) == {wall(10, 0): (600, voc), wall(11, 0): (900, lukio)}
    assert booked(two) == {wall(10, 0): (420, adult), wall(11, 0): (900, lukio)}


def test_a_booking_for_the_campus_itself_has_no_institution(joint_campus):
    book(joint_campus.shared_auditorium, at(10), at(10, 15), institution=None)

    roll_day()

    row = slots_of(joint_campus.shared_auditorium)[wall(10)]
    assert (row.booked_seconds, row.booked_institution) == (900, None)


def test_a_booking_made_in_advance_becomes_booked_slots_when_its_time_comes(joint_campus):
    room = joint_campus.classroom
    book(room, at(10), at(10, 30), institution=joint_campus.lukio)
    rollup_pending(now=at(9))
    assert slots_of(room) == {}

    rollup_pending(now=at(10, 20))

    assert {start: row.booked_seconds for start, row in slots_of(room).items()} == {wall(10, 0): 900, wall(10, 15): 900}


def test_a_moved_booking_frees_its_old_slots(joint_campus, lukio_staff):
    from bookings import audit
    from bookings.models import BookingAction

    room = joint_campus.classroom
    booking = book(room, at(10), at(10, 30), institution=joint_campus.lukio)
    rollup_pending(now=EVENING)
    before = {booking.pk: audit.snapshot(booking)}
    booking.start, booking.end = at(14), at(14, 15)
    booking.save()
    audit.record(action=BookingAction.CHANGE, bookings=[booking], actor=lukio_staff, before=before)

    rollup_pending(now=EVENING + dt.timedelta(minutes=5))

    assert sorted(slots_of(room)) == [wall(14, 0)]


def test_slot_rows_carry_the_campus_local_view(counter, joint_campus):
    read(counter, at(16, 45), 2)

    roll_day()

    row = RoomSlot.objects.get()
    assert row.start == dt.datetime(2026, 11, 10, 14, 45, tzinfo=dt.UTC)
    assert (row.local_date, row.local_minute, row.iso_weekday) == (DAY, 16 * 60 + 45, 2)
    assert row.start.astimezone(HELSINKI).hour == 16
