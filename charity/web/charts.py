"""Server-rendered SVG charts: readable without JavaScript, accessible, CSP-safe.

Each function returns ``Markup`` holding one ``<svg role="img">`` with a ``<title>`` (and a
``<desc>`` where there is more to say), announced by screen readers; pages also offer the
numbers as a table. Only presentation attributes are used (no ``style=``), so the strict CSP
holds; colours come from CSS classes (``.chart-*`` in app.css) with attribute fall-backs.

The charts lay themselves out for the width they are given, like an HTML block, instead of
being drawn once at a fixed size and scaled: the ``<svg>`` has no viewBox, its width is 100%
and its height a number of CSS pixels; horizontal positions and lengths are percentages and
text is in CSS pixels. So a label drawn at 14 px is 14 px on a 320 px phone and on a
1440 px screen (with fixed viewBoxes, a fund's labels came out at 6-7 px on a 390 px phone
and the regulator's at 11 px on a 320 px one and 25 px on a desktop). Shapes that need a
path (a line, an area) are drawn in a nested ``<svg>`` that stretches to the plot
(``preserveAspectRatio="none"``) with strokes that do not scale.

What cannot stretch is planned for the narrowest width a chart gets, ``MIN_WIDTH``: labels
wrap or thin out so that they fit there, and anything wider only has more room.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Callable, Sequence
from datetime import date
from typing import NamedTuple

from markupsafe import Markup, escape

from charity.core.clock import today_cst
from charity.core.money import format_yuan_short

ValueFormat = Callable[[int], str]

#: The narrowest a chart is drawn: a 320 px phone less the page's 16 px padding each side.
MIN_WIDTH = 288
#: Text sizes in CSS pixels, as rendered at every width (at least 12, the legible minimum
#: on a phone; 14 is the size of the pages' small print and tables).
FONT_SIZE = 14
AXIS_FONT_SIZE = 13
#: A label line's height, and the least room kept after a bar's label for its value
#: ("100.0%"; more when the values are wider).
LINE_HEIGHT = 18
VALUE_WIDTH = 60
BAR_HEIGHT = 14
GAP = 12
MAX_LABEL_LINES = 2
#: A white outline behind text drawn over the plot (gridline labels), so lines and areas
#: passing under it do not cross the letters.
HALO = 'paint-order="stroke" stroke="#ffffff" stroke-width="3" stroke-linejoin="round"'
#: Wide (CJK) punctuation that must not start a line (line-break: strict, as in app.css).
NO_LINE_START = set("、，。：；！？）》」』】〕…%,.;:!?)")


# --- text: width estimates, wrapping --------------------------------------------------


def text_width(text: str, size: int = FONT_SIZE) -> float:
    """A generous estimate of the rendered width: wide (CJK) characters take a full em,
    others about 0.6 em."""
    return sum(
        size if unicodedata.east_asian_width(char) in ("W", "F") else size * 0.6 for char in text
    )


def shorten(text: str, room: float, size: int = FONT_SIZE) -> str:
    """``text`` if it fits in ``room`` pixels, else its longest prefix that fits plus "…"."""
    if text_width(text, size) <= room:
        return text
    kept = ""
    for char in text:
        if text_width(kept + char + "…", size) > room:
            break
        kept += char
    return kept.rstrip() + "…"


def _tokens(text: str) -> list[str]:
    """Units a line may break between: Latin words (with the space before them), single
    wide characters; punctuation that may not start a line stays with what precedes it."""
    tokens: list[str] = []
    for token in re.findall(r"\s*[^\s\u2e80-\uffef]+|\s*[\u2e80-\uffef]", text):
        if tokens and token.strip()[:1] in NO_LINE_START:
            tokens[-1] += token
        else:
            tokens.append(token)
    return tokens


def wrap(
    text: str, room: float, size: int = FONT_SIZE, max_lines: int = MAX_LABEL_LINES
) -> list[str]:
    """``text`` in at most ``max_lines`` lines of at most ``room`` pixels; the last line
    ends in "…" when the text does not fit (the chart keeps it whole in a <title>)."""
    lines: list[str] = []
    line = ""
    tokens = _tokens(text.strip())
    for index, token in enumerate(tokens):
        candidate = line + token if line else token.lstrip()
        if not line or text_width(candidate, size) <= room:
            line = candidate
            continue
        if len(lines) + 1 == max_lines:  # the last line allowed: cut it short
            return [*lines, shorten(line + "".join(tokens[index:]), room, size)]
        lines.append(line)
        line = token.lstrip()
    lines.append(line)
    return [shorten(piece, room, size) for piece in lines]


# --- shared pieces ---------------------------------------------------------------------


def _num(value: float) -> str:
    return f"{value:.1f}".rstrip("0").rstrip(".")


def _pct(fraction: float) -> str:
    """A horizontal position or length as a percentage of the chart's width."""
    return f"{_num(max(0.0, min(1.0, fraction)) * 100)}%"


