"""The dashboard's pictures: accessible SVG drawn on the server from a report's result types.

Pure functions from ``utilisation.results`` to a ``Chart``: the SVG markup and the table of the
same numbers, which the page shows beside the picture. No chart library and no script: the
markup is built here with ``format_html``, so every text that comes from data (room and
institution names) is escaped, and it is well-formed XML. Each picture carries ``role="img"``,
a ``<title>`` it is labelled by and a ``<desc>`` summary; meaning never rests on colour alone —
the heatmap's cells carry their numbers (missing data is hatched and marked), the two lines of
booked versus used differ in dash and marker, the share bars in fill pattern, and each has a legend.
Colours and patterns are set as presentation attributes (the strict CSP forbids inline styles);
``static/kampus/dashboard.css`` only sizes the pictures and adjusts them for print.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from django.utils.dates import WEEKDAYS, WEEKDAYS_ABBR
from django.utils.formats import date_format, number_format
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from campus.models import RoomKind
from utilisation.results import Heatmap, InstitutionShare, RoomRow, TimePoint

SLOTS_PER_HOUR = 4
FONT = "system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif"
INK = "#1b1b1b"
MUTED = "#4a4a4a"
GRID = "#767676"
BOOKED_COLOUR = "#0a4f8a"  # the site's accent; 8.7:1 on white
USED_COLOUR = "#8a4b00"  # the site's warning brown; 7.1:1 on white
# The heatmap's sequential scale (light to dark) with the text colour that keeps 4.5:1 on each fill.
HEAT_STEPS = (
    (0.2, "#f3f5f8", INK),
    (0.4, "#c6dbef", INK),
    (0.6, "#6baed6", INK),
    (0.8, "#2171b5", "#ffffff"),
    (1.01, "#08306b", "#ffffff"),
)
MAX_MARKED_POINTS = 62  # more points than this and the markers would merge; the dash still tells the lines apart
MAX_X_LABELS = 8


@dataclass(frozen=True)
class ChartTable:
    """The numbers of a picture as a table: ``columns`` head it, each row's first cell is its header."""

    caption: str
    columns: list[str]
    rows: list[list[str]] = field(default_factory=list)


@dataclass(frozen=True)
class Chart:
    """A picture and its text alternative; ``svg`` is empty when there is nothing to draw."""

    chart_id: str
    title: str
    summary: str
    svg: SafeString
    table: ChartTable


# --- numbers in words -------------------------------------------------------------------------------


def _rounded(value: float, decimals: int) -> str:
    """Return ``value`` localised with ``decimals`` places, halves rounded up as people do (37.5 % is 38 %)."""
    exact = Decimal(repr(value)).quantize(Decimal(1).scaleb(-decimals), rounding=ROUND_HALF_UP)
    return number_format(exact, decimals)


def format_percent(rate: float | None, *, decimals: int = 0) -> str:
    """Return ``rate`` (a fraction) as a localised percentage, or "no data" for None."""
    if rate is None:
        return _("no data")
    return f"{_rounded(rate * 100, decimals)}\u00a0%"


def format_hours(hours: float | None, *, decimals: int = 1) -> str:
    """Return ``hours`` as a localised number, or "no data" for None."""
    if hours is None:
        return _("no data")
    return _rounded(hours, decimals)


def format_number(value: float | None, *, decimals: int = 0) -> str:
    """Return ``value`` as a localised number, or "no data" for None."""
    if value is None:
        return _("no data")
    return _rounded(value, decimals)


def slots_to_hours(slots: int) -> float:
    return slots / SLOTS_PER_HOUR


def _share(part: int, whole: int) -> float | None:
    return part / whole if whole else None


# --- SVG building blocks ----------------------------------------------------------------------------


def _n(value: float) -> str:
    """Return a coordinate with at most one decimal (never localised: SVG wants a dot)."""
    text = f"{value:.1f}"
    return text[:-2] if text.endswith(".0") else text


