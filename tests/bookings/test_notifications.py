"""Booking e-mails: queued on commit, sent once, in each recipient's language, to the right people."""

from __future__ import annotations

import datetime as dt

import pytest
from django.conf import settings
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext
from django_q.conf import Conf

from bookings import tasks
from bookings.models import Booking, Notification, NotificationKind
from bookings.services import (
    Scope,
    booking_approve,
    booking_cancel,
    booking_reject,
    booking_release,
    booking_series_handover,
    closure_create,
    requests_expire,
)
from campus.models import Membership, Role, User
from tests.bookings.conftest import at, book
from tests.conftest import make_user

pytestmark = pytest.mark.usefixtures("blocks_stay_consistent")


@pytest.fixture(autouse=True)
def _tasks_run_inline(monkeypatch):
    """Run django-q2 tasks in the calling process, so that a queued e-mail is sent at once."""
    monkeypatch.setattr(Conf, "SYNC", True)


@pytest.fixture
def commit(django_capture_on_commit_callbacks):
    """Return a context manager that runs the on-commit callbacks of its block when the block ends."""
    return lambda: django_capture_on_commit_callbacks(execute=True)


def speaks(user: User, language: str) -> User:
    user.preferred_language = language
    user.save(update_fields=["preferred_language"])
    return user


def translated(language: str, text: str) -> str:
    with translation.override(language):
        return gettext(text)


def link_to(booking: Booking) -> str:
    return f"{settings.KAMPUS_BASE_URL}/bookings/{booking.pk}/"


def only_mail_to(mailoutbox, user: User):
    [mail] = [m for m in mailoutbox if m.to == [user.email]]
    return mail


# --- queued on commit, sent once -----------------------------------------------------------------


def test_a_request_mails_each_of_the_rooms_facility_managers_after_commit(
    requests_needed, joint_campus, vocational_staff, fm_of_lukio, campus_fm, commit, mailoutbox, day
):
    second_fm = speaks(make_user("lukio.fm2"), "en")
    Membership.objects.create(user=second_fm, institution=joint_campus.lukio, role=Role.FACILITY_MANAGER)
    speaks(fm_of_lukio, "en")

    with commit():
        request = book(vocational_staff, joint_campus.classroom, at(day, 10), at(day, 11), title="Welding").first
        assert mailoutbox == []
        assert Notification.objects.filter(sent_at__isnull=True).count() == 2

    assert sorted(m.to[0] for m in mailoutbox) == sorted([fm_of_lukio.email, second_fm.email])
    for mail in mailoutbox:
        assert mail.subject.startswith(f"{translated('en', 'Booking request to decide')}: Welding")
        assert link_to(request) in mail.body
    assert not Notification.objects.filter(sent_at__isnull=True).exists()


def test_a_request_for_a_shared_room_mails_the_campus_facility_managers(
    requests_needed, joint_campus, lukio_staff, fm_of_lukio, campus_fm, commit, mailoutbox, day
):
    with commit():
        book(lukio_staff, joint_campus.shared_auditorium, at(day, 10), at(day, 11))

    assert [m.to for m in mailoutbox] == [[campus_fm.email]]


def test_a_notification_is_not_sent_twice(
    requests_needed, joint_campus, vocational_staff, fm_of_lukio, commit, mailoutbox, day
):
    with commit():
        book(vocational_staff, joint_campus.classroom, at(day, 10), at(day, 11))
    notification = Notification.objects.get()
    assert notification.sent_at is not None
    assert len(mailoutbox) == 1

    assert tasks.send_notification(notification.pk) is False

    assert len(mailoutbox) == 1


def test_nothing_is_sent_when_the_transaction_rolls_back(
    requests_needed, joint_campus, vocational_staff, fm_of_lukio, commit, mailoutbox, day
):
    def request_then_fail() -> None:
        with transaction.atomic():
            book(vocational_staff, joint_campus.classroom, at(day, 10), at(day, 11))
            raise RuntimeError("the request failed later")

    with commit(), pytest.raises(RuntimeError):
        request_then_fail()

    assert mailoutbox == []
    assert not Notification.objects.exists()


