"""What a utilisation report returns: plain values the API, the CSV, the dashboard and the tests all read.

Rates are fractions (0.25 is 25 %) or ``None`` when there is nothing to divide by (no known slots,
no in-use slots, a presence-only room's occupancy); a ``None`` is shown as "no data", never as 0.
``docs/metrics.md`` defines every figure.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from enum import StrEnum


class Season(StrEnum):
    """Which days of the period count: term time (default), term breaks only, or every day."""

    TERM = "term"
    BREAKS = "breaks"
    ALL = "all"


class Rating(StrEnum):
    POOR = "poor"
    FAIR = "fair"
    GOOD = "good"


@dataclass(frozen=True)
class Period:
    """Campus-local dates, both included."""

    first_day: dt.date
    last_day: dt.date
    season: Season = Season.TERM

    def bounds(self, zone: dt.tzinfo) -> tuple[dt.datetime, dt.datetime]:
        """Return the period as [start of its first day, start of the day after its last) in UTC."""
        first = dt.datetime.combine(self.first_day, dt.time(), tzinfo=zone)
        end = dt.datetime.combine(self.last_day + dt.timedelta(days=1), dt.time(), tzinfo=zone)
        return first.astimezone(dt.UTC), end.astimezone(dt.UTC)


@dataclass
class Figures:
    """The figures of one room, or of a whole selection (sums over its rooms, rates recomputed from the sums)."""

    available_slots: int = 0  # core-hour slots of the period, less holidays, closures, breaks and the future
    known_slots: int = 0  # available slots with data for at least the minimum coverage
    in_use_slots: int = 0  # known slots occupied for at least the in-use minutes
    booked_slots: int = 0  # available slots booked for at least the booked minutes
    booked_known_slots: int = 0  # booked slots that are also known
    ghost_slots: int = 0  # booked, known and not in use
    unbooked_use_slots: int = 0  # in use and not booked
    headcount_slots: int = 0  # in-use slots with a headcount (a count sensor covered them)
    capacity_slots: int = 0  # sum over in-use slots with a headcount of the room's capacity
    headcount_sum: float = 0.0  # sum over in-use slots with a headcount of their mean headcount
    peak_count: int | None = None
    bookings_started: int = 0  # bookings that started in the period, with enough data to tell
    no_shows: int = 0
    bookings_unknown: int = 0  # bookings started with too little data in their first minutes
    early_release_minutes: float | None = None  # mean minutes between the last presence and the booked end
    overrun_minutes: float | None = None  # mean minutes used past the booked end, over bookings that overran
    # Rates, computed from the counts above (see docs/metrics.md).
    frequency_rate: float | None = None
    occupancy_rate: float | None = None
    utilisation_rate: float | None = None
    booked_rate: float | None = None
    booked_used_gap: float | None = None
    no_show_rate: float | None = None
    unbooked_use_rate: float | None = None
    coverage: float | None = None
    mean_headcount: float | None = None
    ghost_hours: float = 0.0
    rating: Rating | None = None  # the band of the utilisation rate
    frequency_rating: Rating | None = None
    occupancy_only_presence: bool = False  # only presence sensors: occupancy figures are null on purpose


@dataclass
class RoomRow:
    room_id: int
    code: str
    name: str
    building_code: str
    kind: str
    capacity: int
    area_m2: float | None
    has_sensor: bool
    presence_only: bool
    figures: Figures
    p90_headcount: float | None = None  # 90th percentile of in-use slots' mean headcount
    oversized: bool = False  # p90 headcount under half the capacity


@dataclass
class InstitutionShare:
    """One institution's share (``institution_id`` None: the campus's own services; ``unattributed``: nobody booked)."""

    institution_id: int | None
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


@dataclass
class KindConcurrency:
    """Peak concurrency of one room kind: at most how many of its rooms were in use in one slot."""

    kind: str
    rooms: int
    peak_in_use: int
    peak_at: dt.datetime | None


@dataclass
class TimePoint:
    """Booked versus used over time: one point per day (or week, for long periods)."""

    day: dt.date
    available_slots: int
    booked_slots: int
    in_use_slots: int
    known_slots: int
    no_shows: int


@dataclass
class UtilisationReport:
    campus_id: int
    selection_label: str
    period: Period
    generated_at: dt.datetime
    data_version: int
    totals: Figures
    rooms: list[RoomRow] = field(default_factory=list)
    shares: list[InstitutionShare] = field(default_factory=list)
    concurrency: list[KindConcurrency] = field(default_factory=list)
    over_time: list[TimePoint] = field(default_factory=list)


@dataclass
class Heatmap:
    """Hour-of-week matrix: ``cells[weekday - 1][hour]`` over the period's available slots (None: no slot)."""

    period: Period
    hours: list[int]
    weekdays: list[int]
    frequency: list[list[float | None]]
    booked: list[list[float | None]]
    available_slots: list[list[int]]
