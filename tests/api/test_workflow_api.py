"""The workflow endpoints: approvals, history, handover, closures, a room's rules, broken rules and overrides."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from bookings.models import (
    Access,
    Booking,
    BookingAction,
    BookingEvent,
    BookingPolicy,
    BookingStatus,
    Closure,
)
from bookings.services import booking_cancel, booking_update, closure_create, requests_expire
from tests.api.conftest import post
from tests.bookings.conftest import HELSINKI, TUESDAY, at, book, next_weekday_after, today

API = "/api/v1"


@pytest.fixture
def lukio_request(requests_needed, joint_campus, vocational_staff, day) -> Booking:
    """A vocational teacher's pending request for the lukio's classroom."""
    return book(vocational_staff, joint_campus.classroom, at(day, 10), at(day, 11), title="Welding theory").first


@pytest.fixture
def shared_request(requests_needed, joint_campus, lukio_staff, day) -> Booking:
    """A lukio teacher's pending request for the shared auditorium."""
    return book(lukio_staff, joint_campus.shared_auditorium, at(day, 12), at(day, 13), title="Concert").first


def iso(value: dt.datetime) -> str:
    return value.isoformat()


# --- approvals -----------------------------------------------------------------------------------


def test_the_owners_facility_manager_lists_the_requests_for_the_owners_rooms_only(
    client_with_token, fm_of_lukio, lukio_request, shared_request
):
    response = client_with_token(fm_of_lukio).get(f"{API}/approvals")

    assert response.status_code == 200
    body = response.json()
    assert (body["count"], body["next"]) == (1, None)
    [item] = body["items"]
    assert (item["id"], item["status"], item["title"]) == (lukio_request.pk, "pending", "Welding theory")
    expires_at = dt.datetime.fromisoformat(item["expires_at"])
    assert abs(expires_at - lukio_request.expires_at) < dt.timedelta(milliseconds=1)  # JSON keeps milliseconds


def test_the_campus_facility_manager_lists_the_requests_for_shared_rooms_only(
    client_with_token, campus_fm, lukio_request, shared_request
):
    response = client_with_token(campus_fm).get(f"{API}/approvals")

    assert response.status_code == 200
    assert [item["id"] for item in response.json()["items"]] == [shared_request.pk]


@pytest.mark.parametrize("caller", ["lukio_staff", "vocational_staff", "front_desk", "lukio_admin"])
def test_people_who_decide_nothing_list_no_requests(request, client_with_token, lukio_request, shared_request, caller):
    response = client_with_token(request.getfixturevalue(caller)).get(f"{API}/approvals")

    assert response.status_code == 200
    assert response.json() == {"items": [], "count": 0, "next": None}


def test_decided_requests_leave_the_approvals_list(client_with_token, fm_of_lukio, lukio_request):
    client = client_with_token(fm_of_lukio)
    assert post(client, f"/approvals/{lukio_request.pk}/approve").status_code == 200

    assert client.get(f"{API}/approvals").json()["count"] == 0


def test_listing_approvals_takes_the_same_queries_for_one_request_or_many(
    requests_needed, client_with_token, fm_of_lukio, joint_campus, vocational_staff, day
):
    client = client_with_token(fm_of_lukio)
    book(vocational_staff, joint_campus.classroom, at(day, 8), at(day, 9))
    client.get(f"{API}/approvals")  # warm up (token lookup caches, content types)
    with CaptureQueriesContext(connection) as one:
        assert client.get(f"{API}/approvals").json()["count"] == 1
    book(vocational_staff, joint_campus.classroom, at(day, 10), at(day, 11), rrule="FREQ=WEEKLY;COUNT=4")

    with CaptureQueriesContext(connection) as five:
        assert client.get(f"{API}/approvals").json()["count"] == 5

    assert len(five) == len(one)


