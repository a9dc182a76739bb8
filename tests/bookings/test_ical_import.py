"""Timetable import from iCalendar files: the dry run, the all-or-nothing commit, repeating events and bad files."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from bookings.errors import SlotTaken
from bookings.ical_import import MAX_EVENTS, MAX_FILE_BYTES, IcalFileRefused
from bookings.models import Booking, BookingAction, BookingEvent, BookingPolicy, BookingSeries, Closure
from bookings.services.importing import IcalImportRefused, Kind, Outcome, ical_import_commit, ical_import_plan
from campus.exceptions import PermissionDenied
from tests.bookings.conftest import HELSINKI, at, book, ical_utc, in_helsinki, local_starts, next_last_sunday

pytestmark = pytest.mark.usefixtures("blocks_stay_consistent")

WEEK = dt.timedelta(weeks=1)
DAY = dt.timedelta(days=1)


# --- writing calendar files ---------------------------------------------------------------------------


def calendar(*events: str, head: str = "") -> bytes:
    """Return an iCalendar file holding ``events`` (VEVENT texts), with CRLF line ends as RFC 5545 asks."""
    lines = ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//Kampus tests//EN", head, *events, "END:VCALENDAR"]
    return "\r\n".join(line for line in lines if line).encode("utf-8") + b"\r\n"


def local_time(value: dt.datetime) -> str:
    """Return ``value`` as a DTSTART-like value with TZID=Europe/Helsinki (``;TZID=…:20270315T100000``)."""
    return f";TZID=Europe/Helsinki:{value.astimezone(HELSINKI):%Y%m%dT%H%M%S}"


def vevent(title: str, start: dt.datetime, end: dt.datetime, *lines: str, uid: str | None = None) -> str:
    """Return a VEVENT from ``start`` to ``end`` (Helsinki times with TZID) with the extra ``lines``."""
    return "\r\n".join(
        [
            "BEGIN:VEVENT",
            f"UID:{uid or title.replace(' ', '-')}@tests.example.org",
            "DTSTAMP:20260101T000000Z",
            f"SUMMARY:{title}",
            f"DTSTART{local_time(start)}",
            f"DTEND{local_time(end)}",
            *lines,
            "END:VEVENT",
        ]
    )


def plan(content: bytes, room, user, **options):
    return ical_import_plan(content=content, room=room, booked_by=user, **options)


def commit(content: bytes, room, user, **options):
    return ical_import_commit(content=content, room=room, booked_by=user, **options)


@pytest.fixture
def week(monday) -> dt.date:
    """A Monday at least a week ahead, so that the dates before it are still ahead too."""
    return monday + WEEK


# --- dry run and commit -----------------------------------------------------------------------------


def test_dry_run_lists_each_event_as_it_would_be_booked_and_books_nothing(joint_campus, fm_of_lukio, week):
    content = calendar(
        vevent("Parents' evening", at(week, 17), at(week, 18, 30), "LOCATION:Auditorium"),
        vevent("Maths 2B", at(week, 10), at(week, 11, 15), "RRULE:FREQ=WEEKLY;BYDAY=MO;COUNT=4"),
    )

    result = plan(content, joint_campus.classroom, fm_of_lukio)

    assert Booking.objects.count() == 0
    assert BookingSeries.objects.count() == 0
    assert result.can_commit
    series, single = result.rows  # in booking order: the 10:00 lesson first
    assert (series.kind, series.title, series.outcome) == (Kind.SERIES, "Maths 2B", Outcome.BOOK)
    assert series.repeat_label == "weekly series"
    assert local_starts(series.result.bookings) == [at(week + n * WEEK, 10).replace(tzinfo=None) for n in range(4)]
    assert (single.kind, single.title, single.event.location) == (Kind.SINGLE, "Parents' evening", "Auditorium")
    assert (single.start, single.end) == (at(week, 17), at(week, 18, 30))
    assert single.start.tzinfo == HELSINKI
    assert (result.occurrence_count, result.series_count) == (5, 1)


def test_commit_books_every_event_through_the_engine_as_the_importing_person(joint_campus, fm_of_lukio, week):
    content = calendar(
        vevent(
            "Maths 2B",
            at(week, 10),
            at(week, 11, 15),
            "RRULE:FREQ=WEEKLY;BYDAY=MO;COUNT=3",
            "DESCRIPTION:Bring a calculator",
            "ORGANIZER;CN=Olli Opettaja:mailto:olli@school.example.org",
            "ATTENDEE;CN=Student One:mailto:one@school.example.org",
            "ATTENDEE;CN=Student Two:mailto:two@school.example.org",
        ),
        vevent("Staff meeting", at(week + DAY, 14), at(week + DAY, 15)),
    )

    result = commit(content, joint_campus.classroom, fm_of_lukio, institution=joint_campus.lukio)

    assert result.committed
    bookings = list(Booking.objects.order_by("start"))
    assert [(b.title, in_helsinki(b.start)) for b in bookings] == [
        ("Maths 2B", at(week, 10)),
        ("Staff meeting", at(week + DAY, 14)),
        ("Maths 2B", at(week + WEEK, 10)),
        ("Maths 2B", at(week + 2 * WEEK, 10)),
    ]
    assert {(b.room, b.booked_by, b.institution, b.status) for b in bookings} == {
        (joint_campus.classroom, fm_of_lukio, joint_campus.lukio, "confirmed")
    }
    series = BookingSeries.objects.get()
    assert series.rrule == "FREQ=WEEKLY;BYDAY=MO;COUNT=3"
    assert series.owner == fm_of_lukio
    lesson = bookings[0]
    # Attendees and the organiser are not copied: no names, no addresses, no head count.
    assert lesson.description == "Bring a calculator"
    assert lesson.attendees is None
    assert (lesson.on_behalf_of_name, lesson.on_behalf_of_contact, lesson.on_behalf_of_organisation) == ("", "", "")
    assert set(BookingEvent.objects.values_list("action", flat=True)) == {BookingAction.CREATE}
    assert BookingEvent.objects.count() == 4


def test_one_clashing_event_refuses_the_whole_import_and_names_the_clash(joint_campus, fm_of_lukio, lukio_staff, week):
    book(lukio_staff, joint_campus.classroom, at(week + WEEK, 10, 30), at(week + WEEK, 11), title="Exam")
    content = calendar(
        vevent("Staff meeting", at(week + DAY, 14), at(week + DAY, 15)),
        vevent("Maths 2B", at(week, 10), at(week, 11, 15), "RRULE:FREQ=WEEKLY;COUNT=3"),
    )

    dry_run = plan(content, joint_campus.classroom, fm_of_lukio)

    lesson, meeting = dry_run.rows
    assert not dry_run.can_commit
    assert meeting.outcome == Outcome.BOOK
    assert (lesson.outcome, lesson.code) == (Outcome.REFUSED, "slot_taken")
    assert [(c["start"], c["title"], c["requested_start"]) for c in lesson.conflicts] == [
        (at(week + WEEK, 10, 30), "Exam", at(week + WEEK, 10))
    ]

    with pytest.raises(IcalImportRefused) as refused:
        commit(content, joint_campus.classroom, fm_of_lukio)

    assert refused.value.http_status == 409
    assert refused.value.extra["conflicts"][0]["event"] == 2
    assert refused.value.extra["errors"] == [
        {"field": "events.2", "message": "“Maths 2B” (event 2 of the file): The room is already booked at that time."}
    ]
    assert list(Booking.objects.values_list("title", flat=True)) == ["Exam"]
    assert BookingSeries.objects.count() == 0


def test_a_broken_rule_refuses_the_import_with_422_and_the_rule(joint_campus, fm_of_lukio, week):
    BookingPolicy.objects.create(room=joint_campus.classroom, max_duration_minutes=60)
    content = calendar(
        vevent("Short", at(week, 8), at(week, 9)),
        vevent("Long exam", at(week, 10), at(week, 14)),
    )

    dry_run = plan(content, joint_campus.classroom, fm_of_lukio)

    short, long_exam = dry_run.rows
    assert short.outcome == Outcome.BOOK
    assert (long_exam.outcome, long_exam.code, long_exam.rule, long_exam.allowed) == (
        Outcome.REFUSED,
        "too_long",
        "max_duration",
        60,
    )
    assert long_exam.can_override
    with pytest.raises(IcalImportRefused) as refused:
        commit(content, joint_campus.classroom, fm_of_lukio)
    assert refused.value.http_status == 422
    assert Booking.objects.count() == 0

    # A facility manager may override the soft rules with a reason, as for any booking.
    commit(content, joint_campus.classroom, fm_of_lukio, override_reason="Matriculation exam")
    assert Booking.objects.count() == 2
    assert BookingEvent.objects.filter(action=BookingAction.OVERRIDE).count() == 1


def test_events_of_the_file_that_clash_with_each_other_are_refused(joint_campus, fm_of_lukio, week):
    content = calendar(
        vevent("Biology", at(week, 10), at(week, 11)),
        vevent("Chemistry", at(week, 10, 30), at(week, 11, 30)),
        vevent("Physics", at(week, 11), at(week, 12)),
    )

    dry_run = plan(content, joint_campus.classroom, fm_of_lukio)

    biology, chemistry, physics = dry_run.rows
    assert biology.outcome == Outcome.BOOK
    assert (chemistry.outcome, chemistry.message) == (Outcome.REFUSED, "It clashes with event 1 of the same file.")
    assert [(c["title"], c["start"], c["event"]) for c in chemistry.conflicts] == [("Biology", at(week, 10), 1)]
    assert (physics.outcome, physics.message) == (Outcome.REFUSED, "It clashes with event 2 of the same file.")
    with pytest.raises(IcalImportRefused) as refused:
        commit(content, joint_campus.classroom, fm_of_lukio)
    assert refused.value.http_status == 409
    assert Booking.objects.count() == 0


def test_the_quota_counts_the_files_own_earlier_bookings(joint_campus, fm_of_lukio, week):
    BookingPolicy.objects.create(room=joint_campus.classroom, max_active_bookings=2)
    content = calendar(
        vevent("One", at(week, 8), at(week, 9)),
        vevent("Two", at(week, 10), at(week, 11), "RRULE:FREQ=WEEKLY;COUNT=3"),  # a series counts as one
        vevent("Three", at(week, 12), at(week, 13)),
    )

    dry_run = plan(content, joint_campus.classroom, fm_of_lukio)

    assert [row.outcome for row in dry_run.rows] == [Outcome.BOOK, Outcome.BOOK, Outcome.REFUSED]
    three = dry_run.rows[2]
    assert (three.code, three.rule, three.allowed, three.can_override) == (
        "quota_exceeded",
        "max_active_bookings",
        2,
        True,
    )
    assert three.message == "You already have 2 active future bookings; the limit is 2."
    commit(content, joint_campus.classroom, fm_of_lukio, override_reason="The term's timetable")
    assert Booking.objects.count() == 5


def test_only_those_who_keep_the_room_may_import(joint_campus, lukio_staff, fm_of_lukio, campus_fm, week):
    content = calendar(vevent("Lesson", at(week, 10), at(week, 11)))

    with pytest.raises(PermissionDenied):
        plan(content, joint_campus.classroom, lukio_staff)
    # The lukio's facility manager does not keep the campus's shared auditorium; the campus's does.
    with pytest.raises(PermissionDenied):
        commit(content, joint_campus.shared_auditorium, fm_of_lukio)
    commit(content, joint_campus.shared_auditorium, campus_fm)
    assert Booking.objects.get().room == joint_campus.shared_auditorium


def test_institution_the_importer_may_not_book_for_is_refused_before_anything(joint_campus, fm_of_lukio, week):
    content = calendar(vevent("Lesson", at(week, 10), at(week, 11)))

    with pytest.raises(PermissionDenied, match="only for institutions you belong to"):
        plan(content, joint_campus.classroom, fm_of_lukio, institution=joint_campus.vocational)


# --- repeating events ---------------------------------------------------------------------------------


def test_rrule_becomes_a_series_without_the_exdate_dates(joint_campus, fm_of_lukio, week):
    content = calendar(
        vevent(
            "Maths 2B",
            at(week, 10),
            at(week, 11),
            "RRULE:FREQ=WEEKLY;BYDAY=MO;UNTIL=" + ical_utc(at(week + 4 * WEEK, 23, 59)),
            f"EXDATE{local_time(at(week + WEEK, 10))}",
            f"EXDATE;VALUE=DATE:{week + 3 * WEEK:%Y%m%d}",
            f"EXDATE{local_time(at(week + 9 * WEEK, 10))}",  # names no date of the series: ignored (RFC 5545)
        )
    )

    commit(content, joint_campus.classroom, fm_of_lukio)

    series = BookingSeries.objects.get()
    assert [in_helsinki(b.start).date() for b in series.occurrences.order_by("start")] == [
        week,
        week + 2 * WEEK,
        week + 4 * WEEK,
    ]
    assert [dt.datetime.fromisoformat(value) for value in series.exdates] == [
        at(week + WEEK, 10).astimezone(dt.UTC),
        at(week + 3 * WEEK, 10).astimezone(dt.UTC),
    ]


def test_weekly_series_keeps_its_local_time_across_the_autumn_clock_change(joint_campus, fm_of_lukio):
    change = next_last_sunday(10)  # clocks go back at 04:00 local time
    first = change - dt.timedelta(days=13)  # a Monday two weeks before
    content = calendar(vevent("Maths 2B", at(first, 10), at(first, 11, 30), "RRULE:FREQ=WEEKLY;COUNT=4"))

    commit(content, joint_campus.classroom, fm_of_lukio, now=at(first - WEEK, 8))

    bookings = list(Booking.objects.order_by("start"))
    assert [in_helsinki(b.start) for b in bookings] == [at(first + n * WEEK, 10) for n in range(4)]
    assert [in_helsinki(b.end) for b in bookings] == [at(first + n * WEEK, 11, 30) for n in range(4)]
    assert {b.start.utcoffset() for b in bookings} == {dt.timedelta(0)}
    assert [b.start.astimezone(dt.UTC).hour for b in bookings] == [7, 7, 8, 8]


def test_series_given_in_utc_that_crosses_a_clock_change_is_refused(joint_campus, fm_of_lukio):
    change = next_last_sunday(10)
    first = change - dt.timedelta(days=13)
    utc_start, utc_end = ical_utc(at(first, 10)), ical_utc(at(first, 11))
    content = calendar(
        "\r\n".join(
            [
                "BEGIN:VEVENT",
                "UID:utc@tests",
                "SUMMARY:Maths in UTC",
                f"DTSTART:{utc_start}",
                f"DTEND:{utc_end}",
                "RRULE:FREQ=WEEKLY;COUNT=4",
                "END:VEVENT",
            ]
        )
    )

    dry_run = plan(content, joint_campus.classroom, fm_of_lukio, now=at(first - WEEK, 8))

    (row,) = dry_run.rows
    # In UTC the lesson stays at 07:00Z, which is 10:00 before the change and 09:00 after it in Helsinki:
    # Kampus repeats in the campus's local time, so it refuses rather than book other times.
    assert (row.outcome, row.code) == (Outcome.REFUSED, "zone_mismatch")
    assert "UTC" in row.message
    assert "Europe/Helsinki" in row.message


def test_floating_and_utc_times_are_read_as_campus_and_utc_times(joint_campus, fm_of_lukio, week):
    content = calendar(
        "\r\n".join(
            [
                "BEGIN:VEVENT",
                "UID:floating@tests",
                "SUMMARY:Floating",
                f"DTSTART:{week:%Y%m%d}T100000",
                f"DTEND:{week:%Y%m%d}T110000",
                "END:VEVENT",
                "BEGIN:VEVENT",
                "UID:utc@tests",
                "SUMMARY:In UTC",
                f"DTSTART:{week:%Y%m%d}T120000Z",
                "DURATION:PT45M",
                "END:VEVENT",
            ]
        )
    )

    floating, in_utc = plan(content, joint_campus.classroom, fm_of_lukio).rows

    assert (floating.start, floating.end) == (at(week, 10), at(week, 11))
    assert in_utc.start == dt.datetime.combine(week, dt.time(12), tzinfo=dt.UTC)
    assert in_utc.end - in_utc.start == dt.timedelta(minutes=45)
    assert in_utc.start.tzinfo == HELSINKI


def test_windows_time_zone_with_its_vtimezone_is_read(joint_campus, fm_of_lukio, week):
    timezone_block = "\r\n".join(
        [
            "BEGIN:VTIMEZONE",
            "TZID:FLE Standard Time",
            "BEGIN:STANDARD",
            "DTSTART:16010101T040000",
            "TZOFFSETFROM:+0300",
            "TZOFFSETTO:+0200",
            "RRULE:FREQ=YEARLY;BYDAY=-1SU;BYMONTH=10",
            "END:STANDARD",
            "BEGIN:DAYLIGHT",
            "DTSTART:16010101T030000",
            "TZOFFSETFROM:+0200",
            "TZOFFSETTO:+0300",
            "RRULE:FREQ=YEARLY;BYDAY=-1SU;BYMONTH=3",
            "END:DAYLIGHT",
            "END:VTIMEZONE",
        ]
    )
    event = "\r\n".join(
        [
            "BEGIN:VEVENT",
            "UID:outlook@tests",
            "SUMMARY:From Outlook",
            f"DTSTART;TZID=FLE Standard Time:{week:%Y%m%d}T100000",
            f"DTEND;TZID=FLE Standard Time:{week:%Y%m%d}T110000",
            "END:VEVENT",
        ]
    )

    (row,) = plan(calendar(event, head=timezone_block), joint_campus.classroom, fm_of_lukio).rows

    assert (row.outcome, row.start, row.end) == (Outcome.BOOK, at(week, 10), at(week, 11))


def test_a_series_that_began_in_the_past_is_booked_from_its_next_date(joint_campus, fm_of_lukio, week):
    now = at(week, 0)
    first = week - 3 * WEEK
    content = calendar(vevent("Maths 2B", at(first, 10), at(first, 11), "RRULE:FREQ=WEEKLY;COUNT=6"))

    dry_run = plan(content, joint_campus.classroom, fm_of_lukio, now=now)

    (row,) = dry_run.rows
    assert row.start == at(week, 10)
    assert row.notes == ["3 earlier dates are in the past and are left out."]
    commit(content, joint_campus.classroom, fm_of_lukio, now=now)
    assert [in_helsinki(b.start).date() for b in Booking.objects.order_by("start")] == [
        week,
        week + WEEK,
        week + 2 * WEEK,
    ]
    assert BookingSeries.objects.get().rrule == "FREQ=WEEKLY;UNTIL=" + ical_utc(at(week + 2 * WEEK, 10))


def test_moved_and_cancelled_occurrences_leave_the_series_and_moved_ones_are_booked(joint_campus, fm_of_lukio, week):
    rule = "RRULE:FREQ=WEEKLY;COUNT=4"
    content = calendar(
        vevent("Maths 2B", at(week, 10), at(week, 11), rule, uid="maths"),
        vevent(
            "Maths 2B (moved)",
            at(week + WEEK + DAY, 12),
            at(week + WEEK + DAY, 13),
            f"RECURRENCE-ID{local_time(at(week + WEEK, 10))}",
            uid="maths",
        ),
        vevent(
            "Maths 2B",
            at(week + 2 * WEEK, 10),
            at(week + 2 * WEEK, 11),
            f"RECURRENCE-ID{local_time(at(week + 2 * WEEK, 10))}",
            "STATUS:CANCELLED",
            uid="maths",
        ),
    )

    dry_run = plan(content, joint_campus.classroom, fm_of_lukio)

    series, moved = dry_run.rows
    assert series.notes == ["2 dates are moved or cancelled in the calendar and are left out of the series."]
    assert (moved.kind, moved.start) == (Kind.MOVED, at(week + WEEK + DAY, 12))
    commit(content, joint_campus.classroom, fm_of_lukio)
    assert [(b.title, in_helsinki(b.start)) for b in Booking.objects.order_by("start")] == [
        ("Maths 2B", at(week, 10)),
        ("Maths 2B (moved)", at(week + WEEK + DAY, 12)),
        ("Maths 2B", at(week + 3 * WEEK, 10)),
    ]


def test_rdate_adds_one_off_bookings_of_the_events_length(joint_campus, fm_of_lukio, week):
    content = calendar(
        vevent(
            "Maths 2B",
            at(week, 10),
            at(week, 11, 15),
            "RRULE:FREQ=WEEKLY;COUNT=2",
            f"RDATE{local_time(at(week + 3 * DAY, 14))}",
            f"RDATE{local_time(at(week + WEEK, 10))}",  # already a date of the rule: booked once
        )
    )

    series, extra = plan(content, joint_campus.classroom, fm_of_lukio).rows

    assert series.kind == Kind.SERIES
    assert (extra.kind, extra.start, extra.end) == (Kind.EXTRA_DATE, at(week + 3 * DAY, 14), at(week + 3 * DAY, 15, 15))
    commit(content, joint_campus.classroom, fm_of_lukio)
    assert Booking.objects.count() == 3


def test_a_closed_date_of_a_series_is_skipped_as_for_any_series(joint_campus, fm_of_lukio, week):
    Closure.objects.create(
        campus=joint_campus.campus,
        room=joint_campus.classroom,
        start=at(week + WEEK, 0),
        end=at(week + WEEK + DAY, 0),
        reason="Painting",
    )
    content = calendar(vevent("Maths 2B", at(week, 10), at(week, 11), "RRULE:FREQ=WEEKLY;COUNT=3"))

    (row,) = plan(content, joint_campus.classroom, fm_of_lukio).rows

    assert row.outcome == Outcome.BOOK
    assert [(in_helsinki(s.start), s.code) for s in row.result.skipped] == [(at(week + WEEK, 10), "closed")]
    commit(content, joint_campus.classroom, fm_of_lukio)
    assert Booking.objects.count() == 2


def test_all_day_cancelled_and_past_events_are_left_out_and_the_rest_imported(joint_campus, fm_of_lukio, week):
    content = calendar(
        vevent("Lesson", at(week, 10), at(week, 11)),
        "\r\n".join(
            [
                "BEGIN:VEVENT",
                "UID:holiday@tests",
                "SUMMARY:Sports day",
                f"DTSTART;VALUE=DATE:{week:%Y%m%d}",
                f"DTEND;VALUE=DATE:{week + DAY:%Y%m%d}",
                "END:VEVENT",
            ]
        ),
        vevent("Called off", at(week, 12), at(week, 13), "STATUS:CANCELLED"),
        vevent("Last year", at(week - 53 * WEEK, 12), at(week - 53 * WEEK, 13)),
    )

    dry_run = plan(content, joint_campus.classroom, fm_of_lukio)

    codes = {row.title: (row.outcome, row.code) for row in dry_run.rows}
    assert codes == {
        "Lesson": (Outcome.BOOK, ""),
        "Sports day": (Outcome.LEFT_OUT, "all_day"),
        "Called off": (Outcome.LEFT_OUT, "cancelled"),
        "Last year": (Outcome.LEFT_OUT, "in_the_past"),
    }
    assert dry_run.can_commit
    commit(content, joint_campus.classroom, fm_of_lukio)
    assert list(Booking.objects.values_list("title", flat=True)) == ["Lesson"]


def test_a_file_with_nothing_to_book_is_refused_on_commit(joint_campus, fm_of_lukio, week):
    content = calendar(vevent("Last year", at(week - 53 * WEEK, 12), at(week - 53 * WEEK, 13)))

    with pytest.raises(IcalImportRefused) as refused:
        commit(content, joint_campus.classroom, fm_of_lukio)

    assert refused.value.code == "nothing_to_import"
    assert refused.value.http_status == 422


@pytest.mark.parametrize(
    ("rule", "code", "words"),
    [
        ("FREQ=WEEKLY", "endless_series", "repeats without end"),
        ("FREQ=WEEKLY;INTERVAL=1;BYDAY=MO", "endless_series", "neither COUNT nor UNTIL"),
        ("FREQ=YEARLY;COUNT=3", "invalid_recurrence", "FREQ must be DAILY, WEEKLY or MONTHLY"),
        ("FREQ=WEEKLY;COUNT=3;BYSETPOS=1", "invalid_recurrence", "BYSETPOS is not supported"),
        ("FREQ=DAILY;COUNT=900", "invalid_recurrence", "at most 500 occurrences"),
        ("FREQ=WEEKLY;BYDAY=TU;COUNT=3", "invalid_recurrence", "is not an occurrence of the repeat rule"),
        ("FREQ=DAILY;UNTIL=21000101T000000Z", "invalid_recurrence", "at most 400 days ahead"),
    ],
)
def test_repeat_rules_kampus_cannot_book_are_refused_clearly(joint_campus, fm_of_lukio, week, rule, code, words):
    content = calendar(vevent("Maths 2B", at(week, 10), at(week, 11), f"RRULE:{rule}"))

    (row,) = plan(content, joint_campus.classroom, fm_of_lukio).rows

    assert (row.outcome, row.code) == (Outcome.REFUSED, code)
    assert words in row.message
    with pytest.raises(IcalImportRefused):
        commit(content, joint_campus.classroom, fm_of_lukio)
    assert Booking.objects.count() == 0
    assert BookingSeries.objects.count() == 0


# --- malformed and hostile files ----------------------------------------------------------------------


def _bad_files(week: dt.date) -> dict[str, tuple[bytes, str, str]]:
    """Return files refused as a whole: (content, code, words of the message)."""
    good = vevent("Lesson", at(week, 10), at(week, 11))
    many = "\r\n".join(vevent(f"L{n}", at(week, 10), at(week, 11), uid=f"l{n}") for n in range(MAX_EVENTS + 1))
    return {
        "empty": (b"", "empty_file", "The file is empty."),
        "not iCalendar": (b"room,start,end\r\nA101,10:00,11:00\r\n", "not_ical", "not an iCalendar (.ics) file"),
        "a vCard": (b"BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Olli\r\nEND:VCARD\r\n", "not_ical", "BEGIN:VCALENDAR"),
        "cut short": (calendar(good)[:-40], "not_ical", "no complete calendar"),
        "Latin-1": (
            calendar(vevent("Äidinkieli", at(week, 10), at(week, 11))).decode().encode("latin-1"),
            "not_utf8",
            "not UTF-8",
        ),
        "UTF-16": (calendar(good).decode().encode("utf-16"), "not_utf8", "not UTF-8"),
        "NUL": (calendar(vevent("Les\x00son", at(week, 10), at(week, 11))), "not_ical", "NUL"),
        "no events": (calendar(), "no_events", "no events"),
        "too large": (calendar(good, "X-PADDING:" + "x" * MAX_FILE_BYTES), "file_too_large", "larger than 2 MB"),
        "too many events": (calendar(many), "too_many_events", f"at most {MAX_EVENTS}"),
    }


@pytest.mark.parametrize(
    "case",
    ["empty", "not iCalendar", "a vCard", "cut short", "Latin-1", "UTF-16", "NUL", "no events", "too large",
     "too many events"],
)  # fmt: skip
def test_files_that_cannot_be_read_are_refused_with_a_clear_error_and_change_nothing(
    joint_campus, fm_of_lukio, week, case
):
    content, code, words = _bad_files(week)[case]

    for attempt in (plan, commit):
        with pytest.raises(IcalFileRefused) as refused:
            attempt(content, joint_campus.classroom, fm_of_lukio)
        assert refused.value.code == code
        assert words in refused.value.message
        assert refused.value.extra["errors"] == [{"field": "file", "message": refused.value.message}]
    assert Booking.objects.count() == 0


def _broken_event(week: dt.date, lines: list[str]) -> str:
    return "\r\n".join(["BEGIN:VEVENT", "UID:broken@tests", "SUMMARY:Broken", *lines, "END:VEVENT"])


@pytest.mark.parametrize(
    ("lines", "words"),
    [
        (["DTEND:{day}T110000"], "It has no start (DTSTART)."),
        (["DTSTART:{day}T100000"], "It has no end (DTEND or DURATION)."),
        (["DTSTART:{day}T110000", "DTEND:{day}T100000"], "It ends (DTEND) before it starts"),
        (["DTSTART:20270230T100000", "DTEND:20270230T110000"], "DTSTART cannot be read"),
        (["DTSTART:00010101T100000Z", "DTEND:00010101T110000Z"], "DTSTART is not between 1900 and 2200."),
        (["DTSTART;TZID=Mars/Olympus:{day}T100000", "DTEND:{day}T110000"], "The time zone “Mars/Olympus”"),
        (["DTSTART:{day}T100000", "DTEND:{day}T110000", "DURATION:PT1H"], "both DTEND and DURATION"),
        (["DTSTART:{day}T100000", "DTSTART:{day}T120000", "DTEND:{day}T130000"], "DTSTART is given more than once"),
        (["DTSTART:{day}T100000", "DTEND:{day}T110000", "RRULE:FREQ=WEEKLY;COUNT=x"], "RRULE cannot be read"),
        (["DTSTART:{day}T100000", "DTEND;VALUE=DATE:{day}"], "its end (DTEND) is a date"),
    ],
)
def test_an_event_that_cannot_be_read_is_listed_with_its_problem_and_stops_the_import(
    joint_campus, fm_of_lukio, week, lines, words
):
    broken = _broken_event(week, [line.format(day=f"{week:%Y%m%d}") for line in lines])
    content = calendar(vevent("Lesson", at(week, 8), at(week, 9)), broken)

    dry_run = plan(content, joint_campus.classroom, fm_of_lukio)

    refused = [row for row in dry_run.rows if row.outcome == Outcome.REFUSED]
    assert [(row.event.number, row.code) for row in refused] == [(2, "invalid_event")]
    assert words in refused[0].message
    with pytest.raises(IcalImportRefused) as error:
        commit(content, joint_campus.classroom, fm_of_lukio)
    assert error.value.extra["errors"][0]["field"] == "events.2"
    assert Booking.objects.count() == 0


def test_a_time_the_clocks_skip_is_refused_not_shifted(joint_campus, fm_of_lukio):
    change = next_last_sunday(3)  # 03:00–04:00 does not exist in Helsinki that night
    content = calendar(
        _broken_event(change, [f"DTSTART:{change:%Y%m%d}T033000", f"DTEND:{change:%Y%m%d}T050000"]),
    )

    (row,) = plan(content, joint_campus.classroom, fm_of_lukio, now=at(change - WEEK, 8)).rows

    assert row.outcome == Outcome.REFUSED
    assert "03:30" in row.message
    assert "clocks go forward" in row.message


def test_a_files_repeating_events_cannot_make_kampus_compute_without_end(joint_campus, fm_of_lukio, week):
    # Daily since 1950: each event is followed for thousands of past dates before reaching today.
    events = [
        vevent(f"Old {n}", at(dt.date(1950, 1, 2), 10), at(dt.date(1950, 1, 2), 11), "RRULE:FREQ=DAILY;UNTIL=21000101")
        for n in range(20)
    ]

    with pytest.raises(IcalFileRefused) as refused:
        plan(calendar(*[event.replace("UID:Old", f"UID:{n}-Old") for n, event in enumerate(events)]),
             joint_campus.classroom, fm_of_lukio)  # fmt: skip

    assert refused.value.code == "too_many_occurrences"


def test_titles_are_unescaped_and_cut_to_what_a_booking_holds(joint_campus, fm_of_lukio, week):
    long_title = "Ä" * 250
    content = calendar(
        vevent("Maths\\, 2B\\; room swap 🎓", at(week, 8), at(week, 9)),
        vevent(long_title, at(week, 10), at(week, 11)),
    )

    commit(content, joint_campus.classroom, fm_of_lukio)

    titles = list(Booking.objects.order_by("start").values_list("title", flat=True))
    assert titles[0] == "Maths, 2B; room swap 🎓"
    assert titles[1] == "Ä" * 199 + "…"


def test_a_slot_taken_between_dry_run_and_commit_books_nothing(joint_campus, fm_of_lukio, lukio_staff, week):
    content = calendar(
        vevent("Lesson", at(week, 8), at(week, 9)),
        vevent("Exam", at(week, 10), at(week, 12)),
    )
    assert plan(content, joint_campus.classroom, fm_of_lukio).can_commit

    book(lukio_staff, joint_campus.classroom, at(week, 11), at(week, 12, 30), title="Taken meanwhile")
    with pytest.raises(IcalImportRefused) as refused:
        commit(content, joint_campus.classroom, fm_of_lukio)

    assert refused.value.http_status == SlotTaken.http_status
    assert list(Booking.objects.values_list("title", flat=True)) == ["Taken meanwhile"]


def test_the_example_timetable_of_the_docs_imports_as_described(joint_campus, fm_of_lukio):
    """docs/examples/timetable.ics: three weekly lessons, one moved, an evening, an all-day and a cancelled event."""
    content = (Path(__file__).resolve().parents[2] / "docs" / "examples" / "timetable.ics").read_bytes()
    now = at(dt.date(2027, 1, 4), 8)  # the Monday before the spring term the file holds

    result = commit(content, joint_campus.classroom, fm_of_lukio, institution=joint_campus.lukio, now=now)

    outcomes = {(row.title, row.kind): (row.outcome, row.code) for row in result.rows}
    assert outcomes == {
        ("MAA4 Vektorit", Kind.SERIES): (Outcome.BOOK, ""),
        ("ENA3 Englanti", Kind.SERIES): (Outcome.BOOK, ""),
        ("FY2 Fysiikka", Kind.SERIES): (Outcome.BOOK, ""),
        ("FY2 Fysiikka (siirretty)", Kind.MOVED): (Outcome.BOOK, ""),
        ("Vanhempainilta, 1. vuosikurssi", Kind.SINGLE): (Outcome.BOOK, ""),
        ("Penkkarit", Kind.SINGLE): (Outcome.LEFT_OUT, "all_day"),
        ("Kemian lisätunti", Kind.SINGLE): (Outcome.LEFT_OUT, "cancelled"),
    }
    mondays = [in_helsinki(b.start).date() for b in Booking.objects.filter(title="MAA4 Vektorit").order_by("start")]
    # Every Monday from 11 January to 17 May 2027 but 8 March (EXDATE): 19 Mondays less one.
    assert len(mondays) == 18
    assert dt.date(2027, 3, 8) not in mondays
    assert Booking.objects.filter(title="ENA3 Englanti").count() == 30
    wednesdays = [in_helsinki(b.start).date() for b in Booking.objects.filter(title="FY2 Fysiikka")]
    assert len(wednesdays) == 18
    assert dt.date(2027, 2, 3) not in wednesdays
    assert in_helsinki(Booking.objects.get(title="FY2 Fysiikka (siirretty)").start) == at(dt.date(2027, 2, 5), 12, 30)
    # 10:00 stays 10:00 after the clocks go forward on 28 March.
    assert {in_helsinki(b.start).time() for b in Booking.objects.filter(title="ENA3 Englanti")} == {dt.time(10)}
    assert Booking.objects.count() == 18 + 30 + 18 + 1 + 1
