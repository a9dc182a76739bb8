"""Booking pages for staff: find a free room, a room's week and door sign, the booking form, a booking.

Thin views: they read through selectors, write through ``bookings.services`` and turn the services'
errors into form errors. The form's "Check" runs the booking service as a dry run, in a transaction
that is always rolled back, so what it shows is exactly what "Book" would do.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST

from bookings import permissions, rules, selectors, services
from bookings.forms.booking import DURATION_MINUTES, BookingForm, FindRoomForm, next_quarter_hour
from bookings.forms.errors import Problem, add_domain_error
from bookings.forms.repeat import repeat_choice_from_rrule, repeat_summary
from bookings.forms.words import duration_words, join_words, long_date
from bookings.models import Access, Booking, BookingStatus, CheckIn, Purpose
from bookings.permissions import Viewer, viewer_for
from campus.dates import within_years
from campus.exceptions import KampusError
from campus.models import Room, User
from campus.opening_hours import opening_calendar
from campus.selectors import room_list

LOCAL_MINUTE = "%Y-%m-%dT%H:%M"
# Free rooms on one page of the search: a search may find hundreds, and rendering them all took a second.
FIND_ROOM_PAGE_SIZE = 25


def _local_minute(value: dt.datetime) -> str:
    return timezone.localtime(value).strftime(LOCAL_MINUTE)


def _parse_local(value: str | None) -> dt.datetime | None:
    """Return an aware datetime from ``2027-03-10T10:00`` (campus wall time) or an ISO value with offset.

    None when ``value`` is missing, not a time, or outside the years Kampus accepts.
    """
    if not value:
        return None
    try:
        moment = dt.datetime.fromisoformat(value)
    except ValueError:
        return None
    if not within_years(moment):
        return None
    zone = timezone.get_current_timezone()
    return moment.astimezone(zone) if timezone.is_aware(moment) else moment.replace(tzinfo=zone)


# --- find a room -----------------------------------------------------------------------------------


@dataclass
class RoomResult:
    """A free room of the search, with how the searching person would book it (an ``Access`` value)."""

    room: Room
    access: str

    @property
    def by_request(self) -> bool:
        return self.access == Access.REQUEST

    @property
    def bookable(self) -> bool:
        return self.access != Access.NONE


@dataclass
class Suggestion:
    start: dt.datetime
    end: dt.datetime
    count: int
    url: str


def _sorted_best_first(rooms: list[Room]) -> list[Room]:
    """Order free rooms best first: the smallest that fits, then the fewest unneeded extras, then the code.

    ``rooms`` come from ``selectors.rooms_to_rank`` (with ``extras``)."""
    return sorted(rooms, key=lambda room: (room.capacity, room.extras, room.code, room.building.code))


def _search_url(query: QueryDict, start: dt.datetime, end: dt.datetime) -> str:
    params = query.copy()
    params["date"] = start.date().isoformat()
    params["start"] = start.strftime("%H:%M")
    params["end"] = end.strftime("%H:%M")
    return f"{reverse('bookings:find-room')}?{params.urlencode()}#results"


def _suggestions(
    query: QueryDict, rooms: Any, start: dt.datetime, end: dt.datetime, now: dt.datetime, *, limit: int = 4
) -> list[Suggestion]:
    """Return nearby searches that do find free rooms: shorter, a little later or earlier, another day."""
    length = end - start
    minutes = int(length.total_seconds() // 60)
    tries = [(start, start + dt.timedelta(minutes=m)) for m in sorted(DURATION_MINUTES, reverse=True) if m < minutes][
        :2
    ]
    for shift in (30, 60, -30):
        moved = start + dt.timedelta(minutes=shift)
        tries.append((moved, moved + length))
    tries += [(start + dt.timedelta(days=days), end + dt.timedelta(days=days)) for days in (1, 2, 3)]
    found: list[Suggestion] = []
    for begins, ends in tries:
        begins, ends = timezone.localtime(begins), timezone.localtime(ends)
        if begins < now or begins.date() != ends.date():
            continue
        count = len(selectors.free_room_ids_between(rooms, start=begins, end=ends))
        if count:
            found.append(Suggestion(begins, ends, count, _search_url(query, begins, ends)))
        if len(found) >= limit:
            break
    return found


@login_required
def find_room(request: HttpRequest) -> HttpResponse:
    """Render the free-room search and, once searched, the free rooms that fit, best first."""
    now = timezone.now()
    searched = "date" in request.GET
    form = FindRoomForm(request.GET if searched else None, now=now)
    context: dict[str, Any] = {"form": form, "searched": searched}
    if searched and form.is_valid():
        start, end = form.cleaned_data["starts_at"], form.cleaned_data["ends_at"]
        # The page shows no sections: fetching them for every free room cost a query and a manager each.
        rooms = form.rooms().prefetch_related(None).prefetch_related("equipment")
        needed = {item.code for item in form.cleaned_data.get("equipment") or []}
        free_ids = selectors.free_room_ids_between(rooms, start=start, end=end)
        free = _sorted_best_first(selectors.rooms_to_rank(free_ids, needed=needed))
        access = selectors.room_access_for(user=request.user, rooms=free)
        # Rooms the user may not book stay listed (they are free and fit) but after the others.
        free.sort(key=lambda room: access[room.pk] == Access.NONE)
        page = Paginator(free, FIND_ROOM_PAGE_SIZE).get_page(request.GET.get("page"))
        # The page's rooms in full (campus, owner, equipment): only these 25 are shown.
        shown = {room.pk: room for room in rooms.filter(pk__in=[room.pk for room in page.object_list])}
        query = request.GET.copy()
        query.pop("page", None)
        context.update(
            # A room taken out of booking between the two queries is left out.
            results=[
                RoomResult(room=shown[room.pk], access=access[room.pk]) for room in page.object_list if room.pk in shown
            ],
            found=len(free),
            page=page,
            query=query.urlencode(),
            purposes=Purpose.choices,
            start=start,
            end=end,
            start_param=_local_minute(start),
            end_param=_local_minute(end),
            length=duration_words(int((end - start).total_seconds() // 60)),
            attendees=form.cleaned_data.get("people") or "",
            needed=needed,
        )
        if not free:
            matching = rooms.exists()
            context["any_room_matches"] = matching
            context["suggestions"] = _suggestions(request.GET, rooms, start, end, now) if matching else []
    return render(request, "rooms/find_room.html", context)


# --- a room's week -----------------------------------------------------------------------------------


@dataclass
class Slot:
    """A stretch of a day on a room's calendar: busy with a booking, or free."""

    kind: str  # "busy", "closed" (a closure) or "free"
    start: dt.datetime
    end: dt.datetime
    title: str = ""
    booking: Booking | None = None
    other_part: str = ""
    book_url: str = ""
    book_from: dt.datetime | None = None  # where the "Book here" link starts (not before now)


