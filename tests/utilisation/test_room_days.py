"""Room days (``RoomDay``): reports read them instead of slots and must give the very same figures.

A varied fortnight of slot rows (data, people, bookings of every institution and of none, bookings under
the booked minutes, rows outside opening hours, a divisible hall), with holidays, a closed day, a school's
break, closures of part of a day and a room with hours of its own: every report — campus, building,
institution, room, each season, with "now" after the period and inside it — is computed from room days
and from slots alone, and the two must agree figure by figure.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
import random
from collections import Counter

import pytest
from django.conf import settings
from django.test import override_settings

from bookings.models import Closure
from campus.models import Building, Campus, Holiday, OpeningHours, OpeningHoursException, TermKind, TermPeriod
from tests.utilisation.conftest import at, book, read
from tests.utilisation.slots import local, slot_row
from utilisation import room_days
from utilisation.metrics import selection_rooms, utilisation_report
from utilisation.models import ROLLUP_STATE_NAME, CoreHours, RollupState, RoomDay, RoomSlot
from utilisation.results import Period, Season
from utilisation.rollups import rollup_pending, rollup_range

MONDAY = dt.date(2026, 10, 19)  # two weeks over the end of summer time (Sunday 25 October)
LAST_DAY = MONDAY + dt.timedelta(days=13)
AFTER = dt.datetime(2026, 12, 1, 12, 0, tzinfo=dt.UTC)
# Inside the second week, 13:07 Helsinki time on Wednesday: the rest of that day and week have not ended.
INSIDE = local(MONDAY + dt.timedelta(days=9), 13, 7)


@pytest.fixture
def fortnight(joint_campus, hall):
    jc = joint_campus
    whole, one, two = hall
    rooms = [jc.classroom, jc.lab, jc.shared_auditorium, whole, one, two]
    institutions = [jc.lukio, jc.vocational, jc.adult, None]
    generator = random.Random(13)
    rows = []
    day = MONDAY
    while day <= LAST_DAY:
        moment = local(day, 6)
        while moment < local(day, 22):
            for room in rooms:
                if generator.random() < 0.15:
                    continue  # no row: no data and not booked
                covered = generator.choice([0, 200, 450, 900, 900])
                occupied = generator.choice([0, 100, 300, covered]) if covered else 0
                occupied = min(occupied, covered)
                counted = covered and room != jc.lab and generator.random() < 0.7
                booked = generator.choice([0, 0, 100, 300, 900])
                if not covered and not booked:
                    booked = 900
                rows.append(
                    slot_row(
                        room,
                        moment,
                        covered=covered,
                        occupied=occupied,
                        mean=round(generator.uniform(0, 40), 4) if counted else None,
                        peak=generator.randint(0, 45) if counted else None,
                        booked=booked,
                        by=generator.choice(institutions) if booked else None,
                    )
                )
            moment += dt.timedelta(minutes=15)
        day += dt.timedelta(days=1)
    RoomSlot.objects.bulk_create(rows)

    Holiday.objects.create(campus=jc.campus, date=MONDAY + dt.timedelta(days=3), name="Campus day off")
    OpeningHoursException.objects.create(building=jc.workshop_building, date=MONDAY + dt.timedelta(days=1), closed=True)
    TermPeriod.objects.create(
        institution=jc.lukio, kind=TermKind.BREAK, name="Autumn break", start=MONDAY, end=MONDAY + dt.timedelta(days=4)
    )
    # Part of a day: a room closed from Tuesday 10:20 to 12:00; a building from Thursday 15:00 to Friday 09:00.
    Closure.objects.create(
        campus=jc.campus,
        room=jc.classroom,
        start=local(MONDAY + dt.timedelta(days=8), 10, 20),
        end=local(MONDAY + dt.timedelta(days=8), 12),
        reason="Floor",
    )
    Closure.objects.create(
        campus=jc.campus,
        building=jc.workshop_building,
        start=local(MONDAY + dt.timedelta(days=10), 15),
        end=local(MONDAY + dt.timedelta(days=11), 9),
        reason="Heating",
    )
    # The lab keeps hours of its own: weekdays 09:00–15:00.
    for weekday in range(5):
        OpeningHours.objects.create(room=jc.lab, weekday=weekday, opens=dt.time(9), closes=dt.time(15))
    return jc


def _differences(fast, slow, path: str = "") -> list[str]:
    """Return where two reports differ (sums of fractional headcounts may differ in their last bits)."""
    if dataclasses.is_dataclass(fast):
        return [
            difference
            for each in dataclasses.fields(fast)
            for difference in _differences(getattr(fast, each.name), getattr(slow, each.name), f"{path}.{each.name}")
        ]
    if isinstance(fast, list):
        if len(fast) != len(slow):
            return [f"{path}: {len(fast)} items, {len(slow)} from slots"]
        return [d for n, pair in enumerate(zip(fast, slow, strict=True)) for d in _differences(*pair, f"{path}[{n}]")]
    if isinstance(fast, float) and isinstance(slow, float):
        return [] if math.isclose(fast, slow, rel_tol=1e-9, abs_tol=1e-9) else [f"{path}: {fast} != {slow}"]
    return [] if fast == slow else [f"{path}: {fast!r} != {slow!r}"]


def _from_slots_alone():
    """Make the room days out of date, as a changed definition does: reports then read slots only."""
    RollupState.objects.filter(name=ROLLUP_STATE_NAME).update(days_key="")


def _selections(jc):
    return [{}, {"building": jc.workshop_building}, {"institution": jc.lukio}, {"institution": jc.adult}] + [
        {"room": room} for room in (jc.classroom, jc.lab)
    ]


def _reports(jc, **selection) -> list:
    reports = []
    for season in Season:
        for first in (MONDAY, MONDAY + dt.timedelta(days=8)):
            period = Period(first, LAST_DAY, season)
            for now in (AFTER, INSIDE):
                report = utilisation_report(campus=jc.campus, period=period, now=now, **selection)
                reports.append(dataclasses.replace(report, data_version=0))
    return reports


def test_reports_from_room_days_give_the_figures_of_the_slots(fortnight):
    jc = fortnight
    assert room_days.bring_up_to_date() > 0
    assert room_days.current()
    fast = {n: _reports(jc, **selection) for n, selection in enumerate(_selections(jc))}
    booked_rooms = {
        n: selection_rooms(campus=jc.campus, period=Period(MONDAY, LAST_DAY), institution=i)
        for n, i in enumerate((jc.lukio, jc.vocational, jc.adult))
    }

    _from_slots_alone()
    assert not room_days.current()
    for n, selection in enumerate(_selections(jc)):
        slow = _reports(jc, **selection)
        assert _differences(fast[n], slow) == [], selection
    for n, institution in enumerate((jc.lukio, jc.vocational, jc.adult)):
        assert booked_rooms[n] == selection_rooms(
            campus=jc.campus, period=Period(MONDAY, LAST_DAY), institution=institution
        )
    # The reports are not all alike: the comparison compares something.
    assert len({report.totals.in_use_slots for reports in fast.values() for report in reports}) > 10


def test_a_campus_without_opening_hours_has_room_days_too(fortnight):
    jc = fortnight
    OpeningHours.objects.all().delete()
    period = Period(MONDAY, LAST_DAY, Season.ALL)
    from_slots = utilisation_report(campus=jc.campus, period=period, now=AFTER)

    assert room_days.bring_up_to_date() > 0
    assert not RoomDay.objects.filter(opening=True).exists()
    assert _differences(utilisation_report(campus=jc.campus, period=period, now=AFTER), from_slots) == []


def test_a_room_day_sums_its_groups_of_slots(fortnight):
    jc = fortnight
    room_days.bring_up_to_date()
    tuesday = MONDAY + dt.timedelta(days=8)
    days = RoomDay.objects.filter(room=jc.classroom, local_date=tuesday)
    slots = RoomSlot.objects.filter(room=jc.classroom, local_date=tuesday)
    assert sum(day.known + 0 for day in days) == slots.filter(covered_seconds__gte=450).count()
    assert sum(day.booked_slots for day in days) == slots.filter(booked_seconds__gte=300).count()
    assert sum(day.seconds_booked for day in days) == sum(s.booked_seconds for s in slots if s.booked_seconds >= 300)
    core = [day for day in days if day.core]
    assert (
        sum(day.in_use for day in core)
        == slots.filter(
            covered_seconds__gte=450, occupied_seconds__gte=300, local_minute__gte=8 * 60, local_minute__lt=16 * 60
        ).count()
    )
    # The slots of 06:00 and 21:00 lie outside the building's opening hours (07–21).
    assert {(day.core, day.opening) for day in days} == {(True, True), (False, True), (False, False)}


def test_the_rollup_counts_the_days_of_the_slots_it_writes(joint_campus, counter):
    """Readings and bookings through the rollup, then late readings and a changed booking: the room days kept by
    each run are those counted afresh from the slots."""
    jc = joint_campus
    now = at(20)
    for minute in range(0, 600, 7):
        read(
            counter, at(8) + dt.timedelta(minutes=minute), minute % 5, received_at=at(8) + dt.timedelta(minutes=minute)
        )
    lesson = book(jc.classroom, at(9), at(11), institution=jc.lukio)
    book(jc.classroom, at(13), at(14, 5), institution=jc.adult)
    rollup_pending(now=now)
    assert room_days.current()
    assert RoomDay.objects.filter(room=jc.classroom).exists()

    # Late readings of the morning and a lesson moved to the afternoon: the same days again, by later runs.
    for minute in range(0, 60, 3):
        read(counter, at(9, s=30) + dt.timedelta(minutes=minute), 20, received_at=now + dt.timedelta(minutes=1))
    lesson.start, lesson.end, lesson.institution = at(15), at(16), jc.vocational
    lesson.save()
    rollup_pending(now=now + dt.timedelta(minutes=10))
    rollup_range(start=at(0), end=at(23), rooms=[jc.classroom], now=now + dt.timedelta(minutes=20))
    kept = _room_day_rows()

    _from_slots_alone()
    room_days.bring_up_to_date()
    assert _room_day_rows() == kept
    assert any(row[3] == jc.vocational.pk for row in kept)  # the moved lesson's new owner is in them


def _room_day_rows() -> list[tuple]:
    fields = ["room_id", "campus_id", "local_date", "booked_institution_id", "booked", "core", "opening", "known"]
    fields += ["in_use", "booked_slots", "booked_known", "ghost", "unbooked_use", "headcount_slots", "headcount_sum"]
    fields += ["peak", "seconds_booked", "seconds_used_booked", "seconds_used_unbooked"]
    headcount = fields.index("headcount_sum")
    rows = [list(row) for row in RoomDay.objects.values_list(*fields)]
    for row in rows:  # a sum of fractions in another order may differ in its last bits
        row[headcount] = round(row[headcount], 6)
    return sorted((tuple(row) for row in rows), key=repr)


@pytest.mark.parametrize("change", ["core hours", "opening hours", "thresholds"])
def test_a_changed_definition_reads_slots_until_the_next_rollup_counts_the_days_again(fortnight, change):
    jc = fortnight
    room_days.bring_up_to_date()
    period = Period(MONDAY, LAST_DAY, Season.ALL)
    before = utilisation_report(campus=jc.campus, period=period, now=AFTER)

    def changed_report():
        if change == "core hours":
            CoreHours.objects.create(campus=jc.campus, weekdays="1234", start=dt.time(9), end=dt.time(17))
        elif change == "opening hours":
            OpeningHours.objects.filter(room=jc.lab).update(opens=dt.time(7))
        with override_settings(KAMPUS_SLOT_IN_USE_MINUTES=1 if change == "thresholds" else 5):
            assert not room_days.current()
            from_slots = utilisation_report(campus=jc.campus, period=period, now=AFTER)
            rollup_pending(now=AFTER)
            assert room_days.current()
            return from_slots, utilisation_report(campus=jc.campus, period=period, now=AFTER)

    from_slots, from_days = changed_report()
    assert _differences(from_slots, before) != []  # the change changes figures…
    assert (
        _differences(dataclasses.replace(from_days, data_version=0), dataclasses.replace(from_slots, data_version=0))
        == []
    )


def test_a_selection_without_rooms_reports_nothing_from_room_days(fortnight):
    jc = fortnight
    room_days.bring_up_to_date()
    empty = jc.campus.buildings.create(code="E", name="Empty pavilion")

    report = utilisation_report(campus=jc.campus, period=Period(MONDAY, LAST_DAY), building=empty, now=AFTER)

    assert (report.rooms, report.totals.available_slots, report.totals.in_use_slots) == ([], 0, 0)


def test_deleting_an_institution_leaves_its_slots_unattributed_in_room_days_too(fortnight):
    """Its slots' booker becomes null; its room days would collide with the null ones of the same groups."""
    jc = fortnight
    room_days.bring_up_to_date()
    period = Period(MONDAY, LAST_DAY, Season.ALL)

    jc.adult.delete()

    from_now = utilisation_report(campus=jc.campus, period=period, now=AFTER)
    _from_slots_alone()
    from_slots = utilisation_report(campus=jc.campus, period=period, now=AFTER)
    assert _differences(from_now, from_slots) == []
    rollup_pending(now=AFTER)
    assert room_days.current()
    assert _differences(utilisation_report(campus=jc.campus, period=period, now=AFTER), from_slots) == []


