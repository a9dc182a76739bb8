"""Who may do what: every API operation, page, admin page and feed × role × object owner → the status Kampus answers.

Roles (``world.ROLES``): anonymous, a teacher of A (the lukio), a teacher of B (the vocational
college), the campus front desk, a facility manager of A, a campus facility manager, an institution
admin of A, a superuser, and a former teacher of A whose membership ended yesterday. Owners: ``A``,
``B``, ``campus`` (the shared auditorium and what belongs to the campus), ``-`` (no object), ``own``.

This module says how each route is called (path, body, the rows a write aims at); the statuses are
the table in ``tests/security/expected_statuses.py``, a line per route and owner, a column per role.
The API is called with each role's personal token, pages with a signed-in session, feeds and door
displays with the address's secret only. A write's rows are compared before and after: a refusal
must change nothing, and a success marked ``*`` must change them. The routes are read from the URL
resolver, the OpenAPI document and the admin's registry, so a route without a row fails
``test_every_route_has_rows_in_the_matrix``. The world is built once per module (``conftest.py``);
each cell runs in its own savepoint. docs/api.md ("Who may do what") points here.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import pytest
from django.conf import settings
from django.contrib import admin
from django.db.models import Model, QuerySet
from django.test import Client
from django.urls import URLResolver, get_resolver

from api.api import api
from bookings.models import Booking, Closure, FeedKind
from tests.bookings.conftest import at
from tests.security.expected_statuses import EXPECTED_TABLE, LIST_TABLE, TITLE_TABLE
from tests.security.world import ROLES, World

API = "/api/v1"

Path = Callable[[World], str]
Body = Callable[[World], Any]
Watch = Callable[[World], QuerySet]


@dataclass(frozen=True)
class Row:
    """One route on one owner's object, and the status each role gets (``expected``: nine, in ``ROLES`` order)."""

    route: str  # "GET /api/v1/bookings/{booking_id}", "POST page bookings:cancel", "GET admin campus.room change"
    owner: str
    expected: str
    path: Path
    via: str = "api"  # api: token; page: session; secret: no sign-in (the address holds the secret)
    body: Body | None = None
    content_type: str = "application/json"
    watch: Watch | None = None  # the rows a refused write must leave as they were

    @property
    def method(self) -> str:
        return self.route.split(" ", 1)[0]

    def statuses(self) -> dict[str, str]:
        cells = self.expected.split()
        assert len(cells) == len(ROLES), f"{self.route} ({self.owner}): {len(cells)} statuses for {len(ROLES)} roles"
        return dict(zip(ROLES, cells, strict=True))


ROWS: list[Row] = []


def parse_table(text: str) -> dict[tuple[str, str], str]:
    """Read ``route owner s1 … s9`` lines (``#`` starts a comment) into {(route, owner): "s1 … s9"}."""
    table: dict[tuple[str, str], str] = {}
    for line in text.splitlines():
        words = line.split("#", 1)[0].split()
        if words:
            route, owner, statuses = " ".join(words[: -len(ROLES) - 1]), words[-len(ROLES) - 1], words[-len(ROLES) :]
            assert (route, owner) not in table, f"{route} ({owner}) is in the table twice"
            table[(route, owner)] = " ".join(statuses)
    return table


EXPECTED = parse_table(EXPECTED_TABLE)


def rows(route: str, owners: Iterable[str], path: Callable[[World, str], str], **options: Any) -> None:
    """Add one row per owner (its statuses are ``EXPECTED``'s); ``path``, ``body`` and ``watch`` take (world, owner)."""
    for owner in owners:
        expected = EXPECTED.get((route, owner), "")
        bound = {
            name: (lambda fn, o: lambda w: fn(w, o))(value, owner) if callable(value) else value
            for name, value in options.items()
        }
        ROWS.append(
            Row(route=route, owner=owner, expected=expected, path=(lambda o: lambda w: path(w, o))(owner), **bound)
        )


def api_rows(
    method: str, template: str, owners: Iterable[str], path: Callable[[World, str], str] | None = None, **options: Any
) -> None:
    """Add the rows of the API operation ``method template`` (as the OpenAPI document writes it)."""
    rows(f"{method} {API}{template}", owners, lambda w, o: API + (path(w, o) if path else template), **options)


def page_rows(method: str, name: str, owners: Iterable[str], path: Callable[[World, str], str], **options: Any) -> None:
    """Add the rows of the page named ``name`` (as ``reverse`` knows it), called with a signed-in session."""
    rows(f"{method} page {name}", owners, path, via="page", **options)


def same(model: type[Model], attribute: str) -> Callable[[World, str], QuerySet]:
    """Watch the object ``getattr(world, attribute)[owner]`` of ``model``."""
    return lambda w, o: model.objects.filter(pk=getattr(w, attribute)[o].pk)


def everything(model: type[Model]) -> Callable[[World, str], QuerySet]:
    """Watch every row of ``model`` (a refused create adds none)."""
    return lambda w, o: model.objects.all()


