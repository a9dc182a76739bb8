"""Two rollups counting the same room days at once (PostgreSQL): the second waits for the first.

A day's room days are counted again by deleting them and inserting them afresh in the transaction that
wrote the slots, and every day again a week at a time when a definition changed. Two runs doing so for the
same room and day (the schedule and a re-roll from the command, each having written other slots of that
day, or one of them counting every day again) must not both insert: without the lock the second's delete
waits on the first's rows, finds them gone, and its insert collides with the first's new rows.
"""

from __future__ import annotations

import datetime as dt
import threading
import time

import pytest
from django.db import connection, transaction

from tests.utilisation.slots import local, slot
from utilisation import room_days
from utilisation.models import RollupState, RoomDay

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("on_postgres")]

DAY = dt.date(2026, 11, 10)


@pytest.mark.parametrize("second", ["the rollup's count", "counting every day again"])
def test_two_counts_of_the_same_days_follow_one_another(joint_campus, second):
    jc = joint_campus
    rooms = [jc.classroom, jc.lab]
    for hour in range(8, 12):
        for room in rooms:
            slot(room, local(DAY, hour), occupied=600, mean=12.0, peak=14, booked=900, by=jc.lukio)
    room_days.bring_up_to_date()
    first_counted = threading.Event()
    errors: list[BaseException] = []

    def recount(*, first: bool) -> None:
        try:
            if not first:
                if second == "counting every day again":
                    RollupState.objects.update(days_key="")  # committed first: the lock order is the module's
                first_counted.wait(timeout=30)
            with transaction.atomic():
                if first or second == "the rollup's count":
                    room_days.recount_days([room.pk for room in rooms], DAY, DAY)
                else:
                    room_days.bring_up_to_date()
                if first:
                    first_counted.set()
                    time.sleep(1.0)  # the second starts its count while this one has not committed
        except BaseException as error:  # asserted on below
            errors.append(error)
            first_counted.set()
        finally:
            connection.close()

    threads = [threading.Thread(target=recount, kwargs={"first": first}) for first in (True, False)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert errors == []
    kept = sorted(RoomDay.objects.values_list("room_id", "local_date", "booked", "core", "opening", "in_use"))
    assert len(kept) == len(rooms)  # one group a room: booked, in core and opening hours
    assert {row[-1] for row in kept} == {4}
