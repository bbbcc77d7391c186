"""What the demo shows a visitor (issue 17 point 1, the leftovers): the fund's evidence file
has real content, 王小明 has a monthly gift with paid months, and one organization owes
disclosures both overdue and due soon (the regulator's dashboard has something to show)
without being barred from filing campaigns (180 days overdue would bar it)."""

from __future__ import annotations

import ast
from pathlib import Path

import sqlalchemy as sa

from charity import ROOT
from charity.core.clock import today_cst
from charity.demo import load_demo_data
from charity.models import Disbursement, Donation, Organization, RecurringGift, User
from charity.models.disclosure import Obligation
from charity.services import recurring


def test_the_demo_has_evidence_a_monthly_gift_and_obligations_to_chase(app, db_session, client):
    list(load_demo_data())
    list(load_demo_data())  # idempotent: nothing doubles

    # evidence: a PDF with pages of text, not a blank 193-byte page
    disbursement = db_session.scalars(sa.select(Disbursement)).first()
    sha = disbursement.evidence_sha256
    stored = next(Path(app.config["UPLOAD_DIR"]).rglob(sha))
    data = stored.read_bytes()
    assert data.startswith(b"%PDF") and len(data) > 5_000

    # a monthly gift with its months, shown on the donor's pages
    donor = db_session.scalar(sa.select(User).where(User.email == "donor@demo.charity"))
    [gift] = db_session.scalars(
        sa.select(RecurringGift).where(RecurringGift.donor_user_id == donor.id)
    ).all()
    assert gift.status == "active"
    months = db_session.scalars(
        sa.select(Donation).where(Donation.recurring_gift_id == gift.id)
    ).all()
    assert len(months) >= 1
    assert all(d.status == "succeeded" and d.receipt_number and d.log_index for d in months)
    page = client.get(f"/monthly/{gift.public_token}?lang=zh_Hans_CN").get_data(as_text=True)
    assert "¥50.00" in page and months[0].receipt_number in page

    # one organization owes disclosures overdue and due soon, none 180 days overdue
    today = today_cst()
    open_ = db_session.scalars(sa.select(Obligation).where(Obligation.fulfilled_on.is_(None))).all()
    by_org: dict[int, list[int]] = {}
    for obligation in open_:
        by_org.setdefault(obligation.organization_id, []).append((today - obligation.due_date).days)
    both = [
        org_id
        for org_id, late in by_org.items()
        if any(0 < d < 180 for d in late) and any(-14 <= d <= 0 for d in late)
    ]
    assert both, by_org
    assert all(d < 180 for late in by_org.values() for d in late)
    org = db_session.get(Organization, both[0])
    assert org.status == "verified" and org.province == "广东省"  # the demo regulator's


#: What a month takes from its monthly gift (recurring.month_donation).
FROM_THE_GIFT = (
    "organization_id", "campaign_id", "amount_fen", "currency", "channel", "donor_user_id",
    "donor_name", "donor_email", "is_anonymous", "consent_show_name", "message",
    "stripe_account_id", "receipt_waived", "donor_uscc", "invoice_title", "recurring_gift_id",
)  # fmt: skip


def test_the_demo_months_come_from_the_services_constructor(app, db_session):
    """The demo's paid months are built by recurring.month_donation, the constructor a
    paid Stripe invoice goes through: no hand-built Donation in charity/demo/monthly.py."""
    source = (ROOT / "charity" / "demo" / "monthly.py").read_text(encoding="utf-8")
    built = [
        node.lineno
        for node in ast.walk(ast.parse(source))
        if isinstance(node, ast.Call) and getattr(node.func, "id", "") == "Donation"
    ]
    assert built == []
    list(load_demo_data())
    donor = db_session.scalar(sa.select(User).where(User.email == "donor@demo.charity"))
    gift = db_session.scalar(
        sa.select(RecurringGift).where(RecurringGift.donor_user_id == donor.id)
    )
    months = db_session.scalars(sa.select(Donation).where(Donation.recurring_gift_id == gift.id))
    for month in months:
        expected = recurring.month_donation(gift, month.stripe_invoice_id)
        assert {f: getattr(month, f) for f in FROM_THE_GIFT} == {
            f: getattr(expected, f) for f in FROM_THE_GIFT
        }
        assert month.status == "succeeded" and month.succeeded_at is not None
