"""The report's CSV: a header, a row per room, a total row, every figure, no formulas."""

from __future__ import annotations

import csv
import io

import pytest

from tests.utilisation.report_examples import FORMULA_NAME, sample_report
from utilisation.csv_export import COLUMNS, FIGURE_COLUMNS, guard_text, report_csv


def rows(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


def test_the_header_names_every_count_and_rate():
    header = next(csv.reader(io.StringIO(report_csv(sample_report()))))

    assert header == COLUMNS
    for name in ["frequency_rate", "occupancy_rate", "utilisation_rate", "booked_rate", "booked_used_gap"]:
        assert name in header
    for name in ["no_show_rate", "unbooked_use_rate", "coverage", "ghost_hours", "available_slots", "no_shows"]:
        assert name in header


def test_one_row_per_room_then_the_total():
    parsed = rows(report_csv(sample_report(room_ids=(11, 12))))

    assert [row["row"] for row in parsed] == ["room", "room", "total"]
    assert [row["room_id"] for row in parsed] == ["11", "12", ""]
    assert parsed[2]["name"] == "Main building"
    assert parsed[0]["area_m2"] == "60.5"
    assert parsed[1]["presence_only"] == "true"


def test_every_figure_reads_back_as_the_same_number():
    report = sample_report()
    parsed = rows(report_csv(report))

    for row, figures in zip(parsed, [room.figures for room in report.rooms] + [report.totals], strict=True):
        for name in FIGURE_COLUMNS:
            value = getattr(figures, name)
            cell = row[name]
            if value is None:
                assert cell == "", name
            elif isinstance(value, bool):
                assert cell == ("true" if value else "false"), name
            elif isinstance(value, int | float):
                assert float(cell) == value, name
            else:
                assert cell == value, name


def test_no_data_is_an_empty_cell_never_zero():
    row = rows(report_csv(sample_report()))[1]  # the presence-only lab

    assert row["occupancy_rate"] == ""
    assert row["utilisation_rate"] == ""
    assert row["rating"] == ""
    assert row["overrun_minutes"] == ""


def test_a_room_named_like_a_formula_is_written_as_text():
    parsed = rows(report_csv(sample_report()))

    assert parsed[0]["name"] == "'" + FORMULA_NAME
    assert parsed[1]["code"] == "'+A102"


def test_negative_numbers_are_numbers_not_guarded_text():
    row = rows(report_csv(sample_report()))[0]

    assert row["booked_used_gap"] == "-0.5"


@pytest.mark.parametrize(
    ("text", "written"),
    [
        ("=1+1", "'=1+1"),
        ("+46 70", "'+46 70"),
        ("-2", "'-2"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tcmd", "'\tcmd"),
        ("\rcmd", "'\rcmd"),
        ("\ncmd", "'\ncmd"),
        # Spreadsheets skip leading spaces and read full-width signs as formulas too (both passed unguarded before).
        ("  =1+1", "'  =1+1"),
        ("\u00a0=1+1", "'\u00a0=1+1"),
        ("\uff1dSUM(A1)", "'\uff1dSUM(A1)"),
        ("\u3000\uff0b1", "'\u3000\uff0b1"),
        ("Lab = good", "Lab = good"),
        ("  Lab", "  Lab"),
        ("", ""),
    ],
)
def test_text_starting_with_a_formula_character_gets_an_apostrophe(text, written):
    assert guard_text(text) == written
