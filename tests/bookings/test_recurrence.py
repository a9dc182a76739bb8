"""Recurring bookings: RFC 5545 rules expanded in the campus's zone, stored as one series of occurrences."""

from __future__ import annotations

import datetime as dt

import pytest

from bookings import recurrence
from bookings.errors import BookingRuleBroken, InvalidRecurrence, SlotTaken
from bookings.models import Booking, BookingSeries
from campus.exceptions import InvalidInput
from campus.models import Holiday, OpeningHours, OpeningHoursException, Room
from tests.bookings.conftest import (
    FRIDAY,
    HELSINKI,
    MONDAY,
    SUNDAY,
    add_months,
    at,
    book,
    error_fields,
    first_weekday_of_month,
    ical_utc,
    in_helsinki,
    last_weekday_of_month,
    local_starts,
    next_last_sunday,
    today,
    wall,
)

pytestmark = pytest.mark.usefixtures("blocks_stay_consistent")

WEEK = dt.timedelta(weeks=1)
DAY = dt.timedelta(days=1)


# --- daylight-saving time ----------------------------------------------------------------------


def test_weekly_series_stays_at_ten_local_across_the_spring_clock_change(joint_campus, lukio_staff):
    change = next_last_sunday(3)  # clocks go forward at 03:00 local time
    first_monday = change - dt.timedelta(days=13)

    result = book(
        lukio_staff,
        joint_campus.classroom,
        at(first_monday, 10),
        at(first_monday, 11, 30),
        rrule="FREQ=WEEKLY;COUNT=4",
        now=at(first_monday - WEEK, 8),
    )

    bookings = result.bookings
    assert [in_helsinki(b.start).date() for b in bookings] == [first_monday + n * WEEK for n in range(4)]
    assert [in_helsinki(b.start).hour for b in bookings] == [10, 10, 10, 10]
    assert [in_helsinki(b.start).utcoffset() for b in bookings] == [dt.timedelta(hours=h) for h in (2, 2, 3, 3)]
    assert [b.start.astimezone(dt.UTC).hour for b in bookings] == [8, 8, 7, 7]
    assert all(b.end - b.start == dt.timedelta(minutes=90) for b in bookings)
    stored = Booking.objects.order_by("start")
    assert [in_helsinki(b.start).time() for b in stored] == [dt.time(10)] * 4
    assert [in_helsinki(b.end).time() for b in stored] == [dt.time(11, 30)] * 4


def test_daily_series_stays_at_ten_local_across_the_autumn_clock_change(joint_campus, lukio_staff):
    OpeningHours.objects.create(
        building=joint_campus.main_building, weekday=SUNDAY, opens=dt.time(9), closes=dt.time(15)
    )
    change = next_last_sunday(10)  # clocks go back at 04:00 local time
    thursday = change - dt.timedelta(days=3)

    result = book(
        lukio_staff,
        joint_campus.classroom,
        at(thursday, 10),
        at(thursday, 11),
        rrule="FREQ=DAILY;COUNT=6",
        now=at(thursday - WEEK, 8),
    )

    assert result.skipped == []
    bookings = result.bookings
    assert local_starts(bookings) == [wall(thursday + n * DAY, 10) for n in range(6)]
    assert [in_helsinki(b.start).utcoffset() for b in bookings] == [dt.timedelta(hours=h) for h in (3, 3, 3, 2, 2, 2)]
    assert [b.start.astimezone(dt.UTC).hour for b in bookings] == [7, 7, 7, 8, 8, 8]
    on_the_day = bookings[3]
    assert in_helsinki(on_the_day.start).date() == change
    assert (in_helsinki(on_the_day.start).hour, on_the_day.end - on_the_day.start) == (10, dt.timedelta(hours=1))


def test_weekly_series_stays_at_ten_local_across_the_autumn_clock_change(joint_campus, lukio_staff):
    change = next_last_sunday(10)  # clocks go back at 04:00 local time
    first_monday = change - dt.timedelta(days=13)

    result = book(
        lukio_staff,
        joint_campus.classroom,
        at(first_monday, 10),
        at(first_monday, 11, 30),
        rrule="FREQ=WEEKLY;COUNT=4",
        now=at(first_monday - WEEK, 8),
    )

    bookings = result.bookings
    assert [in_helsinki(b.start).hour for b in bookings] == [10, 10, 10, 10]
    assert [in_helsinki(b.start).utcoffset() for b in bookings] == [dt.timedelta(hours=h) for h in (3, 3, 2, 2)]
    assert [b.start.astimezone(dt.UTC).hour for b in bookings] == [7, 7, 8, 8]
    assert all(b.end - b.start == dt.timedelta(minutes=90) for b in bookings)


