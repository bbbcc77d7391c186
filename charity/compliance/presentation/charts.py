"""The dashboard's compliance-rate bar charts (no JavaScript, no inline styles).

Drawn by ``charity.web.charts.bar_rows``: each bar has its label on its own line(s) above it,
across the chart's whole width, with the rate at the end of the line; the SVG lays out for
the width it is given instead of being scaled, so its text is 14 CSS px on a 320 px phone
and on a desktop alike. Long labels ("Major and related-party transactions") wrap; every
row carries a <title> (a tooltip) with the full label and the value. The dashboard's
tables give the same figures for screen readers and export.
"""

from __future__ import annotations

from collections.abc import Sequence

from markupsafe import Markup, escape

from charity.web.charts import Bar, bar_rows

GOOD, FAIR, POOR = "#2e7d32", "#f9a825", "#c62828"


def _fill(share: float) -> str:
    return GOOD if share >= 0.9 else (FAIR if share >= 0.6 else POOR)


def bar_chart(title: str, items: Sequence[tuple[str, float | None]]) -> Markup:
    """Horizontal bars for shares between 0 and 1; None draws no bar and says "—"."""
    rows, height = bar_rows(
        [
            Bar(label, share, "—" if share is None else f"{share * 100:.1f}%", _fill(share or 0))
            for label, share in items
        ]
    )
    return Markup(  # noqa: S704 - the title is escaped here, the rows in bar_rows
        f'<svg class="chart chart-bars" xmlns="http://www.w3.org/2000/svg" role="img" '
        f'width="100%" height="{height}" aria-label="{escape(title)}">'
        f"<title>{escape(title)}</title>{rows}</svg>"
    )
