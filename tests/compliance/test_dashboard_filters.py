"""The regulator dashboard's own filter form (region, organization type, disclosure
type; plain GET, no JavaScript) and charts whose labels are never cut off."""

from __future__ import annotations

import csv
import io
import re
from html.parser import HTMLParser

import pytest

from charity.compliance import charts
from charity.compliance.dashboard import Scope, compliance_rates
from charity.compliance.dates import today_cst
from charity.extensions import db
from tests.compliance.conftest import login
from tests.compliance.test_regulator import populate
from tests.factories import UserFactory


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
    assert [row[0] for row in rows[1:]] == ["annual_work_report"]
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


def _labels(svg: str) -> list[str]:
    return re.findall(r'<text class="chart-label"[^>]*>([^<]*)</text>', svg)


def test_chart_labels_fit_and_long_ones_keep_their_full_text_in_a_title():
    long = "An extraordinarily long disclosure type label that cannot fit on one line"
    items = [
        ("Emergency receipts and use", 0.5),
        ("Major and related-party transactions", 1.0),
        ("内蒙古自治区", None),
        (long, 0.25),
    ]
    svg = str(charts.bar_chart("Rates", items))
    labels = _labels(svg)
    assert labels[:3] == [
        "Emergency receipts and use",
        "Major and related-party transactions",
        "内蒙古自治区",
    ]
    assert labels[3].endswith("…") and long.startswith(labels[3][:-1])
    room = charts.WIDTH - charts.VALUE_WIDTH
    assert all(charts.text_width(label) <= room for label in labels)
    assert f"<title>{long}: 25.0%</title>" in svg
    assert "<title>内蒙古自治区: —</title>" in svg
    # Bars start at x=0: nothing is drawn left of the chart, where text used to be clipped.
    assert not re.search(r'x="-', svg)


def test_charts_stay_readable_when_scaled_to_a_phone():
    # Rendered at most 390 px wide minus page padding (~340 px): text keeps >= 12 px.
    assert charts.FONT_SIZE * 340 / charts.WIDTH >= 12


def test_dashboard_chart_labels_are_translated_and_whole(en_client, regulator):  # type: ignore[no-untyped-def]
    populate(2, province="广东省")
    login(en_client, regulator)
    html = en_client.get("/regulator/").get_data(as_text=True)
    assert "Compliance rate by disclosure type" in html
    assert ">Guangdong</text>" in html
    assert ">Campaign filing</text>" in html