def test_daily_series_stays_at_ten_local_across_the_spring_clock_change(joint_campus, lukio_staff):
    OpeningHours.objects.create(
        building=joint_campus.main_building, weekday=SUNDAY, opens=dt.time(9), closes=dt.time(15)
    )
    change = next_last_sunday(3)  # clocks go forward at 03:00 local time
    thursday = change - dt.timedelta(days=3)

    result = book(
        lukio_staff,
        joint_campus.classroom,
        at(thursday, 10),
        at(thursday, 11),
        rrule="FREQ=DAILY;COUNT=6",
        now=at(thursday - WEEK, 8),
    )

    bookings = result.bookings
    assert local_starts(bookings) == [wall(thursday + n * DAY, 10) for n in range(6)]
    assert [in_helsinki(b.start).utcoffset() for b in bookings] == [dt.timedelta(hours=h) for h in (2, 2, 2, 3, 3, 3)]
    assert [b.start.astimezone(dt.UTC).hour for b in bookings] == [8, 8, 8, 7, 7, 7]


def test_daily_series_skips_the_closed_sunday_of_the_autumn_clock_change(joint_campus, lukio_staff):
    change = next_last_sunday(10)
    thursday = change - dt.timedelta(days=3)

    result = book(
        lukio_staff,
        joint_campus.classroom,
        at(thursday, 10),
        at(thursday, 11),
        rrule="FREQ=DAILY;COUNT=6",
        now=at(thursday - WEEK, 8),
    )

    assert local_starts(result.bookings) == [wall(thursday + n * DAY, 10) for n in (0, 1, 2, 4, 5)]
    [skipped] = result.skipped
    assert (skipped.start, skipped.end, skipped.code) == (at(change, 10), at(change, 11), "closed")
    assert in_helsinki(result.bookings[-1].start).utcoffset() == dt.timedelta(hours=2)


# --- rule parts --------------------------------------------------------------------------------


def test_monthly_series_on_the_first_monday(joint_campus, lukio_staff):
    months = [add_months(today().year, today().month, n) for n in (1, 2, 3)]
    first_mondays = [first_weekday_of_month(year, month, MONDAY) for year, month in months]

    result = book(
        lukio_staff,
        joint_campus.classroom,
        at(first_mondays[0], 10),
        at(first_mondays[0], 11),
        rrule="FREQ=MONTHLY;BYDAY=1MO;COUNT=3",
    )

    assert local_starts(result.bookings) == [wall(day, 10) for day in first_mondays]


def test_monthly_series_on_the_last_friday(joint_campus, lukio_staff):
    months = [add_months(today().year, today().month, n) for n in (1, 2, 3)]
    last_fridays = [last_weekday_of_month(year, month, FRIDAY) for year, month in months]

    result = book(
        lukio_staff,
        joint_campus.classroom,
        at(last_fridays[0], 14),
        at(last_fridays[0], 15),
        rrule="FREQ=MONTHLY;BYDAY=-1FR;COUNT=3",
    )

    assert local_starts(result.bookings) == [wall(day, 14) for day in last_fridays]


def test_monthly_series_on_a_day_of_the_month(joint_campus, lukio_staff):
    months = [add_months(today().year, today().month, n) for n in (1, 2, 3, 4)]
    fifteenths = [dt.date(year, month, 15) for year, month in months]

    result = book(
        lukio_staff,
        joint_campus.classroom,
        at(fifteenths[0], 10),
        at(fifteenths[0], 11),
        rrule="FREQ=MONTHLY;BYMONTHDAY=15;COUNT=4",
    )

    # A 15th that falls on a (closed) Sunday is skipped, not moved.
    every_start = sorted(
        local_starts(result.bookings) + [in_helsinki(s.start).replace(tzinfo=None) for s in result.skipped]
    )
    assert every_start == [wall(day, 10) for day in fifteenths]
    assert [in_helsinki(s.start).weekday() for s in result.skipped] == [SUNDAY] * len(result.skipped)


def test_weekly_series_with_an_interval_of_two_weeks(joint_campus, lukio_staff, monday):
    result = book(
        lukio_staff, joint_campus.classroom, at(monday, 10), at(monday, 11), rrule="FREQ=WEEKLY;INTERVAL=2;COUNT=3"
    )

    assert local_starts(result.bookings) == [wall(monday + n * 2 * WEEK, 10) for n in range(3)]


