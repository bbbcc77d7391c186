"""A minimal server-rendered SVG chart of a fund's monthly inflow and outflow.

``charity/charts.py`` (campaigns) draws the fund's balance line; it has no paired bar chart,
so the monthly in/out bars are drawn here. TODO: move this into charity/charts.py.
No ``style=`` attributes (CSP); colours from ``.fund-chart`` classes in app.css, with fill
attributes as fall-backs.
"""

from __future__ import annotations

from markupsafe import Markup, escape

from charity.money import format_yuan_short

WIDTH, HEIGHT, LEFT, BOTTOM, TOP = 640, 240, 70, 30, 16


def flows_chart(rows: list[tuple[str, int, int, int]], title: str) -> Markup:
    """Bars per month: inflow (green) and outflow (red); rows from ``monthly_flows``."""
    peak = max([1, *(max(inflow, outflow) for _, inflow, outflow, _ in rows)])
    plot_h = HEIGHT - BOTTOM - TOP
    slot = (WIDTH - LEFT - 10) / max(1, len(rows))
    bar = max(2.0, min(24.0, slot / 3))
    parts = [
        f'<svg class="fund-chart" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
        f'xmlns="http://www.w3.org/2000/svg" aria-labelledby="fund-chart-title">'
        f'<title id="fund-chart-title">{escape(title)}</title>',
        f'<line x1="{LEFT}" y1="{HEIGHT - BOTTOM}" x2="{WIDTH - 10}" y2="{HEIGHT - BOTTOM}" '
        f'stroke="#888"/>',
        f'<text x="{LEFT - 6}" y="{TOP + 4}" text-anchor="end" font-size="11">'
        f"{escape(format_yuan_short(peak))}</text>",
    ]
    for i, (month, inflow, outflow, _balance) in enumerate(rows):
        x = LEFT + i * slot + slot / 2
        for offset, value, css, fill in (
            (-bar, inflow, "in", "#2e7d32"),
            (0, outflow, "out", "#c62828"),
        ):
            h = plot_h * value / peak
            parts.append(
                f'<rect class="fund-chart-{css}" x="{x + offset:.1f}" '
                f'y="{HEIGHT - BOTTOM - h:.1f}" width="{bar:.1f}" height="{h:.1f}" fill="{fill}"/>'
            )
        parts.append(
            f'<text x="{x:.1f}" y="{HEIGHT - 10}" text-anchor="middle" font-size="11">'
            f"{escape(month)}</text>"
        )
    parts.append("</svg>")
    # Every interpolated text went through escape(); the rest are our own numbers.
    return Markup("".join(parts))  # noqa: S704
