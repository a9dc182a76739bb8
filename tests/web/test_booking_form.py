"""The booking form (Check and Book), its live preview, the repeat rule it builds, and a booking's page."""

from __future__ import annotations

import datetime as dt
import zoneinfo

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import formats, translation

from bookings import recurrence
from bookings.forms import RepeatChoice, repeat_choice_from_rrule, repeat_rule, repeat_summary
from bookings.models import (
    Booking,
    BookingEvent,
    BookingPolicy,
    BookingSeries,
    BookingStatus,
    Notification,
    Visibility,
)
from campus.models import Holiday
from tests.bookings.conftest import TUESDAY, at, book
from tests.web.conftest import client_for

HELSINKI = zoneinfo.ZoneInfo("Europe/Helsinki")


def form_data(room, day: dt.date, start: str = "10:00", end: str = "11:00", **fields) -> dict:
    """Return what the booking form posts for a one-off booking, with ``fields`` on top."""
    return {
        "title": "Maths 2B",
        "room": str(room.pk),
        "date": day.isoformat(),
        "start_time": start,
        "end_time": end,
        "repeat": "none",
        "interval": "1",
        "monthly_by": "date",
        "ends": "until",
        "purpose": "teaching",
        "visibility": "institution",
        "action": "book",
        **fields,
    }


def post(client: Client, data: dict, name: str = "bookings:new"):
    return client.post(reverse(name), data)


def clock(hour: int, minute: int = 0) -> str:
    """Return a time of day as the pages write it in English."""
    return formats.time_format(dt.time(hour, minute))


# --- repeat_rule and repeat_summary -------------------------------------------------------------------


def test_a_weekly_rule_lists_the_weekdays_and_ends_on_the_local_until_date():
    choice = RepeatChoice("weekly", dt.date(2027, 3, 2), weekdays=(3, 1), until=dt.date(2027, 5, 20))
    assert repeat_rule(choice) == "FREQ=WEEKLY;BYDAY=TU,TH;UNTIL=20270520"


def test_a_monthly_rule_on_the_last_friday():
    choice = RepeatChoice("monthly", dt.date(2027, 1, 29), monthly_by="weekday", ordinal=-1, weekday=4, count=6)
    assert repeat_rule(choice) == "FREQ=MONTHLY;BYDAY=-1FR;COUNT=6"


def test_a_monthly_rule_by_date_uses_the_first_dates_day():
    choice = RepeatChoice("monthly", dt.date(2027, 1, 12), monthly_by="date", until=dt.date(2027, 6, 30))
    assert repeat_rule(choice) == "FREQ=MONTHLY;BYMONTHDAY=12;UNTIL=20270630"


def test_a_daily_rule_with_a_count():
    assert repeat_rule(RepeatChoice("daily", dt.date(2027, 3, 1), count=5)) == "FREQ=DAILY;COUNT=5"


def test_an_interval_above_one_is_written():
    choice = RepeatChoice("weekly", dt.date(2027, 3, 1), interval=2, weekdays=(0,), count=10)
    assert repeat_rule(choice) == "FREQ=WEEKLY;INTERVAL=2;BYDAY=MO;COUNT=10"


def test_no_repeat_has_no_rule_and_no_summary():
    choice = RepeatChoice("none", dt.date(2027, 3, 1))
    assert repeat_rule(choice) is None
    assert repeat_summary(choice) is None


def test_the_rule_is_one_the_recurrence_expander_accepts():
    choice = RepeatChoice("weekly", dt.date(2027, 3, 2), weekdays=(1, 3), until=dt.date(2027, 3, 11))
    start = dt.datetime(2027, 3, 2, 10, tzinfo=HELSINKI)
    occurrences = recurrence.expand(
        rule=repeat_rule(choice),
        start=start,
        end=start + dt.timedelta(hours=1),
        exdates=[],
        zone=HELSINKI,
        now=dt.datetime(2027, 1, 1, tzinfo=HELSINKI),
    )
    assert [o.start.date().day for o in occurrences] == [2, 4, 9, 11]


def test_the_summary_says_the_rule_in_words():
    choice = RepeatChoice(
        "weekly", dt.date(2027, 3, 2), weekdays=(1,), until=dt.date(2027, 5, 20), except_dates=(dt.date(2027, 3, 9),)
    )
    assert repeat_summary(choice) == "Every Tuesday until 20 May 2027, except 9 Mar 2027"


