"""Schemas of the report endpoints: what to report on, the utilisation report, the heatmap and report jobs."""

from __future__ import annotations

import datetime as dt
import uuid
from enum import StrEnum
from typing import Annotated, Any

from ninja import Field, Schema
from pydantic import AfterValidator

from api.schemas import RecordId, _date_within_years
from utilisation.models import ReportJobStatus
from utilisation.results import Rating, Season

CampusDate = Annotated[dt.date, AfterValidator(_date_within_years)]


class ReportFormat(StrEnum):
    JSON = "json"
    CSV = "csv"


class HeatmapQuery(Schema):
    """What to report on: a campus, or one room, building or institution (its bookings) of it; and the days."""

    campus: RecordId | None = Field(None, description="Campus id; implied by a room, building or institution.")
    room: RecordId | None = Field(None, description="Room id (at most one of room, building, institution).")
    building: RecordId | None = Field(None, description="Building id.")
    institution: RecordId | None = Field(None, description="Institution id: the rooms it owns and the slots it booked.")
    first_day: CampusDate = Field(..., alias="from", description="First day, campus-local (YYYY-MM-DD), included.")
    last_day: CampusDate = Field(
        ..., alias="to", description="Last day, campus-local (YYYY-MM-DD), included; at most two years after from."
    )
    season: Season = Field(
        Season.TERM, description="term: term time only (default); breaks: term breaks only; all: every day."
    )


class ReportQuery(HeatmapQuery):
    format: ReportFormat = Field(ReportFormat.JSON, description="json, or csv: one row per room and a total row.")


class PeriodOut(Schema):
    first_day: dt.date
    last_day: dt.date
    season: Season


class FiguresOut(Schema):
    """Counts of 15-minute core-hour slots and bookings, and the rates computed from them (docs/metrics.md).

    Rates are fractions (0.25 is 25 %); null means nothing to divide by, never 0.
    """

    available_slots: int
    known_slots: int = Field(description="Available slots with enough sensor data.")
    in_use_slots: int
    booked_slots: int
    booked_known_slots: int
    ghost_slots: int = Field(description="Booked, known and not in use.")
    unbooked_use_slots: int
    headcount_slots: int
    capacity_slots: int
    headcount_sum: float
    peak_count: int | None
    bookings_started: int
    no_shows: int
    bookings_unknown: int
    early_release_minutes: float | None
    overrun_minutes: float | None
    frequency_rate: float | None
    occupancy_rate: float | None
    utilisation_rate: float | None = Field(description="frequency_rate × occupancy_rate.")
    booked_rate: float | None
    booked_used_gap: float | None
    no_show_rate: float | None
    unbooked_use_rate: float | None
    coverage: float | None
    mean_headcount: float | None
    ghost_hours: float
    rating: Rating | None = Field(description="Band of the utilisation rate.")
    frequency_rating: Rating | None
    occupancy_only_presence: bool = Field(description="Only presence sensors: occupancy figures are null on purpose.")


class ReportRoomOut(FiguresOut):
    """One room's facts and figures."""

    room_id: int
    code: str
    name: str
    building_code: str
    kind: str
    capacity: int
    area_m2: float | None
    has_sensor: bool
    presence_only: bool
    p90_headcount: float | None
    oversized: bool = Field(description="90th-percentile headcount under half the capacity.")


class RightSizingOut(Schema):
    room_id: int
    code: str
    name: str
    capacity: int
    p90_headcount: float | None


class InstitutionShareOut(Schema):
    institution_id: int | None = Field(description="null: the campus's own services, or nobody (unattributed).")
    name: str
    unattributed: bool
    booked_hours: float
    booked_m2_hours: float | None
    used_hours: float
    used_m2_hours: float | None
    booked_share: float | None
    used_share: float | None
    core_booked_hours: float
    core_used_hours: float


class KindConcurrencyOut(Schema):
    kind: str
    rooms: int
    peak_in_use: int
    peak_at: dt.datetime | None


class TimePointOut(Schema):
    day: dt.date
    available_slots: int
    booked_slots: int
    in_use_slots: int
    known_slots: int
    no_shows: int


class ReportOut(FiguresOut):
    """The whole selection's figures at the top level, then per room, per institution, right-sizing and over time."""

    campus_id: int
    selection_label: str
    period: PeriodOut
    generated_at: dt.datetime
    data_version: int = Field(description="The rollup's data version the report was computed from.")
    rooms: list[ReportRoomOut]
    shares: list[InstitutionShareOut]
    right_sizing: list[RightSizingOut] = Field(description="Rooms whose 90th-percentile headcount is under half.")
    concurrency: list[KindConcurrencyOut]
    over_time: list[TimePointOut]


class HeatmapOut(Schema):
    """Hour-of-week matrix: ``frequency[weekday index][hour index]``; null where the period has no slot."""

    period: PeriodOut
    hours: list[int]
    weekdays: list[int] = Field(description="ISO weekdays, Monday = 1.")
    frequency: list[list[float | None]]
    booked: list[list[float | None]]
    available_slots: list[list[int]]


class PendingReportOut(Schema):
    """202: the report is being computed in the background; follow ``url`` for its progress and result."""

    job: uuid.UUID
    progress: int = Field(description="Percent done, 0–100.")
    status: ReportJobStatus
    url: str


class ReportJobOut(Schema):
    job: uuid.UUID
    status: ReportJobStatus
    progress: int = Field(description="Percent done, 0–100.")
    created_at: dt.datetime
    finished_at: dt.datetime | None
    error: str | None = Field(description="Why a failed job failed.")
    result: ReportOut | None = Field(description="The report, once the job is done.")
    heatmap: HeatmapOut | None = Field(description="The heatmap of the same selection, once the job is done.")


def _in_zone(iso_time: str | None, zone: dt.tzinfo) -> dt.datetime | None:
    return dt.datetime.fromisoformat(iso_time).astimezone(zone) if iso_time else None


def report_answer(report_json: dict[str, Any], *, zone: dt.tzinfo) -> dict[str, Any]:
    """Return the API's answer from a report's JSON (``utilisation.reports.report_to_json``), times in ``zone``."""
    return {
        **report_json["totals"],
        **{key: value for key, value in report_json.items() if key != "totals"},
        "generated_at": _in_zone(report_json["generated_at"], zone),
        "concurrency": [{**kind, "peak_at": _in_zone(kind["peak_at"], zone)} for kind in report_json["concurrency"]],
        "rooms": [
            {**room["figures"], **{k: v for k, v in room.items() if k != "figures"}} for room in report_json["rooms"]
        ],
        "right_sizing": [
            {name: room[name] for name in ("room_id", "code", "name", "capacity", "p90_headcount")}
            for room in report_json["rooms"]
            if room["oversized"]
        ],
    }
