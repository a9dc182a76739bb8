"""A person's data: exported to themselves and to a superuser; a deleted person leaves the room-use history whole."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from axes.models import AccessAttempt, AccessLog
from django.contrib.admin.models import CHANGE, DELETION, LogEntry
from django.core.cache import cache
from django.core.management import CommandError, call_command
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from api.models import ApiToken
from api.tokens import token_create
from bookings.anonymising import ANONYMISED_TITLE
from bookings.models import Booking, BookingBlock, BookingEvent, BookingStatus, FeedKey, FeedKind, Notification
from bookings.services import booking_cancel
from campus.models import Membership, User
from campus.personal_data import person_data_export, user_delete
from sensors.models import Reading, Sensor, SensorKind
from sensors.services import IncomingMessage, readings_ingest
from tests.bookings.conftest import at, book
from tests.utilisation.slots import local
from utilisation.models import BookingUse, RoomSlot
from utilisation.rollups import rollup_pending

API = "/api/v1"


@pytest.fixture
def teacher_world(joint_campus, lukio_staff, fm_of_lukio, vocational_staff, vocational_room, day):
    """The lukio teacher's lesson, a booking made for them by a colleague, a token, a replaced feed, a notice."""
    own = book(lukio_staff, joint_campus.lab, at(day, 10), at(day, 11), title="Physics").first
    for_them = book(
        vocational_staff,
        vocational_room,
        at(day, 12),
        at(day, 13),
        title="Guest lecture",
        on_behalf_of_name="Liisa Lehtonen",
        on_behalf_of_contact=lukio_staff.email.upper(),
    ).first
    others = book(vocational_staff, vocational_room, at(day, 14), at(day, 15), title="Welding").first
    booking_cancel(booking=own, actor=fm_of_lukio, reason="Lab closed")
    token, secret = token_create(user=lukio_staff, name="timetable sync")
    FeedKey.objects.create(owner=lukio_staff, kind=FeedKind.PERSON, target_id=lukio_staff.pk, generation=2)
    return {"own": own, "for_them": for_them, "others": others, "token": token, "secret": secret}


# --- export ----------------------------------------------------------------------------------------


def test_the_export_holds_the_profile_memberships_bookings_by_and_for_the_person_and_their_history(
    teacher_world, lukio_staff
):
    export = person_data_export(user=lukio_staff)

    assert export["format"] == "kampus-person-export/1"
    assert export["profile"]["username"] == "lukio.teacher"
    assert export["profile"]["last_name"] == "Lehtonen"
    assert [m["role"] for m in export["memberships"]] == ["staff"]
    booked = {b["id"]: b for b in export["bookings"]["bookings"]}
    assert set(booked) == {teacher_world["own"].pk, teacher_world["for_them"].pk}
    assert booked[teacher_world["own"].pk]["booked_by_you"] is True
    assert booked[teacher_world["for_them"].pk]["booked_by_you"] is False
    actions = {(e["booking_id"], e["action"]) for e in export["bookings"]["audit_events"]}
    assert (teacher_world["own"].pk, "cancel") in actions
    assert (teacher_world["for_them"].pk, "create") in actions
    assert teacher_world["others"].pk not in {e["booking_id"] for e in export["bookings"]["audit_events"]}
    assert [n["kind"] for n in export["bookings"]["notifications"]] == ["cancelled"]
    assert export["bookings"]["calendar_feeds"] == [
        {
            "kind": "person",
            "target_id": lukio_staff.pk,
            "times_replaced": 2,
            "replaced_at": export["bookings"]["calendar_feeds"][0]["replaced_at"],
        }
    ]
    assert [t["name"] for t in export["api_tokens"]] == ["timetable sync"]


def test_the_export_holds_no_secret(teacher_world, lukio_staff):
    text = json.dumps(person_data_export(user=lukio_staff))

    assert teacher_world["secret"] not in text
    assert teacher_world["token"].hashed_key not in text
    assert lukio_staff.password not in text


def test_the_person_downloads_their_data_from_the_profile_page(teacher_world, lukio_staff):
    client = Client()
    client.force_login(lukio_staff)

    page = client.get("/profile/")
    response = client.get("/profile/data.json")

    assert b'href="/profile/data.json"' in page.content
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith('attachment; filename="kampus-lukio.teacher-')
    assert response["Cache-Control"] == "no-store"
    assert response.json()["profile"]["username"] == "lukio.teacher"


def test_the_download_needs_a_sign_in(db):
    response = Client().get("/profile/data.json")

    assert response.status_code == 302
    assert "/login" in response["Location"] or "/accounts/login" in response["Location"]


