"""Calendar pages and files: subscription feeds, "add to my calendar" downloads, the Subscribe page.

The feeds answer calendar clients, which send no cookie: the token in the URL stands for its
owner. Conditional requests (If-None-Match / If-Modified-Since) are answered from two small
queries (``feeds.feed_state``) with 304 before any feed is built.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit, urlunsplit

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.cache import get_conditional_response
from django.utils.http import content_disposition_header, http_date
from django.utils.text import slugify
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from bookings import feeds, ical
from bookings.feeds import Feed
from bookings.models import Booking, BookingStatus, FeedKind
from bookings.visibility import Viewer, viewer_for
from campus.exceptions import NotFound
from campus.models import Room

CALENDAR_TYPE = "text/calendar; charset=utf-8"
# Clients may keep a feed five minutes without asking; after that a conditional GET costs little.
FEED_MAX_AGE = 300


def _link_builder(request: HttpRequest) -> ical.Link:
    """Return a function giving a booking page's absolute URL (asked once per one-off booking and per series)."""
    return lambda booking: request.build_absolute_uri(reverse("bookings:detail", args=[booking.pk]))


def _calendar_response(body: bytes, *, filename: str, attachment: bool) -> HttpResponse:
    response = HttpResponse(body, content_type=CALENDAR_TYPE)
    response["Content-Disposition"] = content_disposition_header(attachment, filename)
    return response


def _filename(name: str) -> str:
    return f"{slugify(name) or 'kampus'}.ics"


def _serve_feed(request: HttpRequest, feed: Feed, *, viewer: Viewer, language: str, cache_control: str) -> HttpResponse:
    """Answer a feed request: 304 when the client's copy is current, else the feed; HEAD gets the headers."""
    now = timezone.now()
    with translation.override(language):
        window = feeds.feed_window(today=timezone.localdate(now, timezone=feed.zone()), zone=feed.zone())
        link = _link_builder(request)
        variant = request.build_absolute_uri("/")  # the links in the feed name this host
        state = feeds.feed_state(feed, window, viewer=viewer, language=language, variant=variant, now=now)
        not_modified = get_conditional_response(request, etag=state.etag, last_modified=state.last_modified.timestamp())
        if not_modified is not None:
            response = not_modified
        else:
            body = ical.feed_ical(
                feeds.feed_calendar_bookings(feed, window),
                viewer=viewer,
                name=feed.calendar_name(),
                uid=feed.calendar_uid(),
                link=link,
            )
            response = _calendar_response(body, filename=_filename(feed.label), attachment=False)
    response["ETag"] = state.etag
    response["Last-Modified"] = http_date(state.last_modified.timestamp())
    response["Cache-Control"] = cache_control
    response["X-Robots-Tag"] = "noindex"
    return response


@require_http_methods(["GET", "HEAD"])
def feed(request: HttpRequest, kind: str, target_id: int, key: str) -> HttpResponse:
    """Serve a calendar feed as the owner of its key may see it (no sign-in: the address is the key)."""
    try:
        owner = feeds.feed_owner(kind=kind, target_id=target_id, key=key)
    except feeds.FeedGone as gone:
        return HttpResponse(gone.message, status=410, content_type="text/plain; charset=utf-8")
    except NotFound as error:
        raise Http404(error.message) from error
    viewer = viewer_for(owner)
    target = feeds.feed_of(kind, target_id)
    if target is None or not feeds.may_subscribe(viewer, target):
        raise Http404(_("There is no calendar at this address."))
    # Personal data behind a secret address: no shared cache keeps it.
    return _serve_feed(
        request,
        target,
        viewer=viewer,
        language=feeds.feed_language(owner, request.GET.get("lang", "")),
        cache_control=f"private, max-age={FEED_MAX_AGE}",
    )


@require_http_methods(["GET", "HEAD"])
def public_room_feed(request: HttpRequest, pk: int) -> HttpResponse:
    """Serve a room's public feed (rooms marked so only): public titles, every other booking as "Reserved"."""
    room = get_object_or_404(Room.objects.select_related("building__campus"), pk=pk, public_feed=True)
    return _serve_feed(
        request,
        Feed(kind=FeedKind.ROOM, target=room),
        viewer=Viewer(),
        language=translation.get_language(),
        cache_control=f"public, max-age={FEED_MAX_AGE}",
    )


