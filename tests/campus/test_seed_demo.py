"""The demo campus: realistic, complete for every role, and idempotent."""

from __future__ import annotations

import datetime as dt
import re
from io import StringIO
from pathlib import Path

import pytest
from django.apps import apps
from django.contrib.auth import authenticate
from django.core.management import call_command
from django.db import connection
from django.db.models import Q
from django.utils import timezone, translation

from campus.demo import CAMPUS_NAME, DEMO_PASSWORD
from campus.models import (
    Building,
    Campus,
    Equipment,
    Holiday,
    Institution,
    Membership,
    OpeningHours,
    OpeningHoursException,
    Role,
    Room,
    RoomKind,
    User,
)

DEMO_DOC = Path(__file__).resolve().parents[2] / "docs" / "demo.md"


def seed(*options: str) -> str:
    stdout = StringIO()
    call_command("seed_demo", *options, stdout=stdout)
    return stdout.getvalue()


@pytest.fixture
def seeded(db) -> str:
    """The demo without the past weeks' readings (tests/utilisation/test_demo_story.py covers those)."""
    return seed("--no-history")


@pytest.fixture
def seeded_in_full(db) -> str:
    return seed()


def model_counts() -> dict[str, int]:
    """Return the row count of every model whose table exists (other apps' models may be unmigrated yet)."""
    tables = set(connection.introspection.table_names())
    return {
        model._meta.label: model._default_manager.count()
        for model in apps.get_models(include_auto_created=True)
        if model._meta.db_table in tables
    }


def test_demo_campus_has_institutions_buildings_and_many_rooms(seeded):
    campus = Campus.objects.get(name=CAMPUS_NAME)
    assert campus.time_zone == "Europe/Helsinki"
    assert "Tampere" in campus.address
    assert set(Institution.objects.filter(campus=campus).values_list("short_code", flat=True)) == {
        "lukio",
        "ammatti",
        "opisto",
    }
    assert all(institution.cost_centre for institution in Institution.objects.all())
    assert Building.objects.filter(campus=campus).count() == 3
    rooms = Room.objects.filter(building__campus=campus)
    assert rooms.count() >= 60
    assert set(rooms.values_list("kind", flat=True)) == set(RoomKind.values)
    assert rooms.filter(owner__isnull=True).count() >= 5
    for institution in Institution.objects.all():
        assert rooms.filter(owner=institution).count() >= 5
    assert rooms.get(kind=RoomKind.AUDITORIUM).capacity == 200
    assert rooms.filter(step_free=False).exists()
    assert rooms.filter(induction_loop=True).exists()
    assert rooms.filter(equipment__code="lathe").exists()
    assert rooms.filter(equipment__code="fume-hood").exists()


def test_sports_hall_and_classroom_pair_are_divisible(seeded):
    hall = Room.objects.get(name="Liikuntasali koko")
    assert hall.kind == RoomKind.GYM
    assert hall.sections.count() == 3
    assert {section.kind for section in hall.sections.all()} == {RoomKind.GYM}
    pair = Room.objects.get(code="A210-211")
    assert set(pair.sections.values_list("code", flat=True)) == {"A210", "A211"}


def test_opening_hours_and_exceptions(seeded):
    main, workshops, sports = (Building.objects.get(code=code) for code in "ABC")
    assert main.opening_hours.get(weekday=0).closes == dt.time(21, 30)
    assert main.opening_hours.get(weekday=5).opens == dt.time(9)
    assert not main.opening_hours.filter(weekday=6).exists()
    assert workshops.opening_hours.count() == 5
    assert sports.opening_hours.get(weekday=6).closes == dt.time(18)
    assert OpeningHoursException.objects.filter(closed=True).exists()
    assert OpeningHoursException.objects.filter(closed=False).exists()
    assert OpeningHours.objects.filter(building__campus__name=CAMPUS_NAME).count() == 6 + 5 + 7


def test_public_holidays_for_this_and_the_next_two_years(seeded):
    campus = Campus.objects.get(name=CAMPUS_NAME)
    year = timezone.localdate(timezone=campus.zone).year
    for offset in range(3):
        independence_day = Holiday.objects.get(campus=campus, date=dt.date(year + offset, 12, 6))
        assert independence_day.name_fi == "Itsenäisyyspäivä"
        assert independence_day.name_sv == "Självständighetsdagen"
        assert independence_day.name_en == "Independence Day"
    assert Holiday.objects.filter(campus=campus, date__year=year).count() >= 13


def test_every_role_exists_at_institutions_and_the_campus(seeded):
    at_institutions = set(Membership.objects.filter(institution__isnull=False).values_list("role", flat=True))
    at_campus = set(Membership.objects.filter(campus__isnull=False).values_list("role", flat=True))
    assert at_institutions == set(Role.values)
    assert at_campus == {Role.FACILITY_MANAGER, Role.FRONT_DESK}
    for institution in Institution.objects.all():
        roles = set(institution.memberships.values_list("role", flat=True))
        assert {Role.STAFF, Role.FACILITY_MANAGER, Role.INSTITUTION_ADMIN} <= roles
    assert Membership.objects.filter(institution__short_code="lukio", role=Role.STAFF).count() >= 2


