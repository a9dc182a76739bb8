"""Hostile text in every field people can write comes out inert: in pages, calendar feeds, API JSON and CSV.

Every text field someone can fill (booking title and description, the on-behalf person, room,
building and institution names, people's names, closure reasons, sensor vendor and model, token,
door display and term names, an imported calendar's event summaries) holds markup that would run
if it reached a page unescaped, a spreadsheet formula, and line breaks that would add properties
to a calendar event. Each page is parsed (html.parser): no script with the payload, no event
handler attribute, no javascript: address. Each feed is unfolded and read line by line: no
injected property. Each CSV cell is read: none starts as a formula. Oversized bodies and
SQL-looking filter values are refused or answered harmlessly, never with a 500.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import re
import unicodedata
from html.parser import HTMLParser
from urllib.parse import quote, urlsplit

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from icalendar import Calendar

from api.tokens import token_create
from bookings import feeds
from bookings.models import Booking, BookingStatus, FeedKind
from bookings.services import closure_create
from campus.models import Building, Institution, Room, TermKind, TermPeriod, User
from sensors.models import Sensor, SensorKind, SensorStatus
from tests.bookings.conftest import at, book, today
from tests.web.conftest import client_for
from utilisation.door_displays import door_display_create

API = "/api/v1"
# Markup that runs when a page shows it unescaped: a script, an event handler breaking out of an attribute,
# a javascript: link.
MARKUP = '<script>alert(1)</script>"><img src=x onerror=alert(1)><a href="javascript:alert(1)">{tag}</a>'
SHORT_MARKUP = '<script>alert(1)</script>"><img src=x onerror=alert(1)>'
# What a spreadsheet runs as a formula when a cell starts with it (OWASP's list).
FORMULAS = ['=HYPERLINK("http://e.example","{tag}")', "+cmd|' /C calc'!A0", "-1+1", "@SUM(1+1)", "\t=1+1", "\r=1+1"]
# … and what some spreadsheets run too: a formula after spaces, and full-width signs.
FORMULAS += ["  =1+1", "\uff1dSUM(1+1)"]
# Line breaks that would add a property to a calendar event if written raw.
ICAL_BREAK = "\r\nATTENDEE:mailto:evil@example.org\r\nX-INJECTED:{tag}"


def hostile(tag: str, formula: int = 0, *, short: bool = False) -> str:
    """Return a value for the field ``tag``: a formula start, then markup (``short``: fits 100 characters)."""
    start = FORMULAS[formula % len(FORMULAS)].format(tag=tag)
    return (start[:40] + SHORT_MARKUP) if short else start + MARKUP.format(tag=tag)


class _Page(HTMLParser):
    """Collect what would run in a page: script bodies, event-handler attributes, javascript: addresses."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.scripts: list[str] = []
        self.handlers: list[tuple[str, str]] = []
        self.javascript_urls: list[str] = []
        self.images: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._in_script = tag == "script"
        if tag == "script":
            self.scripts.append("")
        if tag == "img":
            self.images.append(dict(attrs).get("src") or "")
        for name, value in attrs:
            if name.lower().startswith("on"):
                self.handlers.append((tag, name))
            address = (value or "").strip().lower().replace("\t", "").replace("\n", "")
            if name.lower() in {"href", "src", "action", "formaction", "xlink:href"} and address.startswith(
                "javascript:"
            ):
                self.javascript_urls.append(value)

    def handle_endtag(self, tag: str) -> None:
        if tag == "script":
            self._in_script = False

    def handle_data(self, data: str) -> None:
        if self._in_script:
            self.scripts[-1] += data


def assert_inert_html(body: bytes, where: str) -> None:
    page = _Page()
    page.feed(body.decode())
    assert not [script for script in page.scripts if "alert" in script], where
    assert not page.handlers, (where, page.handlers)
    assert not page.javascript_urls, (where, page.javascript_urls)
    assert "x" not in page.images, where


def ical_lines(body: bytes) -> list[str]:
    """Return the content lines of a calendar, unfolded (RFC 5545 3.1)."""
    return body.decode().replace("\r\n ", "").replace("\r\n\t", "").split("\r\n")


