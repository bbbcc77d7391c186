"""A pool's movements from the ledger: the yearly fund statement (CSV, PDF) and the chart.

Every line comes from a ledger entry on the fund's accounts (credits in, debits out), so
the statement adds up to the balance shown on the fund page. No personal data: gifts
appear by number, individuals by their anonymized label. The disclosure features reuse
``build_statement``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

import sqlalchemy as sa
from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Session

from charity.core.clock import CST
from charity.core.money import format_fen
from charity.models import Disbursement, Fund, FundTransfer, LedgerAccount, LedgerEntry
from charity.models import LedgerTransaction as Tx
from charity.services.receipts import add_cjk_font, find_cjk_font
from charity.web.exports import write_csv  # the one writer, every cell made safe
from charity.web.labels import purpose_label

#: Spreadsheet programs run cells starting with these as formulas (CSV injection).


@dataclass(frozen=True)
class Movement:
    at: datetime
    kind: str
    reference: str
    description: str
    #: Positive: money in; negative: money out.
    amount_fen: int


@dataclass(frozen=True)
class Statement:
    fund: Fund
    year: int
    opening_fen: int
    movements: tuple[Movement, ...]

    @property
    def inflow_fen(self) -> int:
        return sum(m.amount_fen for m in self.movements if m.amount_fen > 0)

    @property
    def outflow_fen(self) -> int:
        return -sum(m.amount_fen for m in self.movements if m.amount_fen < 0)

    @property
    def closing_fen(self) -> int:
        return self.opening_fen + self.inflow_fen - self.outflow_fen


def _describe(session: Session, kind: str, key: str, donation_id: int | None) -> tuple[str, str]:
    """(reference, description) in the reader's language (one language, issue 17.2)."""
    number = int(key.split(":")[1])
    if kind == "donation":
        return gettext("Gift #%(n)s", n=donation_id), gettext("Gift received")
    if kind == "refund":
        return gettext("Refund #%(n)s", n=number), gettext("Refund of gift #%(n)s", n=donation_id)
    if kind == "disbursement":
        d = session.get(Disbursement, number)
        text = f"{purpose_label(d.purpose_category)}：{d.public_beneficiary}" if d else ""
        return gettext("Disbursement #%(n)s", n=number), text
    row = session.get(FundTransfer, number)
    return gettext("Transfer #%(n)s", n=number), row.reason if row else ""


#: The movement kinds (LedgerTransaction.kind) of a fund, in words.
KIND_LABELS = {
    "donation": _l("Gift"),
    "refund": _l("Refund"),
    "disbursement": _l("Disbursement"),
    "transfer": _l("Transfer"),
    "in_kind": _l("Gift in kind"),
    "reversal": _l("Reversal"),
}


def kind_label(kind: str) -> str:
    return str(KIND_LABELS.get(kind, _l("Transfer")))


def fund_movements(session: Session, fund_id: int) -> list[Movement]:
    rows = session.execute(
        sa.select(Tx.kind, Tx.source_key, Tx.donation_id, Tx.created_at, LedgerEntry.amount_fen)
        .join(LedgerEntry, LedgerEntry.transaction_id == Tx.id)
        .join(LedgerAccount, LedgerEntry.account_id == LedgerAccount.id)
        .where(LedgerAccount.fund_id == fund_id)
        .order_by(Tx.created_at, Tx.id)
    ).all()
    movements = []
    for kind, key, donation_id, created_at, amount in rows:
        reference, description = _describe(session, kind, key, donation_id)
        movements.append(Movement(created_at, kind, reference, description, -int(amount)))
    return movements


def _year(moment: datetime) -> int:
    return moment.astimezone(CST).year


def build_statement(session: Session, fund: Fund, year: int) -> Statement:
    movements = fund_movements(session, fund.id)
    opening = sum(m.amount_fen for m in movements if _year(m.at) < year)
    return Statement(fund, year, opening, tuple(m for m in movements if _year(m.at) == year))