def _attrs(pairs: Iterable[tuple[str, object]]) -> SafeString:
    return format_html_join(" ", '{}="{}"', ((name, value) for name, value in pairs if value is not None))


def _element(tag: str, attributes: dict[str, object], content: str = "") -> SafeString:
    """Return ``<tag attributes>content</tag>``; ``content`` is escaped unless it is already safe markup."""
    pairs = [(name.rstrip("_").replace("_", "-"), value) for name, value in attributes.items()]
    # Tag names come from this module, never from data; attribute values and content are escaped.
    opening = format_html("{} {}", mark_safe(tag), _attrs(pairs)) if pairs else mark_safe(tag)
    if content == "" and tag not in ("text", "title", "desc"):
        return format_html("<{}/>", opening)
    return format_html("<{}>{}</{}>", opening, content, mark_safe(tag))


def _text(x: float, y: float, content: str, *, size: int = 12, anchor: str = "start", **extra: object) -> SafeString:
    attributes: dict[str, object] = {"x": _n(x), "y": _n(y), "font_size": size, "text_anchor": anchor}
    attributes.setdefault("fill", INK)
    attributes.update(extra)
    return _element("text", attributes, content)


def _join(parts: Iterable[str]) -> SafeString:
    return mark_safe("".join(parts))  # every part was built with format_html, which escaped its data


def _svg(chart_id: str, *, width: float, height: float, title: str, summary: str, body: Sequence[str]) -> SafeString:
    """Wrap ``body`` in an accessible SVG root labelled by its ``<title>`` and described by its ``<desc>``."""
    return format_html(
        '<svg xmlns="http://www.w3.org/2000/svg" class="chart" id="{id}" viewBox="0 0 {w} {h}" role="img" '
        'aria-labelledby="{id}-title" aria-describedby="{id}-desc" font-family="{font}">'
        '<title id="{id}-title">{title}</title><desc id="{id}-desc">{summary}</desc>{body}</svg>',
        id=chart_id,
        w=_n(width),
        h=_n(height),
        font=FONT,
        title=title,
        summary=summary,
        body=_join(body),
    )


def _hatch(pattern_id: str, *, colour: str, background: str = "#ffffff") -> SafeString:
    """Return a diagonal hatch pattern: the fill that tells a series or missing data apart without colour."""
    return format_html(
        '<pattern id="{}" width="6" height="6" patternUnits="userSpaceOnUse" patternTransform="rotate(45)">'
        '<rect width="6" height="6" fill="{}"/><line x1="0" y1="0" x2="0" y2="6" stroke="{}" stroke-width="2.5"/>'
        "</pattern>",
        pattern_id,
        background,
        colour,
    )


# --- the hour-of-week heatmap -----------------------------------------------------------------------


def _heat_colours(rate: float) -> tuple[str, str]:
    for upper, fill, ink in HEAT_STEPS:
        if rate < upper:
            return fill, ink
    return HEAT_STEPS[-1][1], HEAT_STEPS[-1][2]


def _hour_label(hour: int) -> str:
    return f"{hour:02d}"


