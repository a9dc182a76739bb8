"""Booking rules: the effective policy of a room, every rule's refusal, access, fairness windows and overrides."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from bookings.errors import BookingRuleBroken, SlotTaken
from bookings.models import Access, Booking, BookingAction, BookingBlock, BookingEvent, BookingPolicy, BookingStatus
from bookings.rules import DEFAULT_POLICY, EffectivePolicy, effective_policy
from bookings.services import booking_cancel, closure_create
from campus.models import Room
from tests.bookings.conftest import HELSINKI, TUESDAY, at, book, next_weekday_after

pytestmark = pytest.mark.usefixtures("blocks_stay_consistent")

WEEK = dt.timedelta(weeks=1)


def room_policy(room: Room, **rules) -> BookingPolicy:
    return BookingPolicy.objects.create(room=room, **rules)


def weekday_at_least(days: int, weekday: int = TUESDAY, *, now: dt.datetime) -> dt.date:
    """Return the first ``weekday`` at least ``days`` days after ``now``'s campus date."""
    return next_weekday_after(now.astimezone(HELSINKI).date() + dt.timedelta(days=days - 1), weekday)


# --- effective policy: inheritance ---------------------------------------------------------------


def test_without_any_policy_a_room_has_kampus_defaults(joint_campus):
    policy = effective_policy(joint_campus.classroom)

    assert policy == DEFAULT_POLICY == EffectivePolicy()
    assert (policy.min_duration_minutes, policy.max_duration_minutes) == (15, 24 * 60)
    assert (policy.min_notice_minutes, policy.max_advance_days, policy.max_active_bookings) == (0, 365, 50)
    assert (policy.owner_access, policy.other_access) == (Access.DIRECT, Access.DIRECT)
    assert (policy.owner_window_days, policy.other_window_days, policy.request_expiry_hours) == (365, 180, 72)


def test_a_campus_policy_applies_to_every_room_of_the_campus(joint_campus, workshop):
    BookingPolicy.objects.create(campus=joint_campus.campus, max_duration_minutes=120, other_access=Access.REQUEST)

    for room in (joint_campus.classroom, joint_campus.lab, joint_campus.shared_auditorium, workshop):
        policy = effective_policy(room)
        assert policy.max_duration_minutes == 120
        assert policy.other_access == Access.REQUEST
        assert policy.min_duration_minutes == DEFAULT_POLICY.min_duration_minutes


def test_a_building_policy_overrides_the_campus_policy_for_its_rooms_only(joint_campus, workshop):
    BookingPolicy.objects.create(campus=joint_campus.campus, max_duration_minutes=120, min_notice_minutes=60)
    BookingPolicy.objects.create(building=joint_campus.main_building, max_duration_minutes=90)

    in_main = effective_policy(joint_campus.classroom)
    assert (in_main.max_duration_minutes, in_main.min_notice_minutes) == (90, 60)
    in_workshop = effective_policy(workshop)
    assert (in_workshop.max_duration_minutes, in_workshop.min_notice_minutes) == (120, 60)


def test_a_room_policy_overrides_the_building_and_unset_fields_fall_through_to_the_defaults(joint_campus):
    BookingPolicy.objects.create(campus=joint_campus.campus, max_duration_minutes=120, min_notice_minutes=60)
    BookingPolicy.objects.create(
        building=joint_campus.main_building, max_duration_minutes=90, request_expiry_hours=24, owner_access="request"
    )
    room_policy(joint_campus.classroom, max_duration_minutes=60, other_access=Access.NONE, owner_access="")

    assert effective_policy(joint_campus.classroom) == EffectivePolicy(
        min_duration_minutes=15,  # default
        max_duration_minutes=60,  # room
        min_notice_minutes=60,  # campus
        max_advance_days=365,  # default
        max_active_bookings=50,  # default
        owner_access=Access.REQUEST,  # building (the room's blank choice falls through)
        other_access=Access.NONE,  # room
        owner_window_days=365,  # default
        other_window_days=180,  # default
        request_expiry_hours=24,  # building
    )
    # The room's policy is its own: the lab next door keeps the building's values.
    assert effective_policy(joint_campus.lab).max_duration_minutes == 90
    assert effective_policy(joint_campus.lab).other_access == Access.DIRECT