# --- API: me and tokens -------------------------------------------------------------------------------------
api_rows("GET", "/me", ("-",))
api_rows("POST", "/me/language", ("-",), body=lambda w, o: {"language": "fi"})
api_rows("GET", "/me/tokens", ("-",))
api_rows("GET", "/me/export", ("-",))
api_rows("POST", "/me/tokens", ("-",), body=lambda w, o: {"name": "laptop"})
api_rows(
    "POST",
    "/me/tokens/{token_id}/revoke",
    ("A",),
    path=lambda w, o: f"/me/tokens/{w.api_tokens[o].pk}/revoke",
    body=lambda w, o: {},
    watch=lambda w, o: type(w.api_tokens[o]).objects.filter(pk=w.api_tokens[o].pk),
)

# --- API: the catalogue --------------------------------------------------------------------------------------
for template in ("/campuses", "/institutions", "/buildings", "/equipment", "/rooms"):
    api_rows("GET", template, ("-",))
api_rows("GET", "/rooms/{room_id}", ("A", "B", "campus"), path=lambda w, o: f"/rooms/{w.rooms[o].pk}")
api_rows(
    "GET",
    "/rooms/{room_id}/availability",
    ("A", "B", "campus"),
    path=lambda w, o: f"/rooms/{w.rooms[o].pk}/availability?from={w.day}T08:00:00%2B02:00&to={w.day}T16:00:00%2B02:00",
)
api_rows("GET", "/rooms/{room_id}/rules", ("A", "B", "campus"), path=lambda w, o: f"/rooms/{w.rooms[o].pk}/rules")

# --- API: bookings -------------------------------------------------------------------------------------------


def new_booking(w: World, o: str) -> dict[str, Any]:
    """Return a booking of the owner's room, 18–19 on the world's day (free, inside opening hours)."""
    return {
        "room": w.rooms[o].pk,
        "title": "Matrix booking",
        "start": at(w.day, 18).isoformat(),
        "end": at(w.day, 19).isoformat(),
    }


api_rows("POST", "/bookings", ("A", "B", "campus"), body=new_booking, watch=everything(Booking))
# For B's institution, in A's room (owner "for-B"): only B's people and the campus's services book for B.
api_rows(
    "POST",
    "/bookings",
    ("for-B",),
    body=lambda w, o: {**new_booking(w, "A"), "institution": w.campus.vocational.pk},
    watch=everything(Booking),
)
api_rows("GET", "/bookings", ("-",))
api_rows("GET", "/bookings/{booking_id}", ("A", "B", "campus"), path=lambda w, o: f"/bookings/{w.bookings[o].pk}")
api_rows(
    "PATCH",
    "/bookings/{booking_id}",
    ("A", "B", "campus"),
    path=lambda w, o: f"/bookings/{w.bookings[o].pk}",
    body=lambda w, o: {"title": "Renamed by the matrix"},
    watch=same(Booking, "bookings"),
)
for action in ("cancel", "release", "check-in"):
    api_rows(
        "POST",
        f"/bookings/{{booking_id}}/{action}",
        ("A", "B", "campus"),
        path=lambda w, o, action=action: f"/bookings/{w.bookings[o].pk}/{action}",
        body=lambda w, o: {},
        watch=same(Booking, "bookings"),
    )
# A's booking running now (owner "running"): the ones above have not started, so they answer 409.
for action in ("release", "check-in"):
    api_rows(
        "POST",
        f"/bookings/{{booking_id}}/{action}",
        ("running",),
        path=lambda w, o, action=action: f"/bookings/{w.running.pk}/{action}",
        body=lambda w, o: {},
        watch=lambda w, o: Booking.objects.filter(pk=w.running.pk),
    )
api_rows(
    "GET",
    "/bookings/{booking_id}/history",
    ("A", "B", "campus"),
    path=lambda w, o: f"/bookings/{w.bookings[o].pk}/history",
)
api_rows(
    "POST",
    "/bookings/{booking_id}/handover",
    ("A", "B"),
    path=lambda w, o: f"/bookings/{w.series[o].pk}/handover",
    body=lambda w, o: {"to_user": "lukio.colleague" if o == "A" else "voc.colleague", "reason": "Matrix"},
    watch=lambda w, o: Booking.objects.filter(series_id=w.series[o].series_id),
)

# --- API: approvals, closures, terms --------------------------------------------------------------------------
api_rows("GET", "/approvals", ("-",))
for decision in ("approve", "reject"):
    api_rows(
        "POST",
        f"/approvals/{{booking_id}}/{decision}",
        ("A", "B", "campus"),
        path=lambda w, o, decision=decision: f"/approvals/{w.requests[o].pk}/{decision}",
        body=lambda w, o: {"reason": "Matrix decides"},
        watch=same(Booking, "requests"),
    )
api_rows("GET", "/closures", ("-",))


def new_closure(w: World, o: str) -> dict[str, Any]:
    """Return a closure of the owner's room, 19–20 on the world's day."""
    return {
        "room": w.rooms[o].pk,
        "start": at(w.day, 19).isoformat(),
        "end": at(w.day, 20).isoformat(),
        "reason": "Matrix",
    }


