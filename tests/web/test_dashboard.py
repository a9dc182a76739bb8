"""The room-use dashboard page: who sees what, the service's figures on the page, sorting, progress, the CSV link."""

from __future__ import annotations

import datetime as dt
import re
import uuid

import pytest
from django.core.cache import cache
from django.utils import timezone

from tests.web.conftest import client_for
from utilisation import metrics, views
from utilisation.models import ReportJobStatus
from utilisation.reports import PendingReport
from utilisation.results import (
    Figures,
    Heatmap,
    InstitutionShare,
    Period,
    Rating,
    RoomRow,
    TimePoint,
    UtilisationReport,
)

URL = "/manage/room-use/"


def figures(**values) -> Figures:
    return Figures(**values)


def hand_built_report(campus, period: Period, rooms) -> UtilisationReport:
    """A report with known figures: utilisation 28 % (fair), frequency 40 %, occupancy 70 %, 12.5 ghost hours."""
    classroom, lab = rooms
    return UtilisationReport(
        campus_id=campus.pk,
        selection_label="Test selection <b>",
        period=period,
        generated_at=timezone.now(),
        data_version=3,
        totals=figures(
            available_slots=320,
            known_slots=300,
            in_use_slots=120,
            booked_slots=160,
            frequency_rate=0.4,
            occupancy_rate=0.7,
            utilisation_rate=0.28,
            rating=Rating.FAIR,
            frequency_rating=Rating.GOOD,
            booked_rate=0.5,
            booked_used_gap=0.1,
            no_show_rate=0.125,
            bookings_started=16,
            no_shows=2,
            unbooked_use_rate=0.05,
            coverage=0.9375,
            ghost_hours=12.5,
            mean_headcount=14.2,
            peak_count=31,
        ),
        rooms=[
            RoomRow(
                classroom.pk,
                classroom.code,
                classroom.name,
                "A",
                "classroom",
                30,
                60.0,
                True,
                False,
                figures(utilisation_rate=0.36, rating=Rating.GOOD, frequency_rate=0.6, coverage=1.0),
                20.0,
                False,
            ),
            RoomRow(
                lab.pk,
                lab.code,
                "<script>lab</script>",
                "A",
                "lab",
                24,
                80.0,
                True,
                False,
                figures(utilisation_rate=0.1, rating=Rating.POOR, frequency_rate=0.2, coverage=0.875),
                6.0,
                True,
            ),
        ],
        shares=[
            InstitutionShare(1, "Lukio", False, 40.0, 2400.0, 30.0, 1800.0, 0.8, 0.75, 32.0, 24.0),
            InstitutionShare(None, "", True, 0.0, None, 10.0, 600.0, 0.0, 0.25, 0.0, 8.0),
        ],
        over_time=[TimePoint(period.first_day, 32, 16, 12, 30, 1)],
    )


def empty_heatmap(period: Period) -> Heatmap:
    rates = [[None] * 24 for _ in range(7)]
    return Heatmap(period, [8, 9], [1, 2, 3, 4, 5], rates, rates, [[0] * 24 for _ in range(7)])


@pytest.fixture
def service(monkeypatch, joint_campus):
    """Answer the page's report calls with the hand-built report, and note what was asked."""
    calls = []

    def report(*, campus, period, building=None, institution=None, room=None, now=None):
        calls.append(
            {"campus": campus, "period": period, "building": building, "institution": institution, "room": room}
        )
        return hand_built_report(campus, period, (joint_campus.classroom, joint_campus.lab))

    cache.clear()  # reports are cached by their parameters
    monkeypatch.setattr(metrics, "utilisation_report", report)
    monkeypatch.setattr(metrics, "heatmap", lambda *, period, **places: empty_heatmap(period))
    return calls


def text_of(response) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", response.content.decode()))


def test_anonymous_people_are_sent_to_sign_in(client, joint_campus):
    response = client.get(URL)
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_staff_are_refused(lukio_staff, service):
    assert client_for(lukio_staff).get(URL).status_code == 403
    assert service == []


def test_front_desk_is_refused(front_desk, service):
    assert client_for(front_desk).get(URL).status_code == 403


def test_a_campus_facility_manager_sees_the_whole_campus_by_default(campus_fm, joint_campus, service):
    response = client_for(campus_fm).get(URL)
    assert response.status_code == 200
    [call] = service
    assert call["campus"] == joint_campus.campus
    assert call["institution"] is None
    assert call["room"] is None
    assert call["building"] is None
    today = timezone.localdate()
    assert (call["period"].first_day, call["period"].last_day) == (today - dt.timedelta(days=29), today)
    institutions = response.context["form"].fields["institution"].queryset
    assert set(institutions) == {joint_campus.lukio, joint_campus.vocational, joint_campus.adult}


def test_an_institution_admin_sees_their_own_institution_and_not_another(lukio_admin, joint_campus, service):
    client = client_for(lukio_admin)
    response = client.get(URL)
    assert response.status_code == 200
    assert service[0]["institution"] == joint_campus.lukio
    assert list(response.context["form"].fields["institution"].queryset) == [joint_campus.lukio]

    other = client.get(
        URL, {"campus": joint_campus.campus.pk, "institution": joint_campus.vocational.pk, "quick": "30d"}
    )
    assert other.status_code == 200
    assert "Select a valid choice" in other.content.decode()
    assert len(service) == 1  # the vocational college's report was never computed

    whole_campus = client.get(URL, {"campus": joint_campus.campus.pk, "quick": "30d", "season": "term"})
    assert len(service) == 1  # the institution may not be left out
    assert whole_campus.context["form"].errors["institution"]