def test_approving_a_request_answers_the_confirmed_booking(client_with_token, fm_of_lukio, lukio_request):
    response = post(client_with_token(fm_of_lukio), f"/approvals/{lukio_request.pk}/approve", {"reason": "Welcome"})

    assert response.status_code == 200, response.content
    [item] = response.json()
    assert (item["id"], item["status"], item["decision_reason"], item["expires_at"]) == (
        lukio_request.pk,
        "confirmed",
        "Welcome",
        None,
    )
    booking = Booking.objects.get(pk=lukio_request.pk)
    assert (booking.status, booking.decided_by) == (BookingStatus.CONFIRMED, fm_of_lukio)


def test_approving_with_series_scope_confirms_every_occurrence(
    requests_needed, client_with_token, fm_of_lukio, joint_campus, vocational_staff, day
):
    result = book(vocational_staff, joint_campus.classroom, at(day, 10), at(day, 11), rrule="FREQ=WEEKLY;COUNT=3")

    response = post(client_with_token(fm_of_lukio), f"/approvals/{result.first.pk}/approve", {"scope": "series"})

    assert response.status_code == 200
    assert [item["status"] for item in response.json()] == ["confirmed"] * 3


def test_the_campus_facility_manager_approves_a_shared_room_request(client_with_token, campus_fm, shared_request):
    response = post(client_with_token(campus_fm), f"/approvals/{shared_request.pk}/approve")

    assert response.status_code == 200
    assert response.json()[0]["status"] == "confirmed"


def test_rejecting_with_a_reason_answers_the_rejected_booking(client_with_token, fm_of_lukio, lukio_request):
    response = post(client_with_token(fm_of_lukio), f"/approvals/{lukio_request.pk}/reject", {"reason": "Exams"})

    assert response.status_code == 200
    [item] = response.json()
    assert (item["status"], item["decision_reason"]) == ("rejected", "Exams")


def test_rejecting_without_a_reason_answers_422_with_the_field(client_with_token, fm_of_lukio, lukio_request):
    response = post(client_with_token(fm_of_lukio), f"/approvals/{lukio_request.pk}/reject")

    assert response.status_code == 422
    body = response.json()
    assert body["code"] == "invalid"
    assert [error["field"] for error in body["errors"]] == ["reason"]
    assert Booking.objects.get(pk=lukio_request.pk).status == BookingStatus.PENDING


@pytest.mark.parametrize("caller", ["vocational_staff", "lukio_staff", "campus_fm"])
@pytest.mark.parametrize("decision", ["approve", "reject"])
def test_people_who_do_not_decide_for_the_room_get_403(request, client_with_token, lukio_request, caller, decision):
    client = client_with_token(request.getfixturevalue(caller))

    response = post(client, f"/approvals/{lukio_request.pk}/{decision}", {"reason": "Because"})

    assert response.status_code == 403
    assert response.json()["code"] == "permission_denied"
    assert Booking.objects.get(pk=lukio_request.pk).status == BookingStatus.PENDING


def test_deciding_an_already_decided_request_answers_409(client_with_token, fm_of_lukio, lukio_request):
    client = client_with_token(fm_of_lukio)
    assert post(client, f"/approvals/{lukio_request.pk}/approve").status_code == 200

    again = post(client, f"/approvals/{lukio_request.pk}/approve")
    reject = post(client, f"/approvals/{lukio_request.pk}/reject", {"reason": "Too late"})

    assert (again.status_code, again.json()["code"]) == (409, "invalid_state")
    assert reject.status_code == 409


def test_deciding_an_unknown_booking_answers_404(client_with_token, fm_of_lukio, joint_campus):
    response = post(client_with_token(fm_of_lukio), "/approvals/999999/approve")

    assert (response.status_code, response.json()["code"]) == (404, "not_found")


def test_an_unknown_scope_is_refused_with_422(client_with_token, fm_of_lukio, lukio_request):
    response = post(client_with_token(fm_of_lukio), f"/approvals/{lukio_request.pk}/approve", {"scope": "forever"})

    assert response.status_code == 422
    assert [error["field"] for error in response.json()["errors"]] == ["body.scope"]