@pytest.mark.parametrize(
    ("choice", "expected"),
    [
        (RepeatChoice("daily", dt.date(2027, 3, 1), count=5), "Every day, 5 times"),
        (RepeatChoice("daily", dt.date(2027, 3, 1), interval=3, count=1), "Every 3 days, 1 time"),
        (
            RepeatChoice("weekly", dt.date(2027, 3, 1), interval=2, weekdays=(0, 2, 4), count=9),
            "Every 2 weeks on Monday, Wednesday and Friday, 9 times",
        ),
        (
            RepeatChoice("monthly", dt.date(2027, 1, 29), monthly_by="weekday", ordinal=-1, weekday=4, count=6),
            "Every month on the last Friday, 6 times",
        ),
        (RepeatChoice("monthly", dt.date(2027, 1, 12), count=3), "Every month on day 12, 3 times"),
        (RepeatChoice("weekly", dt.date(2027, 3, 2), count=2), "Every Tuesday, 2 times"),
    ],
)
def test_summaries_of_each_kind(choice, expected):
    assert repeat_summary(choice) == expected


def test_the_summary_uses_the_languages_month_names():
    choice = RepeatChoice("weekly", dt.date(2027, 3, 2), until=dt.date(2027, 5, 20))
    with translation.override("fi"):
        assert "20. toukokuuta 2027" in repeat_summary(choice)
    with translation.override("sv"):
        assert "20 maj 2027" in repeat_summary(choice)


def test_a_stored_series_rule_reads_back_as_the_same_summary():
    choice = RepeatChoice(
        "weekly", dt.date(2027, 3, 2), weekdays=(1, 3), until=dt.date(2027, 5, 20), except_dates=(dt.date(2027, 3, 9),)
    )
    stored = recurrence.normalise_rrule(repeat_rule(choice), zone=HELSINKI)
    back = repeat_choice_from_rrule(stored, first_date=dt.date(2027, 3, 2), zone=HELSINKI, except_dates=["2027-03-09"])
    assert repeat_summary(back) == repeat_summary(choice)
    assert repeat_choice_from_rrule("FREQ=YEARLY;COUNT=2", first_date=dt.date(2027, 3, 2), zone=HELSINKI) is None


# --- the form page ---------------------------------------------------------------------------------


def test_anonymous_visitors_are_sent_to_sign_in(client, joint_campus):
    for response in (client.get(reverse("bookings:new")), client.post(reverse("bookings:preview"))):
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("login"))


