"""Calendar feeds over HTTP: addresses that work with no other credential, conditional GET, HEAD,
replaced addresses, the public room feed, "add to my calendar" and the Subscribe page."""

from __future__ import annotations

import datetime as dt
import re
from html import unescape
from urllib.parse import urlsplit

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from icalendar import Calendar

from bookings import feeds
from bookings.models import Access, BookingPolicy, BookingStatus, FeedKind, Visibility
from bookings.services import booking_reject, booking_update
from bookings.visibility import Viewer
from campus.models import User
from tests.bookings.conftest import at, book
from tests.web.conftest import client_for

CALENDAR_TYPE = "text/calendar; charset=utf-8"


def path_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.path}?{parts.query}" if parts.query else parts.path


def address(user: User, kind: str, target) -> str:
    """Return the path of ``user``'s address of a feed, as the Subscribe page and the API give it."""
    return feeds.feed_path(owner=user, feed=feeds.Feed(kind=kind, target=target), language="en")


def summaries(body: bytes) -> list[str]:
    return sorted(str(event["SUMMARY"]) for event in Calendar.from_ical(body).walk("VEVENT"))


@pytest.fixture
def lesson(joint_campus, lukio_staff, tuesday):
    return book(lukio_staff, joint_campus.classroom, at(tuesday, 10), at(tuesday, 11), title="Physics").first


@pytest.fixture
def anonymous() -> Client:
    """A calendar client: no cookie, no header but the address."""
    return Client()


# --- the feed ---------------------------------------------------------------------------------------


def test_a_feed_address_works_with_no_other_credential(anonymous, joint_campus, lukio_staff, lesson):
    response = anonymous.get(address(lukio_staff, FeedKind.ROOM, joint_campus.classroom))

    assert response.status_code == 200
    assert response["Content-Type"] == CALENDAR_TYPE
    assert response["Content-Disposition"] == 'inline; filename="a101-classroom-101.ics"'
    assert response["Cache-Control"] == "private, max-age=300"
    assert response["ETag"].startswith('"')
    assert "Last-Modified" in response
    assert summaries(response.content) == ["Physics"]


def test_a_conditional_get_of_an_unchanged_feed_answers_304(anonymous, joint_campus, lukio_staff, lesson):
    url = address(lukio_staff, FeedKind.ROOM, joint_campus.classroom)
    first = anonymous.get(url)

    by_etag = anonymous.get(url, headers={"If-None-Match": first["ETag"]})
    by_date = anonymous.get(url, headers={"If-Modified-Since": first["Last-Modified"]})

    assert by_etag.status_code == 304
    assert by_etag.content == b""
    assert by_etag["ETag"] == first["ETag"]
    assert by_date.status_code == 304


def test_a_change_makes_the_conditional_get_answer_the_new_feed(anonymous, joint_campus, lukio_staff, lesson):
    url = address(lukio_staff, FeedKind.ROOM, joint_campus.classroom)
    first = anonymous.get(url)

    booking_update(booking=lesson, actor=lukio_staff, title="Chemistry")
    again = anonymous.get(url, headers={"If-None-Match": first["ETag"]})

    assert again.status_code == 200
    assert again["ETag"] != first["ETag"]
    assert summaries(again.content) == ["Chemistry"]


def test_a_304_costs_a_few_small_queries(anonymous, joint_campus, lukio_staff, tuesday, django_assert_max_num_queries):
    for hour in range(8, 18):
        book(lukio_staff, joint_campus.classroom, at(tuesday, hour), at(tuesday, hour, 45), title=f"Lesson {hour}")
    url = address(lukio_staff, FeedKind.ROOM, joint_campus.classroom)
    etag = anonymous.get(url)["ETag"]

    # the campus zone (middleware), the owner and the key's generation, the owner's memberships, the room,
    # the bookings' summary: none per booking
    with django_assert_max_num_queries(5):
        assert anonymous.get(url, headers={"If-None-Match": etag}).status_code == 304


def test_head_gives_the_headers_without_the_feed(anonymous, joint_campus, lukio_staff, lesson):
    url = address(lukio_staff, FeedKind.ROOM, joint_campus.classroom)

    head = anonymous.head(url)
    get = anonymous.get(url)

    assert head.status_code == 200
    assert head.content == b""
    assert head["ETag"] == get["ETag"]
    assert head["Content-Type"] == CALENDAR_TYPE
    assert anonymous.post(url).status_code == 405


