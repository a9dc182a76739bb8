"""The dashboard's SVG pictures: well-formed, accessible, carrying their numbers, and safe with hostile names."""

from __future__ import annotations

import datetime as dt
from xml.etree import ElementTree

import pytest

from utilisation import charts
from utilisation.results import Figures, Heatmap, InstitutionShare, Period, RoomRow, TimePoint

SVG = "{http://www.w3.org/2000/svg}"
HOSTILE_NAMES = ["<script>alert(1)</script>", '"onload=alert(1) x="', "Tom & Jerry's <b>room</b>"]
PERIOD = Period(first_day=dt.date(2026, 1, 5), last_day=dt.date(2026, 1, 9))


def parse(chart: charts.Chart) -> ElementTree.Element:
    """Parse the chart's SVG as XML (fails on malformed markup) and check its text alternative."""
    root = ElementTree.fromstring(str(chart.svg))
    assert root.tag == f"{SVG}svg"
    assert root.get("role") == "img"
    title = root.find(f"{SVG}title")
    assert title is not None
    assert root.get("aria-labelledby") == title.get("id") == f"{chart.chart_id}-title"
    assert title.text == chart.title
    desc = root.find(f"{SVG}desc")
    assert desc is not None
    assert root.get("aria-describedby") == desc.get("id")
    assert desc.text == chart.summary
    return root


def texts(root: ElementTree.Element) -> list[str]:
    return [element.text or "" for element in root.iter(f"{SVG}text")]


def titles(root: ElementTree.Element) -> list[str]:
    return [element.text or "" for element in root.iter(f"{SVG}title")]


def no_event_handlers_nor_scripts(root: ElementTree.Element) -> None:
    for element in root.iter():
        assert element.tag not in (f"{SVG}script", "script", f"{SVG}foreignObject")
        assert not [name for name in element.attrib if name.lower().startswith("on")], element.attrib


def week_heatmap() -> Heatmap:
    """Mon–Fri 8–10: Monday 8:00 in use 25 %, Tuesday 9:00 without data, the rest 50 % (booked 75 %)."""
    frequency: list[list[float | None]] = [[None] * 24 for _ in range(7)]
    booked: list[list[float | None]] = [[None] * 24 for _ in range(7)]
    available = [[0] * 24 for _ in range(7)]
    for weekday in range(5):
        for hour in (8, 9):
            frequency[weekday][hour] = 0.5
            booked[weekday][hour] = 0.75
            available[weekday][hour] = 4
    frequency[0][8] = 0.25
    frequency[1][9] = None
    return Heatmap(
        period=PERIOD,
        hours=[8, 9],
        weekdays=[1, 2, 3, 4, 5],
        frequency=frequency,
        booked=booked,
        available_slots=available,
    )


def test_the_heatmap_prints_every_cells_number_and_marks_missing_data():
    chart = charts.heatmap_chart(week_heatmap())
    root = parse(chart)
    cell_titles = [title for title in titles(root) if ":00–" in title]
    assert len(cell_titles) == 10  # one per weekday and hour
    assert "Monday 08:00–09:00: 25 % in use, of 4 available slots" in [t.replace("\u00a0", " ") for t in cell_titles]
    assert "Tuesday 09:00–10:00: no data" in cell_titles
    printed = texts(root)
    assert printed.count("25") == 1
    assert printed.count("50") == 8
    assert "–" in printed  # the cell without data says so in text, not only with its hatch
    assert [row[0] for row in chart.table.rows] == ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday"]
    assert chart.table.rows[0][1:] == ["25\u00a0%", "50\u00a0%"]
    assert chart.table.rows[1][2] == "no data"
    assert "Monday 08:00" not in chart.summary  # the busiest hour is a 50 % one, not Monday at 8
    no_event_handlers_nor_scripts(root)


