"""Deciding requests: approve, reject, and expire the ones nobody decided in time."""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from bookings import audit
from bookings.errors import BookingStateError
from bookings.models import (
    Booking,
    BookingAction,
    BookingSeries,
    BookingStatus,
    NotificationKind,
)
from bookings.notifications import notify
from bookings.permissions import require_decider
from bookings.services.locking import Scope, end_bookings, lock_in_scope, mark_changed, notify_bookers
from campus.exceptions import InvalidInput
from campus.models import User


@transaction.atomic
def booking_approve(
    *, booking: Booking, actor: User, scope: str = Scope.OCCURRENCE, reason: str = "", now: dt.datetime | None = None
) -> list[Booking]:
    """Approve a pending request (one occurrence, the following ones or the whole series)."""
    now = now or timezone.now()
    anchor, targets = lock_in_scope(booking, scope, now=now, statuses=[BookingStatus.PENDING])
    require_decider(actor, anchor)
    if not targets:
        raise BookingStateError(_("There is no pending request to approve."))
    require_decider(actor, *targets)
    if any(target.expires_at is not None and target.expires_at <= now for target in targets):
        raise BookingStateError(_("The request has expired; its slot is being freed."), code="expired")
    before = {target.pk: audit.snapshot(target) for target in targets}
    Booking.objects.filter(pk__in=[t.pk for t in targets]).update(
        status=BookingStatus.CONFIRMED,
        decided_by=actor,
        decided_at=now,
        decision_reason=reason,
        expires_at=None,
        updated_at=now,
    )
    for target in targets:
        target.status = BookingStatus.CONFIRMED
        target.decision_reason = reason
    mark_changed(targets)
    audit.record(action=BookingAction.APPROVE, bookings=targets, actor=actor, before=before, reason=reason)
    notify_bookers(NotificationKind.APPROVED, targets, reason=reason)
    return targets


@transaction.atomic
def booking_reject(
    *, booking: Booking, actor: User, reason: str, scope: str = Scope.OCCURRENCE, now: dt.datetime | None = None
) -> list[Booking]:
    """Reject a pending request with a reason; its slot becomes free."""
    now = now or timezone.now()
    if not reason.strip():
        message = _("Give a reason: the requester reads it.")
        raise InvalidInput(message, errors=[{"field": "reason", "message": message}])
    anchor, targets = lock_in_scope(booking, scope, now=now, statuses=[BookingStatus.PENDING])
    require_decider(actor, anchor)
    if not targets:
        raise BookingStateError(_("There is no pending request to reject."))
    require_decider(actor, *targets)
    before = {target.pk: audit.snapshot(target) for target in targets}
    end_bookings(
        targets, status=BookingStatus.REJECTED, now=now, decided_by=actor, decided_at=now, decision_reason=reason
    )
    audit.record(action=BookingAction.REJECT, bookings=targets, actor=actor, before=before, reason=reason)
    notify_bookers(NotificationKind.REJECTED, targets, reason=reason)
    return targets


EXPIRED = "expired"


@transaction.atomic
def requests_expire(*, now: dt.datetime | None = None) -> list[Booking]:
    """Reject every pending request whose decision time has passed, with reason ``expired``.

    Rows another writer holds are skipped (the next run takes them), so the job never waits.
    """
    now = now or timezone.now()
    due = Booking.objects.filter(status=BookingStatus.PENDING, expires_at__lte=now)
    series_ids = list(
        BookingSeries.objects.filter(pk__in=due.filter(series__isnull=False).values("series_id"))
        .select_for_update(skip_locked=True)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    expired_ids = list(
        due.filter(Q(series__isnull=True) | Q(series_id__in=series_ids))
        .select_for_update(skip_locked=True)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    targets = list(
        Booking.objects.filter(pk__in=expired_ids).select_related("room", "booked_by", "campus").order_by("start")
    )
    if not targets:
        return []
    before = {target.pk: audit.snapshot(target) for target in targets}
    end_bookings(targets, status=BookingStatus.REJECTED, now=now, decided_at=now, decision_reason=EXPIRED)
    audit.record(action=BookingAction.EXPIRE, bookings=targets, actor=None, before=before, reason=EXPIRED)
    seen_series: set[int] = set()
    for target in targets:
        if target.series_id is not None:
            if target.series_id in seen_series:
                continue
            seen_series.add(target.series_id)
        notify(kind=NotificationKind.EXPIRED, booking=target, recipients=[target.booked_by])
    return targets
