"""The regulator dashboard's own filter form (region, organization type, disclosure
type; plain GET, no JavaScript) and charts whose labels are never cut off."""

from __future__ import annotations

import csv
import io
import re
import xml.etree.ElementTree as ET
from html.parser import HTMLParser

import pytest

from charity.compliance.presentation import charts
from charity.compliance.readmodels.dashboard import Scope, compliance_rates
from charity.core.clock import today_cst
from charity.extensions import db
from charity.web.charts import MIN_WIDTH, VALUE_WIDTH, text_width
from tests.support.compliance import login, populate
from tests.support.factories import UserFactory

SVG = "{http://www.w3.org/2000/svg}"


@pytest.fixture
def regulator(db_session):  # type: ignore[no-untyped-def]
    return UserFactory(platform_role="regulator")


class _Controls(HTMLParser):
    """Collects the filter form's controls and labels."""

    def __init__(self) -> None:
        super().__init__()
        self.in_form = False
        self.form: dict[str, str | None] = {}
        self.selects: dict[str, str | None] = {}
        self.label_for: set[str] = set()
        self.submit = False

    def handle_starttag(self, tag, attrs):  # type: ignore[no-untyped-def]
        a = dict(attrs)
        if tag == "form" and a.get("role") == "search":
            self.in_form, self.form = True, a
        elif self.in_form and tag == "select":
            self.selects[a["name"] or ""] = a.get("id")
        elif self.in_form and tag == "label":
            self.label_for.add(a.get("for") or "")
        elif self.in_form and tag == "button" and a.get("type") == "submit":
            self.submit = True

    def handle_endtag(self, tag):  # type: ignore[no-untyped-def]
        if tag == "form":
            self.in_form = False


def _controls(html: str) -> _Controls:
    parser = _Controls()
    parser.feed(html)
    return parser


def test_the_dashboard_has_an_accessible_get_filter_form(en_client, regulator):  # type: ignore[no-untyped-def]
    login(en_client, regulator)
    html = en_client.get("/regulator/").get_data(as_text=True)
    found = _controls(html)
    assert (found.form.get("method"), found.form.get("action")) == ("get", "/regulator/")
    assert set(found.selects) == {"province", "org_type", "disclosure_type"}
    assert set(found.selects.values()) <= found.label_for  # every control is labelled
    assert found.submit and "<script>" not in html  # a plain GET form, no inline script
    assert '<option value="广东省">Guangdong</option>' in html


def test_filters_narrow_rates_tables_and_exports(en_client, regulator):  # type: ignore[no-untyped-def]
    [group] = populate(1, province="广东省", name="粤社团", type_digit="1")
    [foundation] = populate(1, province="广东省", name="粤基金会", type_digit="3")
    populate(1, province="浙江省", name="浙基金会", type_digit="3")
    login(en_client, regulator)
    page = en_client.get(
        "/regulator/?province=广东省&org_type=foundation&disclosure_type=annual_work_report"
    )
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "粤基金会" in html and "粤社团" not in html and "浙基金会" not in html
    assert '<option value="foundation" selected>' in html
    assert '<option value="annual_work_report" selected>' in html
    href = re.search(r'href="(/regulator/export/by_disclosure_type\.csv[^"]*)"', html).group(1)
    for arg in ("province=", "org_type=foundation", "disclosure_type=annual_work_report"):
        assert arg in href
    rows = list(
        csv.reader(
            io.StringIO(
                en_client.get(href.replace("&amp;", "&")).get_data(as_text=True).lstrip("\ufeff")
            )
        )
    )
    assert [row[0] for row in rows[1:]] == ["Annual work report"]
    scope = Scope(province="广东省", org_type="social_group")
    rates = compliance_rates(db.session, today_cst(), scope)
    assert [x.label for x in rates["org_type"]] == ["social_group"]
    assert (
        rates["overall"].counts
        == compliance_rates(db.session, today_cst(), Scope(org_type="social_group"))[
            "overall"
        ].counts
    )
    assert group.id != foundation.id