api_rows("POST", "/closures", ("A", "B", "campus"), body=new_closure, watch=everything(Closure))
# A whole building (owner "building"): the campus's facility managers only.
api_rows(
    "POST",
    "/closures",
    ("building",),
    body=lambda w, o: {**new_closure(w, "A"), "room": None, "building": w.campus.main_building.pk},
    watch=everything(Closure),
)
api_rows(
    "GET",
    "/closures/{closure_id}/bookings",
    ("A", "B", "campus"),
    path=lambda w, o: f"/closures/{w.closures[o].pk}/bookings",
)
api_rows(
    "POST",
    "/closures/{closure_id}/cancel-bookings",
    ("A", "B", "campus"),
    path=lambda w, o: f"/closures/{w.closures[o].pk}/cancel-bookings",
    body=lambda w, o: {},
    watch=lambda w, o: Booking.objects.all(),
)
api_rows("GET", "/terms", ("-",))


def new_term(w: World, o: str) -> dict[str, Any]:
    """Return a break in the calendar of the owner (its institution, or the campus)."""
    place = {"campus": w.campus.campus.pk} if o == "campus" else {"institution": w.terms[o].institution_id}
    start = w.day + dt.timedelta(days=90)
    return {
        **place,
        "kind": "break",
        "name": "Matrix break",
        "start": str(start),
        "end": str(start + dt.timedelta(days=2)),
    }


api_rows("POST", "/terms", ("A", "B", "campus"), body=new_term, watch=lambda w, o: type(w.terms["A"]).objects.all())

# --- API: imports --------------------------------------------------------------------------------------------


def timetable(w: World, o: str) -> str:
    """Return a one-event timetable (.ics), 19–20 on the world's day."""
    start, end = at(w.day, 19), at(w.day, 20)
    stamp = "%Y%m%dT%H%M%SZ"
    return (
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//matrix//EN\r\nBEGIN:VEVENT\r\nUID:matrix-1@example.org\r\n"
        f"DTSTAMP:{start.astimezone(dt.UTC).strftime(stamp)}\r\nDTSTART:{start.astimezone(dt.UTC).strftime(stamp)}\r\n"
        f"DTEND:{end.astimezone(dt.UTC).strftime(stamp)}\r\nSUMMARY:Imported\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
    )


api_rows(
    "POST",
    "/imports/ical",
    ("A", "B", "campus"),
    path=lambda w, o: f"/imports/ical?room={w.rooms[o].pk}&dry_run=false",
    body=timetable,
    content_type="text/calendar",
    watch=everything(Booking),
)

# --- API: sensors, readings, dead letters, gateway tokens ----------------------------------------------------
api_rows("GET", "/sensors", ("-",))
api_rows(
    "POST",
    "/sensors",
    ("A", "B", "campus"),
    body=lambda w, o: {"external_id": f"matrix-{o}", "kind": "count", "room": w.rooms[o].pk},
    watch=lambda w, o: type(w.sensors["A"]).objects.all(),
)
api_rows("GET", "/sensors/{sensor_id}", ("A", "B", "campus"), path=lambda w, o: f"/sensors/{w.sensors[o].pk}")
api_rows(
    "PATCH",
    "/sensors/{sensor_id}",
    ("A", "B", "campus"),
    path=lambda w, o: f"/sensors/{w.sensors[o].pk}",
    body=lambda w, o: {"vendor": "Matrix"},
    watch=lambda w, o: type(w.sensors[o]).objects.filter(pk=w.sensors[o].pk),
)
# Moving A's sensor into B's room (owner "A-to-B"): both rooms must be the mover's.
api_rows(
    "PATCH",
    "/sensors/{sensor_id}",
    ("A-to-B",),
    path=lambda w, o: f"/sensors/{w.sensors['A'].pk}",
    body=lambda w, o: {"room": w.rooms["B"].pk},
    watch=lambda w, o: type(w.sensors["A"]).objects.filter(pk=w.sensors["A"].pk),
)
api_rows(
    "GET",
    "/sensors/{sensor_id}/readings",
    ("A", "B", "campus"),
    path=lambda w, o: f"/sensors/{w.sensors[o].pk}/readings",
)
api_rows("GET", "/dead-letters", ("-",))
api_rows("GET", "/gateway-tokens", ("-",))
api_rows(
    "POST",
    "/gateway-tokens",
    ("campus",),
    body=lambda w, o: {"campus": w.campus.campus.pk, "name": "Matrix gateway"},
    watch=lambda w, o: type(w.gateway_token).objects.all(),
)
api_rows(
    "POST",
    "/gateway-tokens/{token_id}/revoke",
    ("campus",),
    path=lambda w, o: f"/gateway-tokens/{w.gateway_token.pk}/revoke",
    body=lambda w, o: {},
    watch=lambda w, o: type(w.gateway_token).objects.all(),
)
api_rows(
    "POST",
    "/readings",
    ("-",),
    path=lambda w, o: "/readings?sensor=counter-A",
    body=lambda w, o: {"ts": "2026-03-10T10:00:00+02:00", "count": 1},
    watch=lambda w, o: type(w.readings["A"]).objects.all(),
)
# With the campus's gateway token instead of a person's: the role plays no part.
rows(
    f"POST {API}/readings",
    ("gateway",),
    lambda w, o: f"{API}/readings?sensor=counter-A",
    via="gateway",
    body=lambda w, o: {"ts": w.extra["reading_ts"], "count": 1},
)