def test_notifications_whose_task_was_lost_are_sent_by_the_sweeper(
    requests_needed, joint_campus, vocational_staff, fm_of_lukio, mailoutbox, day
):
    book(vocational_staff, joint_campus.classroom, at(day, 10), at(day, 11))  # never committed: no task ran
    Notification.objects.update(created_at=timezone.now() - dt.timedelta(hours=1))
    assert mailoutbox == []

    assert tasks.send_unsent_notifications() == 1

    assert [m.to for m in mailoutbox] == [[fm_of_lukio.email]]
    assert tasks.send_unsent_notifications() == 0


def test_people_without_an_address_are_not_mailed(
    requests_needed, joint_campus, vocational_staff, fm_of_lukio, commit, mailoutbox, day
):
    fm_of_lukio.email = ""
    fm_of_lukio.save(update_fields=["email"])

    with commit():
        book(vocational_staff, joint_campus.classroom, at(day, 10), at(day, 11))

    assert mailoutbox == []
    assert not Notification.objects.exists()


# --- language ------------------------------------------------------------------------------------


@pytest.mark.parametrize("language", ["sv", "fi", "en"])
def test_the_booker_is_told_of_an_approval_in_their_own_language(
    requests_needed, joint_campus, vocational_staff, fm_of_lukio, commit, mailoutbox, day, language
):
    speaks(vocational_staff, language)
    speaks(fm_of_lukio, "en")
    request = book(vocational_staff, joint_campus.classroom, at(day, 10), at(day, 11), title="Welding").first

    with commit():
        booking_approve(booking=request, actor=fm_of_lukio)
        assert not [m for m in mailoutbox if m.to == [vocational_staff.email]]

    mail = only_mail_to(mailoutbox, vocational_staff)
    if language != "en":  # the catalogue is compiled, so the check below is not English against English
        assert translated(language, "Your booking was approved") != "Your booking was approved"
    assert mail.subject.startswith(f"{translated(language, 'Your booking was approved')}: Welding")
    assert translated(language, "Your booking request was approved.") in mail.body
    assert link_to(request) in mail.body
    notification = Notification.objects.get(kind=NotificationKind.APPROVED)
    assert (notification.language, notification.subject) == (language, mail.subject)


def test_without_a_preferred_language_the_installation_language_is_used(
    requests_needed, joint_campus, vocational_staff, fm_of_lukio, commit, mailoutbox, day
):
    speaks(vocational_staff, "")
    request = book(vocational_staff, joint_campus.classroom, at(day, 10), at(day, 11), title="Welding").first

    with commit():
        booking_approve(booking=request, actor=fm_of_lukio)

    mail = only_mail_to(mailoutbox, vocational_staff)
    assert mail.subject.startswith(translated(settings.LANGUAGE_CODE, "Your booking was approved"))


def test_each_facility_manager_reads_the_request_in_their_own_language(
    requests_needed, joint_campus, vocational_staff, fm_of_lukio, commit, mailoutbox, day
):
    swedish_fm = speaks(make_user("lukio.fm.sv"), "sv")
    Membership.objects.create(user=swedish_fm, institution=joint_campus.lukio, role=Role.FACILITY_MANAGER)
    speaks(fm_of_lukio, "fi")

    with commit():
        book(vocational_staff, joint_campus.classroom, at(day, 10), at(day, 11))

    assert only_mail_to(mailoutbox, swedish_fm).subject.startswith(translated("sv", "Booking request to decide"))
    assert only_mail_to(mailoutbox, fm_of_lukio).subject.startswith(translated("fi", "Booking request to decide"))


# --- who is told of what -------------------------------------------------------------------------


def test_the_booker_is_told_of_a_rejection_with_its_reason(
    requests_needed, joint_campus, vocational_staff, fm_of_lukio, commit, mailoutbox, day
):
    speaks(vocational_staff, "en")
    request = book(vocational_staff, joint_campus.classroom, at(day, 10), at(day, 11)).first

    with commit():
        booking_reject(booking=request, actor=fm_of_lukio, reason="Exams in the room that week")

    mail = only_mail_to(mailoutbox, vocational_staff)
    assert mail.subject.startswith(translated("en", "Your booking request was rejected"))
    assert "Exams in the room that week" in mail.body
    assert link_to(request) in mail.body


