"""Pages for facility managers and the front desk: approvals, closures and the day's bookings.

Thin views over ``bookings.selectors`` and ``bookings.services``; the services decide who may
approve, close or cancel, the pages only decide who may open them (``campus.permissions.page_access``)
and which closures they show (``bookings.permissions``). The forms are ``bookings.forms.manage``'s.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST

from bookings import permissions, selectors, services
from bookings.forms.errors import add_domain_error
from bookings.forms.manage import ClosureForm, ConfirmCancelForm, DecisionForm
from bookings.models import ACTIVE_STATUSES, Booking, BookingStatus, Closure
from bookings.permissions import viewer_for
from bookings.views_mine import Entry, series_label
from campus.dates import FIRST_YEAR, LAST_YEAR, within_years
from campus.exceptions import KampusError
from campus.exceptions import PermissionDenied as DomainPermissionDenied
from campus.models import Building, Room, User
from campus.permissions import manages_facilities, member_campuses, serves_front_desk

# --- who may open the pages ----------------------------------------------------------------------


def _role_required(test: Callable[[User], bool]) -> Callable:
    """Let signed-in users who pass ``test`` in; others see the 403 page."""

    def decorator(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @login_required
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if not test(request.user):
                raise PermissionDenied(_("This page is for facility managers and the front desk."))
            return view(request, *args, **kwargs)

        wrapped.__name__ = view.__name__
        wrapped.__doc__ = view.__doc__
        return wrapped

    return decorator


facility_manager_required = _role_required(manages_facilities)
front_desk_required = _role_required(serves_front_desk)


# --- approvals ---------------------------------------------------------------------------------------


def _render_approvals(request: HttpRequest, *, bound: DecisionForm | None = None, status: int = 200) -> HttpResponse:
    now = timezone.now()
    viewer = viewer_for(request.user)
    entries: list[Entry] = []
    by_series: dict[int, Entry] = {}
    for booking in selectors.requests_to_decide(user=request.user, now=now):
        booking.display_title = viewer.display_title(booking)
        if booking.series_id is None:
            entries.append(Entry(first=booking, occurrences=[booking]))
        elif booking.series_id in by_series:
            by_series[booking.series_id].occurrences.append(booking)
        else:
            entry = Entry(first=booking, occurrences=[booking], series_label=series_label(booking.series))
            by_series[booking.series_id] = entry
            entries.append(entry)
    for entry in entries:
        entry.occurrences.sort(key=lambda b: (b.start, b.pk))
        entry.first = entry.occurrences[0]
        if bound is not None and bound.prefix == f"decide-{entry.first.pk}":
            entry.form = bound
        else:
            entry.form = DecisionForm(booking=entry.first)
    return render(request, "manage/approvals.html", {"entries": entries}, status=status)


@facility_manager_required
def approvals(request: HttpRequest) -> HttpResponse:
    """Render the requests waiting for the user's decision, a series once with its count."""
    return _render_approvals(request)


def _decide(request: HttpRequest, pk: int, *, approve: bool) -> HttpResponse:
    booking = get_object_or_404(Booking.objects.select_related("room__building__campus", "series"), pk=pk)
    form = DecisionForm(request.POST, booking=booking)
    if form.is_valid():
        reason = form.cleaned_data["reason"].strip()
        try:
            if approve:
                decided = services.booking_approve(booking=booking, actor=request.user, scope=form.scope, reason=reason)
            else:
                decided = services.booking_reject(booking=booking, actor=request.user, scope=form.scope, reason=reason)
        except DomainPermissionDenied as error:
            raise PermissionDenied(error.message) from error
        except KampusError as error:
            add_domain_error(form, error)
        else:
            values = {"count": len(decided), "title": booking.title}
            if approve:
                text = ngettext("Approved: %(title)s.", "Approved: %(title)s, %(count)d occurrences.", len(decided))
            else:
                text = ngettext(
                    "Rejected: %(title)s. The requester has been told why.",
                    "Rejected: %(title)s, %(count)d occurrences. The requester has been told why.",
                    len(decided),
                )
            messages.success(request, text % values)
            return redirect("manage:approvals")
    messages.error(request, _("The request was not decided: see the error below."))
    return _render_approvals(request, bound=form, status=422)


