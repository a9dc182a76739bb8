"""Pages for facility managers and the front desk: approvals, closures and the day list."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse

from bookings import services
from bookings.models import Booking, BookingStatus, Closure, Visibility
from tests.bookings.conftest import at, book, today
from tests.web.conftest import client_for, tomorrow

pytestmark = pytest.mark.usefixtures("always_open")

MANAGER_PAGES = ["manage:approvals", "manage:closures"]
FRONT_DESK_PAGES = ["manage:front-desk", "manage:front-desk-print"]


@pytest.fixture
def closure(joint_campus, campus_fm) -> Closure:
    start = at(today() + dt.timedelta(days=2), 0)
    created, _affected = services.closure_create(
        actor=campus_fm,
        building=joint_campus.main_building,
        start=start,
        end=start + dt.timedelta(days=1),
        reason="Pipes",
    )
    return created


# --- who may open the pages -------------------------------------------------------------------------------


def test_anonymous_visitors_are_sent_to_sign_in(client, closure):
    for url in [reverse(name) for name in MANAGER_PAGES + FRONT_DESK_PAGES] + [
        reverse("manage:closure-detail", args=[closure.pk])
    ]:
        response = client.get(url)
        assert response.status_code == 302, url
        assert response["Location"].startswith(reverse("login"))


@pytest.mark.parametrize("name", ["lukio_staff", "lukio_admin"])
def test_staff_and_institution_admins_are_forbidden(request, closure, name):
    client = client_for(request.getfixturevalue(name))
    for url in [reverse(page) for page in MANAGER_PAGES + FRONT_DESK_PAGES] + [
        reverse("manage:closure-detail", args=[closure.pk])
    ]:
        assert client.get(url).status_code == 403, url
    assert client.post(reverse("manage:approve", args=[1])).status_code == 403
    assert (
        client.post(reverse("manage:closure-cancel-bookings", args=[closure.pk]), {"confirm": "on"}).status_code == 403
    )


def test_the_front_desk_reaches_the_day_list_but_not_the_managers_pages(front_desk):
    client = client_for(front_desk)
    for name in FRONT_DESK_PAGES:
        assert client.get(reverse(name)).status_code == 200
    for name in MANAGER_PAGES:
        assert client.get(reverse(name)).status_code == 403


@pytest.mark.parametrize("name", ["fm_of_lukio", "campus_fm"])
def test_facility_managers_reach_every_manage_page(request, closure, name):
    client = client_for(request.getfixturevalue(name))
    for page in MANAGER_PAGES + FRONT_DESK_PAGES:
        response = client.get(reverse(page))
        assert response.status_code == 200, page
    assert client.get(reverse("manage:closure-detail", args=[closure.pk])).status_code == 200
    html = client.get(reverse("manage:approvals")).content.decode()
    assert reverse("admin:campus_room_changelist") in html
    assert reverse("admin:bookings_bookingpolicy_changelist") in html
    assert reverse("admin:bookings_closure_changelist") in html


# --- approvals ----------------------------------------------------------------------------------------------


def test_the_queue_shows_the_requests_the_manager_decides(
    joint_campus, vocational_staff, fm_of_lukio, campus_fm, requests_for_classroom
):
    first = tomorrow(9)
    book(vocational_staff, joint_campus.classroom, tomorrow(14), tomorrow(15), title="Welding theory")
    book(
        vocational_staff,
        joint_campus.classroom,
        first,
        first + dt.timedelta(hours=1),
        title="Weekly course",
        rrule="FREQ=WEEKLY;COUNT=4",
    )

    response = client_for(fm_of_lukio).get(reverse("manage:approvals"))

    entries = response.context["entries"]
    assert [(entry.first.title, entry.count) for entry in entries] == [("Welding theory", 1), ("Weekly course", 4)]
    html = response.content.decode()
    assert html.count("Weekly course</h2>") == 1
    assert "4 occurrences waiting" in html
    assert "weekly series" in html
    assert reverse("bookings:detail", args=[entries[0].first.pk]) in html
    # The classroom is the lukio's: the campus's facility managers do not decide its requests.
    assert client_for(campus_fm).get(reverse("manage:approvals")).context["entries"] == []


def test_approve_a_single_request(joint_campus, vocational_staff, fm_of_lukio, requests_for_classroom):
    booking = book(vocational_staff, joint_campus.classroom, tomorrow(14), tomorrow(15), title="Welding theory").first
    client = client_for(fm_of_lukio)

    response = client.post(reverse("manage:approve", args=[booking.pk]), {f"decide-{booking.pk}-reason": ""})

    assert response.status_code == 302
    assert Booking.objects.get(pk=booking.pk).status == BookingStatus.CONFIRMED
    assert "Approved: Welding theory." in client.get(response["Location"]).content.decode()


def test_reject_needs_a_reason(joint_campus, vocational_staff, fm_of_lukio, requests_for_classroom):
    booking = book(vocational_staff, joint_campus.classroom, tomorrow(14), tomorrow(15)).first
    client = client_for(fm_of_lukio)

    refused = client.post(reverse("manage:reject", args=[booking.pk]), {f"decide-{booking.pk}-reason": "  "})

    assert refused.status_code == 422
    html = refused.content.decode()
    assert "Give a reason" in html
    assert f'href="#id_decide-{booking.pk}-reason"' in html
    assert f'aria-describedby="id_decide-{booking.pk}-reason_helptext id_decide-{booking.pk}-reason_error"' in html
    assert Booking.objects.get(pk=booking.pk).status == BookingStatus.PENDING

    response = client.post(
        reverse("manage:reject", args=[booking.pk]), {f"decide-{booking.pk}-reason": "The room is needed for exams."}
    )

    assert response.status_code == 302
    booking.refresh_from_db()
    assert booking.status == BookingStatus.REJECTED
    assert booking.decision_reason == "The room is needed for exams."


@pytest.mark.parametrize(("scope", "confirmed"), [("occurrence", 1), ("series", 3)])
def test_approve_a_series_by_occurrence_or_whole(
    joint_campus, vocational_staff, fm_of_lukio, requests_for_classroom, scope, confirmed
):
    first = tomorrow(9)
    result = book(
        vocational_staff, joint_campus.classroom, first, first + dt.timedelta(hours=1), rrule="FREQ=WEEKLY;COUNT=3"
    )
    prefix = f"decide-{result.first.pk}"

    response = client_for(fm_of_lukio).post(
        reverse("manage:approve", args=[result.first.pk]), {f"{prefix}-scope": scope, f"{prefix}-reason": ""}
    )

    assert response.status_code == 302
    statuses = list(Booking.objects.filter(series=result.series).order_by("start").values_list("status", flat=True))
    assert statuses.count(BookingStatus.CONFIRMED) == confirmed
    assert statuses[0] == BookingStatus.CONFIRMED


def test_reject_a_whole_series(joint_campus, vocational_staff, fm_of_lukio, requests_for_classroom):
    first = tomorrow(9)
    result = book(
        vocational_staff, joint_campus.classroom, first, first + dt.timedelta(hours=1), rrule="FREQ=WEEKLY;COUNT=3"
    )
    prefix = f"decide-{result.first.pk}"
    client_for(fm_of_lukio).post(
        reverse("manage:reject", args=[result.first.pk]), {f"{prefix}-scope": "series", f"{prefix}-reason": "Full"}
    )
    assert set(Booking.objects.filter(series=result.series).values_list("status", flat=True)) == {
        BookingStatus.REJECTED
    }


def test_a_manager_cannot_decide_for_another_owners_room(
    joint_campus, vocational_staff, campus_fm, requests_for_classroom
):
    booking = book(vocational_staff, joint_campus.classroom, tomorrow(14), tomorrow(15)).first
    response = client_for(campus_fm).post(reverse("manage:approve", args=[booking.pk]))
    assert response.status_code == 403
    assert Booking.objects.get(pk=booking.pk).status == BookingStatus.PENDING


def test_the_approvals_queue_runs_a_fixed_number_of_queries(
    django_assert_max_num_queries, joint_campus, vocational_staff, fm_of_lukio, requests_for_classroom
):
    first = tomorrow(7)
    book(vocational_staff, joint_campus.classroom, first, first + dt.timedelta(hours=1), rrule="FREQ=WEEKLY;COUNT=6")
    for hour in (10, 12, 14, 16):
        book(vocational_staff, joint_campus.classroom, tomorrow(hour), tomorrow(hour + 1), title=f"Request {hour}")
    client = client_for(fm_of_lukio)
    with django_assert_max_num_queries(9):
        response = client.get(reverse("manage:approvals"))
    assert len(response.context["entries"]) == 5


# --- closures -------------------------------------------------------------------------------------------------


def test_close_a_building_list_the_affected_and_cancel_them_all(joint_campus, lukio_staff, vocational_staff, campus_fm):
    day = today() + dt.timedelta(days=3)
    booking = book(lukio_staff, joint_campus.classroom, at(day, 10), at(day, 11), title="Maths 1A").first
    book(vocational_staff, joint_campus.lab, at(day, 12), at(day, 13), title="Lab safety")
    client = client_for(campus_fm)

    form_page = client.get(reverse("manage:closures")).content.decode()
    assert f'value="building:{joint_campus.main_building.pk}"' in form_page

    response = client.post(
        reverse("manage:closures"),
        {
            "target": f"building:{joint_campus.main_building.pk}",
            "start_date": day.isoformat(),
            "end_date": day.isoformat(),
            "reason": "Water damage",
        },
    )

    closure = Closure.objects.get(reason="Water damage")
    assert response.status_code == 302
    assert response["Location"] == reverse("manage:closure-detail", args=[closure.pk])
    assert (closure.start, closure.end) == (at(day, 0), at(day + dt.timedelta(days=1), 0))
    detail = client.get(response["Location"]).content.decode()
    assert "2 bookings fall into the closure" in detail
    assert "Maths 1A" in detail
    assert "Lab safety" in detail
    assert "Liisa Lehtonen" in detail
    listing = client.get(reverse("manage:closures"))
    assert [c.affected_count for c in listing.context["closures"]] == [2]

    unconfirmed = client.post(reverse("manage:closure-cancel-bookings", args=[closure.pk]))
    assert unconfirmed.status_code == 422
    assert "Tick the box" in unconfirmed.content.decode()
    assert Booking.objects.get(pk=booking.pk).status == BookingStatus.CONFIRMED

    done = client.post(reverse("manage:closure-cancel-bookings", args=[closure.pk]), {"confirm": "on"})

    assert done.status_code == 302
    assert set(Booking.objects.values_list("status", flat=True)) == {BookingStatus.CANCELLED}
    assert "2 bookings were cancelled" in client.get(done["Location"]).content.decode()


def test_a_closure_form_error_is_linked_to_its_field(joint_campus, campus_fm):
    day = today() + dt.timedelta(days=3)
    response = client_for(campus_fm).post(
        reverse("manage:closures"),
        {
            "target": f"room:{joint_campus.lab.pk}",
            "start_date": day.isoformat(),
            "start_time": "12:00",
            "end_date": day.isoformat(),
            "end_time": "10:00",
            "reason": "Renovation",
        },
    )
    assert response.status_code == 422
    html = response.content.decode()
    assert "The end must be after the start." in html
    assert 'href="#id_end_time"' in html
    assert not Closure.objects.exists()


def test_an_institutions_manager_closes_only_its_rooms(joint_campus, fm_of_lukio):
    day = today() + dt.timedelta(days=3)
    client = client_for(fm_of_lukio)
    page = client.get(reverse("manage:closures")).content.decode()
    assert f'value="room:{joint_campus.classroom.pk}"' in page
    assert f'value="building:{joint_campus.main_building.pk}"' not in page
    assert f'value="room:{joint_campus.shared_auditorium.pk}"' not in page
    response = client.post(
        reverse("manage:closures"),
        {
            "target": f"building:{joint_campus.main_building.pk}",
            "start_date": day.isoformat(),
            "end_date": day.isoformat(),
            "reason": "Mine now",
        },
    )
    assert response.status_code == 422
    assert not Closure.objects.exists()
    response = client.post(
        reverse("manage:closures"),
        {
            "target": f"room:{joint_campus.classroom.pk}",
            "start_date": day.isoformat(),
            "end_date": day.isoformat(),
            "reason": "New floor",
        },
    )
    assert response.status_code == 302
    assert Closure.objects.get().room == joint_campus.classroom


# --- front desk -----------------------------------------------------------------------------------------------


@pytest.fixture
def day_of_bookings(joint_campus, lukio_staff, vocational_staff, front_desk):
    """Tomorrow: a private lukio lesson, a private vocational meeting in the shared hall, a visitor's event."""
    book(lukio_staff, joint_campus.classroom, tomorrow(10), tomorrow(11), title="Maths 1A")
    book(
        vocational_staff,
        joint_campus.shared_auditorium,
        tomorrow(8),
        tomorrow(9),
        title="Secret staff meeting",
        visibility=Visibility.INSTITUTION,
    )
    book(
        front_desk,
        joint_campus.shared_auditorium,
        tomorrow(18),
        tomorrow(20),
        title="Choir rehearsal",
        on_behalf_of_name="Maija Meikäläinen",
        on_behalf_of_organisation="Town choir",
        on_behalf_of_contact="040 123 4567",
    )
    cancelled = book(lukio_staff, joint_campus.lab, tomorrow(12), tomorrow(13), title="Dropped lab").first
    services.booking_cancel(booking=cancelled, actor=lukio_staff)


