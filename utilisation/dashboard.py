"""What the dashboard page shows of a report: headline figures in words, the pictures, the sorted room table.

Pure functions from ``utilisation.results`` (no database, no request), so the page's figures are
the service's own, only put into words; the view adds who may see what and where the report comes from.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlencode

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from utilisation import charts
from utilisation.charts import Chart, format_hours, format_number, format_percent
from utilisation.results import Figures, Heatmap, Rating, RoomRow, UtilisationReport

RATING_WORDS = {
    Rating.POOR: gettext_lazy("poor"),
    Rating.FAIR: gettext_lazy("fair"),
    Rating.GOOD: gettext_lazy("good"),
}


def rating_words(rating: Rating | None) -> str:
    """Return the rating band in words ("good"), or "no rating" when the rate is unknown."""
    return str(RATING_WORDS[rating]) if rating is not None else _("no rating")


@dataclass(frozen=True)
class Headline:
    """One headline figure: its name, its value in words, and what it is out of or means."""

    key: str
    label: str
    value: str
    note: str = ""


def headline_figures(totals: Figures) -> list[Headline]:
    """Return the selection's headline figures, each a rate or a count in words (docs/metrics.md defines them)."""
    occupancy_note = (
        _("Presence sensors only: they tell whether a room is used, not by how many.")
        if totals.occupancy_only_presence
        else _("Mean headcount ÷ capacity, over the slots in use.")
    )
    no_show_note = ngettext(
        "%(no_shows)s of %(started)s booking started with data.",
        "%(no_shows)s of %(started)s bookings started with data.",
        totals.bookings_started,
    ) % {"no_shows": totals.no_shows, "started": totals.bookings_started}
    return [
        Headline(
            "utilisation",
            _("Utilisation"),
            _("%(rate)s – %(rating)s")
            % {"rate": format_percent(totals.utilisation_rate), "rating": rating_words(totals.rating)},
            _("Frequency × occupancy."),
        ),
        Headline(
            "frequency",
            _("Frequency"),
            _("%(rate)s – %(rating)s")
            % {"rate": format_percent(totals.frequency_rate), "rating": rating_words(totals.frequency_rating)},
            _("Share of the slots with data in which the room was in use."),
        ),
        Headline("occupancy", _("Occupancy"), format_percent(totals.occupancy_rate), occupancy_note),
        Headline(
            "booked",
            _("Booked"),
            format_percent(totals.booked_rate),
            _("Share of the available slots that were booked."),
        ),
        Headline(
            "gap",
            _("Booked but not used"),
            format_percent(totals.booked_used_gap),
            _("Booked rate less frequency."),
        ),
        Headline("no_show", _("No-shows"), format_percent(totals.no_show_rate), no_show_note),
        Headline(
            "unbooked_use",
            _("Used without a booking"),
            format_percent(totals.unbooked_use_rate),
            _("Share of the slots in use that nobody had booked."),
        ),
        Headline(
            "ghost_hours",
            _("Ghost hours"),
            format_hours(totals.ghost_hours),
            _("Hours booked, with data, and not used."),
        ),
        Headline(
            "coverage",
            _("Data coverage"),
            format_percent(totals.coverage),
            _("Share of the available slots with enough sensor data; the rest count as unknown, never as empty."),
        ),
        Headline(
            "headcount",
            _("Mean and peak headcount"),
            _("%(mean)s / %(peak)s")
            % {"mean": format_number(totals.mean_headcount, decimals=1), "peak": format_number(totals.peak_count)},
            _("Over the slots in use."),
        ),
    ]


# --- the room table, sorted by a query parameter -----------------------------------------------------


@dataclass(frozen=True)
class RoomColumn:
    key: str
    label: str
    value: Callable[[RoomRow], object]


ROOM_COLUMNS = [
    RoomColumn("room", gettext_lazy("Room"), lambda row: (row.building_code, row.code)),
    RoomColumn("capacity", gettext_lazy("Capacity"), lambda row: row.capacity),
    RoomColumn("utilisation", gettext_lazy("Utilisation"), lambda row: row.figures.utilisation_rate),
    RoomColumn("frequency", gettext_lazy("Frequency"), lambda row: row.figures.frequency_rate),
    RoomColumn("occupancy", gettext_lazy("Occupancy"), lambda row: row.figures.occupancy_rate),
    RoomColumn("booked", gettext_lazy("Booked"), lambda row: row.figures.booked_rate),
    RoomColumn("no_show", gettext_lazy("No-shows"), lambda row: row.figures.no_show_rate),
    RoomColumn("ghost_hours", gettext_lazy("Ghost hours"), lambda row: row.figures.ghost_hours),
    RoomColumn("coverage", gettext_lazy("Data coverage"), lambda row: row.figures.coverage),
]
COLUMNS_BY_KEY = {column.key: column for column in ROOM_COLUMNS}
DEFAULT_SORT = "room"