def test_weekly_series_on_several_weekdays(joint_campus, lukio_staff, monday):
    result = book(
        lukio_staff, joint_campus.classroom, at(monday, 10), at(monday, 11), rrule="FREQ=WEEKLY;BYDAY=MO,WE;COUNT=4"
    )

    assert local_starts(result.bookings) == [
        wall(monday, 10),
        wall(monday + 2 * DAY, 10),
        wall(monday + WEEK, 10),
        wall(monday + WEEK + 2 * DAY, 10),
    ]


def test_until_as_a_date_includes_that_whole_day(joint_campus, lukio_staff, monday):
    last = monday + 2 * WEEK

    result = book(
        lukio_staff,
        joint_campus.classroom,
        at(monday, 18),
        at(monday, 19),
        rrule=f"FREQ=WEEKLY;UNTIL={last:%Y%m%d}",
    )

    assert local_starts(result.bookings) == [wall(monday + n * WEEK, 18) for n in range(3)]
    end_of_day_in_utc = ical_utc(dt.datetime.combine(last, dt.time(23, 59, 59), tzinfo=HELSINKI))
    assert result.series.rrule == f"FREQ=WEEKLY;UNTIL={end_of_day_in_utc}"


def test_until_in_utc_is_inclusive_of_an_occurrence_starting_exactly_then(joint_campus, lukio_staff, monday):
    last_start = at(monday + 2 * WEEK, 10)

    result = book(
        lukio_staff,
        joint_campus.classroom,
        at(monday, 10),
        at(monday, 11),
        rrule=f"FREQ=WEEKLY;UNTIL={ical_utc(last_start)}",
    )
    assert local_starts(result.bookings) == [wall(monday + n * WEEK, 10) for n in range(3)]
    assert result.series.rrule == f"FREQ=WEEKLY;UNTIL={ical_utc(last_start)}"

    one_second_earlier = ical_utc(last_start - dt.timedelta(seconds=1))
    shorter = book(
        lukio_staff, joint_campus.lab, at(monday, 10), at(monday, 11), rrule=f"FREQ=WEEKLY;UNTIL={one_second_earlier}"
    )
    assert len(shorter.bookings) == 2


def test_count_counts_before_excluded_dates(joint_campus, lukio_staff, monday):
    result = book(
        lukio_staff,
        joint_campus.classroom,
        at(monday, 10),
        at(monday, 11),
        rrule="FREQ=WEEKLY;COUNT=4",
        exdates=[monday + WEEK],
    )

    assert local_starts(result.bookings) == [wall(monday, 10), wall(monday + 2 * WEEK, 10), wall(monday + 3 * WEEK, 10)]
    assert result.skipped == []
    assert result.series.exdates == [at(monday + WEEK, 10).astimezone(dt.UTC).isoformat()]


@pytest.mark.parametrize("as_utc", [False, True], ids=["local", "utc"])
def test_an_excluded_start_may_be_given_as_a_datetime(joint_campus, lukio_staff, monday, as_utc):
    excluded = at(monday + WEEK, 10)
    if as_utc:
        excluded = excluded.astimezone(dt.UTC)

    result = book(
        lukio_staff,
        joint_campus.classroom,
        at(monday, 10),
        at(monday, 11),
        rrule="FREQ=WEEKLY;COUNT=3",
        exdates=[excluded],
    )

    assert local_starts(result.bookings) == [wall(monday, 10), wall(monday + 2 * WEEK, 10)]


@pytest.mark.parametrize(
    "not_an_occurrence",
    [
        pytest.param(lambda monday: monday + DAY, id="date"),
        pytest.param(lambda monday: at(monday + WEEK, 11), id="datetime"),
    ],
)
def test_an_excluded_date_that_is_not_an_occurrence_is_refused(joint_campus, lukio_staff, monday, not_an_occurrence):
    with pytest.raises(InvalidRecurrence) as refused:
        book(
            lukio_staff,
            joint_campus.classroom,
            at(monday, 10),
            at(monday, 11),
            rrule="FREQ=WEEKLY;COUNT=3",
            exdates=[monday + WEEK, not_an_occurrence(monday)],
        )

    assert refused.value.code == "invalid_recurrence"
    assert error_fields(refused.value) == ["exdates.1"]
    assert not Booking.objects.exists()