def test_the_front_desk_sees_every_title_of_the_day_by_room(front_desk, day_of_bookings):
    client = client_for(front_desk)
    response = client.get(reverse("manage:front-desk"), {"date": (today() + dt.timedelta(days=1)).isoformat()})

    assert response.status_code == 200
    html = response.content.decode()
    assert "Maths 1A" in html
    assert "Secret staff meeting" in html
    assert "Maija Meikäläinen" in html
    assert "Town choir" in html
    assert "Dropped lab" not in html
    rooms = [room_day.room.code for building in response.context["buildings"] for room_day in building.rooms]
    assert rooms == ["A001", "A101"]
    auditorium = response.context["buildings"][0].rooms[0].bookings
    assert [b.title for b in auditorium] == ["Secret staff meeting", "Choir rehearsal"]
    assert reverse("bookings:new") in html
    assert reverse("manage:front-desk-print") in html

    with_cancelled = client.get(
        reverse("manage:front-desk"), {"date": (today() + dt.timedelta(days=1)).isoformat(), "all": "1"}
    )
    assert "Dropped lab" in with_cancelled.content.decode()

    printable = client.get(reverse("manage:front-desk-print"), {"date": (today() + dt.timedelta(days=1)).isoformat()})
    assert printable.status_code == 200
    assert "Secret staff meeting" in printable.content.decode()


def test_the_day_list_defaults_to_today_and_survives_a_bad_date(front_desk):
    client = client_for(front_desk)
    assert client.get(reverse("manage:front-desk")).context["day"] == today()
    response = client.get(reverse("manage:front-desk"), {"date": "not-a-date"})
    assert response.status_code == 200
    assert response.context["day"] == today()
    assert "is not a date" in response.content.decode()


def test_an_institutions_manager_does_not_see_other_institutions_private_titles(fm_of_lukio, day_of_bookings):
    response = client_for(fm_of_lukio).get(
        reverse("manage:front-desk"), {"date": (today() + dt.timedelta(days=1)).isoformat()}
    )
    html = response.content.decode()
    assert "Maths 1A" in html
    assert "Secret staff meeting" not in html
    assert "Reserved" in html