def test_the_form_is_prefilled_from_the_link(joint_campus, lukio_staff, tuesday):
    response = client_for(lukio_staff).get(
        reverse("bookings:new"),
        {"room": joint_campus.lab.pk, "start": f"{tuesday.isoformat()}T13:15", "end": f"{tuesday.isoformat()}T14:45"},
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert f'<option value="{joint_campus.lab.pk}" selected>' in html
    assert f'value="{tuesday.isoformat()}"' in html
    assert 'value="13:15"' in html
    assert 'value="14:45"' in html
    assert '<optgroup label="A Main building">' in html
    assert 'value="check"' in html
    assert 'value="book"' in html
    assert "kampus/booking-form.js" in html


def test_a_one_off_booking_is_confirmed_and_shown(joint_campus, lukio_staff, tuesday):
    client = client_for(lukio_staff)
    response = post(client, form_data(joint_campus.classroom, tuesday, attendees="24"))
    booking = Booking.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("bookings:detail", args=[booking.pk])
    assert (booking.title, booking.attendees, booking.institution) == ("Maths 2B", 24, joint_campus.lukio)
    assert (booking.start, booking.end) == (at(tuesday, 10), at(tuesday, 11))
    page = client.get(response["Location"]).content.decode()
    assert "Booking confirmed." in page
    assert '<span class="badge status-confirmed">Confirmed</span>' in page


def test_a_request_says_it_waits_for_approval(
    joint_campus, requests_for_classroom, vocational_staff, fm_of_lukio, tuesday
):
    client = client_for(vocational_staff)
    response = post(client, form_data(joint_campus.classroom, tuesday))
    assert Booking.objects.get().status == BookingStatus.PENDING
    page = client.get(response["Location"]).content.decode()
    assert "Request sent, waiting for approval" in page
    assert "Pending approval" in page


def test_a_clash_shows_the_clashing_time_and_title(joint_campus, lukio_staff, fm_of_lukio, tuesday):
    book(fm_of_lukio, joint_campus.classroom, at(tuesday, 9, 30), at(tuesday, 10, 30), title="Physics exam")
    response = post(client_for(lukio_staff), form_data(joint_campus.classroom, tuesday))
    html = response.content.decode()
    assert response.status_code == 200
    assert "The room is already booked at that time." in html
    assert f"{clock(9, 30)}–{clock(10, 30)}: Physics exam (A101 Classroom 101)" in html
    assert 'href="#booking-preview"' in html
    assert Booking.objects.count() == 1


def test_a_clash_with_a_hidden_booking_shows_reserved(joint_campus, lukio_staff, vocational_staff, tuesday):
    book(lukio_staff, joint_campus.classroom, at(tuesday, 10), at(tuesday, 11), title="Secret exam")
    html = post(client_for(vocational_staff), form_data(joint_campus.classroom, tuesday)).content.decode()
    assert "Secret exam" not in html
    assert f"{clock(10)}–{clock(11)}: Reserved (A101 Classroom 101)" in html


def test_a_broken_rule_shows_the_allowed_value_on_its_field(joint_campus, lukio_staff, tuesday):
    html = post(client_for(lukio_staff), form_data(joint_campus.classroom, tuesday, attendees="45")).content.decode()
    assert "Allowed: at most 30 people." in html
    assert 'href="#id_attendees"' in html
    assert 'aria-describedby="id_attendees_error"' in html
    assert Booking.objects.count() == 0


def test_too_long_a_booking_names_the_longest_allowed(joint_campus, lukio_staff, tuesday):
    BookingPolicy.objects.create(room=joint_campus.classroom, max_duration_minutes=60)
    html = post(client_for(lukio_staff), form_data(joint_campus.classroom, tuesday, end="12:00")).content.decode()
    assert "Allowed: at most 1 hour." in html
    assert 'href="#id_end_time"' in html
    assert "You may override" not in html
    assert 'id="id_override_reason"' not in html


def test_outside_opening_hours_names_the_hours(joint_campus, lukio_staff, tuesday):
    html = post(
        client_for(lukio_staff), form_data(joint_campus.classroom, tuesday, start="20:00", end="22:00")
    ).content.decode()
    assert f"Allowed: between {clock(7)} and {clock(21)}." in html


def test_a_facility_manager_overrides_a_rule_with_a_reason(joint_campus, fm_of_lukio, tuesday):
    BookingPolicy.objects.create(room=joint_campus.classroom, max_duration_minutes=60)
    client = client_for(fm_of_lukio)
    refused = post(client, form_data(joint_campus.classroom, tuesday, end="12:00")).content.decode()
    assert "You may override this rule" in refused
    assert "Give a reason to override the rule." in refused
    response = post(client, form_data(joint_campus.classroom, tuesday, end="12:00", override_reason="Exam day"))
    assert response.status_code == 302
    assert Booking.objects.get().end == at(tuesday, 12)


def test_a_weekly_series_with_an_excepted_date_books_the_rest(joint_campus, lukio_staff, tuesday):
    last = tuesday + dt.timedelta(weeks=3)
    skipped = tuesday + dt.timedelta(weeks=1)
    client = client_for(lukio_staff)
    data = form_data(
        joint_campus.classroom,
        tuesday,
        repeat="weekly",
        weekdays=[str(TUESDAY)],
        until=last.isoformat(),
        except_dates=[skipped.isoformat(), ""],
    )
    response = post(client, data)
    assert response.status_code == 302
    starts = list(Booking.objects.order_by("start").values_list("start", flat=True))
    assert starts == [at(tuesday + dt.timedelta(weeks=week), 10) for week in (0, 2, 3)]
    series = BookingSeries.objects.get()
    page = client.get(response["Location"]).content.decode()
    assert "Booking confirmed for 3 dates." in page
    assert "Repeating booking" in page
    assert "3 dates in the series" in page
    with translation.override("en"):
        assert f"until {formats.date_format(last, 'DATE_FORMAT')}" in page
        assert f"except {formats.date_format(skipped, 'DATE_FORMAT')}" in page
    assert series.rrule.startswith("FREQ=WEEKLY;BYDAY=TU;UNTIL=")


def test_a_first_date_off_the_chosen_weekdays_is_explained(joint_campus, lukio_staff, tuesday):
    data = form_data(
        joint_campus.classroom,
        tuesday,
        repeat="weekly",
        weekdays=["3"],
        until=(tuesday + dt.timedelta(weeks=2)).isoformat(),
    )
    html = post(client_for(lukio_staff), data).content.decode()
    assert "the first date must be one of the chosen weekdays (Thursday)" in html
    assert 'href="#id_date"' in html


def test_a_repeat_needs_an_end(joint_campus, lukio_staff, tuesday):
    html = post(client_for(lukio_staff), form_data(joint_campus.classroom, tuesday, repeat="daily")).content.decode()
    assert "Give the last date of the series." in html
    assert 'href="#id_until"' in html


def series_over_a_holiday(joint_campus, tuesday: dt.date) -> dict:
    """Return the form of three weekly lessons from ``tuesday``; the second falls on a holiday."""
    Holiday.objects.create(campus=joint_campus.campus, date=tuesday + dt.timedelta(weeks=1), name="Sports day")
    return form_data(joint_campus.classroom, tuesday, repeat="weekly", ends="count", count="3")


def test_check_writes_nothing_and_lists_what_would_be_booked_and_skipped(
    joint_campus, vocational_staff, fm_of_lukio, requests_for_classroom, tuesday
):
    client = client_for(vocational_staff)
    data = series_over_a_holiday(joint_campus, tuesday)
    response = post(client, {**data, "action": "check"})
    html = response.content.decode()
    assert response.status_code == 200
    assert (Booking.objects.count(), BookingSeries.objects.count(), BookingEvent.objects.count()) == (0, 0, 0)
    assert Notification.objects.count() == 0
    assert "This would be a request: a facility manager must approve it." in html
    assert "2 dates would be booked." in html
    assert "1 date would be skipped." in html
    assert "holiday: Sports day" in html
    assert "Every Tuesday, 3 times" in html
    # Booking the same form for real does write, and notifies the room's facility manager.
    post(client, data)
    assert Booking.objects.count() == 2
    assert Notification.objects.filter(recipient=fm_of_lukio).count() == 1


def test_check_shows_the_problem_without_booking(joint_campus, lukio_staff, fm_of_lukio, tuesday):
    book(fm_of_lukio, joint_campus.classroom, at(tuesday, 10), at(tuesday, 11), title="Physics exam")
    html = post(client_for(lukio_staff), form_data(joint_campus.classroom, tuesday, action="check")).content.decode()
    assert "It cannot be booked like this" in html
    assert "Physics exam" in html
    assert Booking.objects.count() == 1


def test_the_live_preview_returns_a_fragment_and_writes_nothing(
    joint_campus, vocational_staff, fm_of_lukio, requests_for_classroom, tuesday
):
    data = series_over_a_holiday(joint_campus, tuesday)
    data.pop("action")
    data["title"] = ""  # not needed to see whether it can be booked
    response = post(client_for(vocational_staff), data, name="bookings:preview")
    html = response.content.decode()
    assert response.status_code == 200
    assert "<html" not in html
    assert "2 dates would be booked." in html
    assert "holiday: Sports day" in html
    assert "data-summary>Every Tuesday, 3 times<" in html
    assert (Booking.objects.count(), Notification.objects.count()) == (0, 0)


def test_the_live_preview_asks_for_the_basics_first(joint_campus, lukio_staff):
    response = post(client_for(lukio_staff), {"title": "x"}, name="bookings:preview")
    assert "Fill in the room, the date and the times" in response.content.decode()
    assert client_for(lukio_staff).get(reverse("bookings:preview")).status_code == 405


def test_errors_are_summarised_and_linked_to_their_fields(joint_campus, lukio_staff, tuesday):
    html = post(client_for(lukio_staff), form_data(joint_campus.classroom, tuesday, title="")).content.decode()
    assert 'class="error-summary"' in html
    assert 'role="alert"' in html
    assert '<a href="#id_title">What is it for? – This field is required.</a>' in html
    assert 'id="id_title_error"' in html
    assert 'aria-describedby="id_title_helptext id_title_error"' in html
    assert 'aria-invalid="true"' in html


def test_staff_book_only_for_their_institution(joint_campus, lukio_staff):
    html = client_for(lukio_staff).get(reverse("bookings:new")).content.decode()
    assert f'<option value="{joint_campus.lukio.pk}" selected>Otava Upper Secondary</option>' in html
    assert "Otava Vocational College" not in html
    assert "The campus itself" not in html
    assert 'id="id_on_behalf_of_name"' not in html


def test_the_front_desk_books_for_any_institution_on_someones_behalf(joint_campus, front_desk, tuesday):
    client = client_for(front_desk)
    html = client.get(reverse("bookings:new")).content.decode()
    for name in ("Otava Upper Secondary", "Otava Vocational College", "Otava Adult Education Centre"):
        assert name in html
    assert "The campus itself (facility services)" in html
    assert 'id="id_on_behalf_of_name"' in html
    assert 'id="id_on_behalf_of_organisation"' in html
    response = post(
        client,
        form_data(
            joint_campus.shared_auditorium,
            tuesday,
            title="Choir rehearsal",
            institution=str(joint_campus.adult.pk),
            on_behalf_of_name="Kaisa Kuoro",
            on_behalf_of_contact="040 123 4567",
            on_behalf_of_organisation="Otava Choir",
        ),
    )
    assert response.status_code == 302
    booking = Booking.objects.get()
    assert booking.institution == joint_campus.adult
    assert (booking.on_behalf_of_name, booking.on_behalf_of_organisation) == ("Kaisa Kuoro", "Otava Choir")
    assert booking.booked_by == front_desk


def test_the_front_desk_books_for_the_campus_itself(joint_campus, front_desk, tuesday):
    data = form_data(joint_campus.shared_auditorium, tuesday, institution="campus")
    assert post(client_for(front_desk), data).status_code == 302
    assert Booking.objects.get().institution is None


def test_the_override_reason_is_only_for_facility_managers_of_the_room(
    joint_campus, lukio_staff, fm_of_lukio, campus_fm
):
    def page(user, room) -> str:
        return client_for(user).get(reverse("bookings:new"), {"room": room.pk}).content.decode()

    assert 'id="id_override_reason"' not in page(lukio_staff, joint_campus.classroom)
    own = page(fm_of_lukio, joint_campus.classroom)
    assert 'id="id_override_reason"' in own
    assert "data-override-field>" in own  # shown
    assert "data-override-field hidden>" in page(fm_of_lukio, joint_campus.shared_auditorium)
    assert "data-override-field>" in page(campus_fm, joint_campus.shared_auditorium)


def test_visibility_choices_explain_who_sees_the_title(joint_campus, lukio_staff):
    html = client_for(lukio_staff).get(reverse("bookings:new")).content.decode()
    assert "Everyone signed in on the campus sees the title." in html
    assert "also on the printed door sign" in html
    assert "Everyone else sees only that the room is “Reserved”." in html


def test_the_visibility_chosen_is_kept(joint_campus, lukio_staff, tuesday):
    post(client_for(lukio_staff), form_data(joint_campus.classroom, tuesday, visibility="public"))
    assert Booking.objects.get().visibility == Visibility.PUBLIC


# --- a booking's page ----------------------------------------------------------------------------------


def test_a_booking_page_needs_sign_in_and_a_missing_one_is_not_found(client, joint_campus, lukio_staff, tuesday):
    booking = book(lukio_staff, joint_campus.classroom, at(tuesday, 10), at(tuesday, 11)).first
    response = client.get(reverse("bookings:detail", args=[booking.pk]))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))
    assert client_for(lukio_staff).get(reverse("bookings:detail", args=[booking.pk + 1000])).status_code == 404


