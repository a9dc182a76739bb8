"""The authorisation matrix's world: one joint campus with a person of each role and objects of two institutions.

Objects come in owners: ``A`` (the lukio), ``B`` (the vocational college) and ``campus`` (the shared
auditorium, the campus's gateway token and core hours). Built once per test module
(``tests/security/conftest.py``); each test runs in a savepoint, so a write one test makes is gone
for the next.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.test import Client
from django.utils import timezone

from api.models import ApiToken
from api.tokens import token_create
from bookings.feeds import Feed, feed_path
from bookings.models import (
    Access,
    Booking,
    BookingEvent,
    BookingPolicy,
    BookingStatus,
    Closure,
    FeedKind,
    Notification,
    NotificationKind,
)
from bookings.services import closure_create
from campus.models import Membership, OpeningHours, Role, Room, TermKind, TermPeriod, User
from sensors.models import DeadLetter, DeadLetterReason, IngestSource, IngestToken, Reading, Sensor, SensorKind
from sensors.services import gateway_token_create
from tests.bookings.conftest import TUESDAY, at, book, next_weekday_after, today
from tests.conftest import JointCampus, build_joint_campus, make_user
from tests.web.conftest import running_booking
from utilisation.door_displays import door_display_create
from utilisation.models import CoreHours, DoorDisplay, ReportJob, RoomSlot

# The roles of the matrix, in the order of its columns.
ROLES = ("anonymous", "staff_a", "staff_b", "front_desk", "fm_a", "campus_fm", "admin_a", "superuser", "expired")
OWNERS = ("A", "B", "campus")


@dataclass
class World:
    """Everything the matrix's cells ask about, by role and by owner."""

    campus: JointCampus
    users: dict[str, User | None]
    tokens: dict[str, str | None]  # raw personal API token per role (None: anonymous)
    sessions: dict[str, str | None]  # a signed-in session's key per role (None: anonymous)
    rooms: dict[str, Room]
    bookings: dict[str, Booking]  # a confirmed booking of a teacher of A / of B, and one in the shared room
    running: Booking  # a teacher of A's booking running now, in a room of A open round the clock
    series: dict[str, Booking]  # the first occurrence of a weekly series of a teacher of A / of B
    requests: dict[str, Booking]  # an open request for a room of A, of B, and for the shared room
    closures: dict[str, Closure]
    sensors: dict[str, Sensor]
    readings: dict[str, Reading]
    dead_letters: dict[str, DeadLetter]
    gateway_token: IngestToken
    door_displays: dict[str, DoorDisplay]
    door_tokens: dict[str, str]
    report_jobs: dict[str, ReportJob]
    terms: dict[str, TermPeriod]
    memberships: dict[str, Membership]
    api_tokens: dict[str, ApiToken]
    slots: dict[str, RoomSlot]
    core_hours: CoreHours
    notifications: dict[str, Notification]
    events: dict[str, BookingEvent]
    policies: dict[str, BookingPolicy]
    day: dt.date
    extra: dict[str, Any] = field(default_factory=dict)

    def feed_path(self, role: str, kind: str, target_id: int) -> str:
        """Return ``role``'s address of the feed (kind, target); anonymous has none, so gets a forged one."""
        user = self.users[role]
        if user is None:
            return f"/calendar/feeds/{kind}/{target_id}/1-0-{'x' * 32}.ics"
        target = {
            FeedKind.INSTITUTION: lambda: (
                self.campus.lukio if target_id == self.campus.lukio.pk else self.campus.vocational
            ),
            FeedKind.ROOM: lambda: Room.objects.get(pk=target_id),
            FeedKind.PERSON: lambda: User.objects.get(pk=target_id),
        }[kind]()
        return feed_path(owner=user, feed=Feed(kind=kind, target=target))


def _session_key(user: User) -> str:
    """Sign ``user`` in once; the tests send the session's cookie (signing in per test costs more than the request)."""
    client = Client()
    client.force_login(user)
    return client.cookies[settings.SESSION_COOKIE_NAME].value


