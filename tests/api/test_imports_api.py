"""POST /api/v1/imports/ical: a dry run by default, all-or-nothing booking, the standard error shape."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from api.tokens import token_create
from bookings.ical_import import MAX_FILE_BYTES
from bookings.models import Booking, BookingSeries
from tests.api.conftest import API
from tests.bookings.conftest import at, book
from tests.bookings.test_ical_import import calendar, vevent

WEEK = dt.timedelta(weeks=1)
URL = f"{API}/imports/ical"


@pytest.fixture
def week(monday) -> dt.date:
    return monday + WEEK


@pytest.fixture
def fm_api(fm_of_lukio) -> Client:
    """A token client of the lukio's facility manager that asks for English answers."""
    _, raw = token_create(user=fm_of_lukio, name="tests")
    return Client(headers={"Authorization": f"Bearer {raw}", "Accept-Language": "en"})


def timetable(week: dt.date) -> bytes:
    return calendar(
        vevent("Maths 2B", at(week, 10), at(week, 11, 15), "RRULE:FREQ=WEEKLY;COUNT=3", "LOCATION:A101"),
        vevent("Parents' evening", at(week, 17), at(week, 18)),
    )


def upload(api: Client, content: bytes, **query) -> object:
    """POST ``content`` as a multipart file upload with the options in the query string."""
    params = "&".join(f"{name}={value}" for name, value in query.items())
    return api.post(f"{URL}?{params}", {"file": SimpleUploadedFile("timetable.ics", content, "text/calendar")})


def test_dry_run_is_the_default_and_lists_each_event(fm_api, joint_campus, week):
    answer = upload(fm_api, timetable(week), room=joint_campus.classroom.pk)

    assert answer.status_code == 200, answer.content
    body = answer.json()
    assert Booking.objects.count() == 0
    assert (body["dry_run"], body["committed"], body["can_commit"]) == (True, False, True)
    assert (body["bookings"], body["series"]) == (4, 1)
    assert body["room"]["code"] == "A101"
    lesson, evening = body["events"]
    assert {key: lesson[key] for key in ("event", "title", "location", "kind", "outcome", "repeat", "status")} == {
        "event": 1,
        "title": "Maths 2B",
        "location": "A101",
        "kind": "series",
        "outcome": "book",
        "repeat": "weekly series",
        "status": "confirmed",
    }
    assert lesson["start"] == at(week, 10).isoformat()
    assert lesson["rrule"] == "FREQ=WEEKLY;COUNT=3"
    assert [o["start"] for o in lesson["occurrences"]] == [at(week + n * WEEK, 10).isoformat() for n in range(3)]
    assert {o["id"] for o in lesson["occurrences"]} == {None}
    assert (evening["kind"], evening["start"], evening["end"]) == (
        "single",
        at(week, 17).isoformat(),
        at(week, 18).isoformat(),
    )


def test_commit_books_everything_and_answers_201(fm_api, joint_campus, week):
    answer = upload(fm_api, timetable(week), room=joint_campus.classroom.pk, dry_run="false")

    assert answer.status_code == 201, answer.content
    body = answer.json()
    assert body["committed"] is True
    assert Booking.objects.count() == 4
    series = BookingSeries.objects.get()
    assert body["events"][0]["series"] == series.pk
    assert sorted(o["id"] for event in body["events"] for o in event["occurrences"]) == sorted(
        Booking.objects.values_list("pk", flat=True)
    )


def test_text_calendar_body_works_as_an_upload(fm_api, joint_campus, week):
    answer = fm_api.post(
        f"{URL}?room={joint_campus.classroom.pk}&dry_run=false", timetable(week), content_type="text/calendar"
    )

    assert answer.status_code == 201, answer.content
    assert Booking.objects.count() == 4


def test_a_clash_answers_409_with_conflicts_and_the_dry_run_and_books_nothing(fm_api, joint_campus, lukio_staff, week):
    book(lukio_staff, joint_campus.classroom, at(week + WEEK, 10), at(week + WEEK, 11), title="Exam")

    answer = upload(fm_api, timetable(week), room=joint_campus.classroom.pk, dry_run="false")

    assert answer.status_code == 409, answer.content
    body = answer.json()
    assert body["code"] == "import_refused"
    assert body["detail"] == "1 event of the file cannot be booked; nothing was imported."
    assert body["errors"] == [
        {"field": "events.1", "message": "“Maths 2B” (event 1 of the file): The room is already booked at that time."}
    ]
    assert body["conflicts"] == [
        {
            "start": at(week + WEEK, 10).isoformat(),
            "end": at(week + WEEK, 11).isoformat(),
            "title": "Exam",
            "room": "A101",
            "requested_start": at(week + WEEK, 10).isoformat(),
            "event": 1,
        }
    ]
    assert [(e["title"], e["outcome"]) for e in body["events"]] == [
        ("Maths 2B", "refused"),
        ("Parents' evening", "book"),
    ]
    assert list(Booking.objects.values_list("title", flat=True)) == ["Exam"]