@login_required
@require_http_methods(["GET", "HEAD"])
def booking_ical(request: HttpRequest, pk: int) -> HttpResponse:
    """Download one booking (or, with ``?series=1``, its whole series) as an .ics file to add to a calendar."""
    booking = get_object_or_404(
        Booking.objects.select_related("room__building__campus", "campus", "series").exclude(
            status=BookingStatus.REJECTED
        ),
        pk=pk,
    )
    viewer = viewer_for(request.user)
    link = _link_builder(request)
    if booking.series_id is not None and request.GET.get("series"):
        occurrences = list(
            booking.series.occurrences.select_related("room__building__campus", "campus", "series")
            .filter(status__in=ical.FEED_STATUSES)
            .order_by("start", "pk")
        )
        first = occurrences[0]
        events = ical.series_events(booking.series, occurrences, viewer=viewer, link=link(first))
        filename, uid = f"kampus-series-{booking.series_id}.ics", f"download-series-{booking.series_id}"
    else:
        events = [ical.single_event(booking, viewer=viewer, link=link(booking))]
        filename, uid = f"kampus-booking-{booking.pk}.ics", f"download-booking-{booking.pk}"
    body = ical.download_ical(events, uid=f"{uid}@{ical.uid_domain()}")
    response = _calendar_response(body, filename=filename, attachment=True)
    response["Cache-Control"] = "private, no-cache"
    return response


# --- the Subscribe page ----------------------------------------------------------------------------


def webcal_url(url: str) -> str:
    """Return ``url`` with the webcal scheme, which opens the calendar app to subscribe (one click)."""
    parts = urlsplit(url)
    return urlunsplit(("webcal", *parts[1:]))


def _feed_entry(request: HttpRequest, feed: Feed) -> dict[str, Any]:
    url = request.build_absolute_uri(
        feeds.feed_path(owner=request.user, feed=feed, language=translation.get_language())
    )
    return {"feed": feed, "url": url, "webcal": webcal_url(url), "id": f"{feed.kind}-{feed.target_id}"}


@login_required
@require_http_methods(["GET", "HEAD"])
def subscribe(request: HttpRequest) -> HttpResponse:
    """List the calendars the user may subscribe to, with copyable addresses and how to add them to calendar apps."""
    viewer = viewer_for(request.user)
    chosen_room = None
    room_id = request.GET.get("room", "")
    if room_id.isdigit():
        room_feed = feeds.feed_of(FeedKind.ROOM, int(room_id))
        if room_feed is not None and feeds.may_subscribe(viewer, room_feed):
            chosen_room = _feed_entry(request, room_feed)
    entries = [_feed_entry(request, feed) for feed in feeds.subscribable_feeds(request.user, viewer)]
    public_room = None
    if chosen_room is not None and chosen_room["feed"].target.public_feed:
        url = request.build_absolute_uri(reverse("calendar:public-room", args=[chosen_room["feed"].target_id]))
        public_room = {"url": url, "webcal": webcal_url(url)}
    context = {
        "own": entries[0],
        "institutions": [e for e in entries if e["feed"].kind == FeedKind.INSTITUTION],
        "buildings": [e for e in entries if e["feed"].kind == FeedKind.BUILDING],
        "chosen_room": chosen_room,
        "public_room": public_room,
        "rooms": Room.objects.select_related("building").order_by("building__code", "code"),
        "room_id": int(room_id) if room_id.isdigit() else None,
    }
    return render(request, "bookings/subscribe.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def regenerate(request: HttpRequest, kind: str, target_id: int) -> HttpResponse:
    """Ask to confirm, then replace the user's address of a feed: the present one stops working (410 Gone)."""
    feed = feeds.feed_of(kind, target_id)
    if feed is None or not feeds.may_subscribe(viewer_for(request.user), feed):
        raise Http404(_("There is no calendar at this address."))
    back = reverse("calendar:subscribe") + (f"?room={feed.target_id}#room-feed" if feed.kind == FeedKind.ROOM else "")
    if request.method == "POST":
        feeds.feed_key_replace(owner=request.user, feed=feed)
        messages.success(
            request,
            _(
                "The calendar “%(name)s” has a new address. The old address no longer works: "
                "subscribe again in your calendar app with the new one."
            )
            % {"name": feed.label},
        )
        return redirect(back)
    return render(request, "bookings/subscribe_regenerate.html", {"feed": feed, "back": back})