# --- each rule's refusal -------------------------------------------------------------------------


def test_a_booking_shorter_than_the_minimum_is_refused_as_too_short(joint_campus, lukio_staff, day):
    room_policy(joint_campus.classroom, min_duration_minutes=30)

    with pytest.raises(BookingRuleBroken) as refused:
        book(lukio_staff, joint_campus.classroom, at(day, 10), at(day, 10, 20))

    error = refused.value
    assert (error.code, error.rule, error.allowed) == ("too_short", "min_duration", 30)
    assert error.http_status == 422
    assert "30 minutes" in error.message
    assert error.extra["can_override"] is False
    assert not Booking.objects.exists()


def test_a_booking_of_exactly_the_minimum_duration_is_allowed(joint_campus, lukio_staff, day):
    room_policy(joint_campus.classroom, min_duration_minutes=30)

    book(lukio_staff, joint_campus.classroom, at(day, 10), at(day, 10, 30))

    assert Booking.objects.count() == 1


def test_a_booking_longer_than_the_maximum_is_refused_as_too_long(joint_campus, lukio_staff, day):
    room_policy(joint_campus.classroom, max_duration_minutes=120)

    with pytest.raises(BookingRuleBroken) as refused:
        book(lukio_staff, joint_campus.classroom, at(day, 10), at(day, 12, 15))

    error = refused.value
    assert (error.code, error.rule, error.allowed) == ("too_long", "max_duration", 120)
    assert "120 minutes" in error.message
    book(lukio_staff, joint_campus.classroom, at(day, 10), at(day, 12))  # exactly the maximum passes


def test_a_booking_inside_the_minimum_notice_is_refused_with_the_earliest_allowed_start(joint_campus, lukio_staff, day):
    room_policy(joint_campus.classroom, min_notice_minutes=24 * 60)
    now = at(day, 8)

    with pytest.raises(BookingRuleBroken) as refused:
        book(lukio_staff, joint_campus.classroom, at(day, 12), at(day, 13), now=now)

    error = refused.value
    assert (error.code, error.rule) == ("too_soon", "min_notice")
    assert error.allowed == at(day + dt.timedelta(days=1), 8)
    assert error.allowed.utcoffset() == at(day, 8).utcoffset()  # given in the campus's time
    next_day = day + dt.timedelta(days=1)
    assert f"{next_day:%Y-%m-%d} 08:00" in error.message
    book(lukio_staff, joint_campus.classroom, at(next_day, 8), at(next_day, 9), now=now)  # exactly the notice


def test_a_booking_beyond_the_latest_advance_is_refused_with_the_latest_date(joint_campus, lukio_staff):
    now = timezone.now()
    target = weekday_at_least(40, now=now)
    days_ahead = (target - now.astimezone(HELSINKI).date()).days
    room_policy(joint_campus.classroom, max_advance_days=days_ahead - 1)

    with pytest.raises(BookingRuleBroken) as refused:
        book(lukio_staff, joint_campus.classroom, at(target, 10), at(target, 11), now=now)

    error = refused.value
    assert (error.code, error.rule) == ("too_far_ahead", "owner_window")
    assert error.allowed == target - dt.timedelta(days=1)
    assert (target - dt.timedelta(days=1)).isoformat() in error.message
    BookingPolicy.objects.filter(room=joint_campus.classroom).update(max_advance_days=days_ahead)
    book(lukio_staff, joint_campus.classroom, at(target, 10), at(target, 11), now=now)  # the last day passes