def test_excluded_dates_need_a_repeat_rule(joint_campus, lukio_staff, monday):
    with pytest.raises(InvalidInput) as refused:
        book(lukio_staff, joint_campus.classroom, at(monday, 10), at(monday, 11), exdates=[monday])
    assert error_fields(refused.value) == ["exdates"]


def test_a_series_whose_every_occurrence_is_excluded_is_refused(joint_campus, lukio_staff, monday):
    with pytest.raises(InvalidInput) as refused:
        book(
            lukio_staff,
            joint_campus.classroom,
            at(monday, 10),
            at(monday, 11),
            rrule="FREQ=WEEKLY;COUNT=2",
            exdates=[monday, monday + WEEK],
        )
    assert error_fields(refused.value) == ["exdates"]
    assert not Booking.objects.exists()
    assert not BookingSeries.objects.exists()


def test_a_start_that_is_not_an_occurrence_is_refused_naming_the_first_occurrence(joint_campus, lukio_staff, monday):
    tuesday = monday + DAY

    with pytest.raises(InvalidRecurrence) as refused:
        book(
            lukio_staff, joint_campus.classroom, at(tuesday, 10), at(tuesday, 11), rrule="FREQ=WEEKLY;BYDAY=MO;COUNT=3"
        )

    assert error_fields(refused.value) == ["start"]
    assert at(monday + WEEK, 10).isoformat() in refused.value.message
    assert not Booking.objects.exists()


@pytest.mark.parametrize(
    "rule",
    [
        pytest.param("FREQ=YEARLY;COUNT=2", id="yearly"),
        pytest.param("FREQ=HOURLY;COUNT=2", id="hourly"),
        pytest.param("FREQ=WEEKLY", id="endless"),
        pytest.param("FREQ=WEEKLY;COUNT=2;UNTIL=20990101", id="count-and-until"),
        pytest.param("FREQ=DAILY;BYHOUR=10,12;COUNT=4", id="byhour"),
        pytest.param("FREQ=WEEKLY;COUNT=2;COUNT=3", id="part-twice"),
        pytest.param("FREQ=WEEKLY;COUNT=0", id="count-zero"),
        pytest.param("FREQ=WEEKLY;INTERVAL=0;COUNT=3", id="interval-zero"),
        pytest.param("FREQ=WEEKLY;COUNT", id="no-value"),
        pytest.param("COUNT=2", id="no-freq"),
        pytest.param("FREQ=WEEKLY;UNTIL=next-week", id="bad-until"),
        pytest.param("  ", id="blank"),
    ],
)
def test_an_unsupported_or_endless_rule_is_refused(joint_campus, lukio_staff, monday, rule):
    with pytest.raises(InvalidRecurrence) as refused:
        book(lukio_staff, joint_campus.classroom, at(monday, 10), at(monday, 11), rrule=rule)

    assert error_fields(refused.value) == ["rrule"]
    assert refused.value.http_status == 422
    assert not Booking.objects.exists()


def test_more_than_five_hundred_occurrences_are_refused(joint_campus, lukio_staff, monday, monkeypatch):
    # Within 400 days no supported rule reaches 500 occurrences, so widen the horizon to reach the cap.
    monkeypatch.setattr(recurrence, "MAX_DAYS_AHEAD", 1000)

    with pytest.raises(InvalidRecurrence) as refused:
        book(lukio_staff, joint_campus.classroom, at(monday, 10), at(monday, 11), rrule="FREQ=DAILY;COUNT=501")

    assert "500" in refused.value.message
    assert error_fields(refused.value) == ["rrule"]
    assert not Booking.objects.exists()


def test_a_series_reaching_beyond_four_hundred_days_is_refused(joint_campus, lukio_staff, monday):
    with pytest.raises(InvalidRecurrence) as refused:
        book(lukio_staff, joint_campus.classroom, at(monday, 10), at(monday, 11), rrule="FREQ=WEEKLY;COUNT=60")

    assert "400" in refused.value.message
    assert not Booking.objects.exists()


def test_the_four_hundred_days_are_counted_from_now(joint_campus, fm_of_lukio, monday):
    # A facility manager plans timetables, so the room's own advance window (shorter) does not apply.
    rule = "FREQ=DAILY;INTERVAL=400;COUNT=2"  # the second occurrence is exactly 400 days after the first

    with pytest.raises(InvalidRecurrence):
        book(fm_of_lukio, joint_campus.classroom, at(monday, 10), at(monday, 11), rrule=rule, now=at(monday, 9))
    result = book(fm_of_lukio, joint_campus.classroom, at(monday, 10), at(monday, 11), rrule=rule, now=at(monday, 10))

    assert local_starts(result.bookings) == [wall(monday, 10), wall(monday + 400 * DAY, 10)]


