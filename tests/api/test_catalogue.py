"""GET /campuses, /institutions, /buildings and /equipment."""

from campus.models import Building, Campus, Equipment, Institution, InstitutionKind

from .conftest import API


def test_campuses_list_their_time_zone(staff_api, joint_campus):
    body = staff_api.get(f"{API}/campuses").json()

    assert body == {
        "items": [
            {
                "id": joint_campus.campus.pk,
                "name": "Otava Campus",
                "time_zone": "Europe/Helsinki",
                "address": "Opintie 1, Tampere",
            }
        ],
        "count": 1,
        "next": None,
    }


def test_institutions_list_with_their_campus(staff_api, joint_campus):
    body = staff_api.get(f"{API}/institutions").json()

    assert body["count"] == 3
    assert [i["short_code"] for i in body["items"]] == ["opisto", "lukio", "ammatti"]  # by name
    assert body["items"][1] == {
        "id": joint_campus.lukio.pk,
        "name": "Otava Upper Secondary",
        "short_code": "lukio",
        "kind": "upper_secondary",
        "campus": {"id": joint_campus.campus.pk, "name": "Otava Campus"},
    }


def test_buildings_filter_by_campus(staff_api, joint_campus):
    other = Campus.objects.create(name="Harbour Campus")
    Building.objects.create(campus=other, code="H", name="Harbour house")

    everything = staff_api.get(f"{API}/buildings").json()
    ours = staff_api.get(f"{API}/buildings", {"campus": joint_campus.campus.pk}).json()

    assert everything["count"] == 3
    assert [b["code"] for b in ours["items"]] == ["A", "B"]
    assert ours["items"][0]["campus"] == {"id": joint_campus.campus.pk, "name": "Otava Campus"}


def test_equipment_lists_the_catalogue(staff_api, joint_campus):
    body = staff_api.get(f"{API}/equipment").json()

    assert [(e["code"], e["name"]) for e in body["items"]] == [("projector", "Projector"), ("sinks", "Sinks")]


def test_catalogue_lists_do_not_grow_queries_with_rows(staff_api, joint_campus, django_assert_max_num_queries):
    for n in range(15):
        campus = Campus.objects.create(name=f"Campus {n}")
        Institution.objects.create(campus=campus, name=f"School {n}", short_code=f"s{n}", kind=InstitutionKind.OTHER)
        Building.objects.create(campus=campus, code=f"X{n}", name=f"Building {n}")
        Equipment.objects.create(code=f"item-{n}", name=f"Item {n}")

    for path in ["/campuses", "/institutions", "/buildings", "/equipment"]:
        # token, last-used (first request only), campus zone, count, rows
        with django_assert_max_num_queries(5):
            assert staff_api.get(f"{API}{path}").status_code == 200