def test_a_room_moved_to_another_campus_keeps_the_slots_of_both_in_its_room_days(joint_campus):
    """A moved room's slots keep the campus they were rolled up with: its room days follow each slot's campus,
    both when the rollup counts a day again and when every day is counted again (the move changes the
    definitions)."""
    jc = joint_campus
    book(jc.classroom, at(8), at(10), institution=jc.lukio)
    rollup_pending(now=at(11))
    harju = Campus.objects.create(name="Harju Campus", time_zone="Europe/Helsinki", address="Harjuntie 2, Tampere")
    annex = Building.objects.create(campus=harju, code="H", name="Harju annex")
    for weekday in range(5):
        OpeningHours.objects.create(building=annex, weekday=weekday, opens=dt.time(7), closes=dt.time(21))
    jc.classroom.building = annex
    jc.classroom.save()
    book(jc.classroom, at(13), at(15), institution=jc.lukio)

    rollup_range(start=at(12), end=at(16), rooms=[jc.classroom], now=at(16))  # the afternoon alone

    booked = {"booked_seconds__gte": settings.KAMPUS_SLOT_BOOKED_MINUTES * 60}
    from_slots = Counter(RoomSlot.objects.filter(room=jc.classroom, **booked).values_list("campus_id", flat=True))
    assert from_slots == {jc.campus.pk: 8, harju.pk: 8}

    def from_days() -> dict[int, int]:
        counted: Counter[int] = Counter()
        for campus_id, booked_slots in RoomDay.objects.filter(room=jc.classroom).values_list("campus", "booked_slots"):
            counted[campus_id] += booked_slots
        return counted

    assert room_days.current()
    assert from_days() == from_slots
    kept = _room_day_rows()
    _from_slots_alone()
    room_days.bring_up_to_date()
    assert from_days() == from_slots
    assert _room_day_rows() == kept


