"""Public fund pages, the yearly statement (CSV without formula injection, PDF with Chinese)."""

from __future__ import annotations

import csv
import io
import subprocess
from datetime import UTC, datetime

import pytest
import time_machine

from charity.core.clock import today_cst
from charity.extensions import db
from charity.services import disbursements as svc
from charity.services import funds
from charity.services.pools import Pool
from tests.support.funds import day, gift


def _spent_fund(people, fund, evidence):  # type: ignore[no-untyped-def]
    a = gift(fund, 10000, day(1))
    gift(fund, 5000, day(2))
    command = svc.DisbursementRequest(
        Pool("fund", fund.id),
        6000,
        "epidemic_supplies",
        "口罩两千只",
        "individual",
        "刘婆婆",
        evidence,
    )
    d = svc.request_disbursement(db.session, people.finance, command)
    svc.approve_disbursement(db.session, people.committee[0], d.id)
    svc.execute_disbursement(db.session, people.finance2, d.id, "BANK-1")
    db.session.commit()
    return a, d


def test_fund_list_and_page(client, people, fund, evidence):
    a, d = _spent_fund(people, fund, evidence)
    listing = client.get("/funds/").get_data(as_text=True)
    assert fund.name in listing and "¥90.00" in listing
    page = client.get(f"/funds/{fund.id}").get_data(as_text=True)
    assert "¥90.00" in page  # balance: 100 + 50 - 60
    assert "<svg" in page and 'role="img"' in page
    assert 'class="chart-line"' in page and 'class="chart-out"' in page
    # an individual's evidence names them: on file, not linked (issue 15 finding 7)
    assert f"/disbursements/{d.id}/evidence" not in page and "On file (private)" in page
    assert f"受助人A-{d.id:04d}" in page and "刘婆婆" not in page
    assert "giver@example.org" not in page and "捐赠人" not in page  # no donor data
    assert f"#{a.id}" in page and "¥40.00" in page  # gift A: ¥60 spent, ¥40 left
    assert people.host.name in page and "委员0" in page
    assert f"/funds/{fund.id}/donate" in page
    assert client.get(f"/disbursements/{d.id}").status_code == 200  # executed: public
    assert client.get("/funds/999999").status_code == 404


# New Year's Eve, 00:30 on Jan 1 in China: the statement year is the China-time year.
@time_machine.travel(datetime(2026, 12, 31, 16, 30, tzinfo=UTC))
def test_statement_csv_guards_formulas(client, people, fund, evidence):
    _spent_fund(people, fund, evidence)
    back = funds.transfer(
        db.session,
        people.finance,
        funds.TransferCommand(fund.id, "to_host", 1000, '=HYPERLINK("http://evil","x")'),
    )
    funds.approve_transfer(db.session, people.finance2, back.id)
    db.session.commit()
    year = today_cst().year  # the statement year is a China-time year
    response = client.get(f"/funds/{fund.id}/statement-{year}.csv")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))
    assert rows[1][0] == fund.name and rows[1][2:] == ["0.00", "150.00", "70.00", "80.00"]
    descriptions = [row[3] for row in rows[4:]]
    assert '\'=HYPERLINK("http://evil","x")' in descriptions
    assert not any(cell.startswith("=") for row in rows for cell in row)
    assert client.get(f"/funds/{fund.id}/statement-1999.csv").status_code == 404


def test_statement_pdf_has_chinese_text(client, people, fund, evidence, tmp_path):
    _spent_fund(people, fund, evidence)
    year = today_cst().year  # the statement year is a China-time year
    response = client.get(f"/funds/{fund.id}/statement-{year}.pdf")
    assert response.status_code == 200 and response.data.startswith(b"%PDF")
    path = tmp_path / "statement.pdf"
    path.write_bytes(response.data)
    text = subprocess.run(
        ["pdftotext", "-enc", "UTF-8", str(path), "-"], capture_output=True, text=True, check=True
    ).stdout
    assert fund.name in text and "¥150.00" in text and "¥90.00" in text


@pytest.mark.parametrize("path", ["/funds/{id}/transfer", "/funds/{id}/committee"])
def test_staff_pages_refuse_the_public(client, people, fund, path):
    response = client.get(path.format(id=fund.id))
    assert response.status_code in (302, 401)
