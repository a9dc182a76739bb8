"""Members CSV of an institution: users, memberships, line-numbered errors and who may import."""

from __future__ import annotations

import datetime as dt
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from campus.exceptions import PermissionDenied
from campus.models import Membership, Role, User
from campus.room_import import CsvImportRefused
from campus.services import memberships_import_csv

GOOD_FILE = """username,email,first_name,last_name,role,valid_from,valid_until,language
maija.poppanen,maija@example.org,Maija,Poppanen,staff,2026-08-01,2027-05-31,fi
maija.poppanen,maija@example.org,Maija,Poppanen,front_desk,,,fi
erik.holm,erik@example.org,Erik,Holm,facility_manager,,,sv
lukio.teacher,,,,institution_admin,,,
"""


def test_good_file_creates_users_without_password_and_memberships(joint_campus, lukio_admin, lukio_staff):
    result = memberships_import_csv(institution=joint_campus.lukio, csv_text=GOOD_FILE, actor=lukio_admin)

    assert (result.created, result.updated, result.unchanged, result.users_created) == (4, 0, 0, 2)
    maija = User.objects.get(username="maija.poppanen")
    assert (maija.email, maija.first_name, maija.last_name, maija.preferred_language) == (
        "maija@example.org",
        "Maija",
        "Poppanen",
        "fi",
    )
    assert not maija.has_usable_password()
    staff = Membership.objects.get(user=maija, role=Role.STAFF)
    assert staff.institution == joint_campus.lukio
    assert (staff.valid_from, staff.valid_until) == (dt.date(2026, 8, 1), dt.date(2027, 5, 31))
    assert Membership.objects.filter(user=maija, role=Role.FRONT_DESK, institution=joint_campus.lukio).exists()
    erik = User.objects.get(username="erik.holm")
    assert erik.preferred_language == "sv"
    assert erik.is_staff, "facility managers work in the admin"
    assert Membership.objects.filter(user=lukio_staff, role=Role.INSTITUTION_ADMIN).exists()
    lukio_staff.refresh_from_db()
    assert lukio_staff.check_password("pass-for-tests-1"), "existing users keep their password"


def test_rerun_changes_only_what_the_file_changes(joint_campus, lukio_admin, lukio_staff):
    memberships_import_csv(institution=joint_campus.lukio, csv_text=GOOD_FILE, actor=lukio_admin)
    count = Membership.objects.count()

    again = memberships_import_csv(institution=joint_campus.lukio, csv_text=GOOD_FILE, actor=lukio_admin)
    assert (again.created, again.updated, again.unchanged, again.users_created) == (0, 0, 4, 0)

    extended = GOOD_FILE.replace("2026-08-01,2027-05-31", "2026-08-01,2027-07-31")
    changed = memberships_import_csv(institution=joint_campus.lukio, csv_text=extended, actor=lukio_admin)
    assert (changed.created, changed.updated, changed.unchanged) == (0, 1, 3)
    assert Membership.objects.count() == count
    assert Membership.objects.get(user__username="maija.poppanen", role=Role.STAFF).valid_until == dt.date(2027, 7, 31)


def test_finnish_excel_dates_and_semicolons_are_understood(joint_campus, lukio_admin):
    csv_text = (
        "\ufeffusername;email;role;valid_from;valid_until\r\nsijainen;s@example.org;staff;1.8.2026;31.12.2026\r\n"
    )

    memberships_import_csv(institution=joint_campus.lukio, csv_text=csv_text, actor=lukio_admin)

    membership = Membership.objects.get(user__username="sijainen")
    assert (membership.valid_from, membership.valid_until) == (dt.date(2026, 8, 1), dt.date(2026, 12, 31))