def _open_svg(chart_id: str, height: int, title: str, desc: str, kind: str) -> str:
    cid = escape(chart_id)
    return (
        f'<svg class="chart chart-{kind}" width="100%" height="{height}" '
        f'xmlns="http://www.w3.org/2000/svg" role="img" '
        f'aria-labelledby="{cid}-title {cid}-desc">'
        f'<title id="{cid}-title">{escape(title)}</title>'
        f'<desc id="{cid}-desc">{escape(desc)}</desc>'
    )


def _grid(
    top: int, bottom: int, y_max: int, fmt: ValueFormat, steps: int = 4, top_only: bool = False
) -> tuple[str, str]:
    """Horizontal gridlines across the whole width, and their labels, each above its line's
    left end: over the plot, with a halo, rather than in a margin that a phone cannot spare
    (drawn last, on top). The baseline (the axis, zero) has no label; ``top_only`` labels
    only the top line, which nothing is drawn above (for columns that would run under
    the other labels)."""
    lines, labels = [], []
    for i in range(steps + 1):
        y = bottom - (bottom - top) * i / steps
        lines.append(
            f'<line class="chart-grid" x1="0" x2="100%" y1="{_num(y)}" y2="{_num(y)}" '
            f'stroke="#d8dee4" stroke-width="1"/>'
        )
        if i == 0 or (top_only and i < steps):
            continue
        labels.append(
            f'<text class="chart-label chart-axis-label" x="0" y="{_num(y - 4)}" '
            f'font-size="{AXIS_FONT_SIZE}" fill="#57606a" {HALO}>'
            f"{escape(fmt(y_max * i // steps))}</text>"
        )
    return "".join(lines), "".join(labels)


class _Tick(NamedTuple):
    x: str
    anchor: str
    #: where the label starts and how wide it is, in pixels, at MIN_WIDTH
    left: float
    width: float
    text: str


def _place(fraction: float, text: str) -> _Tick:
    """Centred on its fraction of the width, or held at an edge it would cross."""
    width = text_width(text, AXIS_FONT_SIZE)
    left = fraction * MIN_WIDTH - width / 2
    if left < 0:
        return _Tick("0", "start", 0, width, text)
    if left + width > MIN_WIDTH:
        return _Tick("100%", "end", MIN_WIDTH - width, width, text)
    return _Tick(_pct(fraction), "middle", left, width, text)


def _x_labels(ticks: Sequence[tuple[float, str]], y: int) -> str:
    """Labels under the x axis. The last is always shown; an earlier one that would come
    within 8 px of a shown one at ``MIN_WIDTH`` is left out. A wider chart only moves them
    further apart (centres spread with the width, widths stay)."""
    placed = [_place(fraction, text) for fraction, text in ticks]
    last_left = placed[-1].left if placed else math.inf
    parts, right = [], -math.inf
    for index, tick in enumerate(placed):
        is_last = index == len(placed) - 1
        if tick.left < right + 8 or (not is_last and tick.left + tick.width + 8 > last_left):
            continue
        right = tick.left + tick.width
        parts.append(
            f'<text class="chart-label chart-axis-label" x="{tick.x}" y="{y}" '
            f'text-anchor="{tick.anchor}" font-size="{AXIS_FONT_SIZE}" fill="#57606a">'
            f"{escape(tick.text)}</text>"
        )
    return "".join(parts)


# --- line chart --------------------------------------------------------------------------


def nice_ceiling(value: int) -> int:
    """The smallest 1, 2, 2.5 or 5 × 10^n at or above ``value`` (at least 1)."""
    if value <= 1:
        return 1
    magnitude = 1
    while magnitude * 10 < value:
        magnitude *= 10
    for factor in (1, 2, 2.5, 5, 10):
        candidate = int(magnitude * factor)
        if candidate >= value:
            return candidate
    return magnitude * 10  # pragma: no cover - the loop always returns