def assert_no_injected_property(body: bytes, where: str) -> None:
    for line in ical_lines(body):
        name = line.split(":", 1)[0].split(";", 1)[0].upper()
        assert name not in {"ATTENDEE", "X-INJECTED"}, (where, line)
        # A bare CR or LF inside a line would end it for some parsers.
        assert "\r" not in line, (where, line)
        assert "\n" not in line, (where, line)
    for event in Calendar.from_ical(body).walk("VEVENT"):
        assert "ATTENDEE" not in event, where


def assert_no_formula_cells(text: str, where: str) -> None:
    for row in csv.reader(io.StringIO(text)):
        for cell in row:
            folded = unicodedata.normalize("NFKC", cell).lstrip(" \u00a0\u3000")
            assert not folded.startswith(("=", "+", "-", "@", "\t", "\r", "\n")) or _is_number(cell), (where, cell)


def _is_number(cell: str) -> bool:
    try:
        float(cell)
    except ValueError:
        return False
    return True


@pytest.fixture
def hostile_campus(joint_campus, lukio_staff, campus_fm, fm_of_lukio, day, always_open):
    """Every writable text of a small campus filled with hostile values; bookings, a closure, a request."""
    jc = joint_campus
    Building.objects.filter(pk=jc.classroom.building_id).update(name=hostile("building", 1))
    Institution.objects.filter(pk=jc.lukio.pk).update(name=hostile("institution", 0))
    for index, room in enumerate(Room.objects.order_by("pk")):
        Room.objects.filter(pk=room.pk).update(
            name=hostile(f"room{room.pk}", index), description=hostile("room description"), public_feed=True
        )
    # The last formulas (after spaces, full-width) in rooms every report CSV lists.
    Room.objects.filter(pk=jc.lab.pk).update(name=hostile("lab", len(FORMULAS) - 1))
    Room.objects.filter(pk=jc.shared_auditorium.pk).update(name=hostile("auditorium", len(FORMULAS) - 2))
    # Line breaks in a room's name would reach the feeds' calendar name and LOCATION.
    Room.objects.filter(pk=jc.classroom.pk).update(
        name=hostile("classroom", 0, short=True) + ICAL_BREAK.format(tag="room")
    )
    User.objects.filter(pk=lukio_staff.pk).update(first_name=hostile("first name", 2), last_name=hostile("last", 3))
    lukio_staff.refresh_from_db()
    for room in (jc.classroom, jc.lab):
        room.refresh_from_db()
    lesson = book(
        lukio_staff,
        jc.classroom,
        at(day, 10),
        at(day, 11),
        title=hostile("title", 4),
        description=hostile("description", 5),
        on_behalf_of_name=hostile("on behalf", 0),
        on_behalf_of_organisation=hostile("organisation", 1),
        visibility="public",
    ).first
    # A title with line breaks, as an import or an older client could have stored it.
    Booking.objects.filter(pk=lesson.pk).update(
        title=hostile("title") + ICAL_BREAK.format(tag="title"),
        description=hostile("description") + ICAL_BREAK.format(tag="description"),
    )
    request = book(lukio_staff, jc.shared_auditorium, at(day, 12), at(day, 13), title=hostile("request", 3)).first
    Booking.objects.filter(pk=request.pk).update(status=BookingStatus.PENDING)
    closure, _cancelled = closure_create(
        actor=campus_fm,
        room=jc.lab,
        building=None,
        start=at(day, 14),
        end=at(day, 15),
        reason=hostile("closure reason", 2),
    )
    Sensor.objects.create(
        external_id="a101-counter",
        kind=SensorKind.COUNT,
        room=jc.classroom,
        vendor=hostile("vendor", 1, short=True),
        model=hostile("model", 2, short=True),
    )
    token_create(user=lukio_staff, name=hostile("token", 3, short=True))
    TermPeriod.objects.create(
        institution=jc.lukio,
        kind=TermKind.TERM,
        name=hostile("term name", 4),
        start=today() - dt.timedelta(days=30),
        end=today() + dt.timedelta(days=60),
    )
    _display, door_secret = door_display_create(actor=campus_fm, room=jc.classroom, name=hostile("door", 5, short=True))
    lesson.refresh_from_db()
    return {"lesson": lesson, "request": request, "closure": closure, "door": door_secret, "day": day}


