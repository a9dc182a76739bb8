"""Pages for one's own bookings: the list, and changing, cancelling, releasing, checking in and handing over a booking.

Thin views: they read through ``bookings.selectors``, write through ``bookings.services`` and turn
domain errors into form errors (``bookings.forms.errors``). Who may act is decided by
``bookings.permissions``; the forms are ``bookings.forms.mine``'s.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_http_methods

from bookings import permissions, recurrence, selectors, services
from bookings.errors import BookingStateError
from bookings.forms.errors import add_domain_error
from bookings.forms.mine import BookingCancelForm, BookingEditForm, HandoverForm
from bookings.models import ACTIVE_STATUSES, Booking, BookingSeries, BookingStatus
from campus.exceptions import KampusError
from campus.exceptions import PermissionDenied as DomainPermissionDenied
from campus.models import User

PAST_DAYS = 30


# --- helpers ----------------------------------------------------------------------------------------


def _booking_or_404(pk: int) -> Booking:
    try:
        return selectors.booking_get(pk)
    except Booking.DoesNotExist as error:
        raise Http404(_("No such booking.")) from error


def _changeable_booking(request: HttpRequest, pk: int) -> Booking:
    """Return the booking ``pk`` if the user may change it; 404 when missing, 403 when not allowed."""
    booking = _booking_or_404(pk)
    if not permissions.may_change(request.user, booking):
        raise PermissionDenied(_("Only the booker, the room's facility managers or the front desk may do this."))
    return booking


def _next_url(request: HttpRequest) -> str:
    """Return where to go after an action: a safe ``next`` from the request, else My bookings."""
    candidate = request.POST.get("next") or request.GET.get("next") or ""
    if candidate and url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return candidate
    return reverse("bookings:mine")


def _is_open(booking: Booking, now: dt.datetime) -> bool:
    return booking.status in ACTIVE_STATUSES and booking.end > now


def series_label(series: BookingSeries | None) -> str:
    """Return how often a series repeats, in words ("weekly series", "every 2 weeks")."""
    if series is None:
        return ""
    return recurrence.repeat_label(series.rrule)


@dataclass
class Entry:
    """One line of a booking list: a single booking, or a series shown by its first occurrence."""

    first: Booking
    occurrences: list[Booking] = field(default_factory=list)
    series_label: str = ""

    @property
    def count(self) -> int:
        return len(self.occurrences)

    @property
    def is_series(self) -> bool:
        return self.first.series_id is not None


def group_series(bookings: list[Booking]) -> list[Entry]:
    """Return ``bookings`` (already in display order) with each series folded into one entry."""
    entries: list[Entry] = []
    by_series: dict[int, Entry] = {}
    for booking in bookings:
        if booking.series_id is None:
            entries.append(Entry(first=booking, occurrences=[booking]))
            continue
        entry = by_series.get(booking.series_id)
        if entry is None:
            entry = Entry(first=booking, series_label=series_label(booking.series))
            by_series[booking.series_id] = entry
            entries.append(entry)
        entry.occurrences.append(booking)
    return entries


def _mark_actions(booking: Booking, now: dt.datetime) -> Booking:
    """Annotate ``booking`` with what its booker can do now (the template shows those actions)."""
    booking.is_open = _is_open(booking, now)
    booking.is_running = booking.is_open and booking.start <= now
    booking.awaits_check_in = services.awaits_check_in(booking, now)
    return booking


# --- pages ------------------------------------------------------------------------------------------


def has_ended(booking: Booking, now: dt.datetime) -> bool:
    """Return whether ``booking`` is over by time: its end has passed, or it was released early."""
    return booking.end <= now or booking.status == BookingStatus.RELEASED


@login_required
def my_bookings(request: HttpRequest) -> HttpResponse:
    """Render the user's bookings: upcoming, waiting for approval, cancelled or rejected, and past.

    Past means ended (whatever the status) in the last 30 days; a cancelled or rejected booking
    whose time has not come yet is listed apart, so that "Past" never holds the future.
    """
    now = timezone.now()
    bookings = [
        _mark_actions(booking, now)
        for booking in selectors.booking_list(
            booked_by=request.user, overlapping_from=now - dt.timedelta(days=PAST_DAYS)
        )
    ]
    past = [b for b in bookings if has_ended(b, now)]
    ahead = [b for b in bookings if not has_ended(b, now)]
    upcoming = [b for b in ahead if b.status == BookingStatus.CONFIRMED]
    waiting = [b for b in ahead if b.status == BookingStatus.PENDING]
    called_off = [b for b in ahead if b.status not in ACTIVE_STATUSES]
    past.sort(key=lambda b: (b.start, b.pk), reverse=True)
    expanded = request.GET.get("series", "")
    return render(
        request,
        "bookings/mine.html",
        {
            "sections": [
                ("upcoming", _("Upcoming"), "", group_series(upcoming)),
                (
                    "waiting",
                    _("Waiting for approval"),
                    _("A facility manager decides these requests. Until then the time is held for you."),
                    group_series(waiting),
                ),
                (
                    "cancelled",
                    _("Cancelled and rejected"),
                    _("Bookings and requests that will not take place. Once their time has passed they move to Past."),
                    group_series(called_off),
                ),
                (
                    "past",
                    _("Past"),
                    _("Bookings that ended in the last %(days)d days, whatever became of them.") % {"days": PAST_DAYS},
                    group_series(past),
                ),
            ],
            "expanded_series": int(expanded) if expanded.isdigit() else None,
            "now": now,
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def booking_edit(request: HttpRequest, pk: int) -> HttpResponse:
    """Change a booking (or, for a series, this and the following or all occurrences)."""
    booking = _changeable_booking(request, pk)
    now = timezone.now()
    context: dict[str, Any] = {"booking": booking, "next_url": _next_url(request), "conflicts": []}
    if not _is_open(booking, now):
        return render(request, "bookings/edit.html", context)
    may_override = permissions.may_override(request.user, booking.room)
    form_kwargs = {"booking": booking, "may_override": may_override}
    if request.method == "POST":
        form = BookingEditForm(request.POST, **form_kwargs)
        if form.is_valid():
            if not form.has_changed():
                messages.info(request, _("Nothing was changed."))
                return redirect(context["next_url"])
            try:
                changed = services.booking_update(
                    booking=booking, actor=request.user, now=now, **form.update_arguments()
                )
            except DomainPermissionDenied as error:
                raise PermissionDenied(error.message) from error
            except KampusError as error:
                context["conflicts"] = add_domain_error(form, error).conflicts
            else:
                messages.success(
                    request,
                    ngettext("The booking was changed.", "%(count)d occurrences were changed.", len(changed))
                    % {"count": len(changed)},
                )
                return redirect(context["next_url"])
    else:
        form = BookingEditForm(**form_kwargs)
    context["form"] = form
    return render(request, "bookings/edit.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def booking_cancel(request: HttpRequest, pk: int) -> HttpResponse:
    """Ask to confirm, then cancel a booking (for a series: this, the following or all occurrences)."""
    booking = _changeable_booking(request, pk)
    now = timezone.now()
    context: dict[str, Any] = {
        "booking": booking,
        "next_url": _next_url(request),
        "series_label": series_label(booking.series),
    }
    if not _is_open(booking, now):
        return render(request, "bookings/cancel.html", context)
    form = BookingCancelForm(request.POST or None, booking=booking)
    if request.method == "POST" and form.is_valid():
        try:
            cancelled = services.booking_cancel(
                booking=booking,
                actor=request.user,
                scope=form.cleaned_data.get("scope") or services.Scope.OCCURRENCE,
                reason=form.cleaned_data["reason"].strip(),
                now=now,
            )
        except DomainPermissionDenied as error:
            raise PermissionDenied(error.message) from error
        except KampusError as error:
            add_domain_error(form, error)
        else:
            messages.success(
                request,
                ngettext("The booking was cancelled.", "%(count)d occurrences were cancelled.", len(cancelled))
                % {"count": len(cancelled)},
            )
            return redirect(context["next_url"])
    context["form"] = form
    return render(request, "bookings/cancel.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def booking_release(request: HttpRequest, pk: int) -> HttpResponse:
    """Ask to confirm, then release a running booking: "we finished early", the rest of the slot is free."""
    booking = _changeable_booking(request, pk)
    now = timezone.now()
    context: dict[str, Any] = {"booking": booking, "next_url": _next_url(request), "error": None}
    if booking.status not in ACTIVE_STATUSES:
        context["error"] = _("Only an active booking can be released.")
    elif now < booking.start:
        context["error"] = _("The booking has not started yet: cancel it instead.")
        context["suggest_cancel"] = True
    elif now >= booking.end:
        context["error"] = _("The booking has already ended.")
    if request.method == "POST" and context["error"] is None:
        try:
            services.booking_release(booking=booking, actor=request.user, now=now)
        except DomainPermissionDenied as error:
            raise PermissionDenied(error.message) from error
        except BookingStateError as error:
            context["error"] = error.message
            context["suggest_cancel"] = error.code == "not_started"
        else:
            messages.success(request, _("The booking was released: the room is free for others from now on."))
            return redirect(context["next_url"])
    status = 409 if request.method == "POST" and context["error"] else 200
    return render(request, "bookings/release.html", context, status=status)


@login_required
@require_http_methods(["POST"])
def booking_check_in(request: HttpRequest, pk: int) -> HttpResponse:
    """Check a booking in ("we are here") and go back to where the button was."""
    booking = _changeable_booking(request, pk)
    try:
        services.booking_check_in(booking=booking, actor=request.user, via="web")
    except DomainPermissionDenied as error:
        raise PermissionDenied(error.message) from error
    except BookingStateError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, _("Checked in: the room is held for you."))
    return redirect(_next_url(request))


@login_required
@require_http_methods(["GET", "POST"])
def booking_handover(request: HttpRequest, pk: int) -> HttpResponse:
    """Hand a series (or a booking) and its future occurrences over to another member of its institution."""
    booking = _changeable_booking(request, pk)
    now = timezone.now()
    context: dict[str, Any] = {
        "booking": booking,
        "next_url": _next_url(request),
        "series_label": series_label(booking.series),
        "members": _handover_candidates(booking, now),
    }
    if not _is_open(booking, now):
        return render(request, "bookings/handover.html", context)
    form = HandoverForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        to_user = form.cleaned_data["to_user"]
        try:
            handed = services.booking_series_handover(
                booking=booking,
                actor=request.user,
                to_user=to_user,
                reason=form.cleaned_data["reason"].strip(),
                now=now,
            )
        except DomainPermissionDenied as error:
            raise PermissionDenied(error.message) from error
        except KampusError as error:
            add_domain_error(form, error)
        else:
            messages.success(
                request,
                ngettext(
                    "The booking was handed over to %(person)s.",
                    "%(count)d occurrences were handed over to %(person)s.",
                    len(handed),
                )
                % {"count": len(handed), "person": to_user.get_full_name() or to_user.username},
            )
            return redirect(context["next_url"])
    context["form"] = form
    return render(request, "bookings/handover.html", context)


def _handover_candidates(booking: Booking, now: dt.datetime) -> list[User]:
    """Return the active users who may take over ``booking``: valid members of its institution (or campus)."""
    return list(
        permissions.possible_holders(booking, on=timezone.localdate(now, timezone=booking.room.building.campus.zone))
    )
