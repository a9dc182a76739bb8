"""Room inventory import: the CSV checks, the all-or-nothing write and the command around them."""

from __future__ import annotations

from decimal import Decimal
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from campus.models import Room, RoomKind
from campus.room_import import CsvImportRefused, RoomRow, room_rows_parse
from campus.services import rooms_import

HEADER = "building,code,name,kind,capacity,floor,area_m2,equipment,step_free,owner,sections,description"
GOOD_FILE = f"""{HEADER}
A,A110,Classroom 110,classroom,28,1,56.5,projector,yes,opisto,,
A,A111,Classroom 111,classroom,28,1,,projector|sinks,no,,,
A,A110-111,Classrooms 110 and 111,classroom,56,1,,projector,yes,opisto,A110|A111,Movable wall open
B,B100,Metal workshop,workshop,16,,,sinks,1,ammatti,,"Safety shoes, always"
"""


def write(tmp_path: Path, text: str, *, name: str = "rooms.csv", encoding: str = "utf-8") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding=encoding)
    return path


def import_rooms(path: Path, *args: str) -> tuple[str, str]:
    stdout, stderr = StringIO(), StringIO()
    call_command("import_rooms", str(path), *args, stdout=stdout, stderr=stderr)
    return stdout.getvalue(), stderr.getvalue()


def refused(path: Path) -> str:
    """Run the import expecting refusal; return what it printed to stderr."""
    stderr = StringIO()
    with pytest.raises(CommandError, match="nothing was imported"):
        call_command("import_rooms", str(path), stdout=StringIO(), stderr=stderr)
    return stderr.getvalue()


def test_good_file_imports_rooms_with_equipment_owner_and_sections(joint_campus, tmp_path):
    stdout, _ = import_rooms(write(tmp_path, GOOD_FILE))

    assert "4 created, 0 updated, 0 unchanged" in stdout
    a110 = Room.objects.get(building=joint_campus.main_building, code="A110")
    assert (a110.name, a110.kind, a110.capacity, a110.floor) == ("Classroom 110", RoomKind.CLASSROOM, 28, 1)
    assert a110.area_m2 == Decimal("56.5")
    assert a110.step_free is True
    assert a110.owner == joint_campus.adult
    assert list(a110.equipment.values_list("code", flat=True)) == ["projector"]
    a111 = Room.objects.get(building=joint_campus.main_building, code="A111")
    assert a111.owner is None
    assert a111.step_free is False
    assert set(a111.equipment.values_list("code", flat=True)) == {"projector", "sinks"}
    combined = Room.objects.get(building=joint_campus.main_building, code="A110-111")
    assert set(combined.sections.values_list("code", flat=True)) == {"A110", "A111"}
    assert combined.description == "Movable wall open"
    workshop = Room.objects.get(building=joint_campus.workshop_building, code="B100")
    assert workshop.owner == joint_campus.vocational
    assert workshop.floor == 1
    assert workshop.is_bookable is True
    assert workshop.public_feed is False
    assert workshop.buffer_minutes == 0
    assert workshop.description == "Safety shoes, always"


def test_sections_may_name_rooms_already_stored_or_later_in_the_file(joint_campus, tmp_path):
    path = write(
        tmp_path,
        "building,code,name,kind,capacity,sections\n"
        "A,A-ALL,Whole floor,classroom,80,A101|A120\n"
        "A,A120,Classroom 120,classroom,30,\n",
    )
    import_rooms(path)

    whole = Room.objects.get(code="A-ALL")
    assert set(whole.sections.values_list("code", flat=True)) == {"A101", "A120"}


