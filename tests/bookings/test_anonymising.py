"""Old bookings lose their people and keep what room use is counted from (BOOKING_ANONYMISE_AFTER_DAYS)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.management import call_command
from django.db import DatabaseError, connection, transaction
from django.utils import timezone

from bookings import services
from bookings.anonymising import ANONYMISED_TITLE, bookings_anonymise
from bookings.models import Booking, BookingEvent, BookingSeries, Notification, NotificationKind
from bookings.retention import purge_expired_data
from tests.bookings.conftest import TUESDAY, at, next_weekday_after, today

PERSONAL_SNAPSHOT_FIELDS = ("title", "description", "on_behalf_of_name", "on_behalf_of_contact", "decision_reason")


@pytest.fixture
def old_and_new(joint_campus, lukio_staff, fm_of_lukio, tuesday):
    """A weekly series for a parent booked three years ago, cancelled by the lukio's FM; a booking next week."""
    long_ago = next_weekday_after(today() - dt.timedelta(days=3 * 365), TUESDAY)
    old = services.booking_create(
        room=joint_campus.classroom,
        booked_by=lukio_staff,
        title="Meeting with Maija Meikäläinen",
        description="About her son's grades",
        on_behalf_of_name="Maija Meikäläinen",
        on_behalf_of_contact="maija@example.org",
        on_behalf_of_organisation="Parents' association",
        institution=joint_campus.lukio,
        attendees=3,
        start=at(long_ago, 10),
        end=at(long_ago, 11),
        rrule="FREQ=WEEKLY;COUNT=3",
        now=at(long_ago, 9),
    )
    services.booking_cancel(booking=old.bookings[2], actor=fm_of_lukio, reason="Maija is ill", now=at(long_ago, 9, 30))
    Booking.objects.filter(pk__in=[b.pk for b in old.bookings]).update(decision_reason="Fine by Pekka")
    Notification.objects.create(
        recipient=lukio_staff,
        kind=NotificationKind.CANCELLED,
        booking=old.bookings[2],
        subject="Cancelled: Meeting with Maija",
        sent_at=at(long_ago, 9, 31),
    )
    new = services.booking_create(
        room=joint_campus.classroom,
        booked_by=lukio_staff,
        title="New lesson",
        on_behalf_of_name="Someone Else",
        start=at(tuesday, 10),
        end=at(tuesday, 11),
    )
    return old, new


def test_bookings_past_the_anonymising_age_lose_their_people_and_keep_room_times_institution_and_status(
    old_and_new, joint_campus
):
    old, _new = old_and_new
    kept_before = {
        b.pk: (b.room_id, b.start, b.end, b.institution_id, b.status, b.attendees, b.purpose, b.updated_at)
        for b in Booking.objects.filter(pk__in=[b.pk for b in old.bookings])
    }

    result = purge_expired_data()

    assert result.anonymised == 3
    assert result.bookings == 0
    for booking in Booking.objects.filter(pk__in=kept_before):
        kept = (
            booking.room_id,
            booking.start,
            booking.end,
            booking.institution_id,
            booking.status,
            booking.attendees,
            booking.purpose,
            booking.updated_at,  # the rollup's change mark stays: old slots are not rolled again
        )
        assert kept == kept_before[booking.pk]
        assert booking.booked_by_id is None
        assert booking.title == ANONYMISED_TITLE
        assert (booking.description, booking.on_behalf_of_name, booking.on_behalf_of_contact) == ("", "", "")
        assert (booking.on_behalf_of_organisation, booking.decision_reason) == ("", "")
        assert booking.anonymised_at is not None
    assert BookingSeries.objects.get(pk=old.series.pk).owner_id is None
    assert not Notification.objects.filter(booking_id__in=kept_before).exists()


def test_the_audit_events_of_anonymised_bookings_keep_what_happened_but_not_who_or_why(old_and_new):
    old, _new = old_and_new
    ids = [b.pk for b in old.bookings]
    actions_before = list(BookingEvent.objects.filter(booking_id__in=ids).values_list("pk", "action", "at"))

    purge_expired_data()

    events = list(BookingEvent.objects.filter(booking_id__in=ids))
    assert [(e.pk, e.action, e.at) for e in events] == actions_before
    for event in events:
        assert event.actor_id is None
        assert event.reason == ""
        for snapshot in (event.before, event.after):
            if snapshot is None:
                continue
            assert snapshot["booked_by_id"] is None
            assert snapshot["title"] == ANONYMISED_TITLE
            assert all(snapshot[name] in ("", ANONYMISED_TITLE) for name in PERSONAL_SNAPSHOT_FIELDS)
            # What the rollup reads of a moved booking stays.
            assert snapshot["room_id"] is not None
            assert snapshot["start"]
            assert snapshot["end"]


def test_recent_bookings_keep_their_people(old_and_new, lukio_staff):
    _old, new = old_and_new

    purge_expired_data()

    booking = Booking.objects.get(pk=new.first.pk)
    assert (booking.booked_by_id, booking.title, booking.on_behalf_of_name) == (
        lukio_staff.pk,
        "New lesson",
        "Someone Else",
    )
    assert booking.anonymised_at is None
    assert BookingEvent.objects.get(booking_id=new.first.pk).actor_id == lukio_staff.pk


def test_anonymising_can_be_turned_off(old_and_new, settings):
    settings.KAMPUS_BOOKING_ANONYMISE_AFTER_DAYS = 0

    assert purge_expired_data().anonymised == 0
    assert not Booking.objects.filter(anonymised_at__isnull=False).exists()


