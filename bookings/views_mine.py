"""Pages for one's own bookings: the list, and changing, cancelling, releasing and handing over a booking.

Thin views: they read through ``bookings.selectors``, write through ``bookings.services`` and turn
domain errors into form errors. Who may act is decided by ``services.may_change``.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.http import require_http_methods

from bookings import recurrence, rules, selectors, services
from bookings.errors import BookingRuleBroken, BookingStateError, SlotTaken
from bookings.forms import RULE_FIELDS, CampusDateField, room_label
from bookings.models import ACTIVE_STATUSES, Booking, BookingSeries, BookingStatus, Purpose, Visibility
from campus.exceptions import KampusError
from campus.exceptions import PermissionDenied as DomainPermissionDenied
from campus.models import Membership, Room, User

PAST_DAYS = 30
DATE_INPUT = "%Y-%m-%d"
TIME_INPUTS = ["%H:%M", "%H:%M:%S"]

# Field names used by the services (and the API) → the names of the page forms' fields.
FIELD_ALIASES = {"start": "start_time", "end": "end_time"}


# --- forms and errors ------------------------------------------------------------------------------


def add_domain_error(form: forms.Form, error: KampusError) -> None:
    """Attach a domain error to ``form``: to the fields it names, else to the form as a whole."""
    placed = False
    for entry in error.extra.get("errors") or []:
        name = str(entry.get("field", "")).removeprefix("body.").split(".")[0]
        name = FIELD_ALIASES.get(name, name)
        if name in form.fields:
            form.add_error(name, str(entry.get("message", "")))
            placed = True
    if placed:
        return
    message = error.message
    target: str | None = None
    if isinstance(error, BookingRuleBroken):
        target = RULE_FIELDS.get(error.rule)
        allowed = error.allowed
        if error.rule == "opening_hours" and isinstance(allowed, dict):
            opens, closes = allowed["opens"], allowed["closes"]
            message = " ".join(
                [
                    message,
                    _("That day it is open %(opens)s–%(closes)s.") % {"opens": _clock(opens), "closes": _clock(closes)},
                ]
            )
        if error.extra.get("can_override") and "override_reason" in form.fields:
            form.add_error(
                "override_reason", _("You may override this rule as a facility manager: give the reason here.")
            )
    elif isinstance(error, SlotTaken):
        target = "start_time"
    form.add_error(target if target in form.fields else None, message)


def _clock(value: dt.datetime | dt.time) -> str:
    if isinstance(value, dt.datetime):
        value = timezone.localtime(value).time()
    return value.strftime("%H:%M")


class DomainForm(forms.Form):
    """A page form whose fields get the error styling (``has-error``) of Kampus's stylesheet."""

    error_css_class = "has-error"
    required_css_class = "required"


def _scope_field(*, initial: str = services.Scope.OCCURRENCE, with_following: bool = True) -> forms.ChoiceField:
    choices = [(scope.value, scope.label) for scope in services.Scope if with_following or scope != scope.FOLLOWING]
    return forms.ChoiceField(label=gettext_lazy("Apply to"), choices=choices, initial=initial, widget=forms.RadioSelect)


