"""The retention purge deletes what the privacy notice says is no longer kept, and nothing else.

Deleting bookings is off by default (anonymous bookings are kept: tests/bookings/test_anonymising.py);
these tests turn it on at two years.
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.management import call_command
from django.db import DatabaseError, connection, transaction
from django.utils import timezone

from bookings import services
from bookings.models import Booking, BookingEvent, BookingSeries, Notification, NotificationKind
from bookings.retention import purge_expired_data
from campus.models import Membership, Role
from tests.bookings.conftest import TUESDAY, at, next_weekday_after, today
from tests.conftest import make_user


@pytest.fixture(autouse=True)
def _bookings_deleted_after_two_years(settings):
    settings.KAMPUS_BOOKING_DELETE_AFTER_DAYS = 730


@pytest.fixture
def old_and_new(joint_campus, lukio_staff, tuesday):
    """A weekly series three years ago (booked back then) and a booking next week."""
    long_ago = next_weekday_after(today() - dt.timedelta(days=3 * 365), TUESDAY)
    old = services.booking_create(
        room=joint_campus.classroom,
        booked_by=lukio_staff,
        title="Old lesson",
        start=at(long_ago, 10),
        end=at(long_ago, 11),
        rrule="FREQ=WEEKLY;COUNT=3",
        now=at(long_ago, 9),
    )
    new = services.booking_create(
        room=joint_campus.classroom,
        booked_by=lukio_staff,
        title="New lesson",
        start=at(tuesday, 10),
        end=at(tuesday, 11),
    )
    Notification.objects.create(recipient=lukio_staff, kind=NotificationKind.APPROVED, booking=new.first)
    return old, new


def test_bookings_past_retention_go_with_their_audit_log_and_series(old_and_new):
    old, new = old_and_new

    result = purge_expired_data()

    assert result.bookings == 3
    assert result.audit_events == 3
    assert result.series == 1
    assert not Booking.objects.filter(pk__in=[b.pk for b in old.bookings]).exists()
    assert not BookingEvent.objects.filter(booking_id__in=[b.pk for b in old.bookings]).exists()
    assert not BookingSeries.objects.filter(pk=old.series.pk).exists()
    assert Booking.objects.filter(pk=new.first.pk).exists()
    assert BookingEvent.objects.filter(booking_id=new.first.pk).exists()
    assert Notification.objects.filter(booking=new.first).exists()


def test_old_notifications_go_and_recent_ones_stay(old_and_new, lukio_staff):
    _old, new = old_and_new
    stale = Notification.objects.create(recipient=lukio_staff, kind=NotificationKind.REQUEST, booking=new.first)
    Notification.objects.filter(pk=stale.pk).update(created_at=timezone.now() - dt.timedelta(days=400))

    purge_expired_data()

    assert not Notification.objects.filter(pk=stale.pk).exists()
    assert Notification.objects.filter(booking=new.first).count() == 1


def test_accounts_whose_last_membership_ended_over_a_year_ago_are_closed(joint_campus, lukio_staff):
    gone = make_user("former.substitute")
    Membership.objects.create(
        user=gone,
        institution=joint_campus.lukio,
        role=Role.STAFF,
        valid_from=today() - dt.timedelta(days=800),
        valid_until=today() - dt.timedelta(days=400),
    )
    recent = make_user("recent.substitute")
    Membership.objects.create(
        user=recent, institution=joint_campus.lukio, role=Role.STAFF, valid_until=today() - dt.timedelta(days=30)
    )

    result = purge_expired_data()

    gone.refresh_from_db()
    recent.refresh_from_db()
    lukio_staff.refresh_from_db()
    assert result.accounts_closed == 1
    assert not gone.is_active
    assert recent.is_active
    assert lukio_staff.is_active


def test_dry_run_counts_and_changes_nothing(old_and_new, capsys):
    call_command("purge_old_data", "--dry-run")

    assert "3 bookings" in capsys.readouterr().out
    assert Booking.objects.count() == 4


@pytest.mark.postgres
def test_the_audit_log_stays_append_only_outside_the_purge(on_postgres, old_and_new):
    old, _new = old_and_new
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("DELETE FROM bookings_bookingevent WHERE booking_id = %s", [old.first.pk])
    purge_expired_data()
    assert not BookingEvent.objects.filter(booking_id=old.first.pk).exists()