def test_more_active_bookings_than_the_quota_are_refused_and_a_series_counts_as_one(joint_campus, lukio_staff, day):
    BookingPolicy.objects.create(campus=joint_campus.campus, max_active_bookings=2)
    series = book(lukio_staff, joint_campus.classroom, at(day, 8), at(day, 9), rrule="FREQ=WEEKLY;COUNT=5")
    assert len(series.bookings) == 5
    book(lukio_staff, joint_campus.lab, at(day, 10), at(day, 11))

    with pytest.raises(BookingRuleBroken) as refused:
        book(lukio_staff, joint_campus.lab, at(day, 12), at(day, 13))

    error = refused.value
    assert (error.code, error.rule, error.allowed) == ("quota_exceeded", "max_active_bookings", 2)
    assert "limit is 2" in error.message
    assert Booking.objects.count() == 6


def test_cancelled_bookings_do_not_count_towards_the_quota(joint_campus, lukio_staff, day):
    BookingPolicy.objects.create(campus=joint_campus.campus, max_active_bookings=1)
    first = book(lukio_staff, joint_campus.classroom, at(day, 10), at(day, 11)).first
    with pytest.raises(BookingRuleBroken):
        book(lukio_staff, joint_campus.classroom, at(day, 12), at(day, 13))

    booking_cancel(booking=first, actor=lukio_staff)

    book(lukio_staff, joint_campus.classroom, at(day, 12), at(day, 13))


def test_past_bookings_do_not_count_towards_the_quota(joint_campus, lukio_staff, day):
    BookingPolicy.objects.create(campus=joint_campus.campus, max_active_bookings=1)
    book(lukio_staff, joint_campus.classroom, at(day, 10), at(day, 11))

    # Once the first booking has ended, it no longer counts.
    book(lukio_staff, joint_campus.classroom, at(day, 14), at(day, 15), now=at(day, 11, 30))

    assert Booking.objects.count() == 2


def test_quota_counts_each_person_separately(joint_campus, lukio_staff, vocational_staff, day):
    BookingPolicy.objects.create(campus=joint_campus.campus, max_active_bookings=1)
    book(lukio_staff, joint_campus.classroom, at(day, 10), at(day, 11))

    book(vocational_staff, joint_campus.classroom, at(day, 12), at(day, 13))

    assert [(b.booked_by, b.status) for b in Booking.objects.order_by("start")] == [
        (lukio_staff, BookingStatus.CONFIRMED),
        (vocational_staff, BookingStatus.CONFIRMED),
    ]


def test_more_attendees_than_the_room_holds_are_refused_as_over_capacity(joint_campus, lukio_staff, day):
    with pytest.raises(BookingRuleBroken) as refused:
        book(lukio_staff, joint_campus.classroom, at(day, 10), at(day, 11), attendees=31)

    error = refused.value
    assert (error.code, error.rule, error.allowed) == ("over_capacity", "capacity", 30)
    assert "30" in error.message
    book(lukio_staff, joint_campus.classroom, at(day, 10), at(day, 11), attendees=30)


def test_staff_of_an_institution_with_no_access_are_refused_as_not_allowed(
    joint_campus, lukio_staff, vocational_staff, day
):
    room_policy(joint_campus.classroom, other_access=Access.NONE)

    with pytest.raises(BookingRuleBroken) as refused:
        book(vocational_staff, joint_campus.classroom, at(day, 10), at(day, 11))

    error = refused.value
    assert (error.code, error.rule, error.allowed) == ("not_allowed", "who_may_book", None)
    assert error.message == "Staff of your institution may not book this room."
    assert book(lukio_staff, joint_campus.classroom, at(day, 10), at(day, 11)).first.status == BookingStatus.CONFIRMED


