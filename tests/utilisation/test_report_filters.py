"""Which slot rows a report reads: divisible halls, days closed for some rooms only, and opening hours that differ.

The report's queries name rooms the short way (the campus's rooms less its divisible halls) and read
every figure of a room from one aggregate by room and hours; these cases pin what they must keep.
"""

from __future__ import annotations

import datetime as dt
from decimal import ROUND_HALF_UP, Decimal

import pytest
from django.db.models import Q
from django.db.models.functions import Round

from campus.models import Holiday, OpeningHours, OpeningHoursException, TermKind, TermPeriod
from tests.utilisation.slots import local, slot
from utilisation.calendar import SlotCalendar, core_hours, rooms_filter
from utilisation.metrics import WholePeople, heatmap, utilisation_report
from utilisation.models import RoomSlot
from utilisation.results import Period, Season

MONDAY = dt.date(2026, 11, 9)
TUESDAY, WEDNESDAY, THURSDAY = (MONDAY + dt.timedelta(days=n) for n in range(1, 4))
WEEK = Period(MONDAY, MONDAY + dt.timedelta(days=6), Season.ALL)
LATER = dt.datetime(2026, 12, 1, 12, 0, tzinfo=dt.UTC)


@pytest.fixture
def booked_hall(joint_campus, hall):
    """Tuesday 10:00: vocational books the whole hall (both sections booked and used, 12 and 8 people).

    The hall's own row has a people counter of its own that saw 40 people at 11:00, unbooked: a room
    left out of the campus's figures must not bring it in.
    """
    jc = joint_campus
    whole, one, two = hall
    for room, people in ((whole, 20), (one, 12), (two, 8)):
        slot(room, local(TUESDAY, 10), occupied=900, mean=people, peak=people, booked=900, by=jc.vocational)
    slot(whole, local(TUESDAY, 11), occupied=900, mean=40, peak=40)
    slot(jc.classroom, local(TUESDAY, 10), occupied=900, mean=25, peak=25, booked=900, by=jc.lukio)
    return hall


def test_the_campus_counts_a_divisible_hall_through_its_sections_only(joint_campus, booked_hall):
    jc = joint_campus
    whole, _one, _two = booked_hall

    report = utilisation_report(campus=jc.campus, period=WEEK, now=LATER)

    assert sorted(row.code for row in report.rooms) == ["A001", "A101", "A201", "B1", "B2"]
    # The sections and the classroom at 10:00; nothing of the hall's own rows (its 11:00 slot, its 20 people).
    assert (report.totals.known_slots, report.totals.in_use_slots, report.totals.booked_slots) == (3, 3, 3)
    assert report.totals.headcount_sum == 12 + 8 + 25
    assert report.totals.peak_count == 25
    assert report.totals.available_slots == 5 * 5 * 32
    gyms = next(c for c in report.concurrency if c.kind == "gym")
    assert (gyms.rooms, gyms.peak_in_use, gyms.peak_at) == (2, 2, local(TUESDAY, 10))
    tuesday = next(point for point in report.over_time if point.day == TUESDAY)
    assert (tuesday.known_slots, tuesday.in_use_slots, tuesday.booked_slots) == (3, 3, 3)
    shares = {share.institution_id: share for share in report.shares if not share.unattributed}
    assert shares[jc.vocational.pk].booked_hours == 2 * 0.25  # two sections, not three rooms
    assert [share.used_hours for share in report.shares if share.unattributed] == []

    building = utilisation_report(campus=jc.campus, period=WEEK, building=jc.workshop_building, now=LATER)
    assert sorted(row.code for row in building.rooms) == ["B1", "B2"]
    assert building.totals.in_use_slots == 2

    # The hall alone is a report of its own rows.
    alone = utilisation_report(campus=jc.campus, period=WEEK, room=whole, now=LATER)
    assert (alone.totals.in_use_slots, alone.totals.booked_slots, alone.totals.peak_count) == (2, 1, 40)

    cells = heatmap(campus=jc.campus, period=WEEK, now=LATER)
    tuesday_at_ten = cells.frequency[cells.weekdays.index(2)][cells.hours.index(10)]
    assert tuesday_at_ten == 1.0  # 3 known, 3 in use: the hall's 11:00 row is not among them either
    assert cells.frequency[cells.weekdays.index(2)][cells.hours.index(11)] is None


def test_a_filter_names_the_fewer_rooms(joint_campus, hall):
    whole, one, two = hall
    campus_rooms = {whole.pk, one.pk, two.pk, 10, 11}

    # The campus less its hall: the hall is named; one section of five: the section; all of them: nothing.
    assert rooms_filter(campus_rooms - {whole.pk}, among=campus_rooms) == ~Q(room_id__in=[whole.pk])
    assert rooms_filter([one.pk], among=campus_rooms) == Q(room_id__in=[one.pk])
    assert rooms_filter(campus_rooms, among=campus_rooms) == Q()


