"""axe-core on every page, in English, and the main pages in Finnish and Swedish; no inline code blocked by the CSP.

Each test is a tour of one person's pages: it signs in once, visits the pages, audits each with
``check_a11y`` and fails at the end listing every page with serious or critical violations, so
one run reports them all. Screenshots and the per-page summary land in test-artifacts/.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import pytest

from bookings import services
from bookings.models import Access, Booking, BookingPolicy, Closure
from tests.e2e.conftest import (
    PASSWORD_LABEL,
    SIGN_IN_BUTTON,
    USERNAME_LABEL,
    World,
    check_a11y,
    open_login,
    signed_in,
)

pytestmark = pytest.mark.browser


class Audit:
    """Collect the serious and critical accessibility violations of several pages, then fail once."""

    def __init__(self) -> None:
        self.failures: list[str] = []
        self.pages: list[str] = []

    def __call__(self, page, name: str) -> None:
        self.pages.append(name)
        try:
            check_a11y(page, name)
        except pytest.fail.Exception as failure:
            self.failures.append(str(failure))

    def done(self) -> None:
        if self.failures:
            pytest.fail(
                f"{len(self.failures)} of {len(self.pages)} pages fail WCAG 2.1 AA:\n\n" + "\n\n".join(self.failures),
                pytrace=False,
            )


def visit(page, url: str, heading: str | re.Pattern[str] | None = None, *, status: int = 200) -> None:
    """Open ``url``; check the status and the main heading, so that the audit is of the page meant."""
    response = page.goto(url)
    assert response is not None, url
    assert response.status == status, f"{url}: HTTP {response.status}"
    if heading is not None:
        page.get_by_role("heading", name=heading, level=1).wait_for(state="visible")


@dataclass
class Bookings:
    single: Booking
    series_first: Booking
    others: Booking
    request: Booking
    closure: Closure


@pytest.fixture
def bookings(world: World) -> Bookings:
    """A week with something on every page: a booking, a series, another institution's, a request, a closure."""
    rooms = world.campus
    single = services.booking_create(
        room=rooms.classroom, booked_by=world.lukio_staff, title="Maths 2B", start=world.at(10), end=world.at(11)
    ).first
    series = services.booking_create(
        room=rooms.lab,
        booked_by=world.lukio_staff,
        title="Chemistry 1",
        start=world.at(12),
        end=world.at(13),
        rrule="FREQ=WEEKLY;COUNT=4",
    )
    others = services.booking_create(
        room=rooms.classroom,
        booked_by=world.vocational_staff,
        title="Welding theory",
        start=world.at(13),
        end=world.at(14),
    ).first
    BookingPolicy.objects.create(room=rooms.classroom, other_access=Access.REQUEST)
    request = services.booking_create(
        room=rooms.classroom,
        booked_by=world.vocational_staff,
        title="Parents' evening",
        start=world.at(17),
        end=world.at(18),
    ).first
    closure, _affected = services.closure_create(
        actor=world.campus_fm,
        room=rooms.lab,
        start=world.at(0, days=8),
        end=world.at(0, days=9),
        reason="Ventilation repair",
    )
    return Bookings(single=single, series_first=series.first, others=others, request=request, closure=closure)


def test_public_pages(page, world):
    audit = Audit()
    visit(page, "/", "Welcome to Kampus")
    audit(page, "home")
    open_login(page, "/bookings/mine/")
    page.get_by_role("heading", level=1).wait_for()
    audit(page, "login")
    page.get_by_label(USERNAME_LABEL).fill(world.lukio_staff.username)
    page.get_by_label(PASSWORD_LABEL).fill("not the password")
    page.get_by_role("button", name=SIGN_IN_BUTTON).click()
    page.wait_for_load_state()
    audit(page, "login-error")
    visit(page, "/accounts/password_reset/", "Forgotten password")
    audit(page, "password-reset")
    visit(page, "/accessibility/", "Accessibility statement")
    audit(page, "accessibility")
    visit(page, "/privacy/", "Privacy notice")
    audit(page, "privacy")
    visit(page, "/accounts/password_reset/done/")
    audit(page, "password-reset-done")
    visit(page, "/accounts/reset/done/")
    audit(page, "password-reset-complete")
    visit(page, "/no-such-page/", status=404)
    audit(page, "not-found")
    audit.done()


