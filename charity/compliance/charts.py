"""Small server-rendered SVG bar charts (no JavaScript, no inline styles)."""

from __future__ import annotations

from collections.abc import Sequence

from markupsafe import Markup, escape

BAR_HEIGHT = 22
GAP = 8
LABEL_WIDTH = 170
BAR_WIDTH = 360


def bar_chart(title: str, items: Sequence[tuple[str, float | None]]) -> Markup:
    """Horizontal bars for shares between 0 and 1; None draws no bar and says "no data"."""
    height = len(items) * (BAR_HEIGHT + GAP) + GAP
    width = LABEL_WIDTH + BAR_WIDTH + 70
    parts = [
        f'<svg class="chart" xmlns="http://www.w3.org/2000/svg" role="img" '
        f'viewBox="0 0 {width} {height}" width="{width}" height="{height}" '
        f'aria-label="{escape(title)}"><title>{escape(title)}</title>'
    ]
    for index, (label, share) in enumerate(items):
        y = GAP + index * (BAR_HEIGHT + GAP)
        text_y = y + BAR_HEIGHT * 0.7
        parts.append(
            f'<text x="{LABEL_WIDTH - 6}" y="{text_y:.1f}" text-anchor="end" '
            f'font-size="13">{escape(label)}</text>'
        )
        parts.append(
            f'<rect x="{LABEL_WIDTH}" y="{y}" width="{BAR_WIDTH}" height="{BAR_HEIGHT}" '
            f'fill="#eef0f3"/>'
        )
        if share is None:
            value = "—"
        else:
            bar = max(0.0, min(1.0, share)) * BAR_WIDTH
            fill = "#2e7d32" if share >= 0.9 else ("#f9a825" if share >= 0.6 else "#c62828")
            parts.append(
                f'<rect x="{LABEL_WIDTH}" y="{y}" width="{bar:.1f}" height="{BAR_HEIGHT}" '
                f'fill="{fill}"/>'
            )
            value = f"{share * 100:.1f}%"
        parts.append(
            f'<text x="{LABEL_WIDTH + BAR_WIDTH + 6}" y="{text_y:.1f}" font-size="13">'
            f"{value}</text>"
        )
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 - every interpolated text is escaped above
