"""Which rooms are free for a slot: blocks before, across and after it, sections, buffers and own hours."""

from __future__ import annotations

import datetime as dt

import pytest

from bookings.selectors import free_room_ids_between, rooms_free_between
from campus.models import OpeningHours, Room, RoomKind
from campus.selectors import room_list
from tests.bookings.conftest import at, book

pytestmark = pytest.mark.usefixtures("blocks_stay_consistent")


def free_codes(day: dt.date, start: tuple[int, int], end: tuple[int, int]) -> set[str]:
    ids = free_room_ids_between(room_list(), start=at(day, *start), end=at(day, *end))
    return set(Room.objects.filter(pk__in=ids).values_list("code", flat=True))


def test_only_a_block_reaching_into_the_slot_makes_a_room_busy(joint_campus, lukio_staff, day):
    classroom, lab = joint_campus.classroom, joint_campus.lab
    book(lukio_staff, classroom, at(day, 8), at(day, 10))  # ends as the slot begins
    book(lukio_staff, classroom, at(day, 12), at(day, 13))  # begins as the slot ends
    book(lukio_staff, lab, at(day, 8), at(day, 9))  # long before: the last block before the slot is not it
    book(lukio_staff, lab, at(day, 9, 30), at(day, 10, 30))  # begins before the slot, lasts into it

    free = free_codes(day, (10, 0), (12, 0))

    assert "A101" in free
    assert "A201" not in free
    assert "A001" in free


def test_a_block_inside_the_slot_after_an_earlier_one_makes_a_room_busy(joint_campus, lukio_staff, day):
    book(lukio_staff, joint_campus.classroom, at(day, 8), at(day, 9))
    book(lukio_staff, joint_campus.classroom, at(day, 11), at(day, 11, 30))

    assert "A101" not in free_codes(day, (10, 0), (12, 0))
    assert "A101" in free_codes(day, (9, 0), (11, 0))


def test_a_booked_section_makes_the_whole_hall_busy_and_the_whole_hall_every_section(
    gym, campus_fm, vocational_staff, day
):
    book(vocational_staff, gym.sections[0], at(day, 10), at(day, 11))
    book(vocational_staff, gym.whole, at(day, 14), at(day, 15))

    morning = free_codes(day, (10, 0), (11, 0))
    afternoon = free_codes(day, (14, 0), (15, 0))

    assert "GYM" not in morning
    assert {"GYM-2", "GYM-3"} <= morning
    assert "GYM-1" not in morning
    assert not {"GYM", "GYM-1", "GYM-2", "GYM-3"} & afternoon


def test_a_room_with_a_buffer_is_busy_when_a_booking_starts_inside_the_buffer(joint_campus, lukio_staff, day):
    lab = joint_campus.lab
    lab.buffer_minutes = 15
    lab.save()
    book(lukio_staff, lab, at(day, 12, 10), at(day, 13))

    assert "A201" not in free_codes(day, (10, 0), (12, 0))  # 12:00 + 15 min reaches 12:10
    assert "A201" in free_codes(day, (9, 0), (11, 55))  # 11:55 + 15 min ends as it starts


def test_a_room_with_its_own_hours_is_closed_when_its_building_is_open(joint_campus, day):
    for weekday in range(7):
        OpeningHours.objects.create(room=joint_campus.lab, weekday=weekday, opens=dt.time(12), closes=dt.time(16))

    morning = free_codes(day, (9, 0), (11, 0))
    afternoon = free_codes(day, (13, 0), (15, 0))

    assert "A201" not in morning
    assert {"A101", "A001"} <= morning
    assert {"A101", "A201", "A001"} <= afternoon


def test_an_unbookable_room_is_never_free(joint_campus, day):
    Room.objects.filter(pk=joint_campus.shared_auditorium.pk).update(is_bookable=False)

    assert "A001" not in free_codes(day, (9, 0), (11, 0))


def test_free_rooms_come_in_the_order_asked_with_their_equipment_loaded(
    django_assert_num_queries, joint_campus, lukio_staff, day
):
    for n in range(8):
        room = Room.objects.create(
            building=joint_campus.workshop_building, code=f"B{n}", name=f"Room {n}", kind=RoomKind.CLASSROOM,
            capacity=20, buffer_minutes=10 * (n % 2),
        )  # fmt: skip
        room.equipment.add(joint_campus.projector)
    rooms = room_list(equipment=["projector"])

    with django_assert_num_queries(12):
        # candidates, own hours, sample rooms, weekly hours ×2, exceptions, holidays, buffered rooms'
        # sections and blocks, the free rooms with their equipment and sections: whatever their number
        free = rooms_free_between(rooms, start=at(day, 10), end=at(day, 11))
        equipment = [[item.code for item in room.equipment.all()] for room in free]

    assert [room.code for room in free] == [room.code for room in rooms]
    assert len(free) == 10  # the eight, the classroom and the lab
    assert all("projector" in codes for codes in equipment)