def test_a_shared_room_closed_to_institutions_refuses_everyone_but_its_facility_managers(
    joint_campus, lukio_staff, campus_fm, day
):
    room_policy(joint_campus.shared_auditorium, other_access=Access.NONE, owner_access=Access.DIRECT)

    with pytest.raises(BookingRuleBroken) as refused:
        book(lukio_staff, joint_campus.shared_auditorium, at(day, 10), at(day, 11))

    assert (refused.value.code, refused.value.rule) == ("not_allowed", "who_may_book")
    assert refused.value.message == "This shared room cannot be booked by institutions."
    booking = book(campus_fm, joint_campus.shared_auditorium, at(day, 10), at(day, 11)).first
    assert booking.status == BookingStatus.CONFIRMED


# --- fairness window -----------------------------------------------------------------------------


def test_the_owner_books_further_ahead_than_other_institutions(joint_campus, lukio_staff, vocational_staff):
    room_policy(joint_campus.classroom, owner_window_days=60, other_window_days=14)
    now = timezone.now()
    target = weekday_at_least(30, now=now)

    with pytest.raises(BookingRuleBroken) as refused:
        book(vocational_staff, joint_campus.classroom, at(target, 10), at(target, 11), now=now)

    error = refused.value
    assert (error.code, error.rule) == ("too_far_ahead", "other_window")
    assert error.allowed == now.astimezone(HELSINKI).date() + dt.timedelta(days=14)
    assert error.extra["can_override"] is False
    owner_booking = book(lukio_staff, joint_campus.classroom, at(target, 10), at(target, 11), now=now).first
    assert owner_booking.institution == joint_campus.lukio


def test_the_owner_is_refused_beyond_the_owner_window(joint_campus, lukio_staff):
    room_policy(joint_campus.classroom, owner_window_days=60, other_window_days=14)
    now = timezone.now()
    target = weekday_at_least(70, now=now)

    with pytest.raises(BookingRuleBroken) as refused:
        book(lukio_staff, joint_campus.classroom, at(target, 10), at(target, 11), now=now)

    assert (refused.value.code, refused.value.rule) == ("too_far_ahead", "owner_window")
    assert refused.value.allowed == now.astimezone(HELSINKI).date() + dt.timedelta(days=60)


def test_in_a_shared_room_every_institution_counts_as_other(joint_campus, lukio_staff, vocational_staff):
    room_policy(joint_campus.shared_auditorium, owner_window_days=60, other_window_days=14)
    now = timezone.now()
    target = weekday_at_least(30, now=now)

    for user in (lukio_staff, vocational_staff):
        with pytest.raises(BookingRuleBroken) as refused:
            book(user, joint_campus.shared_auditorium, at(target, 10), at(target, 11), now=now)
        assert (refused.value.code, refused.value.rule) == ("too_far_ahead", "other_window")


@pytest.mark.parametrize("planner", ["fm_of_lukio", "lukio_admin"])
def test_facility_managers_and_institution_admins_book_timetable_series_up_to_400_days_ahead(
    request, joint_campus, planner
):
    user = request.getfixturevalue(planner)
    now = timezone.now()
    first = weekday_at_least(384, now=now)  # the second weekly occurrence lies 391–397 days ahead

    result = book(user, joint_campus.classroom, at(first, 10), at(first, 11), rrule="FREQ=WEEKLY;COUNT=2", now=now)

    assert len(result.bookings) == 2
    assert not BookingEvent.objects.filter(action=BookingAction.OVERRIDE).exists()


def test_staff_cannot_book_a_series_beyond_the_normal_window(joint_campus, lukio_staff):
    now = timezone.now()
    first = weekday_at_least(384, now=now)

    with pytest.raises(BookingRuleBroken) as refused:
        book(lukio_staff, joint_campus.classroom, at(first, 10), at(first, 11), rrule="FREQ=WEEKLY;COUNT=2", now=now)

    assert (refused.value.code, refused.value.rule) == ("too_far_ahead", "owner_window")
    assert refused.value.allowed == now.astimezone(HELSINKI).date() + dt.timedelta(days=365)