def _teacher_pages(world, jc) -> list[str]:
    lesson = world["lesson"].pk
    day = world["day"].isoformat()
    return [
        "/",
        f"/rooms/find/?date={day}&start=09:00&end=17:00",
        f"/rooms/{jc.classroom.pk}/",
        f"/rooms/{jc.classroom.pk}/?week={day}",
        f"/rooms/{jc.classroom.pk}/print/",
        f"/rooms/{jc.lab.pk}/",
        f"/bookings/{lesson}/",
        "/bookings/mine/",
        f"/bookings/{lesson}/edit/",
        f"/bookings/{lesson}/cancel/",
        f"/bookings/{lesson}/handover/",
        f"/bookings/new/?room={jc.classroom.pk}",
        "/calendar/subscribe/",
        "/profile/",
    ]


def _manager_pages(world, jc) -> list[str]:
    day = world["day"].isoformat()
    return [
        "/",
        "/manage/approvals/",
        "/manage/closures/",
        f"/manage/closures/{world['closure'].pk}/",
        f"/manage/front-desk/?date={day}",
        f"/manage/front-desk/print/?date={day}",
        "/manage/sensors/",
        "/manage/sensors/dead-letters/",
        "/manage/room-use/",
        f"/manage/room-use/?room={jc.classroom.pk}",
        "/manage/import/",
        f"/bookings/{world['request'].pk}/",
        f"/door/{world['door']}/",
    ]


def _admin_pages(world, jc, lukio_staff) -> list[str]:
    return [
        "/admin/bookings/booking/",
        f"/admin/bookings/booking/{world['lesson'].pk}/change/",
        "/admin/bookings/closure/",
        "/admin/campus/room/",
        f"/admin/campus/room/{jc.classroom.pk}/change/",
        "/admin/campus/building/",
        "/admin/campus/institution/",
        "/admin/campus/user/",
        f"/admin/campus/user/{lukio_staff.pk}/change/",
        "/admin/campus/termperiod/",
        "/admin/sensors/sensor/",
        "/admin/api/apitoken/",
        "/admin/utilisation/doordisplay/",
    ]


def test_every_page_shows_hostile_text_inert(hostile_campus, joint_campus, lukio_staff, campus_fm, superuser):
    checked = 0
    for user, pages in (
        (lukio_staff, _teacher_pages(hostile_campus, joint_campus)),
        (campus_fm, _manager_pages(hostile_campus, joint_campus)),
        (superuser, _admin_pages(hostile_campus, joint_campus, lukio_staff)),
    ):
        client = client_for(user)
        for page in pages:
            response = client.get(page)
            assert response.status_code == 200, (page, response.status_code)
            assert_inert_html(response.content, page)
            checked += 1
    assert checked == 40


def test_the_pages_show_the_hostile_text_as_text(hostile_campus, lukio_staff):
    """The escaping keeps the words: what was typed is what is shown."""
    body = client_for(lukio_staff).get(f"/bookings/{hostile_campus['lesson'].pk}/").content.decode()

    assert "&lt;script&gt;alert(1)&lt;/script&gt;&quot;&gt;&lt;img src=x onerror=alert(1)&gt;" in body
    assert "javascript:alert(1)" in body  # as text, not as a link


def test_an_imported_calendars_event_summaries_are_inert(joint_campus, fm_of_lukio, always_open, day):
    summary = hostile("summary").replace("\r", "").replace("\t", "").replace(",", "\\,").replace(";", "\\;")
    start = dt.datetime.combine(day, dt.time(8)).strftime("%Y%m%dT%H%M%S")
    end = dt.datetime.combine(day, dt.time(9)).strftime("%Y%m%dT%H%M%S")
    ics = (
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\nBEGIN:VEVENT\r\nUID:hostile-1\r\n"
        f"DTSTAMP:20260101T000000Z\r\nDTSTART;TZID=Europe/Helsinki:{start}\r\n"
        f"DTEND;TZID=Europe/Helsinki:{end}\r\nSUMMARY:{summary}\r\nDESCRIPTION:{summary}\r\n"
        "END:VEVENT\r\nEND:VCALENDAR\r\n"
    )
    client = client_for(fm_of_lukio)

    response = client.post(
        "/manage/import/",
        {
            "file": SimpleUploadedFile("hostile.ics", ics.encode(), content_type="text/calendar"),
            "room": joint_campus.classroom.pk,
            "institution": joint_campus.lukio.pk,
        },
    )

    assert response.status_code == 200, [line for line in response.content.decode().splitlines() if "error" in line]
    assert b"&lt;script&gt;" in response.content  # the event was read and shown
    assert_inert_html(response.content, "import preview")