def test_counting_every_day_again_goes_a_week_at_a_time_and_resumes(fortnight):
    """Counting every day again takes one transaction a week, so a rollup run does what its time allows and
    the next goes on; a definition changed meanwhile starts it over. Reports read slots until it ends."""
    jc = fortnight
    room_days.bring_up_to_date()
    CoreHours.objects.create(campus=jc.campus, weekdays="1234", start=dt.time(9), end=dt.time(17))
    state = RollupState.objects.filter(name=ROLLUP_STATE_NAME)

    assert room_days.bring_up_to_date(deadline=0.0) > 0  # no time left: one week, then it stops
    assert not room_days.current()
    assert state.get().days_counted_until == MONDAY + dt.timedelta(days=6)

    with override_settings(KAMPUS_SLOT_IN_USE_MINUTES=1):
        room_days.bring_up_to_date(deadline=0.0)  # the definitions changed: the first week again
        assert state.get().days_counted_until == MONDAY + dt.timedelta(days=6)
        with override_settings(KAMPUS_ROOM_DAYS_SECONDS=0):
            rollup_pending(now=AFTER)  # one more week in the rollup's run: the last
        assert room_days.current()
        resumed = _room_day_rows()
        period = Period(MONDAY, LAST_DAY, Season.ALL)
        from_days = utilisation_report(campus=jc.campus, period=period, now=AFTER)
        _from_slots_alone()
        from_slots = utilisation_report(campus=jc.campus, period=period, now=AFTER)
        assert room_days.bring_up_to_date() > 0  # the same definitions at once
    assert _room_day_rows() == resumed
    assert _differences(from_days, from_slots) == []


