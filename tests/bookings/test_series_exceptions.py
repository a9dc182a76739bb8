"""A series' stored rule and exceptions describe exactly its active occurrences, whatever is edited."""

from __future__ import annotations

import contextlib
import datetime as dt

import pytest
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bookings import recurrence
from bookings.models import ACTIVE_STATUSES, Booking, BookingSeries, Purpose
from bookings.services import Scope, booking_cancel, booking_update
from campus.exceptions import KampusError
from campus.models import OpeningHours
from tests.bookings.conftest import HELSINKI, assert_blocks_consistent, at, book

WEEK = dt.timedelta(weeks=1)
OCCURRENCES = 8

scopes = st.sampled_from(Scope.values)
rules = st.sampled_from(
    [
        "FREQ=WEEKLY;COUNT=8",
        "FREQ=WEEKLY;BYDAY=MO,WE;COUNT=8",
        "FREQ=WEEKLY;INTERVAL=2;COUNT=8",
        "FREQ=DAILY;COUNT=8",
        "FREQ=MONTHLY;BYMONTHDAY={day};COUNT=8",
    ]
)
edits = st.one_of(
    st.tuples(st.just("time_passes"), st.integers(0, OCCURRENCES - 1), st.just(""), st.integers(1, 20)),
    st.tuples(st.just("cancel"), st.integers(0, OCCURRENCES - 1), scopes),
    st.tuples(st.just("retime"), st.integers(0, OCCURRENCES - 1), scopes, st.integers(-2, 2), st.integers(0, 2)),
    st.tuples(st.just("lengthen"), st.integers(0, OCCURRENCES - 1), scopes, st.integers(-30, 60)),
    st.tuples(st.just("move_room"), st.integers(0, OCCURRENCES - 1), scopes),
)


def assert_series_describe_their_occurrences() -> None:
    for series in BookingSeries.objects.all():
        instances = recurrence.series_instances(rule=series.rrule, dtstart=series.dtstart, zone=HELSINKI)
        excluded = set(recurrence.parse_stored_moments(series.exdates))
        assert excluded <= set(instances), series.exdates
        described = {instance for instance in instances if instance not in excluded}
        active = Booking.objects.filter(series=series, status__in=ACTIVE_STATUSES)
        assert described == set(active.values_list("recurrence_id", flat=True)), (series.rrule, series.exdates)


def apply(edit: tuple, bookings: list[Booking], joint_campus, user, now: dt.datetime) -> dt.datetime:
    """Apply ``edit`` at ``now``; return the time after it (``time_passes`` moves it on by days)."""
    kind, index, scope, *rest = edit
    booking = Booking.objects.get(pk=bookings[index].pk)
    if kind == "time_passes":
        return now + dt.timedelta(days=rest[0])
    if kind == "cancel":
        booking_cancel(booking=booking, actor=user, scope=scope, now=now)
    elif kind == "retime":
        hours, days = rest
        start = booking.start + dt.timedelta(days=days, hours=hours)
        booking_update(booking=booking, actor=user, scope=scope, start=start, now=now)
    elif kind == "lengthen":
        (minutes,) = rest
        end = booking.end + dt.timedelta(minutes=minutes)
        booking_update(booking=booking, actor=user, scope=scope, end=end, now=now)
    else:
        booking_update(booking=booking, actor=user, scope=scope, room=joint_campus.lab, now=now)
    return now


@pytest.mark.django_db
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rule=rules, sequence=st.lists(edits, min_size=1, max_size=7))
def test_the_stored_series_always_equals_the_active_occurrences(joint_campus, campus_fm, monday, rule, sequence):
    now = at(monday - WEEK, 8)
    # Open every day, so that rules and moves land on any weekday.
    for weekday in range(7):
        OpeningHours.objects.update_or_create(
            building=joint_campus.main_building, weekday=weekday, defaults={"opens": dt.time(6), "closes": dt.time(22)}
        )
    with transaction.atomic():
        bookings = book(
            campus_fm,
            joint_campus.classroom,
            at(monday, 10),
            at(monday, 11),
            rrule=rule.format(day=monday.day),
            now=now,
            purpose=Purpose.MEETING,
        ).bookings
        assert_series_describe_their_occurrences()
        for edit in sequence:
            with contextlib.suppress(KampusError):  # a refused edit changes nothing
                now = apply(edit, bookings, joint_campus, campus_fm, now)
            assert_series_describe_their_occurrences()
        assert_blocks_consistent()
        transaction.set_rollback(True)
