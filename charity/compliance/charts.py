"""Small server-rendered SVG bar charts (no JavaScript, no inline styles).

Each bar has its label on its own line above it, across the chart's whole width, so long
labels ("Major and related-party transactions") are not cut off, and the chart stays
readable when a phone scales it down to 390 px. A label longer than the line is
shortened with "…"; every row carries a <title> (a tooltip, and read by screen readers)
with the full label and the value.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence

from markupsafe import Markup, escape

WIDTH = 360
FONT_SIZE = 14
LABEL_HEIGHT = 18
BAR_HEIGHT = 14
GAP = 12
ROW = LABEL_HEIGHT + BAR_HEIGHT + GAP
#: Room at the end of the label line for the value ("100.0%").
VALUE_WIDTH = 52


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


def bar_chart(title: str, items: Sequence[tuple[str, float | None]]) -> Markup:
    """Horizontal bars for shares between 0 and 1; None draws no bar and says "no data"."""
    height = len(items) * ROW + GAP
    parts = [
        f'<svg class="chart chart-bars" xmlns="http://www.w3.org/2000/svg" role="img" '
        f'viewBox="0 0 {WIDTH} {height}" width="{WIDTH}" height="{height}" '
        f'aria-label="{escape(title)}"><title>{escape(title)}</title>'
    ]
    for index, (label, share) in enumerate(items):
        top = GAP + index * ROW
        text_y = top + LABEL_HEIGHT - 5
        bar_y = top + LABEL_HEIGHT
        value = "—" if share is None else f"{share * 100:.1f}%"
        shown = shorten(label, WIDTH - VALUE_WIDTH)
        parts.append(f"<g><title>{escape(label)}: {value}</title>")
        parts.append(
            f'<text class="chart-label" x="0" y="{text_y}" font-size="{FONT_SIZE}">'
            f"{escape(shown)}</text>"
        )
        parts.append(
            f'<text class="chart-value" x="{WIDTH}" y="{text_y}" text-anchor="end" '
            f'font-size="{FONT_SIZE}">{value}</text>'
        )
        parts.append(
            f'<rect x="0" y="{bar_y}" width="{WIDTH}" height="{BAR_HEIGHT}" fill="#eef0f3"/>'
        )
        if share is not None:
            bar = max(0.0, min(1.0, share)) * WIDTH
            fill = "#2e7d32" if share >= 0.9 else ("#f9a825" if share >= 0.6 else "#c62828")
            parts.append(
                f'<rect x="0" y="{bar_y}" width="{bar:.1f}" height="{BAR_HEIGHT}" fill="{fill}"/>'
            )
        parts.append("</g>")
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 - every interpolated text is escaped above