@pytest.mark.parametrize(
    ("rows", "expected"),
    [
        pytest.param("Z,R1,Room,classroom,10,,,", 'line 2: building: no building "Z" on this campus', id="building"),
        pytest.param("A,R1,Room,ballroom,10,,,", "line 2: kind: must be one of classroom, lab, workshop", id="kind"),
        pytest.param(
            "A,R1,Room,classroom,0,,,",
            'line 2: capacity: must be a whole number greater than 0 (got "0")',
            id="capacity-zero",
        ),
        pytest.param(
            "A,R1,Room,classroom,-5,,,",
            'line 2: capacity: must be a whole number greater than 0 (got "-5")',
            id="capacity-negative",
        ),
        pytest.param(
            "A,R1,Room,classroom,abc,,,",
            'line 2: capacity: must be a whole number greater than 0 (got "abc")',
            id="capacity-not-a-number",
        ),
        pytest.param(
            "A,R1,Room,classroom,10,projector|beamer,,",
            'line 2: equipment: unknown equipment code(s) "beamer"; known codes are projector, sinks',
            id="equipment",
        ),
        pytest.param(
            "A,R1,Room,classroom,10,,yliopisto,",
            'line 2: owner: no institution "yliopisto" on this campus; known codes are ammatti, lukio, opisto',
            id="owner",
        ),
        pytest.param(
            "A,R1,Room,classroom,10,,,maybe",
            'line 2: step_free: must be yes or no (also true/false, 1/0, kyllä/ei) (got "maybe")',
            id="boolean",
        ),
        pytest.param(
            "A,R1,Room,classroom,10,,,\nA,R1,Room again,classroom,12,,,",
            'line 3: code: room "R1" of building A is already on line 2',
            id="duplicate-code",
        ),
        pytest.param(
            "A,R1,,classroom,10,,,",
            "line 2: name: is required",
            id="name-missing",
        ),
    ],
)
def test_bad_row_is_reported_with_line_and_reason_and_nothing_is_imported(joint_campus, tmp_path, rows, expected):
    rooms_before = Room.objects.count()
    path = write(tmp_path, "building,code,name,kind,capacity,equipment,owner,step_free\n" + rows + "\n")

    assert expected in refused(path)
    assert Room.objects.count() == rooms_before


def test_unknown_section_is_reported(joint_campus, tmp_path):
    path = write(tmp_path, "building,code,name,kind,capacity,sections\nA,HALL,Hall,gym,60,A101|A999\n")

    assert 'line 2: sections: no room "A999" in building A, neither in this file nor stored' in refused(path)
    assert not Room.objects.filter(code="HALL").exists()


def test_a_combined_room_cannot_be_a_section_or_its_own(joint_campus, tmp_path):
    path = write(
        tmp_path,
        "building,code,name,kind,capacity,sections\n"
        "A,PAIR,Pair,classroom,50,A101|A201\n"
        "A,ALL,All,classroom,90,PAIR|A001\n"
        "A,SELF,Self,classroom,10,SELF\n",
    )

    errors = refused(path)
    assert 'line 3: sections: "PAIR" is itself combined from sections (line 2)' in errors
    assert "line 4: sections: a room cannot be a section of itself" in errors


def test_missing_required_column_in_header_is_an_error_on_line_1(joint_campus, tmp_path):
    path = write(tmp_path, "building,code,name,capacity\nA,R1,Room,10\n")

    assert "line 1: required column(s) missing: kind" in refused(path)


def test_unknown_column_in_header_is_an_error_on_line_1(joint_campus, tmp_path):
    path = write(tmp_path, "building,code,name,kind,capacity,capasity\nA,R1,Room,classroom,10,10\n")

    assert "line 1: capasity: unknown column" in refused(path)


def test_every_error_of_the_file_is_reported_with_the_line_an_editor_shows(joint_campus, tmp_path):
    path = write(
        tmp_path,
        "building,code,name,kind,capacity,description\n"
        "A,R1,Good,classroom,10,\n"
        "\n"
        'A,R2,Bad,classroom,0,"two\nlines"\n'
        "A,R3,Also bad,hall,5,\n",
    )

    errors = refused(path).splitlines()
    assert errors == [
        'line 4: capacity: must be a whole number greater than 0 (got "0")',
        'line 6: kind: must be one of classroom, lab, workshop, auditorium, gym, meeting, other (got "hall")',
    ]
    assert not Room.objects.filter(code__in=["R1", "R2", "R3"]).exists()


def test_rerun_updates_rooms_instead_of_duplicating(joint_campus, tmp_path):
    import_rooms(write(tmp_path, GOOD_FILE))
    rooms_before = Room.objects.count()

    stdout, _ = import_rooms(write(tmp_path, GOOD_FILE))
    assert "0 created, 0 updated, 4 unchanged" in stdout

    changed = GOOD_FILE.replace("A,A111,Classroom 111,classroom,28", "A,A111,Classroom 111,classroom,30")
    changed = changed.replace("A110|A111,Movable wall open", "A110,Movable wall open")
    stdout, _ = import_rooms(write(tmp_path, changed))
    assert "0 created, 2 updated, 2 unchanged" in stdout
    assert Room.objects.count() == rooms_before
    assert Room.objects.get(code="A111").capacity == 30
    assert list(Room.objects.get(code="A110-111").sections.values_list("code", flat=True)) == ["A110"]


def test_columns_missing_from_the_file_keep_stored_values(joint_campus, tmp_path):
    path = write(tmp_path, "building,code,name,kind,capacity\nA,A101,Classroom 101,classroom,34\n")

    stdout, _ = import_rooms(path)

    assert "0 created, 1 updated, 0 unchanged" in stdout
    room = Room.objects.get(pk=joint_campus.classroom.pk)
    assert room.capacity == 34
    assert room.owner == joint_campus.lukio
    assert room.step_free is True
    assert list(room.equipment.all()) == [joint_campus.projector]