# --- API: reports ----------------------------------------------------------------------------------------------


def report_place(w: World, o: str) -> str:
    """Return the report query naming the owner's institution, or the whole campus."""
    return {
        "A": f"institution={w.campus.lukio.pk}",
        "B": f"institution={w.campus.vocational.pk}",
        "campus": f"campus={w.campus.campus.pk}",
    }[o]


for kind in ("utilisation", "heatmap"):
    api_rows(
        "GET",
        f"/reports/{kind}",
        ("A", "B", "campus"),
        path=lambda w, o, kind=kind: f"/reports/{kind}?{report_place(w, o)}&from=2026-01-05&to=2026-01-09&season=all",
    )
api_rows(
    "GET",
    "/reports/jobs/{job_id}",
    ("A", "B", "campus"),
    path=lambda w, o: f"/reports/jobs/{w.report_jobs[o].pk}",
)

# --- Pages ---------------------------------------------------------------------------------------------------
for name, url in (
    ("campus:home", "/"),
    ("campus:accessibility", "/accessibility/"),
    ("campus:privacy", "/privacy/"),
    ("campus:favicon", "/favicon.ico"),
    ("campus:profile", "/profile/"),
    ("campus:profile-data", "/profile/data.json"),
    ("bookings:find-room", "/rooms/find/"),
    ("bookings:new", "/bookings/new/"),
    ("bookings:mine", "/bookings/mine/"),
    ("manage:approvals", "/manage/approvals/"),
    ("manage:closures", "/manage/closures/"),
    ("manage:import", "/manage/import/"),
    ("manage:front-desk", "/manage/front-desk/"),
    ("manage:front-desk-print", "/manage/front-desk/print/"),
    ("calendar:subscribe", "/calendar/subscribe/"),
    ("sensors:list", "/manage/sensors/"),
    ("sensors:dead-letters", "/manage/sensors/dead-letters/"),
    ("utilisation:dashboard", "/manage/room-use/"),
    ("login", "/accounts/login/"),
    ("password_change", "/accounts/password_change/"),
    ("password_change_done", "/accounts/password_change/done/"),
    ("password_reset", "/accounts/password_reset/"),
    ("password_reset_done", "/accounts/password_reset/done/"),
    ("password_reset_complete", "/accounts/reset/done/"),
):
    page_rows("GET", name, ("-",), lambda w, o, url=url: url)
page_rows("GET", "password_reset_confirm", ("-",), lambda w, o: "/accounts/reset/MQ/set-password/")
page_rows("POST", "logout", ("-",), lambda w, o: "/accounts/logout/")
page_rows(
    "POST", "set_language", ("-",), lambda w, o: "/i18n/setlang/", body=lambda w, o: {"language": "fi", "next": "/"}
)
page_rows(
    "POST",
    "campus:profile-token-revoke",
    ("A",),
    lambda w, o: f"/profile/tokens/{w.api_tokens[o].pk}/revoke/",
    body=lambda w, o: {},
    watch=lambda w, o: type(w.api_tokens[o]).objects.filter(pk=w.api_tokens[o].pk),
)
for name, suffix in (("bookings:room-detail", ""), ("bookings:room-print", "print/")):
    page_rows("GET", name, ("A", "B", "campus"), lambda w, o, s=suffix: f"/rooms/{w.rooms[o].pk}/{s}")
page_rows(
    "POST",
    "bookings:preview",
    ("A",),
    lambda w, o: "/bookings/new/preview/",
    body=lambda w, o: {"room": w.rooms[o].pk, "title": "Preview", "date": str(w.day), "start": "18:00", "end": "19:00"},
)
page_rows("GET", "bookings:detail", ("A", "B", "campus"), lambda w, o: f"/bookings/{w.bookings[o].pk}/")
for action, name in (("edit", "bookings:edit"), ("cancel", "bookings:cancel"), ("release", "bookings:release")):
    page_rows("GET", name, ("A", "B", "campus"), lambda w, o, a=action: f"/bookings/{w.bookings[o].pk}/{a}/")
page_rows(
    "POST",
    "bookings:edit",
    ("A", "B", "campus"),
    lambda w, o: f"/bookings/{w.bookings[o].pk}/edit/",
    body=lambda w, o: {"title": "Renamed by the matrix"},
    watch=same(Booking, "bookings"),
)
page_rows(
    "POST",
    "bookings:cancel",
    ("A", "B", "campus"),
    lambda w, o: f"/bookings/{w.bookings[o].pk}/cancel/",
    body=lambda w, o: {"reason": "Matrix"},
    watch=same(Booking, "bookings"),
)
for action, name in (("release", "bookings:release"), ("check-in", "bookings:check-in")):
    page_rows(
        "POST",
        name,
        ("A", "B", "campus"),
        lambda w, o, a=action: f"/bookings/{w.bookings[o].pk}/{a}/",
        body=lambda w, o: {},
        watch=same(Booking, "bookings"),
    )
for action, name in (("release", "bookings:release"), ("check-in", "bookings:check-in")):
    page_rows(
        "POST",
        name,
        ("running",),
        lambda w, o, a=action: f"/bookings/{w.running.pk}/{a}/",
        body=lambda w, o: {},
        watch=lambda w, o: Booking.objects.filter(pk=w.running.pk),
    )