def _report_from_days_and_from_slots(jc) -> tuple:
    """Return the campus's report from room days (they must be current) and from slots alone."""
    period = Period(MONDAY, LAST_DAY, Season.ALL)
    assert room_days.current()
    from_days = utilisation_report(campus=jc.campus, period=period, now=AFTER)
    _from_slots_alone()
    from_slots = utilisation_report(campus=jc.campus, period=period, now=AFTER)
    return from_days, from_slots


def test_an_institution_deleted_while_every_day_is_counted_again_starts_the_count_over(fortnight):
    """The weeks already counted hold the deleted institution's slots under it; going on from there would leave
    them out of the room days for good."""
    jc = fortnight
    room_days.bring_up_to_date()
    CoreHours.objects.create(campus=jc.campus, weekdays="1234", start=dt.time(9), end=dt.time(17))
    room_days.bring_up_to_date(deadline=0.0)  # the first week

    jc.adult.delete()
    room_days.bring_up_to_date()

    assert _differences(*_report_from_days_and_from_slots(jc)) == []


def test_a_definition_undone_while_every_day_is_counted_again_leaves_the_days_out_of_date(fortnight):
    """The weeks counted with the changed definition do not become right when it is undone."""
    jc = fortnight
    room_days.bring_up_to_date()
    core = CoreHours.objects.create(campus=jc.campus, weekdays="1234", start=dt.time(9), end=dt.time(17))
    room_days.bring_up_to_date(deadline=0.0)  # the first week, with the changed core hours

    core.delete()

    assert not room_days.current()
    room_days.bring_up_to_date()
    assert _differences(*_report_from_days_and_from_slots(jc)) == []


