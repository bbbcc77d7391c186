"""Demo community fund for `make run`: a company-named fund in 广州市越秀区慈善会, started
with a ¥100,000 gift, spent on epidemic supplies (approved by a committee member, paid by
finance), and a demo donor's ¥200 gift that can be followed to where it went.

Idempotent: nothing is done when the fund exists. The gifts are recorded as the payment
path records them (receipt number, ledger, public log) without calling Stripe: the
company gave by bank transfer, and the demo donor's card gift is marked paid.
"""

from __future__ import annotations

from datetime import UTC, datetime

from flask import current_app
from sqlalchemy import select

from charity.auditlog.canonical import donor_commitment, new_salt
from charity.core.events import record_event
from charity.demo import ensure_user, make_approver
from charity.demo.orgs import demo_uscc
from charity.extensions import db
from charity.models import Donation, Fund, Organization, User
from charity.services import disbursements, funds, ledger, receipts, uploads
from charity.services.donations import donor_data, log_index_of
from charity.services.pools import Pool

HOST_USCC_PREFIX = "51440104MJ0000002"  # 广州市越秀区慈善会 in charity/demo/orgs.py
FUND_NAME = "广州市越秀区慈善会粤信科技社区慈善基金"
COMMITTEE_EMAIL = "yuexiu-committee@demo.charity"
#: A one-page PDF standing in for the supplier's invoice (content-checked like uploads).
EVIDENCE_PDF = (
    b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
    b"2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n"
    b"3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 595 842]>>endobj\n"
    b"trailer<</Root 1 0 R>>\n%%EOF\n"
)


#: The supplier's delivery note behind the demo disbursement: fictional supplier, items
#: that add up to the ¥100,100.00 disbursed, marked as demo data on the page itself.
EVIDENCE_SUPPLIER = "广州康禾医疗器械有限公司"
EVIDENCE_LINES = (
    ("一次性医用口罩（50 只/盒）", "1,000 盒", "60.00", "60,000.00"),
    ("含氯消毒液 500 mL", "800 瓶", "38.00", "30,400.00"),
    ("红外额温枪", "60 支", "160.00", "9,600.00"),
    ("市内配送（18 个社区卫生站）", "1 次", "100.00", "100.00"),
)


def evidence_pdf() -> bytes:
    """A one-page delivery note and invoice summary with real content (issue 17 point 1:
    the demo's evidence was a blank page), in Chinese with the receipts' CJK font; the blank
    stand-in only where no CJK font is installed."""
    from fpdf import FPDF  # fpdf2 is heavy (about 40 MB): loaded only to draw a PDF

    try:
        font = receipts.find_cjk_font(current_app.config.get("RECEIPT_FONT_PATH"))
    except receipts.ReceiptFontMissingError:
        return EVIDENCE_PDF
    pdf = FPDF(format="A4")
    pdf.set_title("送货单 YX-2026-0302-001（演示数据）")
    receipts.add_cjk_font(pdf, font)
    pdf.add_page()
    pdf.set_font("cjk", size=16)
    pdf.cell(0, 10, f"{EVIDENCE_SUPPLIER} 送货单", new_x="LMARGIN", new_y="NEXT", align="C")
    pdf.set_font("cjk", size=10)
    for line in (
        "单号：YX-2026-0302-001　　日期：2026 年 3 月 2 日",
        "收货单位：广州市越秀区北京街道社区卫生服务中心",
        f"付款单位：{FUND_NAME}",
    ):
        pdf.cell(0, 7, line, new_x="LMARGIN", new_y="NEXT")
    pdf.ln(3)
    widths = (80, 30, 30, 40)
    from fpdf.fonts import FontFace  # fpdf2 only to draw a PDF (as above)

    with pdf.table(
        col_widths=widths,
        text_align=("LEFT", "RIGHT", "RIGHT", "RIGHT"),
        headings_style=FontFace(emphasis="", fill_color=(235, 240, 245)),
    ) as table:
        for row in (("品名", "数量", "单价（元）", "金额（元）"), *EVIDENCE_LINES):
            cells = table.row()
            for text in row:
                cells.cell(text)
        total = table.row()
        for text in ("合计（大写：壹拾万零壹佰元整）", "", "", "100,100.00"):
            total.cell(text)
    pdf.ln(6)
    pdf.multi_cell(
        0,
        6,
        "收货人签收：18 个社区卫生站均已签收，签收记录由慈善会存档。\n"
        "本文件为演示数据：供货单位、单号和签名均为虚构，仅用于展示支出凭证如何公开。",
        new_x="LMARGIN",
        new_y="NEXT",
    )
    return bytes(pdf.output())