def monthly_flows(session: Session, fund_id: int) -> list[tuple[str, int, int, int]]:
    """[(YYYY-MM, inflow, outflow, balance at month end)] for the chart and its table."""
    months: dict[str, list[int]] = {}
    for m in fund_movements(session, fund_id):
        bucket = months.setdefault(m.at.astimezone(CST).strftime("%Y-%m"), [0, 0])
        bucket[0 if m.amount_fen > 0 else 1] += abs(m.amount_fen)
    balance, result = 0, []
    for month in sorted(months):
        inflow, outflow = months[month]
        balance += inflow - outflow
        result.append((month, inflow, outflow, balance))
    return result


def _yuan(fen: int) -> str:
    return f"{fen // 100}.{fen % 100:02d}"


def statement_csv(statement: Statement) -> str:
    """The statement as CSV text (with a BOM: Excel opens UTF-8 Chinese correctly): the
    year's totals, a blank line, then each movement."""
    totals = [
        statement.fund.name,
        statement.year,
        _yuan(statement.opening_fen),
        _yuan(statement.inflow_fen),
        _yuan(statement.outflow_fen),
        _yuan(statement.closing_fen),
    ]
    movements = [
        [
            m.at.astimezone(CST).strftime("%Y-%m-%d %H:%M"),
            kind_label(m.kind),
            m.reference,
            m.description,
            _yuan(m.amount_fen) if m.amount_fen > 0 else "",
            _yuan(-m.amount_fen) if m.amount_fen < 0 else "",
        ]
        for m in statement.movements
    ]
    movement_header = [
        gettext("Date"),
        gettext("Type"),
        gettext("Reference"),
        gettext("Description"),
        gettext("In (yuan)"),
        gettext("Out (yuan)"),
    ]
    header = [
        gettext("Fund"),
        gettext("Year"),
        gettext("Opening balance (yuan)"),
        gettext("Money in (yuan)"),
        gettext("Money out (yuan)"),
        gettext("Closing balance (yuan)"),
    ]
    return "\ufeff" + write_csv(header, [totals, [], movement_header, *movements])


def statement_pdf(statement: Statement, font_path: str | None = None) -> bytes:
    """The statement as a PDF, with the CJK font the receipts use."""
    from fpdf import FPDF  # fpdf2 is heavy (about 40 MB): loaded only to draw a PDF

    pdf = FPDF(format="A4")
    pdf.set_title(f"{statement.fund.name} {statement.year}")
    add_cjk_font(pdf, find_cjk_font(font_path))
    pdf.add_page()
    pdf.set_font("cjk", size=14)
    title = gettext(
        "%(fund)s: income and spending in %(year)s", fund=statement.fund.name, year=statement.year
    )
    pdf.multi_cell(0, 9, title, new_x="LMARGIN", new_y="NEXT", align="C")
    pdf.set_font("cjk", size=9)
    organization = statement.fund.organization
    for label, value in (
        (gettext("Host organization"), f"{organization.name} ({organization.uscc})"),
        (gettext("Opening balance"), format_fen(statement.opening_fen)),
        (gettext("Money in this year"), format_fen(statement.inflow_fen)),
        (gettext("Money out this year"), format_fen(statement.outflow_fen)),
        (gettext("Closing balance"), format_fen(statement.closing_fen)),
    ):
        pdf.cell(45, 6, label)
        pdf.multi_cell(0, 6, value, new_x="LMARGIN", new_y="NEXT")
    pdf.ln(3)
    for m in statement.movements:
        when = m.at.astimezone(CST).strftime("%Y-%m-%d")
        amount = format_fen(m.amount_fen, sign=True)
        pdf.multi_cell(
            0, 5, f"{when}  {m.reference}  {m.description}  {amount}", new_x="LMARGIN", new_y="NEXT"
        )
    return bytes(pdf.output())


def balance_points(session: Session, fund_id: int) -> list[tuple[date, int]]:
    """[(day in China, balance at the end of that day)] for the balance chart."""
    days: dict[date, int] = {}
    balance = 0
    for m in fund_movements(session, fund_id):
        balance += m.amount_fen
        days[m.at.astimezone(CST).date()] = balance
    return sorted(days.items())