page_rows("GET", "bookings:handover", ("A", "B"), lambda w, o: f"/bookings/{w.series[o].pk}/handover/")
page_rows(
    "POST",
    "bookings:handover",
    ("A", "B"),
    lambda w, o: f"/bookings/{w.series[o].pk}/handover/",
    body=lambda w, o: {"to_user": "lukio.colleague" if o == "A" else "voc.colleague", "reason": "Matrix"},
    watch=lambda w, o: Booking.objects.filter(series_id=w.series[o].series_id),
)
for decision in ("approve", "reject"):
    page_rows(
        "POST",
        f"manage:{decision}",
        ("A", "B", "campus"),
        lambda w, o, d=decision: f"/manage/approvals/{w.requests[o].pk}/{d}/",
        body=lambda w, o: {f"decide-{w.requests[o].pk}-reason": "Matrix decides"},
        watch=same(Booking, "requests"),
    )
page_rows("GET", "manage:closure-detail", ("A", "B", "campus"), lambda w, o: f"/manage/closures/{w.closures[o].pk}/")
page_rows(
    "POST",
    "manage:closure-cancel-bookings",
    ("A", "B", "campus"),
    lambda w, o: f"/manage/closures/{w.closures[o].pk}/cancel-bookings/",
    body=lambda w, o: {"confirm": "on"},
    watch=lambda w, o: Booking.objects.all(),
)
page_rows(
    "GET",
    "calendar:regenerate",
    ("A", "B"),
    lambda w, o: (
        f"/calendar/subscribe/institution/{(w.campus.lukio if o == 'A' else w.campus.vocational).pk}/new-address/"
    ),
)
page_rows("GET", "calendar:booking", ("A", "B", "campus"), lambda w, o: f"/bookings/{w.bookings[o].pk}/calendar.ics")

# --- Feeds and door displays: no sign-in, the address's secret stands for its owner -------------------------


def institution_of(w: World, o: str):
    """Return the institution of owner A or B."""
    return w.campus.lukio if o == "A" else w.campus.vocational


rows(
    "GET feed calendar:feed institution",
    ("A", "B"),
    lambda w, o: w.extra["role_feed"](FeedKind.INSTITUTION, institution_of(w, o).pk),
    via="secret",
)
rows(
    "GET feed calendar:feed room",
    ("A", "B", "campus"),
    lambda w, o: w.extra["role_feed"](FeedKind.ROOM, w.rooms[o].pk),
    via="secret",
)
rows(
    "GET feed calendar:feed person",
    ("own", "A"),
    lambda w, o: w.extra["role_feed"](FeedKind.PERSON, None if o == "own" else w.users["staff_a"].pk),
    via="secret",
)
rows(
    "GET feed calendar:feed wrong key",
    ("A",),
    lambda w, o: w.extra["role_feed"](FeedKind.INSTITUTION, w.campus.lukio.pk)[:-8] + "xxxx.ics",
    via="secret",
)
rows(
    "GET feed calendar:public-room",
    ("A", "campus"),
    lambda w, o: f"/calendar/rooms/{w.rooms[o].pk}/public.ics",
    via="secret",
)
rows("GET door door:display", ("A", "B"), lambda w, o: f"/door/{w.door_tokens[o]}/", via="secret")
rows(
    "POST door door:check-in another room's booking",
    ("B",),
    lambda w, o: f"/door/{w.door_tokens['A']}/check-in/",
    via="secret",
    body=lambda w, o: {"booking": w.bookings[o].pk},
    watch=same(Booking, "bookings"),
)
rows("GET door door:display wrong token", ("A",), lambda w, o: f"/door/{w.door_tokens[o][:-3]}zzz/", via="secret")
rows(
    "POST door door:check-in",
    ("A", "B"),
    lambda w, o: f"/door/{w.door_tokens[o]}/check-in/",
    via="secret",
    body=lambda w, o: {"booking": w.bookings[o].pk},
    watch=same(Booking, "bookings"),
)

# --- The admin: every registered ModelAdmin's list and its change page for objects of A, B and the campus -------


def by_owner(
    attribute: str, owners: Iterable[str] = ("A", "B", "campus"), then: Callable[[Any], Model] = lambda found: found
) -> dict[str, Callable[[World], Model]]:
    """Return, per owner, how to find the owner's object in the world's ``attribute`` (then ``then`` of it)."""

    def finder(owner: str) -> Callable[[World], Model]:
        return lambda w: then(getattr(w, attribute)[owner])

    return {owner: finder(owner) for owner in owners}