@dataclass
class DaySchedule:
    date: dt.date
    opening: tuple[dt.datetime, dt.datetime] | None
    closed_reason: str
    is_today: bool
    is_past: bool
    slots: list[Slot] = field(default_factory=list)

    @property
    def busy_slots(self) -> list[Slot]:
        return [slot for slot in self.slots if slot.kind == "busy"]


def monday_of(value: str | None, today: dt.date) -> dt.date:
    """Return the Monday of the week of ``value`` (YYYY-MM-DD), or of ``today`` when it is missing or invalid.

    A date outside the years Kampus accepts counts as invalid.
    """
    try:
        day = dt.date.fromisoformat(value) if value else today
    except ValueError:
        day = today
    if not within_years(day):
        day = today
    return day - dt.timedelta(days=day.weekday())


def _book_url(room: Room, start: dt.datetime, end: dt.datetime, now: dt.datetime) -> tuple[str, dt.datetime | None]:
    """Return a link to book ``room`` in the free gap [start, end) (an hour at most) and where it starts,
    or ("", None) if it is past."""
    begins = max(start, next_quarter_hour(now)) if start < now else start
    if begins >= end:
        return "", None
    ends = min(end, begins + dt.timedelta(hours=1))
    query = urlencode({"room": room.pk, "start": _local_minute(begins), "end": _local_minute(ends)})
    return f"{reverse('bookings:new')}?{query}", begins