def test_the_400_day_timetable_window_is_for_series_not_single_bookings(joint_campus, lukio_admin):
    now = timezone.now()
    target = weekday_at_least(384, now=now)

    with pytest.raises(BookingRuleBroken) as refused:
        book(lukio_admin, joint_campus.classroom, at(target, 10), at(target, 11), now=now)

    assert refused.value.code == "too_far_ahead"


# --- access: direct or by request ----------------------------------------------------------------


def test_owner_staff_book_directly_while_other_institutions_request(joint_campus, lukio_staff, vocational_staff, day):
    room_policy(joint_campus.classroom, owner_access=Access.DIRECT, other_access=Access.REQUEST)
    now = timezone.now()

    own = book(lukio_staff, joint_campus.classroom, at(day, 8), at(day, 9), now=now).first
    request = book(vocational_staff, joint_campus.classroom, at(day, 10), at(day, 11), now=now).first

    assert own.status == BookingStatus.CONFIRMED
    assert own.expires_at is None
    assert request.status == BookingStatus.PENDING
    assert request.expires_at == now + dt.timedelta(hours=72)
    assert request.institution == joint_campus.vocational


def test_a_request_expires_after_the_policys_hours(joint_campus, vocational_staff, day):
    room_policy(joint_campus.classroom, other_access=Access.REQUEST, request_expiry_hours=24)
    now = timezone.now()

    request = book(vocational_staff, joint_campus.classroom, at(day, 10), at(day, 11), now=now).first

    assert request.expires_at == now + dt.timedelta(hours=24)


def test_a_pending_request_holds_its_slot(joint_campus, lukio_staff, vocational_staff, day):
    room_policy(joint_campus.classroom, other_access=Access.REQUEST)
    request = book(vocational_staff, joint_campus.classroom, at(day, 10), at(day, 11)).first
    assert BookingBlock.objects.filter(booking=request).exists()

    with pytest.raises(SlotTaken):
        book(lukio_staff, joint_campus.classroom, at(day, 10, 30), at(day, 11, 30))


@pytest.mark.parametrize("manager", ["fm_of_lukio", "campus_fm"])
def test_facility_managers_book_directly_even_where_others_must_request(request, joint_campus, manager, day):
    room_policy(joint_campus.classroom, owner_access=Access.REQUEST, other_access=Access.REQUEST)

    booking = book(request.getfixturevalue(manager), joint_campus.classroom, at(day, 10), at(day, 11)).first

    assert booking.status == BookingStatus.CONFIRMED


# --- overrides -----------------------------------------------------------------------------------


def override_events() -> list[BookingEvent]:
    return list(BookingEvent.objects.filter(action=BookingAction.OVERRIDE))


def test_a_facility_manager_overrides_the_longest_duration_with_a_recorded_reason(joint_campus, fm_of_lukio, day):
    room_policy(joint_campus.classroom, max_duration_minutes=120)

    booking = book(
        fm_of_lukio, joint_campus.classroom, at(day, 8), at(day, 16), override_reason="  Matriculation exam  "
    ).first

    assert booking.status == BookingStatus.CONFIRMED
    [event] = override_events()
    assert event.booking_id == booking.pk
    assert event.actor_id == fm_of_lukio.pk
    assert event.reason == "Matriculation exam"
    assert [(r["rule"], r["code"]) for r in event.before["rules"]] == [("max_duration", "too_long")]


def test_a_facility_manager_overrides_the_window_and_the_quota_together(joint_campus, fm_of_lukio):
    room_policy(joint_campus.classroom, owner_window_days=10, max_active_bookings=1)
    now = timezone.now()
    near = weekday_at_least(3, now=now)
    book(fm_of_lukio, joint_campus.classroom, at(near, 10), at(near, 11), now=now)
    far = weekday_at_least(30, now=now)

    booking = book(
        fm_of_lukio, joint_campus.classroom, at(far, 10), at(far, 11), now=now, override_reason="Open day"
    ).first

    [event] = override_events()
    assert event.booking_id == booking.pk
    assert event.reason == "Open day"
    assert {r["rule"] for r in event.before["rules"]} == {"owner_window", "max_active_bookings"}


