"""A utilisation report as CSV: a header row, one row per room, and a total row for the whole selection.

The columns are the JSON answer's names, so the CSV and the API's JSON say the same in the same
words: the room's facts, then every count and rate of ``Figures``. Rates are fractions (0.25 is
25 %); an empty cell is "no data", never 0. Text cells that a spreadsheet would run as a formula
(starting with = + - @, a tab or a line break, after any spaces; full-width ＝ ＋ too) get a leading
apostrophe.
"""

from __future__ import annotations

import csv
import dataclasses
import enum
import io
import unicodedata
from typing import Any

from utilisation.results import Figures, RoomRow, UtilisationReport

ROW_KIND_ROOM = "room"
ROW_KIND_TOTAL = "total"
ROOM_COLUMNS = [
    "room_id",
    "building_code",
    "code",
    "name",
    "kind",
    "capacity",
    "area_m2",
    "has_sensor",
    "presence_only",
    "p90_headcount",
    "oversized",
]
FIGURE_COLUMNS = [field.name for field in dataclasses.fields(Figures)]
COLUMNS = ["row", *ROOM_COLUMNS, *FIGURE_COLUMNS]

_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\n")


def guard_text(value: str) -> str:
    """Return ``value`` so that a spreadsheet shows it as text, never runs it as a formula.

    Spreadsheets skip leading spaces before a formula and some read full-width signs (＝, ＋) as the
    ASCII ones, so the text is checked as NFKC folds it, without its leading spaces.
    """
    folded = unicodedata.normalize("NFKC", value).lstrip(" \u00a0\u3000")
    return f"'{value}" if folded.startswith(_FORMULA_STARTS) else value


def _cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, enum.Enum):
        value = value.value
    if isinstance(value, str):
        return guard_text(value)
    return value  # numbers: csv writes repr(float), which reads back as the same float


def _figure_cells(figures: Figures) -> list[Any]:
    return [_cell(getattr(figures, name)) for name in FIGURE_COLUMNS]


def _room_cells(room: RoomRow) -> list[Any]:
    return [_cell(ROW_KIND_ROOM), *(_cell(getattr(room, name)) for name in ROOM_COLUMNS), *_figure_cells(room.figures)]


def report_csv(report: UtilisationReport) -> str:
    """Return ``report`` as CSV text (RFC 4180, CRLF line ends)."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(COLUMNS)
    for room in report.rooms:
        writer.writerow(_room_cells(room))
    total_facts = dict.fromkeys(ROOM_COLUMNS, "")
    total_facts["name"] = _cell(report.selection_label)
    writer.writerow([ROW_KIND_TOTAL, *total_facts.values(), *_figure_cells(report.totals)])
    return out.getvalue()
