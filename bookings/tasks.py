"""django-q2 entry points: load rows, call services. Scheduled ones are created by ``ensure_schedules``."""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.utils import timezone

from bookings import notifications, retention, services
from bookings.models import Notification


def send_notification(notification_id: int) -> bool:
    """Send one queued booking e-mail (idempotent: a sent notification is not sent again)."""
    with transaction.atomic():
        # The row lock keeps the sweeper and a retried task from sending the same e-mail twice.
        notification = (
            Notification.objects.select_for_update()
            .select_related("recipient", "booking__campus", "booking__room")
            .get(pk=notification_id)
        )
        return notifications.send(notification)


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
    """Delete bookings, audit events and notifications past their retention period; close old accounts."""
    return str(retention.purge_expired_data())