ADMIN_OBJECTS: dict[str, dict[str, Callable[[World], Model]]] = {
    "campus.campus": {"campus": lambda w: w.campus.campus},
    "campus.institution": {"A": lambda w: w.campus.lukio, "B": lambda w: w.campus.vocational},
    "campus.building": {"campus": lambda w: w.campus.main_building},
    "campus.room": by_owner("rooms"),
    "campus.equipment": {"campus": lambda w: w.campus.projector},
    "campus.membership": by_owner("memberships", owners=("A", "B")),
    "campus.user": {"A": lambda w: w.users["staff_a"], "B": lambda w: w.users["staff_b"]},
    "campus.termperiod": by_owner("terms", owners=("A", "B")),
    "bookings.booking": by_owner("bookings"),
    "bookings.bookingseries": by_owner("series", owners=("A", "B"), then=lambda found: found.series),
    "bookings.bookingpolicy": by_owner("policies"),
    "bookings.closure": by_owner("closures"),
    "bookings.bookingevent": by_owner("events"),
    "bookings.notification": by_owner("notifications"),
    "sensors.sensor": by_owner("sensors"),
    "sensors.reading": by_owner("readings"),
    "sensors.deadletter": by_owner("dead_letters"),
    "sensors.ingesttoken": {"campus": lambda w: w.gateway_token},
    "utilisation.roomslot": by_owner("slots"),
    "utilisation.corehours": {"campus": lambda w: w.core_hours},
    "utilisation.doordisplay": by_owner("door_displays"),
    "api.apitoken": by_owner("api_tokens", owners=("A", "B")),
}
# Models of other packages: only their lists are in the matrix (they hold no object of an institution).
ADMIN_LIST_ONLY = (
    "auth.group",
    "django_q.schedule",
    "django_q.success",
    "django_q.failure",
    "django_q.ormq",
    "axes.accessattempt",
    "axes.accesslog",
    "axes.accessfailurelog",
)


def admin_url(label: str, suffix: str) -> str:
    """Return the admin address of the model ``label`` ("app.model") followed by ``suffix``."""
    app, model = label.split(".")
    return f"/admin/{app}/{model}/{suffix}"


for name, url in (
    ("api-v1:api-root", "/api/v1/"),
    ("api-v1:openapi-json", "/api/v1/openapi.json"),
    ("api-v1:openapi-view", "/api/v1/docs"),
):
    page_rows("GET", name, ("-",), lambda w, o, url=url: url)
page_rows("GET", "admin:index", ("-",), lambda w, o: "/admin/")
page_rows("GET", "admin:campus_membership_import", ("-",), lambda w, o: "/admin/campus/membership/import/")
for label in (*ADMIN_OBJECTS, *ADMIN_LIST_ONLY):
    rows(f"GET admin {label} changelist", ("-",), lambda w, o, label=label: admin_url(label, ""), via="page")
for label, objects in ADMIN_OBJECTS.items():
    rows(
        f"GET admin {label} change",
        tuple(objects),
        lambda w, o, label=label: admin_url(label, f"{ADMIN_OBJECTS[label][o](w).pk}/change/"),
        via="page",
    )

# Writes through the admin: saving (an empty form: refused or answered with the form's errors) and deleting
# each model's objects of A, B and the campus. A view-only page answers 403; an object out of scope 302.
ADMIN_WRITES = (
    "campus.institution",
    "campus.room",
    "campus.membership",
    "campus.user",
    "campus.termperiod",
    "bookings.booking",
    "bookings.bookingpolicy",
    "bookings.closure",
    "sensors.sensor",
    "utilisation.doordisplay",
    "api.apitoken",
)


def admin_object_rows(w: World, label: str, o: str) -> QuerySet:
    """Return the owner's object of the admin model ``label`` as a queryset (what a write through the admin aims at)."""
    found = ADMIN_OBJECTS[label][o](w)
    return type(found).objects.filter(pk=found.pk)


for label in ADMIN_WRITES:
    for action, body in (("change", {}), ("delete", {"post": "yes"})):
        rows(
            f"POST admin {label} {action}",
            tuple(ADMIN_OBJECTS[label]),
            lambda w, o, label=label, action=action: admin_url(label, f"{ADMIN_OBJECTS[label][o](w).pk}/{action}/"),
            via="page",
            body=lambda w, o, body=body: body,
            watch=lambda w, o, label=label: admin_object_rows(w, label, o),
        )


def admin_additions(label: str, model_of: Callable[[World], type[Model]], form: Callable[[World, str], dict]) -> None:
    """Add rows adding an object of ``label`` for A, B (and the campus) through the admin; refused ones add nothing."""
    rows(
        f"POST admin {label} add",
        ("A", "B", "campus"),
        lambda w, o: admin_url(label, "add/"),
        via="page",
        body=form,
        watch=lambda w, o: model_of(w).objects.all(),
    )


admin_additions(
    "sensors.sensor",
    lambda w: type(w.sensors["A"]),
    lambda w, o: {"external_id": f"added-{o}", "kind": "count", "room": w.rooms[o].pk, "is_active": "on"},
)
admin_additions(
    "utilisation.doordisplay",
    lambda w: type(w.door_displays["A"]),
    lambda w, o: {"room": w.rooms[o].pk, "name": "Added"},
)
admin_additions(
    "campus.membership",
    lambda w: type(w.memberships["A"]),
    lambda w, o: (
        {"user": w.users["expired"].pk, "role": "facility_manager"}
        | ({"campus": w.campus.campus.pk} if o == "campus" else {"institution": institution_of(w, o).pk})
    ),
)
admin_additions(
    "campus.termperiod",
    lambda w: type(w.terms["A"]),
    lambda w, o: (
        {"kind": "break", "name_fi": "Lisätty", "name_sv": "Tillagd", "name_en": "Added"}
        | {"start": str(w.day), "end": str(w.day)}
        | ({"campus": w.campus.campus.pk} if o == "campus" else {"institution": institution_of(w, o).pk})
    ),
)


