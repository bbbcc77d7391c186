"""charity.web.charts: SVG that parses, escapes its text, scales its values, and lays out for
the width it is given (no viewBox: text keeps its size on a phone)."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import date
from itertools import pairwise

import pytest

from charity.web.charts import (
    AXIS_FONT_SIZE,
    MIN_WIDTH,
    bar_chart,
    flows_chart,
    line_chart,
    nice_ceiling,
    progress_percent,
    text_width,
    wrap,
)

SVG = "{http://www.w3.org/2000/svg}"


def _parse(markup) -> ET.Element:  # type: ignore[no-untyped-def]
    return ET.fromstring(str(markup))  # noqa: S314 - our own output, in a test


def _percent(value: str) -> float:
    assert value.endswith("%"), value
    return float(value[:-1])


def _assert_fluid(svg: ET.Element) -> None:
    """Drawn at the width it is given, never scaled: no viewBox on the chart itself, text
    at 12 px or more, and only a nested plot (paths) may stretch, with strokes that do not."""
    assert svg.get("viewBox") is None and svg.get("width") == "100%", svg.attrib
    assert all(int(t.get("font-size")) >= 12 for t in svg.iter(f"{SVG}text"))
    for plot in svg.findall(f".//{SVG}svg"):
        assert plot.get("preserveAspectRatio") == "none" and not plot.findall(f".//{SVG}text")
        for path in plot.findall(f"{SVG}path[@stroke='#b4232a']"):
            assert path.get("vector-effect") == "non-scaling-stroke"


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
    _assert_fluid(svg)
    circles = svg.findall(f"{SVG}circle")
    assert [c.find(f"{SVG}title").text for c in circles] == ["2026-01-01: ¥10", "2026-01-03: ¥50"]
    # the later, larger total sits higher (smaller y) and further right (a share of the width)
    assert float(circles[1].get("cy")) < float(circles[0].get("cy"))
    assert [_percent(c.get("cx")) for c in circles] == [0, pytest.approx(2 / 9 * 100, abs=0.1)]
    # the dates sit at the two ends, held inside the chart
    dates = [(t.text, t.get("x"), t.get("text-anchor")) for t in svg.iter(f"{SVG}text")][-2:]
    assert dates == [("2026-01-01", "0", "start"), ("2026-01-10", "100%", "end")]
    assert "style" not in str(line_chart([], title="t", desc="d", chart_id="x"))


def test_an_empty_line_chart_still_renders():
    svg = _parse(line_chart([], title="t", desc="d", chart_id="e", start=date(2026, 1, 1)))
    assert svg.findall(f"{SVG}circle") == []


def test_bar_chart_scales_bars_to_the_largest():
    svg = _parse(bar_chart([("教育", 100), ("<b>医疗</b>", 50)], title="t", desc="d", chart_id="b"))
    _assert_fluid(svg)
    bars = svg.findall(f".//{SVG}rect[@class='chart-bar']")
    assert [bar.get("width") for bar in bars] == ["100%", "50%"]
    texts = [t.text for t in svg.iter(f"{SVG}text")]
    assert "<b>医疗</b>" in texts  # escaped in the markup, literal text once parsed


def test_bar_labels_leave_room_for_wide_values():
    label = "Disaster relief and reconstruction in the mountains"
    svg = _parse(bar_chart([(label, 123_456_789_00)], title="t", desc="d", chart_id="b"))
    lines = [t.text for t in svg.iter(f"{SVG}text") if t.get("class") == "chart-label"]
    value = next(t.text for t in svg.iter(f"{SVG}text") if t.get("class") == "chart-value")
    assert value == "¥123,456,789" and len(lines) == 2
    assert text_width(lines[0]) + text_width(value) < MIN_WIDTH  # side by side on a phone


def test_flows_chart_pairs_columns_and_thins_its_month_labels():
    months = [(f"2025-{m:02d}", 100_000 * m, 50_000) for m in range(1, 13)]
    svg = _parse(flows_chart(months, title="t", desc="d", chart_id="f", names=("In", "Out & back")))
    _assert_fluid(svg)
    ins = svg.findall(f"{SVG}rect[@class='chart-in']")
    outs = svg.findall(f"{SVG}rect[@class='chart-out']")
    assert len(ins) == len(outs) == 12
    assert ins[0].find(f"{SVG}title").text == "2025-01 · In: ¥1,000"
    assert outs[0].find(f"{SVG}title").text == "2025-01 · Out & back: ¥500"
    # the largest inflow (¥12,000) against a ¥20,000 scale: 60 % of the plot's height
    heights = [float(rect.get("height")) for rect in ins]
    assert heights[-1] == pytest.approx(heights[0] * 12) and heights[-1] / 184 == pytest.approx(0.6)
    # twelve month labels do not fit on a 288 px phone: some are left out, never the last,
    # and those kept stay inside the chart and apart at that width (wider only spreads them)
    labels = [t for t in svg.iter(f"{SVG}text") if t.text.startswith("2025-")]
    assert 2 <= len(labels) < 12 and labels[-1].text == "2025-12"
    extents = [_extent_at_narrowest(label) for label in labels]
    assert extents[0][0] >= 0 and extents[-1][1] <= MIN_WIDTH
    assert all(left >= right + 8 for (_, right), (left, _) in pairwise(extents))


def _extent_at_narrowest(text: ET.Element) -> tuple[float, float]:
    """Where a text starts and ends, in pixels, in a chart MIN_WIDTH wide."""
    width = text_width(text.text, AXIS_FONT_SIZE)
    x = text.get("x")
    at = MIN_WIDTH * _percent(x) / 100 if x.endswith("%") else float(x)
    start = {"start": at, "middle": at - width / 2, "end": at - width}[text.get("text-anchor")]
    return start, start + width


@pytest.mark.parametrize(
    ("text", "room", "lines"),
    [
        ("Basic information", 200, ["Basic information"]),
        ("Major and related-party transactions", 200, ["Major and related-party", "transactions"]),
        # CJK breaks between characters, never before 、 or ，
        ("重大资产变动、对外投资", 14 * 6, ["重大资产变", "动、对外投资"]),
        ("一二三四五六七八九十一二三四五六七八九十", 14 * 5, ["一二三四五", "六七八九…"]),
    ],
)
def test_wrap(text, room, lines):
    assert wrap(text, room) == lines


@pytest.mark.parametrize(
    ("value", "expected"), [(0, 1), (1, 1), (7, 10), (11, 20), (230, 250), (4_100, 5_000)]
)
def test_nice_ceiling(value, expected):
    assert nice_ceiling(value) == expected


def test_progress_percent_is_clamped():
    assert progress_percent(50, 200) == 25
    assert progress_percent(500, 200) == 100
    assert progress_percent(5, 0) == 0