def test_unknown_filter_values_are_ignored(en_client, regulator):  # type: ignore[no-untyped-def]
    login(en_client, regulator)
    response = en_client.get("/regulator/?province=Atlantis&org_type=x&disclosure_type=%3Cb%3E")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "Region: Atlantis" not in html and "All regions" in html
    assert "province=Atlantis" not in html.split("<main", 1)[1]  # export links drop it


def test_a_scoped_regulator_has_no_region_choice(en_client, db_session):  # type: ignore[no-untyped-def]
    login(en_client, UserFactory(platform_role="regulator", regulator_province="广东省"))
    html = en_client.get("/regulator/").get_data(as_text=True)
    found = _controls(html)
    assert "province" not in found.selects and {"org_type", "disclosure_type"} <= set(found.selects)
    assert "Guangdong" in html


def _rows(svg: str) -> list[dict]:
    """Each bar's row: its <title>, label lines, value, and the bar's width (None: no bar)."""
    root = ET.fromstring(svg)  # noqa: S314 - our own output, in a test
    rows = []
    for group in root.findall(f"{SVG}g"):
        texts = group.findall(f"{SVG}text")
        bars = group.findall(f"{SVG}rect[@class='chart-bar']")
        rows.append(
            {
                "title": group.find(f"{SVG}title").text,
                "lines": [t.text for t in texts if t.get("class") == "chart-label"],
                "value": next(t.text for t in texts if t.get("class") == "chart-value"),
                "bar": bars[0].get("width") if bars else None,
            }
        )
    return rows


def test_chart_labels_wrap_to_fit_a_phone_and_keep_their_full_text_in_a_title():
    long = "An extraordinarily long disclosure type label that cannot fit on two lines at all"
    items = [
        ("Emergency receipts and use", 0.5),
        ("Major and related-party transactions", 1.0),
        ("内蒙古自治区", None),
        (long, 0.25),
    ]
    rows = _rows(str(charts.bar_chart("Rates", items)))
    assert [row["lines"] for row in rows[:3]] == [
        ["Emergency receipts and use"],
        ["Major and related-party", "transactions"],  # wrapped, not cut
        ["内蒙古自治区"],
    ]
    first, second = rows[3]["lines"]
    assert second.endswith("…") and long.startswith(f"{first} {second[:-1]}")
    # Every line fits beside the value on the narrowest phone (320 px less the padding).
    room = MIN_WIDTH - VALUE_WIDTH
    assert all(text_width(line) <= room for row in rows for line in row["lines"])
    assert rows[3]["title"] == f"{long}: 25.0%"
    assert rows[2]["title"] == "内蒙古自治区: —"
    assert [(row["value"], row["bar"]) for row in rows] == [
        ("50.0%", "50%"),
        ("100.0%", "100%"),
        ("—", None),  # no data: the track only, no bar
        ("25.0%", "25%"),
    ]


def test_charts_lay_out_for_their_width_instead_of_being_scaled():
    svg = ET.fromstring(str(charts.bar_chart("Rates", [("广东省", 0.95)])))  # noqa: S314
    # No viewBox: nothing scales the text, which is drawn at its own size (>= 12 CSS px) on
    # a phone and a desktop alike; the bars are percentages of whatever width there is.
    assert svg.get("viewBox") is None and svg.get("width") == "100%"
    assert int(svg.get("height")) > 0
    assert all(int(t.get("font-size")) >= 12 for t in svg.iter(f"{SVG}text"))
    assert {t.get("x") for t in svg.iter(f"{SVG}text")} == {"0", "100%"}  # nothing left of 0


def test_dashboard_chart_labels_are_translated_and_whole(en_client, regulator):  # type: ignore[no-untyped-def]
    populate(2, province="广东省")
    login(en_client, regulator)
    html = en_client.get("/regulator/").get_data(as_text=True)
    assert "Compliance rate by disclosure type" in html
    assert ">Guangdong</text>" in html
    assert ">Campaign filing</text>" in html
    # Each chart leads to its table, the same figures for screen readers and to copy.
    for table in ("by_region", "by_disclosure_type"):
        assert f'href="#t-{table}"' in html and f'id="t-{table}"' in html
