"""Erasure: the donor's name, email and salt are gone from every private table; receipts
keep number, amount, date and organization; `flask audit verify` and `flask ledger check`
still pass."""

from __future__ import annotations

import sqlalchemy as sa

from charity.extensions import db
from charity.models import AuditEntry, Donation, User, utcnow
from tests.support.factories import PASSWORD, UserFactory


def _tables_mentioning(*needles: str) -> list[str]:
    found = []
    for table in db.metadata.sorted_tables:
        for column in table.columns:
            if not isinstance(column.type, sa.String | sa.Text):
                continue
            for needle in needles:
                hit = db.session.execute(
                    sa.select(sa.func.count())
                    .select_from(table)
                    .where(sa.func.lower(column).contains(needle.lower()))
                ).scalar()
                if hit:
                    found.append(f"{table.name}.{column.name} ({needle})")
    return found


def test_erasure_removes_the_donor_everywhere_and_books_still_verify(
    app, client, login, gifts, mail_outbox
):
    campaign, made = gifts
    donor = UserFactory(name="陈捐赠", email="guest@example.org", email_verified_at=utcnow())
    db.session.commit()
    login(donor)
    client.post("/account/gifts/consent", data={"show_name": "y"})
    receipts = {g.id: (g.receipt_number, g.amount_fen, g.succeeded_at) for g in made[:3]}
    assert _tables_mentioning("陈捐赠", "guest@example.org")  # the test can see it

    wrong = client.post("/account/erase", data={"password": "wrong", "delete_account": "y"})
    assert wrong.status_code == 400
    response = client.post("/account/erase", data={"password": PASSWORD, "delete_account": "y"})

    assert response.status_code == 303
    assert _tables_mentioning("陈捐赠", "guest@example.org", "Guest@Example.org") == []
    for gift_id, (number, amount, when) in receipts.items():
        gift = db.session.get(Donation, gift_id)
        assert (gift.receipt_number, gift.amount_fen, gift.succeeded_at) == (number, amount, when)
        assert gift.organization_id == campaign.organization_id
        assert gift.commitment_salt is None and gift.donor_commitment  # kept for the log
        assert gift.donor_name is None and gift.donor_email is None
    other = db.session.get(Donation, made[3].id)
    assert other.donor_email == "other@example.org"  # someone else's gift untouched
    erased_entries = db.session.scalar(
        sa.select(sa.func.count())
        .select_from(AuditEntry)
        .where(AuditEntry.event_type == "personal_data.erased")
    )
    assert erased_entries == 3
    assert db.session.get(User, donor.id).is_active_account is False
    runner = app.test_cli_runner()
    verify = runner.invoke(args=["audit", "verify"])
    assert verify.exit_code == 0, verify.output
    check = runner.invoke(args=["ledger", "check"])
    assert check.exit_code == 0, check.output
    assert "陈捐赠" not in client.get(f"/campaigns/{campaign.id}").get_data(as_text=True)


def test_an_unverified_email_erases_nothing_it_does_not_own(client, login, gifts):
    _campaign, made = gifts
    squatter = UserFactory(email="guest@example.org", email_verified_at=None)  # never verified
    db.session.commit()
    login(squatter)

    response = client.post("/account/erase", data={"password": PASSWORD})

    assert response.status_code == 303
    db.session.refresh(made[0])
    assert made[0].donor_email == "guest@example.org" and made[0].commitment_salt