def week_schedule(
    room: Room, monday: dt.date, *, viewer: Viewer, now: dt.datetime, book_links: bool = True
) -> list[DaySchedule]:
    """Return the seven days from ``monday``: opening hours, busy slots (titles by visibility) and free gaps."""
    zone = room.building.campus.zone
    start = dt.datetime.combine(monday, dt.time(0), tzinfo=zone)
    end = dt.datetime.combine(monday + dt.timedelta(days=7), dt.time(0), tzinfo=zone)
    availability = selectors.room_availability(room=room, start=start, end=end)
    calendar = opening_calendar(room, start, end)
    today = now.astimezone(zone).date()
    days = []
    for offset in range(7):
        date = monday + dt.timedelta(days=offset)
        day_start = dt.datetime.combine(date, dt.time(0), tzinfo=zone)
        day_end = day_start + dt.timedelta(days=1)
        opening = calendar.day(date)
        schedule = DaySchedule(
            date=date,
            opening=opening.interval,
            closed_reason=opening.closed_reason,
            is_today=date == today,
            is_past=date < today,
        )
        for interval in availability.busy:
            booking = interval.booking
            if booking.start < day_end and booking.end > day_start:
                schedule.slots.append(
                    Slot(
                        "busy",
                        booking.start,
                        booking.end,
                        title=viewer.display_title(booking),
                        booking=booking,
                        other_part=booking.room.name if booking.room_id != room.pk else "",
                    )
                )
        for closure in availability.closures:
            if closure.start < day_end and closure.end > day_start:
                schedule.slots.append(
                    Slot("closed", max(closure.start, day_start), min(closure.end, day_end), title=closure.reason)
                )
        for free_start, free_end in availability.free:
            if free_start < day_end and free_end > day_start:
                url, begins = (
                    _book_url(room, free_start, free_end, now) if book_links and free_end > now else ("", None)
                )
                schedule.slots.append(Slot("free", free_start, free_end, book_url=url, book_from=begins))
        schedule.slots.sort(key=lambda slot: (slot.start, slot.kind))
        days.append(schedule)
    return days


def _access_words(access: str) -> str:
    if access == Access.REQUEST:
        return _("send a request that a facility manager approves")
    if access == Access.NONE:
        return _("may not book")
    return _("book directly")


