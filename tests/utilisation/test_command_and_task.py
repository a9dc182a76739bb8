"""manage.py rollup_readings, the scheduled task, and the admin of slots and core hours."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from django.core.management import CommandError, call_command
from django.test import Client
from django_q.models import Schedule

from utilisation import tasks
from utilisation.models import CoreHours, RollupState, RoomSlot

from .conftest import at, book, read, slots_of, wall

pytestmark = pytest.mark.django_db


def run(*args: str) -> str:
    out = io.StringIO()
    call_command("rollup_readings", *args, stdout=out)
    return out.getvalue()


def test_the_command_rolls_up_what_is_pending(counter, joint_campus):
    read(counter, at(10), 3)
    book(joint_campus.lab, at(11), at(11, 30), institution=joint_campus.lukio)

    output = run()

    assert set(slots_of(joint_campus.classroom)) == {wall(10, 0)}
    assert set(slots_of(joint_campus.lab)) == {wall(11, 0), wall(11, 15)}
    assert "3 written" in output
    assert RollupState.objects.get(name="default").readings_until is not None


def test_the_command_re_rolls_a_date_range_of_one_room(counter, joint_campus):
    read(counter, at(10), 3)
    book(joint_campus.lab, at(11), at(11, 30), institution=joint_campus.lukio)

    output = run("--from", "2026-11-10", "--to", "2026-11-10", "--room", "A101")

    assert set(RoomSlot.objects.values_list("room__code", flat=True)) == {"A101"}
    # A Helsinki day has 96 slots.
    assert "room A101" in output
    assert "96 slots rolled up (1 written" in output


def test_the_command_re_rolls_every_room_of_a_range(counter, joint_campus):
    read(counter, at(10), 3)
    book(joint_campus.lab, at(11), at(11, 30), institution=joint_campus.lukio)

    output = run("--from", "2026-11-10", "--to", "2026-11-11")

    assert RoomSlot.objects.count() == 3
    assert f"{3 * 2 * 96} slots rolled up (3 written" in output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--from", "2026-11-10"], "both --from and --to"),
        (["--from", "2026-11-10", "--to", "2026-11-09"], "before --from"),
        (["--from", "10.11.2026", "--to", "2026-11-10"], "is not a date"),
        (["--room", "A101"], "--room needs --from and --to"),
        (["--from", "2026-11-10", "--to", "2026-11-10", "--room", "Z999"], "no room with code"),
    ],
)
def test_the_command_refuses_bad_arguments(joint_campus, args, message):
    with pytest.raises(CommandError, match=message):
        run(*args)


def test_the_task_runs_the_same_rollup(counter, joint_campus):
    read(counter, at(10), 3)

    outcome = tasks.rollup_readings()

    assert "1 written" in outcome
    assert set(slots_of(joint_campus.classroom)) == {wall(10, 0)}


def test_a_schedule_runs_the_task_every_five_minutes():
    schedule = Schedule.objects.get(func="utilisation.tasks.rollup_readings")

    assert (schedule.schedule_type, schedule.minutes, schedule.repeats) == (Schedule.MINUTES, 5, -1)


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_room_slots_are_read_only_for_who_manages_the_room(counter, joint_campus, fm_of_lukio, lukio_staff):
    read(counter, at(10), 3)
    read(counter, at(10) - dt.timedelta(days=1), 3)
    tasks.rollup_readings()
    row = RoomSlot.objects.order_by("start").first()

    manager = signed_in(fm_of_lukio)
    listing = manager.get("/admin/utilisation/roomslot/")
    page = manager.get(f"/admin/utilisation/roomslot/{row.pk}/change/")
    refused = manager.post(f"/admin/utilisation/roomslot/{row.pk}/change/", {"covered_seconds": "1"})

    assert listing.status_code == 200
    assert listing.context["cl"].result_count == 2
    assert page.status_code == 200
    assert refused.status_code == 403
    assert signed_in(lukio_staff).get("/admin/utilisation/roomslot/").status_code == 302


def test_an_institution_manager_sees_no_slots_of_shared_rooms(joint_campus, fm_of_lukio):
    book(joint_campus.shared_auditorium, at(10), at(10, 15), institution=joint_campus.lukio)
    tasks.rollup_readings()

    listing = signed_in(fm_of_lukio).get("/admin/utilisation/roomslot/")

    assert listing.context["cl"].result_count == 0


def test_campus_facility_managers_set_the_core_hours(joint_campus, campus_fm, fm_of_lukio):
    form = {"campus": str(joint_campus.campus.pk), "weekdays": "1234", "start": "09:00", "end": "15:00"}

    refused = signed_in(fm_of_lukio).post("/admin/utilisation/corehours/add/", form)
    added = signed_in(campus_fm).post("/admin/utilisation/corehours/add/", form)

    assert refused.status_code == 403
    assert added.status_code == 302
    hours = CoreHours.objects.get()
    assert (hours.weekdays, hours.start, hours.end) == ("1234", dt.time(9), dt.time(15))
