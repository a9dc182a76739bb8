"""Booking e-mails: written as Notification rows in the transaction, sent by the worker after commit.

A notification that fails to send stays unsent (``sent_at`` empty) and django-q2 retries the task;
nothing is lost if the worker is down, because the row exists before the task is queued.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django_q.tasks import async_task

from bookings.models import Booking, Notification
from campus.models import User


def notify(*, kind: str, booking: Booking, recipients: Iterable[User | None], reason: str = "") -> list[Notification]:
    """Queue an e-mail of ``kind`` about ``booking`` to each distinct recipient with an address."""
    seen: set[int] = set()
    notifications = []
    for recipient in recipients:
        if recipient is None or recipient.pk in seen or not recipient.email or not recipient.is_active:
            continue
        seen.add(recipient.pk)
        notifications.append(
            Notification.objects.create(recipient=recipient, kind=kind, booking=booking, reason=reason)
        )
    for notification in notifications:
        notification_id = notification.pk
        transaction.on_commit(
            lambda notification_id=notification_id: async_task(
                "bookings.tasks.send_notification", notification_id, task_name=f"notify-{notification_id}"
            ),
            # A queue that cannot be reached (Redis down) must not fail the committed booking: the row
            # stays unsent and the sweeper (send_unsent_notifications) sends it.
            robust=True,
        )
    return notifications


def booking_url(booking: Booking) -> str:
    return f"{settings.KAMPUS_BASE_URL}{reverse('bookings:detail', args=[booking.pk])}"


def send(notification: Notification) -> bool:
    """Render and send ``notification`` in its recipient's language; return False if it was sent before."""
    if notification.sent_at is not None:
        return False
    recipient = notification.recipient
    booking = notification.booking
    language = recipient.preferred_language or settings.LANGUAGE_CODE
    with translation.override(language), timezone.override(booking.campus.zone):
        context = {
            "notification": notification,
            "booking": booking,
            "recipient": recipient,
            "kind": notification.kind,
            "url": booking_url(booking),
        }
        subject = " ".join(render_to_string("bookings/email/subject.txt", context).split())
        body = render_to_string("bookings/email/body.txt", context)
    send_mail(subject, body, None, [recipient.email])
    Notification.objects.filter(pk=notification.pk).update(
        sent_at=timezone.now(), language=language, subject=subject[:300]
    )
    return True