def build_world() -> World:
    """Create the matrix's campus, people, tokens and objects (call with the database open)."""
    jc = build_joint_campus()
    yesterday = today() - dt.timedelta(days=1)

    def member(username: str, role: str, *, institution=None, campus=None, **dates) -> User:
        user = make_user(username)
        Membership.objects.create(user=user, institution=institution, campus=campus, role=role, **dates)
        return user

    users: dict[str, User | None] = {
        "anonymous": None,
        "staff_a": member("lukio.teacher", Role.STAFF, institution=jc.lukio),
        "staff_b": member("voc.teacher", Role.STAFF, institution=jc.vocational),
        "front_desk": member("front.desk", Role.FRONT_DESK, campus=jc.campus),
        "fm_a": member("lukio.fm", Role.FACILITY_MANAGER, institution=jc.lukio),
        "campus_fm": member("campus.fm", Role.FACILITY_MANAGER, campus=jc.campus),
        "admin_a": member("lukio.admin", Role.INSTITUTION_ADMIN, institution=jc.lukio),
        "superuser": User.objects.create_superuser("root", "root@example.org", "pass-for-tests-1"),
        "expired": member(
            "lukio.former",
            Role.STAFF,
            institution=jc.lukio,
            valid_from=today() - dt.timedelta(days=365),
            valid_until=yesterday,
        ),
    }
    # Colleagues a series is handed over to; people of B who own B's objects but are no column of the matrix.
    fm_b = member("voc.fm", Role.FACILITY_MANAGER, institution=jc.vocational)
    admin_b = member("voc.admin", Role.INSTITUTION_ADMIN, institution=jc.vocational)
    member("lukio.colleague", Role.STAFF, institution=jc.lukio)
    member("voc.colleague", Role.STAFF, institution=jc.vocational)
    tokens = {role: (token_create(user=user, name="matrix")[1] if user else None) for role, user in users.items()}
    sessions = {role: (_session_key(user) if user else None) for role, user in users.items()}
    staff_a, staff_b = users["staff_a"], users["staff_b"]

    room_b = Room.objects.create(
        building=jc.workshop_building, code="B101", name="Workshop", capacity=20, owner=jc.vocational
    )
    rooms = {"A": jc.classroom, "B": room_b, "campus": jc.shared_auditorium}
    Room.objects.filter(pk=jc.shared_auditorium.pk).update(public_feed=True)  # the one room with a public feed
    day = next_weekday_after(today() + dt.timedelta(days=14), TUESDAY)

    bookings = {
        "A": book(staff_a, jc.classroom, at(day, 10), at(day, 11), title="Lukio lesson").first,
        "B": book(staff_b, room_b, at(day, 10), at(day, 11), title="Workshop lesson").first,
        "campus": book(staff_a, jc.shared_auditorium, at(day, 8), at(day, 9), title="Assembly").first,
    }
    # A room of A in the workshop hall, which opens round the clock, so that a booking runs now at any hour.
    OpeningHours.objects.filter(building=jc.workshop_building).delete()
    for weekday in range(7):
        OpeningHours.objects.create(
            building=jc.workshop_building, weekday=weekday, opens=dt.time(0, 0), closes=dt.time(23, 59, 59)
        )
    studio = Room.objects.create(building=jc.workshop_building, code="B201", name="Studio", capacity=10, owner=jc.lukio)
    running = running_booking(staff_a, studio, title="Running lesson")
    # A weekly series of each institution's teacher (its first occurrence), which handovers pass on.
    series = {
        "A": book(staff_a, jc.lab, at(day, 14), at(day, 15), rrule="FREQ=WEEKLY;COUNT=2", title="Lab series").first,
        "B": book(
            staff_b, room_b, at(day, 14), at(day, 15), rrule="FREQ=WEEKLY;COUNT=2", title="Workshop series"
        ).first,
    }
    # Open requests: by B's teacher for A's room, by A's teacher for B's room and for the shared room.
    requests = {
        "A": book(staff_b, jc.classroom, at(day, 12), at(day, 13), title="Request for A").first,
        "B": book(staff_a, room_b, at(day, 12), at(day, 13), title="Request for B").first,
        "campus": book(staff_b, jc.shared_auditorium, at(day, 12), at(day, 13), title="Request for the hall").first,
    }
    Booking.objects.filter(pk__in=[r.pk for r in requests.values()]).update(status=BookingStatus.PENDING)
    policies = {
        owner: BookingPolicy.objects.create(room=room, other_access=Access.REQUEST) for owner, room in rooms.items()
    }
    root = users["superuser"]
    closures = {
        owner: closure_create(
            actor=root, room=room, building=None, start=at(day, 15), end=at(day, 16), reason=f"Paint {owner}"
        )[0]
        for owner, room in rooms.items()
    }
    sensors = {
        owner: Sensor.objects.create(external_id=f"counter-{owner}", kind=SensorKind.COUNT, room=room)
        for owner, room in rooms.items()
    }
    now = timezone.now().replace(microsecond=0)
    readings = {
        owner: Reading.objects.create(
            sensor=sensor, room=sensor.room, campus=jc.campus, ts=now - dt.timedelta(hours=1), count=3, received_at=now
        )
        for owner, sensor in sensors.items()
    }
    dead_letters = {
        owner: DeadLetter.objects.create(
            received_at=now,
            source=IngestSource.MQTT,
            topic=f"kampus/sensors/{sensor.external_id}",
            sensor=sensor,
            campus=jc.campus,
            reason=DeadLetterReason.INVALID,
            payload_bytes=3,
        )
        for owner, sensor in sensors.items()
    }
    gateway_token, gateway_raw = gateway_token_create(actor=root, campus=jc.campus, name="Gateway")
    door_displays, door_tokens = {}, {}
    for owner, room in rooms.items():
        door_displays[owner], door_tokens[owner] = door_display_create(actor=root, room=room, name=f"Door {owner}")

    first, last = (today() - dt.timedelta(days=30)).isoformat(), (today() - dt.timedelta(days=1)).isoformat()

    def job(by: User, **places: int | None) -> ReportJob:
        params = {"campus": jc.campus.pk, "building": None, "institution": None, "room": None}
        params |= places
        params |= {"first_day": first, "last_day": last, "season": "all", "now": None}
        return ReportJob.objects.create(
            requested_by=by, campus=jc.campus, params=params, params_key=f"matrix-{by.pk}", data_version=0
        )

    report_jobs = {
        "A": job(users["admin_a"], institution=jc.lukio.pk),
        "B": job(admin_b, institution=jc.vocational.pk),
        "campus": job(users["campus_fm"]),
    }
    first_break = today() + dt.timedelta(days=60)
    terms = {
        owner: TermPeriod.objects.create(
            institution=institution,
            kind=TermKind.BREAK,
            name=f"Break {owner}",
            start=first_break,
            end=first_break + dt.timedelta(days=4),
        )
        for owner, institution in (("A", jc.lukio), ("B", jc.vocational))
    }
    memberships = {
        "A": Membership.objects.get(user=staff_a),
        "B": Membership.objects.get(user=staff_b),
    }
    api_tokens = {
        "A": ApiToken.objects.get(user=staff_a),
        "B": ApiToken.objects.get(user=staff_b),
    }
    slot_start = timezone.now().replace(minute=0, second=0, microsecond=0) - dt.timedelta(days=2)
    local = timezone.localtime(slot_start, jc.campus.zone)
    slots = {
        owner: RoomSlot.objects.create(
            room=room,
            campus=jc.campus,
            start=slot_start,
            local_date=local.date(),
            local_minute=local.hour * 60,
            iso_weekday=local.isoweekday(),
            rolled_at=now,
        )
        for owner, room in rooms.items()
    }
    core_hours = CoreHours.objects.create(campus=jc.campus)
    notifications = {
        owner: Notification.objects.create(
            recipient=booking.booked_by, kind=NotificationKind.CANCELLED, booking=booking, sent_at=now
        )
        for owner, booking in bookings.items()
    }
    events = {owner: BookingEvent.objects.filter(booking=booking).first() for owner, booking in bookings.items()}
    return World(
        campus=jc,
        users=users,
        tokens=tokens,
        sessions=sessions,
        rooms=rooms,
        bookings=bookings,
        running=running,
        series=series,
        requests=requests,
        closures=closures,
        sensors=sensors,
        readings=readings,
        dead_letters=dead_letters,
        gateway_token=gateway_token,
        door_displays=door_displays,
        door_tokens=door_tokens,
        report_jobs=report_jobs,
        terms=terms,
        memberships=memberships,
        api_tokens=api_tokens,
        slots=slots,
        core_hours=core_hours,
        notifications=notifications,
        events=events,
        policies=policies,
        day=day,
        extra={
            "fm_b": fm_b,
            "admin_b": admin_b,
            "gateway_raw": gateway_raw,
            "reading_ts": (now - dt.timedelta(minutes=5)).isoformat(),
        },
    )