def heatmap_chart(heatmap: Heatmap, *, measure: str = "frequency", chart_id: str = "heatmap") -> Chart:
    """Return the hour-of-week heatmap of ``measure`` ("frequency": slots in use; "booked": slots booked).

    Rows are weekdays, columns hours; each cell prints its percentage, carries a ``<title>`` with
    the numbers in words, and a cell without data is hatched and marked with a dash.
    """
    if measure == "booked":
        matrix, title = heatmap.booked, _("Booked, by hour of the week")
        what = _("booked")
    else:
        matrix, title = heatmap.frequency, _("In use, by hour of the week")
        what = _("in use")
    hours, weekdays = list(heatmap.hours), list(heatmap.weekdays)
    columns = [_("Weekday"), *[_("%(hour)s:00") % {"hour": _hour_label(hour)} for hour in hours]]
    table = ChartTable(
        caption=_("%(title)s: share of the available slots, per cent") % {"title": title}, columns=columns
    )

    def cell(weekday: int, hour: int) -> tuple[float | None, int]:
        rate = matrix[weekday - 1][hour] if weekday - 1 < len(matrix) and hour < len(matrix[weekday - 1]) else None
        slots_row = heatmap.available_slots[weekday - 1] if weekday - 1 < len(heatmap.available_slots) else []
        return rate, slots_row[hour] if hour < len(slots_row) else 0

    for weekday in weekdays:
        table.rows.append([str(WEEKDAYS[weekday - 1]), *[format_percent(cell(weekday, hour)[0]) for hour in hours]])

    known = [rate for weekday in weekdays for hour in hours if (rate := cell(weekday, hour)[0]) is not None]
    if not known:
        return Chart(chart_id, title, _("No data for this period."), mark_safe(""), table)
    busiest = max(
        ((weekday, hour) for weekday in weekdays for hour in hours if cell(weekday, hour)[0] is not None),
        key=lambda place: cell(*place)[0] or 0.0,
    )
    summary = _("%(title)s. Busiest hour: %(weekday)s %(hour)s:00, %(rate)s %(what)s.") % {
        "title": title,
        "weekday": WEEKDAYS[busiest[0] - 1],
        "hour": _hour_label(busiest[1]),
        "rate": format_percent(cell(*busiest)[0]),
        "what": what,
    }

    cell_w, cell_h, left, top = 44, 30, 56, 24
    legend_top = top + cell_h * len(weekdays) + 16
    width = left + cell_w * len(hours) + 8
    height = legend_top + 40
    missing_id = f"{chart_id}-missing"
    body: list[str] = [format_html("<defs>{}</defs>", _hatch(missing_id, colour="#b0b0b0"))]
    for column, hour in enumerate(hours):
        body.append(_text(left + cell_w * column + cell_w / 2, top - 8, _hour_label(hour), anchor="middle"))
    for row, weekday in enumerate(weekdays):
        y = top + cell_h * row
        body.append(_text(left - 8, y + cell_h / 2 + 4, str(WEEKDAYS_ABBR[weekday - 1]), anchor="end"))
        for column, hour in enumerate(hours):
            x = left + cell_w * column
            rate, slots = cell(weekday, hour)
            name = f"{WEEKDAYS[weekday - 1]} {_hour_label(hour)}:00–{_hour_label(hour + 1)}:00"
            if rate is None:
                cell_title = _("%(when)s: no data") % {"when": name}
                fill, ink, label = f"url(#{missing_id})", INK, "–"
            else:
                cell_title = ngettext(
                    "%(when)s: %(rate)s %(what)s, of %(slots)s available slot",
                    "%(when)s: %(rate)s %(what)s, of %(slots)s available slots",
                    slots,
                ) % {"when": name, "rate": format_percent(rate), "what": what, "slots": slots}
                fill, ink = _heat_colours(rate)
                label = _rounded(rate * 100, 0)
            body.append(
                format_html(
                    '<g class="heat-cell">{}{}{}</g>',
                    _element("title", {}, cell_title),
                    _element(
                        "rect",
                        {
                            "x": _n(x + 1),
                            "y": _n(y + 1),
                            "width": cell_w - 2,
                            "height": cell_h - 2,
                            "fill": fill,
                            "stroke": GRID,
                            "stroke_width": "0.5",
                        },
                    ),
                    _text(x + cell_w / 2, y + cell_h / 2 + 4, label, anchor="middle", fill=ink),
                )
            )
    # Legend: the scale's steps with their ranges in words, and the missing-data hatch.
    x = left
    previous = 0
    for upper, fill, _ink in HEAT_STEPS:
        top_value = min(round(upper * 100), 100)
        body.append(
            _element(
                "rect",
                {"x": _n(x), "y": legend_top, "width": 16, "height": 16, "fill": fill, "stroke": GRID},
            )
        )
        body.append(_text(x + 20, legend_top + 13, f"{previous}–{top_value}\u00a0%", size=11))
        x += 88
        previous = top_value
    body.append(
        _element(
            "rect",
            {"x": _n(x), "y": legend_top, "width": 16, "height": 16, "fill": f"url(#{missing_id})", "stroke": GRID},
        )
    )
    body.append(_text(x + 20, legend_top + 13, _("– no data"), size=11))
    svg = _svg(chart_id, width=max(width, x + 120), height=height, title=title, summary=summary, body=body)
    return Chart(chart_id, title, summary, svg, table)


