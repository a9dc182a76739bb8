"""Term calendars: terms and breaks per institution (or campus), and teaching series that skip breaks."""

from __future__ import annotations

import datetime as dt
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from bookings.models import Booking, Purpose
from campus.demo import school_year
from campus.exceptions import InvalidInput, PermissionDenied
from campus.models import TermKind, TermPeriod
from campus.room_import import CsvImportRefused
from campus.services import term_period_create, term_periods_import_csv
from tests.bookings.conftest import at, book, in_helsinki
from tests.web.conftest import client_for

WEEK = dt.timedelta(weeks=1)


# --- who edits which calendar ------------------------------------------------------------------


def test_an_institution_admin_adds_a_break_to_their_own_calendar(joint_campus, lukio_admin):
    period = term_period_create(
        actor=lukio_admin,
        institution=joint_campus.lukio,
        kind=TermKind.BREAK,
        name=" Autumn break ",
        start=dt.date(2027, 10, 18),
        end=dt.date(2027, 10, 22),
    )

    assert (period.institution, period.name, period.kind) == (joint_campus.lukio, "Autumn break", "break")


@pytest.mark.parametrize("who", ["lukio_staff", "vocational_staff", "campus_fm"])
def test_others_may_not_edit_an_institutions_calendar(request, joint_campus, who):
    with pytest.raises(PermissionDenied):
        term_period_create(
            actor=request.getfixturevalue(who),
            institution=joint_campus.lukio,
            kind=TermKind.TERM,
            name="Spring term",
            start=dt.date(2027, 1, 7),
            end=dt.date(2027, 6, 5),
        )
    assert not TermPeriod.objects.exists()


def test_the_campus_calendar_belongs_to_the_campus_facility_managers(joint_campus, campus_fm, fm_of_lukio):
    term_period_create(
        actor=campus_fm, campus=joint_campus.campus, kind=TermKind.BREAK, name="Christmas",
        start=dt.date(2027, 12, 22), end=dt.date(2028, 1, 6),
    )  # fmt: skip
    with pytest.raises(PermissionDenied):
        term_period_create(
            actor=fm_of_lukio, campus=joint_campus.campus, kind=TermKind.BREAK, name="Christmas",
            start=dt.date(2028, 12, 22), end=dt.date(2029, 1, 6),
        )  # fmt: skip
    assert TermPeriod.objects.count() == 1


def test_a_period_ending_before_it_starts_is_refused_with_the_field(joint_campus, lukio_admin):
    with pytest.raises(InvalidInput) as refused:
        term_period_create(
            actor=lukio_admin, institution=joint_campus.lukio, kind="holiday", name="x",
            start=dt.date(2027, 3, 2), end=dt.date(2027, 3, 1),
        )  # fmt: skip
    assert {e["field"] for e in refused.value.extra["errors"]} == {"kind", "end"}


# --- import ------------------------------------------------------------------------------------


def test_a_calendar_file_is_imported_all_or_nothing_with_line_numbered_errors(joint_campus, lukio_admin):
    good = "kind,name,start,end\nterm,Syyslukukausi,2027-08-11,2027-12-21\nbreak,Syysloma,18.10.2027,22.10.2027\n"
    bad = good + "holiday,Joulu,2027-12-22,2028-01-06\nbreak,,2027-02-22,2027-02-21\n"

    with pytest.raises(CsvImportRefused) as refused:
        term_periods_import_csv(actor=lukio_admin, institution=joint_campus.lukio, csv_text=bad)
    assert {(e.line, e.column) for e in refused.value.row_errors} == {(4, "kind"), (5, "name"), (5, "end")}
    assert not TermPeriod.objects.exists()

    first = term_periods_import_csv(actor=lukio_admin, institution=joint_campus.lukio, csv_text=good)
    again = term_periods_import_csv(actor=lukio_admin, institution=joint_campus.lukio, csv_text=good)

    assert (first.created, again.created, again.unchanged) == (2, 0, 2)
    assert TermPeriod.objects.get(kind="break").start == dt.date(2027, 10, 18)


def test_the_import_command_loads_a_calendar_and_reports_errors(tmp_path, joint_campus, lukio_admin):
    path = tmp_path / "terms.csv"
    path.write_text("kind,name,start,end\nbreak,Talviloma,2027-02-22,2027-02-26\n", encoding="utf-8")
    out = StringIO()

    call_command("import_terms", str(path), "--institution", "lukio", "--as", lukio_admin.username, stdout=out)

    assert "1 created" in out.getvalue()
    path.write_text("kind,name,start,end\nbreak,Talviloma,2027-02-30,2027-02-26\n", encoding="utf-8")
    with pytest.raises(CommandError, match="nothing was imported"):
        call_command(
            "import_terms", str(path), "--institution", "lukio", "--as", lukio_admin.username, stderr=StringIO()
        )