def _feed_paths(world, jc, lukio_staff) -> list[str]:
    def path(kind: str, target) -> str:
        return feeds.feed_path(owner=lukio_staff, feed=feeds.Feed(kind=kind, target=target), language="en")

    return [
        path(FeedKind.PERSON, lukio_staff),
        path(FeedKind.ROOM, jc.classroom),
        path(FeedKind.ROOM, jc.lab),
        path(FeedKind.INSTITUTION, jc.lukio),
        path(FeedKind.BUILDING, jc.classroom.building),
        f"/calendar/rooms/{jc.classroom.pk}/public.ics",
    ]


def test_calendar_feeds_escape_text_and_let_no_line_break_add_a_property(hostile_campus, joint_campus, lukio_staff):
    anonymous = Client()
    for path in _feed_paths(hostile_campus, joint_campus, lukio_staff):
        response = anonymous.get(path)
        assert response.status_code == 200, path
        assert_no_injected_property(response.content, path)
        assert b"BEGIN:VEVENT" in response.content or f"/{joint_campus.lab.pk}/" in path, path
    single = client_for(lukio_staff).get(f"/bookings/{hostile_campus['lesson'].pk}/calendar.ics")
    assert_no_injected_property(single.content, "single booking")
    [event] = Calendar.from_ical(single.content).walk("VEVENT")
    # The title keeps its words, line breaks as text: RFC 5545 escapes them as \n inside the one property.
    assert "X-INJECTED:title" in str(event["SUMMARY"])
    assert (
        "\\n"
        in ical_lines(single.content)[[line.split(":", 1)[0] for line in ical_lines(single.content)].index("SUMMARY")]
    )


def test_the_api_answers_hostile_text_as_json_strings(hostile_campus, joint_campus, client_with_token, campus_fm):
    api = client_with_token(campus_fm)
    for path in ("/bookings", "/rooms", f"/rooms/{joint_campus.classroom.pk}", "/terms", "/sensors", "/approvals"):
        response = api.get(f"{API}{path}")
        assert response.status_code == 200, path
        assert response["Content-Type"].startswith("application/json"), path
        assert response["X-Content-Type-Options"] == "nosniff", path
        json.loads(response.content)  # one JSON document, the markup inside strings
    lesson = api.get(f"{API}/bookings/{hostile_campus['lesson'].pk}").json()
    assert lesson["title"] == Booking.objects.get(pk=hostile_campus["lesson"].pk).title


def test_the_report_csv_has_no_formula_cell(hostile_campus, joint_campus, client_with_token, campus_fm):
    api = client_with_token(campus_fm)
    day = hostile_campus["day"]
    query = {"from": (day - dt.timedelta(days=7)).isoformat(), "to": day.isoformat(), "format": "csv"}

    texts = []
    for extra in (
        {"campus": joint_campus.campus.pk},
        {"institution": joint_campus.lukio.pk},
        {"building": joint_campus.classroom.building_id},
    ):
        response = api.get(f"{API}/reports/utilisation", {**query, **extra})
        assert response.status_code == 200, (extra, response.content[:300])
        text = response.content.decode()
        assert "HYPERLINK" in text  # the hostile names are in it, as text
        assert_no_formula_cells(text, str(extra))
        texts.append(text)
    # A formula after spaces and a full-width one, guarded.
    assert "'  =1+1" in "".join(texts)
    assert "'\uff1dSUM" in "".join(texts)


# --- oversized bodies ------------------------------------------------------------------------------

THREE_MB = 3 * 1024 * 1024


def test_an_oversized_api_body_is_answered_413_in_json_naming_the_limit(client_with_token, lukio_staff):
    body = json.dumps({"title": "x" * THREE_MB})

    response = client_with_token(lukio_staff).post(f"{API}/bookings", body, content_type="application/json")

    assert response.status_code == 413
    assert response.json()["code"] == "too_large"
    assert re.search(r"2[.,]5 M", response.json()["detail"])


