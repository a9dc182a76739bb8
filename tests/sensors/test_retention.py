"""Retention: raw readings and dead letters older than their settings are deleted by a nightly task."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone
from django_q.models import Schedule

from sensors import tasks
from sensors.models import DeadLetter, IngestSource, Reading
from sensors.services import readings_purge

pytestmark = pytest.mark.django_db


def reading(sensor, days_ago: float) -> Reading:
    ts = timezone.now() - dt.timedelta(days=days_ago)
    return Reading.objects.create(
        sensor=sensor, room=sensor.room, campus=sensor.room.building.campus, ts=ts, count=1, received_at=ts
    )


def dead_letter(days_ago: float) -> DeadLetter:
    return DeadLetter.objects.create(
        received_at=timezone.now() - dt.timedelta(days=days_ago),
        source=IngestSource.MQTT,
        reason="malformed",
        payload="x",
        payload_bytes=1,
    )


def test_readings_and_dead_letters_past_their_retention_are_deleted_in_chunks(counter, settings):
    settings.KAMPUS_SENSOR_READING_RETENTION_DAYS = 30
    settings.KAMPUS_SENSOR_DEAD_LETTER_RETENTION_DAYS = 10
    old = [reading(counter, 31 + n / 24) for n in range(5)]
    kept = reading(counter, 29)
    old_letter, kept_letter = dead_letter(11), dead_letter(9)

    result = readings_purge(chunk=2)

    assert (result.readings, result.dead_letters) == (len(old), 1)
    assert list(Reading.objects.all()) == [kept]
    assert list(DeadLetter.objects.all()) == [kept_letter]
    assert old_letter.pk != kept_letter.pk


def test_zero_days_keeps_everything(counter, settings):
    settings.KAMPUS_SENSOR_READING_RETENTION_DAYS = 0
    settings.KAMPUS_SENSOR_DEAD_LETTER_RETENTION_DAYS = 0
    reading(counter, 5000)
    dead_letter(5000)

    assert str(tasks.purge_old_readings()) == "0 readings, 0 dead letters deleted"
    assert Reading.objects.count() == DeadLetter.objects.count() == 1


def test_the_purge_is_scheduled_every_day(db):
    schedule = Schedule.objects.get(func="sensors.tasks.purge_old_readings")

    assert (schedule.schedule_type, schedule.repeats) == (Schedule.DAILY, -1)
