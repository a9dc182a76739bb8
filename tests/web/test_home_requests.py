"""A facility manager's front page says how many requests wait for their decision, with a link to the queue."""

from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils import timezone

from bookings import selectors
from bookings.services import booking_approve
from tests.bookings.conftest import book
from tests.web.conftest import client_for, tomorrow

pytestmark = pytest.mark.usefixtures("always_open", "requests_needed")


@pytest.fixture
def waiting(joint_campus, vocational_staff, lukio_staff, fm_of_lukio):
    """Requests: two for the lukio's classroom (a single one, a weekly series of 3), one for the shared auditorium."""
    book(vocational_staff, joint_campus.classroom, tomorrow(10), tomorrow(11), title="Single")
    book(
        vocational_staff,
        joint_campus.classroom,
        tomorrow(12),
        tomorrow(13),
        title="Weekly",
        rrule="FREQ=WEEKLY;COUNT=3",
    )
    book(lukio_staff, joint_campus.shared_auditorium, tomorrow(14), tomorrow(15), title="Assembly")
    decided = book(vocational_staff, joint_campus.classroom, tomorrow(16), tomorrow(17), title="Decided").first
    booking_approve(booking=decided, actor=fm_of_lukio)


def test_an_institutions_facility_manager_sees_the_requests_for_its_rooms(fm_of_lukio, waiting):
    html = client_for(fm_of_lukio).get(reverse("campus:home")).content.decode()
    assert "2 requests waiting for your decision" in html
    assert f'href="{reverse("manage:approvals")}"' in html


def test_the_campus_facility_manager_sees_the_requests_for_shared_rooms(campus_fm, waiting):
    html = client_for(campus_fm).get(reverse("campus:home")).content.decode()
    assert "1 request waiting for your decision" in html


def test_with_nothing_waiting_the_page_says_so(fm_of_lukio):
    html = client_for(fm_of_lukio).get(reverse("campus:home")).content.decode()
    assert "No requests are waiting for your decision." in html


def test_staff_see_no_count(lukio_staff, waiting):
    html = client_for(lukio_staff).get(reverse("campus:home")).content.decode()
    assert "waiting for your decision" not in html


def test_the_count_is_one_query_and_agrees_with_the_queue(django_assert_num_queries, fm_of_lukio, campus_fm, waiting):
    now = timezone.now()
    with django_assert_num_queries(1):
        count = selectors.requests_to_decide_count(user=fm_of_lukio, now=now)
    assert count == 2
    queue = client_for(fm_of_lukio).get(reverse("manage:approvals"))
    assert len(queue.context["entries"]) == count