@pytest.mark.parametrize(
    ("scope", "message"), [("forever", "Give one of: 'occurrence', 'following', 'series'."), (5, "Give a text.")]
)
def test_an_unknown_scope_is_answered_with_the_scopes_to_choose_from(
    client_with_token, fm_of_lukio, lukio_request, scope, message
):
    client = client_with_token(fm_of_lukio)
    response = client.post(
        f"{API}/approvals/{lukio_request.pk}/approve",
        {"scope": scope},
        content_type="application/json",
        headers={"Accept-Language": "en"},
    )

    assert response.status_code == 422
    assert response.json()["errors"] == [{"field": "body.scope", "message": message}]
    assert Booking.objects.get(pk=lukio_request.pk).status == BookingStatus.PENDING


# --- history -------------------------------------------------------------------------------------


def test_the_history_lists_the_events_in_order_with_actor_ids(
    client_with_token, joint_campus, lukio_staff, fm_of_lukio, day
):
    booking = book(lukio_staff, joint_campus.classroom, at(day, 10), at(day, 11), title="Maths").first
    booking_update(booking=booking, actor=lukio_staff, title="Maths revision")
    booking_cancel(booking=Booking.objects.get(pk=booking.pk), actor=fm_of_lukio, reason="Exams")

    response = client_with_token(lukio_staff).get(f"{API}/bookings/{booking.pk}/history")

    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 3
    assert [(e["action"], e["actor"]) for e in body["items"]] == [
        ("create", lukio_staff.pk),
        ("change", lukio_staff.pk),
        ("cancel", fm_of_lukio.pk),
    ]
    create, change, cancel = body["items"]
    assert create["before"] is None
    assert (change["before"]["title"], change["after"]["title"]) == ("Maths", "Maths revision")
    assert (cancel["after"]["status"], cancel["reason"]) == ("cancelled", "Exams")
    assert [e["id"] for e in body["items"]] == sorted(e["id"] for e in body["items"])


def test_the_history_of_an_expired_request_shows_no_actor(
    requests_needed, client_with_token, joint_campus, vocational_staff, day
):
    request = book(vocational_staff, joint_campus.classroom, at(day, 10), at(day, 11)).first
    requests_expire(now=request.expires_at)

    items = client_with_token(vocational_staff).get(f"{API}/bookings/{request.pk}/history").json()["items"]

    assert [(e["action"], e["actor"]) for e in items] == [("request", vocational_staff.pk), ("expire", None)]


def test_the_history_is_hidden_from_those_who_may_not_see_the_booking(
    client_with_token, joint_campus, lukio_staff, vocational_staff, day
):
    booking = book(lukio_staff, joint_campus.classroom, at(day, 10), at(day, 11)).first  # visible to the lukio

    response = client_with_token(vocational_staff).get(f"{API}/bookings/{booking.pk}/history")

    assert response.status_code == 403


def test_the_history_of_an_unknown_booking_answers_404(client_with_token, lukio_staff):
    assert client_with_token(lukio_staff).get(f"{API}/bookings/999999/history").status_code == 404


# --- handover ------------------------------------------------------------------------------------


def test_handing_a_series_over_answers_its_future_occurrences(
    client_with_token, joint_campus, lukio_staff, substitute, day
):
    result = book(lukio_staff, joint_campus.classroom, at(day, 10), at(day, 11), rrule="FREQ=WEEKLY;COUNT=3")

    response = post(
        client_with_token(lukio_staff),
        f"/bookings/{result.first.pk}/handover",
        {"to_user": "lukio.substitute", "reason": "Parental leave"},
    )

    assert response.status_code == 200, response.content
    assert [item["id"] for item in response.json()] == [b.pk for b in result.bookings]
    assert set(Booking.objects.values_list("booked_by", flat=True)) == {substitute.pk}
    assert BookingEvent.objects.filter(action=BookingAction.HANDOVER, actor=lukio_staff).count() == 3