# --- closed days and clashes -------------------------------------------------------------------


def test_occurrences_on_holidays_and_closed_days_are_skipped_and_the_rest_booked(joint_campus, lukio_staff, monday):
    Holiday.objects.create(campus=joint_campus.campus, date=monday + WEEK, name="Independence Day")
    OpeningHoursException.objects.create(
        building=joint_campus.main_building, date=monday + 2 * WEEK, closed=True, reason="Water damage"
    )

    result = book(lukio_staff, joint_campus.classroom, at(monday, 10), at(monday, 11), rrule="FREQ=WEEKLY;COUNT=4")

    assert local_starts(result.bookings) == [wall(monday, 10), wall(monday + 3 * WEEK, 10)]
    assert [(s.start, s.end, s.code) for s in result.skipped] == [
        (at(monday + WEEK, 10), at(monday + WEEK, 11), "closed"),
        (at(monday + 2 * WEEK, 10), at(monday + 2 * WEEK, 11), "closed"),
    ]
    assert "Independence Day" in result.skipped[0].reason
    assert "Water damage" in result.skipped[1].reason
    assert Booking.objects.count() == 2


def test_occurrences_outside_the_hours_of_their_day_are_skipped(joint_campus, lukio_staff, monday):
    friday = monday + 4 * DAY
    saturday = friday + DAY

    result = book(
        lukio_staff, joint_campus.classroom, at(friday, 15), at(friday, 17), rrule="FREQ=DAILY;COUNT=2"
    )  # Saturdays close at 15

    assert local_starts(result.bookings) == [wall(friday, 15)]
    [skipped] = result.skipped
    assert (skipped.start, skipped.code) == (at(saturday, 15), "closed")


def test_a_series_with_nothing_open_is_refused(joint_campus, lukio_staff, sunday):
    with pytest.raises(BookingRuleBroken) as refused:
        book(lukio_staff, joint_campus.classroom, at(sunday, 10), at(sunday, 11), rrule="FREQ=WEEKLY;COUNT=2")

    assert refused.value.code == "nothing_to_book"
    assert [entry["code"] for entry in refused.value.extra["skipped"]] == ["closed", "closed"]
    assert not BookingSeries.objects.exists()


def test_a_clashing_series_is_refused_whole_listing_every_clash(joint_campus, lukio_staff, vocational_staff, monday):
    room = joint_campus.shared_auditorium
    book(vocational_staff, room, at(monday + WEEK, 9), at(monday + WEEK, 10, 30), title="Welding theory")
    book(vocational_staff, room, at(monday + 3 * WEEK, 10, 30), at(monday + 3 * WEEK, 12), title="Welding theory")

    with pytest.raises(SlotTaken) as refused:
        book(lukio_staff, room, at(monday, 10), at(monday, 11), rrule="FREQ=WEEKLY;COUNT=4")

    assert [(c["requested_start"], c["start"], c["end"]) for c in refused.value.conflicts] == [
        (at(monday + WEEK, 10), at(monday + WEEK, 9), at(monday + WEEK, 10, 30)),
        (at(monday + 3 * WEEK, 10), at(monday + 3 * WEEK, 10, 30), at(monday + 3 * WEEK, 12)),
    ]
    assert [c["title"] for c in refused.value.conflicts] == [None, None]  # another institution's bookings
    assert Booking.objects.filter(booked_by=lukio_staff).count() == 0
    assert not BookingSeries.objects.exists()


def test_skip_conflicts_books_the_free_occurrences_and_reports_the_clashes(
    joint_campus, lukio_staff, vocational_staff, monday
):
    room = joint_campus.shared_auditorium
    book(vocational_staff, room, at(monday + WEEK, 10), at(monday + WEEK, 11))

    result = book(lukio_staff, room, at(monday, 10), at(monday, 11), rrule="FREQ=WEEKLY;COUNT=3", skip_conflicts=True)

    assert local_starts(result.bookings) == [wall(monday, 10), wall(monday + 2 * WEEK, 10)]
    [skipped] = result.skipped
    assert (skipped.start, skipped.end, skipped.code) == (at(monday + WEEK, 10), at(monday + WEEK, 11), "conflict")
    assert result.series.occurrences.count() == 2


