"""Bookings in the admin: every write goes through the booking services."""

from __future__ import annotations

import datetime as dt
import zoneinfo

from django.urls import reverse

from bookings import services
from bookings.models import Booking, BookingEvent, BookingStatus, Closure
from tests.bookings.conftest import at


def add_form(room, day: dt.date, start: str, end: str, **extra) -> dict:
    data = {
        "room": room.pk,
        "title": "Admin booking",
        "description": "",
        "purpose": "meeting",
        "institution": "",
        "start_0": day.isoformat(),
        "start_1": start,
        "end_0": day.isoformat(),
        "end_1": end,
        "rrule": "",
        "attendees": "",
        "visibility": "institution",
        "on_behalf_of_name": "",
        "on_behalf_of_contact": "",
        "on_behalf_of_organisation": "",
        "override_reason": "",
    }
    data.update(extra)
    return data


def test_facility_manager_books_through_the_admin_add_form(client, joint_campus, campus_fm, tuesday):
    client.force_login(campus_fm)
    response = client.post(
        reverse("admin:bookings_booking_add"), add_form(joint_campus.shared_auditorium, tuesday, "10:00", "11:00")
    )
    assert response.status_code == 302, response.context["adminform"].form.errors if response.context else response
    booking = Booking.objects.get()
    assert booking.start == at(tuesday, 10)
    assert booking.booked_by == campus_fm
    assert booking.blocks.count() == 1
    assert BookingEvent.objects.filter(booking=booking, action="create").exists()


def test_admin_add_form_shows_a_clash_and_writes_nothing(client, joint_campus, campus_fm, lukio_staff, tuesday):
    services.booking_create(
        room=joint_campus.shared_auditorium,
        booked_by=lukio_staff,
        title="Gala",
        start=at(tuesday, 10),
        end=at(tuesday, 12),
    )
    client.force_login(campus_fm)
    response = client.post(
        reverse("admin:bookings_booking_add"), add_form(joint_campus.shared_auditorium, tuesday, "11:00", "13:00")
    )
    assert response.status_code == 200
    errors = response.context["adminform"].form.non_field_errors()
    assert any("Gala" in error for error in errors)
    assert Booking.objects.count() == 1


def test_admin_add_form_books_a_weekly_series(client, joint_campus, campus_fm, tuesday):
    client.force_login(campus_fm)
    response = client.post(
        reverse("admin:bookings_booking_add"),
        add_form(joint_campus.shared_auditorium, tuesday, "08:00", "09:00", rrule="FREQ=WEEKLY;COUNT=3"),
    )
    assert response.status_code == 302
    assert Booking.objects.filter(series__isnull=False).count() == 3