def test_handing_over_to_an_unknown_user_answers_422(client_with_token, joint_campus, lukio_staff, day):
    booking = book(lukio_staff, joint_campus.classroom, at(day, 10), at(day, 11)).first

    response = post(client_with_token(lukio_staff), f"/bookings/{booking.pk}/handover", {"to_user": "nobody"})

    assert response.status_code == 422
    assert [error["field"] for error in response.json()["errors"]] == ["body.to_user"]


def test_handing_over_to_someone_outside_the_institution_answers_422(
    client_with_token, joint_campus, lukio_staff, vocational_staff, day
):
    booking = book(lukio_staff, joint_campus.classroom, at(day, 10), at(day, 11)).first

    response = post(client_with_token(lukio_staff), f"/bookings/{booking.pk}/handover", {"to_user": "voc.teacher"})

    assert response.status_code == 422
    assert [error["field"] for error in response.json()["errors"]] == ["to_user"]
    assert Booking.objects.get(pk=booking.pk).booked_by == lukio_staff


def test_handing_over_someone_elses_booking_answers_403(client_with_token, joint_campus, lukio_staff, substitute, day):
    booking = book(lukio_staff, joint_campus.classroom, at(day, 10), at(day, 11)).first

    response = post(client_with_token(substitute), f"/bookings/{booking.pk}/handover", {"to_user": "lukio.substitute"})

    assert response.status_code == 403


# --- closures ------------------------------------------------------------------------------------


def test_closing_a_room_answers_201_with_the_closure_and_the_affected_bookings(
    client_with_token, joint_campus, lukio_staff, fm_of_lukio, day
):
    inside = book(lukio_staff, joint_campus.classroom, at(day, 10), at(day, 11), title="Maths").first
    book(lukio_staff, joint_campus.classroom, at(day, 15), at(day, 16))

    response = post(
        client_with_token(fm_of_lukio),
        "/closures",
        {"room": joint_campus.classroom.pk, "start": iso(at(day, 8)), "end": iso(at(day, 14)), "reason": "Leak"},
    )

    assert response.status_code == 201, response.content
    body = response.json()
    closure = Closure.objects.get()
    assert body["closure"] == {
        "id": closure.pk,
        "room": joint_campus.classroom.pk,
        "building": None,
        "start": body["closure"]["start"],
        "end": body["closure"]["end"],
        "reason": "Leak",
        "created_by": fm_of_lukio.pk,
    }
    assert dt.datetime.fromisoformat(body["closure"]["start"]) == at(day, 8)
    assert [(b["id"], b["title"]) for b in body["affected"]] == [(inside.pk, "Maths")]


def test_the_campus_facility_manager_closes_a_building(client_with_token, joint_campus, campus_fm, lukio_staff, day):
    booking = book(lukio_staff, joint_campus.lab, at(day, 10), at(day, 11)).first

    response = post(
        client_with_token(campus_fm),
        "/closures",
        {
            "building": joint_campus.main_building.pk,
            "start": iso(at(day, 7)),
            "end": iso(at(day, 21)),
            "reason": "Works",
        },
    )

    assert response.status_code == 201
    assert [b["id"] for b in response.json()["affected"]] == [booking.pk]


@pytest.mark.parametrize(
    ("caller", "target"), [("lukio_staff", "room"), ("fm_of_lukio", "building"), ("vocational_staff", "room")]
)
def test_closing_without_the_right_answers_403(request, client_with_token, joint_campus, day, caller, target):
    place = {"room": joint_campus.classroom.pk} if target == "room" else {"building": joint_campus.main_building.pk}

    response = post(
        client_with_token(request.getfixturevalue(caller)),
        "/closures",
        {**place, "start": iso(at(day, 7)), "end": iso(at(day, 21)), "reason": "Works"},
    )

    assert response.status_code == 403
    assert not Closure.objects.exists()


