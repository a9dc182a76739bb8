"""Storage limitation (GDPR): anonymise or delete what the privacy notice says is no longer kept.

- bookings (any status) that ended more than ``BOOKING_ANONYMISE_AFTER_DAYS`` ago lose their
  personal data (``bookings.anonymising``): the anonymous booking stays, so the utilisation
  figures of its room and institution stay as they were;
- bookings that ended more than ``BOOKING_DELETE_AFTER_DAYS`` ago (off by default) are deleted
  with their audit log, blocks, notifications and no-show record, and series left without
  occurrences (the 15-minute room slots stay);
- notifications older than ``NOTIFICATION_DAYS``;
- accounts whose last membership ended more than ``ACCOUNT_DAYS`` ago are closed (deactivated:
  no sign-in, no API tokens).

The audit log is append-only; only this purge may delete from it. On PostgreSQL the trigger that
refuses UPDATE and DELETE lets a transaction through that has set ``kampus.retention_purge``.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone

from bookings.anonymising import bookings_anonymise
from bookings.models import Booking, BookingBlock, BookingSeries, Notification
from campus.models import Membership, User

NOTIFICATION_DAYS = 365
ACCOUNT_DAYS = 365
BATCH = 1000


@dataclass
class PurgeResult:
    anonymised: int = 0
    bookings: int = 0
    audit_events: int = 0
    notifications: int = 0
    series: int = 0
    accounts_closed: int = 0

    def __str__(self) -> str:
        return (
            f"{self.anonymised} bookings anonymised; "
            f"{self.bookings} bookings, {self.audit_events} audit events, {self.notifications} notifications, "
            f"{self.series} series deleted; {self.accounts_closed} accounts closed"
        )


def _delete_audit_events(booking_ids: list[int]) -> int:
    """Delete the audit events of ``booking_ids`` (bypassing the append-only guard, for retention only)."""
    if not booking_ids:
        return 0
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SET LOCAL kampus.retention_purge = 'on'")
        placeholders = ", ".join(["%s"] * len(booking_ids))
        cursor.execute(f"DELETE FROM bookings_bookingevent WHERE booking_id IN ({placeholders})", booking_ids)
        return cursor.rowcount


def anonymise_due(*, now: dt.datetime) -> QuerySet[Booking]:
    """Return the bookings whose personal data is past ``BOOKING_ANONYMISE_AFTER_DAYS`` and still there."""
    days = settings.KAMPUS_BOOKING_ANONYMISE_AFTER_DAYS
    if days <= 0:
        return Booking.objects.none()
    return Booking.objects.filter(end__lt=now - dt.timedelta(days=days), anonymised_at__isnull=True)


def delete_due(*, now: dt.datetime) -> QuerySet[Booking]:
    """Return the bookings past ``BOOKING_DELETE_AFTER_DAYS`` (none while it is 0)."""
    days = settings.KAMPUS_BOOKING_DELETE_AFTER_DAYS
    if days <= 0:
        return Booking.objects.none()
    return Booking.objects.filter(end__lt=now - dt.timedelta(days=days))


@transaction.atomic
def purge_expired_data(*, now: dt.datetime | None = None, dry_run: bool = False) -> PurgeResult:
    """Anonymise, delete or close what has outlived its retention period; with ``dry_run`` only count it."""
    now = now or timezone.now()
    result = PurgeResult()
    old_bookings = list(delete_due(now=now).values_list("pk", flat=True))
    to_anonymise = anonymise_due(now=now)
    if settings.KAMPUS_BOOKING_DELETE_AFTER_DAYS > 0:
        # What is deleted tonight need not be anonymised first.
        to_anonymise = to_anonymise.filter(end__gte=now - dt.timedelta(days=settings.KAMPUS_BOOKING_DELETE_AFTER_DAYS))
    old_notifications = Notification.objects.filter(
        Q(created_at__lt=now - dt.timedelta(days=NOTIFICATION_DAYS)) | Q(booking_id__in=old_bookings)
    )
    ended = now.date() - dt.timedelta(days=ACCOUNT_DAYS)
    still_member = Membership.objects.filter(user=OuterRef("pk")).filter(
        Q(valid_until__isnull=True) | Q(valid_until__gte=ended)
    )
    to_close = (
        User.objects.filter(is_active=True, is_superuser=False, memberships__isnull=False)
        .exclude(Exists(still_member))
        .distinct()
    )
    if dry_run:
        result.anonymised = to_anonymise.count()
        result.bookings = len(old_bookings)
        result.notifications = old_notifications.count()
        result.accounts_closed = to_close.count()
        return result

    result.notifications = old_notifications.delete()[0]
    result.anonymised = bookings_anonymise(
        booking_ids=list(to_anonymise.values_list("pk", flat=True)), now=now
    ).bookings
    for start in range(0, len(old_bookings), BATCH):
        batch = old_bookings[start : start + BATCH]
        result.audit_events += _delete_audit_events(batch)
        BookingBlock.objects.filter(booking_id__in=batch).delete()
        result.bookings += Booking.objects.filter(pk__in=batch).delete()[0]
    result.series = BookingSeries.objects.filter(occurrences__isnull=True).delete()[0]
    closing = list(to_close.values_list("pk", flat=True))
    # An inactive account can neither sign in nor use its API tokens.
    result.accounts_closed = User.objects.filter(pk__in=closing).update(is_active=False)
    return result
