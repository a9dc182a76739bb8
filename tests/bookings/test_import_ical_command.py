"""``manage.py import_ical``: a dry run by default, --commit books everything or nothing."""

from __future__ import annotations

import datetime as dt
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from bookings.models import Booking, BookingSeries
from campus.models import Room, RoomKind
from tests.bookings.conftest import at, book
from tests.bookings.test_ical_import import calendar, vevent

pytestmark = pytest.mark.usefixtures("blocks_stay_consistent")

WEEK = dt.timedelta(weeks=1)


@pytest.fixture
def week(monday) -> dt.date:
    return monday + WEEK


@pytest.fixture
def timetable(tmp_path: Path, week: dt.date) -> Path:
    path = tmp_path / "timetable.ics"
    path.write_bytes(
        calendar(
            vevent("Maths 2B", at(week, 10), at(week, 11, 15), "RRULE:FREQ=WEEKLY;COUNT=3"),
            vevent("Parents' evening", at(week, 17), at(week, 18)),
        )
    )
    return path


def run(*args: str) -> tuple[str, str]:
    stdout, stderr = StringIO(), StringIO()
    call_command("import_ical", *args, stdout=stdout, stderr=stderr)
    return stdout.getvalue(), stderr.getvalue()


def test_without_commit_it_lists_the_events_and_books_nothing(joint_campus, fm_of_lukio, timetable, week):
    stdout, _ = run(str(timetable), "--room", "A101", "--institution", "lukio", "--as", "lukio.fm")

    assert f"Dry run of {timetable} into A101 Classroom 101 for Otava Upper Secondary, booked by lukio.fm:" in stdout
    assert f"#1   book      {at(week, 10):%a %Y-%m-%d} 10:00–11:15  Maths 2B" in stdout
    assert "weekly series, 3 date(s), confirmed" in stdout
    assert "Would book 4 date(s), 1 of the events as series. Nothing was saved; add --commit to book." in stdout
    assert Booking.objects.count() == 0


def test_commit_books_as_the_given_user(joint_campus, fm_of_lukio, timetable):
    stdout, _ = run(str(timetable), "--room", str(joint_campus.classroom.pk), "--as", "lukio.fm", "--commit")

    assert "Booked 4 date(s), 1 of the events as series." in stdout
    assert set(Booking.objects.values_list("booked_by__username", "room__code")) == {("lukio.fm", "A101")}
    assert BookingSeries.objects.count() == 1


def test_a_clash_refuses_the_import_and_says_why(joint_campus, fm_of_lukio, lukio_staff, timetable, week):
    book(lukio_staff, joint_campus.classroom, at(week, 17, 30), at(week, 18, 30), title="Exam")
    stdout, stderr = StringIO(), StringIO()

    with pytest.raises(CommandError, match="1 event of the file cannot be booked; nothing was imported"):
        call_command(
            "import_ical",
            str(timetable),
            "--room",
            "A101",
            "--as",
            "lukio.fm",
            "--commit",
            stdout=stdout,
            stderr=stderr,
        )

    assert "REFUSED" in stdout.getvalue()
    assert f"clashes with {at(week, 17, 30):%Y-%m-%d} 17:30–18:30 Exam" in stdout.getvalue()
    assert "event 2 (Parents' evening): The room is already booked at that time." in stderr.getvalue()
    assert list(Booking.objects.values_list("title", flat=True)) == ["Exam"]


def test_a_dry_run_with_problems_exits_with_an_error(joint_campus, fm_of_lukio, tmp_path, week):
    path = tmp_path / "endless.ics"
    path.write_bytes(calendar(vevent("Maths", at(week, 10), at(week, 11), "RRULE:FREQ=WEEKLY")))

    with pytest.raises(CommandError, match="1 event\\(s\\) cannot be booked; nothing would be imported"):
        run(str(path), "--room", "A101", "--as", "lukio.fm")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--room", "Z999"], "No room 'Z999'"),
        (["--room", "A101", "--institution", "nope"], "No institution 'nope'"),
        (["--room", "A101", "--as", "nobody"], "No user 'nobody'"),
        (["--room", "A101", "--as", "lukio.teacher"], "Only the facility managers who keep A101 Classroom 101"),
    ],
)
def test_wrong_options_are_refused_with_a_message(joint_campus, fm_of_lukio, lukio_staff, timetable, args, message):
    with pytest.raises(CommandError, match=message):
        run(str(timetable), *args)


def test_a_code_in_several_buildings_needs_the_building(joint_campus, fm_of_lukio, timetable):
    Room.objects.create(
        building=joint_campus.workshop_building, code="A101", name="Other", kind=RoomKind.OTHER, capacity=5
    )

    with pytest.raises(CommandError, match="choose one with --building"):
        run(str(timetable), "--room", "A101", "--as", "lukio.fm")
    stdout, _ = run(str(timetable), "--room", "A101", "--building", "A", "--as", "lukio.fm")
    assert "A101 Classroom 101" in stdout


def test_unreadable_and_missing_files_are_refused(joint_campus, fm_of_lukio, tmp_path):
    latin1 = tmp_path / "latin1.ics"
    latin1.write_bytes("BEGIN:VCALENDAR\r\nX-NAME:Äö\r\nEND:VCALENDAR\r\n".encode("latin-1"))

    with pytest.raises(CommandError, match="not UTF-8"):
        run(str(latin1), "--room", "A101", "--as", "lukio.fm")
    with pytest.raises(CommandError, match="Cannot read"):
        run(str(tmp_path / "missing.ics"), "--room", "A101", "--as", "lukio.fm")
    assert Booking.objects.count() == 0
