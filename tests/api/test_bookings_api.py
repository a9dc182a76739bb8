"""The booking endpoints: status codes, response shapes, permissions and visibility."""

from __future__ import annotations

import datetime as dt
import zoneinfo

import pytest

from bookings.models import Booking, BookingStatus
from campus.models import Holiday, Room

API = "/api/v1"
HELSINKI = zoneinfo.ZoneInfo("Europe/Helsinki")


def at(day: dt.date, hour: int, minute: int = 0) -> str:
    return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=HELSINKI).isoformat()


@pytest.fixture
def voc_api(client_with_token, vocational_staff):
    return client_with_token(vocational_staff)


def post_booking(client, **body):
    return client.post(f"{API}/bookings", body, content_type="application/json")


def test_one_off_booking_is_created_with_its_occurrence(staff_api, joint_campus, tuesday):
    response = post_booking(
        staff_api, room=joint_campus.classroom.pk, title="Maths 1", start=at(tuesday, 10), end=at(tuesday, 11)
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["status"] == "confirmed"
    assert body["series"] is None
    assert body["skipped"] == []
    assert len(body["occurrences"]) == 1
    assert body["occurrences"][0]["id"] == body["id"]
    assert dt.datetime.fromisoformat(body["occurrences"][0]["start"]) == dt.datetime.fromisoformat(at(tuesday, 10))
    booking = Booking.objects.get(pk=body["id"])
    assert booking.institution == joint_campus.lukio
    assert booking.title == "Maths 1"


def test_weekly_series_returns_every_occurrence_and_skips_holidays(staff_api, joint_campus, tuesday):
    Holiday.objects.create(campus=joint_campus.campus, date=tuesday + dt.timedelta(weeks=1), name="Test day")
    response = post_booking(
        staff_api,
        room=joint_campus.classroom.pk,
        title="Physics",
        start=at(tuesday, 12),
        end=at(tuesday, 13, 30),
        rrule="FREQ=WEEKLY;BYDAY=TU;COUNT=4",
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["series"] is not None
    assert len(body["occurrences"]) == 3
    assert [s["code"] for s in body["skipped"]] == ["closed"]
    assert dt.datetime.fromisoformat(body["skipped"][0]["start"]).date() == tuesday + dt.timedelta(weeks=1)


def test_clash_answers_409_with_conflicts_and_hides_other_institutions_titles(
    staff_api, voc_api, joint_campus, tuesday
):
    assert (
        post_booking(
            staff_api,
            room=joint_campus.shared_auditorium.pk,
            title="Lukio gala",
            start=at(tuesday, 10),
            end=at(tuesday, 12),
        ).status_code
        == 201
    )
    response = post_booking(
        voc_api,
        room=joint_campus.shared_auditorium.pk,
        title="Welding expo",
        start=at(tuesday, 11),
        end=at(tuesday, 13),
    )
    assert response.status_code == 409
    body = response.json()
    assert body["code"] == "slot_taken"
    assert body["detail"]
    assert len(body["conflicts"]) == 1
    conflict = body["conflicts"][0]
    assert conflict["title"] is None  # institution visibility: the vocational teacher may not see it
    assert dt.datetime.fromisoformat(conflict["start"]) == dt.datetime.fromisoformat(at(tuesday, 10))
    assert dt.datetime.fromisoformat(conflict["end"]) == dt.datetime.fromisoformat(at(tuesday, 12))


def test_adjacent_booking_is_accepted(staff_api, voc_api, joint_campus, tuesday):
    room = joint_campus.shared_auditorium.pk
    assert post_booking(staff_api, room=room, title="A", start=at(tuesday, 9), end=at(tuesday, 10)).status_code == 201
    assert post_booking(voc_api, room=room, title="B", start=at(tuesday, 10), end=at(tuesday, 11)).status_code == 201


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"title": ""}, "body.title"),
        ({"start": "tomorrow at ten"}, "body.start"),
        ({"attendees": 0}, "body.attendees"),
        ({"visibility": "secret"}, "body.visibility"),
        ({"room": 999999}, "room"),
        ({"rrule": "FREQ=YEARLY;COUNT=3"}, "rrule"),
        ({"end": "SAME_AS_START"}, "end"),
    ],
)
def test_invalid_input_answers_422_naming_the_field(staff_api, joint_campus, tuesday, body, field):
    payload = {"room": joint_campus.classroom.pk, "title": "X", "start": at(tuesday, 10), "end": at(tuesday, 11)}
    payload.update(body)
    if payload["end"] == "SAME_AS_START":
        payload["end"] = payload["start"]
    response = post_booking(staff_api, **payload)
    assert response.status_code == 422, response.content
    errors = response.json()["errors"]
    assert field in [error["field"] for error in errors]
    assert all(error["message"] for error in errors)