def test_an_override_applies_to_every_occurrence_of_a_series(joint_campus, fm_of_lukio, day):
    room_policy(joint_campus.classroom, max_duration_minutes=60)

    result = book(
        fm_of_lukio,
        joint_campus.classroom,
        at(day, 8),
        at(day, 11),
        rrule="FREQ=WEEKLY;COUNT=3",
        override_reason="Exam week",
    )

    assert sorted(e.booking_id for e in override_events()) == sorted(b.pk for b in result.bookings)


def test_a_facility_manager_without_a_reason_is_refused_but_told_they_may_override(joint_campus, fm_of_lukio, day):
    room_policy(joint_campus.classroom, max_duration_minutes=120)

    for reason in ("", "   "):
        with pytest.raises(BookingRuleBroken) as refused:
            book(fm_of_lukio, joint_campus.classroom, at(day, 8), at(day, 16), override_reason=reason)
        assert refused.value.code == "too_long"
        assert refused.value.extra["can_override"] is True
    assert not Booking.objects.exists()


def test_staff_cannot_override_a_rule_even_with_a_reason(joint_campus, lukio_staff, day):
    room_policy(joint_campus.classroom, max_duration_minutes=120)

    with pytest.raises(BookingRuleBroken) as refused:
        book(lukio_staff, joint_campus.classroom, at(day, 8), at(day, 16), override_reason="I need it")

    assert refused.value.code == "too_long"
    assert refused.value.extra["can_override"] is False
    assert not Booking.objects.exists()


def test_a_facility_manager_of_another_institution_cannot_override_in_the_owners_room(
    joint_campus, fm_of_vocational, day
):
    room_policy(joint_campus.classroom, max_duration_minutes=120)

    with pytest.raises(BookingRuleBroken) as refused:
        book(fm_of_vocational, joint_campus.classroom, at(day, 8), at(day, 16), override_reason="Our exam")

    assert refused.value.extra["can_override"] is False


def test_an_override_never_allows_an_overlap(joint_campus, lukio_staff, fm_of_lukio, day):
    room_policy(joint_campus.classroom, max_duration_minutes=120)
    book(lukio_staff, joint_campus.classroom, at(day, 12), at(day, 13))

    with pytest.raises(SlotTaken):
        book(fm_of_lukio, joint_campus.classroom, at(day, 8), at(day, 16), override_reason="Exam")

    assert Booking.objects.count() == 1
    assert not override_events()


def test_an_override_never_allows_booking_into_a_closure(joint_campus, fm_of_lukio, day):
    room_policy(joint_campus.classroom, max_duration_minutes=120)
    closure_create(
        actor=fm_of_lukio, room=joint_campus.classroom, start=at(day, 0), end=at(day, 23), reason="Floor polishing"
    )

    with pytest.raises(BookingRuleBroken) as refused:
        book(fm_of_lukio, joint_campus.classroom, at(day, 8), at(day, 16), override_reason="Exam")

    assert (refused.value.code, refused.value.rule) == ("closed", "closure")
    assert not Booking.objects.exists()


def test_an_override_never_allows_more_attendees_than_the_room_holds(joint_campus, fm_of_lukio, day):
    with pytest.raises(BookingRuleBroken) as refused:
        book(fm_of_lukio, joint_campus.classroom, at(day, 8), at(day, 9), attendees=31, override_reason="Crowd")

    assert refused.value.code == "over_capacity"


def test_a_booking_within_the_rules_records_no_override_even_with_a_reason(joint_campus, fm_of_lukio, day):
    book(fm_of_lukio, joint_campus.classroom, at(day, 8), at(day, 9), override_reason="Just in case")

    assert not override_events()
