"""charity.charts: SVG that parses, escapes its text and scales its values."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import date

import pytest

from charity.charts import bar_chart, line_chart, nice_ceiling, progress_percent

SVG = "{http://www.w3.org/2000/svg}"


def _parse(markup) -> ET.Element:  # type: ignore[no-untyped-def]
    return ET.fromstring(str(markup))  # noqa: S314 - our own output, in a test


def test_line_chart_is_valid_accessible_svg():
    svg = _parse(
        line_chart(
            [(date(2026, 1, 3), 5_000), (date(2026, 1, 1), 1_000)],
            title="Raised <over> time",
            desc="a & b",
            chart_id="c1",
            start=date(2026, 1, 1),
            end=date(2026, 1, 10),
        )
    )
    assert svg.get("role") == "img"
    assert svg.get("aria-labelledby") == "c1-title c1-desc"
    assert svg.find(f"{SVG}title").text == "Raised <over> time"
    assert svg.find(f"{SVG}desc").text == "a & b"
    circles = svg.findall(f"{SVG}circle")
    assert [c.find(f"{SVG}title").text for c in circles] == ["2026-01-01: ¥10", "2026-01-03: ¥50"]
    # the later, larger total sits higher (smaller y) and further right
    assert float(circles[1].get("cy")) < float(circles[0].get("cy"))
    assert float(circles[1].get("cx")) > float(circles[0].get("cx"))
    assert "style" not in str(line_chart([], title="t", desc="d", chart_id="x"))


def test_an_empty_line_chart_still_renders():
    svg = _parse(line_chart([], title="t", desc="d", chart_id="e", start=date(2026, 1, 1)))
    assert svg.findall(f"{SVG}circle") == []


def test_bar_chart_scales_bars_to_the_largest():
    svg = _parse(bar_chart([("教育", 100), ("<b>医疗</b>", 50)], title="t", desc="d", chart_id="b"))
    bars = svg.findall(f"{SVG}rect")
    assert float(bars[0].get("width")) == 2 * float(bars[1].get("width"))
    texts = [t.text for t in svg.findall(f"{SVG}text")]
    assert "<b>医疗</b>" in texts  # escaped in the markup, literal text once parsed


@pytest.mark.parametrize(
    ("value", "expected"), [(0, 1), (1, 1), (7, 10), (11, 20), (230, 250), (4_100, 5_000)]
)
def test_nice_ceiling(value, expected):
    assert nice_ceiling(value) == expected


def test_progress_percent_is_clamped():
    assert progress_percent(50, 200) == 25
    assert progress_percent(500, 200) == 100
    assert progress_percent(5, 0) == 0