def test_booking_for_another_institution_is_forbidden(staff_api, joint_campus, tuesday):
    response = post_booking(
        staff_api,
        room=joint_campus.classroom.pk,
        title="X",
        start=at(tuesday, 10),
        end=at(tuesday, 11),
        institution=joint_campus.vocational.pk,
    )
    assert response.status_code == 403
    assert response.json()["code"] == "not_a_member"


def test_outside_opening_hours_is_a_broken_rule_with_what_is_allowed(staff_api, joint_campus, tuesday):
    response = post_booking(
        staff_api, room=joint_campus.classroom.pk, title="Late", start=at(tuesday, 20), end=at(tuesday, 22)
    )
    assert response.status_code == 422
    body = response.json()
    assert body["code"] == "outside_opening_hours"
    assert body["rule"] == "opening_hours"
    assert dt.datetime.fromisoformat(body["allowed"]["closes"]) == dt.datetime.fromisoformat(at(tuesday, 21))


def test_unsynchronised_series_start_is_refused(staff_api, joint_campus, tuesday):
    response = post_booking(
        staff_api,
        room=joint_campus.classroom.pk,
        title="X",
        start=at(tuesday, 10),
        end=at(tuesday, 11),
        rrule="FREQ=WEEKLY;BYDAY=WE;COUNT=3",
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "start"


def test_list_filters_and_title_visibility(staff_api, voc_api, joint_campus, tuesday, lukio_staff):
    post_booking(staff_api, room=joint_campus.classroom.pk, title="Private", start=at(tuesday, 8), end=at(tuesday, 9))
    post_booking(
        staff_api,
        room=joint_campus.lab.pk,
        title="Open day",
        start=at(tuesday, 8),
        end=at(tuesday, 9),
        visibility="public",
    )
    own = staff_api.get(f"{API}/bookings", {"mine": "true"}).json()
    assert own["count"] == 2
    assert {item["title"] for item in own["items"]} == {"Private", "Open day"}

    seen_by_other = voc_api.get(f"{API}/bookings", {"from": at(tuesday, 0), "to": at(tuesday + dt.timedelta(1), 0)})
    titles = {item["room"]["code"]: item["title"] for item in seen_by_other.json()["items"]}
    assert titles == {joint_campus.classroom.code: None, joint_campus.lab.code: "Open day"}
    assert voc_api.get(f"{API}/bookings", {"mine": "true"}).json()["count"] == 0
    by_room = voc_api.get(f"{API}/bookings", {"room": joint_campus.lab.pk}).json()
    assert [item["title"] for item in by_room["items"]] == ["Open day"]
    assert voc_api.get(f"{API}/bookings", {"status": "cancelled"}).json()["count"] == 0


def test_list_filters_by_building_institution_half_open_window_and_statuses(
    staff_api, joint_campus, tuesday, lukio_staff
):
    for room in (joint_campus.classroom, joint_campus.lab):
        post_booking(staff_api, room=room.pk, title="Lesson", start=at(tuesday, 8), end=at(tuesday, 9))

    def count(**filters) -> int:
        response = staff_api.get(f"{API}/bookings", filters)
        assert response.status_code == 200, response.content
        return response.json()["count"]

    assert count(building=joint_campus.main_building.pk) == 2
    assert count(building=joint_campus.workshop_building.pk) == 0
    assert count(institution=joint_campus.lukio.pk) == 2
    assert count(institution=joint_campus.vocational.pk) == 0
    assert count(**{"from": at(tuesday, 8, 30), "to": at(tuesday, 8, 45)}) == 2
    assert count(**{"from": at(tuesday, 9)}) == 0  # a booking ending at `from` does not overlap it
    assert count(to=at(tuesday, 8)) == 0  # nor one starting at `to`
    assert count(status=["cancelled", "confirmed"]) == 2
    assert count(status=["pending"]) == 0


def test_a_list_window_that_ends_before_it_starts_is_refused(staff_api, joint_campus, tuesday):
    response = staff_api.get(f"{API}/bookings", {"from": at(tuesday, 9), "to": at(tuesday, 8)})

    assert response.status_code == 422
    assert [error["field"] for error in response.json()["errors"]] == ["to"]


def test_list_has_no_n_plus_one_queries(staff_api, joint_campus, tuesday, django_assert_max_num_queries):
    for hour in range(8, 16):
        post_booking(
            staff_api,
            room=joint_campus.classroom.pk,
            title=f"L{hour}",
            start=at(tuesday, hour),
            end=at(tuesday, hour, 45),
        )
    with django_assert_max_num_queries(8):
        response = staff_api.get(f"{API}/bookings")
    assert response.json()["count"] == 8


def test_patch_with_series_scope_renames_every_future_occurrence(staff_api, joint_campus, tuesday):
    created = post_booking(
        staff_api,
        room=joint_campus.classroom.pk,
        title="Chem",
        start=at(tuesday, 10),
        end=at(tuesday, 11),
        rrule="FREQ=WEEKLY;COUNT=3",
    ).json()
    second = created["occurrences"][1]["id"]
    response = staff_api.patch(
        f"{API}/bookings/{second}", {"scope": "following", "title": "Chemistry"}, content_type="application/json"
    )
    assert response.status_code == 200, response.content
    assert [item["title"] for item in response.json()] == ["Chemistry", "Chemistry"]
    assert Booking.objects.get(pk=created["id"]).title == "Chem"


def test_patch_move_onto_another_booking_answers_409(staff_api, joint_campus, tuesday):
    first = post_booking(
        staff_api, room=joint_campus.classroom.pk, title="A", start=at(tuesday, 10), end=at(tuesday, 11)
    )
    post_booking(staff_api, room=joint_campus.classroom.pk, title="B", start=at(tuesday, 12), end=at(tuesday, 13))
    response = staff_api.patch(
        f"{API}/bookings/{first.json()['id']}",
        {"start": at(tuesday, 12, 30), "end": at(tuesday, 13, 30)},
        content_type="application/json",
    )
    assert response.status_code == 409
    assert response.json()["conflicts"][0]["title"] == "B"


def test_cancel_by_another_institution_is_forbidden_and_by_booker_frees_the_slot(
    staff_api, voc_api, joint_campus, tuesday
):
    booking_id = post_booking(
        staff_api, room=joint_campus.shared_auditorium.pk, title="A", start=at(tuesday, 10), end=at(tuesday, 11)
    ).json()["id"]
    assert voc_api.post(f"{API}/bookings/{booking_id}/cancel").status_code == 403
    response = staff_api.post(
        f"{API}/bookings/{booking_id}/cancel", {"scope": "occurrence"}, content_type="application/json"
    )
    assert response.status_code == 200
    assert response.json()[0]["status"] == "cancelled"
    again = post_booking(
        voc_api, room=joint_campus.shared_auditorium.pk, title="B", start=at(tuesday, 10), end=at(tuesday, 11)
    )
    assert again.status_code == 201
    assert staff_api.post(f"{API}/bookings/{booking_id}/cancel").status_code == 409


def test_release_of_a_booking_that_has_not_started_is_refused(staff_api, joint_campus, tuesday):
    booking_id = post_booking(
        staff_api, room=joint_campus.classroom.pk, title="A", start=at(tuesday, 10), end=at(tuesday, 11)
    ).json()["id"]
    response = staff_api.post(f"{API}/bookings/{booking_id}/release")
    assert response.status_code == 409
    assert response.json()["code"] == "not_started"
    assert Booking.objects.get(pk=booking_id).status == BookingStatus.CONFIRMED


def test_get_missing_booking_answers_404_body(staff_api):
    response = staff_api.get(f"{API}/bookings/987654")
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


def test_availability_lists_free_and_busy_inside_opening_hours(staff_api, joint_campus, tuesday):
    room = joint_campus.classroom
    room.buffer_minutes = 15
    room.save()
    post_booking(staff_api, room=room.pk, title="Lesson", start=at(tuesday, 10), end=at(tuesday, 11))
    response = staff_api.get(
        f"{API}/rooms/{room.pk}/availability", {"from": at(tuesday, 0), "to": at(tuesday + dt.timedelta(1), 0)}
    )
    assert response.status_code == 200, response.content
    body = response.json()
    free = [(dt.datetime.fromisoformat(i["start"]), dt.datetime.fromisoformat(i["end"])) for i in body["free"]]
    expected = [
        (dt.datetime.fromisoformat(at(tuesday, 7)), dt.datetime.fromisoformat(at(tuesday, 10))),
        (dt.datetime.fromisoformat(at(tuesday, 11, 15)), dt.datetime.fromisoformat(at(tuesday, 21))),
    ]
    assert free == expected
    assert body["busy"][0]["title"] == "Lesson"
    assert dt.datetime.fromisoformat(body["busy"][0]["booking_end"]) == dt.datetime.fromisoformat(at(tuesday, 11))


def test_availability_shows_a_booked_section_as_busy_for_the_whole(staff_api, joint_campus, tuesday):
    building = joint_campus.main_building
    sections = [Room.objects.create(building=building, code=f"G{i}", name=f"Gym {i}", capacity=30) for i in (1, 2)]
    whole = Room.objects.create(building=building, code="G", name="Gym", capacity=60, owner=joint_campus.lukio)
    whole.sections.set(sections)
    for section in sections:
        section.owner = joint_campus.lukio
        section.save()
    assert (
        post_booking(
            staff_api, room=sections[0].pk, title="Ball", start=at(tuesday, 9), end=at(tuesday, 10)
        ).status_code
        == 201
    )
    busy = staff_api.get(
        f"{API}/rooms/{whole.pk}/availability", {"from": at(tuesday, 0), "to": at(tuesday + dt.timedelta(1), 0)}
    ).json()["busy"]
    assert [(b["room"], b["title"]) for b in busy] == [("G1", "Ball")]
    clash = post_booking(staff_api, room=whole.pk, title="Whole", start=at(tuesday, 9, 30), end=at(tuesday, 11))
    assert clash.status_code == 409


def test_availability_range_is_validated(staff_api, joint_campus, tuesday):
    url = f"{API}/rooms/{joint_campus.classroom.pk}/availability"
    assert staff_api.get(url, {"from": at(tuesday, 12), "to": at(tuesday, 10)}).status_code == 422
    assert staff_api.get(url, {"from": at(tuesday, 12)}).status_code == 422
    far = tuesday + dt.timedelta(days=90)
    assert staff_api.get(url, {"from": at(tuesday, 0), "to": at(far, 0)}).status_code == 422


def test_bookings_need_authentication(client, joint_campus):
    assert client.get(f"{API}/bookings").status_code == 401


def test_free_room_search_combines_with_room_filters(staff_api, joint_campus, tuesday):
    post_booking(staff_api, room=joint_campus.classroom.pk, title="Busy", start=at(tuesday, 10), end=at(tuesday, 11))
    params = {"free_from": at(tuesday, 10, 30), "free_to": at(tuesday, 11, 30)}
    codes = [room["code"] for room in staff_api.get(f"{API}/rooms", params).json()["items"]]
    assert joint_campus.classroom.code not in codes
    assert {joint_campus.lab.code, joint_campus.shared_auditorium.code} <= set(codes)
    with_projector = staff_api.get(f"{API}/rooms", {**params, "equipment": "sinks"}).json()["items"]
    assert [room["code"] for room in with_projector] == [joint_campus.lab.code]
    late = staff_api.get(f"{API}/rooms", {"free_from": at(tuesday, 20), "free_to": at(tuesday, 22)}).json()
    assert late["count"] == 0  # every building closes at 21:00
    half = staff_api.get(f"{API}/rooms", {"free_from": at(tuesday, 10)})
    assert half.status_code == 422
    assert half.json()["errors"][0]["field"] == "free_to"


def test_free_room_search_queries_do_not_grow_with_rooms(staff_api, joint_campus, tuesday):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    params = {"free_from": at(tuesday, 10), "free_to": at(tuesday, 11)}

    def queries_for_search() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert staff_api.get(f"{API}/rooms", params).status_code == 200
        return len(captured)

    few = queries_for_search()
    for number in range(30):
        Room.objects.create(
            building=joint_campus.workshop_building,
            code=f"W{number}",
            name=f"Workshop {number}",
            capacity=12,
            buffer_minutes=15 if number % 2 else 0,
        )
    assert queries_for_search() <= few + 2  # the buffered rooms add one query for their blocks
    assert staff_api.get(f"{API}/rooms", params).json()["count"] == 33


def test_free_room_search_pages_through_the_same_rooms_in_the_same_order(staff_api, joint_campus, tuesday):
    params = {"free_from": at(tuesday, 10), "free_to": at(tuesday, 11)}
    whole = staff_api.get(f"{API}/rooms", params).json()
    assert whole["count"] >= 3
    assert whole["next"] is None
    codes, url, query = [], f"{API}/rooms", {**params, "limit": 2}
    while url:
        page = staff_api.get(url, query).json()
        assert page["count"] == whole["count"]
        assert len(page["items"]) <= 2
        codes += [room["code"] for room in page["items"]]
        url, query = page["next"], None
    assert codes == [room["code"] for room in whole["items"]]
    beyond = staff_api.get(f"{API}/rooms", {**params, "offset": whole["count"]}).json()
    assert beyond["items"] == []
    assert beyond["count"] == whole["count"]


@pytest.mark.parametrize("language", ["fi", "sv", "en"])
def test_a_broken_rule_is_explained_in_the_users_language(
    client_with_token, lukio_staff, joint_campus, tuesday, language
):
    from django.utils import translation

    lukio_staff.preferred_language = language
    lukio_staff.save()
    response = post_booking(
        client_with_token(lukio_staff),
        room=joint_campus.classroom.pk,
        title="Late",
        start=at(tuesday, 20),
        end=at(tuesday, 22),
    )
    assert response.status_code == 422
    with translation.override(language):
        expected_start = translation.gettext("The room is not open then: %(reason)s.").split("%(")[0]
    assert response.json()["detail"].startswith(expected_start)


def test_availability_lists_closures(staff_api, joint_campus, campus_fm, tuesday):
    from bookings.services import closure_create

    closure_create(
        actor=campus_fm,
        room=joint_campus.classroom,
        start=dt.datetime.fromisoformat(at(tuesday, 10)),
        end=dt.datetime.fromisoformat(at(tuesday, 12)),
        reason="Exams",
    )
    body = staff_api.get(
        f"{API}/rooms/{joint_campus.classroom.pk}/availability",
        {"from": at(tuesday, 0), "to": at(tuesday + dt.timedelta(1), 0)},
    ).json()
    assert [c["reason"] for c in body["closures"]] == ["Exams"]
    assert all(
        dt.datetime.fromisoformat(f["end"]) <= dt.datetime.fromisoformat(at(tuesday, 10))
        or dt.datetime.fromisoformat(f["start"]) >= dt.datetime.fromisoformat(at(tuesday, 12))
        for f in body["free"]
    )


def test_an_invalid_status_filter_names_the_query_field(staff_api):
    response = staff_api.get(f"{API}/bookings", {"status": "bogus"})
    assert response.status_code == 422
    assert [error["field"] for error in response.json()["errors"]] == ["status.0"]


def test_patch_retiming_a_whole_series_keeps_each_occurrence_in_its_own_room(staff_api, joint_campus, tuesday):
    created = post_booking(
        staff_api,
        room=joint_campus.classroom.pk,
        title="Chem",
        start=at(tuesday, 10),
        end=at(tuesday, 11),
        rrule="FREQ=WEEKLY;COUNT=3",
    ).json()
    first, second, third = (item["id"] for item in created["occurrences"])
    moved = staff_api.patch(f"{API}/bookings/{second}", {"room": joint_campus.lab.pk}, content_type="application/json")
    assert moved.status_code == 200, moved.content

    response = staff_api.patch(
        f"{API}/bookings/{first}",
        {"scope": "series", "start": at(tuesday, 12), "end": at(tuesday, 13)},
        content_type="application/json",
    )

    assert response.status_code == 200, response.content
    rooms = dict(Booking.objects.values_list("pk", "room_id"))
    assert rooms == {first: joint_campus.classroom.pk, second: joint_campus.lab.pk, third: joint_campus.classroom.pk}
