"""Server-rendered SVG charts: readable without JavaScript, accessible, CSP-safe.

Each function returns ``Markup`` holding one ``<svg role="img">`` with a ``<title>`` and
``<desc>`` (announced by screen readers); pages should also offer the numbers as a table.
Only presentation attributes are used (no ``style=``), so the strict CSP holds; colours
come from CSS classes (``.chart-*`` in app.css) with attribute fall-backs.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date

from markupsafe import Markup, escape

from charity.money import format_yuan_short

ValueFormat = Callable[[int], str]


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


def _num(value: float) -> str:
    return f"{value:.1f}".rstrip("0").rstrip(".")


def _open_svg(chart_id: str, width: int, height: int, title: str, desc: str, kind: str) -> str:
    cid = escape(chart_id)
    return (
        f'<svg class="chart chart-{kind}" viewBox="0 0 {width} {height}" '
        f'xmlns="http://www.w3.org/2000/svg" role="img" '
        f'aria-labelledby="{cid}-title {cid}-desc" preserveAspectRatio="xMidYMid meet">'
        f'<title id="{cid}-title">{escape(title)}</title>'
        f'<desc id="{cid}-desc">{escape(desc)}</desc>'
    )


def _y_grid(left: int, right: int, top: int, bottom: int, y_max: int, fmt: ValueFormat) -> str:
    parts = []
    for i in range(5):
        value = y_max * i // 4
        y = bottom - (bottom - top) * i / 4
        parts.append(
            f'<line class="chart-grid" x1="{left}" x2="{right}" y1="{_num(y)}" y2="{_num(y)}" '
            f'stroke="#d8dee4" stroke-width="1"/>'
            f'<text class="chart-label" x="{left - 6}" y="{_num(y + 4)}" text-anchor="end" '
            f'font-size="12" fill="#57606a">{escape(fmt(value))}</text>'
        )
    return "".join(parts)


def line_chart(
    points: Sequence[tuple[date, int]],
    *,
    title: str,
    desc: str,
    chart_id: str,
    start: date | None = None,
    end: date | None = None,
    format_value: ValueFormat = format_yuan_short,
    width: int = 640,
    height: int = 260,
) -> Markup:
    """A cumulative step-area chart of (day, running total) points over [start, end]."""
    points = sorted(points)
    first = start or (points[0][0] if points else date.today())
    last = end or (points[-1][0] if points else first)
    if points:
        first, last = min(first, points[0][0]), max(last, points[-1][0])
    span = max((last - first).days, 1)
    left, right, top, bottom = 72, width - 16, 16, height - 32
    y_max = nice_ceiling(max((value for _, value in points), default=0))

    def x_of(day: date) -> float:
        return left + (right - left) * (day - first).days / span

    def y_of(value: int) -> float:
        return bottom - (bottom - top) * value / y_max

    path = [f"M{left},{bottom}"]
    previous = 0
    for day, value in points:
        path.append(f"L{_num(x_of(day))},{_num(y_of(previous))}")
        path.append(f"L{_num(x_of(day))},{_num(y_of(value))}")
        previous = value
    path.append(f"L{right},{_num(y_of(previous))}")
    line = " ".join(path)
    markers = "".join(
        f'<circle class="chart-point" cx="{_num(x_of(day))}" cy="{_num(y_of(value))}" r="3" '
        f'fill="#b4232a"><title>{day.isoformat()}: {escape(format_value(value))}</title></circle>'
        for day, value in points
    )
    x_labels = (
        f'<text class="chart-label" x="{left}" y="{height - 10}" font-size="12" '
        f'fill="#57606a">{first.isoformat()}</text>'
        f'<text class="chart-label" x="{right}" y="{height - 10}" text-anchor="end" '
        f'font-size="12" fill="#57606a">{last.isoformat()}</text>'
    )
    svg = (
        _open_svg(chart_id, width, height, title, desc, "line")
        + _y_grid(left, right, top, bottom, y_max, format_value)
        + f'<path class="chart-area" d="{line} L{right},{bottom} Z" fill="#f3d4d5" stroke="none"/>'
        + f'<path class="chart-line" d="{line}" fill="none" stroke="#b4232a" stroke-width="2"/>'
        + markers
        + f'<line class="chart-axis" x1="{left}" x2="{right}" y1="{bottom}" y2="{bottom}" '
        f'stroke="#57606a" stroke-width="1"/>' + x_labels + "</svg>"
    )
    return Markup(svg)  # noqa: S704 - every text and attribute value is escaped above


def bar_chart(
    bars: Sequence[tuple[str, int]],
    *,
    title: str,
    desc: str,
    chart_id: str,
    format_value: ValueFormat = format_yuan_short,
    width: int = 640,
    bar_height: int = 24,
    label_width: int = 160,
) -> Markup:
    """Horizontal bars, one per (label, value), with the value written after each bar."""
    gap = 10
    height = max(len(bars), 1) * (bar_height + gap) + gap
    left, right = label_width, width - 96
    v_max = max((value for _, value in bars), default=0) or 1
    rows = []
    for index, (label, value) in enumerate(bars):
        y = gap + index * (bar_height + gap)
        length = (right - left) * max(value, 0) / v_max
        middle = _num(y + bar_height / 2 + 4)
        rows.append(
            f'<text class="chart-label" x="{left - 8}" y="{middle}" text-anchor="end" '
            f'font-size="13" fill="#1f2328">{escape(label)}</text>'
            f'<rect class="chart-bar" x="{left}" y="{y}" width="{_num(length)}" '
            f'height="{bar_height}" rx="3" fill="#b4232a"><title>{escape(label)}: '
            f"{escape(format_value(value))}</title></rect>"
            f'<text class="chart-value" x="{_num(left + length + 6)}" y="{middle}" '
            f'font-size="13" fill="#1f2328">{escape(format_value(value))}</text>'
        )
    svg = _open_svg(chart_id, width, height, title, desc, "bar") + "".join(rows) + "</svg>"
    return Markup(svg)  # noqa: S704 - every text and attribute value is escaped above


def progress_percent(part: int, whole: int) -> int:
    """0-100 for a progress bar (clamped; the page prints the real percentage)."""
    if whole <= 0:
        return 0
    return max(0, min(100, part * 100 // whole))
