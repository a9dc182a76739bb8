"""My bookings and the pages to change, cancel, release and hand over a booking."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse

from bookings import services
from bookings.models import Access, Booking, BookingPolicy, BookingStatus, Visibility
from campus.models import Membership, Role, User
from tests.bookings.conftest import HELSINKI, at, book, today
from tests.conftest import make_user
from tests.web.conftest import client_for, running_booking, tomorrow

pytestmark = pytest.mark.usefixtures("always_open")


def past_booking(user: User, room, title: str = "Last week's lesson") -> Booking:
    day = today() - dt.timedelta(days=3)
    return book(user, room, at(day, 10), at(day, 11), title=title, now=at(day, 8)).first


@pytest.fixture
def lukio_substitute(joint_campus) -> User:
    user = make_user("lukio.sub", first_name="Sami", last_name="Sijainen")
    Membership.objects.create(user=user, institution=joint_campus.lukio, role=Role.STAFF)
    return user


# --- access -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["bookings:edit", "bookings:cancel", "bookings:release", "bookings:handover"])
def test_anonymous_visitors_are_sent_to_sign_in(client, joint_campus, lukio_staff, name):
    booking = book(lukio_staff, joint_campus.classroom, tomorrow(10), tomorrow(11)).first
    for url in (reverse("bookings:mine"), reverse(name, args=[booking.pk])):
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("login"))


@pytest.mark.parametrize("name", ["bookings:edit", "bookings:cancel", "bookings:release", "bookings:handover"])
def test_someone_elses_booking_is_forbidden_and_a_missing_one_not_found(
    joint_campus, lukio_staff, vocational_staff, name
):
    booking = book(lukio_staff, joint_campus.classroom, tomorrow(10), tomorrow(11)).first
    client = client_for(vocational_staff)
    assert client.get(reverse(name, args=[booking.pk])).status_code == 403
    assert client.post(reverse(name, args=[booking.pk]), {"title": "Mine now"}).status_code == 403
    assert client.get(reverse(name, args=[booking.pk + 1000])).status_code == 404
    assert Booking.objects.get(pk=booking.pk).status == BookingStatus.CONFIRMED


@pytest.mark.parametrize("name", ["bookings:edit", "bookings:cancel", "bookings:release", "bookings:handover"])
def test_the_front_desk_may_open_every_booking_page(joint_campus, lukio_staff, front_desk, name):
    booking = book(lukio_staff, joint_campus.classroom, tomorrow(10), tomorrow(11)).first
    assert client_for(front_desk).get(reverse(name, args=[booking.pk])).status_code == 200


# --- my bookings --------------------------------------------------------------------------------------


def test_my_bookings_lists_upcoming_waiting_and_past(
    joint_campus, lukio_staff, vocational_staff, requests_for_auditorium
):
    book(lukio_staff, joint_campus.classroom, tomorrow(10), tomorrow(11), title="Maths 1A")
    book(lukio_staff, joint_campus.shared_auditorium, tomorrow(12), tomorrow(13), title="Parents' evening")
    past_booking(lukio_staff, joint_campus.classroom, title="Old physics")
    cancelled = book(lukio_staff, joint_campus.lab, tomorrow(14), tomorrow(15), title="Dropped lab").first
    services.booking_cancel(booking=cancelled, actor=lukio_staff)
    book(vocational_staff, joint_campus.lab, tomorrow(8), tomorrow(9), title="Someone else's")

    response = client_for(lukio_staff).get(reverse("bookings:mine"))

    assert response.status_code == 200
    sections = {key: [entry.first.title for entry in entries] for key, _h, _i, entries in response.context["sections"]}
    assert sections == {
        "upcoming": ["Maths 1A"],
        "waiting": ["Parents' evening"],
        "cancelled": ["Dropped lab"],
        "past": ["Old physics"],
    }
    html = response.content.decode()
    assert "Someone else&#x27;s" not in html
    assert "Waiting for a decision until" in html
    assert "Pending approval" in html
    assert "Cancelled" in html
    assert reverse("bookings:cancel", args=[Booking.objects.get(title="Maths 1A").pk]) in html
    assert reverse("bookings:edit", args=[cancelled.pk]) not in html


def test_past_holds_only_ended_bookings_and_future_cancelled_ones_have_their_own_section(
    joint_campus, lukio_staff, fm_of_lukio
):
    BookingPolicy.objects.create(room=joint_campus.lab, other_access=Access.REQUEST)
    past_booking(lukio_staff, joint_campus.classroom, title="Ended lesson")
    day = today() - dt.timedelta(days=2)
    ended_cancelled = book(lukio_staff, joint_campus.lab, at(day, 10), at(day, 11), title="Old dropped", now=at(day, 8))
    services.booking_cancel(booking=ended_cancelled.first, actor=lukio_staff, now=at(day, 9))
    released = running_booking(lukio_staff, joint_campus.shared_auditorium, title="Finished early")
    services.booking_release(booking=released, actor=lukio_staff)
    future_cancelled = book(lukio_staff, joint_campus.classroom, tomorrow(14), tomorrow(15), title="Dropped").first
    services.booking_cancel(booking=future_cancelled, actor=lukio_staff)
    first = tomorrow(8)
    series = book(
        lukio_staff,
        joint_campus.classroom,
        first,
        first + dt.timedelta(hours=1),
        title="Weekly",
        rrule="FREQ=WEEKLY;COUNT=3",
    )
    services.booking_cancel(booking=series.bookings[1], actor=lukio_staff)

    response = client_for(lukio_staff).get(reverse("bookings:mine"))

    sections = {key: [entry.first.title for entry in entries] for key, _h, _i, entries in response.context["sections"]}
    assert sections["upcoming"] == ["Weekly"]
    assert sections["cancelled"] == ["Dropped", "Weekly"]
    assert sections["past"] == ["Finished early", "Old dropped", "Ended lesson"]
    headings = [heading for _k, heading, _i, _e in response.context["sections"]]
    assert headings == ["Upcoming", "Waiting for approval", "Cancelled and rejected", "Past"]


def test_a_series_is_shown_once_with_its_count_and_expands(joint_campus, lukio_staff):
    first = tomorrow(9)
    result = book(
        lukio_staff,
        joint_campus.classroom,
        first,
        first + dt.timedelta(hours=1),
        title="Chemistry",
        rrule="FREQ=WEEKLY;COUNT=5",
    )
    client = client_for(lukio_staff)

    response = client.get(reverse("bookings:mine"))
    html = response.content.decode()
    assert html.count('<h3 class="booking-title">Chemistry</h3>') == 1
    assert "weekly series" in html
    assert "Show all 5 occurrences" in html
    assert f'id="series-upcoming-{result.series.pk}">' in html  # closed

    expanded = client.get(reverse("bookings:mine"), {"series": result.series.pk}).content.decode()
    assert f'id="series-upcoming-{result.series.pk}" open>' in expanded
    assert reverse("bookings:handover", args=[result.first.pk]) in expanded
    for occurrence in result.bookings:
        assert reverse("bookings:cancel", args=[occurrence.pk]) in expanded


def test_my_bookings_runs_a_fixed_number_of_queries(django_assert_max_num_queries, joint_campus, lukio_staff):
    first = tomorrow(9)
    book(lukio_staff, joint_campus.classroom, first, first + dt.timedelta(hours=1), rrule="FREQ=WEEKLY;COUNT=10")
    for hour in (12, 14, 16):
        book(lukio_staff, joint_campus.lab, tomorrow(hour), tomorrow(hour + 1), title=f"Lab {hour}")
    past_booking(lukio_staff, joint_campus.lab)
    client = client_for(lukio_staff)
    with django_assert_max_num_queries(6):
        response = client.get(reverse("bookings:mine"))
    assert response.status_code == 200


def test_a_running_booking_offers_release(joint_campus, lukio_staff):
    booking = running_booking(lukio_staff, joint_campus.classroom)
    html = client_for(lukio_staff).get(reverse("bookings:mine")).content.decode()
    assert "Running now" in html
    assert reverse("bookings:release", args=[booking.pk]) in html


# --- cancel -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("scope", "cancelled_indexes"),
    [("occurrence", [1]), ("following", [1, 2, 3]), ("series", [0, 1, 2, 3])],
)
def test_cancel_with_each_scope(joint_campus, lukio_staff, scope, cancelled_indexes):
    first = tomorrow(9)
    result = book(
        lukio_staff, joint_campus.classroom, first, first + dt.timedelta(hours=1), rrule="FREQ=WEEKLY;COUNT=4"
    )
    second = result.bookings[1]
    client = client_for(lukio_staff)

    page = client.get(reverse("bookings:cancel", args=[second.pk])).content.decode()
    assert 'name="scope"' in page
    assert "This and the following occurrences" in page

    response = client.post(reverse("bookings:cancel", args=[second.pk]), {"scope": scope, "reason": "Course moved"})

    assert response.status_code == 302
    assert response["Location"] == reverse("bookings:mine")
    statuses = [b.status for b in Booking.objects.filter(series=result.series).order_by("start")]
    assert [i for i, status in enumerate(statuses) if status == BookingStatus.CANCELLED] == cancelled_indexes
    followed = client.get(response["Location"]).content.decode()
    assert "cancelled" in followed


def test_cancelling_a_single_booking_asks_no_scope_and_returns_to_next(joint_campus, lukio_staff, front_desk):
    booking = book(lukio_staff, joint_campus.classroom, tomorrow(10), tomorrow(11)).first
    client = client_for(front_desk)
    page = client.get(
        reverse("bookings:cancel", args=[booking.pk]), {"next": reverse("manage:front-desk")}
    ).content.decode()
    assert 'name="scope"' not in page
    response = client.post(
        reverse("bookings:cancel", args=[booking.pk]), {"reason": "Fire drill", "next": reverse("manage:front-desk")}
    )
    assert response["Location"] == reverse("manage:front-desk")
    assert Booking.objects.get(pk=booking.pk).status == BookingStatus.CANCELLED


def test_an_unsafe_next_is_ignored(joint_campus, lukio_staff):
    booking = book(lukio_staff, joint_campus.classroom, tomorrow(10), tomorrow(11)).first
    response = client_for(lukio_staff).post(
        reverse("bookings:cancel", args=[booking.pk]), {"next": "https://evil.example/"}
    )
    assert response["Location"] == reverse("bookings:mine")


def test_an_ended_booking_cannot_be_cancelled(joint_campus, lukio_staff):
    booking = past_booking(lukio_staff, joint_campus.classroom)
    client = client_for(lukio_staff)
    response = client.post(reverse("bookings:cancel", args=[booking.pk]))
    assert response.status_code == 200
    assert "nothing to cancel" in response.content.decode()
    assert Booking.objects.get(pk=booking.pk).status == BookingStatus.CONFIRMED


# --- release ------------------------------------------------------------------------------------------


def test_release_of_a_running_booking(joint_campus, lukio_staff):
    booking = running_booking(lukio_staff, joint_campus.classroom)
    client = client_for(lukio_staff)
    assert "we finished" in client.get(reverse("bookings:release", args=[booking.pk])).content.decode()

    response = client.post(reverse("bookings:release", args=[booking.pk]))

    assert response.status_code == 302
    booking.refresh_from_db()
    assert booking.status == BookingStatus.RELEASED
    assert "released" in client.get(response["Location"]).content.decode()


def test_release_before_the_start_says_to_cancel_instead(joint_campus, lukio_staff):
    booking = book(lukio_staff, joint_campus.classroom, tomorrow(10), tomorrow(11)).first
    client = client_for(lukio_staff)
    page = client.get(reverse("bookings:release", args=[booking.pk])).content.decode()
    assert "has not started yet" in page
    assert reverse("bookings:cancel", args=[booking.pk]) in page

    response = client.post(reverse("bookings:release", args=[booking.pk]))

    assert response.status_code == 409
    assert "has not started yet" in response.content.decode()
    assert Booking.objects.get(pk=booking.pk).status == BookingStatus.CONFIRMED


# --- edit -----------------------------------------------------------------------------------------------


def edit_data(booking: Booking, **changes) -> dict:
    local_start, local_end = booking.start.astimezone(HELSINKI), booking.end.astimezone(HELSINKI)
    data = {
        "title": booking.title,
        "description": booking.description,
        "attendees": booking.attendees or "",
        "purpose": booking.purpose,
        "visibility": booking.visibility,
        "room": booking.room_id,
        "date": local_start.date().isoformat(),
        "start_time": local_start.strftime("%H:%M"),
        "end_time": local_end.strftime("%H:%M"),
    }
    data.update(changes)
    return data


def test_edit_moves_a_booking(joint_campus, lukio_staff):
    booking = book(lukio_staff, joint_campus.classroom, tomorrow(10), tomorrow(11), title="Maths").first
    client = client_for(lukio_staff)
    page = client.get(reverse("bookings:edit", args=[booking.pk])).content.decode()
    assert 'value="Maths"' in page
    assert 'name="scope"' not in page
    assert "override_reason" not in page

    response = client.post(
        reverse("bookings:edit", args=[booking.pk]),
        edit_data(booking, title="Maths exam", start_time="12:00", end_time="13:30", room=joint_campus.lab.pk),
    )

    assert response.status_code == 302
    booking.refresh_from_db()
    assert booking.title == "Maths exam"
    assert booking.room_id == joint_campus.lab.pk
    assert (booking.start, booking.end) == (tomorrow(12), tomorrow(13, 30))


def test_edit_shows_a_conflict_as_an_error_without_private_titles(joint_campus, lukio_staff, vocational_staff):
    booking = book(lukio_staff, joint_campus.shared_auditorium, tomorrow(10), tomorrow(11)).first
    book(
        vocational_staff,
        joint_campus.shared_auditorium,
        tomorrow(12),
        tomorrow(13),
        title="Secret board meeting",
        visibility=Visibility.INSTITUTION,
    )

    response = client_for(lukio_staff).post(
        reverse("bookings:edit", args=[booking.pk]), edit_data(booking, start_time="12:30", end_time="13:30")
    )

    assert response.status_code == 200
    html = response.content.decode()
    assert 'class="error-summary"' in html
    assert 'href="#id_start_time"' in html
    assert "already booked" in html
    assert "Reserved" in html
    assert "Secret board meeting" not in html
    assert 'aria-invalid="true"' in html
    assert 'id="id_start_time_error"' in html
    booking.refresh_from_db()
    assert booking.start == tomorrow(10)


def test_edit_reports_a_broken_rule_at_its_field(joint_campus, lukio_staff):
    booking = book(lukio_staff, joint_campus.classroom, tomorrow(10), tomorrow(11)).first
    response = client_for(lukio_staff).post(
        reverse("bookings:edit", args=[booking.pk]), edit_data(booking, attendees=31, start_time="10:30")
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert "holds at most 30 people" in html
    assert 'href="#id_attendees"' in html
    assert 'aria-describedby="id_attendees_error"' in html


def test_edit_of_a_whole_series(joint_campus, lukio_staff):
    first = tomorrow(9)
    result = book(
        lukio_staff, joint_campus.classroom, first, first + dt.timedelta(hours=1), rrule="FREQ=WEEKLY;COUNT=3"
    )
    response = client_for(lukio_staff).post(
        reverse("bookings:edit", args=[result.bookings[1].pk]),
        edit_data(result.bookings[1], title="Chemistry 2B", scope="series"),
    )
    assert response.status_code == 302
    assert set(Booking.objects.filter(series=result.series).values_list("title", flat=True)) == {"Chemistry 2B"}


def test_a_facility_manager_sees_the_override_field(joint_campus, lukio_staff, fm_of_lukio):
    booking = book(lukio_staff, joint_campus.classroom, tomorrow(10), tomorrow(11)).first
    page = client_for(fm_of_lukio).get(reverse("bookings:edit", args=[booking.pk])).content.decode()
    assert 'name="override_reason"' in page


# --- handover ------------------------------------------------------------------------------------------


def test_handover_of_a_series_to_a_colleague(joint_campus, lukio_staff, lukio_substitute, vocational_staff):
    first = tomorrow(9)
    result = book(
        lukio_staff, joint_campus.classroom, first, first + dt.timedelta(hours=1), rrule="FREQ=WEEKLY;COUNT=3"
    )
    client = client_for(lukio_staff)
    page = client.get(reverse("bookings:handover", args=[result.first.pk])).content.decode()
    assert '<option value="lukio.sub">Sami Sijainen</option>' in page
    assert "voc.teacher" not in page

    refused = client.post(reverse("bookings:handover", args=[result.first.pk]), {"to_user": "voc.teacher"})
    assert refused.status_code == 200
    assert "is not a member of" in refused.content.decode()
    unknown = client.post(reverse("bookings:handover", args=[result.first.pk]), {"to_user": "nobody"})
    assert "There is no active user nobody" in unknown.content.decode()

    response = client.post(
        reverse("bookings:handover", args=[result.first.pk]), {"to_user": "lukio.sub", "reason": "Substitute"}
    )

    assert response.status_code == 302
    assert set(Booking.objects.filter(series=result.series).values_list("booked_by__username", flat=True)) == {
        "lukio.sub"
    }