def test_a_replaced_address_answers_410_and_the_new_one_works(anonymous, joint_campus, lukio_staff, lesson):
    feed = feeds.Feed(kind=FeedKind.ROOM, target=joint_campus.classroom)
    old = address(lukio_staff, FeedKind.ROOM, joint_campus.classroom)

    feeds.feed_key_replace(owner=lukio_staff, feed=feed)
    new = address(lukio_staff, FeedKind.ROOM, joint_campus.classroom)

    assert new != old
    gone = anonymous.get(old, headers={"accept-language": "en"})
    assert gone.status_code == 410
    assert "replaced" in gone.content.decode()
    assert anonymous.get(new).status_code == 200


def test_an_address_kampus_never_gave_answers_404(anonymous, joint_campus, lukio_staff, vocational_staff, lesson):
    good = address(lukio_staff, FeedKind.ROOM, joint_campus.classroom)
    key = good.split("/")[-1].split(".ics")[0]
    owner_id, generation, signature = key.split("-", 2)
    tampered_signature = signature[:-1] + ("A" if signature[-1] != "A" else "B")

    for bad in (
        good.replace(key, f"{owner_id}-{generation}-{tampered_signature}"),
        good.replace(key, f"{vocational_staff.pk}-{generation}-{signature}"),  # another person's eyes
        good.replace(f"/room/{joint_campus.classroom.pk}/", f"/room/{joint_campus.lab.pk}/"),  # another room
        good.replace(key, f"{owner_id}-{int(generation) + 1}-{signature}"),
        good.replace(key, "not-a-key"),
        good.replace("/room/", "/planet/"),
    ):
        assert anonymous.get(bad).status_code == 404, bad


def test_a_closed_account_s_addresses_answer_410(anonymous, joint_campus, lukio_staff, lesson):
    url = address(lukio_staff, FeedKind.PERSON, lukio_staff)
    lukio_staff.is_active = False
    lukio_staff.save()

    assert anonymous.get(url).status_code == 410


def test_an_institution_feed_stops_when_the_owner_leaves_the_institution(anonymous, joint_campus, lukio_staff, lesson):
    url = address(lukio_staff, FeedKind.INSTITUTION, joint_campus.lukio)
    assert anonymous.get(url).status_code == 200

    lukio_staff.memberships.all().delete()

    assert anonymous.get(url).status_code == 404


def test_a_feed_speaks_the_owner_s_language(anonymous, joint_campus, lukio_staff, vocational_staff, lesson):
    vocational_staff.preferred_language = "fi"
    vocational_staff.save()
    feed = feeds.Feed(kind=FeedKind.ROOM, target=joint_campus.classroom)

    finnish = anonymous.get(feeds.feed_path(owner=vocational_staff, feed=feed, language="sv"))
    swedish = anonymous.get(feeds.feed_path(owner=lukio_staff, feed=feed, language="sv"))

    assert summaries(finnish.content) == ["Varattu"]  # the profile's language wins
    calendar = Calendar.from_ical(swedish.content)
    assert str(calendar["X-WR-CALNAME"]).startswith("Kampus")
    assert summaries(swedish.content) == ["Physics"]  # the lukio's own title


# --- the public room feed -----------------------------------------------------------------------------


def test_a_public_room_feed_needs_no_key_and_shows_only_public_titles(
    anonymous, joint_campus, lukio_staff, lesson, tuesday
):
    book(lukio_staff, joint_campus.classroom, at(tuesday, 17), at(tuesday, 18), title="Open day", visibility="public")
    url = reverse("calendar:public-room", args=[joint_campus.classroom.pk])
    assert anonymous.get(url).status_code == 404  # not marked public

    joint_campus.classroom.public_feed = True
    joint_campus.classroom.save()
    response = anonymous.get(url, headers={"accept-language": "en"})

    assert response.status_code == 200
    assert response["Cache-Control"] == "public, max-age=300"
    assert summaries(response.content) == ["Open day", "Reserved"]
    again = anonymous.get(url, headers={"accept-language": "en", "If-None-Match": response["ETag"]})
    assert again.status_code == 304


# --- add to my calendar ---------------------------------------------------------------------------------


