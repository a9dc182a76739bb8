"""Divisible rooms: a gym booked whole blocks its sections, and a booked section blocks the whole."""

from __future__ import annotations

import datetime as dt

import pytest

from bookings.errors import SlotTaken
from bookings.models import Booking, BookingBlock
from bookings.services import booking_cancel, booking_update, room_parts
from tests.bookings.conftest import at, book

pytestmark = pytest.mark.usefixtures("blocks_stay_consistent")

WEEK = dt.timedelta(weeks=1)


def test_a_booking_of_the_whole_gym_holds_a_block_on_every_section(gym, lukio_staff, monday):
    booking = book(lukio_staff, gym.whole, at(monday, 10), at(monday, 11)).first

    assert room_parts(gym.whole) == gym.sections
    assert sorted(BookingBlock.objects.filter(booking=booking).values_list("part_id", flat=True)) == sorted(
        section.pk for section in gym.sections
    )
    assert not BookingBlock.objects.filter(part=gym.whole).exists()


@pytest.mark.parametrize("section_index", [0, 1, 2])
def test_booking_the_whole_gym_blocks_each_section(gym, lukio_staff, vocational_staff, monday, section_index):
    book(lukio_staff, gym.whole, at(monday, 10), at(monday, 11), title="Indoor sports day")

    with pytest.raises(SlotTaken) as refused:
        book(vocational_staff, gym.sections[section_index], at(monday, 10, 30), at(monday, 11, 30))

    [conflict] = refused.value.conflicts
    assert (conflict["room"], conflict["start"], conflict["end"]) == ("GYM", at(monday, 10), at(monday, 11))
    assert Booking.objects.count() == 1


def test_booking_a_section_blocks_the_whole_gym(gym, lukio_staff, vocational_staff, monday):
    book(lukio_staff, gym.sections[1], at(monday, 10), at(monday, 11))

    with pytest.raises(SlotTaken) as refused:
        book(vocational_staff, gym.whole, at(monday, 9), at(monday, 10, 30))

    [conflict] = refused.value.conflicts
    assert (conflict["room"], conflict["start"]) == ("GYM-2", at(monday, 10))
    assert Booking.objects.count() == 1


def test_two_different_sections_can_be_booked_at_the_same_time(gym, lukio_staff, vocational_staff, monday):
    book(lukio_staff, gym.sections[0], at(monday, 10), at(monday, 11), title="Basketball")
    book(vocational_staff, gym.sections[2], at(monday, 10), at(monday, 11), title="Floorball")

    assert Booking.objects.count() == 2
    with pytest.raises(SlotTaken) as refused:
        book(lukio_staff, gym.whole, at(monday, 10), at(monday, 11))
    assert sorted(c["room"] for c in refused.value.conflicts) == ["GYM-1", "GYM-3"]
    book(lukio_staff, gym.sections[1], at(monday, 10), at(monday, 11))  # the middle section is still free


def test_the_whole_gym_can_be_booked_right_after_a_section(gym, lukio_staff, vocational_staff, monday):
    book(lukio_staff, gym.sections[0], at(monday, 9), at(monday, 10))

    book(vocational_staff, gym.whole, at(monday, 10), at(monday, 12))

    assert Booking.objects.count() == 2


def test_cancelling_the_whole_gym_frees_every_section(gym, lukio_staff, vocational_staff, monday):
    whole = book(lukio_staff, gym.whole, at(monday, 10), at(monday, 11)).first

    booking_cancel(booking=whole, actor=lukio_staff)

    for section in gym.sections:
        book(vocational_staff, section, at(monday, 10), at(monday, 11))
    assert not BookingBlock.objects.filter(booking=whole).exists()


def test_a_series_of_the_whole_gym_clashing_with_one_section_booking_is_refused(
    gym, lukio_staff, vocational_staff, monday
):
    book(vocational_staff, gym.sections[2], at(monday + 2 * WEEK, 10), at(monday + 2 * WEEK, 11))

    with pytest.raises(SlotTaken) as refused:
        book(lukio_staff, gym.whole, at(monday, 10), at(monday, 11), rrule="FREQ=WEEKLY;COUNT=3")

    assert [c["requested_start"] for c in refused.value.conflicts] == [at(monday + 2 * WEEK, 10)]
    assert Booking.objects.filter(room=gym.whole).count() == 0


def test_moving_a_section_booking_to_the_whole_gym_is_checked_against_the_other_sections(
    gym, lukio_staff, vocational_staff, monday
):
    mine = book(lukio_staff, gym.sections[0], at(monday, 10), at(monday, 11)).first
    book(vocational_staff, gym.sections[1], at(monday, 10, 30), at(monday, 11, 30))

    with pytest.raises(SlotTaken):
        booking_update(booking=mine, actor=lukio_staff, room=gym.whole)
    assert list(BookingBlock.objects.filter(booking=mine).values_list("part_id", flat=True)) == [gym.sections[0].pk]

    [moved] = booking_update(booking=mine, actor=lukio_staff, room=gym.whole, start=at(monday, 12))
    assert BookingBlock.objects.filter(booking=moved).count() == 3


def test_sections_cannot_change_under_future_bookings(gym, lukio_staff, monday):
    from django.db import transaction

    from campus.exceptions import InvalidInput

    book(lukio_staff, gym.whole, at(monday, 10), at(monday, 11))
    with pytest.raises(InvalidInput), transaction.atomic():
        gym.whole.sections.remove(gym.sections[0])
    assert gym.whole.sections.count() == 3


def test_the_admin_refuses_a_section_change_under_future_bookings(client, gym, lukio_staff, campus_fm, monday):
    from django.urls import reverse

    book(lukio_staff, gym.whole, at(monday, 10), at(monday, 11))
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    client.force_login(campus_fm)
    url = reverse("admin:campus_room_change", args=[gym.whole.pk])
    form = client.get(url).context["adminform"].form
    data = {name: value for name, value in form.initial.items() if value is not None}
    data["sections"] = [gym.sections[0].pk]
    data["equipment"] = []
    data.update({f"opening_hours-{key}": value for key, value in {"TOTAL_FORMS": 0, "INITIAL_FORMS": 0}.items()})
    response = client.post(url, data)
    assert response.status_code == 200
    assert "cannot change while" in str(response.context["adminform"].form.errors)
    assert gym.whole.sections.count() == 3
