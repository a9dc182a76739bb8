"""django-q2 entry points of the sensors app: load rows, call services. Schedules are created by migrations."""

from __future__ import annotations

import datetime as dt

from django.db.models import Q
from django.utils import timezone

from sensors import health, services
from sensors.models import OfflineNotice

# Longer than django-q2's task timeout (30 s), shorter than its retry (60 s): a claim this old belongs to a
# worker that died or timed out, and the retried task may take it (as bookings.tasks.send_notification).
CLAIM_SECONDS = 45
# A notice still unsent this long after it was written lost its task (e.g. the worker was down).
RESEND_AFTER = dt.timedelta(minutes=10)


def purge_old_readings() -> str:
    """Delete raw readings and dead letters older than their retention (settings KAMPUS_SENSOR_*_RETENTION_DAYS)."""
    return str(services.readings_purge())


def check_sensor_health() -> str:
    """Mark silent sensors offline and tell their facility managers once; send notices whose task was lost."""
    result = health.sensors_mark_offline(now=timezone.now())
    stale = timezone.now() - RESEND_AFTER
    unsent = OfflineNotice.objects.filter(sent_at__isnull=True, created_at__lt=stale).values_list("pk", flat=True)
    resent = sum(send_offline_notice(notice_id) for notice_id in unsent[:500])
    return f"{result}, {resent} resent"


def send_offline_notice(notice_id: int) -> bool:
    """Send one offline notice (idempotent: a sent notice is not sent again).

    The mail server is talked to outside any transaction; a short update claims the row first, so
    the sweeper in ``check_sensor_health`` and a retried task do not send the same e-mail twice.
    """
    now = timezone.now()
    stale = now - dt.timedelta(seconds=CLAIM_SECONDS)
    claimed = (
        OfflineNotice.objects.filter(pk=notice_id, sent_at__isnull=True)
        .filter(Q(claimed_at__isnull=True) | Q(claimed_at__lt=stale))
        .update(claimed_at=now)
    )
    if not claimed:
        return False
    notice = OfflineNotice.objects.select_related("recipient").get(pk=notice_id)
    try:
        return health.offline_notice_send(notice)
    except Exception:
        # Let django-q2 retry it at once rather than after the claim goes stale.
        OfflineNotice.objects.filter(pk=notice_id, sent_at__isnull=True).update(claimed_at=None)
        raise