def test_a_shorter_anonymising_age_reaches_younger_bookings(joint_campus, lukio_staff, settings):
    forty_days_ago = next_weekday_after(today() - dt.timedelta(days=40), TUESDAY)
    booking = services.booking_create(
        room=joint_campus.classroom,
        booked_by=lukio_staff,
        title="Lesson",
        start=at(forty_days_ago, 10),
        end=at(forty_days_ago, 11),
        now=at(forty_days_ago, 9),
    ).first
    settings.KAMPUS_BOOKING_ANONYMISE_AFTER_DAYS = 60
    assert purge_expired_data().anonymised == 0
    settings.KAMPUS_BOOKING_ANONYMISE_AFTER_DAYS = 30
    assert purge_expired_data().anonymised == 1
    assert Booking.objects.get(pk=booking.pk).booked_by_id is None
    # Once anonymised, a booking is not counted again.
    assert purge_expired_data().anonymised == 0


def test_the_command_dry_run_counts_and_changes_nothing(old_and_new, capsys):
    call_command("purge_old_data", "--dry-run")

    assert "3 bookings anonymised" in capsys.readouterr().out
    assert not Booking.objects.filter(anonymised_at__isnull=False).exists()
    assert Booking.objects.filter(title="Meeting with Maija Meikäläinen").count() == 3


@pytest.mark.postgres
def test_the_audit_log_refuses_updates_outside_the_erasure(on_postgres, old_and_new):
    old, _new = old_and_new
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("UPDATE bookings_bookingevent SET reason = '' WHERE booking_id = %s", [old.first.pk])
    purge_expired_data()
    assert BookingEvent.objects.filter(booking_id=old.first.pk, actor__isnull=False).count() == 0


def test_pages_feeds_and_the_api_show_an_anonymised_booking_without_anyone(
    old_and_new, campus_fm, client_with_token, joint_campus
):
    from django.test import Client

    old, _new = old_and_new
    purge_expired_data()
    client = Client(headers={"accept-language": "en"})
    client.force_login(campus_fm)

    page = client.get(f"/bookings/{old.first.pk}/")
    body = client_with_token(campus_fm).get(f"/api/v1/bookings/{old.first.pk}").json()
    history = client_with_token(campus_fm).get(f"/api/v1/bookings/{old.first.pk}/history").json()

    assert page.status_code == 200
    assert "Maija" not in page.content.decode()
    assert (body["title"], body["booked_by"], body["on_behalf_of"]) == (ANONYMISED_TITLE, None, None)
    assert "Maija" not in str(history)


def test_the_retention_settings_have_defaults_and_come_from_the_environment():
    from tests.campus.test_settings import read_settings

    names = ("KAMPUS_BOOKING_ANONYMISE_AFTER_DAYS", "KAMPUS_BOOKING_DELETE_AFTER_DAYS")

    assert read_settings(*names, DEBUG="1") == dict(zip(names, (730, 0), strict=True))
    chosen = read_settings(*names, DEBUG="1", BOOKING_ANONYMISE_AFTER_DAYS="90", BOOKING_DELETE_AFTER_DAYS="3650")
    assert chosen == dict(zip(names, (90, 3650), strict=True))


def test_a_negative_retention_is_refused_with_a_clear_message():
    from tests.campus.test_settings import run_python

    result = run_python("import django; django.setup()", DEBUG="1", BOOKING_ANONYMISE_AFTER_DAYS="-1")

    assert result.returncode != 0
    assert "BOOKING_ANONYMISE_AFTER_DAYS=-1: give a number of days, 0 or more" in result.stderr


def _update_as_the_erasure(sql: str, params: list) -> None:
    """Run ``sql`` in a transaction of its own with the erasure flag set, as the anonymising does."""
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL kampus.personal_data_erasure = 'on'")
        cursor.execute(sql, params)


@pytest.mark.postgres
@pytest.mark.parametrize(
    "change",
    ["action = 'create'", "booking_id = booking_id + 1", "at = at - interval '1 day'", "actor_id = actor_id + 1"],
)
def test_the_erasure_may_not_change_what_happened_to_which_booking_when_or_who_else_did_it(
    on_postgres, old_and_new, change
):
    """The erasure flag lets only the people out of an event: its action, booking, time and another actor stay."""
    old, _new = old_and_new
    cancel = BookingEvent.objects.get(booking_id=old.bookings[2].pk, action="cancel")

    with pytest.raises(DatabaseError, match="append-only"):
        _update_as_the_erasure(f"UPDATE bookings_bookingevent SET {change} WHERE id = %s", [cancel.pk])
    _update_as_the_erasure("UPDATE bookings_bookingevent SET actor_id = NULL, reason = '' WHERE id = %s", [cancel.pk])

    assert BookingEvent.objects.filter(pk=cancel.pk, actor__isnull=True, reason="").exists()


@pytest.mark.postgres
def test_the_audit_log_is_append_only_again_after_an_anonymising_in_the_same_transaction(on_postgres, old_and_new):
    old, _new = old_and_new

    def anonymise_then_rewrite() -> None:
        with transaction.atomic():
            bookings_anonymise(booking_ids=[old.first.pk], now=timezone.now())
            with connection.cursor() as cursor:
                cursor.execute("UPDATE bookings_bookingevent SET reason = 'x' WHERE booking_id = %s", [old.first.pk])

    with pytest.raises(DatabaseError, match="append-only"):
        anonymise_then_rewrite()