@pytest.mark.parametrize(
    ("row", "expected"),
    [
        pytest.param(
            "new.user,new@example.org,boss,,",
            'line 2: role: must be one of staff, front_desk, facility_manager, institution_admin (got "boss")',
            id="role",
        ),
        pytest.param(
            "new.user,new@example.org,staff,2026-02-30,",
            'line 2: valid_from: must be a date like 2025-08-01 (got "2026-02-30")',
            id="date",
        ),
        pytest.param(
            "new.user,new@example.org,staff,2026-08-01,2026-07-31",
            "line 2: valid_until: must not be before valid_from (2026-08-01)",
            id="dates-reversed",
        ),
        pytest.param(
            "new.user,,staff,,",
            "line 2: email: is required for a new user",
            id="email-of-new-user",
        ),
        pytest.param(
            "new user,new@example.org,staff,,",
            'line 2: username: may contain only letters, digits and @ . + - _ (got "new user")',
            id="username",
        ),
        pytest.param(
            "lukio.teacher,someone.else@example.org,staff,,",
            "line 2: email: user lukio.teacher already exists with another e-mail address",
            id="email-of-existing-user",
        ),
        pytest.param(
            "new.user,lukio.teacher@example.org,staff,,",
            "line 2: email: already belongs to another user",
            id="email-taken",
        ),
    ],
)
def test_bad_row_is_refused_with_line_and_reason_and_nothing_is_imported(
    joint_campus, lukio_admin, lukio_staff, row, expected
):
    csv_text = f"username,email,role,valid_from,valid_until\n{row}\nok.user,ok@example.org,staff,,\n"
    memberships_before = Membership.objects.count()

    with pytest.raises(CsvImportRefused) as refusal:
        memberships_import_csv(institution=joint_campus.lukio, csv_text=csv_text, actor=lukio_admin)

    first_error = str(refusal.value.row_errors[0])
    assert expected in first_error
    assert refusal.value.http_status == 422
    assert Membership.objects.count() == memberships_before
    assert not User.objects.filter(username__in=["ok.user", "new.user"]).exists()


def test_same_role_twice_in_the_file_is_an_error(joint_campus, lukio_admin):
    csv_text = "username,email,role\nnew.user,new@example.org,staff\nnew.user,new@example.org,staff\n"

    with pytest.raises(CsvImportRefused) as refusal:
        memberships_import_csv(institution=joint_campus.lukio, csv_text=csv_text, actor=lukio_admin)

    assert [str(error) for error in refusal.value.row_errors] == [
        "line 3: role: new.user already has this role on line 2"
    ]


def test_only_admins_of_the_institution_may_import(joint_campus, lukio_admin, lukio_staff, fm_of_lukio):
    for actor in (lukio_staff, fm_of_lukio):
        with pytest.raises(PermissionDenied):
            memberships_import_csv(institution=joint_campus.lukio, csv_text=GOOD_FILE, actor=actor)
    with pytest.raises(PermissionDenied):
        memberships_import_csv(institution=joint_campus.vocational, csv_text=GOOD_FILE, actor=lukio_admin)
    assert not User.objects.filter(username="maija.poppanen").exists()


def test_expired_institution_admin_is_refused_and_superuser_allowed(joint_campus, lukio_admin, lukio_staff, superuser):
    Membership.objects.filter(user=lukio_admin).update(valid_until=dt.date(2020, 1, 1))
    with pytest.raises(PermissionDenied):
        memberships_import_csv(institution=joint_campus.lukio, csv_text=GOOD_FILE, actor=lukio_admin)

    result = memberships_import_csv(institution=joint_campus.vocational, csv_text=GOOD_FILE, actor=superuser)
    assert result.created == 4


def test_command_imports_as_the_given_user(joint_campus, lukio_admin, lukio_staff, tmp_path):
    path = tmp_path / "members.csv"
    path.write_text(GOOD_FILE, encoding="utf-8")
    stdout = StringIO()

    call_command("import_members", str(path), "--institution", "lukio", "--as", "lukio.admin", stdout=stdout)

    assert "4 created, 0 updated, 0 unchanged; 2 new user(s)" in stdout.getvalue()
    with pytest.raises(CommandError, match="Only the admins"):
        call_command("import_members", str(path), "--institution", "ammatti", "--as", "lukio.admin")


def test_command_prints_every_error_and_fails(joint_campus, lukio_admin, tmp_path):
    path = tmp_path / "members.csv"
    path.write_text("username,email,role\na,a@example.org,boss\nb,,staff\n", encoding="utf-8")
    stderr = StringIO()

    with pytest.raises(CommandError, match="2 error"):
        call_command("import_members", str(path), "--institution", "lukio", "--as", "lukio.admin", stderr=stderr)

    assert stderr.getvalue().splitlines() == [
        'line 2: role: must be one of staff, front_desk, facility_manager, institution_admin (got "boss")',
        "line 3: email: is required for a new user (they set their password through password reset)",
    ]
