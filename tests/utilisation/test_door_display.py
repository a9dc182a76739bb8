"""Door displays: set up by the room's managers, a secret address without sign-in, public titles only,
check-in from the door, revoked and unknown addresses answering 404."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from bookings.models import Booking, BookingAction, BookingEvent, Visibility
from campus.exceptions import PermissionDenied
from campus.tokens import hash_token
from sensors.models import Sensor, SensorKind
from tests.bookings.conftest import at, book
from tests.utilisation.conftest import read
from utilisation.door_displays import door_board, door_display_create, door_display_revoke
from utilisation.models import DoorDisplay

MINUTE = dt.timedelta(minutes=1)


def running(booking: Booking, *, started_minutes_ago: int = 5) -> Booking:
    """Move ``booking`` so that it started that many minutes ago and lasts an hour."""
    start = timezone.now().replace(microsecond=0) - started_minutes_ago * MINUTE
    Booking.objects.filter(pk=booking.pk).update(start=start, end=start + 60 * MINUTE)
    booking.refresh_from_db()
    return booking


@pytest.fixture
def door(joint_campus, fm_of_lukio) -> str:
    """The secret address part of the classroom's door display."""
    _display, raw = door_display_create(actor=fm_of_lukio, room=joint_campus.classroom, name="A101 door")
    return raw


def page(raw: str, **query: str):
    return Client().get(reverse("door:display", args=[raw]), query)


@pytest.fixture
def private_lesson(joint_campus, lukio_staff, day) -> Booking:
    booking = book(
        lukio_staff,
        joint_campus.classroom,
        at(day, 10),
        at(day, 11),
        title="Exam retake for Ville Virtanen",
        visibility=Visibility.INSTITUTION,
        on_behalf_of_name="Ville Virtanen",
    ).first
    return running(booking)


# --- setting up ------------------------------------------------------------------------------------


def test_the_rooms_manager_sets_up_a_display_and_only_a_hash_of_its_secret_is_stored(joint_campus, fm_of_lukio):
    display, raw = door_display_create(actor=fm_of_lukio, room=joint_campus.classroom, name="A101 door")

    assert raw.startswith("kdd_")
    assert len(raw) > 40
    stored = DoorDisplay.objects.get(pk=display.pk)
    assert stored.hashed_token == hash_token(raw)
    assert raw not in (stored.prefix, stored.hashed_token, stored.name)
    assert stored.prefix == raw[:12]
    assert stored.created_by == fm_of_lukio


def test_a_teacher_may_not_set_up_a_display(joint_campus, lukio_staff):
    with pytest.raises(PermissionDenied):
        door_display_create(actor=lukio_staff, room=joint_campus.classroom, name="mine")
    assert not DoorDisplay.objects.exists()


def test_the_admin_shows_the_new_address_once(client, joint_campus, fm_of_lukio):
    fm_of_lukio.is_staff = True
    fm_of_lukio.save()
    client.force_login(fm_of_lukio)

    response = client.post(
        reverse("admin:utilisation_doordisplay_add"), {"room": joint_campus.classroom.pk, "name": "A101 door"}
    )

    assert response.status_code == 200
    address = re.search(r'value="(http[^"]+/door/(kdd_[^"/]+)/)"', response.content.decode())
    assert address is not None
    display = DoorDisplay.objects.get()
    assert display.hashed_token == hash_token(address.group(2))
    # The change page shows the prefix, never the secret again.
    change = client.get(reverse("admin:utilisation_doordisplay_change", args=[display.pk]))
    assert address.group(2) not in change.content.decode()


# --- the page --------------------------------------------------------------------------------------


def test_the_page_works_without_signing_in_and_refreshes_without_scripts(door, joint_campus):
    response = page(door, lang="en")

    assert response.status_code == 200
    html = response.content.decode()
    assert "A101" in html
    assert "Free" in html
    assert response["Refresh"] == "60"
    assert "<script" not in html
    assert "Content-Security-Policy" in response.headers
    assert response["Cache-Control"] == "no-store"
    # Not no-referrer: that makes browsers send "Origin: null" with the check-in form, which CSRF refuses.
    assert response["Referrer-Policy"] == "same-origin"


def test_a_private_booking_shows_as_reserved_without_personal_data(door, private_lesson, lukio_staff):
    html = page(door, lang="en").content.decode()

    assert "Reserved" in html
    assert "In use" in html
    for personal in ("Ville", "Virtanen", "Exam retake", lukio_staff.last_name, lukio_staff.username):
        assert personal not in html


