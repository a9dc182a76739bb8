"""A person's bookings, audit events, notifications and calendar feeds: export and erasure.

Registered as sections of ``campus.personal_data`` (see ``BookingsConfig.ready``). Erasure keeps
the utilisation history: bookings are anonymised, never deleted, and only future ones are cancelled.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _

from bookings import audit
from bookings.anonymising import audit_forget_person, bookings_anonymise, bookings_forget_on_behalf
from bookings.models import (
    ACTIVE_STATUSES,
    Booking,
    BookingAction,
    BookingEvent,
    BookingStatus,
    FeedKey,
    Notification,
)
from bookings.services.locking import end_bookings, lock_bookings
from campus.models import User
from campus.personal_data import iso


def bookings_of_person(user: User) -> QuerySet[Booking]:
    """Return the bookings ``user`` made, or that were made for them (their e-mail as the on-behalf contact)."""
    about = Q(booked_by=user)
    if user.email:
        about |= Q(on_behalf_of_contact__iexact=user.email)
    return Booking.objects.filter(about)


def _booking(booking: Booking, user: User) -> dict[str, Any]:
    return {
        "id": booking.pk,
        "booked_by_you": booking.booked_by_id == user.pk,
        "room": booking.room.label,
        "start": iso(booking.start),
        "end": iso(booking.end),
        "status": booking.status,
        "title": booking.title,
        "description": booking.description,
        "purpose": booking.purpose,
        "institution": booking.institution.name if booking.institution else None,
        "on_behalf_of_name": booking.on_behalf_of_name,
        "on_behalf_of_contact": booking.on_behalf_of_contact,
        "on_behalf_of_organisation": booking.on_behalf_of_organisation,
        "attendees": booking.attendees,
        "visibility": booking.visibility,
        "series_id": booking.series_id,
        "decision_reason": booking.decision_reason,
        "checked_in_at": iso(booking.checked_in_at),
        "created_at": iso(booking.created_at),
        "anonymised_at": iso(booking.anonymised_at),
    }


def _event(event: BookingEvent, user: User, about_you: bool) -> dict[str, Any]:
    """Return ``event``; its snapshots only if the booking is about ``user`` (else they are someone else's data)."""
    return {
        "id": event.pk,
        "booking_id": event.booking_id,
        "action": event.action,
        "at": iso(event.at),
        "by_you": event.actor_id == user.pk,
        "reason": event.reason,
        "before": event.before if about_you else None,
        "after": event.after if about_you else None,
    }


def _snapshot_about(snapshot: dict[str, Any] | None, user: User) -> bool:
    return snapshot is not None and snapshot.get("booked_by_id") == user.pk


def export_bookings_data(user: User) -> dict[str, Any]:
    """Return the person's bookings, the audit events about them or by them, notifications and feeds."""
    bookings = list(bookings_of_person(user).select_related("room", "institution").order_by("start", "pk"))
    booking_ids = {booking.pk for booking in bookings}
    events = BookingEvent.objects.filter(
        Q(booking_id__in=booking_ids)
        | Q(actor_id=user.pk)
        | Q(before__booked_by_id=user.pk)
        | Q(after__booked_by_id=user.pk)
    ).order_by("at", "pk")
    notifications = Notification.objects.filter(recipient=user).order_by("created_at", "pk")
    feeds = FeedKey.objects.filter(owner=user).order_by("kind", "target_id")
    return {
        "bookings": [_booking(booking, user) for booking in bookings],
        # What the person did to other people's bookings: what, when and their reason, not those bookings' contents.
        "audit_events": [
            _event(
                event,
                user,
                about_you=event.booking_id in booking_ids
                or _snapshot_about(event.before, user)
                or _snapshot_about(event.after, user),
            )
            for event in events
        ],
        "notifications": [
            {
                "kind": notification.kind,
                "booking_id": notification.booking_id,
                "subject": notification.subject,
                "reason": notification.reason,
                "created_at": iso(notification.created_at),
                "sent_at": iso(notification.sent_at),
            }
            for notification in notifications
        ],
        # A feed's address is a signature, never stored: only which feeds were given new addresses, and when.
        "calendar_feeds": [
            {
                "kind": feed.kind,
                "target_id": feed.target_id,
                "times_replaced": feed.generation,
                "replaced_at": iso(feed.replaced_at),
            }
            for feed in feeds
        ],
    }


def erase_bookings_data(*, user: User, actor: User | None, now: dt.datetime) -> dict[str, int]:
    """Cancel the person's own future bookings, anonymise the rest of theirs and take them out of the audit log.

    Bookings that have started stay (anonymous): they are the utilisation history. A booking another
    person made for them stays that person's, without its on-behalf fields. A future booking they made
    for someone else (at the front desk, for a visitor) is that person's: it stays as it is, ownerless
    (the campus's front desk, the room's and the campus's facility managers manage it); not when its
    contact is their own address (their own choir, say). The person is not told of the cancellations:
    their account and address go with them. Precondition: inside the transaction of
    ``campus.personal_data.user_delete``.
    """
    for_someone_else = ~Q(on_behalf_of_name="") | ~Q(on_behalf_of_organisation="")
    if user.email:
        # On behalf of someone with their own address as the contact (their own choir, say): made for themselves.
        for_someone_else &= ~Q(on_behalf_of_contact__iexact=user.email)
    future = Booking.objects.filter(booked_by=user, status__in=ACTIVE_STATUSES, start__gt=now)
    kept_for_others = list(future.filter(for_someone_else).values_list("pk", flat=True))
    own_future = future.exclude(pk__in=kept_for_others)
    targets = [target for target in lock_bookings(list(own_future.values_list("pk", flat=True))) if target.start > now]
    if targets:
        reason = _("The booker's account was deleted.")
        before = {target.pk: audit.snapshot(target) for target in targets}
        end_bookings(targets, status=BookingStatus.CANCELLED, now=now)
        audit.record(action=BookingAction.CANCEL, bookings=targets, actor=actor, before=before, reason=reason)
    theirs = bookings_of_person(user)
    # Made for them by someone else: the booker keeps it (an ownerless booking is the booker's only).
    made_for_them = theirs.exclude(booked_by=user).exclude(booked_by__isnull=True)
    on_behalf = bookings_forget_on_behalf(booking_ids=list(made_for_them.values_list("pk", flat=True)))
    anonymised = bookings_anonymise(
        booking_ids=list(
            theirs.exclude(pk__in=made_for_them.values("pk"))
            .exclude(pk__in=kept_for_others)
            .values_list("pk", flat=True)
        ),
        now=now,
    )
    forgotten = audit_forget_person(user_id=user.pk)
    return {
        "future_bookings_cancelled": len(targets),
        "future_bookings_kept_for_others": len(kept_for_others),
        "bookings_anonymised": anonymised.bookings,
        "bookings_made_for_them_cleared": on_behalf.bookings,
        "audit_events_scrubbed": anonymised.audit_events + on_behalf.audit_events + forgotten,
    }