def test_a_dry_run_with_a_clash_answers_200_and_says_it_cannot_commit(fm_api, joint_campus, lukio_staff, week):
    book(lukio_staff, joint_campus.classroom, at(week, 17), at(week, 18), title="Exam")

    body = upload(fm_api, timetable(week), room=joint_campus.classroom.pk).json()

    assert body["can_commit"] is False
    evening = body["events"][1]
    assert (evening["outcome"], evening["code"]) == ("refused", "slot_taken")
    assert evening["conflicts"][0]["title"] == "Exam"


def test_a_broken_rule_answers_422_with_the_rule(fm_api, joint_campus, week):
    content = calendar(vevent("Night class", at(week, 20), at(week, 22)))  # the building closes at 21

    answer = upload(fm_api, content, room=joint_campus.classroom.pk, dry_run="false")

    assert answer.status_code == 422, answer.content
    body = answer.json()
    assert body["code"] == "import_refused"
    (event,) = body["events"]
    assert (event["code"], event["rule"]) == ("outside_opening_hours", "opening_hours")
    assert event["allowed"] == {"opens": at(week, 7).isoformat(), "closes": at(week, 21).isoformat()}
    assert Booking.objects.count() == 0


@pytest.mark.parametrize(
    ("content", "code"),
    [
        (b"this is not a calendar", "not_ical"),
        ("BEGIN:VCALENDAR\r\nX-NAME:Äö\r\nEND:VCALENDAR\r\n".encode("latin-1"), "not_utf8"),
        (b"BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n", "no_events"),
    ],
)
def test_a_file_that_cannot_be_read_answers_422_naming_the_file(fm_api, joint_campus, content, code):
    answer = upload(fm_api, content, room=joint_campus.classroom.pk, dry_run="false")

    assert answer.status_code == 422
    body = answer.json()
    assert body["code"] == code
    assert body["errors"] == [{"field": "file", "message": body["detail"]}]
    assert Booking.objects.count() == 0


def test_a_file_over_the_size_limit_is_refused_unread(fm_api, joint_campus, week):
    content = calendar(vevent("Lesson", at(week, 10), at(week, 11)), "X-PADDING:" + "x" * MAX_FILE_BYTES)

    as_upload = upload(fm_api, content, room=joint_campus.classroom.pk)
    as_body = fm_api.post(f"{URL}?room={joint_campus.classroom.pk}", content, content_type="text/calendar")

    assert (as_upload.status_code, as_upload.json()["code"]) == (422, "file_too_large")
    assert (as_body.status_code, as_body.json()["code"]) == (422, "file_too_large")


def test_no_file_and_other_bodies_are_refused(fm_api, joint_campus):
    no_file = fm_api.post(f"{URL}?room={joint_campus.classroom.pk}", {"other": "x"})
    json_body = fm_api.post(f"{URL}?room={joint_campus.classroom.pk}", {"a": 1}, content_type="application/json")

    assert (no_file.status_code, no_file.json()["errors"][0]["field"]) == (422, "file")
    assert (json_body.status_code, json_body.json()["code"]) == (400, "bad_request")


def test_unknown_room_and_missing_room_are_field_errors(fm_api, week):
    unknown = upload(fm_api, timetable(week), room=999999)
    missing = upload(fm_api, timetable(week))

    assert (unknown.status_code, unknown.json()["errors"][0]["field"]) == (422, "room")
    assert (missing.status_code, missing.json()["errors"][0]["field"]) == (422, "room")


def test_only_facility_managers_who_keep_the_room_may_import(client_with_token, staff_api, fm_api, joint_campus, week):
    teacher = upload(staff_api, timetable(week), room=joint_campus.classroom.pk)
    other_room = upload(fm_api, timetable(week), room=joint_campus.shared_auditorium.pk, dry_run="false")
    anonymous = Client().post(f"{URL}?room={joint_campus.classroom.pk}", timetable(week), content_type="text/calendar")

    assert teacher.status_code == 403
    assert teacher.json()["code"] == "not_room_manager"
    assert other_room.status_code == 403
    assert anonymous.status_code == 401
    assert Booking.objects.count() == 0


def test_session_callers_need_the_csrf_token(fm_of_lukio, joint_campus, week):
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(fm_of_lukio)

    answer = browser.post(f"{URL}?room={joint_campus.classroom.pk}", timetable(week), content_type="text/calendar")

    assert answer.status_code == 403
    assert answer.json()["code"] == "csrf_failed"


def test_the_institution_is_checked_once_for_the_whole_file(fm_api, joint_campus, week):
    answer = upload(fm_api, timetable(week), room=joint_campus.classroom.pk, institution=joint_campus.vocational.pk)

    assert answer.status_code == 403
    assert answer.json()["code"] == "not_a_member"


def test_messages_follow_accept_language(fm_api, joint_campus):
    answer = fm_api.post(
        f"{URL}?room={joint_campus.classroom.pk}",
        b"not a calendar",
        content_type="text/calendar",
        headers={"accept-language": "fi"},
    )

    assert answer.status_code == 422
    assert answer.json()["detail"] == "Tiedosto ei ole iCalendar-tiedosto (.ics): se ei ala rivillä BEGIN:VCALENDAR."