def test_the_booked_heatmap_reads_the_booked_matrix():
    chart = charts.heatmap_chart(week_heatmap(), measure="booked", chart_id="heatmap-booked")
    root = parse(chart)
    assert texts(root).count("75") == 10
    assert chart.table.rows[1][1:] == ["75\u00a0%", "75\u00a0%"]


def test_a_heatmap_without_data_draws_nothing_and_says_so():
    empty = Heatmap(
        period=PERIOD,
        hours=[8],
        weekdays=[1],
        frequency=[[None] * 24 for _ in range(7)],
        booked=[[None] * 24 for _ in range(7)],
        available_slots=[[0] * 24 for _ in range(7)],
    )
    chart = charts.heatmap_chart(empty)
    assert chart.svg == ""
    assert chart.summary == "No data for this period."
    assert chart.table.rows == [["Monday", "no data"]]


def three_days() -> list[TimePoint]:
    """Monday: 32 available slots, 8 booked, 12 in use of 24 known; Tuesday no data; Wednesday 16 booked, 6 of 24."""
    return [
        TimePoint(
            day=dt.date(2026, 1, 5), available_slots=32, booked_slots=8, in_use_slots=12, known_slots=24, no_shows=2
        ),
        TimePoint(
            day=dt.date(2026, 1, 6), available_slots=32, booked_slots=0, in_use_slots=0, known_slots=0, no_shows=0
        ),
        TimePoint(
            day=dt.date(2026, 1, 7), available_slots=32, booked_slots=16, in_use_slots=6, known_slots=24, no_shows=1
        ),
    ]


def test_booked_versus_used_draws_two_lines_told_apart_by_dash_and_marker():
    chart = charts.booked_used_chart(three_days())
    root = parse(chart)
    lines = list(root.iter(f"{SVG}polyline"))
    solid = [line for line in lines if line.get("stroke-dasharray") is None]
    dashed = [line for line in lines if line.get("stroke-dasharray")]
    assert len(solid) == 1  # booked: a line through all three days
    assert len(solid[0].get("points", "").split()) == 3
    assert dashed == []  # in use: Tuesday has no data, so Monday and Wednesday stand alone as markers
    assert len(list(root.iter(f"{SVG}circle"))) == 2 + 1  # two days in use, and the legend's sample
    assert len([rect for rect in root.iter(f"{SVG}rect") if rect.get("width") == "8"]) == 3 + 1
    assert "Booked (solid line, squares)" in texts(root)
    assert "In use (dashed line, circles)" in texts(root)
    # Monday: 8 of 32 slots booked = 25 %, 12 of 24 known in use = 50 %; Tuesday no data; hours are slots / 4.
    assert chart.table.rows[0] == ["05/01/2026", "8.00", "2.00", "25\u00a0%", "6.00", "3.00", "50\u00a0%"]
    assert chart.table.rows[1][6] == "no data"
    # Over the three days: 24 of 96 booked = 25 %, 18 of 48 known in use = 38 %, 37.5 % shown as 38 %.
    assert "Booked: 25\u00a0% of the available hours; in use: 38\u00a0% of the hours with data" in chart.summary


def test_the_no_show_bars_carry_their_counts():
    chart = charts.no_show_chart(three_days())
    root = parse(chart)
    assert "2" in texts(root)
    assert "1" in texts(root)
    assert chart.summary.startswith("3 no-shows from 05/01/2026 to 07/01/2026")
    assert [row[1] for row in chart.table.rows] == ["2", "0", "1"]


def shares_with(name: str) -> list[InstitutionShare]:
    return [
        InstitutionShare(
            institution_id=1,
            name=name,
            unattributed=False,
            booked_hours=30.0,
            booked_m2_hours=1500.0,
            used_hours=12.0,
            used_m2_hours=600.0,
            booked_share=0.75,
            used_share=0.6,
            core_booked_hours=24.0,
            core_used_hours=10.0,
        ),
        InstitutionShare(
            institution_id=None,
            name="",
            unattributed=True,
            booked_hours=0.0,
            booked_m2_hours=None,
            used_hours=8.0,
            used_m2_hours=400.0,
            booked_share=0.0,
            used_share=0.4,
            core_booked_hours=0.0,
            core_used_hours=6.5,
        ),
    ]