def test_a_facility_manager_of_an_institution_chooses_among_their_rooms(fm_of_lukio, joint_campus, service):
    response = client_for(fm_of_lukio).get(URL)
    assert response.status_code == 200
    rooms = set(response.context["form"].fields["room"].queryset)
    assert rooms
    assert all(room.owner_id == joint_campus.lukio.pk for room in rooms)
    assert service[0]["institution"] == joint_campus.lukio


def test_the_page_shows_the_services_figures(campus_fm, joint_campus, service):
    response = client_for(campus_fm).get(URL, {"campus": joint_campus.campus.pk, "quick": "30d", "season": "all"})
    page = text_of(response)
    assert service[0]["period"].season == "all"
    for expected in (
        "Utilisation 28 % – fair",
        "Frequency 40 % – good",
        "Occupancy 70 %",
        "Booked 50 %",
        "Booked but not used 10 %",
        "No-shows 13 %",  # 12.5 % rounded half up
        "2 of 16 bookings started with data",
        "Used without a booking 5 %",
        "Ghost hours 12.5",
        "Data coverage 94 %",
        "Mean and peak headcount 14.2 / 31",
        "Unattributed (used, nobody booked)",
    ):
        assert expected in page.replace("\u00a0", " "), expected
    html = response.content.decode()
    assert "Test selection &lt;b&gt;" in html
    assert "<script>lab</script>" not in html
    assert "&lt;script&gt;lab&lt;/script&gt;" in html
    # The heatmaps have no data (said in words); booked-versus-used, no-shows, shares and right-sizing are drawn.
    assert html.count('role="img"') == 4
    assert html.count("No data for this period.") == 2


def test_the_room_table_sorts_by_a_query_parameter(campus_fm, joint_campus, service):
    client = client_for(campus_fm)
    base = {"campus": joint_campus.campus.pk, "quick": "30d"}

    def room_order(sort: str) -> list[int]:
        lines = client.get(URL, {**base, "sort": sort}).context["room_lines"]
        return [line.row.room_id for line in lines]

    classroom, lab = joint_campus.classroom.pk, joint_campus.lab.pk
    assert room_order("-utilisation") == [classroom, lab]
    assert room_order("utilisation") == [lab, classroom]
    assert room_order("-coverage") == [classroom, lab]
    response = client.get(URL, {**base, "sort": "-utilisation"})
    assert 'aria-sort="descending"' in response.content.decode()
    link = next(link for link in response.context["sort_links"] if link.key == "utilisation")
    assert "sort=utilisation" in link.query  # a second click reverses


def test_a_long_report_shows_its_progress_and_reloads_itself(campus_fm, joint_campus, monkeypatch):
    monkeypatch.setattr(
        views,
        "load_report",
        lambda user, selection: PendingReport(job_id=uuid.uuid4(), progress=42, status=ReportJobStatus.RUNNING),
    )
    response = client_for(campus_fm).get(URL, {"campus": joint_campus.campus.pk, "quick": "12m"})
    html = response.content.decode()
    assert '<progress max="100" value="42"' in html
    assert response["Refresh"] == "2"
    assert "<script" not in html.split("</main>")[0].split("<main")[1]
    assert "reload=off" in response.context["job"]["stop_url"]

    stopped = client_for(campus_fm).get(URL, {"campus": joint_campus.campus.pk, "quick": "12m", "reload": "off"})
    assert "Refresh" not in stopped
    assert "Reload the page to see how far it has got" in stopped.content.decode()


def test_the_csv_link_asks_the_api_for_the_same_selection(campus_fm, joint_campus, service):
    response = client_for(campus_fm).get(
        URL,
        {
            "campus": joint_campus.campus.pk,
            "room": joint_campus.classroom.pk,
            "quick": "dates",
            "first_day": "2026-01-05",
            "last_day": "2026-01-09",
            "season": "breaks",
        },
    )
    csv_url = response.context["csv_url"]
    assert csv_url.startswith("/api/v1/reports/utilisation?")
    for part in (
        f"room={joint_campus.classroom.pk}",
        "from=2026-01-05",
        "to=2026-01-09",
        "season=breaks",
        "format=csv",
    ):
        assert part in csv_url


def test_the_navigation_offers_the_dashboard_to_those_who_may_see_it(campus_fm, lukio_admin, lukio_staff):
    assert 'href="/manage/room-use/"' in client_for(campus_fm).get("/").content.decode()
    assert 'href="/manage/room-use/"' in client_for(lukio_admin).get("/").content.decode()
    assert 'href="/manage/room-use/"' not in client_for(lukio_staff).get("/").content.decode()


def test_a_period_with_its_last_day_first_is_refused(campus_fm, joint_campus, service):
    response = client_for(campus_fm).get(
        URL, {"campus": joint_campus.campus.pk, "quick": "dates", "first_day": "2026-02-01", "last_day": "2026-01-01"}
    )
    assert response.context["form"].errors["last_day"] == ["The last day is before the first."]
    assert service == []
