"""The audit log (one append-only event per action, actors by id) and handing a series over to a substitute."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from django.db import Error, connection, transaction
from django.utils import timezone

from bookings.errors import BookingStateError
from bookings.models import (
    Booking,
    BookingAction,
    BookingEvent,
    BookingPolicy,
    BookingSeries,
    BookingStatus,
    Notification,
    NotificationKind,
)
from bookings.services import (
    Scope,
    booking_approve,
    booking_cancel,
    booking_reject,
    booking_release,
    booking_series_handover,
    booking_update,
    requests_expire,
)
from campus.exceptions import InvalidInput, PermissionDenied
from campus.models import Membership, Role
from tests.bookings.conftest import at, book, error_fields, today
from tests.conftest import make_user

pytestmark = pytest.mark.usefixtures("blocks_stay_consistent")

WEEK = dt.timedelta(weeks=1)


def events_of(booking: Booking) -> list[BookingEvent]:
    return list(BookingEvent.objects.filter(booking_id=booking.pk).order_by("at", "pk"))


def last_event(booking: Booking) -> BookingEvent:
    return events_of(booking)[-1]


# --- handover ------------------------------------------------------------------------------------


def test_handing_a_series_over_moves_its_future_occurrences_and_the_series_to_the_substitute(
    joint_campus, lukio_staff, substitute, day
):
    result = book(lukio_staff, joint_campus.classroom, at(day, 10), at(day, 11), rrule="FREQ=WEEKLY;COUNT=4")
    past, future = result.bookings[:2], result.bookings[2:]
    now = at(day + WEEK, 12)  # the first two lessons have been held

    handed = booking_series_handover(
        booking=result.first, actor=lukio_staff, to_user=substitute, reason="Parental leave", now=now
    )

    assert [b.pk for b in handed] == [b.pk for b in future]
    assert [Booking.objects.get(pk=b.pk).booked_by for b in past] == [lukio_staff, lukio_staff]
    assert [Booking.objects.get(pk=b.pk).booked_by for b in future] == [substitute, substitute]
    assert BookingSeries.objects.get(pk=result.series.pk).owner == substitute
    events = BookingEvent.objects.filter(action=BookingAction.HANDOVER).order_by("booking_id")
    assert [e.booking_id for e in events] == [b.pk for b in future]
    for event in events:
        assert event.actor_id == lukio_staff.pk
        assert event.reason == "Parental leave"
        assert event.before["booked_by_id"] == lukio_staff.pk
        assert event.after["booked_by_id"] == substitute.pk


def test_the_new_owner_is_told_once_about_the_handed_over_series(joint_campus, lukio_staff, substitute, day):
    result = book(lukio_staff, joint_campus.classroom, at(day, 10), at(day, 11), rrule="FREQ=WEEKLY;COUNT=3")

    booking_series_handover(booking=result.first, actor=lukio_staff, to_user=substitute, reason="Sick leave")

    [notification] = Notification.objects.filter(kind=NotificationKind.HANDOVER)
    assert (notification.recipient, notification.booking, notification.reason) == (
        substitute,
        result.first,
        "Sick leave",
    )


def test_a_single_booking_can_be_handed_over(joint_campus, lukio_staff, substitute, day):
    booking = book(lukio_staff, joint_campus.classroom, at(day, 10), at(day, 11)).first

    booking_series_handover(booking=booking, actor=lukio_staff, to_user=substitute)

    assert Booking.objects.get(pk=booking.pk).booked_by == substitute


def test_the_substitute_may_then_change_the_series(joint_campus, lukio_staff, substitute, day):
    result = book(lukio_staff, joint_campus.classroom, at(day, 10), at(day, 11), rrule="FREQ=WEEKLY;COUNT=2")
    booking_series_handover(booking=result.first, actor=lukio_staff, to_user=substitute)

    cancelled = booking_cancel(booking=Booking.objects.get(pk=result.first.pk), actor=substitute, scope=Scope.SERIES)

    assert len(cancelled) == 2


def test_a_series_cannot_be_handed_to_someone_outside_the_institution(joint_campus, lukio_staff, vocational_staff, day):
    result = book(lukio_staff, joint_campus.classroom, at(day, 10), at(day, 11), rrule="FREQ=WEEKLY;COUNT=2")

    with pytest.raises(InvalidInput) as refused:
        booking_series_handover(booking=result.first, actor=lukio_staff, to_user=vocational_staff)

    assert error_fields(refused.value) == ["to_user"]
    assert set(Booking.objects.values_list("booked_by", flat=True)) == {lukio_staff.pk}
    assert BookingSeries.objects.get().owner == lukio_staff
    assert not BookingEvent.objects.filter(action=BookingAction.HANDOVER).exists()
    assert not Notification.objects.exists()


def test_a_series_cannot_be_handed_to_a_former_member(joint_campus, lukio_staff, day):
    former = make_user("lukio.former")
    Membership.objects.create(
        user=former, institution=joint_campus.lukio, role=Role.STAFF, valid_until=today() - dt.timedelta(days=1)
    )
    booking = book(lukio_staff, joint_campus.classroom, at(day, 10), at(day, 11)).first

    with pytest.raises(InvalidInput):
        booking_series_handover(booking=booking, actor=lukio_staff, to_user=former)


def test_someone_who_may_not_change_the_booking_cannot_hand_it_over(
    joint_campus, lukio_staff, vocational_staff, substitute, day
):
    booking = book(lukio_staff, joint_campus.classroom, at(day, 10), at(day, 11)).first

    with pytest.raises(PermissionDenied):
        booking_series_handover(booking=booking, actor=vocational_staff, to_user=substitute)
    with pytest.raises(PermissionDenied):
        booking_series_handover(booking=booking, actor=substitute, to_user=substitute)


def test_a_series_with_nothing_left_cannot_be_handed_over(joint_campus, lukio_staff, substitute, day):
    booking = book(lukio_staff, joint_campus.classroom, at(day, 10), at(day, 11)).first

    with pytest.raises(BookingStateError):
        booking_series_handover(booking=booking, actor=lukio_staff, to_user=substitute, now=at(day, 12))


# --- one event per action ------------------------------------------------------------------------


def test_a_direct_booking_records_a_create_event_with_the_actors_id(joint_campus, lukio_staff, day):
    booking = book(lukio_staff, joint_campus.classroom, at(day, 10), at(day, 11), title="Maths").first

    [event] = events_of(booking)
    assert (event.action, event.actor_id, event.before, event.reason) == (
        BookingAction.CREATE,
        lukio_staff.pk,
        None,
        "",
    )
    assert event.after["status"] == BookingStatus.CONFIRMED
    assert event.after["booked_by_id"] == lukio_staff.pk
    assert event.after["room_id"] == joint_campus.classroom.pk
    assert event.after["title"] == "Maths"
    assert dt.datetime.fromisoformat(event.after["start"]) == at(day, 10)


def test_a_request_records_a_request_event(requests_for_classroom, joint_campus, vocational_staff, day):
    booking = book(vocational_staff, joint_campus.classroom, at(day, 10), at(day, 11)).first

    [event] = events_of(booking)
    assert (event.action, event.actor_id) == (BookingAction.REQUEST, vocational_staff.pk)
    assert event.after["status"] == BookingStatus.PENDING


def test_a_series_records_one_event_per_occurrence(joint_campus, lukio_staff, day):
    result = book(lukio_staff, joint_campus.classroom, at(day, 10), at(day, 11), rrule="FREQ=WEEKLY;COUNT=3")

    assert [e.booking_id for e in BookingEvent.objects.filter(action=BookingAction.CREATE)] == [
        b.pk for b in result.bookings
    ]


def test_a_change_records_the_values_before_and_after(joint_campus, lukio_staff, day):
    booking = book(lukio_staff, joint_campus.classroom, at(day, 10), at(day, 11), title="Maths").first

    booking_update(booking=booking, actor=lukio_staff, title="Maths revision", start=at(day, 12), end=at(day, 13))

    event = last_event(booking)
    assert (event.action, event.actor_id) == (BookingAction.CHANGE, lukio_staff.pk)
    assert (event.before["title"], event.after["title"]) == ("Maths", "Maths revision")
    assert dt.datetime.fromisoformat(event.before["start"]) == at(day, 10)
    assert dt.datetime.fromisoformat(event.after["start"]) == at(day, 12)


def test_a_cancellation_records_who_cancelled_and_why(joint_campus, lukio_staff, fm_of_lukio, day):
    booking = book(lukio_staff, joint_campus.classroom, at(day, 10), at(day, 11)).first

    booking_cancel(booking=booking, actor=fm_of_lukio, reason="Room needed for exams")

    event = last_event(booking)
    assert (event.action, event.actor_id, event.reason) == (
        BookingAction.CANCEL,
        fm_of_lukio.pk,
        "Room needed for exams",
    )
    assert (event.before["status"], event.after["status"]) == (BookingStatus.CONFIRMED, BookingStatus.CANCELLED)


def test_approval_and_rejection_record_the_decider_and_the_reason(
    requests_for_classroom, joint_campus, vocational_staff, fm_of_lukio, day
):
    approved = book(vocational_staff, joint_campus.classroom, at(day, 10), at(day, 11)).first
    rejected = book(vocational_staff, joint_campus.classroom, at(day, 12), at(day, 13)).first

    booking_approve(booking=approved, actor=fm_of_lukio, reason="Welcome")
    booking_reject(booking=rejected, actor=fm_of_lukio, reason="Exams")

    approval = last_event(approved)
    assert (approval.action, approval.actor_id, approval.reason) == (BookingAction.APPROVE, fm_of_lukio.pk, "Welcome")
    assert (approval.before["status"], approval.after["status"]) == (BookingStatus.PENDING, BookingStatus.CONFIRMED)
    rejection = last_event(rejected)
    assert (rejection.action, rejection.actor_id, rejection.reason) == (BookingAction.REJECT, fm_of_lukio.pk, "Exams")
    assert (rejection.before["status"], rejection.after["status"]) == (BookingStatus.PENDING, BookingStatus.REJECTED)
    assert rejection.after["decision_reason"] == "Exams"


def test_expiry_records_an_event_without_an_actor(requests_for_classroom, joint_campus, vocational_staff, day):
    booking = book(vocational_staff, joint_campus.classroom, at(day, 10), at(day, 11)).first

    requests_expire(now=booking.expires_at)

    event = last_event(booking)
    assert (event.action, event.actor_id, event.reason) == (BookingAction.EXPIRE, None, "expired")
    assert event.after["status"] == BookingStatus.REJECTED


def test_an_override_records_the_rules_overridden_and_the_reason(joint_campus, fm_of_lukio, day):
    BookingPolicy.objects.create(room=joint_campus.classroom, max_duration_minutes=60)

    booking = book(fm_of_lukio, joint_campus.classroom, at(day, 8), at(day, 12), override_reason="Exam").first

    create, override = events_of(booking)
    assert create.action == BookingAction.CREATE
    assert (override.action, override.actor_id, override.reason) == (BookingAction.OVERRIDE, fm_of_lukio.pk, "Exam")
    assert [rule["rule"] for rule in override.before["rules"]] == ["max_duration"]
    assert override.after["status"] == BookingStatus.CONFIRMED


def test_moving_a_booking_beyond_the_rules_with_a_reason_records_an_override(joint_campus, fm_of_lukio, day):
    BookingPolicy.objects.create(room=joint_campus.classroom, max_duration_minutes=60)
    booking = book(fm_of_lukio, joint_campus.classroom, at(day, 8), at(day, 9)).first

    booking_update(booking=booking, actor=fm_of_lukio, end=at(day, 12), override_reason="Exam runs long")

    assert [e.action for e in events_of(booking)] == [
        BookingAction.CREATE,
        BookingAction.CHANGE,
        BookingAction.OVERRIDE,
    ]
    assert last_event(booking).reason == "Exam runs long"


def test_a_release_records_the_early_end(joint_campus, lukio_staff, day):
    booking = book(lukio_staff, joint_campus.classroom, at(day, 10), at(day, 11)).first

    booking_release(booking=booking, actor=lukio_staff, now=at(day, 10, 30))

    event = last_event(booking)
    assert (event.action, event.actor_id) == (BookingAction.RELEASE, lukio_staff.pk)
    assert (event.before["status"], event.after["status"]) == (BookingStatus.CONFIRMED, BookingStatus.RELEASED)


def test_the_history_of_a_booking_lists_its_actions_in_order(joint_campus, lukio_staff, fm_of_lukio, day):
    booking = book(lukio_staff, joint_campus.classroom, at(day, 10), at(day, 11)).first
    booking_update(booking=booking, actor=lukio_staff, title="Changed")
    booking_cancel(booking=booking, actor=fm_of_lukio)

    assert [(e.action, e.actor_id) for e in events_of(booking)] == [
        (BookingAction.CREATE, lukio_staff.pk),
        (BookingAction.CHANGE, lukio_staff.pk),
        (BookingAction.CANCEL, fm_of_lukio.pk),
    ]


def test_events_name_actors_by_id_only(joint_campus, lukio_staff, fm_of_lukio, day):
    booking = book(lukio_staff, joint_campus.classroom, at(day, 10), at(day, 11)).first
    booking_cancel(booking=booking, actor=fm_of_lukio, reason="Exams")

    stored = json.dumps([[e.before, e.after, e.reason] for e in events_of(booking)])
    for user in (lukio_staff, fm_of_lukio):
        for name in (user.username, user.first_name, user.last_name, user.email, str(user)):
            assert name not in stored


def test_the_actors_id_stays_when_the_user_is_deleted(joint_campus, lukio_staff, fm_of_lukio, day):
    booking = book(lukio_staff, joint_campus.classroom, at(day, 10), at(day, 11)).first
    booking_cancel(booking=booking, actor=fm_of_lukio)
    fm_id = fm_of_lukio.pk

    fm_of_lukio.delete()

    assert last_event(booking).actor_id == fm_id


# --- append-only ---------------------------------------------------------------------------------


@pytest.fixture
def event(joint_campus, lukio_staff, day) -> BookingEvent:
    booking = book(lukio_staff, joint_campus.classroom, at(day, 10), at(day, 11)).first
    return BookingEvent.objects.get(booking_id=booking.pk)


def test_an_event_cannot_be_saved_again(event):
    event.reason = "rewritten"

    with pytest.raises(TypeError):
        event.save()

    assert BookingEvent.objects.get(pk=event.pk).reason == ""


def test_an_event_cannot_be_deleted(event):
    with pytest.raises(TypeError):
        event.delete()

    assert BookingEvent.objects.filter(pk=event.pk).exists()


def test_events_cannot_be_updated_or_deleted_in_bulk(event):
    with pytest.raises(TypeError):
        BookingEvent.objects.filter(pk=event.pk).update(reason="rewritten")
    with pytest.raises(TypeError):
        BookingEvent.objects.update(reason="rewritten")
    with pytest.raises(TypeError):
        BookingEvent.objects.filter(pk=event.pk).delete()
    with pytest.raises(TypeError):
        BookingEvent.objects.all().delete()

    assert BookingEvent.objects.get(pk=event.pk).reason == ""


def test_new_events_can_still_be_appended(event, lukio_staff):
    BookingEvent.objects.create(booking_id=event.booking_id, actor=lukio_staff, action=BookingAction.CHANGE)

    assert BookingEvent.objects.filter(booking_id=event.booking_id).count() == 2


@pytest.mark.postgres
def test_postgresql_refuses_a_raw_update_of_the_audit_log(on_postgres, event):
    with pytest.raises(Error), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("UPDATE bookings_bookingevent SET reason = 'rewritten' WHERE id = %s", [event.pk])

    assert BookingEvent.objects.get(pk=event.pk).reason == ""


@pytest.mark.postgres
def test_postgresql_refuses_a_raw_delete_from_the_audit_log(on_postgres, event):
    with pytest.raises(Error), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("DELETE FROM bookings_bookingevent WHERE id = %s", [event.pk])

    assert BookingEvent.objects.filter(pk=event.pk).exists()


def test_an_event_is_timestamped_when_it_is_written(event):
    assert abs(event.at - timezone.now()) < dt.timedelta(minutes=1)
