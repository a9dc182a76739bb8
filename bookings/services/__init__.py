"""Writes of bookings. Every entry point (pages, API, iCal import, jobs) calls these functions.

Double booking is impossible by construction: each active booking has one block per room part,
and on PostgreSQL an exclusion constraint forbids overlapping blocks of a part. The checks here
give users a readable answer first; on SQLite they are the guarantee, because the transaction
takes the database's write lock at BEGIN (``transaction_mode`` IMMEDIATE) so no check can race.

By topic: ``creating`` (plan, then carry out), ``changing`` (edit, move, reshape, cancel, release,
hand over), ``checking_in`` (check-in, release of no-shows), ``deciding`` (approve, reject, expire),
``closures``; under them the ``locking`` and ``conflicts`` core, the ``checks`` that creating and
moving share, and ``context`` (what a booking request reads, in one statement before its locks and
one after).
"""

from bookings.models import Scope
from bookings.parts import room_parts
from bookings.permissions import may_change, resolve_institution
from bookings.services.changing import (
    EDITABLE_FIELDS,
    booking_cancel,
    booking_release,
    booking_series_handover,
    booking_update,
    handover_refused,
)
from bookings.services.checking_in import (
    awaits_check_in,
    booking_check_in,
    booking_release_no_show,
    check_in_refusal,
    may_check_in,
    no_show_streak,
)
from bookings.services.closures import closure_affected_bookings, closure_cancel_bookings, closure_create
from bookings.services.conflicts import active_overlaps_exist
from bookings.services.creating import (
    BookingRequest,
    BookingResult,
    Skipped,
    booking_create,
    booking_dry_run,
    plan_booking,
)
from bookings.services.deciding import EXPIRED, booking_approve, booking_reject, requests_expire
from bookings.services.locking import lock_bookings, lock_in_scope, sync_series_exceptions

__all__ = [
    "EDITABLE_FIELDS",
    "EXPIRED",
    "BookingRequest",
    "BookingResult",
    "Scope",
    "Skipped",
    "active_overlaps_exist",
    "awaits_check_in",
    "booking_approve",
    "booking_cancel",
    "booking_check_in",
    "booking_create",
    "booking_dry_run",
    "booking_reject",
    "booking_release",
    "booking_release_no_show",
    "booking_series_handover",
    "booking_update",
    "check_in_refusal",
    "closure_affected_bookings",
    "closure_cancel_bookings",
    "closure_create",
    "handover_refused",
    "lock_bookings",
    "lock_in_scope",
    "may_change",
    "may_check_in",
    "no_show_streak",
    "plan_booking",
    "requests_expire",
    "resolve_institution",
    "room_parts",
    "sync_series_exceptions",
]
