"""One room label everywhere: the room's code and name ("A101 Classroom 101"), never with the building's code."""

from __future__ import annotations

import pytest
from django.core import mail
from django.urls import reverse
from django_q.conf import Conf

from api.tokens import token_create
from bookings import services
from tests.bookings.conftest import book
from tests.web.conftest import client_for, tomorrow

pytestmark = pytest.mark.usefixtures("always_open")

LABEL = "A101 Classroom 101"
OLD_LABELS = ("A A101", "A-A101")


def assert_labelled(text: str) -> None:
    assert LABEL in text
    for old in OLD_LABELS:
        assert old not in text


def test_a_room_is_labelled_by_its_code_and_name(joint_campus):
    room = joint_campus.classroom
    assert room.label == LABEL
    assert str(room) == LABEL


def test_booking_pages_label_the_room_by_code_and_name(joint_campus, lukio_staff):
    booking = book(lukio_staff, joint_campus.classroom, tomorrow(10), tomorrow(11), title="Maths").first
    client = client_for(lukio_staff)
    for url in (
        reverse("bookings:mine"),
        reverse("bookings:detail", args=[booking.pk]),
        reverse("bookings:edit", args=[booking.pk]),
        reverse("bookings:cancel", args=[booking.pk]),
    ):
        assert_labelled(client.get(url).content.decode())


def test_the_approval_queue_and_closures_label_the_room_by_code_and_name(
    joint_campus, requests_for_classroom, vocational_staff, fm_of_lukio
):
    book(vocational_staff, joint_campus.classroom, tomorrow(10), tomorrow(11), title="Request")
    services.closure_create(
        actor=fm_of_lukio, room=joint_campus.classroom, start=tomorrow(15), end=tomorrow(16), reason="Paint"
    )
    client = client_for(fm_of_lukio)
    assert_labelled(client.get(reverse("manage:approvals")).content.decode())
    assert_labelled(client.get(reverse("manage:closures")).content.decode())


def test_e_mails_label_the_room_by_code_and_name(
    monkeypatch, joint_campus, requests_for_classroom, vocational_staff, fm_of_lukio, django_capture_on_commit_callbacks
):
    monkeypatch.setattr(Conf, "SYNC", True)
    with django_capture_on_commit_callbacks(execute=True):
        book(vocational_staff, joint_campus.classroom, tomorrow(10), tomorrow(11), title="Request")
    assert mail.outbox
    message = mail.outbox[-1]
    assert LABEL in message.subject
    assert_labelled(message.body)


def test_the_api_gives_the_room_label(joint_campus, lukio_staff):
    booking = book(lukio_staff, joint_campus.classroom, tomorrow(10), tomorrow(11)).first
    _token, raw = token_create(user=lukio_staff, name="test")
    response = client_for(lukio_staff).get(f"/api/v1/bookings/{booking.pk}", headers={"authorization": f"Bearer {raw}"})
    assert response.status_code == 200
    assert response.json()["room"]["label"] == LABEL