def test_a_closure_of_an_unknown_room_answers_422(client_with_token, campus_fm, joint_campus, day):
    response = post(
        client_with_token(campus_fm),
        "/closures",
        {"room": 999999, "start": iso(at(day, 7)), "end": iso(at(day, 21)), "reason": "Works"},
    )

    assert response.status_code == 422
    assert [error["field"] for error in response.json()["errors"]] == ["body.room"]


def test_the_bookings_of_a_closure_are_listed_and_cancelled_in_one_step(
    client_with_token, joint_campus, lukio_staff, vocational_staff, campus_fm, day
):
    first = book(lukio_staff, joint_campus.classroom, at(day, 10), at(day, 11)).first
    second = book(vocational_staff, joint_campus.shared_auditorium, at(day, 12), at(day, 13)).first
    closure, _ = closure_create(
        actor=campus_fm, building=joint_campus.main_building, start=at(day, 7), end=at(day, 21), reason="Works"
    )
    client = client_with_token(campus_fm)

    listed = client.get(f"{API}/closures/{closure.pk}/bookings")
    assert listed.status_code == 200
    assert [b["id"] for b in listed.json()] == [first.pk, second.pk]

    cancelled = post(client, f"/closures/{closure.pk}/cancel-bookings")
    assert cancelled.status_code == 200
    assert [(b["id"], b["status"]) for b in cancelled.json()] == [(first.pk, "cancelled"), (second.pk, "cancelled")]
    assert client.get(f"{API}/closures/{closure.pk}/bookings").json() == []


def test_staff_cannot_cancel_the_bookings_of_a_closure(client_with_token, joint_campus, lukio_staff, fm_of_lukio, day):
    booking = book(lukio_staff, joint_campus.classroom, at(day, 10), at(day, 11)).first
    closure, _ = closure_create(
        actor=fm_of_lukio, room=joint_campus.classroom, start=at(day, 7), end=at(day, 21), reason="Works"
    )

    response = post(client_with_token(lukio_staff), f"/closures/{closure.pk}/cancel-bookings")

    assert response.status_code == 403
    assert Booking.objects.get(pk=booking.pk).status == BookingStatus.CONFIRMED


def test_unknown_closures_answer_404(client_with_token, campus_fm, joint_campus):
    client = client_with_token(campus_fm)

    assert client.get(f"{API}/closures/999999/bookings").status_code == 404
    assert post(client, "/closures/999999/cancel-bookings").status_code == 404


# --- a room's rules, broken rules, overrides ----------------------------------------------------


def test_a_rooms_rules_show_the_effective_policy(client_with_token, joint_campus, lukio_staff):
    BookingPolicy.objects.create(campus=joint_campus.campus, max_duration_minutes=180, min_notice_minutes=60)
    BookingPolicy.objects.create(room=joint_campus.classroom, max_duration_minutes=90, other_access=Access.REQUEST)

    response = client_with_token(lukio_staff).get(f"{API}/rooms/{joint_campus.classroom.pk}/rules")

    assert response.status_code == 200
    assert response.json() == {
        "min_duration_minutes": 15,
        "max_duration_minutes": 90,
        "min_notice_minutes": 60,
        "max_advance_days": 365,
        "max_active_bookings": 50,
        "owner_access": "direct",
        "other_access": "request",
        "owner_window_days": 365,
        "other_window_days": 180,
        "request_expiry_hours": 72,
        "check_in": "sensor",
        "no_show_minutes": 15,
    }


def test_the_rules_of_an_unknown_room_answer_404(client_with_token, lukio_staff):
    assert client_with_token(lukio_staff).get(f"{API}/rooms/999999/rules").status_code == 404


def post_booking(client, room, start: dt.datetime, end: dt.datetime, **extra):
    return post(client, "/bookings", {"room": room.pk, "title": "Exam", "start": iso(start), "end": iso(end), **extra})


