"""Shared fixtures: small, named worlds of a joint campus."""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Callable
from dataclasses import dataclass

import psycopg2
import pytest
import redis
from django.conf import settings
from django.db import connection
from django.test import Client
from django.utils import translation

from api.tokens import token_create
from bookings.models import Access, Booking, BookingPolicy, Visibility
from campus.models import (
    Building,
    Campus,
    Equipment,
    Institution,
    InstitutionKind,
    Membership,
    OpeningHours,
    Role,
    Room,
    RoomKind,
    TermKind,
    TermPeriod,
    User,
)
from tests.bookings.conftest import MONDAY, TUESDAY, at, book, next_weekday_after, today


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark every test that asks for PostgreSQL with ``postgres`` and for Redis with ``redis``, for ``-m``."""
    for item in items:
        if "on_postgres" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.postgres)
        if "redis_url" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.redis)


def pytest_sessionstart(session: pytest.Session) -> None:
    """Stop at once, saying so, when DATABASE_URL names a PostgreSQL server that does not answer."""
    database = settings.DATABASES["default"]
    if database["ENGINE"] == "django.db.backends.postgresql":
        reason = postgres_unreachable_reason(database)
        if reason is not None:
            pytest.exit(reason, returncode=pytest.ExitCode.USAGE_ERROR)


def require_service(name: str, reason: str) -> None:
    """Skip (outside CI) or fail (under CI=true) a test that needs ``name``; ``reason`` says what is missing."""
    message = f"needs {name}: {reason}"
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(message)
    pytest.skip(message)


POSTGRES_URL_EXAMPLE = "postgres://postgres@127.0.0.1:5432/kampus"


def postgres_missing_reason(database_url: str | None) -> str:
    """Return why the tests do not run on PostgreSQL when DATABASE_URL is ``database_url``."""
    if not database_url:
        return (
            "DATABASE_URL is not set, so the tests use SQLite; "
            f"set DATABASE_URL={POSTGRES_URL_EXAMPLE} to run this test"
        )
    scheme = database_url.split(":", 1)[0]
    return f"DATABASE_URL is a {scheme} URL; set DATABASE_URL={POSTGRES_URL_EXAMPLE} to run this test"


def postgres_unreachable_reason(database: dict) -> str | None:
    """Return why the PostgreSQL server of ``database`` (Django settings) cannot be reached, or None."""
    host, port = database.get("HOST") or "localhost", database.get("PORT") or "5432"
    try:
        psycopg2.connect(
            host=host,
            port=port,
            user=database.get("USER") or None,
            password=database.get("PASSWORD") or None,
            dbname="postgres",
            connect_timeout=3,
        ).close()
    except psycopg2.OperationalError as error:
        first_line = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        return (
            f"PostgreSQL at {host}:{port} (DATABASE_URL) cannot be reached ({first_line}); "
            "install and start PostgreSQL, or unset DATABASE_URL to run the tests on SQLite"
        )
    return None


@pytest.fixture(autouse=True)
def _tests_start_with_an_empty_cache():
    """Start each test with an empty cache: cached reports of one test's rows must not answer another's."""
    from django.core.cache import cache

    cache.clear()


@pytest.fixture(autouse=True)
def _tests_speak_english_unless_asked():
    """Run each test in English (the installation default is Finnish); tests of language negotiation override it."""
    with translation.override("en"):
        yield


@pytest.fixture
def on_postgres() -> None:
    """Require the test database to be PostgreSQL."""
    if connection.vendor != "postgresql":
        require_service("PostgreSQL", postgres_missing_reason(os.environ.get("DATABASE_URL")))


REDIS_URL_EXAMPLE = "redis://127.0.0.1:6379/0"


def redis_missing_reason(url: str | None, error: str = "") -> str:
    """Return why the tests of the Redis job queue cannot run with REDIS_URL=``url``."""
    if not url:
        return (
            f"REDIS_URL is not set; install Redis (apt-get install redis-server) and set REDIS_URL={REDIS_URL_EXAMPLE}"
        )
    return f"no Redis answers at REDIS_URL={url} ({error}); install and start Redis (apt-get install redis-server)"


@pytest.fixture
def redis_url() -> str:
    """Return the Redis of REDIS_URL (shared with others: tests use queue names of their own)."""
    url = settings.TEST_REDIS_URL
    if not url:
        require_service("Redis", redis_missing_reason(None))
    client = redis.Redis.from_url(url, socket_connect_timeout=2, socket_timeout=2)
    try:
        client.ping()
    except redis.RedisError as error:
        require_service("Redis", redis_missing_reason(url, str(error)))
    finally:
        client.close()
    return url


@dataclass
class JointCampus:
    """A campus shared by an upper-secondary school (lukio), a vocational college and an adult-education centre."""

    campus: Campus
    lukio: Institution
    vocational: Institution
    adult: Institution
    main_building: Building
    workshop_building: Building
    classroom: Room
    lab: Room
    shared_auditorium: Room
    projector: Equipment
    sinks: Equipment


def make_user(username: str, **fields) -> User:
    fields.setdefault("email", f"{username}@example.org")
    user = User.objects.create_user(username=username, password="pass-for-tests-1", **fields)
    return user


@pytest.fixture
def joint_campus(db) -> JointCampus:
    return build_joint_campus()


def build_joint_campus() -> JointCampus:
    """Build the joint campus: three institutions, two buildings open 7–21 on weekdays, two lukio rooms and a
    shared auditorium (the ``joint_campus`` fixture; callable where a fixture cannot be, e.g. a module's setup)."""
    campus = Campus.objects.create(name="Otava Campus", time_zone="Europe/Helsinki", address="Opintie 1, Tampere")
    lukio = Institution.objects.create(
        campus=campus, name="Otava Upper Secondary", short_code="lukio", kind=InstitutionKind.UPPER_SECONDARY
    )
    vocational = Institution.objects.create(
        campus=campus, name="Otava Vocational College", short_code="ammatti", kind=InstitutionKind.VOCATIONAL
    )
    adult = Institution.objects.create(
        campus=campus, name="Otava Adult Education Centre", short_code="opisto", kind=InstitutionKind.ADULT_EDUCATION
    )
    main_building = Building.objects.create(campus=campus, code="A", name="Main building")
    workshop_building = Building.objects.create(campus=campus, code="B", name="Workshop hall")
    for building in (main_building, workshop_building):
        for weekday in range(5):
            OpeningHours.objects.create(building=building, weekday=weekday, opens=dt.time(7, 0), closes=dt.time(21, 0))
        OpeningHours.objects.create(building=building, weekday=5, opens=dt.time(9, 0), closes=dt.time(15, 0))
    projector = Equipment.objects.create(code="projector", name="Projector")
    sinks = Equipment.objects.create(code="sinks", name="Sinks")
    classroom = Room.objects.create(
        building=main_building,
        code="A101",
        name="Classroom 101",
        kind=RoomKind.CLASSROOM,
        capacity=30,
        owner=lukio,
        step_free=True,
    )
    classroom.equipment.add(projector)
    lab = Room.objects.create(
        building=main_building,
        code="A201",
        name="Chemistry lab",
        kind=RoomKind.LAB,
        capacity=20,
        floor=2,
        owner=lukio,
    )
    lab.equipment.add(sinks, projector)
    shared_auditorium = Room.objects.create(
        building=main_building,
        code="A001",
        name="Auditorium",
        kind=RoomKind.AUDITORIUM,
        capacity=200,
        step_free=True,
        owner=None,
    )
    return JointCampus(
        campus=campus,
        lukio=lukio,
        vocational=vocational,
        adult=adult,
        main_building=main_building,
        workshop_building=workshop_building,
        classroom=classroom,
        lab=lab,
        shared_auditorium=shared_auditorium,
        projector=projector,
        sinks=sinks,
    )


@pytest.fixture
def lukio_staff(joint_campus: JointCampus) -> User:
    user = make_user("lukio.teacher", first_name="Liisa", last_name="Lehtonen")
    Membership.objects.create(user=user, institution=joint_campus.lukio, role=Role.STAFF)
    return user


@pytest.fixture
def vocational_staff(joint_campus: JointCampus) -> User:
    user = make_user("voc.teacher", first_name="Ville", last_name="Virtanen")
    Membership.objects.create(user=user, institution=joint_campus.vocational, role=Role.STAFF)
    return user


@pytest.fixture
def fm_of_lukio(joint_campus: JointCampus) -> User:
    user = make_user("lukio.fm", first_name="Fanni", last_name="Manninen")
    Membership.objects.create(user=user, institution=joint_campus.lukio, role=Role.FACILITY_MANAGER)
    return user


@pytest.fixture
def campus_fm(joint_campus: JointCampus) -> User:
    user = make_user("campus.fm", first_name="Kalle", last_name="Kiinteistö")
    Membership.objects.create(user=user, campus=joint_campus.campus, role=Role.FACILITY_MANAGER)
    return user


@pytest.fixture
def lukio_admin(joint_campus: JointCampus) -> User:
    user = make_user("lukio.admin", first_name="Aino", last_name="Admin")
    Membership.objects.create(user=user, institution=joint_campus.lukio, role=Role.INSTITUTION_ADMIN)
    return user


@pytest.fixture
def front_desk(joint_campus: JointCampus) -> User:
    user = make_user("front.desk", first_name="Pirjo", last_name="Palvelu")
    Membership.objects.create(user=user, campus=joint_campus.campus, role=Role.FRONT_DESK)
    return user


@pytest.fixture
def vocational_room(joint_campus: JointCampus) -> Room:
    """A room of the vocational college in the lukio's building, so only its owner (not the building) differs."""
    return Room.objects.create(
        building=joint_campus.main_building,
        code="A301",
        name="Vocational classroom",
        capacity=20,
        owner=joint_campus.vocational,
    )


@pytest.fixture
def lukio_colleague(joint_campus: JointCampus) -> User:
    """A second teacher of the lukio, who sees what the lukio's teachers see."""
    user = make_user("lukio.colleague", first_name="Kaisa", last_name="Kollega")
    Membership.objects.create(user=user, institution=joint_campus.lukio, role=Role.STAFF)
    return user


@pytest.fixture
def substitute(joint_campus: JointCampus) -> User:
    """A substitute teacher at the lukio."""
    user = make_user("lukio.substitute", first_name="Sami", last_name="Sijainen")
    Membership.objects.create(user=user, institution=joint_campus.lukio, role=Role.STAFF)
    return user


@pytest.fixture
def adult_staff(joint_campus: JointCampus) -> User:
    user = make_user("adult.teacher", first_name="Outi", last_name="Opettaja")
    Membership.objects.create(user=user, institution=joint_campus.adult, role=Role.STAFF)
    return user


@pytest.fixture
def fm_of_vocational(joint_campus: JointCampus) -> User:
    user = make_user("voc.fm", first_name="Veikko", last_name="Valvoja")
    Membership.objects.create(user=user, institution=joint_campus.vocational, role=Role.FACILITY_MANAGER)
    return user


@pytest.fixture
def superuser(db) -> User:
    """A superuser with no membership, who may do everything everywhere."""
    return User.objects.create_superuser("root", "root@example.org", "pass-for-tests-1")


@pytest.fixture
def client_with_token() -> Callable[..., Client]:
    """Return a factory of Django test clients that send a fresh personal token for the user given.

    Keyword arguments are further request headers (``client_with_token(user, **{"Accept-Language": "en"})``).
    """

    def make(user: User, **headers: str) -> Client:
        _, raw = token_create(user=user, name="tests")
        return Client(headers={"Authorization": f"Bearer {raw}", **headers})

    return make


@pytest.fixture
def requests_for_classroom(joint_campus: JointCampus) -> None:
    """Other institutions only request the lukio's classroom; the lukio's facility managers decide."""
    BookingPolicy.objects.create(room=joint_campus.classroom, other_access=Access.REQUEST)


@pytest.fixture
def requests_for_auditorium(joint_campus: JointCampus) -> None:
    """Institutions only request the shared auditorium; the campus's facility managers decide."""
    BookingPolicy.objects.create(room=joint_campus.shared_auditorium, other_access=Access.REQUEST)


@pytest.fixture
def requests_needed(requests_for_classroom: None, requests_for_auditorium: None) -> None:
    """Other institutions request the lukio's classroom; every institution requests the shared auditorium."""


@pytest.fixture
def monday() -> dt.date:
    """A Monday in the future (next week's at the latest)."""
    return next_weekday_after(today(), MONDAY)


@pytest.fixture
def tuesday() -> dt.date:
    """A Tuesday ahead (next week's at the latest), when the main building is open 7–21."""
    return next_weekday_after(today(), TUESDAY)


@pytest.fixture
def day() -> dt.date:
    """A Tuesday two to three weeks ahead: inside every default window, outside any short notice."""
    return next_weekday_after(today() + dt.timedelta(days=14), TUESDAY)


@pytest.fixture
def physics(joint_campus: JointCampus, lukio_staff: User, day: dt.date) -> Booking:
    """The lukio teacher's physics lesson in the lab, 10–11 on ``day``."""
    return book(lukio_staff, joint_campus.lab, at(day, 10), at(day, 11), title="Physics").first


@pytest.fixture
def open_day(joint_campus: JointCampus, lukio_staff: User, day: dt.date) -> Booking:
    """A lukio teacher's public booking of the shared auditorium for a parents' association."""
    booking = book(
        lukio_staff,
        joint_campus.shared_auditorium,
        at(day, 10),
        at(day, 11),
        title="Open day",
        description="Everyone welcome",
        visibility=Visibility.PUBLIC,
        attendees=40,
        on_behalf_of_name="Maija Meikäläinen",
        on_behalf_of_contact="maija@example.org",
        on_behalf_of_organisation="Parents' association",
    ).first
    Booking.objects.filter(pk=booking.pk).update(decision_reason="Approved for the parents' evening")
    return booking


@pytest.fixture
def lukio_break(joint_campus: JointCampus, monday: dt.date) -> TermPeriod:
    """The upper-secondary school's break: the week after ``monday``, Monday to Friday."""
    first = monday + dt.timedelta(weeks=1)
    return TermPeriod.objects.create(
        institution=joint_campus.lukio,
        kind=TermKind.BREAK,
        name="Winter break",
        start=first,
        end=first + dt.timedelta(days=4),
    )


@pytest.fixture
def fake_metrics(monkeypatch):
    """Answer every report with the hand-built one of ``tests/utilisation/report_examples.py``, counting the calls."""
    from tests.utilisation.report_examples import FakeMetrics
    from utilisation import metrics

    fake = FakeMetrics()
    monkeypatch.setattr(metrics, "utilisation_report", fake.utilisation_report)
    monkeypatch.setattr(metrics, "heatmap", fake.heatmap)
    return fake


@pytest.fixture
def sync_jobs(monkeypatch, settings):
    """Run django-q2 tasks in the calling process, and background every report period over 120 days."""
    from django_q.conf import Conf

    monkeypatch.setattr(Conf, "SYNC", True)
    settings.KAMPUS_REPORT_SYNC_MAX_DAYS = 120