def _gift(
    host: Organization, fund: Fund, fen: int, who: tuple[str, str], when: datetime, **kw
) -> Donation:  # type: ignore[no-untyped-def]
    salt = new_salt()
    donation = Donation(
        organization=host,
        fund_id=fund.id,
        amount_fen=fen,
        status="succeeded",
        succeeded_at=when,
        donor_name=who[0],
        donor_email=who[1],
        commitment_salt=salt,
        donor_commitment=donor_commitment(salt, donor_data(*who)),
        **kw,
    )
    db.session.add(donation)
    db.session.flush()  # ids for the receipt, ledger and log
    receipts.assign_receipt_number(db.session, donation, when)
    # Booked when the money arrived, so the fund's chart and statement show it then.
    ledger.post_donation(db.session, donation, created_at=when)
    results = record_event(db.session, "donation.succeeded", subject_id=donation.id)
    donation.log_index = log_index_of(results)  # the receipt links its log entry
    return donation


def _users(host: Organization) -> dict[str, User]:
    by_role = {m.role: m.user for m in host.active_memberships}
    committee = make_approver(ensure_user(COMMITTEE_EMAIL, "苏明澈", "donor", None))
    return {"owner": by_role["owner"], "finance": by_role["finance"], "committee": committee}


def _create_fund(host: Organization, people: dict[str, User]) -> Fund:
    seats = (
        funds.Seat("苏明澈", "chair", user_email=COMMITTEE_EMAIL),
        funds.Seat("黄启舟", "member", user_email=people["owner"].email),
        funds.Seat("林晚舟", "member"),
        funds.Seat("梁安禾", "member"),
        funds.Seat("何知微", "supervisor"),
    )
    command = funds.NewFund(
        organization_id=host.id,
        name=FUND_NAME,
        sponsor_reason="由广州粤信科技有限公司捐赠 10 万元发起，按捐赠协议以企业名称冠名。",
        purpose_md="支持越秀区街道社区的**疫情防控**、应急物资储备和困难居民帮扶。",
        restriction="仅用于越秀区社区防疫与应急救助物资，不得用于管理费用。",
        service_area="广州市越秀区",
        committee=seats,
    )
    return funds.create_fund(db.session, people["owner"], command)


def _spend(fund: Fund, people: dict[str, User]) -> None:
    stored = uploads.store_file(current_app.config["UPLOAD_DIR"], evidence_pdf())
    request = disbursements.DisbursementRequest(
        pool=Pool("fund", fund.id),
        amount_fen=10_010_000,
        purpose_category="epidemic_supplies",
        purpose="医用口罩 5 万只、消毒液 800 瓶、测温枪 60 支，分发至越秀区 18 条街道社区卫生站",
        beneficiary_kind="organization",
        beneficiary_name="广州市越秀区北京街道社区卫生服务中心",
        evidence=stored,
    )
    made = disbursements.request_disbursement(db.session, people["finance"], request)
    disbursements.approve_disbursement(db.session, people["committee"], made.id)
    disbursements.execute_disbursement(db.session, people["owner"], made.id, "YX-2026-0302-001")


def load_funds() -> list[str]:
    host = db.session.scalar(
        select(Organization).where(Organization.uscc == demo_uscc(HOST_USCC_PREFIX))
    )
    if host is None:
        return []
    lines = [f"  committee  {COMMITTEE_EMAIL:<36} {FUND_NAME} (approves disbursements)"]
    if db.session.scalar(select(Fund.id).where(Fund.name == FUND_NAME)):
        return lines
    people = _users(host)
    fund = _create_fund(host, people)
    # Set up before its first gift (10 February), not on the day the demo is loaded.
    fund.created_at = datetime(2026, 2, 9, 2, tzinfo=UTC)
    for seat in fund.committee:  # seated then: old enough to approve (four eyes)
        seat.created_at = fund.created_at
    company = ("广州粤信科技有限公司", "csr@yuexin.example")
    _gift(host, fund, 10_000_000, company, datetime(2026, 2, 10, 2, tzinfo=UTC),
          channel="bank_transfer", is_anonymous=False, consent_show_name=True)  # fmt: skip
    donor = db.session.scalar(select(User).where(User.email == "donor@demo.charity"))
    _gift(host, fund, 20_000, ("王小明", "donor@demo.charity"),
          datetime(2026, 2, 20, 6, tzinfo=UTC), donor_user=donor)  # fmt: skip
    _spend(fund, people)
    return lines