@require_POST
@facility_manager_required
def approval_approve(request: HttpRequest, pk: int) -> HttpResponse:
    """Approve a request (one occurrence or the whole series)."""
    return _decide(request, pk, approve=True)


@require_POST
@facility_manager_required
def approval_reject(request: HttpRequest, pk: int) -> HttpResponse:
    """Reject a request with a reason (one occurrence or the whole series)."""
    return _decide(request, pk, approve=False)


# --- closures ------------------------------------------------------------------------------------------


def _closure_queryset(user: User):
    qs = Closure.objects.select_related("room__building__campus", "building__campus", "campus", "created_by")
    return qs.filter(permissions.visible_closures(user))


@facility_manager_required
def closures(request: HttpRequest) -> HttpResponse:
    """Render current and upcoming closures and the form to close a room or a building."""
    if request.method == "POST":
        form = ClosureForm(request.POST, user=request.user)
        if form.is_valid():
            try:
                closure, affected = services.closure_create(actor=request.user, **form.closure_arguments())
            except KampusError as error:
                add_domain_error(form, error)
            else:
                messages.success(
                    request,
                    ngettext(
                        "Closed. %(count)d booking falls into the closure; its booker has been told.",
                        "Closed. %(count)d bookings fall into the closure; their bookers have been told.",
                        len(affected),
                    )
                    % {"count": len(affected)},
                )
                return redirect("manage:closure-detail", pk=closure.pk)
    else:
        today = timezone.localdate()
        form = ClosureForm(user=request.user, initial={"start_date": today, "end_date": today})
    now = timezone.now()
    current = list(_closure_queryset(request.user).filter(end__gt=now).order_by("start", "pk"))
    for closure in current:
        closure.affected_count = len(services.closure_affected_bookings(closure))
        closure.is_current = closure.start <= now
    return render(
        request,
        "manage/closures.html",
        {"form": form, "closures": current},
        status=422 if request.method == "POST" else 200,
    )


def _closure_or_403(request: HttpRequest, pk: int) -> Closure:
    closure = get_object_or_404(
        Closure.objects.select_related("room__building__campus", "building__campus", "campus", "created_by"), pk=pk
    )
    if not permissions.may_see_closure(request.user, closure):
        raise PermissionDenied(_("This closure is on another campus."))
    return closure


def _render_closure(
    request: HttpRequest, closure: Closure, form: ConfirmCancelForm | None = None, status: int = 200
) -> HttpResponse:
    viewer = viewer_for(request.user)
    now = timezone.now()
    affected = services.closure_affected_bookings(closure)
    for booking in affected:
        booking.display_title = viewer.display_title(booking)
        booking.shows_details = viewer.sees_details(booking)
    cancellable = [b for b in affected if b.end > now]
    return render(
        request,
        "manage/closure_detail.html",
        {
            "closure": closure,
            "affected": affected,
            "cancellable_count": len(cancellable),
            "form": form or ConfirmCancelForm(),
        },
        status=status,
    )


@facility_manager_required
def closure_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """Render a closure and the active bookings that fall into it."""
    return _render_closure(request, _closure_or_403(request, pk))


@require_POST
@facility_manager_required
def closure_cancel_bookings(request: HttpRequest, pk: int) -> HttpResponse:
    """Cancel every active booking that falls into the closure, once confirmed."""
    closure = _closure_or_403(request, pk)
    form = ConfirmCancelForm(request.POST)
    if not form.is_valid():
        return _render_closure(request, closure, form, status=422)
    try:
        cancelled = services.closure_cancel_bookings(closure=closure, actor=request.user)
    except DomainPermissionDenied as error:
        raise PermissionDenied(error.message) from error
    except KampusError as error:
        add_domain_error(form, error)
        return _render_closure(request, closure, form, status=422)
    if cancelled:
        messages.success(
            request,
            ngettext(
                "%(count)d booking was cancelled; its booker has been told.",
                "%(count)d bookings were cancelled; their bookers have been told.",
                len(cancelled),
            )
            % {"count": len(cancelled)},
        )
    else:
        messages.info(request, _("There were no bookings left to cancel."))
    return redirect("manage:closure-detail", pk=closure.pk)