def test_the_api_exports_only_the_signed_in_persons_data(teacher_world, client_with_token, vocational_staff):
    body = client_with_token(vocational_staff).get(f"{API}/me/export").json()

    assert body["profile"]["username"] == "voc.teacher"
    assert set(body["sign_ins"]) == {"successful", "failed"}
    booked = {b["id"] for b in body["bookings"]["bookings"]}
    assert booked == {teacher_world["for_them"].pk, teacher_world["others"].pk}


def test_the_export_command_prints_or_writes_the_json(teacher_world, capsys, tmp_path):
    call_command("export_person", "lukio.teacher")
    assert json.loads(capsys.readouterr().out)["profile"]["username"] == "lukio.teacher"

    target = tmp_path / "liisa.json"
    call_command("export_person", "lukio.teacher", "--output", str(target))
    assert json.loads(target.read_text(encoding="utf-8"))["api_tokens"][0]["name"] == "timetable sync"

    with pytest.raises(CommandError, match="No user named 'nobody'"):
        call_command("export_person", "nobody")


def test_a_superuser_exports_anyones_data_from_the_admin(teacher_world, superuser, lukio_staff):
    client = Client()
    client.force_login(superuser)

    response = client.post(
        "/admin/campus/user/", {"action": "export_personal_data", "_selected_action": [lukio_staff.pk]}
    )

    assert response.status_code == 200
    assert response["Content-Disposition"] == 'attachment; filename="kampus-personal-data.json"'
    assert [person["profile"]["username"] for person in response.json()] == ["lukio.teacher"]


def test_an_institution_admin_may_not_export_from_the_admin(teacher_world, lukio_admin, lukio_staff):
    client = Client()
    client.force_login(lukio_admin)

    response = client.post(
        "/admin/campus/user/", {"action": "export_personal_data", "_selected_action": [lukio_staff.pk]}
    )

    assert "Content-Disposition" not in response
    assert response["Content-Type"].startswith("text/html")
    assert b"export_personal_data" not in client.get("/admin/campus/user/").content


# --- deletion --------------------------------------------------------------------------------------


def test_deleting_a_person_cancels_their_future_bookings_and_anonymises_the_rest(
    joint_campus, lukio_staff, vocational_staff, vocational_room, superuser, day
):
    future = book(lukio_staff, joint_campus.lab, at(day, 10), at(day, 11), title="Physics").first
    past = Booking.objects.create(
        campus=joint_campus.campus,
        room=joint_campus.classroom,
        title="Chat with Liisa",
        booked_by=lukio_staff,
        institution=joint_campus.lukio,
        start=timezone.now() - dt.timedelta(days=3, hours=1),
        end=timezone.now() - dt.timedelta(days=3),
    )
    others = book(vocational_staff, vocational_room, at(day, 14), at(day, 15), title="Welding").first
    token_create(user=lukio_staff, name="sync")
    user_id = lukio_staff.pk

    result = user_delete(user=lukio_staff, actor=superuser)

    assert not User.objects.filter(pk=user_id).exists()
    assert not Membership.objects.filter(user_id=user_id).exists()
    assert not ApiToken.objects.filter(user_id=user_id).exists()
    assert result.counts["future_bookings_cancelled"] == 1
    assert result.counts["api_tokens_revoked"] == 1
    future.refresh_from_db()
    assert future.status == BookingStatus.CANCELLED
    assert not BookingBlock.objects.filter(booking=future).exists()  # the slot is free again
    past.refresh_from_db()
    assert past.status == BookingStatus.CONFIRMED
    assert (past.booked_by_id, past.title, past.institution_id) == (None, ANONYMISED_TITLE, joint_campus.lukio.pk)
    assert not BookingEvent.objects.filter(actor_id=user_id).exists()
    assert not BookingEvent.objects.filter(after__booked_by_id=user_id).exists()
    others.refresh_from_db()
    assert (others.title, others.booked_by_id, others.status) == ("Welding", vocational_staff.pk, "confirmed")


