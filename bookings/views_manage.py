"""Pages for facility managers and the front desk: approvals, closures and the day's bookings.

Thin views over ``bookings.selectors`` and ``bookings.services``; the services decide who may
approve, close or cancel, the pages only decide who may open them.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.http import require_POST

from bookings import selectors, services
from bookings.forms import CampusDateField
from bookings.models import ACTIVE_STATUSES, Booking, BookingStatus, Closure
from bookings.views_mine import DATE_INPUT, TIME_INPUTS, DomainForm, Entry, add_domain_error, series_label
from bookings.visibility import viewer_for
from campus.dates import FIRST_YEAR, LAST_YEAR, within_years
from campus.exceptions import KampusError
from campus.exceptions import PermissionDenied as DomainPermissionDenied
from campus.models import Building, Campus, Role, Room, User
from campus.permissions import managed_scope, valid_memberships

# --- who may open the pages ----------------------------------------------------------------------


def _held_roles(user: User) -> set[str]:
    return set(valid_memberships(user).values_list("role", flat=True))


def is_facility_manager(user: User) -> bool:
    """Return whether ``user`` manages facilities anywhere (the same test as the navigation's)."""
    return user.is_superuser or Role.FACILITY_MANAGER in _held_roles(user)


def is_front_desk_or_manager(user: User) -> bool:
    return user.is_superuser or bool({Role.FACILITY_MANAGER, Role.FRONT_DESK} & _held_roles(user))


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


facility_manager_required = _role_required(is_facility_manager)
front_desk_required = _role_required(is_front_desk_or_manager)


def _campuses_of(user: User) -> list[Campus]:
    """Return the campuses where ``user`` holds a valid membership (every campus for superusers)."""
    if user.is_superuser:
        return list(Campus.objects.order_by("name"))
    ids = {m.campus_id or m.institution.campus_id for m in valid_memberships(user)}
    return list(Campus.objects.filter(pk__in=ids).order_by("name"))


# --- approvals ---------------------------------------------------------------------------------------


class DecisionForm(DomainForm):
    """Approve or reject one request; for a series, one occurrence or the whole series."""

    reason = forms.CharField(
        label=gettext_lazy("Reason"),
        required=False,
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=gettext_lazy("Required when you reject, optional when you approve. The requester reads it."),
    )

    def __init__(self, *args: Any, booking: Booking, **kwargs: Any) -> None:
        kwargs.setdefault("prefix", f"decide-{booking.pk}")
        super().__init__(*args, **kwargs)
        if booking.series_id:
            self.fields["scope"] = forms.ChoiceField(
                label=gettext_lazy("Decide for"),
                choices=[
                    (services.Scope.OCCURRENCE, gettext_lazy("This occurrence only")),
                    (services.Scope.SERIES, gettext_lazy("The whole series")),
                ],
                initial=services.Scope.SERIES,
                widget=forms.RadioSelect,
            )
            self.order_fields(["scope", "reason"])
        # Optional to approve, required to reject: the help text says so, not an "(optional)" mark.
        self.fields["reason"].hide_optional = True

    @property
    def scope(self) -> str:
        return self.cleaned_data.get("scope") or services.Scope.OCCURRENCE


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


class ClosureForm(DomainForm):
    """Close a room or a whole building for a period; empty times mean whole days."""

    target = forms.ChoiceField(label=gettext_lazy("What to close"))
    start_date = CampusDateField(
        label=gettext_lazy("First day"),
        input_formats=[DATE_INPUT],
        widget=forms.DateInput(attrs={"type": "date"}, format=DATE_INPUT),
    )
    start_time = forms.TimeField(
        label=gettext_lazy("From (time)"),
        required=False,
        input_formats=TIME_INPUTS,
        widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
    )
    end_date = CampusDateField(
        label=gettext_lazy("Last day"),
        input_formats=[DATE_INPUT],
        widget=forms.DateInput(attrs={"type": "date"}, format=DATE_INPUT),
    )
    end_time = forms.TimeField(
        label=gettext_lazy("Until (time)"),
        required=False,
        input_formats=TIME_INPUTS,
        widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
    )
    reason = forms.CharField(
        label=gettext_lazy("Reason"),
        max_length=300,
        help_text=gettext_lazy(
            "For example: renovation, matriculation exams. The people whose bookings fall into it read it."
        ),
    )

    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        institution_ids, campus_ids = managed_scope(user)
        rooms = Room.objects.select_related("building__campus").order_by("building__code", "code")
        buildings = Building.objects.select_related("campus").order_by("code")
        if not user.is_superuser:
            rooms = rooms.filter(Q(owner_id__in=institution_ids) | Q(building__campus_id__in=campus_ids))
            buildings = buildings.filter(campus_id__in=campus_ids)
        self.rooms = {room.pk: room for room in rooms}
        self.buildings = {building.pk: building for building in buildings}
        choices: list[Any] = [("", _("Choose a room or a building"))]
        if self.buildings:
            choices.append(
                (
                    _("Whole buildings"),
                    [(f"building:{b.pk}", f"{b.code} {b.name}") for b in self.buildings.values()],
                )
            )
        choices.append((_("Rooms"), [(f"room:{r.pk}", r.label) for r in self.rooms.values()]))
        self.fields["target"].choices = choices
        self.order_fields(["target", "start_date", "start_time", "end_date", "end_time", "reason"])

    def clean_target(self) -> Room | Building:
        kind, _sep, pk = self.cleaned_data["target"].partition(":")
        found = (self.rooms if kind == "room" else self.buildings if kind == "building" else {}).get(
            int(pk) if pk.isdigit() else 0
        )
        if found is None:
            raise forms.ValidationError(_("Choose a room or a building from the list."))
        return found

    def closure_arguments(self) -> dict[str, Any]:
        """Return the keyword arguments for ``services.closure_create`` (times in the campus zone)."""
        data = self.cleaned_data
        target = data["target"]
        room = target if isinstance(target, Room) else None
        building = target if isinstance(target, Building) else None
        zone = (room.building.campus if room is not None else building.campus).zone
        start = dt.datetime.combine(data["start_date"], data.get("start_time") or dt.time(0, 0), tzinfo=zone)
        if data.get("end_time"):
            end = dt.datetime.combine(data["end_date"], data["end_time"], tzinfo=zone)
        else:
            end = dt.datetime.combine(data["end_date"] + dt.timedelta(days=1), dt.time(0, 0), tzinfo=zone)
        return {"room": room, "building": building, "start": start, "end": end, "reason": data["reason"]}


def _closure_queryset(user: User):
    qs = Closure.objects.select_related("room__building__campus", "building__campus", "campus", "created_by")
    if not user.is_superuser:
        qs = qs.filter(campus__in=_campuses_of(user))
    return qs


@facility_manager_required
def closures(request: HttpRequest) -> HttpResponse:
    """Render current and upcoming closures and the form to close a room or a building."""
    if request.method == "POST":
        form = ClosureForm(request.POST, user=request.user)
        if form.is_valid():
            try:
                closure, affected = services.closure_create(actor=request.user, **form.closure_arguments())
            except DomainPermissionDenied as error:
                form.add_error(None, error.message)
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


class ConfirmCancelForm(DomainForm):
    confirm = forms.BooleanField(
        label=gettext_lazy("Yes, cancel these bookings and tell their bookers"),
        error_messages={"required": gettext_lazy("Tick the box to confirm that the bookings are to be cancelled.")},
    )


def _closure_or_403(request: HttpRequest, pk: int) -> Closure:
    closure = get_object_or_404(
        Closure.objects.select_related("room__building__campus", "building__campus", "campus", "created_by"), pk=pk
    )
    if not request.user.is_superuser and closure.campus not in _campuses_of(request.user):
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
    campuses = _campuses_of(request.user)
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
        may_change = _may_change_cache(request.user)
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


def _may_change_cache(user: User) -> Callable[[Booking], bool]:
    """Return ``services.may_change`` for ``user``, asked once per room for bookings of other people.

    For a booking neither booked nor owned (as a series) by the user, the answer depends only on the
    room and its campus, so a day list asks the service once per room instead of once per booking.
    """
    by_room: dict[int, bool] = {}

    def may_change(booking: Booking) -> bool:
        own = booking.booked_by_id == user.pk or (booking.series_id and booking.series.owner_id == user.pk)
        if own:
            return services.may_change(user, booking)
        if booking.room_id not in by_room:
            by_room[booking.room_id] = services.may_change(user, booking)
        return by_room[booking.room_id]

    return may_change


@front_desk_required
def front_desk(request: HttpRequest) -> HttpResponse:
    """Render the day's bookings of the campus by building and room, with titles for the front desk."""
    return render(request, "manage/front_desk.html", _front_desk_day(request))


@front_desk_required
def front_desk_print(request: HttpRequest) -> HttpResponse:
    """Render the day list for printing (a compact table per building)."""
    return render(request, "manage/front_desk_print.html", _front_desk_day(request))