# --- series follow the calendar -----------------------------------------------------------------


def test_a_teaching_series_skips_its_institutions_break(joint_campus, lukio_staff, monday, lukio_break):
    result = book(
        lukio_staff, joint_campus.classroom, at(monday, 10), at(monday, 11),
        rrule="FREQ=WEEKLY;COUNT=3", now=at(monday - WEEK, 8),
    )  # fmt: skip

    assert [in_helsinki(b.start).date() for b in result.bookings] == [monday, monday + 2 * WEEK]
    assert [(in_helsinki(s.start).date(), s.code) for s in result.skipped] == [(monday + WEEK, "break")]
    assert "Winter break" in result.skipped[0].reason
    assert len(result.series.exdates) == 1  # the skipped date is one of the series' exceptions


def test_a_meeting_series_and_an_explicit_choice_keep_the_break_dates(joint_campus, lukio_staff, monday, lukio_break):
    meeting = book(
        lukio_staff, joint_campus.classroom, at(monday, 10), at(monday, 11),
        rrule="FREQ=WEEKLY;COUNT=3", purpose=Purpose.MEETING, now=at(monday - WEEK, 8),
    )  # fmt: skip
    lesson = book(
        lukio_staff, joint_campus.lab, at(monday, 10), at(monday, 11),
        rrule="FREQ=WEEKLY;COUNT=3", skip_breaks=False, now=at(monday - WEEK, 8),
    )  # fmt: skip

    assert len(meeting.bookings) == len(lesson.bookings) == 3


def test_another_institutions_break_does_not_apply(joint_campus, vocational_staff, monday, lukio_break):
    result = book(
        vocational_staff, joint_campus.shared_auditorium, at(monday, 10), at(monday, 11),
        rrule="FREQ=WEEKLY;COUNT=3", now=at(monday - WEEK, 8),
    )  # fmt: skip

    assert len(result.bookings) == 3


# --- demo and admin --------------------------------------------------------------------------------


def test_a_finnish_school_year_has_its_terms_and_breaks():
    periods = school_year(2026)

    names = [names[2] for _kind, names, _start, _end in periods]
    assert names == [
        "Autumn term", "Autumn break", "Christmas break", "Spring term", "Winter break", "Easter break", "Summer break",
    ]  # fmt: skip
    by_name = {names[2]: (start, end) for _kind, names, start, end in periods}
    assert by_name["Easter break"] == (dt.date(2027, 3, 26), dt.date(2027, 3, 29))  # Good Friday to Easter Monday
    assert by_name["Christmas break"][1] + dt.timedelta(days=1) == by_name["Spring term"][0]
    assert all(start <= end for _kind, _names, start, end in periods)


def test_an_institution_facility_manager_cannot_add_a_term_for_another_institution_in_the_admin(
    joint_campus, fm_of_lukio
):
    client = client_for(fm_of_lukio)
    form = {"kind": "break", "name_fi": "Loma", "start": "2027-10-18", "end": "2027-10-22"}

    other = client.post("/admin/campus/termperiod/add/", {**form, "institution": joint_campus.vocational.pk})
    own = client.post("/admin/campus/termperiod/add/", {**form, "institution": joint_campus.lukio.pk})

    assert other.status_code == 200  # the form again, with its error
    assert list(TermPeriod.objects.values_list("institution_id", flat=True)) == [joint_campus.lukio.pk]
    assert own.status_code == 302


# --- the repeat editor: until the end of the term -------------------------------------------------


def _weekly_form(room, day: dt.date, **fields) -> dict:
    from tests.web.test_booking_form import form_data

    return form_data(room, day, repeat="weekly", weekdays=str(day.weekday()), **fields)


def test_the_repeat_editor_ends_a_series_at_the_end_of_the_term_in_one_choice(joint_campus, lukio_staff, monday):
    TermPeriod.objects.create(
        institution=joint_campus.lukio, kind=TermKind.TERM, name="Spring term",
        start=monday - WEEK, end=monday + 2 * WEEK + dt.timedelta(days=2),
    )  # fmt: skip
    client = client_for(lukio_staff)

    response = client.post("/bookings/new/", _weekly_form(joint_campus.classroom, monday, ends="term"))

    assert response.status_code == 302, response.content.decode()[:2000]
    starts = sorted(in_helsinki(b.start).date() for b in Booking.objects.all())
    assert starts == [monday, monday + WEEK, monday + 2 * WEEK]


def test_the_end_of_the_term_needs_a_term_that_holds_the_first_date(joint_campus, lukio_staff, monday):
    response = client_for(lukio_staff).post("/bookings/new/", _weekly_form(joint_campus.classroom, monday, ends="term"))

    assert response.status_code == 200
    assert "No term of the calendar holds" in response.content.decode()
    assert not Booking.objects.exists()
