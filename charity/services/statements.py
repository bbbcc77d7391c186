"""A donor's yearly statement: every gift of the year and the total, as a PDF (the same
CJK font loading as the receipts)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session

from charity.core.clock import CST
from charity.core.money import format_fen
from charity.models import Donation, User
from charity.services import receipts

COUNTED = ("succeeded", "partially_refunded", "refunded")
CHANNEL_LABELS = {
    "online_card": "在线 Online",
    "online_wechatpay": "微信支付 WeChat Pay",
    "online_alipay": "支付宝 Alipay",
    "recurring": "月捐 Monthly",
    "bank_transfer": "银行转账 Bank transfer",
    "cash_box": "现金 Cash",
    "in_kind": "物资 In kind",
}


@dataclass(frozen=True)
class Statement:
    year: int
    gifts: list[Donation]
    cash_total_fen: int
    in_kind_total_fen: int


def _year_bounds(year: int) -> tuple[datetime, datetime]:
    start = datetime(year, 1, 1, tzinfo=CST)
    end = datetime(year + 1, 1, 1, tzinfo=CST)
    return start, end


def yearly_statement(session: Session, actor: User, year: int) -> Statement:
    start, end = _year_bounds(year)
    gifts = list(
        session.scalars(
            sa.select(Donation)
            .where(
                Donation.donor_user_id == actor.id,
                Donation.status.in_(COUNTED),
                Donation.succeeded_at >= start,
                Donation.succeeded_at < end,
            )
            .order_by(Donation.succeeded_at, Donation.id)
        )
    )
    cash = sum(g.net_fen for g in gifts if g.channel != "in_kind")
    goods = sum(g.net_fen for g in gifts if g.channel == "in_kind")
    return Statement(year, gifts, cash, goods)


def statement_years(session: Session, actor: User) -> list[int]:
    years = {
        g.astimezone(CST).year
        for g in session.scalars(
            sa.select(Donation.succeeded_at).where(
                Donation.donor_user_id == actor.id,
                Donation.status.in_(COUNTED),
                Donation.succeeded_at.is_not(None),
            )
        )
    }
    return sorted(years, reverse=True)


def render_statement_pdf(statement: Statement, donor_name: str, font_path: str | None) -> bytes:
    from fpdf import FPDF  # fpdf2 is heavy (about 40 MB): loaded only to draw a PDF

    font = receipts.find_cjk_font(font_path)
    pdf = FPDF(format="A4")
    pdf.set_title(f"Statement {statement.year}")
    receipts.add_cjk_font(pdf, font)
    pdf.add_page()
    pdf.set_font("cjk", size=15)
    title = f"{statement.year} 年度捐赠汇总 Yearly giving statement"
    pdf.cell(0, 10, title, new_x="LMARGIN", new_y="NEXT", align="C")
    pdf.set_font("cjk", size=10)
    pdf.cell(0, 7, f"捐赠人 Donor: {donor_name}", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(2)
    pdf.set_font("cjk", size=8)
    for gift in statement.gifts:
        when = gift.succeeded_at.astimezone(CST) if gift.succeeded_at else None
        line = "  ".join(
            [
                when.strftime("%Y-%m-%d") if when else "—",
                gift.organization.name,
                CHANNEL_LABELS.get(gift.channel, gift.channel),
                gift.receipt_number or "—",
                format_fen(gift.net_fen, gift.currency),
            ]
        )
        pdf.multi_cell(0, 5, line, new_x="LMARGIN", new_y="NEXT")
    pdf.ln(3)
    pdf.set_font("cjk", size=11)
    total = format_fen(statement.cash_total_fen)
    pdf.cell(0, 7, f"合计 Total: {total}", new_x="LMARGIN", new_y="NEXT")
    if statement.in_kind_total_fen:
        goods = format_fen(statement.in_kind_total_fen)
        pdf.cell(0, 7, f"物资估值 Goods valued: {goods}", new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())