# --- over time: booked versus used, and no-shows ------------------------------------------------------


def _day_label(day: dt.date) -> str:
    return date_format(day, "SHORT_DATE_FORMAT")


def _x_labels(count: int) -> list[int]:
    """Return the indexes of at most MAX_X_LABELS evenly spread points to label, first and last included."""
    if count <= MAX_X_LABELS:
        return list(range(count))
    step = (count - 1) / (MAX_X_LABELS - 1)
    return sorted({round(step * index) for index in range(MAX_X_LABELS)})


def _percent_axis(*, left: float, top: float, plot_w: float, plot_h: float) -> list[str]:
    parts: list[str] = []
    for percent in (0, 25, 50, 75, 100):
        y = top + plot_h * (1 - percent / 100)
        parts.append(
            _element(
                "line",
                {
                    "x1": _n(left),
                    "y1": _n(y),
                    "x2": _n(left + plot_w),
                    "y2": _n(y),
                    "stroke": GRID,
                    "stroke_width": "1" if percent == 0 else "0.5",
                },
            )
        )
        parts.append(_text(left - 6, y + 4, f"{percent}\u00a0%", size=11, anchor="end"))
    return parts


def _marker(shape: str, x: float, y: float, colour: str) -> SafeString:
    if shape == "square":
        return _element("rect", {"x": _n(x - 4), "y": _n(y - 4), "width": 8, "height": 8, "fill": colour})
    return _element(
        "circle", {"cx": _n(x), "cy": _n(y), "r": 4, "fill": "#ffffff", "stroke": colour, "stroke_width": 2}
    )


def _line_series(
    points: list[tuple[float, float] | None], *, colour: str, dash: str | None, marker: str, marked: bool
) -> list[str]:
    """Return polylines through ``points``, broken where a point is None (no data), with markers."""
    parts: list[str] = []
    run: list[tuple[float, float]] = []

    def flush() -> None:
        if len(run) > 1:
            parts.append(
                _element(
                    "polyline",
                    {
                        "points": " ".join(f"{_n(x)},{_n(y)}" for x, y in run),
                        "fill": "none",
                        "stroke": colour,
                        "stroke_width": 2.5,
                        "stroke_dasharray": dash,
                        "stroke_linejoin": "round",
                    },
                )
            )
        run.clear()

    for point in points:
        if point is None:
            flush()
        else:
            run.append(point)
    flush()
    if marked or sum(point is not None for point in points) == 1:
        parts.extend(_marker(marker, x, y, colour) for point in points if point is not None for x, y in [point])
    return parts


def _legend(x: float, y: float, entries: list[tuple[SafeString, str]]) -> list[str]:
    """Return legend entries: (a small sample of the series' own markup at the origin, label)."""
    parts: list[str] = []
    for sample, label in entries:
        parts.append(format_html('<g transform="translate({} {})">{}</g>', _n(x), _n(y), sample))
        parts.append(_text(x + 40, y + 4, label))
        x += 48 + 7.5 * len(label)
    return parts