#: The plot's path coordinates run from 0 to this across the width (then stretched).
PLOT_UNITS = 1000


def line_chart(
    points: Sequence[tuple[date, int]],
    *,
    title: str,
    desc: str,
    chart_id: str,
    start: date | None = None,
    end: date | None = None,
    format_value: ValueFormat = format_yuan_short,
    height: int = 260,
) -> Markup:
    """A cumulative step-area chart of (day, running total) points over [start, end]."""
    points = sorted(points)
    first = start or (points[0][0] if points else today_cst())
    last = end or (points[-1][0] if points else first)
    if points:
        first, last = min(first, points[0][0]), max(last, points[-1][0])
    span = max((last - first).days, 1)
    top, bottom = 24, height - 32
    y_max = nice_ceiling(max((value for _, value in points), default=0))

    def x_of(day: date) -> float:  # a fraction of the width
        return (day - first).days / span

    def y_of(value: int) -> float:  # CSS pixels from the chart's top
        return bottom - (bottom - top) * value / y_max

    def plot(x: float, y: float) -> str:  # in the stretched plot's units (y stays in px)
        return f"{_num(x * PLOT_UNITS)},{_num(y)}"

    path = [f"M{plot(0, bottom)}"]
    previous = 0
    for day, value in points:
        path.append(f"L{plot(x_of(day), y_of(previous))}")
        path.append(f"L{plot(x_of(day), y_of(value))}")
        previous = value
    path.append(f"L{plot(1, y_of(previous))}")
    line = " ".join(path)
    markers = "".join(
        f'<circle class="chart-point" cx="{_pct(x_of(day))}" cy="{_num(y_of(value))}" r="3" '
        f'fill="#b4232a"><title>{day.isoformat()}: {escape(format_value(value))}</title></circle>'
        for day, value in points
    )
    grid, grid_labels = _grid(top, bottom, y_max, format_value)
    ticks = [(0.0, first.isoformat())] + ([(1.0, last.isoformat())] if last != first else [])
    svg = (
        _open_svg(chart_id, height, title, desc, "line")
        + grid
        # The plot covers the whole chart, as `svg { height: auto }` in app.css would make
        # it do anyway in browsers that apply CSS sizes to nested <svg>s.
        + f'<svg class="chart-plot" width="100%" height="{height}" '
        f'viewBox="0 0 {PLOT_UNITS} {height}" preserveAspectRatio="none" overflow="visible">'
        f'<path class="chart-area" d="{line} L{plot(1, bottom)} Z" fill="#f3d4d5" stroke="none"/>'
        f'<path class="chart-line" d="{line}" fill="none" stroke="#b4232a" stroke-width="2" '
        f'vector-effect="non-scaling-stroke"/></svg>'
        + f'<line class="chart-axis" x1="0" x2="100%" y1="{bottom}" y2="{bottom}" '
        f'stroke="#57606a" stroke-width="1"/>'
        + markers
        + grid_labels
        + _x_labels(ticks, height - 10)
        + "</svg>"
    )
    return Markup(svg)  # noqa: S704 - every text and attribute value is escaped above


# --- horizontal bars ---------------------------------------------------------------------


class Bar(NamedTuple):
    """One row of a horizontal bar chart."""

    label: str
    #: the bar's length as a share of the width (0 to 1); None draws no bar
    share: float | None
    #: the value as written at the end of the label's line ("¥1,234", "95.0%", "—")
    value: str
    fill: str = "#b4232a"


