"""The room-use dashboard in a real browser, with data, audited by axe-core: desktop, phone, Finnish and Swedish,
the sort links and the progress page of a long report."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
from django.core.cache import cache

from tests.e2e.conftest import World, check_a11y, signed_in
from tests.web.test_dashboard import hand_built_report
from utilisation import metrics, views
from utilisation.models import ReportJobStatus
from utilisation.reports import PendingReport
from utilisation.results import Heatmap, Period, TimePoint

pytestmark = pytest.mark.browser


def busy_heatmap(period: Period) -> Heatmap:
    """Mon–Fri 8–15: in use rising through the week, Wednesday at noon without data; booked 60 % throughout."""
    frequency = [[None] * 24 for _ in range(7)]
    booked = [[None] * 24 for _ in range(7)]
    available = [[0] * 24 for _ in range(7)]
    for weekday in range(5):
        for hour in range(8, 16):
            frequency[weekday][hour] = (weekday * 8 + hour - 8) / 40
            booked[weekday][hour] = 0.6
            available[weekday][hour] = 16
    frequency[2][12] = None
    return Heatmap(period, list(range(8, 16)), [1, 2, 3, 4, 5], frequency, booked, available)


@pytest.fixture
def report_data(world: World, monkeypatch):
    """Answer the dashboard with a hand-built report of 20 days and a full heatmap."""

    def report(*, campus, period, **places):
        built = hand_built_report(campus, period, (world.campus.classroom, world.campus.lab))
        built.over_time = [
            TimePoint(period.first_day + dt.timedelta(days=day), 32, 10 + day % 7, 6 + day % 5, 28, day % 3)
            for day in range(20)
        ]
        return built

    cache.clear()  # reports are cached by their parameters
    monkeypatch.setattr(metrics, "utilisation_report", report)
    monkeypatch.setattr(metrics, "heatmap", lambda *, period, **places: busy_heatmap(period))


def test_a_campus_facility_manager_reads_the_dashboard(page, world, report_data):
    signed_in(page, world.campus_fm)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Room use").click()
    page.get_by_role("heading", name="Room use", level=1).wait_for()
    assert "28 % – fair" in page.locator(".headline-utilisation").inner_text().replace("\u00a0", " ")
    assert page.get_by_role("img", name="In use, by hour of the week").count() == 1
    assert page.get_by_role("img", name="Booked versus used over time").count() == 1
    check_a11y(page, "dashboard")

    page.get_by_role("link", name="Utilisation").click()
    page.wait_for_load_state()
    assert "sort=-utilisation" in page.url
    first = page.locator(".room-table tbody tr").first.get_by_role("rowheader").inner_text()
    assert first.startswith(world.campus.classroom.code)

    page.get_by_label("Institution (who booked)").select_option(label=world.campus.lukio.name)
    page.get_by_role("button", name="Show the report").click()
    page.wait_for_load_state()
    assert f"institution={world.campus.lukio.pk}" in page.url
    check_a11y(page, "dashboard-institution")


def test_an_institution_admin_on_a_phone(phone, world, report_data, lukio_admin):
    signed_in(phone, lukio_admin)
    phone.goto("/manage/room-use/")
    phone.get_by_role("heading", name="Room use", level=1).wait_for()
    assert phone.get_by_label("Institution (who booked)").locator("option").all_inner_texts() == [
        world.campus.lukio.name
    ]
    check_a11y(phone, "dashboard-phone")


@pytest.mark.parametrize(("locale", "heading"), [("fi-FI", "Tilojen käyttö"), ("sv-SE", "Lokalanvändning")])
def test_the_dashboard_in_finnish_and_swedish(new_page, world, report_data, locale, heading):
    page = new_page(locale=locale)
    signed_in(page, world.campus_fm)
    page.goto("/manage/room-use/")
    page.get_by_role("heading", name=heading, level=1).wait_for()
    check_a11y(page, f"dashboard-{locale[:2]}")


def test_a_long_report_shows_a_progress_bar(page, world, monkeypatch):
    monkeypatch.setattr(
        views,
        "load_report",
        lambda user, selection: PendingReport(job_id=uuid.uuid4(), progress=30, status=ReportJobStatus.RUNNING),
    )
    signed_in(page, world.campus_fm)
    page.goto("/manage/room-use/?quick=12m")
    page.get_by_role("heading", name="Preparing the report").wait_for()
    assert page.locator("progress").get_attribute("value") == "30"
    check_a11y(page, "dashboard-progress")
    page.get_by_role("link", name="Stop reloading by itself").click()
    page.wait_for_load_state()
    assert "reload=off" in page.url
    assert "Reload the page" in page.get_by_role("status").inner_text()


def test_the_dashboard_keeps_to_the_content_security_policy(new_page, world, report_data):
    page = new_page(bypass_csp=False)
    violations: list[str] = []
    page.on(
        "console",
        lambda message: violations.append(message.text) if "Content Security Policy" in message.text else None,
    )
    signed_in(page, world.campus_fm)
    page.goto("/manage/room-use/")
    page.get_by_role("heading", name="Room use", level=1).wait_for()
    assert violations == []
