"""Calendar feeds: who may subscribe to which, the secret keys in their addresses, and what each feed holds.

A calendar client sends no cookie and no header, so a feed's address carries a key that stands
for its owner: the feed shows what the owner may see, judged on every fetch. The key is an HMAC
of the feed, the owner and a generation (``FeedKey``), so pages and the API show addresses
without writing anything. A replaced address answers 410 Gone, one Kampus never gave 404.
The encoding is ``bookings.ical``'s.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import re
import zoneinfo
from dataclasses import dataclass
from urllib.parse import urlencode

from django.conf import settings
from django.db import transaction
from django.db.models import Count, F, Max, OuterRef, Q, QuerySet, Subquery, Sum
from django.db.models.functions import Coalesce
from django.urls import reverse
from django.utils import timezone
from django.utils.crypto import constant_time_compare, salted_hmac
from django.utils.translation import gettext as _

from bookings.ical import FEED_STATUSES
from bookings.models import Booking, BookingSeries, FeedKey, FeedKind
from bookings.visibility import Viewer
from campus.exceptions import KampusError, NotFound
from campus.models import Building, Campus, Institution, Room, User
from campus.selectors import default_campus_zone_name, user_campus_zone_name

# The window a feed covers, from today (campus date): long enough for a term's look back and a
# year's planning, short enough to stay fast.
PAST_DAYS = 60
FUTURE_DAYS = 400
# Part of every ETag: raise it when what a feed says for the same bookings changes (a new property).
FORMAT_VERSION = 1


class FeedGone(KampusError):
    """The feed's address was replaced by a new one (or its owner's account is closed)."""

    code = "feed_gone"
    http_status = 410


@dataclass(frozen=True)
class Window:
    """The days a feed covers: [start, end) in the campus zone."""

    first_day: dt.date
    start: dt.datetime
    end: dt.datetime


def feed_window(*, today: dt.date, zone: zoneinfo.ZoneInfo) -> Window:
    """Return the feed window around ``today``: PAST_DAYS back to FUTURE_DAYS ahead, whole days."""
    first = today - dt.timedelta(days=PAST_DAYS)
    after_last = today + dt.timedelta(days=FUTURE_DAYS + 1)
    return Window(
        first_day=first,
        start=dt.datetime.combine(first, dt.time(), tzinfo=zone),
        end=dt.datetime.combine(after_last, dt.time(), tzinfo=zone),
    )


@dataclass(frozen=True)
class Feed:
    """One calendar that can be subscribed to: a room's, a building's, an institution's or a person's bookings."""

    kind: str
    target: Room | Building | Institution | User

    @property
    def target_id(self) -> int:
        return self.target.pk

    @property
    def campus(self) -> Campus | None:
        if isinstance(self.target, Room):
            return self.target.building.campus
        if isinstance(self.target, Building | Institution):
            return self.target.campus
        return None

    def zone(self) -> zoneinfo.ZoneInfo:
        campus = self.campus
        if campus is not None:
            return campus.zone
        return zoneinfo.ZoneInfo(user_campus_zone_name(self.target) or default_campus_zone_name())

    @property
    def label(self) -> str:
        """Return what the feed is of, as pages list it ("A101 Classroom 101", "My bookings")."""
        if isinstance(self.target, Room):
            return self.target.label
        if isinstance(self.target, Building):
            return str(self.target)
        if isinstance(self.target, Institution):
            return self.target.name
        return _("My bookings")

    def calendar_name(self) -> str:
        """Return the calendar's name in the subscriber's calendar app (X-WR-CALNAME)."""
        if isinstance(self.target, User):
            return _("Kampus: bookings of %(name)s") % {"name": self.target.get_full_name() or self.target.username}
        return _("Kampus: %(name)s") % {"name": self.label}

    def calendar_uid(self) -> str:
        return f"feed-{self.kind}-{self.target_id}@{settings.KAMPUS_ICAL_UID_DOMAIN}"


def feed_of(kind: str, target_id: int) -> Feed | None:
    """Return the feed of ``kind`` for ``target_id``; None when no such room, building, institution or person exists."""
    if kind == FeedKind.ROOM:
        target = Room.objects.select_related("building__campus").filter(pk=target_id).first()
    elif kind == FeedKind.BUILDING:
        target = Building.objects.select_related("campus").filter(pk=target_id).first()
    elif kind == FeedKind.INSTITUTION:
        target = Institution.objects.select_related("campus").filter(pk=target_id).first()
    elif kind == FeedKind.PERSON:
        target = User.objects.filter(pk=target_id, is_active=True).first()
    else:
        return None
    return None if target is None else Feed(kind=kind, target=target)


def may_subscribe(viewer: Viewer, feed: Feed) -> bool:
    """Return whether ``viewer`` may subscribe to ``feed``.

    A room's or a building's bookings: every signed-in person, as every one of them sees the rooms'
    pages (the titles follow the bookings' visibility, others read "Reserved"). An institution's
    bookings: its members and the campus's facility services. Own bookings: oneself.
    """
    if viewer.user_id is None:
        return False
    if feed.kind == FeedKind.PERSON:
        return feed.target_id == viewer.user_id
    if feed.kind == FeedKind.INSTITUTION:
        campus = feed.campus
        return (
            viewer.is_superuser
            or feed.target_id in viewer.institution_ids
            or (campus is not None and campus.pk in viewer.campus_service_ids)
        )
    return True


# --- addresses ------------------------------------------------------------------------------------

# A feed key: owner id, generation, and the signature of the feed, owner and generation.
KEY_PATTERN = re.compile(r"^([0-9]{1,18})-([0-9]{1,9})-([A-Za-z0-9_-]{32})$")
SIGNATURE_SALT = "kampus.bookings.feeds"


def _signature(*, kind: str, target_id: int, owner_id: int, generation: int, secret: str) -> str:
    digest = salted_hmac(
        SIGNATURE_SALT, f"{kind}:{target_id}:{owner_id}:{generation}", secret=secret, algorithm="sha256"
    ).digest()
    return base64.urlsafe_b64encode(digest[:24]).decode()


def feed_generation(*, owner: User, feed: Feed) -> int:
    """Return the generation of ``owner``'s address for ``feed`` (0 until it is first replaced), in one query."""
    found = FeedKey.objects.filter(owner=owner, kind=feed.kind, target_id=feed.target_id).values_list(
        "generation", flat=True
    )
    return found.first() or 0


def feed_key(*, owner: User, feed: Feed, generation: int | None = None) -> str:
    """Return the secret part of ``owner``'s address for ``feed``: unguessable, checked without a stored copy."""
    if generation is None:
        generation = feed_generation(owner=owner, feed=feed)
    signature = _signature(
        kind=feed.kind, target_id=feed.target_id, owner_id=owner.pk, generation=generation, secret=settings.SECRET_KEY
    )
    return f"{owner.pk}-{generation}-{signature}"


@transaction.atomic
def feed_key_replace(*, owner: User, feed: Feed) -> str:
    """Replace ``owner``'s address for ``feed``: the present one answers 410 Gone from now on. Return the new key."""
    key, _created = FeedKey.objects.get_or_create(owner=owner, kind=feed.kind, target_id=feed.target_id)
    FeedKey.objects.filter(pk=key.pk).update(generation=F("generation") + 1, replaced_at=timezone.now())
    key.refresh_from_db()
    return feed_key(owner=owner, feed=feed, generation=key.generation)


def feed_path(*, owner: User, feed: Feed, language: str = "", generation: int | None = None) -> str:
    """Return the path of ``owner``'s address for ``feed``; ``language`` is the one its words are in."""
    key = feed_key(owner=owner, feed=feed, generation=generation)
    path = reverse("calendar:feed", args=[feed.kind, feed.target_id, key])
    return f"{path}?{urlencode({'lang': language})}" if language else path


def feed_owner(*, kind: str, target_id: int, key: str) -> User:
    """Return whose eyes the feed address (``kind``, ``target_id``, ``key``) stands for, in one query.

    Raise NotFound for an address Kampus never gave, FeedGone for a replaced one or one whose
    owner's account is closed. Signatures made with a retired key in SECRET_KEY_FALLBACKS still count.
    """
    match = KEY_PATTERN.match(key or "")
    if match is None or kind not in FeedKind.values:
        raise NotFound(_("There is no calendar at this address."))
    owner_id, generation, signature = int(match[1]), int(match[2]), match[3]
    secrets_ = [settings.SECRET_KEY, *settings.SECRET_KEY_FALLBACKS]
    if not any(
        constant_time_compare(
            signature,
            _signature(kind=kind, target_id=target_id, owner_id=owner_id, generation=generation, secret=secret),
        )
        for secret in secrets_
    ):
        raise NotFound(_("There is no calendar at this address."))
    current = FeedKey.objects.filter(owner_id=OuterRef("pk"), kind=kind, target_id=target_id).values("generation")[:1]
    owner = User.objects.filter(pk=owner_id).annotate(feed_generation=Coalesce(Subquery(current), 0)).first()
    if owner is None or generation > owner.feed_generation:
        raise NotFound(_("There is no calendar at this address."))
    if generation < owner.feed_generation or not owner.is_active:
        raise FeedGone(_("This calendar address has been replaced. Subscribe again with the new address from Kampus."))
    return owner


def feed_language(owner: User, asked: str = "") -> str:
    """Return the language of a feed: the owner's choice, else the one its address asks for, else the default."""
    for code in (owner.preferred_language, asked):
        if code and code in dict(settings.LANGUAGES):
            return code
    return settings.LANGUAGE_CODE


# --- what a feed holds ---------------------------------------------------------------------------


def _scope(feed: Feed) -> Q:
    if feed.kind == FeedKind.ROOM:
        return Q(room_id=feed.target_id)
    if feed.kind == FeedKind.BUILDING:
        return Q(room__building_id=feed.target_id)
    if feed.kind == FeedKind.INSTITUTION:
        return Q(institution_id=feed.target_id)
    return Q(booked_by_id=feed.target_id)


def feed_bookings(feed: Feed, window: Window) -> QuerySet[Booking]:
    """Return the bookings ``feed`` holds: those in the window, and whole the series any of them belongs to.

    Rejected bookings are left out; cancelled and released ones stay (calendars then remove them).
    """
    shown = Booking.objects.filter(_scope(feed), status__in=FEED_STATUSES)
    in_window = Q(start__lt=window.end, end__gt=window.start)
    series_in_window = shown.filter(in_window, series__isnull=False).values("series_id")
    return (
        shown.filter(Q(in_window, series__isnull=True) | Q(series_id__in=series_in_window))
        .select_related("room__building__campus", "campus", "series")
        .order_by("start", "pk")
    )


# What the calendar shows of a booking, and what visibility decides on: nothing else is loaded.
CALENDAR_FIELDS = (
    "id",
    "room_id",
    "campus_id",
    "series_id",
    "recurrence_id",
    "title",
    "description",
    "start",
    "end",
    "status",
    "visibility",
    "booked_by_id",
    "institution_id",
    "updated_at",
    "sequence",
)


def feed_calendar_bookings(feed: Feed, window: Window) -> list[Booking]:
    """Return ``feed_bookings`` as ``bookings.ical`` needs them, lean: rooms and series loaded once each, not per row.

    A year of a room's bookings is some 1,500 rows: joining room, building, campus and series
    into every one of them made five model instances per row.
    """
    bookings = list(feed_bookings(feed, window).select_related(None).only(*CALENDAR_FIELDS))
    if isinstance(feed.target, Room):
        rooms = {feed.target.pk: feed.target}
    else:
        rooms = Room.objects.select_related("building__campus").in_bulk({b.room_id for b in bookings})
    series = BookingSeries.objects.in_bulk({b.series_id for b in bookings if b.series_id is not None})
    room_cache, series_cache = Booking._meta.get_field("room"), Booking._meta.get_field("series")
    for booking in bookings:
        room_cache.set_cached_value(booking, rooms[booking.room_id])
        if booking.series_id is not None:
            series_cache.set_cached_value(booking, series[booking.series_id])
    return bookings


@dataclass(frozen=True)
class FeedState:
    """What tells a client whether its copy of a feed is current, read without building the feed."""

    etag: str
    last_modified: dt.datetime


def feed_state(
    feed: Feed, window: Window, *, viewer: Viewer, language: str, variant: str = "", now: dt.datetime | None = None
) -> FeedState:
    """Return the ETag and Last-Modified of ``feed`` as ``viewer`` sees it, in one or two small queries.

    The ETag covers everything the feed's text depends on: its bookings' count, latest change and
    revisions (every service raises ``sequence``), the names of the rooms they are in, the
    viewer's scope, the language, the window's first day and ``variant`` (the link base).
    """
    now = now or timezone.now()
    bookings = feed_bookings(feed, window).order_by()
    summary = bookings.aggregate(
        count=Count("pk"),
        latest=Max("updated_at"),
        anonymised=Max("anonymised_at"),
        revisions=Sum("sequence"),
        series_revisions=Sum("series__sequence"),
    )
    # Anonymising leaves updated_at (the rollup's mark) alone; the feed changed all the same.
    summary["latest"] = max(
        (moment for moment in (summary["latest"], summary.pop("anonymised")) if moment is not None), default=None
    )
    if isinstance(feed.target, Room):  # every booking is in this room, its names are at hand
        room = feed.target
        rooms = [(room.pk, room.code, room.name, room.building.name, room.building.campus.name)]
    else:
        rooms = list(
            Room.objects.filter(pk__in=bookings.values("room_id"))
            .order_by("pk")
            .values_list("pk", "code", "name", "building__name", "building__campus__name")
        )
    scope = (
        viewer.user_id,
        viewer.is_superuser,
        sorted(viewer.institution_ids),
        sorted(viewer.campus_ids),
        sorted(viewer.campus_service_ids),
        sorted(viewer.managed_institution_ids),
    )
    names = (feed.calendar_name(), feed.label)
    parts = (FORMAT_VERSION, feed.kind, feed.target_id, window.first_day, language, variant, names, scope, rooms)
    parts += (summary["count"], summary["latest"], summary["revisions"], summary["series_revisions"])
    digest = hashlib.sha256(repr(parts).encode()).hexdigest()[:32]
    day_began = dt.datetime.combine(now.astimezone(window.start.tzinfo).date(), dt.time(), tzinfo=window.start.tzinfo)
    latest = summary["latest"]
    # Never later than now (HTTP forbids it), however a booking's clock was set.
    last_modified = min(max(latest, day_began) if latest is not None else day_began, now)
    return FeedState(etag=f'"{digest}"', last_modified=last_modified.replace(microsecond=0))


def subscribable_feeds(user: User, viewer: Viewer) -> list[Feed]:
    """Return the feeds the subscribe page offers: own bookings, the user's institutions, their campuses' buildings."""
    offered = [Feed(kind=FeedKind.PERSON, target=user)]
    institutions = Institution.objects.filter(pk__in=viewer.institution_ids).select_related("campus").order_by("name")
    offered += [Feed(kind=FeedKind.INSTITUTION, target=institution) for institution in institutions]
    buildings = Building.objects.filter(campus_id__in=viewer.campus_ids).select_related("campus").order_by("code")
    offered += [Feed(kind=FeedKind.BUILDING, target=building) for building in buildings]
    return [feed for feed in offered if may_subscribe(viewer, feed)]