def test_admin_change_form_moves_a_booking_with_the_service(client, joint_campus, campus_fm, lukio_staff, tuesday):
    booking = services.booking_create(
        room=joint_campus.shared_auditorium,
        booked_by=lukio_staff,
        title="Gala",
        start=at(tuesday, 10),
        end=at(tuesday, 12),
    ).first
    client.force_login(campus_fm)
    url = reverse("admin:bookings_booking_change", args=[booking.pk])
    page = client.get(url)
    assert page.status_code == 200
    data = add_form(joint_campus.shared_auditorium, tuesday, "13:00", "14:00", title="Gala", scope="occurrence")
    data["purpose"] = booking.purpose
    response = client.post(url, data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    booking.refresh_from_db()
    assert booking.start == at(tuesday, 13)
    assert BookingEvent.objects.filter(booking=booking, action="change").exists()


def test_changelist_filters_and_approve_action(
    client, joint_campus, requests_for_classroom, fm_of_lukio, vocational_staff, tuesday
):
    request = services.booking_create(
        room=joint_campus.classroom,
        booked_by=vocational_staff,
        title="Visit",
        start=at(tuesday, 10),
        end=at(tuesday, 11),
    ).first
    assert request.status == BookingStatus.PENDING
    client.force_login(fm_of_lukio)
    changelist = reverse("admin:bookings_booking_changelist")
    assert client.get(changelist, {"status__exact": "pending"}).status_code == 200
    assert client.get(changelist, {"q": "Visit"}).status_code == 200
    response = client.post(changelist, {"action": "approve_requests", "_selected_action": [request.pk]})
    assert response.status_code == 302
    request.refresh_from_db()
    assert request.status == BookingStatus.CONFIRMED
    assert request.decided_by == fm_of_lukio


def test_closure_added_in_the_admin_lists_and_cancels_bookings(client, joint_campus, campus_fm, lukio_staff, tuesday):
    booking = services.booking_create(
        room=joint_campus.classroom,
        booked_by=lukio_staff,
        title="Lesson",
        start=at(tuesday, 10),
        end=at(tuesday, 11),
    ).first
    client.force_login(campus_fm)
    response = client.post(
        reverse("admin:bookings_closure_add"),
        {
            "room": "",
            "building": joint_campus.main_building.pk,
            "start_0": tuesday.isoformat(),
            "start_1": "00:00",
            "end_0": (tuesday + dt.timedelta(days=1)).isoformat(),
            "end_1": "00:00",
            "reason": "Matriculation exams",
        },
    )
    assert response.status_code == 302
    closure = Closure.objects.get()
    page = client.get(reverse("admin:bookings_closure_change", args=[closure.pk]))
    assert "Lesson" in page.content.decode()
    client.post(
        reverse("admin:bookings_closure_changelist"),
        {"action": "cancel_affected_bookings", "_selected_action": [closure.pk]},
    )
    booking.refresh_from_db()
    assert booking.status == BookingStatus.CANCELLED


def test_audit_log_is_read_only_in_the_admin(client, joint_campus, campus_fm, lukio_staff, tuesday):
    booking = services.booking_create(
        room=joint_campus.classroom,
        booked_by=lukio_staff,
        title="Lesson",
        start=at(tuesday, 10),
        end=at(tuesday, 11),
    ).first
    event = BookingEvent.objects.get(booking=booking)
    client.force_login(campus_fm)
    assert client.get(reverse("admin:bookings_bookingevent_changelist")).status_code == 200
    assert client.get(reverse("admin:bookings_bookingevent_add")).status_code == 403
    assert client.post(reverse("admin:bookings_bookingevent_delete", args=[event.pk])).status_code == 403


def test_staff_cannot_reach_the_bookings_admin(client, lukio_staff):
    client.force_login(lukio_staff)
    response = client.get(reverse("admin:bookings_booking_changelist"))
    assert response.status_code == 302


def test_admin_users_of_another_institution_never_see_private_bookings(
    client, joint_campus, lukio_staff, lukio_admin, fm_of_vocational, tuesday
):
    booking = services.booking_create(
        room=joint_campus.classroom,
        booked_by=lukio_staff,
        title="Disciplinary hearing",
        start=at(tuesday, 10),
        end=at(tuesday, 11),
        on_behalf_of_contact="+358 40 555 1234",
    ).first
    event = BookingEvent.objects.get(booking=booking)
    for outsider in (fm_of_vocational, lukio_admin):
        client.force_login(outsider)
        listing = client.get(reverse("admin:bookings_booking_changelist"))
        assert "Disciplinary hearing" not in listing.content.decode()
        assert client.get(reverse("admin:bookings_booking_change", args=[booking.pk])).status_code in (302, 403)
        assert client.get(reverse("admin:bookings_bookingevent_change", args=[event.pk])).status_code in (302, 403)


def test_the_owners_facility_manager_sees_bookings_of_their_rooms(
    client, joint_campus, lukio_staff, fm_of_lukio, tuesday
):
    booking = services.booking_create(
        room=joint_campus.classroom,
        booked_by=lukio_staff,
        title="Disciplinary hearing",
        start=at(tuesday, 10),
        end=at(tuesday, 11),
    ).first
    client.force_login(fm_of_lukio)
    assert "Disciplinary hearing" in client.get(reverse("admin:bookings_booking_changelist")).content.decode()
    assert client.get(reverse("admin:bookings_booking_change", args=[booking.pk])).status_code == 200


def test_admin_reject_action_asks_for_a_reason_then_rejects(
    client, joint_campus, requests_for_classroom, fm_of_lukio, vocational_staff, tuesday
):
    request = services.booking_create(
        room=joint_campus.classroom,
        booked_by=vocational_staff,
        title="Visit",
        start=at(tuesday, 10),
        end=at(tuesday, 11),
    ).first
    client.force_login(fm_of_lukio)
    changelist = reverse("admin:bookings_booking_changelist")
    ask = client.post(changelist, {"action": "reject_requests", "_selected_action": [request.pk]})
    assert ask.status_code == 200
    assert "reason" in ask.content.decode()
    request.refresh_from_db()
    assert request.status == BookingStatus.PENDING
    done = client.post(
        changelist, {"action": "reject_requests", "_selected_action": [request.pk], "reason": "Exams that day"}
    )
    assert done.status_code == 302
    request.refresh_from_db()
    assert request.status == BookingStatus.REJECTED
    assert request.decision_reason == "Exams that day"
    page = client.get(reverse("admin:bookings_booking_change", args=[request.pk]))
    assert reverse("bookings:cancel", args=[request.pk]) in page.content.decode()


def test_the_admin_change_page_names_the_booking_in_campus_time(client, joint_campus, campus_fm, lukio_staff, tuesday):
    result = services.booking_create(
        room=joint_campus.classroom,
        booked_by=lukio_staff,
        title="Chemistry",
        start=at(tuesday, 10, 15),
        end=at(tuesday, 11),
    )
    client.force_login(campus_fm)

    html = client.get(reverse("admin:bookings_booking_change", args=[result.first.pk])).content.decode()

    heading = html.split("<h2>", 1)[1].split("</h2>", 1)[0]
    breadcrumbs = html.split('class="breadcrumbs"', 1)[1].split("</div>", 1)[0]
    local_start = f"{tuesday:%Y-%m-%d} 10:15"  # not the UTC 08:15
    assert local_start in heading
    assert local_start in breadcrumbs


def test_a_booking_reads_in_its_campus_zone_whatever_zone_is_active(joint_campus, lukio_staff, tuesday):
    from django.utils import timezone

    result = services.booking_create(
        room=joint_campus.classroom,
        booked_by=lukio_staff,
        title="Maths",
        start=at(tuesday, 8),
        end=at(tuesday, 9),
    )

    with timezone.override(zoneinfo.ZoneInfo("America/New_York")):
        assert f"{tuesday:%Y-%m-%d} 08:00" in str(result.first)
