"""The ledger: balanced postings, raised totals, and `flask ledger check`."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from charity.extensions import db
from charity.models import LedgerEntry
from charity.services import ledger
from tests.support.factories import CampaignFactory
from tests.support.payments import give, pay


def test_unbalanced_transaction_is_refused(client, campaign):
    account = ledger.get_account(db.session, "clearing", campaign.organization_id, "CNY", None)
    other = ledger.get_account(
        db.session, "restricted", campaign.organization_id, "CNY", campaign.id
    )
    with pytest.raises(ledger.UnbalancedTransactionError):
        ledger.post_transaction(
            db.session,
            kind="donation",
            source_key="donation:x",
            postings=[ledger.Posting(account, 100), ledger.Posting(other, -99)],
        )


def test_every_transaction_balances_and_equals_raised(client, campaign):
    for amount in ("2000", "5000", "8800"):
        pay(client, give(client, campaign, amount=amount))
    sums = db.session.execute(
        sa.select(LedgerEntry.transaction_id, sa.func.sum(LedgerEntry.amount_fen)).group_by(
            LedgerEntry.transaction_id
        )
    ).all()
    assert len(sums) == 3 and all(total == 0 for _, total in sums)
    assert ledger.campaign_raised_fen(db.session, campaign.id) == 15800
    problems, _notes = ledger.check_books(db.session)
    assert problems == []


def test_flask_ledger_check_passes_then_fails_after_hand_edit(stripe_app, committed_db):
    campaign = CampaignFactory()
    committed_db.commit()
    with stripe_app.app_context(), stripe_app.test_client() as client:
        donation = give(client, campaign)
        pay(client, donation)
        donation_id = donation.id
    runner = stripe_app.test_cli_runner()
    db.session.remove()  # the command reads the database afresh, as in its own process

    passed = runner.invoke(args=["ledger", "check"])
    assert passed.exit_code == 0, passed.output
    assert "OK" in passed.output

    with db.engine.begin() as connection:
        connection.execute(
            sa.text("UPDATE donations SET amount_fen = amount_fen + 100 WHERE id = :id"),
            {"id": donation_id},
        )
    db.session.remove()
    failed = runner.invoke(args=["ledger", "check"])
    assert failed.exit_code == 1
    assert f"donation {donation_id}" in failed.output
    assert f"campaign {campaign.id}" in failed.output


def test_ledger_check_counts_log_entries_per_gift(client, campaign):
    """Each succeeded gift needs exactly one donation.succeeded entry in the public log."""
    donation = give(client, campaign)
    pay(client, donation)
    session = db.session
    if "auditlog_entries" in sa.inspect(session.get_bind()).get_table_names():
        assert ledger.check_books(session)[0] == []  # the real log recorded it
        return
    # Without the audit log on this branch: a table shaped like it, filled by hand.
    session.execute(
        sa.text(
            "CREATE TABLE auditlog_entries (idx INTEGER PRIMARY KEY, payload TEXT, "
            "event_type VARCHAR(64), subject_table VARCHAR(64), subject_id BIGINT)"
        )
    )
    problems, notes = ledger.check_books(session)
    assert problems == [f"donations {donation.id}: 0 donation.succeeded log entries"]
    assert notes == []
    session.execute(
        sa.text(
            "INSERT INTO auditlog_entries VALUES (0, '{}', 'donation.succeeded', 'donations', :id)"
        ),
        {"id": donation.id},
    )
    assert ledger.check_books(session)[0] == []