def test_a_booking_page_shows_details_to_those_who_see_the_title(joint_campus, lukio_staff, vocational_staff, tuesday):
    booking = book(
        lukio_staff, joint_campus.classroom, at(tuesday, 10), at(tuesday, 11), title="Parents' evening"
    ).first
    own = client_for(lukio_staff).get(reverse("bookings:detail", args=[booking.pk]))
    other = client_for(vocational_staff).get(reverse("bookings:detail", args=[booking.pk]))
    assert own.status_code == other.status_code == 200
    own_html, other_html = own.content.decode(), other.content.decode()
    assert "Parents&#x27; evening" in own_html
    assert "Liisa Lehtonen" in own_html
    assert "Otava Upper Secondary" in own_html
    assert "Parents&#x27; evening" not in other_html
    assert "Liisa Lehtonen" not in other_html
    assert "Reserved" in other_html
    for html in (own_html, other_html):
        assert reverse("bookings:room-detail", args=[joint_campus.classroom.pk]) in html
        assert f"{clock(10)}–{clock(11)}" in html


def test_the_booker_gets_links_to_change_and_cancel_others_do_not(joint_campus, lukio_staff, vocational_staff, tuesday):
    booking = book(lukio_staff, joint_campus.classroom, at(tuesday, 10), at(tuesday, 11)).first
    own = client_for(lukio_staff).get(reverse("bookings:detail", args=[booking.pk])).content.decode()
    other = client_for(vocational_staff).get(reverse("bookings:detail", args=[booking.pk])).content.decode()
    for name in ("bookings:edit", "bookings:cancel"):
        assert reverse(name, args=[booking.pk]) in own
        assert reverse(name, args=[booking.pk]) not in other
    assert reverse("bookings:release", args=[booking.pk]) not in own  # it has not started