def booked_used_chart(points: Sequence[TimePoint], *, chart_id: str = "booked-used") -> Chart:
    """Return booked versus used over time: the booked rate (of available slots) and the in-use rate (of slots
    with data), one point per day or week; a day without data breaks the in-use line rather than drop to zero."""
    title = _("Booked versus used over time")
    table = ChartTable(
        caption=_("Booked versus used, per day or week"),
        columns=[
            _("Period starting"),
            _("Available hours"),
            _("Booked hours"),
            _("Booked"),
            _("Hours with data"),
            _("Hours in use"),
            _("In use"),
        ],
    )
    booked_rates: list[float | None] = []
    used_rates: list[float | None] = []
    for point in points:
        booked_rate = _share(point.booked_slots, point.available_slots)
        used_rate = _share(point.in_use_slots, point.known_slots)
        booked_rates.append(booked_rate)
        used_rates.append(used_rate)
        table.rows.append(
            [
                _day_label(point.day),
                format_hours(slots_to_hours(point.available_slots), decimals=2),
                format_hours(slots_to_hours(point.booked_slots), decimals=2),
                format_percent(booked_rate),
                format_hours(slots_to_hours(point.known_slots), decimals=2),
                format_hours(slots_to_hours(point.in_use_slots), decimals=2),
                format_percent(used_rate),
            ]
        )
    if not any(rate is not None for rate in booked_rates + used_rates):
        return Chart(chart_id, title, _("No data for this period."), mark_safe(""), table)
    booked_total = sum(point.booked_slots for point in points)
    available_total = sum(point.available_slots for point in points)
    used_total = sum(point.in_use_slots for point in points)
    known_total = sum(point.known_slots for point in points)
    summary = _(
        "Booked: %(booked)s of the available hours; in use: %(used)s of the hours with data, "
        "from %(first)s to %(last)s."
    ) % {
        "booked": format_percent(_share(booked_total, available_total)),
        "used": format_percent(_share(used_total, known_total)),
        "first": _day_label(points[0].day),
        "last": _day_label(points[-1].day),
    }

    left, top, plot_w, plot_h = 56, 16, 640, 220
    width, height = left + plot_w + 24, top + plot_h + 76
    count = len(points)
    x_step = plot_w / (count - 1) if count > 1 else 0

    def position(index: int, rate: float | None) -> tuple[float, float] | None:
        if rate is None:
            return None
        x = left + (x_step * index if count > 1 else plot_w / 2)
        return x, top + plot_h * (1 - min(max(rate, 0.0), 1.0))

    marked = count <= MAX_MARKED_POINTS
    body: list[str] = _percent_axis(left=left, top=top, plot_w=plot_w, plot_h=plot_h)
    for index in _x_labels(count):
        x = left + (x_step * index if count > 1 else plot_w / 2)
        body.append(_text(x, top + plot_h + 18, _day_label(points[index].day), size=11, anchor="middle"))
    body += _line_series(
        [position(index, rate) for index, rate in enumerate(booked_rates)],
        colour=BOOKED_COLOUR,
        dash=None,
        marker="square",
        marked=marked,
    )
    body += _line_series(
        [position(index, rate) for index, rate in enumerate(used_rates)],
        colour=USED_COLOUR,
        dash="7 4",
        marker="circle",
        marked=marked,
    )
    booked_sample = _join(
        [
            _element("line", {"x1": 0, "y1": 0, "x2": 32, "y2": 0, "stroke": BOOKED_COLOUR, "stroke_width": 2.5}),
            _marker("square", 16, 0, BOOKED_COLOUR),
        ]
    )
    used_sample = _join(
        [
            _element(
                "line",
                {
                    "x1": 0,
                    "y1": 0,
                    "x2": 32,
                    "y2": 0,
                    "stroke": USED_COLOUR,
                    "stroke_width": 2.5,
                    "stroke_dasharray": "7 4",
                },
            ),
            _marker("circle", 16, 0, USED_COLOUR),
        ]
    )
    body += _legend(
        left,
        top + plot_h + 50,
        [
            (booked_sample, _("Booked (solid line, squares)")),
            (used_sample, _("In use (dashed line, circles)")),
        ],
    )
    svg = _svg(chart_id, width=width, height=height, title=title, summary=summary, body=body)
    return Chart(chart_id, title, summary, svg, table)