def client_for(world: World, row: Row, role: str) -> Client:
    """Return a client speaking as ``role`` the way ``row`` is called: token, session, gateway token or nothing."""
    client = Client(headers={"accept-language": "en"})
    if row.via == "gateway":
        client = Client(headers={"accept-language": "en", "Authorization": f"Bearer {world.extra['gateway_raw']}"})
    elif row.via == "api" and world.tokens[role]:
        client = Client(headers={"accept-language": "en", "Authorization": f"Bearer {world.tokens[role]}"})
    elif row.via == "page" and world.users[role] is not None:
        client.cookies[settings.SESSION_COOKIE_NAME] = world.sessions[role]
    return client


def call(world: World, row: Row, role: str):
    """Send ``row``'s request as ``role`` and return the response."""
    client = client_for(world, row, role)
    path = row.path(world)
    method = row.method.lower()
    if row.body is None:
        return getattr(client, method)(path)
    body = row.body(world)
    if row.via in ("page", "secret") and row.method == "POST":
        return client.post(path, body)
    if row.content_type == "application/json":
        return getattr(client, method)(path, json.dumps(body), content_type=row.content_type)
    return getattr(client, method)(path, body, content_type=row.content_type)


def snapshot(queryset: QuerySet) -> list[dict[str, Any]]:
    """Return the rows' values; a user's ``last_login`` is left out (signing the session in writes it)."""
    rows = [{k: v for k, v in values.items() if k != "last_login"} for values in queryset.values()]
    return sorted(rows, key=lambda values: str(values.get("id", values)))


def outcome(response) -> str:
    """Return the status as the table writes it: ``login`` for a redirect to a sign-in page."""
    if response.status_code == 302 and "/login/" in response.get("Location", ""):
        return "login"
    return str(response.status_code)


CELLS = [pytest.param(row, role, id=f"{row.route} | {row.owner} | {role}") for row in ROWS for role in ROLES]


@pytest.mark.parametrize(("row", "role"), CELLS)
def test_each_role_gets_the_designed_answer(world, db, row: Row, role: str):
    # A feed's address is the cell's role's own (a person feed's target None: the role itself).
    world.extra["role_feed"] = lambda kind, target_id: world.feed_path(
        role, kind, world.users[role].pk if target_id is None and world.users[role] else (target_id or 0)
    )
    before = snapshot(row.watch(world)) if row.watch else None

    response = call(world, row, role)

    got = outcome(response)
    expected = row.statuses()[role]
    assert got == expected.rstrip("*="), (
        f"{row.route} on {row.owner}'s object as {role}: expected {expected}, got {got}: {response.content[:300]!r}"
    )
    if row.watch is not None:
        after = snapshot(row.watch(world))
        if expected.endswith("*"):
            assert after != before, f"{row.route} as {role} answered {got} but changed none of {row.owner}'s rows"
        else:
            assert after == before, f"{row.route} as {role} answered {got} but changed {row.owner}'s rows"


def url_routes(resolver: URLResolver | None = None, prefix: str = "") -> set[str]:
    """Return the names of the project's pages (namespaced): the API's operations are the OpenAPI document's, and
    the admin's pages its registered models' (``test_every_route_has_rows_in_the_matrix``)."""
    names: set[str] = set()
    for pattern in (resolver or get_resolver()).url_patterns:
        if isinstance(pattern, URLResolver):
            if pattern.namespace != "admin":
                names |= url_routes(pattern, f"{prefix}{pattern.namespace}:" if pattern.namespace else prefix)
        elif pattern.name and getattr(pattern.callback, "__module__", "") != "ninja.operation":
            names.add(prefix + pattern.name)
    return names


def api_operations() -> set[str]:
    """Return every operation of the OpenAPI document as "METHOD /api/v1/path"."""
    paths = api.get_openapi_schema()["paths"]
    return {f"{method.upper()} {path}" for path, operations in paths.items() for method in operations}


def test_every_route_has_rows_in_the_matrix():
    in_matrix = {row.route for row in ROWS}
    pages = {route.split(" ")[2] for route in in_matrix if " page " in route or route.split(" ")[1] in ("feed", "door")}
    admin_models = {route.split(" ")[2] for route in in_matrix if route.split(" ")[1] == "admin"}
    registered = {model._meta.label_lower for model in admin.site._registry}

    assert api_operations() - in_matrix == set()
    assert url_routes() - pages == set()
    assert registered - admin_models == set()
    assert (
        registered - set(ADMIN_LIST_ONLY) - {route.split(" ")[2] for route in in_matrix if route.endswith(" change")}
        == set()
    )


def test_every_row_has_its_statuses_and_the_table_no_stale_line():
    declared = {(row.route, row.owner) for row in ROWS}

    assert [key for key in declared if key not in EXPECTED] == []
    assert [key for key in EXPECTED if key not in declared] == []