def test_a_broken_rule_answers_422_with_its_code_rule_and_allowed_value(
    client_with_token, joint_campus, lukio_staff, day
):
    BookingPolicy.objects.create(room=joint_campus.classroom, max_duration_minutes=120)

    response = post_booking(client_with_token(lukio_staff), joint_campus.classroom, at(day, 8), at(day, 12))

    assert response.status_code == 422
    body = response.json()
    assert {key: body[key] for key in ("code", "rule", "allowed", "can_override")} == {
        "code": "too_long",
        "rule": "max_duration",
        "allowed": 120,
        "can_override": False,
    }
    assert "120" in body["detail"]  # in the caller's language


def test_a_window_refusal_answers_the_latest_date_allowed(client_with_token, joint_campus, vocational_staff):
    BookingPolicy.objects.create(room=joint_campus.classroom, other_window_days=14)
    target = next_weekday_after(today() + dt.timedelta(days=30), TUESDAY)

    response = post_booking(client_with_token(vocational_staff), joint_campus.classroom, at(target, 10), at(target, 11))

    assert response.status_code == 422
    body = response.json()
    assert (body["code"], body["rule"]) == ("too_far_ahead", "other_window")
    latest = timezone.now().astimezone(HELSINKI).date() + dt.timedelta(days=14)
    assert body["allowed"] == latest.isoformat()


def test_a_facility_manager_overrides_a_rule_with_a_reason_through_the_api(
    client_with_token, joint_campus, fm_of_lukio, day
):
    BookingPolicy.objects.create(room=joint_campus.classroom, max_duration_minutes=120)
    client = client_with_token(fm_of_lukio)

    refused = post_booking(client, joint_campus.classroom, at(day, 8), at(day, 14))
    assert refused.status_code == 422
    assert refused.json()["can_override"] is True

    response = post_booking(client, joint_campus.classroom, at(day, 8), at(day, 14), override_reason="Matriculation")

    assert response.status_code == 201, response.content
    event = BookingEvent.objects.get(action=BookingAction.OVERRIDE)
    assert (event.booking_id, event.actor_id, event.reason) == (response.json()["id"], fm_of_lukio.pk, "Matriculation")


def test_staff_cannot_override_through_the_api(client_with_token, joint_campus, lukio_staff, day):
    BookingPolicy.objects.create(room=joint_campus.classroom, max_duration_minutes=120)

    response = post_booking(
        client_with_token(lukio_staff), joint_campus.classroom, at(day, 8), at(day, 14), override_reason="Please"
    )

    assert response.status_code == 422
    assert response.json()["can_override"] is False
    assert not Booking.objects.exists()


def test_a_request_through_the_api_answers_pending_with_its_expiry(
    requests_needed, client_with_token, joint_campus, vocational_staff, day
):
    before = timezone.now()

    response = post_booking(client_with_token(vocational_staff), joint_campus.classroom, at(day, 10), at(day, 11))

    assert response.status_code == 201
    assert response.json()["status"] == "pending"
    booking = Booking.objects.get()
    assert before + dt.timedelta(hours=72) <= booking.expires_at <= timezone.now() + dt.timedelta(hours=72)


def test_a_refused_handover_names_nobody_and_does_not_tell_who_has_an_account(
    client_with_token, lukio_staff, vocational_staff, joint_campus, monday
):
    booking = book(lukio_staff, joint_campus.classroom, at(monday, 10), at(monday, 11)).first
    api = client_with_token(lukio_staff)

    other = api.post(f"/api/v1/bookings/{booking.pk}/handover", {"to_user": vocational_staff.username},
                     content_type="application/json")  # fmt: skip
    nobody = api.post(f"/api/v1/bookings/{booking.pk}/handover", {"to_user": "no.such.person"},
                      content_type="application/json")  # fmt: skip

    assert other.status_code == nobody.status_code == 422
    assert vocational_staff.get_full_name() not in other.json()["detail"]
    assert other.json()["detail"].replace(vocational_staff.username, "X") == nobody.json()["detail"].replace(
        "no.such.person", "X"
    )
