"""Reference data speaks the reader's language: equipment, room kinds, holidays, exception and closure reasons."""

from __future__ import annotations

import datetime as dt
import importlib

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.test import Client
from django.urls import reverse

from bookings import services
from bookings.models import Closure
from campus.models import Equipment, Holiday, OpeningHoursException, User
from tests.bookings.conftest import at


@pytest.fixture
def translated(joint_campus, tuesday):
    return translate_reference_data(joint_campus, tuesday)


def translate_reference_data(joint_campus, tuesday: dt.date):
    """Give the projector, a holiday on Thursday and an exception on Wednesday names in fi, sv and en."""
    Equipment.objects.filter(pk=joint_campus.projector.pk).update(
        name_fi="Videoprojektori", name_sv="Videoprojektor", name_en="Projector"
    )
    # Sinks have only a Finnish name: every language falls back to it.
    Equipment.objects.filter(pk=joint_campus.sinks.pk).update(name_fi="Vesipisteet", name_sv=None, name_en="")
    joint_campus.classroom.equipment.add(joint_campus.sinks)
    Holiday.objects.create(
        campus=joint_campus.campus,
        date=tuesday + dt.timedelta(days=2),
        name_fi="Helatorstai",
        name_sv="Kristi himmelfärdsdag",
        name_en="Ascension Day",
    )
    OpeningHoursException.objects.create(
        building=joint_campus.main_building,
        date=tuesday + dt.timedelta(days=1),
        closed=True,
        reason_fi="Ilmanvaihdon huolto",
        reason_sv="Service av ventilationen",
        reason_en="Ventilation maintenance",
    )
    return joint_campus


def room_page(user: User, language: str, room, week: dt.date) -> str:
    user.preferred_language = language
    user.save(update_fields=["preferred_language"])
    client = Client()
    client.force_login(user)
    response = client.get(reverse("bookings:room-detail", args=[room.pk]), {"week": week.isoformat()})
    assert response.status_code == 200
    return response.content.decode()


@pytest.mark.parametrize(
    ("language", "projector", "kind", "holiday", "reason"),
    [
        ("fi", "Videoprojektori", "Luokkahuone", "Helatorstai", "Ilmanvaihdon huolto"),
        ("sv", "Videoprojektor", "Klassrum", "Kristi himmelfärdsdag", "Service av ventilationen"),
        ("en", "Projector", "Classroom", "Ascension Day", "Ventilation maintenance"),
    ],
)
def test_the_room_page_names_equipment_kind_holidays_and_closed_days_in_the_readers_language(
    translated, lukio_staff, tuesday, language, projector, kind, holiday, reason
):
    html = room_page(lukio_staff, language, translated.classroom, tuesday)

    assert projector in html
    assert kind in html
    assert holiday in html
    assert reason in html
    others = {"fi": "Videoprojektori", "sv": "Videoprojektor<", "en": "Projector<"}
    assert not any(name in html for lang, name in others.items() if lang != language)


@pytest.mark.parametrize("language", ["sv", "en"])
def test_an_empty_translation_falls_back_to_finnish(translated, lukio_staff, tuesday, language):
    html = room_page(lukio_staff, language, translated.classroom, tuesday)

    assert "Vesipisteet" in html


def test_a_name_given_only_in_swedish_is_shown_in_every_language(joint_campus, lukio_staff, tuesday):
    Equipment.objects.filter(pk=joint_campus.projector.pk).update(name_fi=None, name_sv="Videoprojektor", name_en=None)

    assert "Videoprojektor" in room_page(lukio_staff, "fi", joint_campus.classroom, tuesday)
    assert "Videoprojektor" in room_page(lukio_staff, "en", joint_campus.classroom, tuesday)


def test_a_closure_reason_is_shown_in_the_readers_language_or_as_typed(joint_campus, campus_fm, tuesday):
    room = joint_campus.shared_auditorium
    closure, _affected = services.closure_create(
        actor=campus_fm, room=room, start=at(tuesday, 8), end=at(tuesday, 12), reason="Lattian hionta"
    )
    campus_fm.preferred_language = "sv"
    campus_fm.save(update_fields=["preferred_language"])
    client = Client()
    client.force_login(campus_fm)
    url = reverse("manage:closure-detail", args=[closure.pk])

    assert "Lattian hionta" in client.get(url).content.decode(), "no Swedish reason yet: the one typed"

    Closure.objects.filter(pk=closure.pk).update(reason_sv="Golvslipning")
    assert "Golvslipning" in client.get(url).content.decode()


def test_the_admin_edits_a_name_per_language(joint_campus, superuser):
    client = Client(headers={"accept-language": "en"})
    client.force_login(superuser)

    equipment_page = client.get(reverse("admin:campus_equipment_change", args=[joint_campus.projector.pk]))
    campus_page = client.get(reverse("admin:campus_campus_change", args=[joint_campus.campus.pk]))
    building_page = client.get(reverse("admin:campus_building_change", args=[joint_campus.main_building.pk]))

    for language in ("fi", "sv", "en"):
        assert f'name="name_{language}"' in equipment_page.content.decode()
        assert f'name="holidays-__prefix__-name_{language}"' in campus_page.content.decode()
        assert f'name="opening_exceptions-__prefix__-reason_{language}"' in building_page.content.decode()


def test_the_migration_copies_stored_names_into_finnish(db):
    migration = importlib.import_module("campus.migrations.0003_reference_data_translations")
    state = MigrationExecutor(connection).loader.project_state(("campus", "0003_reference_data_translations"))
    historical = state.apps.get_model("campus", "Equipment")
    item = historical.objects.create(code="piano", name="Piano", name_fi=None, name_sv="Flygel")

    migration.copy_into_finnish(state.apps, None)

    item.refresh_from_db()
    assert (item.name_fi, item.name_sv) == ("Piano", "Flygel")