def test_the_booker_is_told_once_when_a_series_request_expires(
    requests_needed, joint_campus, vocational_staff, fm_of_lukio, commit, mailoutbox, day
):
    speaks(vocational_staff, "en")
    result = book(vocational_staff, joint_campus.classroom, at(day, 10), at(day, 11), rrule="FREQ=WEEKLY;COUNT=3")

    with commit():
        requests_expire(now=result.first.expires_at)

    mail = only_mail_to(mailoutbox, vocational_staff)
    assert mail.subject.startswith(translated("en", "Your booking request expired"))
    assert link_to(result.first) in mail.body


def test_the_booker_is_told_when_someone_else_cancels(joint_campus, lukio_staff, fm_of_lukio, commit, mailoutbox, day):
    speaks(lukio_staff, "en")
    booking = book(lukio_staff, joint_campus.classroom, at(day, 10), at(day, 11)).first

    with commit():
        booking_cancel(booking=booking, actor=fm_of_lukio, reason="Fire drill")

    mail = only_mail_to(mailoutbox, lukio_staff)
    assert mail.subject.startswith(translated("en", "Your booking was cancelled"))
    assert "Fire drill" in mail.body
    assert len(mailoutbox) == 1


def test_nobody_is_told_when_the_booker_cancels_their_own_booking(
    joint_campus, lukio_staff, fm_of_lukio, commit, mailoutbox, day
):
    result = book(lukio_staff, joint_campus.classroom, at(day, 10), at(day, 11), rrule="FREQ=WEEKLY;COUNT=2")

    with commit():
        booking_cancel(booking=result.first, actor=lukio_staff, scope=Scope.SERIES)

    assert mailoutbox == []
    assert not Notification.objects.exists()


def test_the_booker_is_told_of_a_closure(joint_campus, lukio_staff, fm_of_lukio, commit, mailoutbox, day):
    speaks(lukio_staff, "sv")
    booking = book(lukio_staff, joint_campus.classroom, at(day, 10), at(day, 11)).first

    with commit():
        closure_create(
            actor=fm_of_lukio, room=joint_campus.classroom, start=at(day, 7), end=at(day, 21), reason="Water damage"
        )

    mail = only_mail_to(mailoutbox, lukio_staff)
    assert mail.subject.startswith(translated("sv", "A room you booked will be closed"))
    assert "Water damage" in mail.body
    assert link_to(booking) in mail.body


def test_the_booker_is_told_when_someone_else_releases_the_booking(
    joint_campus, lukio_staff, front_desk, commit, mailoutbox, day
):
    speaks(lukio_staff, "fi")
    booking = book(lukio_staff, joint_campus.classroom, at(day, 10), at(day, 11)).first

    with commit():
        booking_release(booking=booking, actor=front_desk, now=at(day, 10, 20))

    mail = only_mail_to(mailoutbox, lukio_staff)
    assert mail.subject.startswith(translated("fi", "Your booking was released"))


def test_nobody_is_told_when_the_booker_releases_their_own_booking(joint_campus, lukio_staff, commit, mailoutbox, day):
    booking = book(lukio_staff, joint_campus.classroom, at(day, 10), at(day, 11)).first

    with commit():
        booking_release(booking=booking, actor=lukio_staff, now=at(day, 10, 20))

    assert mailoutbox == []


def test_the_new_owner_is_told_of_a_handover(joint_campus, lukio_staff, commit, mailoutbox, day):
    substitute = speaks(make_user("lukio.substitute"), "en")
    Membership.objects.create(user=substitute, institution=joint_campus.lukio, role=Role.STAFF)
    result = book(lukio_staff, joint_campus.classroom, at(day, 10), at(day, 11), rrule="FREQ=WEEKLY;COUNT=2")

    with commit():
        booking_series_handover(booking=result.first, actor=lukio_staff, to_user=substitute, reason="Sick leave")

    assert [m.to for m in mailoutbox] == [[substitute.email]]
    mail = mailoutbox[0]
    assert mail.subject.startswith(translated("en", "A booking series was handed over to you"))
    assert "Sick leave" in mail.body
