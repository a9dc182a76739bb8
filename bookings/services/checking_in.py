"""Check-in and no-shows: the booker confirms a booking is in use; one that nobody uses is released.

Which bookings are no-shows is decided above this layer (``utilisation.auto_release`` reads the
sensors); this module checks people in and releases a booking as a no-show, both under the
booking's row lock, so a check-in committed just before a release wins and vice versa.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from django.conf import settings
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from bookings import audit
from bookings.errors import BookingStateError
from bookings.models import (
    Booking,
    BookingAction,
    BookingEvent,
    BookingStatus,
    Notification,
    NotificationKind,
)
from bookings.notifications import notify
from bookings.permissions import may_change, require_change_permission
from bookings.services.locking import end_bookings, lock_bookings
from campus.exceptions import NotFound, PermissionDenied
from campus.models import User
from campus.permissions import room_deciders

# How a check-in came in; kept as the audit event's reason.
CHECK_IN_VIA = ("web", "api", "door")
# The audit reason of a release by the no-show job (its actor is empty: no person released it).
NO_SHOW_REASON = "no-show"


def check_in_opens(booking: Booking) -> dt.datetime:
    """Return the moment from which ``booking`` may be checked in (a few minutes before its start)."""
    return booking.start - dt.timedelta(minutes=settings.KAMPUS_CHECK_IN_EARLY_MINUTES)


def check_in_refusal(booking: Booking, now: dt.datetime) -> BookingStateError | None:
    """Return why ``booking`` cannot be checked in at ``now``, or None when it can (or already is)."""
    if booking.status == BookingStatus.RELEASED:
        return BookingStateError(_("The booking was released; it can no longer be checked in."), code="released")
    if booking.status != BookingStatus.CONFIRMED:
        return BookingStateError(_("Only a confirmed booking can be checked in."), code="not_confirmed")
    if booking.checked_in_at is not None:
        return None  # checking in again changes nothing
    if now >= booking.end:
        return BookingStateError(_("The booking has already ended."), code="already_ended")
    if now < check_in_opens(booking):
        opens = timezone.localtime(check_in_opens(booking), booking.campus.zone)
        return BookingStateError(
            _("Check-in opens at %(time)s, %(minutes)d minutes before the start.")
            % {"time": opens.strftime("%H:%M"), "minutes": settings.KAMPUS_CHECK_IN_EARLY_MINUTES},
            code="too_early",
        )
    return None


def awaits_check_in(booking: Booking, now: dt.datetime) -> bool:
    """Return whether ``booking`` is confirmed, not checked in, and within its check-in time at ``now``."""
    return (
        booking.status == BookingStatus.CONFIRMED
        and booking.checked_in_at is None
        and check_in_opens(booking) <= now < booking.end
    )


def may_check_in(user: User, booking: Booking, now: dt.datetime) -> bool:
    """Return whether ``user`` sees a "Check in" button for ``booking`` at ``now`` (not yet checked in)."""
    return awaits_check_in(booking, now) and may_change(user, booking)


@transaction.atomic
def booking_check_in(*, booking: Booking, actor: User | None, via: str, now: dt.datetime | None = None) -> Booking:
    """Check ``booking`` in: its booker or anyone who may change it, or (``actor`` None) a door display.

    ``via`` is "web", "api" or "door"; only "door" may come without an actor, and its caller has
    checked that the display is one of the booking's room. Idempotent: checking in twice keeps the
    first time. The iCalendar output does not change, so neither ``sequence`` nor ``updated_at`` does.
    """
    if via not in CHECK_IN_VIA:
        raise ValueError(f"unknown check-in channel {via!r}")
    if actor is None and via != "door":
        raise PermissionDenied(_("Sign in to check in."))
    now = now or timezone.now()
    locked = lock_bookings([booking.pk], statuses=BookingStatus.values)
    if not locked:
        raise NotFound(_("The booking no longer exists."))
    booking = locked[0]
    if actor is not None:
        require_change_permission(actor, booking)
    refusal = check_in_refusal(booking, now)
    if refusal is not None:
        raise refusal
    if booking.checked_in_at is not None:
        return booking
    Booking.objects.filter(pk=booking.pk).update(checked_in_at=now)
    booking.checked_in_at = now
    audit.record(action=BookingAction.CHECK_IN, bookings=[booking], actor=actor, reason=via)
    return booking


# --- No-shows ----------------------------------------------------------------------------------


def _in_language_of(user: User, words: Callable[[], str]) -> str:
    with translation.override(user.preferred_language or settings.LANGUAGE_CODE):
        return words()


@transaction.atomic
def booking_release_no_show(
    *,
    booking: Booking,
    no_show_after: dt.timedelta,
    sensed: bool,
    now: dt.datetime | None = None,
    confirm: Callable[[Booking], bool] | None = None,
) -> Booking | None:
    """Release ``booking`` as a no-show: status released, the rest of its slot free, the booker told.

    ``no_show_after``: the room's no-show minutes; ``sensed``: whether the room's sensors showed
    nobody (else only the missing check-in counts). Under the booking's row lock it must still be
    confirmed, not checked in, started at least ``no_show_after`` ago and not ended, and ``confirm``
    (called on the locked row) must still find no one there; otherwise nothing happens and None is
    returned. Recorded as a release with no actor and the reason "no-show".
    """
    now = now or timezone.now()
    locked = lock_bookings([booking.pk], statuses=[BookingStatus.CONFIRMED], ending_after=now)
    if not locked:
        return None
    booking = locked[0]
    if booking.checked_in_at is not None or now < booking.start + no_show_after:
        return None
    if confirm is not None and not confirm(booking):
        return None
    before = {booking.pk: audit.snapshot(booking)}
    end_bookings([booking], status=BookingStatus.RELEASED, now=now, released_at=now)
    audit.record(action=BookingAction.RELEASE, bookings=[booking], actor=None, before=before, reason=NO_SHOW_REASON)
    minutes = int(no_show_after.total_seconds() // 60)
    if booking.booked_by is not None:

        def reason() -> str:
            if sensed:
                return ngettext(
                    "Nobody was in the room and nobody checked in during the first %(minutes)d minute, "
                    "so the booking was released for others.",
                    "Nobody was in the room and nobody checked in during the first %(minutes)d minutes, "
                    "so the booking was released for others.",
                    minutes,
                ) % {"minutes": minutes}
            return ngettext(
                "Nobody checked in during the first %(minutes)d minute, so the booking was released for others.",
                "Nobody checked in during the first %(minutes)d minutes, so the booking was released for others.",
                minutes,
            ) % {"minutes": minutes}

        notify(
            kind=NotificationKind.RELEASED,
            booking=booking,
            recipients=[booking.booked_by],
            reason=_in_language_of(booking.booked_by, reason),
        )
    _tell_of_no_show_streak(booking, now=now)
    return booking


def no_show_streak(booking: Booking, *, now: dt.datetime) -> list[int]:
    """Return the ids of the occurrences of ``booking``'s series, newest first, released as no-shows in a row
    up to the newest started one.

    Started occurrences are those confirmed or released whose start has come; cancelled and rejected
    ones never took place and neither break nor lengthen a streak.
    """
    if booking.series_id is None:
        return []
    started = list(
        Booking.objects.filter(
            series_id=booking.series_id,
            start__lte=now,
            status__in=[BookingStatus.CONFIRMED, BookingStatus.RELEASED],
        )
        .order_by("-start", "-pk")
        .values_list("pk", "status")[:200]
    )
    released_ids = [pk for pk, status in started if status == BookingStatus.RELEASED]
    no_shows = set(
        BookingEvent.objects.filter(
            booking_id__in=released_ids, action=BookingAction.RELEASE, actor__isnull=True, reason=NO_SHOW_REASON
        ).values_list("booking_id", flat=True)
    )
    streak = []
    for pk, _status in started:
        if pk not in no_shows:
            break
        streak.append(pk)
    return streak


def _tell_of_no_show_streak(booking: Booking, *, now: dt.datetime) -> None:
    """Tell the booker and the room's deciders once when a series' last started occurrences were all no-shows."""
    needed = settings.KAMPUS_NO_SHOW_STREAK
    streak = no_show_streak(booking, now=now)
    if needed < 1 or len(streak) < needed:
        return
    if Notification.objects.filter(booking_id__in=streak, kind=NotificationKind.NO_SHOW_SERIES).exists():
        return  # this streak was told of already
    today = now.astimezone(booking.campus.zone).date()
    recipients = [booking.booked_by, *room_deciders(room=booking.room, on=today).order_by("pk")]
    for recipient in {r.pk: r for r in recipients if r is not None}.values():

        def reason() -> str:
            return ngettext(
                "The last %(count)d occurrence of this repeating booking was released because nobody came.",
                "The last %(count)d occurrences of this repeating booking were released because nobody came.",
                len(streak),
            ) % {"count": len(streak)}

        notify(
            kind=NotificationKind.NO_SHOW_SERIES,
            booking=booking,
            recipients=[recipient],
            reason=_in_language_of(recipient, reason),
        )
