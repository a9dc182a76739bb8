"""The timetable import page: upload, the dry-run preview, and the confirmation that books the checked file."""

from __future__ import annotations

import base64
import datetime as dt
import random
import re

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from bookings.forms.importing import ImportToken
from bookings.ical_import import MAX_FILE_BYTES
from bookings.models import Booking, BookingSeries
from tests.bookings.conftest import at, book
from tests.bookings.test_ical_import import calendar, vevent
from tests.web.conftest import client_for

URL = reverse("manage:import")
WEEK = dt.timedelta(weeks=1)


@pytest.fixture
def week(monday) -> dt.date:
    return monday + WEEK


def timetable(week: dt.date) -> bytes:
    return calendar(
        vevent("Maths 2B", at(week, 10), at(week, 11, 15), "RRULE:FREQ=WEEKLY;COUNT=3", "LOCATION:Room 101"),
        vevent("Parents' evening", at(week, 17), at(week, 18)),
    )


def check(client, content: bytes, room, **fields):
    upload = SimpleUploadedFile("timetable.ics", content, content_type="text/calendar")
    return client.post(URL, {"file": upload, "room": room.pk, **fields})


def token_of(response) -> str:
    found = re.search(r'name="confirm-token" value="([^"]+)"', response.content.decode())
    assert found, "the preview has no confirmation"
    return found.group(1)


def test_teachers_may_not_open_the_page_and_visitors_sign_in(client, lukio_staff):
    assert client.get(URL).status_code == 302
    assert client_for(lukio_staff).get(URL).status_code == 403


def test_the_front_page_leads_facility_managers_to_the_import(fm_of_lukio, lukio_staff):
    assert f'href="{URL}"' in client_for(fm_of_lukio).get("/").content.decode()
    assert f'href="{URL}"' not in client_for(lukio_staff).get("/").content.decode()


def test_the_page_offers_only_the_rooms_the_manager_keeps(joint_campus, fm_of_lukio):
    page = client_for(fm_of_lukio).get(URL)

    assert page.status_code == 200
    html = page.content.decode()
    assert "<h1>Import a timetable</h1>" in html
    assert 'enctype="multipart/form-data"' in html
    assert "A101 Classroom 101" in html
    assert "A201 Chemistry lab" in html
    assert "A001 Auditorium" not in html  # the campus's shared room


def test_checking_a_file_shows_each_event_and_books_nothing(joint_campus, fm_of_lukio, week):
    preview = check(client_for(fm_of_lukio), timetable(week), joint_campus.classroom)

    assert preview.status_code == 200
    html = preview.content.decode()
    assert "Check: this file can be imported" in html
    assert "4 dates would be booked." in html
    assert "Maths 2B" in html
    assert "Place in the file: Room 101" in html
    assert "Weekly series: 3 dates" in html
    assert "Would be booked" in html
    assert "Import: book 4 dates" in html
    assert Booking.objects.count() == 0


def test_confirming_books_the_checked_file_and_says_so(joint_campus, fm_of_lukio, week):
    client = client_for(fm_of_lukio)
    token = token_of(check(client, timetable(week), joint_campus.classroom))

    done = client.post(URL, {"confirm-token": token}, follow=True)

    assert done.redirect_chain == [(reverse("bookings:mine"), 302)]
    assert "Imported timetable.ics: 4 dates booked in A101 Classroom 101." in done.content.decode()
    assert Booking.objects.filter(booked_by=fm_of_lukio, room=joint_campus.classroom).count() == 4
    assert BookingSeries.objects.count() == 1


def test_a_file_with_a_clash_shows_it_and_offers_no_confirmation(joint_campus, fm_of_lukio, lukio_staff, week):
    book(lukio_staff, joint_campus.classroom, at(week, 17), at(week, 18), title="Exam")

    preview = check(client_for(fm_of_lukio), timetable(week), joint_campus.classroom)

    html = preview.content.decode()
    assert preview.status_code == 200
    assert "This file cannot be imported like this" in html
    assert "Cannot be booked" in html
    assert "The room is already booked at that time." in html
    assert "Exam" in html
    assert 'name="confirm-token"' not in html