def no_show_chart(points: Sequence[TimePoint], *, chart_id: str = "no-shows") -> Chart:
    """Return the no-shows over time: a bar per day or week, its count printed above it."""
    title = _("No-shows over time")
    table = ChartTable(caption=_("No-shows, per day or week"), columns=[_("Period starting"), _("No-shows")])
    for point in points:
        table.rows.append([_day_label(point.day), format_number(point.no_shows)])
    total = sum(point.no_shows for point in points)
    if not points:
        return Chart(chart_id, title, _("No data for this period."), mark_safe(""), table)
    summary = ngettext(
        "%(count)s no-show from %(first)s to %(last)s.", "%(count)s no-shows from %(first)s to %(last)s.", total
    ) % {"count": format_number(total), "first": _day_label(points[0].day), "last": _day_label(points[-1].day)}

    left, top, plot_w, plot_h = 56, 20, 640, 160
    width, height = left + plot_w + 24, top + plot_h + 40
    most = max((point.no_shows for point in points), default=0)
    scale_top = max(most, 1)
    count = len(points)
    band = plot_w / count
    bar_w = max(min(band * 0.7, 40), 1)
    body: list[str] = []
    for fraction in (0, 0.5, 1):
        value = scale_top * fraction
        y = top + plot_h * (1 - fraction)
        body.append(
            _element(
                "line",
                {"x1": left, "y1": _n(y), "x2": left + plot_w, "y2": _n(y), "stroke": GRID, "stroke_width": "0.5"},
            )
        )
        body.append(
            _text(left - 6, y + 4, number_format(value, 0 if value == int(value) else 1), size=11, anchor="end")
        )
    labelled = count <= 31
    for index, point in enumerate(points):
        x = left + band * index + (band - bar_w) / 2
        bar_h = plot_h * point.no_shows / scale_top
        body.append(
            format_html(
                "<g>{}{}</g>",
                _element("title", {}, f"{_day_label(point.day)}: {point.no_shows}"),
                _element(
                    "rect",
                    {
                        "x": _n(x),
                        "y": _n(top + plot_h - bar_h),
                        "width": _n(bar_w),
                        "height": _n(bar_h),
                        "fill": USED_COLOUR,
                    },
                ),
            )
        )
        if labelled and point.no_shows:
            body.append(_text(x + bar_w / 2, top + plot_h - bar_h - 4, str(point.no_shows), size=11, anchor="middle"))
    for index in _x_labels(count):
        x = left + band * index + band / 2
        body.append(_text(x, top + plot_h + 18, _day_label(points[index].day), size=11, anchor="middle"))
    svg = _svg(chart_id, width=width, height=height, title=title, summary=summary, body=body)
    return Chart(chart_id, title, summary, svg, table)


# --- per-institution shares ---------------------------------------------------------------------------


def share_label(share: InstitutionShare) -> str:
    """Return the share's row name: the institution, or what the unattributed and the campus's own rows are."""
    if share.unattributed:
        return _("Unattributed (used, nobody booked)")
    if share.institution_id is None:
        return share.name or _("Campus facility services")
    return share.name