def test_a_teachers_pages(page, world, bookings):
    audit = Audit()
    signed_in(page, world.lukio_staff)
    audit(page, "home-signed-in")

    visit(page, "/rooms/find/", "Find a free room")
    audit(page, "find-room")
    page.get_by_label("Date", exact=True).fill(world.day.isoformat())
    page.get_by_label("Start time").fill("10:00")
    page.get_by_role("button", name="Search").click()
    page.get_by_role("heading", name=re.compile("free rooms?"), level=2).wait_for()
    audit(page, "find-room-results")
    page.get_by_label("Start time").fill("")
    page.get_by_role("button", name="Search").click()
    page.get_by_role("alert").wait_for()
    audit(page, "find-room-errors")

    room = world.campus.classroom
    visit(page, f"/rooms/{room.pk}/?week={world.day.isoformat()}", f"{room.code} {room.name}")
    audit(page, "room")
    visit(page, f"/rooms/{room.pk}/print/?week={world.day.isoformat()}", re.compile(room.code))
    audit(page, "door-sign")

    visit(page, "/bookings/new/", "New booking")
    audit(page, "booking-form")
    page.get_by_label("What is it for?").fill("")
    page.get_by_role("button", name="Book", exact=True).click()
    page.get_by_role("alert").wait_for()
    audit(page, "booking-form-errors")
    visit(page, f"/bookings/new/?room={room.pk}&start={world.day.isoformat()}T15:00&end={world.day.isoformat()}T16:00")
    page.get_by_label("What is it for?").fill("Study hall")
    page.get_by_role("button", name="Check").click()
    page.get_by_role("heading", name="Check: this can be booked").wait_for()
    audit(page, "booking-form-check")

    visit(page, f"/bookings/{bookings.single.pk}/", "Maths 2B")
    audit(page, "booking-detail")
    visit(page, f"/bookings/{bookings.series_first.pk}/", "Chemistry 1")
    audit(page, "booking-detail-series")
    visit(page, f"/bookings/{bookings.others.pk}/")
    audit(page, "booking-detail-reserved")

    visit(page, "/bookings/mine/", "My bookings")
    audit(page, "my-bookings")
    visit(page, f"/bookings/{bookings.series_first.pk}/edit/", "Change booking")
    audit(page, "edit")
    visit(page, f"/bookings/{bookings.series_first.pk}/handover/", "Hand over the series")
    audit(page, "handover")
    visit(page, f"/bookings/{bookings.series_first.pk}/cancel/", "Cancel booking")
    audit(page, "cancel")
    page.get_by_role("radio", name="Only this occurrence").check()
    page.get_by_label(re.compile("^Reason")).fill("Field trip")
    page.get_by_role("button", name="Yes, cancel the booking").click()
    page.get_by_role("heading", name="My bookings", level=1).wait_for()
    audit(page, "my-bookings-after-cancel")
    visit(page, f"/bookings/{bookings.single.pk}/release/")
    audit(page, "release")
    visit(page, "/accounts/password_change/")
    audit(page, "password-change")
    visit(page, "/manage/approvals/", status=403)
    audit(page, "forbidden")
    audit.done()


def test_a_facility_managers_pages(page, world, bookings):
    audit = Audit()
    signed_in(page, world.fm_of_lukio)
    visit(page, "/manage/approvals/", "Requests waiting for your decision")
    audit(page, "approvals")
    page.get_by_role("button", name=re.compile("^Reject")).click()
    page.wait_for_load_state()
    audit(page, "approvals-reject-without-reason")
    audit.done()


def test_campus_facility_services_pages(page, world, bookings):
    audit = Audit()
    signed_in(page, world.campus_fm)
    visit(page, "/manage/closures/", "Closures")
    audit(page, "closures")
    page.get_by_role("button", name="Close", exact=True).click()
    page.get_by_role("alert").first.wait_for()
    audit(page, "closures-errors")
    visit(page, f"/manage/closures/{bookings.closure.pk}/", re.compile("closed"))
    audit(page, "closure-detail")
    audit.done()


def test_front_desk_pages(page, world, bookings):
    audit = Audit()
    signed_in(page, world.front_desk)
    visit(page, f"/manage/front-desk/?date={world.day.isoformat()}", re.compile("Bookings on"))
    audit(page, "front-desk")
    visit(page, f"/manage/front-desk/print/?date={world.day.isoformat()}")
    audit(page, "front-desk-print")
    audit.done()


MAIN_PAGES = [
    ("home", "/"),
    ("find-room", "/rooms/find/"),
    ("booking-form", "/bookings/new/"),
    ("my-bookings", "/bookings/mine/"),
    ("accessibility", "/accessibility/"),
    ("privacy", "/privacy/"),
]


@pytest.mark.parametrize(("language", "locale"), [("fi", "fi-FI"), ("sv", "sv-SE")])
def test_main_pages_in_finnish_and_swedish(new_page, world, bookings, language, locale):
    audit = Audit()
    page = new_page(locale=locale)
    open_login(page)
    assert page.locator("html").get_attribute("lang") == language
    audit(page, f"login-{language}")
    signed_in(page, world.lukio_staff)
    for name, url in MAIN_PAGES:
        visit(page, url)
        assert page.locator("html").get_attribute("lang") == language, url
        audit(page, f"{name}-{language}")
    visit(page, f"/rooms/{world.campus.classroom.pk}/?week={world.day.isoformat()}")
    audit(page, f"room-{language}")
    visit(page, f"/bookings/{bookings.series_first.pk}/")
    audit(page, f"booking-detail-series-{language}")
    audit.done()


STRICT_PAGES = [
    "/",
    "/accounts/login/",
    "/rooms/find/",
    "/bookings/new/",
    "/bookings/mine/",
    "/accessibility/",
]


def test_pages_keep_to_the_content_security_policy(new_page, world, bookings):
    """Without bypass_csp: no page of ours has inline code that the policy blocks, and our scripts run."""
    page = new_page(bypass_csp=False)
    blocked: list[str] = []
    page.on(
        "console",
        lambda message: (
            blocked.append(f"{page.url}: {message.text}") if "Content Security Policy" in message.text else None
        ),
    )
    page.on("pageerror", lambda error: blocked.append(f"{page.url}: {error}"))
    signed_in(page, world.lukio_staff)
    for url in [*STRICT_PAGES, f"/bookings/{bookings.single.pk}/", f"/rooms/{world.campus.classroom.pk}/"]:
        visit(page, url)
    visit(page, "/bookings/new/")
    page.get_by_label("Repeat", exact=True).select_option("weekly")
    # booking-form.js (a script from our own origin) shows the repeat options when a repeat is chosen.
    assert page.get_by_label("Last date").is_visible()
    assert not blocked, "\n".join(blocked)
