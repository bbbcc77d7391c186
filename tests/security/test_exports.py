"""CSV exports: formula injection is neutralised, numbers stay numbers, downloads are safe."""

from __future__ import annotations

import csv
import io
from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from charity.exports import FORMULA_PREFIXES, csv_response, safe_cell, write_csv

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