# --- Who reads what: the title of A's booking (visible to its institution) where a 200 answers everyone ----------

TITLE_ROUTES: dict[str, tuple[str, Path]] = {
    "GET /api/v1/bookings/{booking_id}": ("api", lambda w: f"{API}/bookings/{w.bookings['A'].pk}"),
    "GET /api/v1/bookings": ("api", lambda w: f"{API}/bookings?room={w.rooms['A'].pk}"),
    "GET /api/v1/closures/{closure_id}/bookings": (
        "api",
        lambda w: f"{API}/closures/{w.extra['closure_over_a']}/bookings",
    ),
    "GET page bookings:detail": ("page", lambda w: f"/bookings/{w.bookings['A'].pk}/"),
    "GET page calendar:booking": ("page", lambda w: f"/bookings/{w.bookings['A'].pk}/calendar.ics"),
    "GET feed calendar:feed room": ("secret", lambda w: w.extra["role_feed"](FeedKind.ROOM, w.rooms["A"].pk)),
}
TITLE_CELLS = [pytest.param(route, role, id=f"{route} | {role}") for route in TITLE_ROUTES for role in ROLES]


@pytest.mark.parametrize(("route", "role"), TITLE_CELLS)
def test_only_those_who_may_read_the_title_of_a_booking_of_a_read_it(world, db, route: str, role: str):
    closure = Closure.objects.create(
        room=world.rooms["A"],
        campus=world.campus.campus,
        start=at(world.day, 10),
        end=at(world.day, 11),
        reason="Over A",
    )
    world.extra["closure_over_a"] = closure.pk
    world.extra["role_feed"] = lambda kind, target_id: world.feed_path(role, kind, target_id)
    via, path = TITLE_ROUTES[route]
    row = Row(route=f"GET {route}", owner="A", expected="", path=path, via=via)

    response = call(world, row, role)

    reads = "title" if b"Lukio lesson" in response.content else "-"
    assert reads == TITLES[route][role], f"{route} as {role}: expected {TITLES[route][role]}, got {reads}"


TITLES: dict[str, dict[str, str]] = {
    route: dict(zip(ROLES, statuses.split(), strict=True))
    for (route, _owner), statuses in parse_table(TITLE_TABLE).items()
}


# --- Lists show only what the role may see: whose objects (A, B, campus) appear in each list ----------------------


def api_ids(response) -> set[int]:
    return {item["id"] for item in response.json()["items"]} if response.status_code == 200 else set()


def shown_in_api(collection: str) -> Callable[[World, str, Any], bool]:
    return lambda w, o, response: getattr(w, collection)[o].pk in api_ids(response)


def shown_on_page(marker: Callable[[World, str], str]) -> Callable[[World, str, Any], bool]:
    return lambda w, o, response: response.status_code == 200 and marker(w, o).encode() in response.content


LISTS: dict[str, tuple[str, Path, Callable[[World, str, Any], bool]]] = {
    "GET /api/v1/sensors": ("api", lambda w: f"{API}/sensors", shown_in_api("sensors")),
    "GET /api/v1/dead-letters": ("api", lambda w: f"{API}/dead-letters", shown_in_api("dead_letters")),
    "GET /api/v1/approvals": ("api", lambda w: f"{API}/approvals", shown_in_api("requests")),
    "GET page manage:approvals": (
        "page",
        lambda w: "/manage/approvals/",
        shown_on_page(lambda w, o: f"/manage/approvals/{w.requests[o].pk}/approve/"),
    ),
    "GET page manage:closures": ("page", lambda w: "/manage/closures/", shown_on_page(lambda w, o: f"Paint {o}")),
    "GET page sensors:list": ("page", lambda w: "/manage/sensors/", shown_on_page(lambda w, o: f"counter-{o}")),
    "GET page sensors:dead-letters": (
        "page",
        lambda w: "/manage/sensors/dead-letters/",
        shown_on_page(lambda w, o: f"counter-{o}<br"),
    ),
}
for label in ADMIN_OBJECTS:
    LISTS[f"GET admin {label} changelist"] = (
        "page",
        lambda w, label=label: admin_url(label, ""),
        shown_on_page(lambda w, o, label=label: admin_url(label, f"{ADMIN_OBJECTS[label][o](w).pk}/change/")),
    )
LIST_CELLS = [pytest.param(route, role, id=f"{route} | {role}") for route in LISTS for role in ROLES]


@pytest.mark.parametrize(("route", "role"), LIST_CELLS)
def test_each_list_shows_only_the_objects_the_role_may_see(world, db, route: str, role: str):
    via, path, shown = LISTS[route]
    row = Row(route=route, owner="-", expected="", path=path, via=via)
    owners = ADMIN_OBJECTS[route.split()[2]] if " admin " in route else ("A", "B", "campus")

    response = call(world, row, role)

    seen = ",".join(owner for owner in owners if shown(world, owner, response)) or "-"
    assert seen == SHOWN[route][role], f"{route} as {role}: expected to show {SHOWN[route][role]}, showed {seen}"


SHOWN: dict[str, dict[str, str]] = {
    route: dict(zip(ROLES, shown.split(), strict=True)) for (route, _owner), shown in parse_table(LIST_TABLE).items()
}