def parse_sort(raw: str | None) -> tuple[str, bool]:
    """Return (column key, descending) from ``sort=KEY`` or ``sort=-KEY``; an unknown key sorts by room."""
    raw = (raw or "").strip()
    descending = raw.startswith("-")
    key = raw.lstrip("-")
    if key not in COLUMNS_BY_KEY:
        return DEFAULT_SORT, False
    return key, descending


def sorted_rooms(rooms: list[RoomRow], *, key: str, descending: bool) -> list[RoomRow]:
    """Return ``rooms`` sorted by the column ``key``; rooms without the figure ("no data") come last either way."""
    column = COLUMNS_BY_KEY[key]
    known = [row for row in rooms if column.value(row) is not None]
    unknown = [row for row in rooms if column.value(row) is None]
    known.sort(key=lambda row: (column.value(row), row.building_code, row.code), reverse=descending)
    unknown.sort(key=lambda row: (row.building_code, row.code))
    return known + unknown


@dataclass(frozen=True)
class SortLink:
    """A column header of the room table: its label, the link that sorts by it, and its sort state for aria-sort."""

    key: str
    label: str
    query: str
    aria_sort: str  # "ascending", "descending" or "none"
    hint: str


def sort_links(query: dict[str, str], *, key: str, descending: bool) -> list[SortLink]:
    """Return a sort link per column: a click sorts by it, a second click on the sorted column reverses it."""
    links = []
    for column in ROOM_COLUMNS:
        current = column.key == key
        # Names sort A→Z first; figures sort largest first, where the questions usually start.
        next_descending = (not descending) if current else column.key != "room"
        parameters = {**query, "sort": f"-{column.key}" if next_descending else column.key}
        hint = _("sort largest first") if next_descending else _("sort smallest first")
        if column.key == "room":
            hint = _("sort Z to A") if next_descending else _("sort A to Z")
        links.append(
            SortLink(
                key=column.key,
                label=str(column.label),
                query=urlencode(parameters),
                aria_sort=("descending" if descending else "ascending") if current else "none",
                hint=hint,
            )
        )
    return links


@dataclass(frozen=True)
class RoomLine:
    """A row of the room table in words."""

    row: RoomRow
    cells: list[str]


def room_lines(rooms: list[RoomRow]) -> list[RoomLine]:
    """Return the room table's rows: every figure in words, in the order of ``ROOM_COLUMNS`` after the room."""
    lines = []
    for row in rooms:
        figures = row.figures
        lines.append(
            RoomLine(
                row=row,
                cells=[
                    format_number(row.capacity),
                    f"{format_percent(figures.utilisation_rate)} ({rating_words(figures.rating)})",
                    format_percent(figures.frequency_rate),
                    format_percent(figures.occupancy_rate),
                    format_percent(figures.booked_rate),
                    format_percent(figures.no_show_rate),
                    format_hours(figures.ghost_hours),
                    format_percent(figures.coverage),
                ],
            )
        )
    return lines


@dataclass(frozen=True)
class DashboardCharts:
    heatmap_in_use: Chart | None
    heatmap_booked: Chart | None
    booked_used: Chart
    no_shows: Chart
    shares: Chart
    right_sizing: Chart


def dashboard_charts(report: UtilisationReport, heatmap: Heatmap | None) -> DashboardCharts:
    """Return the page's pictures of ``report`` (and of ``heatmap``, when there is one)."""
    return DashboardCharts(
        heatmap_in_use=charts.heatmap_chart(heatmap, measure="frequency", chart_id="heatmap-in-use")
        if heatmap is not None
        else None,
        heatmap_booked=charts.heatmap_chart(heatmap, measure="booked", chart_id="heatmap-booked")
        if heatmap is not None
        else None,
        booked_used=charts.booked_used_chart(report.over_time),
        no_shows=charts.no_show_chart(report.over_time),
        shares=charts.shares_chart(report.shares),
        right_sizing=charts.right_sizing_chart(report.rooms),
    )
