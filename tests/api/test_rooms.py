"""GET /rooms (filters, N+1 guard) and GET /rooms/{id}."""

import pytest

from campus.models import Equipment, Room, RoomKind

from .conftest import API


def room_codes(response) -> list[str]:
    assert response.status_code == 200, response.content
    return sorted(item["code"] for item in response.json()["items"])


def test_rooms_lists_every_room_with_building_owner_equipment_and_access(staff_api, joint_campus):
    body = staff_api.get(f"{API}/rooms").json()

    assert body["count"] == 3
    assert body["next"] is None
    lab = next(item for item in body["items"] if item["code"] == "A201")
    assert lab["building"] == {"id": joint_campus.main_building.pk, "code": "A", "name": "Main building"}
    assert lab["owner"] == {"id": joint_campus.lukio.pk, "name": "Otava Upper Secondary", "short_code": "lukio"}
    assert sorted(e["code"] for e in lab["equipment"]) == ["projector", "sinks"]
    assert lab["accessibility"] == {"step_free": False, "induction_loop": False, "accessible_toilet_nearby": False}
    assert lab["kind"] == "lab"
    assert lab["capacity"] == 20
    assert lab["floor"] == 2
    auditorium = next(item for item in body["items"] if item["code"] == "A001")
    assert auditorium["owner"] is None


def test_rooms_filter_by_building(staff_api, joint_campus):
    Room.objects.create(building=joint_campus.workshop_building, code="B1", name="Metal shop", capacity=12)

    assert room_codes(staff_api.get(f"{API}/rooms", {"building": joint_campus.workshop_building.pk})) == ["B1"]
    assert room_codes(staff_api.get(f"{API}/rooms", {"building": joint_campus.main_building.pk})) == [
        "A001",
        "A101",
        "A201",
    ]


def test_rooms_filter_by_kind(staff_api, joint_campus):
    assert room_codes(staff_api.get(f"{API}/rooms", {"kind": "lab"})) == ["A201"]
    assert room_codes(staff_api.get(f"{API}/rooms", {"kind": "gym"})) == []


def test_rooms_filter_by_minimum_capacity(staff_api, joint_campus):
    assert room_codes(staff_api.get(f"{API}/rooms", {"capacity_min": 30})) == ["A001", "A101"]
    assert room_codes(staff_api.get(f"{API}/rooms", {"capacity_min": 31})) == ["A001"]


def test_rooms_filter_by_equipment_requires_all_codes(staff_api, joint_campus):
    assert room_codes(staff_api.get(f"{API}/rooms", {"equipment": "projector"})) == ["A101", "A201"]
    assert room_codes(staff_api.get(f"{API}/rooms", {"equipment": ["projector", "sinks"]})) == ["A201"]
    assert room_codes(staff_api.get(f"{API}/rooms?equipment=sinks&equipment=piano")) == []


def test_rooms_filter_by_step_free_access(staff_api, joint_campus):
    assert room_codes(staff_api.get(f"{API}/rooms", {"step_free": "true"})) == ["A001", "A101"]
    assert room_codes(staff_api.get(f"{API}/rooms", {"step_free": "false"})) == ["A201"]


def test_rooms_filters_combine(staff_api, joint_campus):
    assert room_codes(staff_api.get(f"{API}/rooms", {"equipment": "projector", "step_free": "true"})) == ["A101"]


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"kind": "ballroom"}, "kind"),
        ({"capacity_min": 0}, "capacity_min"),
        ({"capacity_min": "many"}, "capacity_min"),
        ({"building": "main"}, "building"),
        ({"step_free": "perhaps"}, "step_free"),
    ],
)
def test_an_invalid_filter_value_is_refused_with_422_naming_the_field(staff_api, joint_campus, query, field):
    response = staff_api.get(f"{API}/rooms", query)

    assert response.status_code == 422
    body = response.json()
    assert body["code"] == "invalid"
    assert body["detail"]
    assert [error["field"] for error in body["errors"]] == [field]
    assert body["errors"][0]["message"]


def test_room_detail_has_every_fact(staff_api, joint_campus):
    hall = Room.objects.create(
        building=joint_campus.main_building,
        code="G1",
        name="Sports hall",
        kind=RoomKind.GYM,
        capacity=90,
        area_m2="540.5",
        buffer_minutes=15,
        public_feed=True,
        induction_loop=True,
        description="Three sections behind curtains.",
    )
    sections = [
        Room.objects.create(building=joint_campus.main_building, code=f"G1{n}", name=f"Section {n}", capacity=30)
        for n in "abc"
    ]
    hall.sections.set(sections)

    response = staff_api.get(f"{API}/rooms/{hall.pk}")

    assert response.status_code == 200
    body = response.json()
    assert body["id"] == hall.pk
    assert body["name"] == "Sports hall"
    assert body["kind"] == "gym"
    assert body["owner"] is None
    assert body["building"]["code"] == "A"
    assert body["area_m2"] == 540.5
    assert body["buffer_minutes"] == 15
    assert body["public_feed"] is True
    assert body["is_bookable"] is True
    assert body["accessibility"]["induction_loop"] is True
    assert body["floor"] == 1
    assert body["capacity"] == 90
    assert body["equipment"] == []
    assert sorted(body["sections"]) == sorted(s.pk for s in sections)
    assert body["description"] == "Three sections behind curtains."


def test_a_missing_room_answers_404_with_the_error_body(staff_api, joint_campus):
    response = staff_api.get(f"{API}/rooms/999999")

    assert response.status_code == 404
    assert response.json() == {"detail": response.json()["detail"], "code": "not_found"}


def test_room_list_queries_do_not_grow_with_rooms(staff_api, joint_campus, django_assert_max_num_queries):
    piano = Equipment.objects.create(code="piano", name="Piano")
    for n in range(20):
        room = Room.objects.create(
            building=joint_campus.workshop_building,
            code=f"B{n}",
            name=f"Room {n}",
            capacity=10,
            owner=joint_campus.adult,
        )
        room.equipment.add(piano, joint_campus.projector)
        room.sections.add(joint_campus.classroom)

    # token, last-used, campus zone, count, rooms, equipment, sections
    with django_assert_max_num_queries(8):
        response = staff_api.get(f"{API}/rooms")

    assert response.json()["count"] == 23


def test_room_detail_queries_are_bounded(staff_api, joint_campus, django_assert_max_num_queries):
    with django_assert_max_num_queries(7):
        assert staff_api.get(f"{API}/rooms/{joint_campus.lab.pk}").status_code == 200
