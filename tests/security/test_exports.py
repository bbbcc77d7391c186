"""CSV exports: formula injection is neutralised, numbers stay numbers, downloads are safe."""

from __future__ import annotations

import csv
import io
from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from charity.web.exports import FORMULA_PREFIXES, csv_response, safe_cell, write_csv

INJECTIONS = [
    '=HYPERLINK("http://evil.example","click")',
    "=cmd|' /C calc'!A0",
    "+1+2",
    "-2+3",
    "@SUM(1+1)*cmd|' /C calc'!A0",
    "\t=1+1",
    "\r=1+1",
    "  =1+1",
    "＝1+1",
]


@pytest.mark.parametrize("payload", INJECTIONS)
def test_formulas_become_text(payload):
    cell = safe_cell(payload)
    assert cell == "'" + payload


@pytest.mark.parametrize(
    ("value", "expected"),
    [(12, 12), (-5, -5), (1.5, 1.5), (None, ""), (True, "true"),
     (date(2025, 3, 1), "2025-03-01"), ("广州市慈善会", "广州市慈善会"), ("a\x00b", "ab")],
)  # fmt: skip
def test_ordinary_values(value, expected):
    assert safe_cell(value) == expected


@given(st.text())
def test_no_cell_starts_like_a_formula(text):
    cell = safe_cell(text)
    assert not str(cell).lstrip(" ").startswith(FORMULA_PREFIXES) or str(cell).startswith("'")


def test_csv_round_trip_keeps_text_and_defuses_formulas():
    text = write_csv(["name", "amount_fen", "message"], [["王女士", 10000, INJECTIONS[0]]])
    rows = list(csv.reader(io.StringIO(text)))
    assert rows == [["name", "amount_fen", "message"], ["王女士", "10000", "'" + INJECTIONS[0]]]


def test_csv_download_headers(app):
    with app.test_request_context():
        response = csv_response("捐赠记录 2025.csv", ["a"], [["=1"]])
    assert response.mimetype == "text/csv"
    disposition = response.headers["Content-Disposition"]
    assert disposition.startswith('attachment; filename="')
    assert "filename*=UTF-8''%E6%8D%90" in disposition
    assert response.get_data(as_text=True).startswith("\ufeffa\r\n'=1")
    assert response.headers["X-Content-Type-Options"] == "nosniff"


# --- the regulator's exports, end to end ------------------------------------------------------


@pytest.fixture
def overdue_hostile_org(db_session):  # type: ignore[no-untyped-def]
    from datetime import timedelta

    from charity.models.base import utcnow
    from charity.models.disclosure import Obligation
    from tests.support.factories import OrganizationFactory

    org = OrganizationFactory(name=INJECTIONS[0])
    today = utcnow().date()
    db_session.add(
        Obligation(
            key=f"{org.id}:annual_work_report:org:2020",
            organization_id=org.id,
            rule_code="CL78-annual",
            disclosure_type="annual_work_report",
            subject_key="org",
            period_key="2020",
            triggered_on=today - timedelta(days=400),
            due_date=today - timedelta(days=30),
        )
    )
    db_session.flush()
    return org


def test_regulator_csv_export_defuses_formulas(client, login, overdue_hostile_org):
    from tests.support.factories import UserFactory

    login(UserFactory(platform_role="regulator"))
    response = client.get("/regulator/export/overdue.csv")
    assert response.status_code == 200
    assert response.headers["Content-Disposition"].startswith("attachment")
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))
    cells = [cell for row in rows for cell in row]
    assert "'" + INJECTIONS[0] in cells
    assert not any(c.startswith(("=", "+", "@")) for c in cells)


def test_regulator_xlsx_export_defuses_formulas(client, login, overdue_hostile_org):
    from openpyxl import load_workbook

    from tests.support.factories import UserFactory

    login(UserFactory(platform_role="regulator"))
    response = client.get("/regulator/export/overdue.xlsx")
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.get_data())).active
    values = [cell.value for row in sheet.iter_rows() for cell in row]
    assert "'" + INJECTIONS[0] in values
    assert all(cell.data_type != "f" for row in sheet.iter_rows() for cell in row)
