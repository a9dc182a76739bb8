"""Sensor health: a silent sensor goes offline, its room's facility managers are told once, a reading brings it back."""

from __future__ import annotations

import datetime as dt

import pytest
from django.conf import settings
from django.core import mail
from django.utils import timezone, translation
from django.utils.translation import gettext
from django_q.conf import Conf
from django_q.models import Schedule

from sensors import tasks
from sensors.health import sensors_mark_offline
from sensors.models import OfflineNotice, Sensor, SensorKind, SensorStatus

from .conftest import ingest, iso

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _tasks_run_inline(monkeypatch):
    """Run django-q2 tasks in the calling process, so that a queued e-mail is sent at once."""
    monkeypatch.setattr(Conf, "SYNC", True)


@pytest.fixture(autouse=True)
def _offline_after_30_minutes_and_english_mail(settings):
    settings.KAMPUS_SENSOR_OFFLINE_AFTER_MINUTES = 30
    settings.LANGUAGE_CODE = "en"  # the language of e-mails to people who chose none


@pytest.fixture
def commit(django_capture_on_commit_callbacks):
    """Return a context manager that runs the on-commit callbacks of its block when the block ends."""
    return lambda: django_capture_on_commit_callbacks(execute=True)


def heard_from(sensor: Sensor, minutes_ago: float) -> Sensor:
    """Ingest one reading of ``sensor`` as received ``minutes_ago``; return the sensor as stored."""
    received = timezone.now() - dt.timedelta(minutes=minutes_ago)
    value = {"count": 3} if sensor.kind == SensorKind.COUNT else {"present": True}
    result = ingest({"ts": iso(received), **value}, sensor=sensor.external_id, received_at=received)
    assert result.stored == 1, result
    sensor.refresh_from_db()
    return sensor


def mail_to(user) -> list[mail.EmailMessage]:
    return [message for message in mail.outbox if message.to == [user.email]]


def test_a_sensor_silent_longer_than_the_setting_goes_offline_and_the_others_stay_as_they_are(
    counter, presence, auditorium_counter, joint_campus
):
    heard_from(counter, 31)
    heard_from(presence, 29)
    never = Sensor.objects.create(external_id="never-heard", kind=SensorKind.COUNT, room=joint_campus.classroom)
    retired = heard_from(auditorium_counter, 120)
    Sensor.objects.filter(pk=retired.pk).update(is_active=False)
    now = timezone.now()

    result = sensors_mark_offline(now=now)

    assert [sensor.external_id for sensor in result.offline] == ["a101-counter"]
    statuses = dict(Sensor.objects.values_list("external_id", "status"))
    assert statuses == {
        "a101-counter": SensorStatus.OFFLINE,
        "a201-presence": SensorStatus.ONLINE,
        "never-heard": SensorStatus.NEW,  # never online, so never offline
        "a001-counter": SensorStatus.ONLINE,  # inactive: its readings are refused anyway
    }
    counter.refresh_from_db()
    assert counter.status_changed_at == now
    never.refresh_from_db()
    assert never.status_changed_at is None


def test_the_facility_managers_of_the_room_are_told_once(counter, fm_of_lukio, campus_fm, fm_of_vocational, commit):
    heard_from(counter, 45)

    with commit():
        tasks.check_sensor_health()
    with commit():
        tasks.check_sensor_health()
        tasks.check_sensor_health()

    # The lukio's classroom: its owner's facility manager and the campus's, not the vocational college's.
    assert sorted(message.to[0] for message in mail.outbox) == [campus_fm.email, fm_of_lukio.email]
    message = mail_to(fm_of_lukio)[0]
    assert message.subject == f"A sensor has gone silent: a101-counter – {counter.room.label}"
    assert "a101-counter" in message.body
    assert f"{settings.KAMPUS_BASE_URL}/manage/sensors/?status=offline" in message.body
    assert OfflineNotice.objects.filter(sent_at__isnull=False).count() == 2
    assert not mail_to(fm_of_vocational)


