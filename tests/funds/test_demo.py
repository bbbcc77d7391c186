"""The demo fund: open it, see its chart and disbursement, follow the demo donor's gift."""

from __future__ import annotations

import sqlalchemy as sa

from charity.demo import load_users
from charity.demo.funds import FUND_NAME, load_funds
from charity.demo.orgs import load_organizations
from charity.extensions import db
from charity.models import Disbursement, Donation, Fund
from charity.services.allocation import check_allocations, gift_trace
from charity.services.ledger import check_books
from charity.services.pools import Pool, pool_balance


def _load() -> list[str]:
    load_users()
    load_organizations()
    return load_funds()


def test_demo_fund_can_be_followed(client):
    lines = _load()
    db.session.commit()
    assert any("yuexiu-committee@demo.charity" in line for line in lines)
    fund = db.session.scalars(sa.select(Fund).where(Fund.name == FUND_NAME)).one()
    assert fund.organization.stripe_account_id == "acct_demo_yuexiu" and fund.sponsor_reason
    roles = [m.role for m in fund.active_committee]
    assert len(roles) == 5 and "supervisor" in roles
    (spent,) = db.session.scalars(sa.select(Disbursement)).all()
    assert spent.status == "executed" and spent.purpose_category == "epidemic_supplies"
    assert spent.approved_by_id != spent.requested_by_id
    assert pool_balance(db.session, Pool("fund", fund.id)) == 10_000

    mine = db.session.scalars(
        sa.select(Donation).where(Donation.donor_email == "donor@demo.charity")
    ).one()
    trace = gift_trace(db.session, mine)
    assert [(line.amount_fen, line.disbursement) for line in trace.lines] == [(10_000, spent)]
    assert trace.unspent_fen == 10_000
    receipt = client.get(f"/donations/{mine.public_token}").get_data(as_text=True)
    assert "¥100.00 →" in receipt and "口罩" in receipt

    page = client.get(f"/funds/{fund.id}").get_data(as_text=True)
    assert "<svg" in page and "¥100,100.00" in page and f"/disbursements/{spent.id}" in page
    assert check_allocations(db.session) == []
    problems, _notes = check_books(db.session)
    assert [p for p in problems if "log entries" not in p] == []

    before = db.session.scalar(sa.select(sa.func.count()).select_from(Donation))
    _load()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Donation)) == before
