"""Database constraints of the campus model."""

import datetime as dt

import pytest
from django.db import IntegrityError, transaction

from campus.models import Membership, OpeningHours, Role, Room


def test_room_capacity_must_be_positive(joint_campus):
    with pytest.raises(IntegrityError), transaction.atomic():
        Room.objects.create(building=joint_campus.main_building, code="Z1", name="Zero", capacity=0)


def test_room_code_is_unique_within_its_building_only(joint_campus):
    Room.objects.create(building=joint_campus.workshop_building, code="A101", name="Same code elsewhere", capacity=5)
    with pytest.raises(IntegrityError), transaction.atomic():
        Room.objects.create(building=joint_campus.main_building, code="A101", name="Duplicate", capacity=5)


def test_opening_hours_must_open_before_closing(joint_campus):
    with pytest.raises(IntegrityError), transaction.atomic():
        OpeningHours.objects.create(
            building=joint_campus.main_building, weekday=6, opens=dt.time(18), closes=dt.time(8)
        )


def test_membership_is_at_an_institution_or_the_campus_never_both(joint_campus, lukio_staff):
    with pytest.raises(IntegrityError), transaction.atomic():
        Membership.objects.create(
            user=lukio_staff, institution=joint_campus.lukio, campus=joint_campus.campus, role=Role.FRONT_DESK
        )


def test_membership_validity_dates_are_ordered_and_filter_by_day(joint_campus, lukio_staff):
    with pytest.raises(IntegrityError), transaction.atomic():
        Membership.objects.create(
            user=lukio_staff,
            institution=joint_campus.vocational,
            role=Role.STAFF,
            valid_from=dt.date(2026, 3, 1),
            valid_until=dt.date(2026, 2, 1),
        )
    substitute = Membership.objects.create(
        user=lukio_staff,
        institution=joint_campus.vocational,
        role=Role.STAFF,
        valid_from=dt.date(2026, 2, 1),
        valid_until=dt.date(2026, 2, 28),
    )
    valid = Membership.objects.filter(institution=joint_campus.vocational)
    assert list(valid.valid_on(dt.date(2026, 2, 15))) == [substitute]
    assert not valid.valid_on(dt.date(2026, 3, 1)).exists()
    assert not valid.valid_on(dt.date(2026, 1, 31)).exists()