def test_an_oversized_form_is_answered_413_with_a_page_naming_the_limit(lukio_staff):
    response = client_for(lukio_staff).post("/bookings/new/", {"title": "x" * THREE_MB})

    assert response.status_code == 413
    assert response["Content-Type"].startswith("text/html")
    assert re.search(r"2[.,]5 M", response.content.decode())


def test_an_oversized_calendar_upload_is_refused_saying_so(joint_campus, fm_of_lukio, client_with_token):
    big = b"BEGIN:VCALENDAR\r\n" + b"X-FILL:" + b"x" * THREE_MB + b"\r\nEND:VCALENDAR\r\n"
    page = client_for(fm_of_lukio).post(
        "/manage/import/",
        {
            "file": SimpleUploadedFile("big.ics", big, content_type="text/calendar"),
            "room": joint_campus.classroom.pk,
            "institution": joint_campus.lukio.pk,
        },
    )
    api = client_with_token(fm_of_lukio)
    query = f"?room={joint_campus.classroom.pk}&institution={joint_campus.lukio.pk}"
    as_body = api.post(f"{API}/imports/ical{query}", big, content_type="text/calendar")
    as_file = api.post(
        f"{API}/imports/ical{query}", {"file": SimpleUploadedFile("big.ics", big, content_type="text/calendar")}
    )

    # The limit is named in the request's language (2 MB, 2 Mt).
    assert page.status_code == 422
    assert re.search(r"\b2 M", page.content.decode())
    for response in (as_body, as_file):
        assert response.status_code in (400, 413, 422), response.content[:300]
        assert re.search(r"\b2 M", response.json()["detail"])


# --- SQL-looking filters -----------------------------------------------------------------------------

SQL_VALUES = ["' OR 1=1 --", "1; DROP TABLE bookings_booking", "1 UNION SELECT password FROM campus_user"]


def _get_operations() -> dict[str, tuple[list[str], list[str]]]:
    """Every GET operation of the API: its path, its query parameters and its path parameters (OpenAPI)."""
    from api.api import api

    found: dict[str, tuple[list[str], list[str]]] = {}
    for path, operations in api.get_openapi_schema()["paths"].items():
        get = operations.get("get")
        if get is not None:
            parameters = get.get("parameters", [])
            found[path.removeprefix("/api/v1")] = (
                [p["name"] for p in parameters if p["in"] == "query"],
                [p["name"] for p in parameters if p["in"] == "path"],
            )
    return found


@pytest.mark.parametrize("value", SQL_VALUES)
def test_sql_looking_filter_values_are_harmless(
    hostile_campus, joint_campus, client_with_token, campus_fm, lukio_staff, value
):
    api = client_with_token(campus_fm)
    ids = {
        "room_id": joint_campus.classroom.pk,
        "booking_id": hostile_campus["lesson"].pk,
        "closure_id": hostile_campus["closure"].pk,
        "sensor_id": Sensor.objects.get().pk,
        "job_id": "00000000-0000-0000-0000-000000000000",
    }
    bookings_before = Booking.objects.count()
    checked = 0
    for path, (query_parameters, path_parameters) in _get_operations().items():
        real_path, hostile_path = path, path
        for name in path_parameters:
            real_path = real_path.replace(f"{{{name}}}", str(ids[name]))
            hostile_path = hostile_path.replace(f"{{{name}}}", quote(value, safe=""))
        if path_parameters:
            response = api.get(f"{API}{hostile_path}")
            assert response.status_code in (404, 422), (hostile_path, response.status_code)
        for parameter in query_parameters:
            response = api.get(f"{API}{real_path}", {parameter: value})
            checked += 1
            assert response.status_code in (200, 202, 404, 422), (real_path, parameter, response.status_code)
            if parameter == "external_id" and response.status_code == 200:
                assert response.json()["items"] == []
    assert checked > 60
    assert Booking.objects.count() == bookings_before
    assert User.objects.filter(pk=lukio_staff.pk).exists()


