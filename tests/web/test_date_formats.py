"""Dates in each language's own format: English pages day-month (not Django's US month-first), fi and sv their own."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import formats, translation

from tests.bookings.conftest import at, book, today
from tests.web.conftest import client_for

DAY = dt.date(2026, 12, 4)


@pytest.mark.parametrize(
    ("language", "date_format", "short_date", "short_datetime"),
    [
        ("en", "4 Dec 2026", "04/12/2026", "04/12/2026 2:30 p.m."),
        ("fi", "4. joulukuuta 2026", "4.12.2026", "4.12.2026 14.30"),
        ("sv", "4 december 2026", "2026-12-04", "2026-12-04 14:30"),
    ],
)
def test_each_language_writes_the_day_before_the_month(language, date_format, short_date, short_datetime):
    moment = dt.datetime.combine(DAY, dt.time(14, 30))
    with translation.override(language):
        assert formats.date_format(DAY, "DATE_FORMAT") == date_format
        assert formats.date_format(DAY, "SHORT_DATE_FORMAT") == short_date
        assert formats.date_format(moment, "SHORT_DATETIME_FORMAT") == short_datetime


def test_english_weeks_start_on_monday():
    with translation.override("en"):
        assert formats.get_format("FIRST_DAY_OF_WEEK") == 1


def test_an_english_page_shows_the_day_before_the_month(joint_campus, always_open, lukio_staff):
    day = today() + dt.timedelta(days=3)
    booking = book(lukio_staff, joint_campus.classroom, at(day, 10), at(day, 11), title="Maths").first
    client = client_for(lukio_staff)

    html = client.get(reverse("bookings:detail", args=[booking.pk])).content.decode()

    month = day.strftime("%b")
    assert f"{day.day} {month} {day.year}" in html
    assert f"{month}. {day.day}, {day.year}" not in html
    assert f"{month} {day.day}, {day.year}" not in html