def test_a_definition_undone_after_a_rollup_counted_days_with_it_leaves_the_days_out_of_date(fortnight, monkeypatch):
    """The rollup counts the days of the slots it writes with the definitions in force: were its run stopped
    before it began counting every day (its task killed), those days must not pass for counted with the old
    definitions once the change is undone."""
    jc = fortnight
    room_days.bring_up_to_date()
    core = CoreHours.objects.create(campus=jc.campus, weekdays="1234", start=dt.time(9), end=dt.time(17))
    friday = MONDAY + dt.timedelta(days=4)  # in core hours by default, not by the changed ones
    book(jc.classroom, at(10, day=friday), at(12, day=friday), institution=jc.lukio)
    monkeypatch.setattr(room_days, "bring_up_to_date", lambda **kwargs: None)  # the run stops after its slots
    rollup_range(start=at(0, day=friday), end=at(23, day=friday), rooms=[jc.classroom], now=AFTER)
    monkeypatch.undo()

    core.delete()

    assert not room_days.current()
    room_days.bring_up_to_date()
    assert _differences(*_report_from_days_and_from_slots(jc)) == []


def test_a_room_moved_to_a_campus_in_another_zone_and_rolled_up_again_leaves_no_day_behind(joint_campus):
    """Rolled up again, a slot of the old campus changes campus and local day; the old day is counted again too."""
    jc = joint_campus
    book(jc.classroom, at(1), at(2), institution=jc.lukio)  # 01:00 in Helsinki is the evening before in New York
    rollup_pending(now=at(11))
    new_york = Campus.objects.create(name="Hudson Campus", time_zone="America/New_York", address="1 Hudson St")
    jc.classroom.building = Building.objects.create(campus=new_york, code="N", name="Hudson annex")
    jc.classroom.save()
    room_days.bring_up_to_date()

    rollup_range(start=at(0), end=at(3), rooms=[jc.classroom], now=at(16))

    booked = {"booked_seconds__gte": settings.KAMPUS_SLOT_BOOKED_MINUTES * 60}
    from_slots = Counter(RoomSlot.objects.filter(room=jc.classroom, **booked).values_list("campus", "local_date"))
    from_days: Counter[tuple] = Counter()
    for campus_id, day, booked_slots in RoomDay.objects.filter(room=jc.classroom).values_list(
        "campus", "local_date", "booked_slots"
    ):
        from_days[(campus_id, day)] += booked_slots
    assert set(from_slots) == {(new_york.pk, at(1).date() - dt.timedelta(days=1))}
    assert +from_days == from_slots
