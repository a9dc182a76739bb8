"""The approval workflow: requests are approved, rejected or expire; only the room's deciders decide."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from bookings import tasks
from bookings.errors import BookingStateError, SlotTaken
from bookings.models import Booking, BookingAction, BookingBlock, BookingEvent, BookingStatus
from bookings.services import Scope, booking_approve, booking_reject, requests_expire
from campus.exceptions import InvalidInput, PermissionDenied
from campus.models import Membership, Role
from tests.bookings.conftest import at, book, error_fields, today
from tests.conftest import make_user

pytestmark = pytest.mark.usefixtures("blocks_stay_consistent")

WEEK = dt.timedelta(weeks=1)


@pytest.fixture
def request_for_classroom(requests_needed, joint_campus, vocational_staff, day) -> Booking:
    booking = book(vocational_staff, joint_campus.classroom, at(day, 10), at(day, 11), title="Welding theory").first
    assert booking.status == BookingStatus.PENDING
    return booking


@pytest.fixture
def series_request(requests_needed, joint_campus, vocational_staff, day) -> list[Booking]:
    result = book(
        vocational_staff, joint_campus.classroom, at(day, 12), at(day, 13), rrule="FREQ=WEEKLY;COUNT=3", title="Course"
    )
    assert {b.status for b in result.bookings} == {BookingStatus.PENDING}
    return result.bookings


def reloaded(booking: Booking) -> Booking:
    return Booking.objects.get(pk=booking.pk)


def statuses(bookings: list[Booking]) -> list[str]:
    return [reloaded(b).status for b in bookings]


# --- approve and reject ------------------------------------------------------------------------


def test_approving_a_request_confirms_it_and_records_who_decided_when_and_why(request_for_classroom, fm_of_lukio):
    now = timezone.now()

    [approved] = booking_approve(booking=request_for_classroom, actor=fm_of_lukio, reason="Fine by us", now=now)

    booking = reloaded(request_for_classroom)
    assert approved.pk == booking.pk
    assert booking.status == BookingStatus.CONFIRMED
    assert booking.decided_by == fm_of_lukio
    assert booking.decided_at == now
    assert booking.decision_reason == "Fine by us"
    assert booking.expires_at is None
    assert BookingBlock.objects.filter(booking=booking).exists()  # still holds its slot


def test_rejecting_a_request_needs_a_reason(request_for_classroom, fm_of_lukio):
    for reason in ("", "   "):
        with pytest.raises(InvalidInput) as refused:
            booking_reject(booking=request_for_classroom, actor=fm_of_lukio, reason=reason)
        assert error_fields(refused.value) == ["reason"]

    assert reloaded(request_for_classroom).status == BookingStatus.PENDING


def test_rejecting_a_request_frees_its_slot(request_for_classroom, fm_of_lukio, lukio_staff, joint_campus, day):
    now = timezone.now()

    booking_reject(booking=request_for_classroom, actor=fm_of_lukio, reason="Exams that week", now=now)

    booking = reloaded(request_for_classroom)
    assert booking.status == BookingStatus.REJECTED
    assert (booking.decided_by, booking.decided_at, booking.decision_reason) == (fm_of_lukio, now, "Exams that week")
    assert not BookingBlock.objects.filter(booking=booking).exists()
    book(lukio_staff, joint_campus.classroom, at(day, 10), at(day, 11))


def test_a_confirmed_booking_cannot_be_approved_or_rejected(request_for_classroom, fm_of_lukio):
    booking_approve(booking=request_for_classroom, actor=fm_of_lukio)

    with pytest.raises(BookingStateError) as refused:
        booking_approve(booking=request_for_classroom, actor=fm_of_lukio)
    assert (refused.value.code, refused.value.http_status) == ("invalid_state", 409)
    with pytest.raises(BookingStateError):
        booking_reject(booking=request_for_classroom, actor=fm_of_lukio, reason="Changed my mind")


def test_a_rejected_request_cannot_be_approved(request_for_classroom, fm_of_lukio):
    booking_reject(booking=request_for_classroom, actor=fm_of_lukio, reason="No")

    with pytest.raises(BookingStateError):
        booking_approve(booking=request_for_classroom, actor=fm_of_lukio)
    assert reloaded(request_for_classroom).status == BookingStatus.REJECTED


def test_a_direct_booking_is_not_a_request_to_approve(joint_campus, lukio_staff, fm_of_lukio, day):
    booking = book(lukio_staff, joint_campus.classroom, at(day, 10), at(day, 11)).first

    with pytest.raises(BookingStateError):
        booking_approve(booking=booking, actor=fm_of_lukio)


def test_occurrence_scope_approves_only_that_occurrence(series_request, fm_of_lukio):
    booking_approve(booking=series_request[1], actor=fm_of_lukio, scope=Scope.OCCURRENCE)

    assert statuses(series_request) == [BookingStatus.PENDING, BookingStatus.CONFIRMED, BookingStatus.PENDING]


def test_series_scope_approves_every_pending_occurrence(series_request, fm_of_lukio):
    booking_reject(booking=series_request[2], actor=fm_of_lukio, reason="Holiday week", scope=Scope.OCCURRENCE)

    approved = booking_approve(booking=series_request[1], actor=fm_of_lukio, scope=Scope.SERIES)

    assert [b.pk for b in approved] == [series_request[0].pk, series_request[1].pk]
    assert statuses(series_request) == [BookingStatus.CONFIRMED, BookingStatus.CONFIRMED, BookingStatus.REJECTED]


def test_series_scope_rejects_every_pending_occurrence_and_frees_their_slots(series_request, fm_of_lukio):
    rejected = booking_reject(booking=series_request[0], actor=fm_of_lukio, reason="Full term", scope=Scope.SERIES)

    assert len(rejected) == 3
    assert statuses(series_request) == [BookingStatus.REJECTED] * 3
    assert not BookingBlock.objects.exists()


def test_following_scope_approves_this_and_later_occurrences(series_request, fm_of_lukio):
    booking_approve(booking=series_request[1], actor=fm_of_lukio, scope=Scope.FOLLOWING)

    assert statuses(series_request) == [BookingStatus.PENDING, BookingStatus.CONFIRMED, BookingStatus.CONFIRMED]


# --- expiry --------------------------------------------------------------------------------------


def test_a_request_not_decided_in_time_expires_and_frees_its_slot(
    request_for_classroom, lukio_staff, joint_campus, day
):
    after = request_for_classroom.expires_at + dt.timedelta(minutes=1)

    expired = requests_expire(now=after)

    assert [b.pk for b in expired] == [request_for_classroom.pk]
    booking = reloaded(request_for_classroom)
    assert booking.status == BookingStatus.REJECTED
    assert booking.decision_reason == "expired"
    assert booking.decided_at == after
    assert booking.decided_by is None
    assert not BookingBlock.objects.filter(booking=booking).exists()
    event = BookingEvent.objects.get(booking=booking, action=BookingAction.EXPIRE)
    assert event.actor_id is None
    assert event.before["status"] == BookingStatus.PENDING
    assert event.after["status"] == BookingStatus.REJECTED
    book(lukio_staff, joint_campus.classroom, at(day, 10), at(day, 11))


def test_a_request_expires_exactly_at_its_expiry_time(request_for_classroom):
    requests_expire(now=request_for_classroom.expires_at)

    assert reloaded(request_for_classroom).status == BookingStatus.REJECTED


def test_nothing_expires_before_the_expiry_time(request_for_classroom):
    before = request_for_classroom.expires_at - dt.timedelta(minutes=1)

    assert requests_expire(now=before) == []

    booking = reloaded(request_for_classroom)
    assert booking.status == BookingStatus.PENDING
    assert booking.decision_reason == ""
    assert BookingBlock.objects.filter(booking=booking).exists()
    assert not BookingEvent.objects.filter(action=BookingAction.EXPIRE).exists()


def test_decided_requests_never_expire(request_for_classroom, fm_of_lukio):
    booking_approve(booking=request_for_classroom, actor=fm_of_lukio)

    assert requests_expire(now=timezone.now() + dt.timedelta(days=30)) == []
    assert reloaded(request_for_classroom).status == BookingStatus.CONFIRMED


def test_the_expire_requests_task_expires_overdue_requests(request_for_classroom):
    Booking.objects.filter(pk=request_for_classroom.pk).update(expires_at=timezone.now() - dt.timedelta(minutes=1))

    assert tasks.expire_requests() == 1

    booking = reloaded(request_for_classroom)
    assert (booking.status, booking.decision_reason) == (BookingStatus.REJECTED, "expired")
    assert tasks.expire_requests() == 0


# --- who decides ---------------------------------------------------------------------------------


def test_the_owners_facility_manager_decides_requests_for_the_owners_room(request_for_classroom, fm_of_lukio):
    booking_approve(booking=request_for_classroom, actor=fm_of_lukio)

    assert reloaded(request_for_classroom).status == BookingStatus.CONFIRMED


def test_the_campus_facility_manager_decides_requests_for_shared_rooms(
    requests_needed, joint_campus, lukio_staff, campus_fm, day
):
    request = book(lukio_staff, joint_campus.shared_auditorium, at(day, 10), at(day, 11)).first
    assert request.status == BookingStatus.PENDING

    booking_approve(booking=request, actor=campus_fm)

    assert reloaded(request).status == BookingStatus.CONFIRMED


def test_the_campus_facility_manager_does_not_decide_for_an_institutions_room(request_for_classroom, campus_fm):
    with pytest.raises(PermissionDenied):
        booking_approve(booking=request_for_classroom, actor=campus_fm)
    with pytest.raises(PermissionDenied):
        booking_reject(booking=request_for_classroom, actor=campus_fm, reason="No")

    assert reloaded(request_for_classroom).status == BookingStatus.PENDING


def test_the_owners_facility_manager_does_not_decide_for_shared_rooms(
    requests_needed, joint_campus, vocational_staff, fm_of_lukio, day
):
    request = book(vocational_staff, joint_campus.shared_auditorium, at(day, 10), at(day, 11)).first

    with pytest.raises(PermissionDenied):
        booking_approve(booking=request, actor=fm_of_lukio)


@pytest.mark.parametrize("decider", ["vocational_staff", "adult_staff", "lukio_staff", "fm_of_vocational"])
def test_staff_and_facility_managers_of_other_institutions_never_decide(request, request_for_classroom, decider):
    actor = request.getfixturevalue(decider)

    with pytest.raises(PermissionDenied):
        booking_approve(booking=request_for_classroom, actor=actor)
    with pytest.raises(PermissionDenied):
        booking_reject(booking=request_for_classroom, actor=actor, reason="No")

    assert reloaded(request_for_classroom).status == BookingStatus.PENDING
    assert not BookingEvent.objects.filter(action__in=[BookingAction.APPROVE, BookingAction.REJECT]).exists()


def test_a_facility_manager_whose_membership_ended_no_longer_decides(request_for_classroom, joint_campus):
    former = make_user("former.fm")
    Membership.objects.create(
        user=former,
        institution=joint_campus.lukio,
        role=Role.FACILITY_MANAGER,
        valid_until=today() - dt.timedelta(days=1),
    )

    with pytest.raises(PermissionDenied):
        booking_approve(booking=request_for_classroom, actor=former)


def test_a_pending_request_cannot_be_double_booked_by_another_request(
    request_for_classroom, joint_campus, adult_staff, day
):
    with pytest.raises(SlotTaken):
        book(adult_staff, joint_campus.classroom, at(day, 10, 30), at(day, 11, 30))
