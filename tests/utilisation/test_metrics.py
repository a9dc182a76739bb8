"""Utilisation figures against answers worked out by hand from hand-made slot rows (docs/metrics.md)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from bookings.models import Closure
from campus.models import Holiday, TermKind, TermPeriod
from tests.utilisation.slots import local, slot, use
from utilisation.calendar import SlotCalendar, core_hours
from utilisation.metrics import heatmap, rating_of, utilisation_report
from utilisation.models import CoreHours
from utilisation.results import Period, Rating, Season

MONDAY = dt.date(2026, 11, 9)
TUESDAY, WEDNESDAY, THURSDAY, FRIDAY = (MONDAY + dt.timedelta(days=n) for n in range(1, 5))
WEEK = Period(MONDAY, MONDAY + dt.timedelta(days=6), Season.ALL)
LATER = dt.datetime(2026, 12, 1, 12, 0, tzinfo=dt.UTC)  # the week is over when the reports are made


@pytest.fixture
def week(joint_campus):
    """One week of the classroom (a counter), the lab (a presence sensor only) and an evening class.

    Classroom A101 (capacity 30, 60 m², lukio's), Tuesday:
      09:00–09:45  four slots booked by lukio and in use: mean 15, 15, 9, 9 people, peak 18
      10:00        in use (10 of 15 minutes), mean 6, not booked → unbooked use
      11:00        booked by lukio, data, nobody → a ghost slot
      12:00        only 5 minutes of data (occupied) → unknown, never empty; its peak 25 is not counted
      13:00        known, occupied 200 s (< 5 minutes) → not in use
      14:00, 14:15 known and empty
      17:00        an evening class of the adult-education centre: booked and used, outside core hours
    Wednesday is a holiday (its in-use 09:00 slot does not count in core hours); Friday 12:00–14:00 the
    classroom is closed (its in-use 12:30 slot does not count either).
    Lab A201 (capacity 20, 80 m², presence sensor only), Thursday 10:00 and 10:15: booked by the
    vocational college and occupied, no headcount.
    """
    jc = joint_campus
    classroom, lab = jc.classroom, jc.lab
    classroom.area_m2 = Decimal("60")
    classroom.save()
    lab.area_m2 = Decimal("80")
    lab.save()
    Holiday.objects.create(campus=jc.campus, date=WEDNESDAY, name="Campus day off")
    Closure.objects.create(
        campus=jc.campus, room=classroom, start=local(FRIDAY, 12), end=local(FRIDAY, 14), reason="Painting"
    )
    for minute, mean in ((0, 15), (15, 15), (30, 9), (45, 9)):
        slot(
            classroom,
            local(TUESDAY, 9, minute),
            occupied=900,
            mean=mean,
            peak=18 if minute == 0 else 15,
            booked=900,
            by=jc.lukio,
        )
    slot(classroom, local(TUESDAY, 10), occupied=600, mean=6, peak=8)
    slot(classroom, local(TUESDAY, 11), occupied=0, mean=0, peak=0, booked=900, by=jc.lukio)
    slot(classroom, local(TUESDAY, 12), covered=300, occupied=300, mean=20, peak=25)
    slot(classroom, local(TUESDAY, 13), occupied=200, mean=1, peak=2)
    slot(classroom, local(TUESDAY, 14), mean=0, peak=0)
    slot(classroom, local(TUESDAY, 14, 15), mean=0, peak=0)
    slot(classroom, local(TUESDAY, 17), occupied=900, mean=12, peak=14, booked=900, by=jc.adult)
    slot(classroom, local(WEDNESDAY, 9), occupied=900, mean=20, peak=22)
    slot(classroom, local(FRIDAY, 12, 30), occupied=900, mean=25, peak=28)
    for minute in (0, 15):
        slot(lab, local(THURSDAY, 10, minute), occupied=900, booked=900, by=jc.vocational)
    return jc


def test_core_hours_default_to_weekdays_eight_to_four_and_follow_the_campus(joint_campus):
    hours = core_hours(joint_campus.campus)
    assert (hours.iso_weekdays, hours.start_minute, hours.end_minute) == (frozenset({1, 2, 3, 4, 5}), 480, 960)

    CoreHours.objects.create(campus=joint_campus.campus, weekdays="1234", start=dt.time(9), end=dt.time(15, 30))
    hours = core_hours(joint_campus.campus)
    assert (hours.iso_weekdays, hours.start_minute, hours.end_minute) == (frozenset({1, 2, 3, 4}), 540, 930)


def test_a_room_s_figures_by_hand(week):
    report = utilisation_report(campus=week.campus, period=WEEK, room=week.classroom, now=LATER)
    f = report.totals

    # 5 weekdays × 32 core slots, less Wednesday (holiday, 32) and Friday 12–14 (closure, 8).
    assert f.available_slots == 5 * 32 - 32 - 8 == 120
    assert f.known_slots == 9  # 4 + 10:00 + 11:00 + 13:00 + 14:00 + 14:15 (12:00 has too little data)
    assert f.in_use_slots == 5
    assert f.booked_slots == 5
    assert f.booked_known_slots == 5
    assert f.ghost_slots == 1
    assert f.ghost_hours == 0.25
    assert f.unbooked_use_slots == 1
    assert f.frequency_rate == pytest.approx(5 / 9)
    assert f.coverage == pytest.approx(9 / 120)
    assert f.booked_rate == pytest.approx(5 / 120)
    assert f.booked_used_gap == pytest.approx(5 / 9 - 5 / 9)
    assert f.unbooked_use_rate == pytest.approx(1 / 5)
    # Occupancy over the in-use slots only: (15 + 15 + 9 + 9 + 6) / (5 × 30).
    assert f.occupancy_rate == pytest.approx(54 / 150)
    assert f.utilisation_rate == pytest.approx(5 / 9 * 54 / 150)  # 0.2
    assert f.mean_headcount == pytest.approx(54 / 5)
    assert f.peak_count == 18  # the unknown slot's 25 and the holiday's 22 are not counted
    assert f.rating == Rating.POOR
    assert f.frequency_rating == Rating.GOOD
    assert f.occupancy_only_presence is False
    # The 90th percentile of 6, 9, 9, 15, 15 by nearest rank (4.5th of 5) is 15: not under half of 30.
    (row,) = report.rooms
    assert row.p90_headcount == 15
    assert row.oversized is False


def test_a_presence_only_room_has_frequency_but_no_occupancy(week):
    report = utilisation_report(campus=week.campus, period=WEEK, room=week.lab, now=LATER)
    f = report.totals

    assert (f.available_slots, f.known_slots, f.in_use_slots, f.booked_slots) == (
        128,
        2,
        2,
        2,
    )  # Wednesday is a holiday for every room
    assert f.frequency_rate == 1.0
    assert f.occupancy_rate is None
    assert f.utilisation_rate is None
    assert f.rating is None
    assert f.occupancy_only_presence is True
    assert report.rooms[0].p90_headcount is None


def test_the_campus_adds_up_its_rooms_and_rates_come_from_the_sums(week):
    report = utilisation_report(campus=week.campus, period=WEEK, now=LATER)
    f = report.totals

    # Classroom 120, lab 128, auditorium 128 available slots.
    assert f.available_slots == 120 + 128 + 128
    assert (f.known_slots, f.in_use_slots, f.booked_slots) == (11, 7, 7)
    assert f.frequency_rate == pytest.approx(7 / 11)
    # Only the classroom's slots have headcounts: occupancy is theirs.
    assert f.occupancy_rate == pytest.approx(54 / 150)
    assert f.booked_rate == pytest.approx(7 / 376)
    assert {row.code: row.figures.known_slots for row in report.rooms} == {"A001": 0, "A101": 9, "A201": 2}
    by_kind = {c.kind: c.peak_in_use for c in report.concurrency}
    assert by_kind == {"auditorium": 0, "classroom": 1, "lab": 1}


def test_no_shows_early_release_and_overrun_from_the_bookings(week):
    jc = week
    use(
        jc.classroom,
        local(TUESDAY, 9),
        local(TUESDAY, 10),
        by=jc.lukio,
        no_show=False,
        last_presence=local(TUESDAY, 9, 40),
    )  # left 20 minutes early
    use(jc.classroom, local(TUESDAY, 11), local(TUESDAY, 12), by=jc.lukio, no_show=True)
    use(jc.classroom, local(THURSDAY, 8), local(THURSDAY, 9), by=jc.lukio, no_show=None)  # too little data
    use(
        jc.classroom,
        local(TUESDAY, 17),
        local(TUESDAY, 18),
        by=jc.adult,
        no_show=False,
        last_presence=local(TUESDAY, 18, 10),
    )  # stayed 10 minutes over
    use(
        jc.classroom,
        local(MONDAY + dt.timedelta(days=7), 9),
        local(MONDAY + dt.timedelta(days=7), 10),
        by=jc.lukio,
        no_show=True,
    )  # the next week: outside the period

    f = utilisation_report(campus=jc.campus, period=WEEK, room=jc.classroom, now=LATER).totals

    assert (f.bookings_started, f.no_shows, f.bookings_unknown) == (3, 1, 1)
    assert f.no_show_rate == pytest.approx(1 / 3)
    assert f.early_release_minutes == pytest.approx(20)
    assert f.overrun_minutes == pytest.approx(10)

    lukio_only = utilisation_report(campus=jc.campus, period=WEEK, institution=jc.lukio, now=LATER).totals
    # Lukio's own: the lesson left early and the no-show (the evening class is the centre's).
    assert (lukio_only.bookings_started, lukio_only.no_shows) == (2, 1)


def test_shares_over_opening_hours_with_core_hours_beside_and_unattributed_use(week):
    jc = week
    shares = {
        s.name if s.unattributed else s.institution_id: s
        for s in utilisation_report(campus=jc.campus, period=WEEK, now=LATER).shares
    }
    lukio, vocational, adult = shares[jc.lukio.pk], shares[jc.vocational.pk], shares[jc.adult.pk]
    (unattributed,) = [s for s in shares.values() if s.unattributed]

    # Booked hours: lukio 5 slots (1.25 h), vocational 2 (0.5 h), the evening class 1 (0.25 h) → 2 h in all.
    assert (lukio.booked_hours, vocational.booked_hours, adult.booked_hours) == (1.25, 0.5, 0.25)
    assert (lukio.booked_share, vocational.booked_share, adult.booked_share) == (0.625, 0.25, 0.125)
    assert (lukio.booked_m2_hours, vocational.booked_m2_hours, adult.booked_m2_hours) == (75.0, 40.0, 15.0)
    # Use in booked slots goes to the booker (lukio's ghost slot adds nothing); use nobody booked — 10:00
    # (600 s), 13:00 (200 s), the holiday (900 s) and the closure (900 s), all in opening hours — is unattributed.
    assert (lukio.used_hours, vocational.used_hours, adult.used_hours) == (1.0, 0.5, 0.25)
    assert unattributed.used_hours == pytest.approx(2600 / 3600)
    assert unattributed.used_m2_hours == pytest.approx(2600 / 3600 * 60)
    assert lukio.used_share == pytest.approx(1.0 / (1.0 + 0.5 + 0.25 + 2600 / 3600))
    # Core hours leave out the evening class, the holiday and the closure.
    assert (adult.core_booked_hours, adult.core_used_hours) == (0.0, 0.0)
    assert unattributed.core_used_hours == pytest.approx(800 / 3600)
    assert lukio.core_booked_hours == 1.25


def test_an_institution_by_booking_owner_counts_only_its_bookings(week):
    jc = week
    report = utilisation_report(campus=jc.campus, period=WEEK, institution=jc.vocational, now=LATER)

    # Vocational owns no rooms here but booked lukio's lab: the lab is its selection.
    assert [row.code for row in report.rooms] == ["A201"]
    assert report.totals.booked_slots == 2
    assert report.totals.in_use_slots == 2

    # Someone in lukio's lab on Thursday afternoon, unbooked: lukio's business, not vocational's.
    slot(jc.lab, local(THURSDAY, 14), occupied=900, mean=4, peak=5)
    report = utilisation_report(campus=jc.campus, period=WEEK, institution=jc.vocational, now=LATER)
    (lab_of_vocational,) = report.rooms
    # In a room it does not own, an institution's available slots are the ones it booked.
    assert lab_of_vocational.figures.available_slots == 2
    assert lab_of_vocational.figures.in_use_slots == 2
    assert lab_of_vocational.figures.unbooked_use_slots == 0
    assert [s.unattributed for s in report.shares] == [False]

    lukio = utilisation_report(campus=jc.campus, period=WEEK, institution=jc.lukio, now=LATER)
    # Lukio's rooms are the classroom and the lab; the lab's bookings are vocational's, not lukio's.
    assert sorted(row.code for row in lukio.rooms) == ["A101", "A201"]
    lab = next(row for row in lukio.rooms if row.code == "A201")
    assert lab.figures.booked_slots == 0
    assert lab.figures.in_use_slots == 3
    assert lab.figures.unbooked_use_slots == 1


def test_term_breaks_are_left_out_by_default_and_reported_apart(week):
    jc = week
    TermPeriod.objects.create(
        institution=jc.lukio, kind=TermKind.BREAK, name="Autumn break", start=TUESDAY, end=TUESDAY
    )

    term = utilisation_report(campus=jc.campus, period=Period(MONDAY, FRIDAY), room=jc.classroom, now=LATER)
    breaks = utilisation_report(
        campus=jc.campus, period=Period(MONDAY, FRIDAY, Season.BREAKS), room=jc.classroom, now=LATER
    )
    # Term time: Monday, Thursday and Friday less the closure; the break: Tuesday alone.
    assert term.totals.available_slots == 3 * 32 - 8
    assert term.totals.known_slots == 0
    assert breaks.totals.available_slots == 32
    assert breaks.totals.known_slots == 9
    # The shared auditorium follows the campus's school year, which has no break that day.
    auditorium = utilisation_report(
        campus=jc.campus, period=Period(MONDAY, FRIDAY), room=jc.shared_auditorium, now=LATER
    )
    assert auditorium.totals.available_slots == 4 * 32  # less the holiday


def test_slots_that_have_not_ended_are_not_available_yet(week):
    now = local(TUESDAY, 9, 20)  # the 09:00 slot has ended, the 09:15 slot has not
    report = utilisation_report(campus=week.campus, period=WEEK, room=week.classroom, now=now)

    assert report.totals.available_slots == 32 + 5  # Monday, and Tuesday's slots from 08:00 to 09:00
    assert report.totals.known_slots == 1


@pytest.mark.parametrize(
    ("day", "slots"), [(dt.date(2026, 10, 25), 100), (dt.date(2026, 3, 29), 92), (dt.date(2026, 10, 26), 96)]
)
def test_a_dst_day_has_the_slots_it_really_has(joint_campus, day, slots):
    jc = joint_campus
    CoreHours.objects.create(campus=jc.campus, weekdays="1234567", start=dt.time(0), end=dt.time(23, 59))
    # Both 03:00 slots of the autumn night: one at 03:00 +03:00, the other an hour later at 03:00 +02:00.
    first = local(dt.date(2026, 10, 25), 3)
    slot(jc.classroom, first, occupied=900, mean=3, peak=3)
    slot(jc.classroom, first + dt.timedelta(hours=1), occupied=900, mean=3, peak=3)

    report = utilisation_report(campus=jc.campus, period=Period(day, day, Season.ALL), room=jc.classroom, now=LATER)

    assert report.totals.available_slots == slots
    assert report.totals.in_use_slots == (2 if day == dt.date(2026, 10, 25) else 0)


def test_the_calendar_count_and_its_filter_agree(week):
    jc = week
    hours = core_hours(jc.campus)
    rooms = [jc.classroom, jc.lab, jc.shared_auditorium]
    calendar = SlotCalendar(campus=jc.campus, rooms=rooms, period=WEEK, hours=hours, now=LATER)
    # A row in every slot of the period (all hours): the filter keeps exactly the counted ones.
    from utilisation.models import RoomSlot

    RoomSlot.objects.all().delete()
    start = local(MONDAY, 0)
    for room in rooms:
        moment = start
        while moment < local(MONDAY + dt.timedelta(days=7), 0):
            slot(room, moment)
            moment += dt.timedelta(minutes=15)

    kept = RoomSlot.objects.filter(calendar.slot_filter())
    assert kept.count() == sum(calendar.available().values()) == 120 + 128 + 128


def test_the_heatmap_by_hand(week):
    jc = week
    result = heatmap(campus=jc.campus, period=WEEK, room=jc.classroom, now=LATER)
    tuesday = result.weekdays.index(2)
    hour = result.hours.index

    assert result.hours == list(range(8, 16))
    assert result.weekdays == [1, 2, 3, 4, 5]
    assert result.frequency[tuesday][hour(9)] == 1.0  # 4 known, 4 in use
    assert result.frequency[tuesday][hour(10)] == 1.0  # 1 known, 1 in use
    assert result.frequency[tuesday][hour(11)] == 0.0  # the ghost slot
    assert result.frequency[tuesday][hour(8)] is None  # no data: not empty
    assert result.booked[tuesday][hour(9)] == 1.0
    assert result.booked[tuesday][hour(11)] == 0.25
    assert result.available_slots[result.weekdays.index(3)][hour(9)] == 0  # the holiday
    assert result.available_slots[result.weekdays.index(5)][hour(12)] == 0  # the closure
    assert result.available_slots[tuesday][hour(9)] == 4


@pytest.mark.parametrize(
    ("rate", "band"),
    [
        (None, None),
        (0.0, Rating.POOR),
        (0.249, Rating.POOR),
        (0.25, Rating.FAIR),
        (0.349, Rating.FAIR),
        (0.35, Rating.GOOD),
        (1.0, Rating.GOOD),
    ],
)
def test_rating_bands(rate, band):
    assert rating_of(rate) == band


def test_rating_bands_follow_the_setting(settings):
    settings.KAMPUS_RATING_BANDS = (0.5, 0.8)
    assert (rating_of(0.49), rating_of(0.5), rating_of(0.8)) == (Rating.POOR, Rating.FAIR, Rating.GOOD)


def test_an_institution_s_heatmap_sees_other_rooms_only_in_its_own_bookings(week):
    jc = week
    # Lukio's lab, Thursday: vocational booked 10:00 and 10:15; at 10:30 lukio's own class (in use),
    # at 10:45 a 4-minute booking of vocational's (under the 5 booked minutes: not its slot).
    slot(jc.lab, local(THURSDAY, 10, 30), occupied=900, mean=10, peak=12, booked=900, by=jc.lukio)
    slot(jc.lab, local(THURSDAY, 10, 45), occupied=900, mean=3, peak=3, booked=240, by=jc.vocational)

    result = heatmap(campus=jc.campus, period=WEEK, institution=jc.vocational, now=LATER)
    thursday, ten = result.weekdays.index(4), result.hours.index(10)

    # Only the two slots it booked count: both in use, both booked, and they are all it has there.
    assert result.available_slots[thursday][ten] == 2
    assert result.frequency[thursday][ten] == 1.0
    assert result.booked[thursday][ten] == 1.0
    assert sum(map(sum, result.available_slots)) == 2

    report = utilisation_report(campus=jc.campus, period=WEEK, institution=jc.vocational, now=LATER)
    assert report.totals.available_slots == 2
    assert report.totals.known_slots == 2
    assert report.totals.coverage == 1.0