class BookingEditForm(DomainForm):
    """Change what a booking is, where and when; ``scope`` for series, ``override_reason`` for managers."""

    title = forms.CharField(label=gettext_lazy("Title"), max_length=200)
    description = forms.CharField(
        label=gettext_lazy("Description"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    attendees = forms.IntegerField(label=gettext_lazy("Expected attendees"), min_value=1, required=False)
    purpose = forms.ChoiceField(label=gettext_lazy("Purpose"), choices=Purpose.choices)
    visibility = forms.ChoiceField(
        label=gettext_lazy("Who sees the title"),
        choices=Visibility.choices,
        help_text=gettext_lazy("Others see only that the room is reserved."),
    )
    room = forms.ModelChoiceField(label=gettext_lazy("Room"), queryset=Room.objects.none())
    date = CampusDateField(
        label=gettext_lazy("Date"),
        input_formats=[DATE_INPUT],
        widget=forms.DateInput(attrs={"type": "date"}, format=DATE_INPUT),
    )
    start_time = forms.TimeField(
        label=gettext_lazy("Start time"),
        input_formats=TIME_INPUTS,
        widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
    )
    end_time = forms.TimeField(
        label=gettext_lazy("End time"),
        input_formats=TIME_INPUTS,
        widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
    )
    override_reason = forms.CharField(
        label=gettext_lazy("Reason to override a booking rule"),
        required=False,
        max_length=500,
        help_text=gettext_lazy(
            "Only for facility managers, when a rule must give way. It is kept in the booking's history."
        ),
    )

    def __init__(self, *args: Any, booking: Booking, may_override: bool, **kwargs: Any) -> None:
        zone = booking.room.building.campus.zone
        start, end = booking.start.astimezone(zone), booking.end.astimezone(zone)
        kwargs.setdefault(
            "initial",
            {
                "title": booking.title,
                "description": booking.description,
                "attendees": booking.attendees,
                "purpose": booking.purpose,
                "visibility": booking.visibility,
                "room": booking.room_id,
                "date": start.date(),
                "start_time": start.time().replace(second=0, microsecond=0),
                "end_time": end.time().replace(second=0, microsecond=0),
                "scope": services.Scope.OCCURRENCE,
            },
        )
        super().__init__(*args, **kwargs)
        self.booking = booking
        self.zone = zone
        rooms = Room.objects.filter(building__campus_id=booking.room.building.campus_id).select_related("building")
        self.fields["room"].queryset = rooms.filter(is_bookable=True) | rooms.filter(pk=booking.room_id)
        self.fields["room"].label_from_instance = room_label
        if booking.series_id:
            self.fields["scope"] = _scope_field()
        if not may_override:
            del self.fields["override_reason"]

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        start_time, end_time = data.get("start_time"), data.get("end_time")
        if start_time and end_time and end_time <= start_time and self._moving(data):
            self.add_error("end_time", _("The end must be after the start."))
        return data

    def _moving(self, data: dict[str, Any]) -> bool:
        return any(name in self.changed_data for name in ("date", "start_time", "end_time"))

    def update_arguments(self) -> dict[str, Any]:
        """Return the keyword arguments for ``services.booking_update``: only what changed."""
        data = self.cleaned_data
        arguments: dict[str, Any] = {
            name: data[name] for name in services.EDITABLE_FIELDS if name in self.fields and name in self.changed_data
        }
        if "description" in arguments:
            arguments["description"] = arguments["description"] or ""
        if "room" in self.changed_data:
            arguments["room"] = data["room"]
        if self._moving(data):
            arguments["start"] = recurrence.local_moment(
                data["date"], data["start_time"], self.zone, field="start_time"
            )
            arguments["end"] = recurrence.local_moment(data["date"], data["end_time"], self.zone, field="end_time")
        arguments["scope"] = data.get("scope") or services.Scope.OCCURRENCE
        arguments["override_reason"] = data.get("override_reason", "")
        return arguments


class BookingCancelForm(DomainForm):
    reason = forms.CharField(
        label=gettext_lazy("Reason"),
        required=False,
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=gettext_lazy("If you cancel someone else's booking, they receive it by e-mail."),
    )

    def __init__(self, *args: Any, booking: Booking, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if booking.series_id:
            self.fields["scope"] = _scope_field()
            self.order_fields(["scope", "reason"])


class HandoverForm(DomainForm):
    to_user = forms.CharField(
        label=gettext_lazy("New person responsible (username)"),
        max_length=150,
        help_text=gettext_lazy(
            "Start typing a name or username; the list offers members of the booking's institution."
        ),
        widget=forms.TextInput(attrs={"list": "handover-members", "autocomplete": "off", "spellcheck": "false"}),
    )
    reason = forms.CharField(
        label=gettext_lazy("Reason"),
        required=False,
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=gettext_lazy("For example: a substitute teaches the course from now on. The new person reads it."),
    )

    def clean_to_user(self) -> User:
        username = self.cleaned_data["to_user"].strip()
        user = User.objects.filter(username__iexact=username, is_active=True).first()
        if user is None:
            raise forms.ValidationError(_("There is no active user %(username)s.") % {"username": username})
        return user


# --- helpers ----------------------------------------------------------------------------------------


def _booking_or_404(pk: int) -> Booking:
    try:
        return selectors.booking_get(pk)
    except Booking.DoesNotExist as error:
        raise Http404(_("No such booking.")) from error


def _changeable_booking(request: HttpRequest, pk: int) -> Booking:
    """Return the booking ``pk`` if the user may change it; 404 when missing, 403 when not allowed."""
    booking = _booking_or_404(pk)
    if not services.may_change(request.user, booking):
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
    may_override = rules.may_override(request.user, booking.room)
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
                add_domain_error(form, error)
                if isinstance(error, SlotTaken):
                    context["conflicts"] = error.conflicts
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
    today = timezone.localdate(now, timezone=booking.room.building.campus.zone)
    memberships = Membership.objects.valid_on(today)
    if booking.institution_id is not None:
        memberships = memberships.filter(institution_id=booking.institution_id)
    else:
        memberships = memberships.filter(campus_id=booking.campus_id) | memberships.filter(
            institution__campus_id=booking.campus_id
        )
    return list(
        User.objects.filter(is_active=True, memberships__in=memberships)
        .exclude(pk=booking.booked_by_id)
        .distinct()
        .order_by("last_name", "first_name", "username")
    )