def test_a_slot_taken_after_the_check_refuses_the_confirmation_and_books_nothing(
    joint_campus, fm_of_lukio, lukio_staff, week
):
    client = client_for(fm_of_lukio)
    token = token_of(check(client, timetable(week), joint_campus.classroom))
    book(lukio_staff, joint_campus.classroom, at(week + WEEK, 10), at(week + WEEK, 11), title="Exam")

    refused = client.post(URL, {"confirm-token": token})

    assert refused.status_code == 409
    html = refused.content.decode()
    assert "Nothing was imported" in html
    assert "1 event of the file cannot be booked; nothing was imported." in html
    assert list(Booking.objects.values_list("title", flat=True)) == ["Exam"]


def test_a_confirmation_cannot_be_forged_or_used_by_someone_else(joint_campus, fm_of_lukio, campus_fm, week):
    token = token_of(check(client_for(fm_of_lukio), timetable(week), joint_campus.classroom))

    forged = client_for(fm_of_lukio).post(URL, {"confirm-token": token[:-3] + "abc"})
    someone_else = client_for(campus_fm).post(URL, {"confirm-token": token})

    for response in (forged, someone_else):
        assert response.status_code == 422
        assert "could not be read back: check the file again" in response.content.decode()
    assert Booking.objects.count() == 0


def test_the_confirmation_books_the_checked_file_for_its_room_only(joint_campus, fm_of_lukio, week):
    token = ImportToken(
        content=timetable(week),
        file_name="t.ics",
        room_id=joint_campus.shared_auditorium.pk,  # signed, but a room this manager does not keep
        institution_id=None,
        override_reason="",
    ).sign(fm_of_lukio)

    response = client_for(fm_of_lukio).post(URL, {"confirm-token": token})

    assert response.status_code == 403
    assert Booking.objects.count() == 0


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"not a calendar at all", "The file is not an iCalendar (.ics) file"),
        ("BEGIN:VCALENDAR\r\nX-A:Äö\r\nEND:VCALENDAR\r\n".encode("latin-1"), "The file is not UTF-8 text"),
        (b"x" * (MAX_FILE_BYTES + 1), "The file is larger than 2 MB"),
    ],
)
def test_a_file_that_cannot_be_read_is_a_form_error(joint_campus, fm_of_lukio, content, message):
    response = check(client_for(fm_of_lukio), content, joint_campus.classroom)

    assert response.status_code == 422
    html = response.content.decode()
    assert "Please check the following" in html
    assert message in html
    assert Booking.objects.count() == 0


def test_a_room_the_manager_does_not_keep_is_refused(joint_campus, fm_of_lukio, week):
    response = check(client_for(fm_of_lukio), timetable(week), joint_campus.shared_auditorium)

    assert response.status_code == 422
    assert "Select a valid choice" in response.content.decode()


def test_a_file_near_the_size_limit_can_still_be_confirmed(joint_campus, fm_of_lukio, week):
    """The confirmation carries the file signed and compressed: it must fit in a form post even then."""
    noise = base64.b64encode(random.Random(10).randbytes(MAX_FILE_BYTES * 7 // 10)).decode()
    folded = "\r\n ".join(noise[i : i + 70] for i in range(0, len(noise), 70))
    content = calendar(vevent("Lesson", at(week, 10), at(week, 11), f"X-NOISE:{folded}"))
    assert MAX_FILE_BYTES * 0.9 < len(content) <= MAX_FILE_BYTES
    client = client_for(fm_of_lukio)

    token = token_of(check(client, content, joint_campus.classroom))
    done = client.post(URL, {"confirm-token": token})

    assert len(token) < settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    assert done.status_code == 302
    assert Booking.objects.get().title == "Lesson"
