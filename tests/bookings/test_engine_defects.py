"""Regression tests for the booking engine's defects found by a close reading (issue 8, items 1, 3–6)."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from django.core import mail
from django.db import connection, connections
from django.urls import reverse

from bookings import recurrence
from bookings.errors import BookingRuleBroken, BookingStateError, InvalidRecurrence, SlotTaken
from bookings.models import Booking, BookingPolicy, BookingSeries, BookingStatus, Notification
from bookings.services import Scope, booking_cancel, booking_update
from campus.exceptions import InvalidInput
from tests.bookings.conftest import HELSINKI, at, book, error_fields, in_helsinki, next_last_sunday, today

WEEK = dt.timedelta(weeks=1)
DAY = dt.timedelta(days=1)

pytestmark = pytest.mark.usefixtures("blocks_stay_consistent")


def _weekly(joint_campus, user, monday, count=3, **options):
    return book(
        user,
        joint_campus.classroom,
        at(monday, 10),
        at(monday, 11),
        rrule=f"FREQ=WEEKLY;COUNT={count}",
        now=at(monday - WEEK, 8),
        **options,
    ).bookings


# --- 1. a series spanning rooms -------------------------------------------------------------------


def test_retiming_a_series_keeps_each_occurrence_in_its_own_room(joint_campus, lukio_staff, monday):
    first, second, third = _weekly(joint_campus, lukio_staff, monday)
    now = at(monday - WEEK, 9)
    booking_update(booking=second, actor=lukio_staff, room=joint_campus.lab, now=now)

    booking_update(
        booking=first, actor=lukio_staff, scope=Scope.SERIES, start=at(monday, 12), end=at(monday, 13), now=now
    )

    rooms = {b.pk: b.room_id for b in Booking.objects.all()}
    assert rooms == {
        first.pk: joint_campus.classroom.pk,
        second.pk: joint_campus.lab.pk,
        third.pk: joint_campus.classroom.pk,
    }
    assert [in_helsinki(b.start).hour for b in Booking.objects.order_by("start")] == [12, 12, 12]


def test_a_series_wide_attendee_change_is_checked_against_each_occurrences_room(joint_campus, lukio_staff, monday):
    first, second, _third = _weekly(joint_campus, lukio_staff, monday)
    now = at(monday - WEEK, 9)
    booking_update(booking=second, actor=lukio_staff, room=joint_campus.lab, now=now)  # the lab holds 20
    assert joint_campus.classroom.capacity == 30

    with pytest.raises(BookingRuleBroken) as refused:
        booking_update(booking=first, actor=lukio_staff, scope=Scope.SERIES, attendees=25, now=now)

    assert refused.value.code == "over_capacity"
    assert refused.value.allowed == joint_campus.lab.capacity
    assert set(Booking.objects.values_list("attendees", flat=True)) == {None}


# --- 3. skip_conflicts compares with the last kept occurrence ---------------------------------------


def test_skip_conflicts_never_keeps_occurrences_that_overlap_through_a_long_buffer(joint_campus, lukio_staff, monday):
    room = joint_campus.classroom
    room.buffer_minutes = 49 * 60  # each booking blocks the room for two days and more
    room.save()

    result = book(
        lukio_staff,
        room,
        at(monday, 10),
        at(monday, 11),
        rrule="FREQ=DAILY;COUNT=3",
        skip_conflicts=True,
        now=at(monday - WEEK, 8),
    )

    assert [in_helsinki(b.start).date() for b in result.bookings] == [monday]
    assert [(in_helsinki(s.start).date(), s.code) for s in result.skipped] == [
        (monday + DAY, "conflict"),
        (monday + 2 * DAY, "conflict"),
    ]


# --- 4. requests expire at the latest when they start -----------------------------------------------


def test_a_request_for_this_afternoon_expires_when_it_starts(request_only_lab, vocational_staff):
    morning = at(today() + 7 * DAY, 9)
    result = book(vocational_staff, request_only_lab, morning.replace(hour=14), morning.replace(hour=15), now=morning)

    assert result.first.status == BookingStatus.PENDING
    assert result.first.expires_at == morning.replace(hour=14)


def test_a_request_far_ahead_expires_after_the_policys_hours(request_only_lab, vocational_staff, monday):
    now = at(monday - WEEK, 9)
    result = book(vocational_staff, request_only_lab, at(monday, 10), at(monday, 11), now=now)

    assert result.first.expires_at == now + dt.timedelta(hours=72)


def test_a_request_that_has_started_leaves_the_api_queue(
    request_only_lab, vocational_staff, fm_of_lukio, client, monday
):
    from django.utils import timezone

    # Made three hours before noon on a Monday for a slot from 11 to 13: it expires when it starts.
    noon = at(monday, 12)
    started = noon - dt.timedelta(hours=1)
    BookingPolicy.objects.filter(room=request_only_lab).update(request_expiry_hours=72)
    created = book(
        vocational_staff, request_only_lab, started, noon + dt.timedelta(hours=1), now=noon - dt.timedelta(hours=3)
    ).first
    assert created.expires_at == started
    # The queue is read at the real time: move the request so that it began an hour ago and runs another hour
    # (whatever the hour of the day the test runs at, which opening hours would otherwise refuse).
    shift = timezone.now() - noon
    Booking.objects.filter(pk=created.pk).update(
        start=created.start + shift, end=created.end + shift, expires_at=created.expires_at + shift
    )

    client.force_login(fm_of_lukio)
    listed = client.get("/api/v1/approvals").json()

    assert [item["id"] for item in listed["items"]] == []


# --- 5. recurrence ---------------------------------------------------------------------------------


def test_bymonth_with_two_digits_is_a_month(joint_campus, lukio_staff):
    day = today() + 30 * DAY
    day = day + dt.timedelta(days=(0 - day.weekday()) % 7)  # a Monday
    rule = f"FREQ=WEEKLY;BYMONTH={day.month:02d};COUNT=2"

    result = book(lukio_staff, joint_campus.classroom, at(day, 10), at(day, 11), rrule=rule)

    assert len(result.bookings) == 2
    assert result.series.rrule == f"FREQ=WEEKLY;BYMONTH={day.month};COUNT=2"


def test_a_count_beyond_the_limit_says_the_limit(joint_campus, lukio_staff, monday):
    with pytest.raises(InvalidRecurrence) as refused:
        book(lukio_staff, joint_campus.classroom, at(monday, 10), at(monday, 11), rrule="FREQ=DAILY;COUNT=10000")

    assert "at most 500 occurrences" in refused.value.message
    assert "COUNT=10000" in refused.value.message


def test_until_before_the_start_says_so(joint_campus, lukio_staff, monday):
    until = (monday - DAY).strftime("%Y%m%d")

    with pytest.raises(InvalidRecurrence) as refused:
        book(lukio_staff, joint_campus.classroom, at(monday, 10), at(monday, 11), rrule=f"FREQ=WEEKLY;UNTIL={until}")

    assert "before the start" in refused.value.message
    assert error_fields(refused.value) == ["rrule"]


def test_one_rule_object_reads_and_writes_every_part():
    rule = recurrence.RepeatRule.parse("rrule:freq=monthly;interval=02;bymonth=03,9;byday=-1fr;count=04", zone=HELSINKI)

    assert rule == recurrence.RepeatRule(freq="MONTHLY", interval=2, count=4, bymonth=(3, 9), byday=("-1FR",))
    assert str(rule) == "FREQ=MONTHLY;INTERVAL=2;BYMONTH=3,9;BYDAY=-1FR;COUNT=4"
    assert recurrence.RepeatRule.parse(str(rule), zone=HELSINKI) == rule
    assert rule.shifted(1).byday == ("-1SA",)


@pytest.mark.parametrize(
    ("month", "hour", "minute", "words"),
    [(3, 3, 30, "does not exist"), (10, 3, 30, "happens twice")],
)
def test_a_series_through_a_clock_change_at_a_time_that_is_skipped_or_doubled_is_refused(
    joint_campus, campus_fm, month, hour, minute, words
):
    from campus.models import OpeningHours

    for weekday in range(7):
        OpeningHours.objects.update_or_create(
            building=joint_campus.main_building, weekday=weekday, defaults={"opens": dt.time(0), "closes": dt.time(23)}
        )
    change = next_last_sunday(month)
    first = change - WEEK

    with pytest.raises(InvalidRecurrence) as refused:
        book(
            campus_fm,
            joint_campus.shared_auditorium,
            at(first, hour, minute),
            at(first, hour + 2, minute),
            rrule="FREQ=WEEKLY;COUNT=3",
            now=at(first - WEEK, 8),
        )

    assert words in refused.value.message
    assert refused.value.code == "no_such_local_time"
    assert not Booking.objects.exists()


# --- 5. a series remembers its exceptions ------------------------------------------------------------


def _described(series: BookingSeries) -> set[dt.datetime]:
    """Return the starts the stored rule gives, less the stored exceptions."""
    instances = recurrence.series_instances(rule=series.rrule, dtstart=series.dtstart, zone=HELSINKI)
    excluded = set(recurrence.parse_stored_moments(series.exdates))
    return {instance for instance in instances if instance not in excluded}


def test_cancelling_one_occurrence_records_it_as_an_exdate(joint_campus, lukio_staff, monday):
    first, second, third = _weekly(joint_campus, lukio_staff, monday)

    booking_cancel(booking=second, actor=lukio_staff, now=at(monday - WEEK, 9))

    series = BookingSeries.objects.get()
    assert recurrence.parse_stored_moments(series.exdates) == [second.start]
    assert _described(series) == {first.start, third.start}


def test_moving_one_occurrence_keeps_its_original_start_as_an_override(joint_campus, lukio_staff, monday):
    _first, second, _third = _weekly(joint_campus, lukio_staff, monday)

    booking_update(booking=second, actor=lukio_staff, start=at(monday + WEEK + DAY, 14), now=at(monday - WEEK, 9))

    moved = Booking.objects.get(pk=second.pk)
    assert moved.recurrence_id == second.start
    assert in_helsinki(moved.start) == at(monday + WEEK + DAY, 14)
    assert BookingSeries.objects.get().exdates == []


def test_splitting_a_series_carries_its_exceptions_along(joint_campus, lukio_staff, monday):
    bookings = _weekly(joint_campus, lukio_staff, monday, count=5)
    now = at(monday - WEEK, 9)
    booking_cancel(booking=bookings[3], actor=lukio_staff, now=now)

    booking_update(
        booking=bookings[2], actor=lukio_staff, scope=Scope.FOLLOWING, start=at(monday + 2 * WEEK, 12), now=now
    )

    old, new = BookingSeries.objects.order_by("pk")
    assert _described(old) == {bookings[0].start, bookings[1].start}
    assert recurrence.parse_stored_moments(new.exdates) == [at(monday + 3 * WEEK, 12).astimezone(dt.UTC)]
    assert _described(new) == {at(monday + 2 * WEEK, 12), at(monday + 4 * WEEK, 12)}


# --- 6. mail goes out after commit, outside any transaction -------------------------------------------


class _SlowMailServer:
    """A mail backend that, while "sending", lets another connection try to write a booking."""

    outcome: dict = {}

    def __init__(self, *args, **kwargs) -> None:
        pass

    def send_messages(self, messages):
        def write_elsewhere() -> None:
            try:
                with connections["default"].cursor() as cursor:
                    cursor.execute("UPDATE campus_room SET description = description WHERE id = -1")
                _SlowMailServer.outcome["write"] = "ok"
            except Exception as error:  # recorded for the test
                _SlowMailServer.outcome["write"] = repr(error)
            finally:
                connections["default"].close()

        other = threading.Thread(target=write_elsewhere)
        other.start()
        other.join(timeout=5)
        _SlowMailServer.outcome["in_transaction"] = connection.in_atomic_block
        return len(messages)


@pytest.mark.django_db(transaction=True)
def test_sending_a_notification_holds_no_database_lock(joint_campus, lukio_staff, campus_fm, monday, settings):
    if connection.vendor == "sqlite":
        connection.settings_dict["OPTIONS"]["timeout"] = 2
    settings.EMAIL_BACKEND = f"{__name__}._SlowMailServer"
    booking = book(lukio_staff, joint_campus.classroom, at(monday, 10), at(monday, 11)).first
    booking_cancel(booking=booking, actor=campus_fm)
    notification = Notification.objects.get()

    from bookings.tasks import send_notification

    assert send_notification(notification.pk) is True

    assert _SlowMailServer.outcome == {"write": "ok", "in_transaction": False}
    assert Notification.objects.get().sent_at is not None
    assert send_notification(notification.pk) is False  # sent once only


# --- 6. the booking form's preview writes nothing and takes no write lock ------------------------------


@pytest.mark.django_db(transaction=True)
def test_the_booking_forms_check_answers_while_another_writer_holds_the_database(joint_campus, lukio_staff, monday):
    from django.test import Client

    client = Client()
    client.force_login(lukio_staff)
    holding, release = threading.Event(), threading.Event()

    def hold_the_write_lock() -> None:
        with connections["default"].cursor() as cursor:
            if connection.vendor == "sqlite":
                cursor.execute("BEGIN IMMEDIATE")
            else:
                cursor.execute("BEGIN")
                cursor.execute("LOCK TABLE bookings_booking IN EXCLUSIVE MODE")
            holding.set()
            release.wait(timeout=30)
            cursor.execute("ROLLBACK")
        connections["default"].close()

    holder = threading.Thread(target=hold_the_write_lock)
    holder.start()
    assert holding.wait(timeout=10)
    try:
        finished = {}

        def check() -> None:
            response = client.post(
                reverse("bookings:new"),
                {
                    "title": "Maths 2B",
                    "room": str(joint_campus.classroom.pk),
                    "date": monday.isoformat(),
                    "start_time": "10:00",
                    "end_time": "11:00",
                    "repeat": "none",
                    "interval": "1",
                    "monthly_by": "date",
                    "ends": "until",
                    "purpose": "teaching",
                    "visibility": "institution",
                    "action": "check",
                },
            )
            finished["status"] = response.status_code
            connections["default"].close()

        checker = threading.Thread(target=check)
        checker.start()
        checker.join(timeout=8)
        answered_while_held = not checker.is_alive()
    finally:
        release.set()
        holder.join(timeout=10)
        checker.join(timeout=30)
    assert answered_while_held, "the preview waited for the database's write lock"
    assert finished["status"] == 200
    assert not Booking.objects.exists()
    assert mail.outbox == []


def test_dry_run_and_create_give_the_same_answer(request_only_lab, vocational_staff, monday):
    from bookings.services import booking_create, booking_dry_run

    arguments = {
        "room": request_only_lab,
        "booked_by": vocational_staff,
        "title": "Lab",
        "start": at(monday, 10),
        "end": at(monday, 11),
        "rrule": "FREQ=DAILY;COUNT=3",
    }
    preview = booking_dry_run(**arguments)
    assert not Booking.objects.exists()
    assert not BookingSeries.objects.exists()

    made = booking_create(**arguments)

    assert [(b.start, b.status) for b in preview.bookings] == [(b.start, b.status) for b in made.bookings]
    assert preview.skipped == made.skipped


# --- found by review ---------------------------------------------------------------------------------


def test_moves_into_a_hall_and_its_section_are_checked_against_each_other(joint_campus, gym, campus_fm, monday):
    first, second = book(
        campus_fm, gym.whole, at(monday, 10), at(monday, 11),
        rrule="FREQ=DAILY;COUNT=2", purpose="meeting", now=at(monday - WEEK, 8),
    ).bookings  # fmt: skip
    now = at(monday - WEEK, 9)
    # The second day alone moves to a section, in the morning of the first day (an override).
    booking_update(booking=second, actor=campus_fm, room=gym.sections[0], start=at(monday, 12), now=now)

    # Lengthening the whole series to 13:00 would make the hall and its section overlap on 12–13.
    with pytest.raises(SlotTaken):
        booking_update(booking=first, actor=campus_fm, scope=Scope.SERIES, end=at(monday, 13), now=now)

    assert in_helsinki(Booking.objects.get(pk=first.pk).end) == at(monday, 11)


def test_moving_a_series_from_an_occurrence_that_is_no_longer_active_is_refused(joint_campus, lukio_staff, monday):
    first, second, third = _weekly(joint_campus, lukio_staff, monday)
    now = at(monday - WEEK, 9)
    booking_cancel(booking=third, actor=lukio_staff, now=now)

    with pytest.raises(BookingStateError) as refused:
        booking_update(booking=third, actor=lukio_staff, scope=Scope.SERIES, start=at(monday + 2 * WEEK, 12), now=now)

    assert refused.value.code == "not_active"
    assert [in_helsinki(b.start).hour for b in Booking.objects.filter(pk__in=[first.pk, second.pk])] == [10, 10]


def test_a_monthly_day_of_month_series_cannot_be_moved_to_other_days_as_a_whole(joint_campus, campus_fm, monday):
    from campus.models import OpeningHours

    for weekday in range(7):
        OpeningHours.objects.update_or_create(
            building=joint_campus.main_building, weekday=weekday, defaults={"opens": dt.time(7), "closes": dt.time(21)}
        )
    first, *_rest = book(
        campus_fm, joint_campus.shared_auditorium, at(monday, 10), at(monday, 11),
        rrule=f"FREQ=MONTHLY;BYMONTHDAY={monday.day};COUNT=3", purpose="meeting", now=at(monday - WEEK, 8),
    ).bookings  # fmt: skip

    with pytest.raises(InvalidInput) as refused:
        booking_update(
            booking=first, actor=campus_fm, scope=Scope.SERIES, start=at(monday + DAY, 10), now=at(monday - WEEK, 9)
        )

    assert refused.value.code == "rule_cannot_move"
    assert in_helsinki(Booking.objects.get(pk=first.pk).start) == at(monday, 10)


def test_moving_a_whole_series_whose_earlier_occurrences_are_cancelled_keeps_one_series(
    joint_campus, lukio_staff, monday
):
    first, second, _third = _weekly(joint_campus, lukio_staff, monday)
    now = at(monday - WEEK, 9)
    booking_cancel(booking=first, actor=lukio_staff, now=now)

    booking_update(booking=second, actor=lukio_staff, scope=Scope.SERIES, start=at(monday + WEEK, 12), now=now)

    assert BookingSeries.objects.count() == 1


def test_a_series_request_expires_as_one_when_its_first_occurrence_starts(request_only_lab, vocational_staff, monday):
    now = at(monday - dt.timedelta(days=1), 9)
    result = book(
        vocational_staff, request_only_lab, at(monday, 10), at(monday, 11), rrule="FREQ=DAILY;COUNT=3", now=now
    )

    assert {b.expires_at for b in result.bookings} == {at(monday, 10)}


def test_the_booking_form_refuses_a_time_the_clocks_skip_with_a_form_error(joint_campus, lukio_staff):
    from django.test import Client

    change = next_last_sunday(3)
    from campus.models import OpeningHours

    OpeningHours.objects.update_or_create(
        building=joint_campus.main_building, weekday=6, defaults={"opens": dt.time(0), "closes": dt.time(23)}
    )
    client = Client(headers={"accept-language": "en"})
    client.force_login(lukio_staff)
    form = {
        "title": "Night", "room": str(joint_campus.classroom.pk), "date": change.isoformat(),
        "start_time": "03:30", "end_time": "04:30", "repeat": "none", "interval": "1", "monthly_by": "date",
        "ends": "until", "purpose": "teaching", "visibility": "institution",
    }  # fmt: skip

    for action in ("book", "check"):
        response = client.post(reverse("bookings:new"), {**form, "action": action})
        assert response.status_code == 200
        assert "does not exist" in response.content.decode()
    assert not Booking.objects.exists()


def test_dates_outside_the_accepted_years_are_refused_not_a_crash(joint_campus, campus_fm, lukio_staff):
    from bookings.services import closure_create

    year_one = dt.datetime(1, 1, 2, 10, tzinfo=dt.UTC)
    with pytest.raises(InvalidInput) as closure:
        closure_create(actor=campus_fm, room=joint_campus.classroom, start=year_one, end=year_one + DAY, reason="x")
    with pytest.raises(InvalidInput) as booking:
        book(lukio_staff, joint_campus.classroom, dt.datetime(9999, 1, 4, 10, tzinfo=dt.UTC),
             dt.datetime(9999, 1, 4, 11, tzinfo=dt.UTC))  # fmt: skip

    assert closure.value.extra["errors"][0]["field"] == "start"
    assert booking.value.extra["errors"][0]["field"] == "start"


def test_a_change_that_changes_nothing_leaves_no_audit_event(joint_campus, lukio_staff, monday):
    from bookings.models import BookingEvent

    booking = book(lukio_staff, joint_campus.classroom, at(monday, 10), at(monday, 11), title="Maths").first

    booking_update(booking=booking, actor=lukio_staff, title="Maths")

    assert not BookingEvent.objects.filter(booking_id=booking.pk, action="change").exists()


def test_handing_a_booking_over_to_its_own_booker_is_refused(joint_campus, lukio_staff, monday):
    from bookings.services import booking_series_handover

    booking = book(lukio_staff, joint_campus.classroom, at(monday, 10), at(monday, 11)).first

    with pytest.raises(InvalidInput, match="already holds"):
        booking_series_handover(booking=booking, actor=lukio_staff, to_user=lukio_staff)
