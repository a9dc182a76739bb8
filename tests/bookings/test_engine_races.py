"""Races between different people on PostgreSQL: each state change locks and re-reads its rows.

Every racer is another person (so the per-booker lock cannot keep them apart) in its own thread
and database connection, released at one moment by a barrier. The room-part lock is what queues
the writers of one room; without it, concurrent inserts into the exclusion constraint deadlock
(PostgreSQL aborts one with "deadlock detected"), which these tests count as a failure.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from django.db import connection

from bookings.errors import BookingStateError, SlotTaken
from bookings.models import (
    ACTIVE_STATUSES,
    Booking,
    BookingAction,
    BookingEvent,
    BookingStatus,
    Notification,
    NotificationKind,
)
from bookings.services import booking_approve, booking_cancel, booking_create, booking_reject, booking_release
from campus.models import Membership, Role, Room, RoomKind, User
from tests.bookings.conftest import Gym, assert_blocks_consistent, at, race_day
from tests.conftest import make_user

ROUNDS = 10

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("on_postgres")]


@dataclass
class Outcome:
    label: str
    value: Any = None
    error: BaseException | None = None

    @property
    def won(self) -> bool:
        return self.error is None


def run_at_once(calls: list[tuple[str, Callable[[], Any]]]) -> list[Outcome]:
    """Run each call in its own thread and database connection, all released at one moment."""
    barrier = threading.Barrier(len(calls))
    outcomes: list[Outcome] = [Outcome(label) for label, _call in calls]

    def run(index: int, call: Callable[[], Any]) -> None:
        try:
            barrier.wait(timeout=30)
            outcomes[index].value = call()
        except BaseException as error:  # recorded and asserted on by the test
            outcomes[index].error = error
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i, call)) for i, (_label, call) in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert all(not thread.is_alive() for thread in threads), "a racing thread hung"
    return outcomes


def describe(outcomes: list[Outcome]) -> str:
    return "; ".join(f"{o.label}: {'won' if o.won else f'{type(o.error).__name__}: {o.error}'}" for o in outcomes)


def people(joint_campus, count: int) -> list[User]:
    """Return ``count`` different teachers of the upper-secondary school."""
    users = []
    for n in range(count):
        user = make_user(f"racer{n}")
        Membership.objects.create(user=user, institution=joint_campus.lukio, role=Role.STAFF)
        users.append(user)
    return users


# --- 7. many people race for a divisible hall and its sections -----------------------------------


def _new_gym(building, round_: int) -> Gym:
    sections = [
        Room.objects.create(
            building=building, code=f"G{round_}-{n}", name=f"Gym {round_} section {n}", kind=RoomKind.GYM, capacity=30
        )
        for n in (1, 2, 3)
    ]
    whole = Room.objects.create(
        building=building, code=f"G{round_}", name=f"Gym {round_}", kind=RoomKind.GYM, capacity=90
    )
    whole.sections.set(sections)
    return Gym(whole=whole, sections=sections)


def test_people_racing_for_halls_and_their_sections_queue_and_are_refused_cleanly(joint_campus):
    racers = people(joint_campus, 12)
    day = race_day()
    # Several rounds, each on a hall of its own: a missing part lock shows as a deadlock in some of them.
    for round_ in range(ROUNDS):
        gym = _new_gym(joint_campus.main_building, round_)
        rooms = [gym.whole, *gym.sections] * 3
        calls = []
        for n, (user, room) in enumerate(zip(racers, rooms, strict=True)):
            start = at(day, 8) + dt.timedelta(minutes=5 * n)  # every slot overlaps every other's
            calls.append(
                (
                    f"round {round_} {user.username}→{room.code}",
                    lambda user=user, room=room, start=start: booking_create(
                        room=room,
                        booked_by=user,
                        title="race",
                        start=start,
                        end=start + dt.timedelta(hours=2),
                        rrule="FREQ=WEEKLY;BYDAY=TU,WE,TH;COUNT=30",
                    ),
                )
            )

        outcomes = run_at_once(calls)

        unclean = [o for o in outcomes if not o.won and not isinstance(o.error, SlotTaken)]
        assert not unclean, describe(outcomes)
        winners = [o.value.first.room for o in outcomes if o.won]
        # Either the whole hall won (alone), or sections won, at most one per section.
        assert winners, describe(outcomes)
        if gym.whole in winners:
            assert winners == [gym.whole], describe(outcomes)
        else:
            assert len(winners) == len(set(winners)), describe(outcomes)
        booked = sum(len(o.value.bookings) for o in outcomes if o.won)
        in_this_gym = Booking.objects.filter(room__in=[gym.whole, *gym.sections], status__in=ACTIVE_STATUSES)
        assert in_this_gym.count() == booked
    assert_blocks_consistent()


# --- 2. concurrent cancel, release and decisions ----------------------------------------------------


def _started_request(lab, booker: User) -> tuple[Booking, dt.datetime]:
    """Return a pending request that began ten minutes before the returned moment."""
    day = race_day()
    made = booking_create(
        room=lab,
        booked_by=booker,
        title="Lab",
        start=at(day, 10),
        end=at(day, 12),
        now=at(day - dt.timedelta(days=1), 9),
    )
    return made.first, at(day, 10, 10)


def _effects(booking: Booking, actions: list[str], kinds: list[str]) -> tuple[int, int]:
    events = BookingEvent.objects.filter(booking_id=booking.pk, action__in=actions).count()
    notices = Notification.objects.filter(booking_id=booking.pk, kind__in=kinds).count()
    return events, notices


@pytest.mark.parametrize("round_", range(4))
def test_cancel_release_and_reject_at_once_have_exactly_one_winner(
    request_only_lab, vocational_staff, fm_of_lukio, front_desk, round_
):
    booking, now = _started_request(request_only_lab, vocational_staff)

    outcomes = run_at_once(
        [
            ("cancel", lambda: booking_cancel(booking=booking, actor=front_desk, now=now)),
            ("release", lambda: booking_release(booking=booking, actor=fm_of_lukio, now=now)),
            ("reject", lambda: booking_reject(booking=booking, actor=fm_of_lukio, reason="no", now=now)),
        ]
    )

    winners = [o for o in outcomes if o.won]
    assert len(winners) == 1, describe(outcomes)
    assert all(isinstance(o.error, BookingStateError) for o in outcomes if not o.won), describe(outcomes)
    final = {"cancel": BookingStatus.CANCELLED, "release": BookingStatus.RELEASED, "reject": BookingStatus.REJECTED}
    assert Booking.objects.get(pk=booking.pk).status == final[winners[0].label]
    events, notices = _effects(
        booking,
        [BookingAction.CANCEL, BookingAction.RELEASE, BookingAction.REJECT],
        [NotificationKind.CANCELLED, NotificationKind.RELEASED, NotificationKind.REJECTED],
    )
    assert (events, notices) == (1, 1), describe(outcomes)
    assert_blocks_consistent()


@pytest.mark.parametrize("round_", range(4))
def test_cancel_release_and_approve_at_once_end_as_some_one_after_another_would(
    request_only_lab, vocational_staff, fm_of_lukio, front_desk, round_
):
    booking, now = _started_request(request_only_lab, vocational_staff)
    before_start = now - dt.timedelta(hours=1)

    outcomes = run_at_once(
        [
            ("cancel", lambda: booking_cancel(booking=booking, actor=front_desk, now=now)),
            ("release", lambda: booking_release(booking=booking, actor=fm_of_lukio, now=now)),
            ("approve", lambda: booking_approve(booking=booking, actor=fm_of_lukio, now=before_start)),
        ]
    )

    won = {o.label for o in outcomes if o.won}
    status = Booking.objects.get(pk=booking.pk).status
    # Cancel and release both end the booking, so only one of them can win; approve wins only first.
    assert won in ({"cancel"}, {"release"}, {"approve", "cancel"}, {"approve", "release"}), describe(outcomes)
    assert status == (BookingStatus.CANCELLED if "cancel" in won else BookingStatus.RELEASED), describe(outcomes)
    events, _notices = _effects(booking, [BookingAction.CANCEL, BookingAction.RELEASE, BookingAction.APPROVE], [])
    assert events == len(won)
    assert_blocks_consistent()