def policy_sentences(room: Room) -> list[str]:
    """Return the room's effective booking rules in plain words."""
    policy = rules.effective_policy(room)
    sentences = [
        _("A booking lasts at least %(shortest)s and at most %(longest)s.")
        % {
            "shortest": duration_words(policy.min_duration_minutes),
            "longest": duration_words(policy.max_duration_minutes),
        }
    ]
    if policy.min_notice_minutes:
        sentences.append(
            _("Book at least %(notice)s before the start.") % {"notice": duration_words(policy.min_notice_minutes)}
        )
    other_days = min(policy.max_advance_days, policy.other_window_days)
    if room.owner_id:
        owner_days = min(policy.max_advance_days, policy.owner_window_days)
        sentences += [
            _("Staff of %(owner)s: %(access)s, up to %(days)d days ahead.")
            % {"owner": room.owner.name, "access": _access_words(policy.owner_access), "days": owner_days},
            _("Staff of other institutions: %(access)s, up to %(days)d days ahead.")
            % {"access": _access_words(policy.other_access), "days": other_days},
        ]
    else:
        sentences.append(
            _("Staff of the campus's institutions: %(access)s, up to %(days)d days ahead.")
            % {"access": _access_words(policy.other_access), "days": other_days}
        )
    sentences.append(_("Facility managers of the room book directly and may override these limits with a reason."))
    sentences.append(
        _("Each person may hold %(count)d active future bookings; a repeating series counts as one.")
        % {"count": policy.max_active_bookings}
    )
    if Access.REQUEST in (policy.owner_access, policy.other_access):
        sentences.append(
            _("A request that nobody decides within %(hours)d hours expires.") % {"hours": policy.request_expiry_hours}
        )
    no_show_minutes = int(policy.no_show_after.total_seconds() // 60)
    if policy.check_in == CheckIn.REQUIRED:
        sentences.append(
            _("Check in within %(minutes)d minutes of the start, or the booking is released for others.")
            % {"minutes": no_show_minutes}
        )
    elif policy.check_in == CheckIn.SENSOR:
        sentences.append(
            _(
                "If the room has an occupancy sensor, a booking that nobody uses or checks in to in its first "
                "%(minutes)d minutes is released for others."
            )
            % {"minutes": no_show_minutes}
        )
    if room.buffer_minutes:
        sentences.append(
            _("After each booking %(duration)s are kept free, e.g. for cleaning.")
            % {"duration": duration_words(room.buffer_minutes)}
        )
    return sentences


def _room_or_404(pk: int) -> Room:
    return get_object_or_404(room_list(), pk=pk)


def _week_context(request: HttpRequest, room: Room, *, viewer: Viewer, book_links: bool) -> dict[str, Any]:
    now = timezone.now()
    today = now.astimezone(room.building.campus.zone).date()
    monday = monday_of(request.GET.get("week"), today)
    return {
        "room": room,
        "zone": room.building.campus.time_zone,
        "monday": monday,
        "sunday": monday + dt.timedelta(days=6),
        "previous_week": (monday - dt.timedelta(days=7)).isoformat(),
        "next_week": (monday + dt.timedelta(days=7)).isoformat(),
        "this_week": monday_of(None, today).isoformat(),
        "is_this_week": monday == monday_of(None, today),
        "week": monday.isoformat(),
        "days": week_schedule(room, monday, viewer=viewer, now=now, book_links=book_links),
    }


@login_required
def room_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """Render a room's facts and rules and its week: busy slots, free gaps and links to book them."""
    room = _room_or_404(pk)
    context = _week_context(request, room, viewer=viewer_for(request.user), book_links=room.is_bookable)
    context["rules"] = policy_sentences(room)
    context["sections"] = list(room.sections.all())
    context["part_of"] = list(room.combined_rooms.all())
    return render(request, "rooms/room_detail.html", context)


@login_required
def room_print(request: HttpRequest, pk: int) -> HttpResponse:
    """Render the printable door sign of a room's week; titles as an anonymous passer-by may see them."""
    room = _room_or_404(pk)
    context = _week_context(request, room, viewer=viewer_for(None), book_links=False)
    context["room_url"] = request.build_absolute_uri(reverse("bookings:room-detail", args=[room.pk]))
    return render(request, "rooms/room_print.html", context)


# --- the booking form ------------------------------------------------------------------------------


@dataclass
class Check:
    """What booking would do: the result of the dry run, or why it was refused."""

    summary: str | None = None
    result: services.BookingResult | None = None
    problem: Problem | None = None
    warnings: list[selectors.BookingWarning] = field(default_factory=list)

    @property
    def pending(self) -> bool:
        return bool(self.result) and self.result.first.status == BookingStatus.PENDING


def check_booking(form: BookingForm, user: User, now: dt.datetime) -> Check:
    """Dry-run the booking of a valid ``form``; a refusal also becomes the form's errors."""
    check = Check(summary=form.summary())
    try:
        kwargs = form.booking_kwargs(title_if_empty="…")
        check.result = services.booking_dry_run(booked_by=user, now=now, **kwargs)
    except KampusError as error:
        check.problem = add_domain_error(form, error)
    else:
        check.warnings = warnings_for(user, check.result, kwargs, made=False)
    return check


def warnings_for(
    user: User, result: services.BookingResult, kwargs: dict[str, Any], *, made: bool
) -> list[selectors.BookingWarning]:
    """Return the warnings about ``result`` (allowed, but likely a mistake); ``made`` when it was booked."""
    return selectors.booking_warnings(
        user=user,
        intervals=[(booking.start, booking.end) for booking in result.bookings],
        exclude_ids=[booking.pk for booking in result.bookings] if made else (),
        for_someone_else=bool(kwargs.get("on_behalf_of_name") or kwargs.get("on_behalf_of_organisation")),
    )


def quick_booking_data(post: QueryDict) -> QueryDict:
    """Return booking-form data from the one-click "Book" of the room search (room, start, end, title, purpose)."""
    data = QueryDict(mutable=True)
    data.update(BookingForm.defaults())
    for name in ("room", "title", "attendees", "purpose"):
        data[name] = post.get(name, "")
    start, end = _parse_local(post.get("start")), _parse_local(post.get("end"))
    if start is not None:
        data["date"] = start.date().isoformat()
        data["start_time"] = start.strftime("%H:%M")
    if end is not None:
        data["end_time"] = end.strftime("%H:%M")
    return data


def initial_from_query(query: QueryDict, now: dt.datetime) -> dict[str, Any]:
    """Return the booking form's initial values from ?room=&start=&end=&attendees=&title=."""
    start = _parse_local(query.get("start")) or next_quarter_hour(timezone.localtime(now))
    end = _parse_local(query.get("end"))
    if end is None or end <= start or end.date() != start.date():
        end = start + dt.timedelta(hours=1)
    initial: dict[str, Any] = {"date": start.date(), "start_time": start.time(), "end_time": end.time()}
    for name in ("room", "attendees"):
        if query.get(name, "").isdigit():
            initial[name] = int(query[name])
    if query.get("title"):
        initial["title"] = query["title"][:200]
    return initial


def _announce(
    request: HttpRequest, result: services.BookingResult, warnings: list[selectors.BookingWarning] = ()
) -> None:
    count = len(result.bookings)
    if result.first.status == BookingStatus.PENDING:
        message = ngettext(
            "Request sent, waiting for approval by a facility manager.",
            "Request for %(count)d dates sent, waiting for approval by a facility manager.",
            count,
        )
    else:
        message = ngettext("Booking confirmed.", "Booking confirmed for %(count)d dates.", count)
    messages.success(request, message % {"count": count})
    if result.skipped:
        dates = join_words(
            [
                _("%(date)s (%(reason)s)") % {"date": long_date(timezone.localtime(s.start).date()), "reason": s.reason}
                for s in result.skipped
            ]
        )
        messages.warning(
            request,
            ngettext(
                "%(count)d date was not booked: %(dates)s.",
                "%(count)d dates were not booked: %(dates)s.",
                len(result.skipped),
            )
            % {"count": len(result.skipped), "dates": dates},
        )
    for warning in warnings:
        messages.warning(request, warning.message)


@login_required
def booking_new(request: HttpRequest) -> HttpResponse:
    """Render the booking form; "Check" previews the booking, "Book" makes it and shows it."""
    now = timezone.now()
    check: Check | None = None
    problem: Problem | None = None
    if request.method == "POST":
        quick = request.POST.get("confirm") == "1"
        form = BookingForm(quick_booking_data(request.POST) if quick else request.POST, user=request.user)
        action = "book" if quick else request.POST.get("action", "check")
        if form.is_valid():
            if action == "book":
                try:
                    kwargs = form.booking_kwargs()
                    result = services.booking_create(booked_by=request.user, now=now, **kwargs)
                except KampusError as error:
                    problem = add_domain_error(form, error)
                else:
                    _announce(request, result, warnings_for(request.user, result, kwargs, made=True))
                    return redirect("bookings:detail", pk=result.first.pk)
            else:
                check = check_booking(form, request.user, now)
                problem = check.problem
    else:
        form = BookingForm(initial=initial_from_query(request.GET, now), user=request.user)
    context = {
        "form": form,
        "check": check,
        "problem": problem,
        "summary": form.summary() if form.is_bound else None,
        "override_rooms": ",".join(str(pk) for pk in sorted(form.override_room_ids)),
    }
    return render(request, "bookings/booking_form.html", context)


READY_FIELDS = ("room", "date", "start_time", "end_time")


@login_required
@require_POST
def booking_preview(request: HttpRequest) -> HttpResponse:
    """Return the preview fragment for the booking form's live check (the same dry run as "Check")."""
    form = BookingForm(request.POST, user=request.user, for_preview=True)
    valid = form.is_valid()
    ready = all(name in form.cleaned_data for name in READY_FIELDS)
    context: dict[str, Any] = {"form": form, "ready": ready, "check": None, "fragment": True}
    if valid:
        check = check_booking(form, request.user, timezone.now())
        context.update(check=check, problem=check.problem, summary=check.summary)
    else:
        context["summary"] = form.summary() if "date" in form.cleaned_data and not form.errors.get("date") else None
    return render(request, "bookings/_preview.html", context)


# --- one booking -------------------------------------------------------------------------------------


@login_required
def booking_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """Render one booking: status, room, time, series, what it is (by visibility), who is behind it, actions."""
    booking = get_object_or_404(
        Booking.objects.select_related(
            "room", "room__building", "room__building__campus", "campus", "institution", "booked_by", "series"
        ),
        pk=pk,
    )
    viewer = viewer_for(request.user)
    now = timezone.now()
    series_summary = ""
    occurrences: list[Booking] = []
    if booking.series_id:
        series = booking.series
        zone = booking.campus.zone
        choice = repeat_choice_from_rrule(
            series.rrule, first_date=series.dtstart.astimezone(zone).date(), zone=zone, except_dates=series.exdates
        )
        series_summary = (repeat_summary(choice) if choice else None) or series.rrule
        occurrences = list(series.occurrences.select_related("room").order_by("start", "pk"))
    active = booking.status in (BookingStatus.PENDING, BookingStatus.CONFIRMED)
    may_act = permissions.may_change(request.user, booking) and active
    context = {
        "booking": booking,
        "zone": booking.campus.time_zone,
        "sees_title": viewer.sees_title(booking),
        "sees_details": viewer.sees_details(booking),
        "title": viewer.display_title(booking),
        "series_summary": series_summary,
        "occurrences": occurrences,
        "may_change": may_act and booking.end > now,
        "may_release": may_act and booking.start <= now < booking.end,
        "may_check_in": services.may_check_in(request.user, booking, now),
        "is_booker": booking.booked_by_id == request.user.pk,
    }
    return render(request, "bookings/booking_detail.html", context)
