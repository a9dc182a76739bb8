"""Sensor health: a sensor silent for ``KAMPUS_SENSOR_OFFLINE_AFTER_MINUTES`` is marked offline, once.

The django-q2 schedule ``sensors.tasks.check_sensor_health`` (every 5 minutes, migration 0004) calls
``sensors_mark_offline``. Each silence is told once: the sensor turns from online to offline and
the e-mails to its room's facility managers are written in the same transaction, so a second run
finds nothing new to tell. A reading arriving again turns the sensor online (``readings_ingest``),
and a later silence is a new one, told again. One e-mail per person lists every sensor of theirs
that fell silent in the run, so a gateway going down is one message, not one per sensor.

Only sensors that were online go offline: a sensor never heard from stays ``new``, and an inactive
sensor (whose readings are refused anyway) is left alone.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django_q.tasks import async_task

from campus.models import User
from sensors.models import OfflineNotice, Sensor, SensorStatus
from sensors.selectors import room_keepers


@dataclass
class HealthResult:
    """What one health check did: the sensors it marked offline and the e-mails it queued."""

    offline: list[Sensor] = field(default_factory=list)
    notices: list[OfflineNotice] = field(default_factory=list)

    def __str__(self) -> str:
        return f"{len(self.offline)} sensors marked offline, {len(self.notices)} notices queued"


def offline_after() -> dt.timedelta | None:
    """Return the silence after which a sensor is offline (``KAMPUS_SENSOR_OFFLINE_AFTER_MINUTES``); None: never."""
    minutes = settings.KAMPUS_SENSOR_OFFLINE_AFTER_MINUTES
    return dt.timedelta(minutes=minutes) if minutes > 0 else None


@transaction.atomic
def sensors_mark_offline(*, now: dt.datetime | None = None) -> HealthResult:
    """Mark the active sensors silent longer than ``offline_after()`` offline; queue one e-mail per facility manager.

    The silent sensors are locked first (PostgreSQL), so a reading stored meanwhile waits and then
    turns its sensor online again; on SQLite the transaction holds the write lock.
    """
    now = now or timezone.now()
    silence = offline_after()
    if silence is None:
        return HealthResult()
    silent = list(
        Sensor.objects.select_for_update(of=("self",))
        .select_related("room__building__campus")
        .filter(is_active=True, status=SensorStatus.ONLINE, last_seen__lt=now - silence)
        .order_by("pk")
    )
    if not silent:
        return HealthResult()
    Sensor.objects.filter(pk__in=[sensor.pk for sensor in silent]).update(
        status=SensorStatus.OFFLINE, status_changed_at=now
    )
    for sensor in silent:
        sensor.status, sensor.status_changed_at = SensorStatus.OFFLINE, now
    return HealthResult(offline=silent, notices=_queue_notices(silent, now))


def _queue_notices(sensors: list[Sensor], now: dt.datetime) -> list[OfflineNotice]:
    """Write one notice per person who keeps a room of ``sensors`` (and has an address); send them after commit."""
    keepers_of_room: dict[int, list[User]] = {}
    told: dict[int, tuple[User, list[Sensor]]] = {}
    for sensor in sensors:
        room = sensor.room
        if room.pk not in keepers_of_room:
            on = timezone.localdate(now, timezone=room.building.campus.zone)
            keepers_of_room[room.pk] = list(room_keepers(room=room, on=on))
        for user in keepers_of_room[room.pk]:
            if user.email:
                told.setdefault(user.pk, (user, []))[1].append(sensor)
    notices = []
    for user, silent in told.values():
        notice = OfflineNotice.objects.create(recipient=user)
        notice.sensors.set(silent)
        notices.append(notice)
        transaction.on_commit(
            lambda notice_id=notice.pk: async_task(
                "sensors.tasks.send_offline_notice", notice_id, task_name=f"sensor-offline-{notice_id}"
            ),
            # A queue that cannot be reached (Redis down) is logged; the notice stays unsent and is resent later.
            robust=True,
        )
    return notices


def sensors_page_url() -> str:
    return f"{settings.KAMPUS_BASE_URL}{reverse('sensors:list')}?status={SensorStatus.OFFLINE}"


def offline_notice_send(notice: OfflineNotice) -> bool:
    """Render and send ``notice`` in its recipient's language; return False if it was sent before.

    The sensors are listed as they are now: one back online since is said to be so.
    """
    if notice.sent_at is not None:
        return False
    recipient = notice.recipient
    sensors = list(notice.sensors.select_related("room__building__campus").order_by("room__code", "external_id"))
    language = recipient.preferred_language or settings.LANGUAGE_CODE
    zone = sensors[0].room.building.campus.zone if sensors else timezone.get_default_timezone()
    with translation.override(language), timezone.override(zone):
        context = {
            "recipient": recipient,
            "sensors": sensors,
            "url": sensors_page_url(),
            "offline_after_minutes": settings.KAMPUS_SENSOR_OFFLINE_AFTER_MINUTES,
        }
        subject = " ".join(render_to_string("sensors/email/offline_subject.txt", context).split())
        body = render_to_string("sensors/email/offline_body.txt", context)
    send_mail(subject, body, None, [recipient.email])
    OfflineNotice.objects.filter(pk=notice.pk).update(sent_at=timezone.now(), language=language, subject=subject[:300])
    return True