def test_deleting_a_front_desk_clerk_keeps_the_future_bookings_they_made_for_others(
    joint_campus, front_desk, superuser, day
):
    """A booking made at the front desk for a visitor is the visitor's: it stays when the clerk's account goes
    (ownerless, so facility managers manage it); only the clerk's own future bookings are cancelled."""
    for_visitor = book(
        front_desk,
        joint_campus.shared_auditorium,
        at(day, 10),
        at(day, 12),
        title="Choir rehearsal",
        on_behalf_of_name="Eeva Esimerkki",
        on_behalf_of_contact="eeva@example.org",
        on_behalf_of_organisation="Otava Choir",
    ).first
    own = book(front_desk, joint_campus.shared_auditorium, at(day, 13), at(day, 14), title="Desk training").first
    clerk_id = front_desk.pk

    result = user_delete(user=front_desk, actor=superuser)

    assert result.counts["future_bookings_cancelled"] == 1
    own.refresh_from_db()
    assert own.status == BookingStatus.CANCELLED
    for_visitor.refresh_from_db()
    assert for_visitor.status == BookingStatus.CONFIRMED
    assert (for_visitor.booked_by_id, for_visitor.title, for_visitor.on_behalf_of_name) == (
        None,
        "Choir rehearsal",
        "Eeva Esimerkki",
    )
    assert BookingBlock.objects.filter(booking=for_visitor).exists()  # the room stays booked for them
    assert not BookingEvent.objects.filter(after__booked_by_id=clerk_id).exists()
    assert not BookingEvent.objects.filter(actor_id=clerk_id).exists()


def test_a_booking_made_on_behalf_with_their_own_address_is_their_own_when_they_are_deleted(
    joint_campus, lukio_staff, superuser, day
):
    """A teacher booking for their own choir, with their own e-mail as its contact, made it for themselves:
    it goes with them (cancelled, anonymised), not kept for someone else with their address in it."""
    lukio_staff.email = "teacher@example.org"
    lukio_staff.save(update_fields=["email"])
    choir = book(
        lukio_staff,
        joint_campus.classroom,
        at(day, 10),
        at(day, 12),
        title="Choir",
        on_behalf_of_name="Otava Choir's conductor",
        on_behalf_of_contact="Teacher@Example.org",
        on_behalf_of_organisation="Otava Choir",
    ).first

    result = user_delete(user=lukio_staff, actor=superuser)

    assert (result.counts["future_bookings_cancelled"], result.counts["future_bookings_kept_for_others"]) == (1, 0)
    choir.refresh_from_db()
    assert choir.status == BookingStatus.CANCELLED
    assert (choir.on_behalf_of_name, choir.on_behalf_of_contact, choir.on_behalf_of_organisation) == ("", "", "")


def test_deleting_someone_who_acted_on_others_bookings_keeps_those_bookings_whole(
    joint_campus, lukio_staff, fm_of_lukio, day
):
    lesson = book(lukio_staff, joint_campus.lab, at(day, 10), at(day, 11), title="Physics").first
    booking_cancel(booking=lesson, actor=fm_of_lukio, reason="Lab closed")

    user_delete(user=fm_of_lukio, actor=None)

    lesson.refresh_from_db()
    assert (lesson.title, lesson.booked_by_id) == ("Physics", lukio_staff.pk)
    cancel = BookingEvent.objects.get(booking_id=lesson.pk, action="cancel")
    assert (cancel.actor_id, cancel.reason) == (None, "Lab closed")
    assert Notification.objects.filter(recipient=lukio_staff, booking=lesson).exists()


def test_the_admin_delete_goes_through_the_service(joint_campus, lukio_staff, superuser):
    past = Booking.objects.create(
        campus=joint_campus.campus,
        room=joint_campus.classroom,
        title="Chat",
        booked_by=lukio_staff,
        start=timezone.now() - dt.timedelta(days=3, hours=1),
        end=timezone.now() - dt.timedelta(days=3),
    )
    client = Client(headers={"accept-language": "en"})
    client.force_login(superuser)

    response = client.post(f"/admin/campus/user/{lukio_staff.pk}/delete/", {"post": "yes"}, follow=True)

    told = [str(message) for message in response.context["messages"]]
    assert told[0].startswith(
        "lukio.teacher: 0 future bookings cancelled, 0 future bookings made for others kept, 1 bookings anonymised"
    )
    assert not User.objects.filter(pk=lukio_staff.pk).exists()
    past.refresh_from_db()
    assert (past.title, past.anonymised_at is not None) == (ANONYMISED_TITLE, True)


def test_the_delete_command_dry_run_changes_nothing(joint_campus, lukio_staff, day, capsys):
    book(lukio_staff, joint_campus.lab, at(day, 10), at(day, 11), title="Physics")

    call_command("delete_person", "lukio.teacher", "--dry-run")

    assert "1 future bookings cancelled" in capsys.readouterr().out
    assert User.objects.filter(username="lukio.teacher").exists()
    assert Booking.objects.get(title="Physics").status == BookingStatus.CONFIRMED

    call_command("delete_person", "lukio.teacher")

    assert not User.objects.filter(username="lukio.teacher").exists()