def shares_chart(shares: Sequence[InstitutionShare], *, chart_id: str = "shares") -> Chart:
    """Return per-institution bars of booked hours (solid) and used hours (hatched), the hours printed at their ends."""
    title = _("Shares of booked and used hours")
    table = ChartTable(
        caption=_("Shares per institution, over all opening hours (core hours beside)"),
        columns=[
            _("Institution"),
            _("Booked hours"),
            _("Share of booked"),
            _("Used hours"),
            _("Share of use"),
            _("Booked m²-hours"),
            _("Used m²-hours"),
            _("Booked hours, core"),
            _("Used hours, core"),
        ],
    )
    for share in shares:
        table.rows.append(
            [
                share_label(share),
                format_hours(share.booked_hours),
                format_percent(share.booked_share, decimals=1),
                format_hours(share.used_hours),
                format_percent(share.used_share, decimals=1),
                format_hours(share.booked_m2_hours, decimals=0),
                format_hours(share.used_m2_hours, decimals=0),
                format_hours(share.core_booked_hours),
                format_hours(share.core_used_hours),
            ]
        )
    most = max((max(share.booked_hours, share.used_hours) for share in shares), default=0.0)
    if not shares or most <= 0:
        return Chart(chart_id, title, _("No booked or used hours in this period."), mark_safe(""), table)
    leader = max(shares, key=lambda share: share.used_hours)
    summary = _("%(name)s used the most: %(hours)s hours, %(share)s of the measured use.") % {
        "name": share_label(leader),
        "hours": format_hours(leader.used_hours),
        "share": format_percent(leader.used_share, decimals=1),
    }

    label_w, plot_w, bar_h, gap, top = 260, 420, 16, 14, 10
    row_h = bar_h * 2 + gap
    legend_top = top + row_h * len(shares) + 8
    width, height = label_w + plot_w + 90, legend_top + 30
    used_pattern = f"{chart_id}-used"
    body: list[str] = [format_html("<defs>{}</defs>", _hatch(used_pattern, colour=USED_COLOUR))]
    for index, share in enumerate(shares):
        y = top + row_h * index
        name = share_label(share)
        body.append(_text(label_w - 8, y + bar_h + 4, _shorten(name, 38), anchor="end"))
        for offset, hours, fill, what in (
            (0, share.booked_hours, BOOKED_COLOUR, _("booked")),
            (bar_h, share.used_hours, f"url(#{used_pattern})", _("used")),
        ):
            length = plot_w * hours / most
            body.append(
                format_html(
                    "<g>{}{}{}</g>",
                    _element(
                        "title",
                        {},
                        _("%(name)s: %(hours)s hours %(what)s")
                        % {"name": name, "hours": format_hours(hours), "what": what},
                    ),
                    _element(
                        "rect",
                        {
                            "x": label_w,
                            "y": _n(y + offset),
                            "width": _n(max(length, 1)),
                            "height": bar_h - 1,
                            "fill": fill,
                            "stroke": BOOKED_COLOUR if offset == 0 else USED_COLOUR,
                        },
                    ),
                    _text(label_w + max(length, 1) + 6, y + offset + bar_h - 4, f"{format_hours(hours)} h", size=11),
                )
            )
    booked_sample = _element(
        "rect", {"x": 0, "y": -7, "width": 32, "height": 14, "fill": BOOKED_COLOUR, "stroke": BOOKED_COLOUR}
    )
    used_sample = _element(
        "rect", {"x": 0, "y": -7, "width": 32, "height": 14, "fill": f"url(#{used_pattern})", "stroke": USED_COLOUR}
    )
    body += _legend(
        label_w,
        legend_top + 10,
        [(booked_sample, _("Booked hours (solid)")), (used_sample, _("Used hours (hatched)"))],
    )
    svg = _svg(chart_id, width=width, height=height, title=title, summary=summary, body=body)
    return Chart(chart_id, title, summary, svg, table)


def _shorten(name: str, limit: int) -> str:
    """Return ``name`` cut to ``limit`` characters (the full name is in the table and the bar's title)."""
    return name if len(name) <= limit else name[: limit - 1] + "…"


# --- right-sizing -------------------------------------------------------------------------------------


def oversized_rooms(rooms: Iterable[RoomRow]) -> list[RoomRow]:
    """Return the rooms whose 90th-percentile headcount stays under half their capacity, emptiest first."""
    flagged = [room for room in rooms if room.oversized and room.p90_headcount is not None and room.capacity]
    return sorted(flagged, key=lambda room: ((room.p90_headcount or 0) / room.capacity, room.code))


def kind_label(kind: str) -> str:
    """Return a room kind's name in the active language (the value itself when it is not a known kind)."""
    return str(RoomKind(kind).label) if kind in RoomKind.values else kind