def test_a_public_booking_shows_its_title_but_not_who_booked_it(door, joint_campus, lukio_staff, day):
    running(
        book(
            lukio_staff,
            joint_campus.classroom,
            at(day, 10),
            at(day, 11),
            title="Open lecture",
            visibility=Visibility.PUBLIC,
            on_behalf_of_name="Maija Meikäläinen",
        ).first
    )
    html = page(door, lang="en").content.decode()

    assert "Open lecture" in html
    assert "Maija" not in html
    assert lukio_staff.last_name not in html


def test_the_page_speaks_the_language_asked_for(door):
    assert '<html lang="sv">' in page(door, lang="sv").content.decode()
    assert "Ledig" in page(door, lang="sv").content.decode()
    assert "Vapaa" in page(door, lang="fi").content.decode()


def test_revoked_unknown_and_malformed_addresses_answer_404(door, fm_of_lukio):
    assert page(door).status_code == 200
    door_display_revoke(actor=fm_of_lukio, display=DoorDisplay.objects.get())

    assert page(door).status_code == 404
    assert page("kdd_" + "A" * 43).status_code == 404
    assert page("not-a-door").status_code == 404


def test_the_page_shows_live_occupancy(door, joint_campus):
    sensor = Sensor.objects.create(external_id="a101-counter", kind=SensorKind.COUNT, room=joint_campus.classroom)
    read(sensor, timezone.now() - 2 * MINUTE, 7)

    assert "7 people" in page(door, lang="en").content.decode()


# --- what the board says at a given moment --------------------------------------------------------


def test_the_board_gives_now_next_and_free_until(joint_campus, door, lukio_staff, day):
    display = DoorDisplay.objects.get()
    first = book(lukio_staff, joint_campus.classroom, at(day, 10), at(day, 11), title="A").first
    second = book(lukio_staff, joint_campus.classroom, at(day, 12), at(day, 13), title="B").first

    early = door_board(display=display, now=at(day, 9))
    assert early.current is None
    assert early.next.booking_id == first.pk
    assert early.free_until == at(day, 10)

    arriving = door_board(display=display, now=at(day, 9, 55))  # check-in opens 10 minutes before
    assert (arriving.current.booking_id, arriving.current.awaits_check_in) == (first.pk, True)
    assert arriving.free_until == at(day, 10)
    assert arriving.next.booking_id == second.pk

    during = door_board(display=display, now=at(day, 10, 30))
    assert during.current.booking_id == first.pk
    assert during.free_until is None
    assert during.next.booking_id == second.pk
    assert during.current.title == "Reserved"  # institution-only by default


# --- checking in from the door ---------------------------------------------------------------------


def test_check_in_from_the_door_with_csrf_and_no_session(door, private_lesson):
    client = Client(enforce_csrf_checks=True)
    url = reverse("door:display", args=[door])
    html = client.get(url, {"lang": "en"}).content.decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html).group(1)

    response = client.post(
        reverse("door:check-in", args=[door]),
        {"booking": private_lesson.pk, "lang": "en", "csrfmiddlewaretoken": token},
    )

    assert response.status_code == 302
    assert response["Location"] == f"{url}?lang=en&done=1"
    assert "sessionid" not in client.cookies
    stored = Booking.objects.get(pk=private_lesson.pk)
    assert stored.checked_in_at is not None
    event = BookingEvent.objects.get(booking_id=private_lesson.pk, action=BookingAction.CHECK_IN)
    assert (event.actor_id, event.reason) == (None, "door")
    after = client.get(response["Location"]).content.decode()
    assert "Checked in. Welcome!" in after
    assert 'name="booking"' not in after  # no button once checked in


def test_check_in_without_the_csrf_token_is_refused(door, private_lesson):
    response = Client(enforce_csrf_checks=True).post(
        reverse("door:check-in", args=[door]), {"booking": private_lesson.pk}
    )
    assert response.status_code == 403
    assert Booking.objects.get(pk=private_lesson.pk).checked_in_at is None


def test_a_door_cannot_check_in_another_rooms_booking(door, joint_campus, lukio_staff, day):
    lab_lesson = running(book(lukio_staff, joint_campus.lab, at(day, 10), at(day, 11)).first)

    response = Client().post(reverse("door:check-in", args=[door]), {"booking": lab_lesson.pk, "lang": "en"})

    assert response.status_code == 404
    assert Booking.objects.get(pk=lab_lesson.pk).checked_in_at is None


def test_a_revoked_door_cannot_check_in(door, fm_of_lukio, private_lesson):
    door_display_revoke(actor=fm_of_lukio, display=DoorDisplay.objects.get())

    response = Client().post(reverse("door:check-in", args=[door]), {"booking": private_lesson.pk})

    assert response.status_code == 404
    assert Booking.objects.get(pk=private_lesson.pk).checked_in_at is None