# --- the utilisation history survives --------------------------------------------------------------

TUESDAY = dt.date(2026, 11, 10)


def _figures(client: Client, room_id: int) -> tuple[dict, list, list]:
    """Return the room's report for the Tuesday, its slot rows and its booking-use rows."""
    cache.clear()  # reports are cached by data version: compute afresh
    query = {"room": room_id, "from": "2026-11-10", "to": "2026-11-10", "season": "all"}
    report = client.get(f"{API}/reports/utilisation", query).json()
    # When it was computed and from which rollup run; the figures are the rest.
    report.pop("generated_at")
    report.pop("data_version")
    slots = list(
        RoomSlot.objects.order_by("room_id", "start").values(
            "room_id", "start", "covered_seconds", "occupied_seconds", "booked_seconds", "booked_institution_id"
        )
    )
    uses = list(
        BookingUse.objects.order_by("booking_id").values("booking_id", "first_presence_at", "no_show", "room_id")
    )
    return report, slots, uses


def test_deleting_the_booker_and_anonymising_leave_room_use_figures_identical(
    joint_campus, lukio_staff, campus_fm, client_with_token, settings
):
    """One morning of A101's counter, two lessons by the teacher (one a no-show) and one by the FM, a future one.

    The teacher's account is deleted, the readings go (sensor retention), the FM's booking is
    anonymised by the retention purge, and the rollup runs after each step: nothing it shows moves.
    """
    Sensor.objects.create(external_id="a101-door", kind=SensorKind.COUNT, room=joint_campus.classroom)
    readings, moment = [], local(TUESDAY, 8)
    while moment < local(TUESDAY, 12):
        readings.append({"ts": moment.isoformat(), "count": 12 if moment < local(TUESDAY, 10) else 0})
        moment += dt.timedelta(minutes=5)
    evening = local(TUESDAY, 18)
    readings_ingest(
        messages=[IncomingMessage(payload=json.dumps(readings).encode(), received_at=evening, external_id="a101-door")],
        now=evening,
    )
    bookings = (
        (local(TUESDAY, 8), local(TUESDAY, 9), campus_fm, None),
        (local(TUESDAY, 9), local(TUESDAY, 10), lukio_staff, joint_campus.lukio),
        (local(TUESDAY, 11), local(TUESDAY, 12), lukio_staff, joint_campus.lukio),
    )
    for start, end, booker, institution in bookings:
        Booking.objects.create(
            campus=joint_campus.campus,
            room=joint_campus.classroom,
            title="Physics with 2B",
            booked_by=booker,
            institution=institution,
            start=start,
            end=end,
            status=BookingStatus.CONFIRMED,
        )
    # Booked long ago, as anonymised bookings are: the rollup does not count them as just changed.
    Booking.objects.update(updated_at=local(TUESDAY, 7))
    later = timezone.now() + dt.timedelta(days=10)
    book(lukio_staff, joint_campus.lab, later.replace(hour=8), later.replace(hour=9), title="Future")
    rollup_pending(now=evening)
    rollup_pending()
    api = client_with_token(campus_fm)
    before = _figures(api, joint_campus.classroom.pk)
    assert before[0]["booked_rate"] > 0
    assert {use["no_show"] for use in before[2]} == {False, True}

    user_delete(user=lukio_staff, actor=None)
    # The readings themselves reach their retention later: the slots and uses must not need them.
    Reading.objects.all().delete()
    rollup_pending()
    settings.KAMPUS_BOOKING_ANONYMISE_AFTER_DAYS = 1
    call_command("purge_old_data")
    rollup_pending()

    assert _figures(api, joint_campus.classroom.pk) == before
    assert Booking.objects.filter(room=joint_campus.classroom, anonymised_at__isnull=False).count() == 3