def test_one_e_mail_lists_every_sensor_of_the_person_that_fell_silent(counter, presence, campus_fm, commit):
    heard_from(counter, 40)
    heard_from(presence, 50)

    with commit():
        result = sensors_mark_offline()

    assert len(result.offline) == 2
    (message,) = mail_to(campus_fm)
    assert message.subject == "2 sensors have gone silent"
    assert "a101-counter" in message.body
    assert "a201-presence" in message.body


def test_a_reading_brings_the_sensor_back_online_and_a_new_silence_is_told_again(counter, fm_of_lukio, commit):
    heard_from(counter, 60)
    with commit():
        sensors_mark_offline()
    assert len(mail_to(fm_of_lukio)) == 1

    back = heard_from(counter, 0)

    assert back.status == SensorStatus.ONLINE
    with commit():
        assert sensors_mark_offline().offline == []
    assert len(mail_to(fm_of_lukio)) == 1

    later = timezone.now() + dt.timedelta(minutes=31)
    with commit():
        assert [sensor.pk for sensor in sensors_mark_offline(now=later).offline] == [counter.pk]
    assert len(mail_to(fm_of_lukio)) == 2


def test_the_notice_is_in_the_recipient_s_language(counter, fm_of_lukio, commit):
    fm_of_lukio.preferred_language = "fi"
    fm_of_lukio.save(update_fields=["preferred_language"])
    heard_from(counter, 45)

    with commit():
        sensors_mark_offline()

    (message,) = mail_to(fm_of_lukio)
    with translation.override("fi"):
        assert message.subject.startswith(gettext("A sensor has gone silent"))
    assert message.subject != f"A sensor has gone silent: a101-counter – {counter.room.label}"
    assert OfflineNotice.objects.get().language == "fi"


def test_a_notice_whose_task_was_lost_is_sent_by_a_later_check(counter, fm_of_lukio):
    heard_from(counter, 45)
    sensors_mark_offline()  # committed without running the on-commit callbacks: the task never ran
    assert mail.outbox == []
    OfflineNotice.objects.update(created_at=timezone.now() - dt.timedelta(minutes=11))

    summary = tasks.check_sensor_health()

    assert summary == "0 sensors marked offline, 0 notices queued, 1 resent"
    assert len(mail_to(fm_of_lukio)) == 1
    assert tasks.check_sensor_health().endswith("0 resent")


def test_people_without_an_address_or_no_longer_active_are_not_told(counter, fm_of_lukio, campus_fm, commit):
    fm_of_lukio.email = ""
    fm_of_lukio.save(update_fields=["email"])
    campus_fm.is_active = False
    campus_fm.save(update_fields=["is_active"])
    heard_from(counter, 45)

    with commit():
        result = sensors_mark_offline()

    assert len(result.offline) == 1
    assert result.notices == []
    assert mail.outbox == []


def test_zero_minutes_turns_the_check_off(counter, settings):
    settings.KAMPUS_SENSOR_OFFLINE_AFTER_MINUTES = 0
    heard_from(counter, 600)

    assert sensors_mark_offline().offline == []
    counter.refresh_from_db()
    assert counter.status == SensorStatus.ONLINE


def test_the_worker_runs_the_check_every_five_minutes():
    schedule = Schedule.objects.get(func="sensors.tasks.check_sensor_health")

    assert (schedule.schedule_type, schedule.minutes, schedule.repeats) == (Schedule.MINUTES, 5, -1)


def test_the_api_lists_offline_sensors_with_when_they_went_offline(counter, presence, fm_of_lukio, client_with_token):
    heard_from(counter, 45)
    heard_from(presence, 1)
    sensors_mark_offline()

    response = client_with_token(fm_of_lukio).get("/api/v1/sensors?status=offline")

    assert response.status_code == 200, response.content
    (item,) = response.json()["items"]
    assert (item["external_id"], item["status"]) == ("a101-counter", "offline")
    assert item["status_changed_at"] is not None