def test_admin_roles_are_staff_users_and_everyone_signs_in_with_the_demo_password(seeded):
    for membership in Membership.objects.filter(role__in=[Role.FACILITY_MANAGER, Role.INSTITUTION_ADMIN]):
        assert membership.user.is_staff, membership.user.username
    admin = User.objects.get(username="admin")
    assert admin.is_superuser
    assert admin.is_staff
    for user in User.objects.all():
        assert authenticate(username=user.username, password=DEMO_PASSWORD) == user, user.username


def test_substitute_teacher_is_a_member_for_a_limited_time(seeded):
    campus = Campus.objects.get(name=CAMPUS_NAME)
    today = timezone.localdate(timezone=campus.zone)
    membership = Membership.objects.get(user__username="lukio.sijainen")
    assert membership.valid_from == today - dt.timedelta(days=7)
    assert membership.valid_until == today + dt.timedelta(days=60)
    assert not membership.is_valid_on(today + dt.timedelta(days=61))


def test_command_prints_a_table_of_logins(seeded):
    assert "username" in seeded
    for username in User.objects.values_list("username", flat=True):
        assert re.search(rf"^{re.escape(username)}\s+{DEMO_PASSWORD}\s", seeded, re.MULTILINE), username


def test_docs_list_every_demo_login(seeded):
    documented = DEMO_DOC.read_text(encoding="utf-8")
    for username in User.objects.values_list("username", flat=True):
        assert f"`{username}`" in documented, username


def test_running_twice_changes_nothing(seeded_in_full):
    counts = model_counts()
    password_hashes = dict(User.objects.values_list("username", "password"))

    output = seed()

    assert model_counts() == counts
    assert dict(User.objects.values_list("username", "password")) == password_hashes
    assert "0 created, 0 updated" in output
    assert counts["sensors.Reading"] > 0
    assert counts["utilisation.RoomSlot"] > 0
    assert "0 readings stored" in output


def database_rows() -> dict[str, list[dict]]:
    """Return every row of every migrated table, so that any change between two calls shows."""
    tables = set(connection.introspection.table_names())
    return {
        model._meta.label: list(model._default_manager.order_by("pk").values())
        for model in apps.get_models(include_auto_created=True)
        if model._meta.db_table in tables
    }


def test_running_again_keeps_what_people_changed(seeded_in_full):
    from bookings.models import Booking, BookingPolicy

    user = User.objects.get(username="lukio.opettaja")
    user.preferred_language = "sv"
    user.first_name = "Laura-Maria"
    user.set_password("my-own-password-1")
    user.save()
    Room.objects.filter(code="A101").update(name="Matematiikan luokka")
    booking = Booking.objects.order_by("pk").first()
    Booking.objects.filter(pk=booking.pk).update(title="Siirretty oppitunti")
    main = Building.objects.get(code="A")
    Building.objects.filter(pk=main.pk).update(name="Vanha päärakennus")
    OpeningHours.objects.filter(building=main, weekday=5).delete()
    OpeningHoursException.objects.filter(building=main).update(closed=True, opens=None, closes=None)
    Institution.objects.filter(short_code="lukio").update(cost_centre="KP-9999")
    Campus.objects.filter(name=CAMPUS_NAME).update(address="Uusi osoite 5")
    Membership.objects.filter(user__username="lukio.sijainen").update(valid_until=dt.date(2030, 1, 1))
    Membership.objects.filter(user__username="opisto.neuvonta").delete()
    BookingPolicy.objects.filter(room__code="A301").update(other_access="book")
    Holiday.objects.filter(date__month=12, date__day=6).update(name_fi="Suomen itsenäisyyspäivä")
    before = database_rows()

    seed()

    after = database_rows()
    changed = [label for label in before if before[label] != after[label]]
    assert changed == [], f"seed_demo changed rows of {changed}"


def test_output_is_english_whatever_the_active_language(seeded):
    outputs = {}
    for language in ("fi", "sv", "en"):
        with translation.override(language):
            outputs[language] = seed("--no-history")

    assert outputs["fi"] == outputs["sv"] == outputs["en"]
    assert "Facility manager" in outputs["fi"]
    assert "unchanged" in outputs["fi"]


def test_reference_data_has_finnish_swedish_and_english_names(seeded):
    from bookings.models import Closure

    projector = Equipment.objects.get(code="projector")
    assert (projector.name_fi, projector.name_sv, projector.name_en) == (
        "Videoprojektori",
        "Videoprojektor",
        "Projector",
    )
    assert not Equipment.objects.filter(Q(name_fi=None) | Q(name_sv=None) | Q(name_en=None)).exists()
    assert not OpeningHoursException.objects.filter(Q(reason_sv=None) | Q(reason_en=None)).exists()
    assert not Holiday.objects.filter(Q(name_sv=None) | Q(name_en=None)).exists()
    closure = Closure.objects.get()
    assert (closure.reason_fi, closure.reason_sv, closure.reason_en) == (
        "Verkkoremontti",
        "Nätverksrenovering",
        "Network renovation",
    )


def test_running_again_fills_in_missing_translations_only(seeded):
    Equipment.objects.filter(code="projector").update(name_sv=None, name_fi="Dataprojektori")

    seed("--no-history")

    projector = Equipment.objects.get(code="projector")
    assert (projector.name_fi, projector.name_sv) == ("Dataprojektori", "Videoprojektor")