def test_the_shares_show_booked_and_used_hours_and_the_unattributed_use():
    chart = charts.shares_chart(shares_with("Lukio"))
    root = parse(chart)
    printed = texts(root)
    assert "30.0 h" in printed
    assert "12.0 h" in printed
    assert "8.0 h" in printed
    assert "Unattributed (used, nobody booked)" in printed
    fills = {rect.get("fill") for rect in root.iter(f"{SVG}rect")}
    assert "url(#shares-used)" in fills  # used hours are hatched, not only another colour
    assert chart.table.rows[1] == [
        "Unattributed (used, nobody booked)",
        "0.0",
        "0.0\u00a0%",
        "8.0",
        "40.0\u00a0%",
        "no data",
        "400",
        "0.0",
        "6.5",
    ]
    assert chart.summary == "Lukio used the most: 12.0 hours, 60.0\u00a0% of the measured use."


@pytest.mark.parametrize("name", HOSTILE_NAMES)
def test_hostile_institution_names_stay_text(name):
    chart = charts.shares_chart(shares_with(name))
    root = parse(chart)  # still well-formed XML
    no_event_handlers_nor_scripts(root)
    assert "<script" not in str(chart.svg)
    assert any(title.startswith(f"{name}: 30.0 hours booked") for title in titles(root))
    assert chart.table.rows[0][0] == name  # the template escapes the table's text


def room(code: str, name: str, *, capacity: int, p90: float | None, oversized: bool) -> RoomRow:
    return RoomRow(
        room_id=hash(code) % 1000,
        code=code,
        name=name,
        building_code="A",
        kind="classroom",
        capacity=capacity,
        area_m2=60.0,
        has_sensor=True,
        presence_only=False,
        figures=Figures(peak_count=14, utilisation_rate=0.12),
        p90_headcount=p90,
        oversized=oversized,
    )


def test_right_sizing_lists_only_the_oversized_rooms_emptiest_first():
    rooms = [
        room("A101", "Classroom", capacity=30, p90=12.0, oversized=True),  # 40 % of capacity
        room("A102", "Full room", capacity=30, p90=25.0, oversized=False),
        room("B201", "Lecture hall", capacity=120, p90=24.0, oversized=True),  # 20 %
    ]
    chart = charts.right_sizing_chart(rooms)
    root = parse(chart)
    assert [row[0] for row in chart.table.rows] == ["B201 Lecture hall", "A101 Classroom"]
    assert chart.table.rows[0][3:] == ["120", "24.0", "14", "12\u00a0%"]
    assert "24.0 / 120" in texts(root)
    assert "12.0 / 30" in texts(root)
    assert chart.summary == "2 rooms' 90th-percentile headcounts stay under half their capacity."


@pytest.mark.parametrize("name", HOSTILE_NAMES)
def test_hostile_room_names_stay_text(name):
    chart = charts.right_sizing_chart([room("X1", name, capacity=40, p90=5.0, oversized=True)])
    root = parse(chart)
    no_event_handlers_nor_scripts(root)
    assert f"X1 {name}" in texts(root) or any(text.startswith("X1 ") for text in texts(root))
    assert any(title.startswith(f"X1 {name}: capacity 40") for title in titles(root))


def test_every_chart_id_prefixes_its_pattern_ids_so_two_charts_can_share_a_page():
    first = parse(charts.heatmap_chart(week_heatmap(), chart_id="one"))
    second = parse(charts.heatmap_chart(week_heatmap(), chart_id="two"))
    ids = [element.get("id") for root in (first, second) for element in root.iter() if element.get("id")]
    assert len(ids) == len(set(ids))