def room_label(room: RoomRow) -> str:
    return f"{room.code} {room.name}".strip()


def right_sizing_chart(rooms: Iterable[RoomRow], *, chart_id: str = "right-sizing") -> Chart:
    """Return the right-sizing list: each oversized room's capacity (outlined bar) and 90th-percentile headcount
    (filled bar), with both numbers printed."""
    flagged = oversized_rooms(rooms)
    title = _("Rooms larger than their use")
    table = ChartTable(
        caption=_("Rooms whose 90th-percentile headcount stays under half their capacity"),
        columns=[
            _("Room"),
            _("Building"),
            _("Kind"),
            _("Capacity"),
            _("90th-percentile headcount"),
            _("Peak headcount"),
            _("Utilisation"),
        ],
    )
    for room in flagged:
        table.rows.append(
            [
                room_label(room),
                room.building_code,
                kind_label(room.kind),
                format_number(room.capacity),
                format_number(room.p90_headcount, decimals=1),
                format_number(room.figures.peak_count),
                format_percent(room.figures.utilisation_rate),
            ]
        )
    if not flagged:
        return Chart(chart_id, title, _("No room is markedly larger than its use."), mark_safe(""), table)
    summary = ngettext(
        "%(count)s room's 90th-percentile headcount stays under half its capacity.",
        "%(count)s rooms' 90th-percentile headcounts stay under half their capacity.",
        len(flagged),
    ) % {"count": len(flagged)}
    label_w, plot_w, bar_h, gap, top = 220, 440, 20, 10, 10
    most = max(room.capacity for room in flagged)
    legend_top = top + (bar_h + gap) * len(flagged) + 8
    width, height = label_w + plot_w + 130, legend_top + 30
    body: list[str] = []
    for index, room in enumerate(flagged):
        y = top + (bar_h + gap) * index
        capacity_w = plot_w * room.capacity / most
        p90_w = plot_w * (room.p90_headcount or 0) / most
        body.append(_text(label_w - 8, y + bar_h - 5, _shorten(room_label(room), 30), anchor="end"))
        body.append(
            format_html(
                "<g>{}{}{}{}</g>",
                _element(
                    "title",
                    {},
                    _("%(room)s: capacity %(capacity)s, 90th-percentile headcount %(p90)s")
                    % {
                        "room": room_label(room),
                        "capacity": room.capacity,
                        "p90": format_number(room.p90_headcount, decimals=1),
                    },
                ),
                _element(
                    "rect",
                    {
                        "x": label_w,
                        "y": _n(y),
                        "width": _n(capacity_w),
                        "height": bar_h,
                        "fill": "#ffffff",
                        "stroke": INK,
                        "stroke_dasharray": "4 2",
                    },
                ),
                _element(
                    "rect",
                    {
                        "x": label_w,
                        "y": _n(y + 4),
                        "width": _n(max(p90_w, 1)),
                        "height": bar_h - 8,
                        "fill": BOOKED_COLOUR,
                    },
                ),
                _text(
                    label_w + capacity_w + 6,
                    y + bar_h - 5,
                    f"{format_number(room.p90_headcount, decimals=1)} / {room.capacity}",
                    size=11,
                ),
            )
        )
    capacity_sample = _element(
        "rect",
        {"x": 0, "y": -8, "width": 32, "height": 16, "fill": "#ffffff", "stroke": INK, "stroke_dasharray": "4 2"},
    )
    p90_sample = _element("rect", {"x": 0, "y": -4, "width": 32, "height": 8, "fill": BOOKED_COLOUR})
    body += _legend(
        label_w,
        legend_top + 10,
        [(capacity_sample, _("Capacity (dashed outline)")), (p90_sample, _("90th-percentile headcount (filled)"))],
    )
    svg = _svg(chart_id, width=width, height=height, title=title, summary=summary, body=body)
    return Chart(chart_id, title, summary, svg, table)