def test_skipped_closed_days_and_conflicts_are_reported_in_date_order(
    joint_campus, lukio_staff, vocational_staff, monday
):
    room = joint_campus.shared_auditorium
    book(vocational_staff, room, at(monday + WEEK, 10), at(monday + WEEK, 11))
    Holiday.objects.create(campus=joint_campus.campus, date=monday + 2 * WEEK, name="Epiphany")

    result = book(lukio_staff, room, at(monday, 10), at(monday, 11), rrule="FREQ=WEEKLY;COUNT=4", skip_conflicts=True)

    assert [(in_helsinki(s.start).date(), s.code) for s in result.skipped] == [
        (monday + WEEK, "conflict"),
        (monday + 2 * WEEK, "closed"),
    ]
    assert local_starts(result.bookings) == [wall(monday, 10), wall(monday + 3 * WEEK, 10)]


def test_a_series_whose_occurrences_overlap_through_the_buffer_is_refused(joint_campus, lukio_staff, monday):
    airing = Room.objects.create(
        building=joint_campus.main_building,
        code="A301",
        name="Paint workshop",
        capacity=10,
        buffer_minutes=24 * 60,  # aired for a day after each use
    )

    with pytest.raises(SlotTaken) as refused:
        book(lukio_staff, airing, at(monday, 10), at(monday, 11), rrule="FREQ=DAILY;COUNT=2")

    assert refused.value.conflicts  # names the occurrence the first one's buffer runs into
    assert not Booking.objects.exists()


def test_a_series_clashing_with_another_series_is_refused(joint_campus, lukio_staff, monday):
    book(lukio_staff, joint_campus.classroom, at(monday, 10), at(monday, 11), rrule="FREQ=WEEKLY;COUNT=3")

    with pytest.raises(SlotTaken) as refused:
        book(
            lukio_staff,
            joint_campus.classroom,
            at(monday + WEEK, 10, 30),
            at(monday + WEEK, 11, 30),
            rrule="FREQ=WEEKLY;COUNT=3",
        )

    assert len(refused.value.conflicts) == 2
    assert BookingSeries.objects.count() == 1


# --- the series ----------------------------------------------------------------------------------


def test_all_occurrences_belong_to_one_series_that_keeps_the_normalised_rule(joint_campus, lukio_staff, monday):
    start = at(monday, 10)

    result = book(
        lukio_staff,
        joint_campus.classroom,
        start,
        at(monday, 11),
        title="Chemistry",
        rrule="RRULE:freq=weekly; byday=MO ;count=3",
        attendees=25,
    )

    series = BookingSeries.objects.get()
    assert result.series == series
    assert series.rrule == "FREQ=WEEKLY;BYDAY=MO;COUNT=3"
    assert series.dtstart == start
    assert series.time_zone == "Europe/Helsinki"
    assert series.owner == lukio_staff
    assert series.campus == joint_campus.campus
    assert series.exdates == []
    occurrences = list(series.occurrences.order_by("start"))
    assert occurrences == result.bookings
    assert {(b.title, b.attendees, b.institution_id, b.status) for b in occurrences} == {
        ("Chemistry", 25, joint_campus.lukio.pk, "confirmed")
    }


def test_a_local_until_time_is_read_in_the_campus_zone(joint_campus, lukio_staff, monday):
    last = monday + WEEK

    result = book(
        lukio_staff,
        joint_campus.classroom,
        at(monday, 10),
        at(monday, 11),
        rrule=f"FREQ=WEEKLY;UNTIL={last:%Y%m%d}T100000",
    )

    assert len(result.bookings) == 2
    assert result.series.rrule == f"FREQ=WEEKLY;UNTIL={ical_utc(at(last, 10))}"


def test_a_start_given_in_utc_repeats_at_the_same_local_time(joint_campus, lukio_staff):
    change = next_last_sunday(3)
    first_monday = change - dt.timedelta(days=6)

    result = book(
        lukio_staff,
        joint_campus.classroom,
        at(first_monday, 10).astimezone(dt.UTC),
        at(first_monday, 11).astimezone(dt.UTC),
        rrule="FREQ=WEEKLY;COUNT=2",
        now=at(first_monday - WEEK, 8),
    )

    assert local_starts(result.bookings) == [wall(first_monday, 10), wall(first_monday + WEEK, 10)]