def test_add_to_my_calendar_downloads_the_booking(joint_campus, lukio_staff, vocational_staff, lesson):
    url = reverse("calendar:booking", args=[lesson.pk])

    mine = client_for(lukio_staff).get(url)
    theirs = client_for(vocational_staff).get(url)

    assert mine.status_code == 200
    assert mine["Content-Type"] == CALENDAR_TYPE
    assert mine["Content-Disposition"] == f'attachment; filename="kampus-booking-{lesson.pk}.ics"'
    calendar = Calendar.from_ical(mine.content)
    assert str(calendar["METHOD"]) == "PUBLISH"
    assert "X-WR-CALNAME" not in calendar  # Outlook would open it as a calendar of its own
    (event,) = calendar.walk("VEVENT")
    assert str(event["SUMMARY"]) == "Physics"
    assert event.decoded("DTSTART") == lesson.start
    assert f"/bookings/{lesson.pk}/" in str(event["URL"])
    assert summaries(theirs.content) == ["Reserved"]  # any booking one can see, titles by visibility


def test_add_a_whole_series_to_my_calendar(joint_campus, lukio_staff, tuesday):
    lessons = book(
        lukio_staff, joint_campus.classroom, at(tuesday, 8), at(tuesday, 9), rrule="FREQ=WEEKLY;COUNT=3"
    ).bookings
    response = client_for(lukio_staff).get(reverse("calendar:booking", args=[lessons[1].pk]) + "?series=1")

    (event,) = Calendar.from_ical(response.content).walk("VEVENT")
    assert str(event["RRULE"].to_ical().decode()) == "FREQ=WEEKLY;COUNT=3"
    assert event.decoded("DTSTART") == lessons[0].start


def test_add_to_my_calendar_needs_sign_in_and_skips_rejected_requests(
    anonymous, joint_campus, vocational_staff, fm_of_lukio, tuesday
):
    BookingPolicy.objects.create(room=joint_campus.classroom, other_access=Access.REQUEST)
    request_ = book(vocational_staff, joint_campus.classroom, at(tuesday, 12), at(tuesday, 13)).first
    url = reverse("calendar:booking", args=[request_.pk])

    assert anonymous.get(url).status_code == 302  # to sign in
    pending = client_for(vocational_staff).get(url)
    assert str(Calendar.from_ical(pending.content).walk("VEVENT")[0]["STATUS"]) == "TENTATIVE"
    booking_reject(booking=request_, actor=fm_of_lukio, reason="Exams")
    assert request_.__class__.objects.get(pk=request_.pk).status == BookingStatus.REJECTED
    assert client_for(vocational_staff).get(url).status_code == 404


def test_the_booking_page_offers_add_to_my_calendar(joint_campus, lukio_staff, lesson):
    page = client_for(lukio_staff).get(reverse("bookings:detail", args=[lesson.pk])).content.decode()

    assert f'href="{reverse("calendar:booking", args=[lesson.pk])}"' in page
    assert "Add to my calendar" in page
    assert "?series=1" not in page  # not a series


# --- the Subscribe page ------------------------------------------------------------------------------


def addresses_on(page: str) -> list[str]:
    return [unescape(url) for url in re.findall(r'class="feed-url" value="([^"]+)"', page)]


def test_the_subscribe_page_lists_own_institution_and_building_feeds(anonymous, joint_campus, lukio_staff, lesson):
    response = client_for(lukio_staff).get(reverse("calendar:subscribe"))
    page = response.content.decode()
    urls = addresses_on(page)

    assert response.status_code == 200
    assert len(urls) == 1 + 1 + 2  # own bookings, the lukio, two buildings
    assert all(url.startswith("http://testserver/calendar/feeds/") for url in urls)
    for url in urls:
        assert f'href="{url.replace("http://", "webcal://", 1)}"'.replace("&", "&amp;") in page
        assert anonymous.get(path_of(url)).status_code == 200
    assert "Outlook" in page
    assert "Google Calendar" in page
    assert "iPhone" in page
    assert "Android" in page


def test_the_subscribe_page_gives_a_room_s_feed_and_its_public_feed(anonymous, joint_campus, lukio_staff, lesson):
    joint_campus.classroom.public_feed = True
    joint_campus.classroom.save()

    page = client_for(lukio_staff).get(reverse("calendar:subscribe"), {"room": joint_campus.classroom.pk})
    urls = addresses_on(page.content.decode())

    room_url = next(url for url in urls if f"/room/{joint_campus.classroom.pk}/" in url)
    public_url = next(url for url in urls if url.endswith("/public.ics"))
    assert summaries(anonymous.get(path_of(room_url)).content) == ["Physics"]
    assert anonymous.get(path_of(public_url)).status_code == 200


