"""Who may read which utilisation report."""

from __future__ import annotations

import datetime as dt

import pytest

from campus.exceptions import PermissionDenied
from campus.models import Membership, Role
from tests.conftest import make_user
from utilisation.permissions import report_access, require_report_access


def test_campus_facility_managers_and_superusers_see_the_whole_campus(joint_campus, campus_fm, superuser):
    for user in (campus_fm, superuser):
        require_report_access(user, campus=joint_campus.campus)
        require_report_access(user, campus=joint_campus.campus, building=joint_campus.main_building)
        require_report_access(user, campus=joint_campus.campus, institution=joint_campus.vocational)
        assert report_access(user, joint_campus.campus).whole_campus


def test_an_institution_admin_sees_their_own_institution_and_its_rooms_only(joint_campus, lukio_admin):
    jc = joint_campus
    require_report_access(lukio_admin, campus=jc.campus, institution=jc.lukio)
    require_report_access(lukio_admin, campus=jc.campus, room=jc.classroom)

    with pytest.raises(PermissionDenied):
        require_report_access(lukio_admin, campus=jc.campus, institution=jc.vocational)
    with pytest.raises(PermissionDenied):
        require_report_access(lukio_admin, campus=jc.campus, room=jc.shared_auditorium)
    with pytest.raises(PermissionDenied):
        require_report_access(lukio_admin, campus=jc.campus)
    with pytest.raises(PermissionDenied):
        require_report_access(lukio_admin, campus=jc.campus, building=jc.main_building)


def test_an_institution_s_facility_manager_sees_its_rooms(joint_campus, fm_of_lukio, fm_of_vocational):
    jc = joint_campus
    require_report_access(fm_of_lukio, campus=jc.campus, room=jc.lab)
    with pytest.raises(PermissionDenied):
        require_report_access(fm_of_vocational, campus=jc.campus, room=jc.lab)


def test_staff_front_desk_and_anonymous_see_nothing(joint_campus, lukio_staff, front_desk):
    from django.contrib.auth.models import AnonymousUser

    for user in (lukio_staff, front_desk, AnonymousUser()):
        assert not report_access(user, joint_campus.campus).may_view
        with pytest.raises(PermissionDenied):
            require_report_access(user, campus=joint_campus.campus, institution=joint_campus.lukio)


def test_an_expired_membership_gives_nothing(joint_campus):
    former = make_user("former.admin")
    Membership.objects.create(
        user=former,
        institution=joint_campus.lukio,
        role=Role.INSTITUTION_ADMIN,
        valid_until=dt.date.today() - dt.timedelta(days=2),
    )
    with pytest.raises(PermissionDenied):
        require_report_access(former, campus=joint_campus.campus, institution=joint_campus.lukio)
