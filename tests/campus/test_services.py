"""Campus services: granting and ending memberships, public holidays."""

from __future__ import annotations

import datetime as dt

import pytest

from campus.exceptions import InvalidInput, PermissionDenied
from campus.models import Holiday, Membership, Role, Room
from campus.services import campus_sync_holidays, membership_end, membership_grant, room_sections_set
from tests.conftest import make_user


def test_grant_creates_a_membership_and_regranting_updates_its_dates(joint_campus):
    user = make_user("new.teacher")

    first = membership_grant(user=user, role=Role.STAFF, institution=joint_campus.lukio)
    again = membership_grant(
        user=user,
        role=Role.STAFF,
        institution=joint_campus.lukio,
        valid_from=dt.date(2026, 8, 1),
        valid_until=dt.date(2026, 12, 31),
    )

    assert again.pk == first.pk
    assert Membership.objects.filter(user=user).count() == 1
    again.refresh_from_db()
    assert (again.valid_from, again.valid_until) == (dt.date(2026, 8, 1), dt.date(2026, 12, 31))
    user.refresh_from_db()
    assert not user.is_staff


@pytest.mark.parametrize("role", [Role.FACILITY_MANAGER, Role.INSTITUTION_ADMIN])
def test_grant_of_an_admin_role_lets_the_user_into_the_admin(joint_campus, role):
    user = make_user("new.manager")

    membership_grant(user=user, role=role, institution=joint_campus.vocational)

    user.refresh_from_db()
    assert user.is_staff


def test_grant_at_the_campus(joint_campus):
    user = make_user("desk")

    membership = membership_grant(user=user, role=Role.FRONT_DESK, campus=joint_campus.campus)

    assert (membership.campus, membership.institution) == (joint_campus.campus, None)


def test_grant_needs_exactly_one_place_ordered_dates_and_a_known_role(joint_campus):
    user = make_user("someone")

    with pytest.raises(InvalidInput):
        membership_grant(user=user, role=Role.STAFF)
    with pytest.raises(InvalidInput):
        membership_grant(user=user, role=Role.STAFF, institution=joint_campus.lukio, campus=joint_campus.campus)
    with pytest.raises(InvalidInput):
        membership_grant(
            user=user,
            role=Role.STAFF,
            institution=joint_campus.lukio,
            valid_from=dt.date(2026, 2, 1),
            valid_until=dt.date(2026, 1, 1),
        )
    with pytest.raises(InvalidInput):
        membership_grant(user=user, role="janitor", institution=joint_campus.lukio)
    assert not Membership.objects.filter(user=user).exists()


def test_end_makes_the_day_given_the_last_valid_day(joint_campus, lukio_staff):
    membership = Membership.objects.get(user=lukio_staff)

    membership_end(membership=membership, on=dt.date(2026, 6, 30))

    membership.refresh_from_db()
    assert membership.valid_until == dt.date(2026, 6, 30)
    assert membership.is_valid_on(dt.date(2026, 6, 30))
    assert not membership.is_valid_on(dt.date(2026, 7, 1))


def test_end_never_extends_a_membership(joint_campus, lukio_staff):
    membership = Membership.objects.get(user=lukio_staff)
    membership.valid_until = dt.date(2026, 3, 31)
    membership.save()

    membership_end(membership=membership, on=dt.date(2026, 6, 30))

    membership.refresh_from_db()
    assert membership.valid_until == dt.date(2026, 3, 31)


def test_end_before_the_start_is_refused(joint_campus, lukio_staff):
    membership = Membership.objects.get(user=lukio_staff)
    membership.valid_from = dt.date(2026, 8, 1)
    membership.save()

    with pytest.raises(InvalidInput, match="delete it"):
        membership_end(membership=membership, on=dt.date(2026, 7, 1))


