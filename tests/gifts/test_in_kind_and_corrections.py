"""In-kind gifts count apart from cash; wrong offline records are reversed, never edited."""

from __future__ import annotations

import sqlalchemy as sa

from charity.extensions import db
from charity.models import (
    AuditEntry,
    Donation,
    DonationReversal,
    LedgerAccount,
    LedgerEntry,
    LedgerTransaction,
)
from charity.services import ledger
from charity.services.campaign_stats import campaign_stats
from tests.support.gifts import post_offline as _post
from tests.support.gifts import real_pdf


def _in_kind(client, campaign, **fields):  # type: ignore[no-untyped-def]
    data = {
        "campaign_id": str(campaign.id),
        "description": "冬季棉被",
        "quantity": "200",
        "unit": "床",
        "valuation": "30000",
        "valuation_basis": "供货发票单价 150 元",
        "received_on": "2026-11-18",
        "donor_name": "某某超市",
        **fields,
    }
    return client.post(f"/orgs/{campaign.organization_id}/in-kind-gifts/new", data=data)


def _cash_balance(org_id: int) -> int:
    return db.session.scalar(
        sa.select(sa.func.coalesce(sa.func.sum(LedgerEntry.amount_fen), 0))
        .join(LedgerAccount, LedgerEntry.account_id == LedgerAccount.id)
        .where(
            LedgerAccount.organization_id == org_id,
            LedgerAccount.kind.in_(("clearing", "restricted", "unrestricted", "refunds")),
            LedgerEntry.amount_fen > 0,
        )
    )


def test_in_kind_gift_counts_apart_from_cash(client, setting):
    campaign = setting
    assert _post(client, campaign, real_pdf()).status_code == 303  # ¥1,234.50 in cash

    response = _in_kind(client, campaign)

    assert response.status_code == 303, response.get_data(as_text=True)
    goods = db.session.scalars(sa.select(Donation).where(Donation.channel == "in_kind")).one()
    assert goods.status == "succeeded" and goods.amount_fen == 3_000_000
    assert ledger.campaign_raised_fen(db.session, campaign.id) == 123450
    assert ledger.campaign_in_kind_fen(db.session, campaign.id) == 3_000_000
    assert campaign_stats(db.session, [campaign.id])[campaign.id].raised_fen == 123450
    assert _cash_balance(campaign.organization_id) == 123450  # goods never in cash accounts
    assert ledger.check_books(db.session)[0] == []
    entry = db.session.scalar(
        sa.select(AuditEntry).where(
            AuditEntry.event_type == "donation.succeeded", AuditEntry.subject_id == goods.id
        )
    )
    assert '"channel":"in_kind"' in entry.payload and "某某超市" not in entry.payload
    page = client.get(f"/campaigns/{campaign.id}").get_data(as_text=True)
    assert "valued at ¥30,000.00" in page and "in kind" in page
    assert "¥1,234.50" in page


def test_in_kind_without_basis_or_quantity_is_refused(client, setting):
    campaign = setting
    assert _in_kind(client, campaign, valuation_basis="").status_code == 422
    assert _in_kind(client, campaign, quantity="0").status_code == 422
    assert _in_kind(client, campaign, quantity="many").status_code == 422
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Donation)) == 0


def test_wrong_offline_gift_is_reversed_by_a_logged_transaction(client, setting):
    campaign = setting
    assert _post(client, campaign, real_pdf()).status_code == 303
    assert _post(client, campaign, real_pdf(), bank_reference="CMB-2").status_code == 303
    first, second = db.session.scalars(sa.select(Donation).order_by(Donation.id)).all()
    url = f"/orgs/{campaign.organization_id}/gifts/{second.id}/reverse"

    assert client.post(url, data={"reason": ""}).status_code == 422
    response = client.post(url, data={"reason": "同一笔转账被重复登记"})

    assert response.status_code == 303
    db.session.refresh(second)
    assert second.status == "reversed" and second.amount_fen == 123450  # kept, not edited
    reversal = db.session.scalars(sa.select(DonationReversal)).one()
    assert reversal.reason == "同一笔转账被重复登记"
    kinds = db.session.scalars(
        sa.select(LedgerTransaction.kind).where(LedgerTransaction.donation_id == second.id)
    ).all()
    assert sorted(kinds) == ["donation", "reversal"]
    assert ledger.campaign_raised_fen(db.session, campaign.id) == 123450
    assert campaign_stats(db.session, [campaign.id])[campaign.id].raised_fen == 123450
    assert ledger.check_books(db.session)[0] == []
    logged = db.session.scalar(
        sa.select(AuditEntry).where(
            AuditEntry.event_type == "donation.reversed", AuditEntry.subject_id == reversal.id
        )
    )
    assert logged is not None and f'"donation_id":{second.id}' in logged.payload
    # Twice is refused; an online gift is not corrected here.
    assert client.post(url, data={"reason": "again"}).status_code == 422
    assert db.session.scalar(sa.select(sa.func.count()).select_from(DonationReversal)) == 1
    assert first.status == "succeeded"
    assert _post(client, campaign, real_pdf(), bank_reference="CMB-3").status_code == 303
    assert _in_kind(client, campaign).status_code == 303
    runner = client.application.test_cli_runner()
    for command in (["audit", "verify"], ["ledger", "check"]):
        result = runner.invoke(args=command)
        assert result.exit_code == 0, result.output


def test_reversed_in_kind_gift_leaves_the_in_kind_total(client, setting):
    campaign = setting
    assert _in_kind(client, campaign).status_code == 303
    goods = db.session.scalars(sa.select(Donation)).one()
    url = f"/orgs/{campaign.organization_id}/gifts/{goods.id}/reverse"
    assert client.post(url, data={"reason": "估值单位录错"}).status_code == 303
    assert ledger.campaign_in_kind_fen(db.session, campaign.id) == 0
    assert ledger.check_books(db.session)[0] == []


def test_ledger_check_notices_a_reversal_without_its_transaction(client, setting):
    campaign = setting
    assert _post(client, campaign, real_pdf()).status_code == 303
    gift = db.session.scalars(sa.select(Donation)).one()
    gift.status = "reversed"  # tampering: no reversal recorded
    db.session.flush()
    problems = ledger.check_books(db.session)[0]
    assert any("reversal" in p for p in problems)