def test_subscribed_room_calendars_lose_the_deleted_persons_names(joint_campus, lukio_staff, campus_fm):
    """A calendar app that fetched the room's feed before gets the new feed, not a 304 with its old copy."""
    from bookings import feeds

    yesterday = timezone.now() - dt.timedelta(days=1)
    Booking.objects.create(
        campus=joint_campus.campus,
        room=joint_campus.classroom,
        title="Chat with Liisa",
        booked_by=lukio_staff,
        start=yesterday,
        end=yesterday + dt.timedelta(hours=1),
    )
    Booking.objects.update(updated_at=yesterday)  # booked yesterday: the feed's Last-Modified is older than now
    path = feeds.feed_path(owner=campus_fm, feed=feeds.Feed(kind=FeedKind.ROOM, target=joint_campus.classroom))
    calendar_app = Client()
    before = calendar_app.get(path)
    assert b"Chat with Liisa" in before.content

    user_delete(user=lukio_staff, actor=campus_fm)
    by_etag = calendar_app.get(path, headers={"If-None-Match": before["ETag"]})
    by_date = calendar_app.get(path, headers={"If-Modified-Since": before["Last-Modified"]})

    for after in (by_etag, by_date):
        assert after.status_code == 200
        assert b"Liisa" not in after.content


def test_the_export_tells_what_the_person_did_to_others_bookings_but_not_what_those_bookings_hold(
    teacher_world, fm_of_lukio, lukio_staff
):
    export = person_data_export(user=fm_of_lukio)
    text = json.dumps(export, ensure_ascii=False)

    [cancel] = export["bookings"]["audit_events"]
    assert (cancel["booking_id"], cancel["action"], cancel["by_you"]) == (teacher_world["own"].pk, "cancel", True)
    assert cancel["reason"] == "Lab closed"  # their own words
    assert (cancel["before"], cancel["after"]) == (None, None)
    assert "Physics" not in text  # the teacher's booking is the teacher's data
    assert export["bookings"]["bookings"] == []


def test_deleting_a_person_leaves_a_booking_made_for_them_to_its_booker_without_their_name(
    teacher_world, lukio_staff, vocational_staff
):
    for_them = teacher_world["for_them"]
    email = lukio_staff.email

    result = user_delete(user=lukio_staff, actor=None)

    for_them.refresh_from_db()
    assert (for_them.booked_by_id, for_them.title, for_them.status) == (
        vocational_staff.pk,
        "Guest lecture",
        "confirmed",
    )
    assert (for_them.on_behalf_of_name, for_them.on_behalf_of_contact, for_them.anonymised_at) == ("", "", None)
    assert result.counts["bookings_made_for_them_cleared"] == 1
    history = json.dumps(list(BookingEvent.objects.filter(booking_id=for_them.pk).values("before", "after")))
    assert "Liisa Lehtonen" not in history
    assert email.lower() not in history.lower()
    assert "Guest lecture" in history  # the booker's own history stays


def test_the_sign_ins_recorded_under_the_username_are_exported_and_go_with_the_account(lukio_staff):
    browser = Client(REMOTE_ADDR="192.0.2.7", headers={"user-agent": "Liisa's browser"})
    wrong = browser.post(reverse("login"), {"username": "lukio.teacher", "password": "wrong"})
    right = browser.post(reverse("login"), {"username": "lukio.teacher", "password": "pass-for-tests-1"})
    assert (wrong.status_code, right.status_code) == (200, 302)

    sign_ins = person_data_export(user=lukio_staff)["sign_ins"]

    assert [(s["ip_address"], s["user_agent"]) for s in sign_ins["successful"]] == [("192.0.2.7", "Liisa's browser")]
    assert [attempt["failures"] for attempt in sign_ins["failed"]] == [1]
    assert "192.0.2.7" not in json.dumps(sign_ins["failed"])

    result = user_delete(user=lukio_staff, actor=None)

    assert result.counts["sign_in_records_deleted"] == 2
    assert not AccessLog.objects.filter(username="lukio.teacher").exists()
    assert not AccessAttempt.objects.filter(username="lukio.teacher").exists()


def test_the_admin_history_keeps_no_name_of_a_deleted_person_or_title_of_their_bookings(
    joint_campus, lukio_staff, superuser
):
    past = Booking.objects.create(
        campus=joint_campus.campus,
        room=joint_campus.classroom,
        title="Chat with Liisa",
        booked_by=lukio_staff,
        start=timezone.now() - dt.timedelta(days=3, hours=1),
        end=timezone.now() - dt.timedelta(days=3),
    )
    client = Client(headers={"accept-language": "en"})
    client.force_login(superuser)
    LogEntry.objects.log_actions(user_id=superuser.pk, queryset=[past], action_flag=CHANGE, change_message="[]")

    client.post(f"/admin/campus/user/{lukio_staff.pk}/delete/", {"post": "yes"})

    history = list(LogEntry.objects.values_list("action_flag", "object_repr"))
    assert (DELETION, "—") in history  # the deletion is recorded, without the name
    assert not [entry for entry in history if "Liisa" in entry[1] or "lukio.teacher" in entry[1]], history