def test_days_closed_for_some_rooms_and_breaks_of_some_owners_filter_as_they_count(joint_campus, hall):
    """Rows in every slot of a week; the filter keeps exactly the slots the calendar counts."""
    jc = joint_campus
    Holiday.objects.create(campus=jc.campus, date=WEDNESDAY, name="Campus day off")
    OpeningHoursException.objects.create(building=jc.workshop_building, date=TUESDAY, closed=True)
    TermPeriod.objects.create(institution=jc.lukio, kind=TermKind.BREAK, name="Break", start=THURSDAY, end=THURSDAY)
    _whole, one, two = hall
    rooms = [jc.classroom, jc.lab, jc.shared_auditorium, one, two]
    for room in rooms:
        moment = local(MONDAY, 0)
        while moment < local(MONDAY + dt.timedelta(days=7), 0):
            slot(room, moment)
            moment += dt.timedelta(minutes=15)

    for season in Season:
        period = Period(WEEK.first_day, WEEK.last_day, season)
        calendar = SlotCalendar(campus=jc.campus, rooms=rooms, period=period, hours=core_hours(jc.campus), now=LATER)
        available = calendar.available()
        kept = RoomSlot.objects.filter(calendar.slot_filter())

        assert kept.count() == sum(available.values()), season
        counted = {room.pk: kept.filter(room=room).count() for room in rooms}
        assert counted == available, season
    # Term time: lukio's rooms lose the holiday and their break, the sections the holiday and their closed day.
    term_period = Period(WEEK.first_day, WEEK.last_day)
    term = SlotCalendar(campus=jc.campus, rooms=rooms, period=term_period, hours=core_hours(jc.campus), now=LATER)
    assert term.available() == {
        jc.classroom.pk: 3 * 32,
        jc.lab.pk: 3 * 32,
        jc.shared_auditorium.pk: 4 * 32,
        one.pk: 3 * 32,
        two.pk: 3 * 32,
    }


def test_shares_count_each_room_within_its_own_opening_hours(joint_campus, hall):
    """The workshop building closes at 18:00 on weekdays; the lab keeps its own hours (Tuesday 12–20)."""
    jc = joint_campus
    _whole, one, _two = hall
    OpeningHours.objects.filter(building=jc.workshop_building, weekday__lt=5).update(closes=dt.time(18, 0))
    OpeningHours.objects.create(room=jc.lab, weekday=1, opens=dt.time(12, 0), closes=dt.time(20, 0))
    for room in (jc.classroom, jc.lab, one):
        for hour in (9, 19):
            slot(room, local(TUESDAY, hour), occupied=900, mean=5, peak=5, booked=900, by=jc.adult)

    (adult,) = [s for s in utilisation_report(campus=jc.campus, period=WEEK, now=LATER).shares if not s.unattributed]

    # Opening hours: the classroom at 9 and 19 (07–21), the lab at 19 (its own 12–20), the section at 9 (07–18).
    assert adult.booked_hours == 4 * 0.25
    assert adult.used_hours == 4 * 0.25
    # Core hours (08–16): the three 9:00 slots.
    assert adult.core_booked_hours == 3 * 0.25


def test_whole_people_round_halves_up_as_round_does_for_every_value_the_rollup_writes(joint_campus):
    """The right-sizing histogram's rounding (``floor(x + 0.5)`` on PostgreSQL) equals ``round`` of the decimal.

    Every four-decimal headcount near a half (k + 0.4990 … k + 0.5010) and near a whole number, k up to 60,
    stored as the rollup stores it and rounded by the database both ways and by Python's decimals: a value
    rounded the wrong way would move a room's 90th percentile.
    """
    room = joint_campus.classroom
    start = local(MONDAY, 0)
    values = sorted(
        {
            round(k + offset / 10_000, 4)
            for k in range(61)
            for offset in (*range(4990, 5011), *range(0, 11), *range(9990, 10_000))
        }
    )
    RoomSlot.objects.bulk_create(
        RoomSlot(
            room=room,
            campus=joint_campus.campus,
            start=start + dt.timedelta(minutes=15 * n),
            local_date=MONDAY,
            local_minute=0,
            iso_weekday=1,
            covered_seconds=900,
            occupied_seconds=900,
            mean_count=value,
            peak_count=1,
            booked_seconds=0,
            rolled_at=start,
        )
        for n, value in enumerate(values)
    )
    rounded = RoomSlot.objects.filter(room=room).annotate(whole=WholePeople("mean_count"), exact=Round("mean_count"))
    by_value = {row.mean_count: (float(row.whole), float(row.exact)) for row in rounded}

    assert len(by_value) == len(values)
    for value in values:
        halves_up = float(Decimal(repr(value)).quantize(Decimal(1), rounding=ROUND_HALF_UP))
        assert by_value[value] == (halves_up, halves_up), value


def test_right_sizing_weighs_each_headcount_by_its_slots(joint_campus):
    """Nine in-use slots of 5 people and one of 25 in the classroom (30 seats): the 90th percentile is 5.

    By nearest rank, the 9th of the ten slots: the histogram must count slots, not distinct headcounts
    (counted once each, 5 and 25 would give 25), and the room is then twice too large.
    """
    classroom = joint_campus.classroom
    for n, people in enumerate([5] * 9 + [25]):
        slot(classroom, local(MONDAY, 9) + dt.timedelta(minutes=15 * n), occupied=900, mean=people, peak=people)

    report = utilisation_report(campus=joint_campus.campus, period=WEEK, room=classroom, now=LATER)

    (row,) = report.rooms
    assert classroom.capacity == 30
    assert row.p90_headcount == 5
    assert row.oversized is True