@pytest.mark.parametrize("value", SQL_VALUES)
def test_sql_looking_page_filters_are_harmless(hostile_campus, joint_campus, campus_fm, value):
    client = client_for(campus_fm)
    pages = {
        "/rooms/find/": ["date", "start", "end", "capacity", "building", "kind", "equipment", "q"],
        f"/rooms/{joint_campus.classroom.pk}/": ["week"],
        "/manage/front-desk/": ["date", "building"],
        "/manage/room-use/": ["room", "building", "institution", "period", "from", "to", "season", "campus"],
        "/manage/sensors/": ["status", "room", "page"],
        "/manage/sensors/dead-letters/": ["reason", "page"],
        "/bookings/mine/": ["status", "page", "show"],
        "/manage/closures/": ["page"],
        "/manage/approvals/": ["page"],
    }
    for page, parameters in pages.items():
        for parameter in parameters:
            response = client.get(page, {parameter: value})
            assert response.status_code in (200, 400, 404), (page, parameter, response.status_code)
            if response.status_code == 200:
                assert_inert_html(response.content, f"{page}?{parameter}")


def test_feed_and_door_addresses_with_sql_in_them_are_not_found(hostile_campus, joint_campus):
    anonymous = Client()
    for path in (f"/calendar/feeds/room/{joint_campus.classroom.pk}/x' OR '1'='1.ics", "/door/x' OR '1'='1/"):
        response = anonymous.get(path)
        assert response.status_code == 404, (path, response.status_code)
    # A language the feed does not know is ignored: the public feed is served as always.
    public = anonymous.get(
        urlsplit(f"/calendar/rooms/{joint_campus.classroom.pk}/public.ics?lang=' OR 1=1 --").geturl()
    )
    assert public.status_code == 200
    assert b"BEGIN:VCALENDAR" in public.content


# --- e-mails (plain text) ------------------------------------------------------------------------------


def test_a_booking_e_mail_shows_hostile_text_as_typed(joint_campus, lukio_staff, fm_of_lukio, day, mailoutbox):
    """Plain-text mails are not HTML: the subject and body carry the title as typed, never HTML-escaped."""
    from bookings import tasks
    from bookings.models import Notification, NotificationKind
    from bookings.notifications import notify

    title = 'Tom & Jerry\'s <b>lesson</b> "A"'
    lesson = book(lukio_staff, joint_campus.classroom, at(day, 10), at(day, 11), title=title).first
    [notification] = notify(kind=NotificationKind.CANCELLED, booking=lesson, recipients=[lukio_staff])

    assert tasks.send_notification(notification.pk)

    [mail] = mailoutbox
    assert title in mail.subject
    assert title in mail.body
    assert "&amp;" not in mail.subject + mail.body
    assert Notification.objects.get(pk=notification.pk).subject == mail.subject


def test_a_sensor_e_mail_shows_hostile_text_as_typed(joint_campus, fm_of_lukio, mailoutbox):
    from sensors.health import offline_notice_send, sensors_mark_offline

    Room.objects.filter(pk=joint_campus.classroom.pk).update(name="Lab & <Co>")
    Sensor.objects.create(external_id="a101-counter", kind=SensorKind.COUNT, room=joint_campus.classroom)
    Sensor.objects.update(last_seen=dt.datetime(2026, 1, 1, tzinfo=dt.UTC), status=SensorStatus.ONLINE)

    result = sensors_mark_offline()
    for notice in result.notices:
        offline_notice_send(notice)

    [mail] = [m for m in mailoutbox if m.to == [fm_of_lukio.email]]
    assert "Lab & <Co>" in mail.subject
    assert "&amp;" not in mail.subject + mail.body


def test_an_oversized_members_csv_is_refused_saying_so(lukio_admin, joint_campus):
    header = "username,email,role\n"
    big = header + "x.user,x@example.org,staff\n" * (THREE_MB // 26)
    client = client_for(lukio_admin)

    response = client.post(
        "/admin/campus/membership/import/",
        {"institution": joint_campus.lukio.pk, "file": SimpleUploadedFile("members.csv", big.encode())},
    )

    assert response.status_code == 200
    assert "The file is larger than 2 MB" in response.content.decode()
    assert not User.objects.filter(username="x.user").exists()