def test_sync_holidays_stores_finnish_public_holidays_once(joint_campus):
    campus = joint_campus.campus
    Holiday.objects.create(campus=campus, date=dt.date(2026, 10, 19), name="Syyslomapäivä")

    result = campus_sync_holidays(campus=campus, years=[2026, 2027])
    again = campus_sync_holidays(campus=campus, years=[2026, 2027])

    assert result.created > 20
    assert (again.created, again.updated, again.unchanged) == (0, 0, result.created)
    independence_day = Holiday.objects.get(campus=campus, date=dt.date(2026, 12, 6))
    assert (independence_day.name_fi, independence_day.name_sv, independence_day.name_en) == (
        "Itsenäisyyspäivä",
        "Självständighetsdagen",
        "Independence Day",
    )
    assert Holiday.objects.filter(campus=campus, date=dt.date(2027, 12, 6)).exists()
    assert Holiday.objects.filter(campus=campus, date=dt.date(2026, 10, 19)).exists(), "closing days stay"


def test_sync_holidays_corrects_names_unless_told_to_keep_them(joint_campus):
    campus = joint_campus.campus
    campus_sync_holidays(campus=campus, years=[2026])
    Holiday.objects.filter(campus=campus, date=dt.date(2026, 12, 6)).update(name_fi="Itsenäisyys", name_sv=None)

    kept = campus_sync_holidays(campus=campus, years=[2026], keep_names=True)
    holiday = Holiday.objects.get(campus=campus, date=dt.date(2026, 12, 6))
    assert (holiday.name_fi, holiday.name_sv) == ("Itsenäisyys", "Självständighetsdagen"), "only the empty one"
    assert kept.updated == 1

    campus_sync_holidays(campus=campus, years=[2026])
    assert Holiday.objects.get(campus=campus, date=dt.date(2026, 12, 6)).name_fi == "Itsenäisyyspäivä"


def test_sync_holidays_names_a_country_without_finnish_in_its_own_language(joint_campus):
    campus = joint_campus.campus
    campus.holiday_country = "DE"
    campus.save()

    campus_sync_holidays(campus=campus, years=[2026])

    unity_day = Holiday.objects.get(campus=campus, date=dt.date(2026, 10, 3))
    assert unity_day.name_fi == "Tag der Deutschen Einheit"
    assert unity_day.name_en == "German Unity Day"


def test_sync_holidays_does_nothing_without_a_holiday_calendar(joint_campus):
    campus = joint_campus.campus
    campus.holiday_country = ""
    campus.save()

    result = campus_sync_holidays(campus=campus, years=[2026])

    assert result.total == 0
    assert not Holiday.objects.filter(campus=campus).exists()


def test_sync_holidays_refuses_an_unknown_country(joint_campus):
    campus = joint_campus.campus
    campus.holiday_country = "XX"
    campus.save()

    with pytest.raises(InvalidInput, match="XX"):
        campus_sync_holidays(campus=campus, years=[2026])


# --- Sections of a divisible room ---------------------------------------------------------------


def test_sections_set_refuses_a_room_the_actor_does_not_manage(joint_campus, fm_of_lukio, vocational_room):
    for foreign in (vocational_room, joint_campus.shared_auditorium):
        with pytest.raises(PermissionDenied) as refused:
            room_sections_set(room=joint_campus.classroom, sections=[joint_campus.lab, foreign], actor=fm_of_lukio)
        assert str(foreign) in refused.value.message

    assert not joint_campus.classroom.sections.exists()


def test_sections_set_keeps_a_section_set_by_the_campus_and_adds_own_rooms(joint_campus, fm_of_lukio, campus_fm):
    room_sections_set(room=joint_campus.classroom, sections=[joint_campus.shared_auditorium], actor=campus_fm)

    room_sections_set(
        room=joint_campus.classroom, sections=[joint_campus.shared_auditorium, joint_campus.lab], actor=fm_of_lukio
    )

    assert set(joint_campus.classroom.sections.all()) == {joint_campus.shared_auditorium, joint_campus.lab}


def test_sections_set_refuses_another_building_itself_and_a_divided_room(joint_campus, campus_fm):
    other_building = Room.objects.create(building=joint_campus.workshop_building, code="B1", name="B1", capacity=5)
    joint_campus.lab.sections.set([Room.objects.create(building=joint_campus.main_building, code="A2", capacity=5)])

    for sections in ([other_building], [joint_campus.classroom], [joint_campus.lab]):
        with pytest.raises(InvalidInput) as refused:
            room_sections_set(room=joint_campus.classroom, sections=sections, actor=campus_fm)
        assert refused.value.extra["errors"][0]["field"] == "sections"
    assert not joint_campus.classroom.sections.exists()