def test_semicolon_file_with_comma_decimals_and_bom_from_finnish_excel(joint_campus, tmp_path):
    path = write(
        tmp_path,
        "building;code;name;kind;capacity;area_m2;step_free;induction_loop;bookable;public_feed;buffer_minutes\r\n"
        "A;A140;Luokka 140;classroom;24;48,5;kyllä;ei;kyllä;ei;10\r\n"
        "B;B120;Opetuskeittiö;workshop;16;1 120,25;EI;Kyllä;0;1;30\r\n",
        encoding="utf-8-sig",
    )

    stdout, _ = import_rooms(path)

    assert "2 created" in stdout
    classroom = Room.objects.get(code="A140")
    assert classroom.area_m2 == Decimal("48.5")
    assert (classroom.step_free, classroom.induction_loop, classroom.is_bookable, classroom.public_feed) == (
        True,
        False,
        True,
        False,
    )
    assert classroom.buffer_minutes == 10
    kitchen = Room.objects.get(code="B120")
    assert kitchen.name == "Opetuskeittiö"
    assert kitchen.area_m2 == Decimal("1120.3")
    assert (kitchen.step_free, kitchen.induction_loop, kitchen.is_bookable, kitchen.public_feed) == (
        False,
        True,
        False,
        True,
    )


def test_dry_run_reports_counts_and_saves_nothing(joint_campus, tmp_path):
    stdout, _ = import_rooms(write(tmp_path, GOOD_FILE), "--dry-run")

    assert "would be 4 created, 0 updated, 0 unchanged" in stdout
    assert not Room.objects.filter(code="A110").exists()


def test_file_that_is_not_utf8_is_refused_with_a_hint(joint_campus, tmp_path):
    path = write(tmp_path, "building,code,name,kind,capacity\nB,B1,Opetuskeittiö,workshop,5\n", encoding="cp1252")

    with pytest.raises(CommandError, match="CSV UTF-8"):
        import_rooms(path)


def test_campus_must_be_named_when_there_are_several(joint_campus, tmp_path):
    from campus.models import Campus

    Campus.objects.create(name="Second campus")
    path = write(tmp_path, GOOD_FILE)

    with pytest.raises(CommandError, match="--campus"):
        import_rooms(path)
    stdout, _ = import_rooms(path, "--campus", "Otava Campus")
    assert "4 created" in stdout


def test_large_file_shows_progress(joint_campus, tmp_path):
    lines = [f"A,R{number},Room {number},classroom,20" for number in range(600)]
    path = write(tmp_path, "building,code,name,kind,capacity\n" + "\n".join(lines) + "\n")

    stdout, stderr = import_rooms(path)

    assert "600 created" in stdout
    assert "checked 500/600 rows" in stderr
    assert "saved 600/600 rows (100 %)" in stderr


def test_parse_returns_rows_and_errors_without_writing(joint_campus, django_assert_max_num_queries):
    with django_assert_max_num_queries(6):
        rows, errors = room_rows_parse(GOOD_FILE + "A,X,Bad,classroom,0,,,,,,,\n", campus=joint_campus.campus)

    assert [row.code for row in rows] == ["A110", "A111", "A110-111", "B100"]
    assert [str(error) for error in errors] == ['line 6: capacity: must be a whole number greater than 0 (got "0")']
    assert not Room.objects.filter(code="A110").exists()


def test_service_refuses_rows_whose_building_is_gone_and_writes_nothing(joint_campus):
    rows = [
        RoomRow(line=2, building="A", code="NEW", name="New", kind="classroom", capacity=5),
        RoomRow(line=3, building="Z", code="Z1", name="Nowhere", kind="classroom", capacity=5),
    ]

    with pytest.raises(CsvImportRefused) as refusal:
        rooms_import(campus=joint_campus.campus, rows=rows)

    assert [error.line for error in refusal.value.row_errors] == [3]
    assert refusal.value.extra["errors"][0]["field"] == "building"
    assert not Room.objects.filter(code="NEW").exists()


def test_documented_example_imports_into_the_demo_campus(db):
    from campus.demo import seed_demo_campus

    seed_demo_campus()
    example = Path(__file__).resolve().parents[2] / "docs" / "examples" / "rooms.csv"

    stdout, _ = import_rooms(example)

    assert "6 created, 0 updated, 0 unchanged" in stdout
    combined = Room.objects.get(code="A401-402")
    assert set(combined.sections.values_list("code", flat=True)) == {"A401", "A402"}
    assert Room.objects.get(code="A450").description == "Kokouksiin; tilaa myös etäosallistujille"