# --- front desk -----------------------------------------------------------------------------------------


@dataclass
class RoomDay:
    room: Room
    bookings: list[Booking] = field(default_factory=list)


@dataclass
class BuildingDay:
    building: Building
    rooms: list[RoomDay] = field(default_factory=list)


def _front_desk_day(request: HttpRequest) -> dict[str, Any]:
    """Return the context of the day list: the chosen campus and date, bookings by building and room."""
    campuses = member_campuses(request.user)
    chosen = request.GET.get("campus", "")
    campus = next((c for c in campuses if str(c.pk) == chosen), campuses[0] if campuses else None)
    date_error = ""
    today = timezone.localdate(timezone=campus.zone) if campus else timezone.localdate()
    raw_date = request.GET.get("date", "").strip()
    day = today
    if raw_date:
        try:
            day = dt.date.fromisoformat(raw_date)
        except ValueError:
            date_error = _("“%(value)s” is not a date; showing today.") % {"value": raw_date}
        else:
            if not within_years(day):
                day = today
                date_error = _("“%(value)s” is not between %(first)d and %(last)d; showing today.") % {
                    "value": raw_date,
                    "first": FIRST_YEAR,
                    "last": LAST_YEAR,
                }
    show_all = request.GET.get("all") == "1"
    buildings: list[BuildingDay] = []
    count = 0
    if campus is not None:
        start = dt.datetime.combine(day, dt.time(0, 0), tzinfo=campus.zone)
        end = dt.datetime.combine(day + dt.timedelta(days=1), dt.time(0, 0), tzinfo=campus.zone)
        statuses = None if show_all else [*ACTIVE_STATUSES, BookingStatus.RELEASED]
        bookings = (
            selectors.booking_list(statuses=statuses, overlapping_from=start, overlapping_to=end)
            .select_related("campus")
            .filter(campus=campus)
            .order_by("room__building__code", "room__code", "start", "pk")
        )
        viewer = viewer_for(request.user)
        now = timezone.now()
        may_change = permissions.change_checker(request.user)
        for booking in bookings:
            count += 1
            booking.display_title = viewer.display_title(booking)
            booking.shows_details = viewer.sees_details(booking)
            booking.is_open = booking.status in ACTIVE_STATUSES and booking.end > now
            booking.may_change = booking.is_open and may_change(booking)
            building = booking.room.building
            if not buildings or buildings[-1].building.pk != building.pk:
                buildings.append(BuildingDay(building=building))
            rooms = buildings[-1].rooms
            if not rooms or rooms[-1].room.pk != booking.room_id:
                rooms.append(RoomDay(room=booking.room))
            rooms[-1].bookings.append(booking)
    query = {"date": day.isoformat()}
    if campus is not None and len(campuses) > 1:
        query["campus"] = str(campus.pk)
    return {
        "campuses": campuses,
        "campus": campus,
        "day": day,
        "today": today,
        "previous_day": (day - dt.timedelta(days=1)).isoformat(),
        "next_day": (day + dt.timedelta(days=1)).isoformat(),
        "date_error": date_error,
        "show_all": show_all,
        "buildings": buildings,
        "count": count,
        "printed_at": timezone.now(),
        "print_query": "&".join(f"{k}={v}" for k, v in query.items()) + ("&all=1" if show_all else ""),
        "front_desk_url": reverse("manage:front-desk") + "?" + "&".join(f"{k}={v}" for k, v in query.items()),
    }


@front_desk_required
def front_desk(request: HttpRequest) -> HttpResponse:
    """Render the day's bookings of the campus by building and room, with titles for the front desk."""
    return render(request, "manage/front_desk.html", _front_desk_day(request))


@front_desk_required
def front_desk_print(request: HttpRequest) -> HttpResponse:
    """Render the day list for printing (a compact table per building)."""
    return render(request, "manage/front_desk_print.html", _front_desk_day(request))