def test_the_room_page_links_to_the_room_s_subscription(joint_campus, lukio_staff):
    page = (
        client_for(lukio_staff).get(reverse("bookings:room-detail", args=[joint_campus.classroom.pk])).content.decode()
    )

    assert f"{reverse('calendar:subscribe')}?room={joint_campus.classroom.pk}#room-feed" in page


def test_a_new_address_is_made_after_confirmation_and_the_old_one_stops(anonymous, joint_campus, lukio_staff, lesson):
    client = client_for(lukio_staff)
    old = address(lukio_staff, FeedKind.PERSON, lukio_staff)
    confirm_url = reverse("calendar:regenerate", args=[FeedKind.PERSON, lukio_staff.pk])

    confirm = client.get(confirm_url)
    assert confirm.status_code == 200
    assert "stops working" in confirm.content.decode()
    assert anonymous.get(old).status_code == 200  # asking is not doing

    done = client.post(confirm_url, follow=True)

    assert done.redirect_chain[-1][0] == reverse("calendar:subscribe")
    assert "has a new address" in done.content.decode()
    assert anonymous.get(old).status_code == 410
    new = next(url for url in addresses_on(done.content.decode()) if f"/person/{lukio_staff.pk}/" in url)
    assert anonymous.get(path_of(new)).status_code == 200


def test_one_may_replace_only_addresses_of_feeds_one_may_have(joint_campus, lukio_staff, vocational_staff):
    client = client_for(vocational_staff)

    assert client.post(reverse("calendar:regenerate", args=[FeedKind.PERSON, lukio_staff.pk])).status_code == 404
    assert (
        client.post(reverse("calendar:regenerate", args=[FeedKind.INSTITUTION, joint_campus.lukio.pk])).status_code
        == 404
    )
    assert client.get(reverse("calendar:regenerate", args=["planet", 1])).status_code == 404


def test_pages_need_sign_in(anonymous, lesson):
    assert anonymous.get(reverse("calendar:subscribe")).status_code == 302


def test_feed_urls_are_checked_against_visibility_changes_at_every_fetch(
    anonymous, joint_campus, lukio_staff, vocational_staff, lesson
):
    url = address(vocational_staff, FeedKind.ROOM, joint_campus.classroom)
    assert summaries(anonymous.get(url).content) == ["Reserved"]

    booking_update(booking=lesson, actor=lukio_staff, visibility=Visibility.CAMPUS)

    assert summaries(anonymous.get(url).content) == ["Physics"]


def test_a_day_later_the_feed_is_new(anonymous, joint_campus, lukio_staff, lesson):
    feed = feeds.Feed(kind=FeedKind.ROOM, target=joint_campus.classroom)
    zone = joint_campus.campus.zone
    today = dt.date.today()
    viewer = Viewer()
    states = [
        feeds.feed_state(feed, feeds.feed_window(today=day, zone=zone), viewer=viewer, language="en")
        for day in (today, today + dt.timedelta(days=1))
    ]

    assert states[0].etag != states[1].etag  # the window moved


def test_a_feed_costs_the_same_queries_whatever_it_holds(anonymous, joint_campus, lukio_staff, tuesday):
    url = address(lukio_staff, FeedKind.BUILDING, joint_campus.main_building)

    def queries_of_a_fresh_feed() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert anonymous.get(url).status_code == 200
        return len(captured.captured_queries)

    book(lukio_staff, joint_campus.classroom, at(tuesday, 8), at(tuesday, 9), rrule="FREQ=WEEKLY;COUNT=2")
    few = queries_of_a_fresh_feed()
    for hour, room in ((10, joint_campus.classroom), (12, joint_campus.lab), (14, joint_campus.shared_auditorium)):
        book(lukio_staff, room, at(tuesday, hour), at(tuesday, hour + 1), rrule="FREQ=WEEKLY;COUNT=8")
        book(lukio_staff, room, at(tuesday, hour + 5), at(tuesday, hour + 6))

    assert queries_of_a_fresh_feed() == few