def bar_rows(bars: Sequence[Bar]) -> tuple[str, int]:
    """Rows of (label, value) over a full-width bar, as SVG elements, and their height.

    Each label has its own line(s) above its bar, so it never competes with the bar for
    width (the layout of bar charts on phones at Datawrapper or Our World in Data); the
    value ends its first line. Labels wrap to fit ``MIN_WIDTH``; each row carries a
    <title> (a tooltip) with the full label and the value.
    """
    value_width = max([VALUE_WIDTH, *(text_width(bar.value) + 8 for bar in bars)])
    parts, y = [], GAP
    for bar in bars:
        lines = wrap(bar.label, MIN_WIDTH - value_width)
        parts.append(f"<g><title>{escape(bar.label)}: {escape(bar.value)}</title>")
        for number, line in enumerate(lines):
            baseline = y + (number + 1) * LINE_HEIGHT - 5
            parts.append(
                f'<text class="chart-label" x="0" y="{baseline}" font-size="{FONT_SIZE}">'
                f"{escape(line)}</text>"
            )
        parts.append(
            f'<text class="chart-value" x="100%" y="{y + LINE_HEIGHT - 5}" text-anchor="end" '
            f'font-size="{FONT_SIZE}">{escape(bar.value)}</text>'
        )
        bar_y = y + len(lines) * LINE_HEIGHT
        parts.append(
            f'<rect class="chart-track" x="0" y="{bar_y}" width="100%" height="{BAR_HEIGHT}" '
            f'fill="#eef0f3"/>'
        )
        if bar.share is not None:
            parts.append(
                f'<rect class="chart-bar" x="0" y="{bar_y}" width="{_pct(bar.share)}" '
                f'height="{BAR_HEIGHT}" fill="{escape(bar.fill)}"/>'
            )
        parts.append("</g>")
        y = bar_y + BAR_HEIGHT + GAP
    return "".join(parts), y


def bar_chart(
    bars: Sequence[tuple[str, int]],
    *,
    title: str,
    desc: str,
    chart_id: str,
    format_value: ValueFormat = format_yuan_short,
) -> Markup:
    """Horizontal bars, one per (label, value), scaled to the largest value."""
    v_max = max((value for _, value in bars), default=0) or 1
    rows, height = bar_rows(
        [Bar(label, max(value, 0) / v_max, format_value(value)) for label, value in bars]
    )
    svg = _open_svg(chart_id, height, title, desc, "bar") + rows + "</svg>"
    return Markup(svg)  # noqa: S704 - every text and attribute value is escaped above


# --- paired columns: money in and out per period ------------------------------------------

#: The widest a column gets, as a share of the chart: 24 px in the 672 px (42rem) a
#: fund's figure is at most.
COLUMN_MAX = 24 / 672


def flows_chart(
    rows: Sequence[tuple[str, int, int]],
    *,
    title: str,
    desc: str,
    chart_id: str,
    names: tuple[str, str] = ("+", "−"),
    format_value: ValueFormat = format_yuan_short,
    height: int = 240,
) -> Markup:
    """Per period (month), a column for the inflow (green) beside one for the outflow
    (red), from a shared baseline. ``names`` name the two in each column's <title>."""
    top, bottom = 24, height - 32
    y_max = nice_ceiling(max([1, *(max(inflow, outflow) for _, inflow, outflow in rows)]))
    slot = 1 / max(1, len(rows))
    column = min(slot * 0.3, COLUMN_MAX)
    grid, grid_labels = _grid(top, bottom, y_max, format_value, steps=2, top_only=True)
    parts = [_open_svg(chart_id, height, title, desc, "flows"), grid]
    for index, (period, inflow, outflow) in enumerate(rows):
        middle = (index + 0.5) * slot
        for offset, value, css, fill, name in (
            (-column, inflow, "in", "#2e7d32", names[0]),
            (0.0, outflow, "out", "#c62828", names[1]),
        ):
            h = (bottom - top) * max(value, 0) / y_max
            parts.append(
                f'<rect class="chart-{css}" x="{_pct(middle + offset)}" '
                f'y="{_num(bottom - h)}" width="{_pct(column)}" height="{_num(h)}" '
                f'fill="{fill}"><title>{escape(period)} · {escape(name)}: '
                f"{escape(format_value(value))}</title></rect>"
            )
    parts.append(
        f'<line class="chart-axis" x1="0" x2="100%" y1="{bottom}" y2="{bottom}" '
        f'stroke="#57606a" stroke-width="1"/>'
    )
    parts.append(grid_labels)
    ticks = [((index + 0.5) * slot, period) for index, (period, _in, _out) in enumerate(rows)]
    parts.append(_x_labels(ticks, height - 10))
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 - every text and attribute value is escaped


def progress_percent(part: int, whole: int) -> int:
    """0-100 for a progress bar (clamped; the page prints the real percentage)."""
    if whole <= 0:
        return 0
    return max(0, min(100, part * 100 // whole))
