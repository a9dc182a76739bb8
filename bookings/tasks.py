"""django-q2 entry points: load rows, call services. Scheduled ones are created by ``ensure_schedules``."""

from __future__ import annotations

import datetime as dt

from django.db.models import Q
from django.utils import timezone

from bookings import notifications, retention, services
from bookings.models import Notification

# Longer than django-q2's task timeout (30 s), shorter than its retry (60 s): a claim this old belongs to a
# worker that died or timed out, and the retried task may take it.
CLAIM_SECONDS = 45


def send_notification(notification_id: int) -> bool:
    """Send one queued booking e-mail (idempotent: a sent notification is not sent again).

    The mail server is talked to outside any transaction, so a slow one never holds a database lock
    (on SQLite: the write lock every booking needs). A short update claims the row first, so the
    sweeper and a retried task do not send the same e-mail twice; a claim older than the task
    timeout counts as abandoned.
    """
    now = timezone.now()
    stale = now - dt.timedelta(seconds=CLAIM_SECONDS)
    claimed = (
        Notification.objects.filter(pk=notification_id, sent_at__isnull=True)
        .filter(Q(claimed_at__isnull=True) | Q(claimed_at__lt=stale))
        .update(claimed_at=now)
    )
    if not claimed:
        return False
    notification = Notification.objects.select_related("recipient", "booking__campus", "booking__room").get(
        pk=notification_id
    )
    try:
        return notifications.send(notification)
    except Exception:
        # Let django-q2 retry it at once rather than after the claim goes stale.
        Notification.objects.filter(pk=notification_id, sent_at__isnull=True).update(claimed_at=None)
        raise


def expire_requests() -> int:
    """Reject pending requests whose time to be decided has run out; return how many."""
    return len(services.requests_expire(now=timezone.now()))


def send_unsent_notifications() -> int:
    """Send notifications whose task was lost (e.g. the worker was down when it was queued)."""
    sent = 0
    stale = timezone.now() - dt.timedelta(minutes=10)
    unsent = Notification.objects.filter(sent_at__isnull=True, created_at__lt=stale).values_list("pk", flat=True)
    for notification_id in unsent[:500]:
        sent += int(send_notification(notification_id))
    return sent


def purge_expired_data() -> str:
    """Anonymise or delete bookings, audit events and notifications past their retention; close old accounts."""
    return str(retention.purge_expired_data())
