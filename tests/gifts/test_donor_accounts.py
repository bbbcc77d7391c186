"""Donor accounts: claiming guest gifts by a mailed signed link, history, receipts, the
yearly statement PDF (read back with pdftotext) and the name consent."""

from __future__ import annotations

import re
import subprocess

import sqlalchemy as sa

from charity.core.clock import CST
from charity.extensions import db
from charity.models import Donation
from tests.support.factories import UserFactory


def _link(mail) -> str:  # type: ignore[no-untyped-def]
    body = mail.get_body(("plain",)).get_content()
    return re.search(r"http://[^\s]+/account/gifts/claim/\S+", body).group(0)


def test_claim_by_mailed_link_then_history_statement_and_consent(client, login, gifts, mail_outbox):
    campaign, made = gifts
    donor = UserFactory(name="陈捐赠")
    db.session.commit()
    login(donor)

    response = client.post("/account/gifts/claim", data={"email": "GUEST@example.org"})

    assert response.status_code == 303
    [mail] = mail_outbox
    assert mail["To"] == "guest@example.org"
    assert (
        db.session.scalar(
            sa.select(sa.func.count())
            .select_from(Donation)
            .where(Donation.donor_user_id == donor.id)
        )
        == 0
    )  # nothing before the link is opened
    assert client.get(_link(mail).replace("http://localhost", "")).status_code == 303
    mine = db.session.scalars(
        sa.select(Donation).where(Donation.donor_user_id == donor.id).order_by(Donation.id)
    ).all()
    assert [d.amount_fen for d in mine] == [10000, 25050, 5000]

    page = client.get("/account/gifts").get_data(as_text=True)
    for gift in made[:3]:
        assert gift.receipt_number in page
    assert made[3].receipt_number not in page
    # The statement's year is the China-time year of the gifts (issue 19: date.today() gave
    # the machine's year, another one between 16:00 and 24:00 UTC on 31 December).
    year = made[0].succeeded_at.astimezone(CST).year
    assert f"/account/gifts/statement-{year}.pdf" in page
    receipt = client.get(f"/donations/{made[0].public_token}/receipt.pdf")
    assert receipt.status_code == 200 and receipt.data.startswith(b"%PDF")

    statement = client.get(f"/account/gifts/statement-{year}.pdf")
    assert statement.status_code == 200 and statement.mimetype == "application/pdf"
    text = subprocess.run(
        ["pdftotext", "-enc", "UTF-8", "-", "-"],
        input=statement.data,
        capture_output=True,
        check=True,
    ).stdout.decode()
    for gift in made[:3]:
        assert gift.receipt_number in text
    assert made[3].receipt_number not in text
    assert "¥400.50" in text and str(year) in text and "陈捐赠" in text

    named = '<span class="donor-name">陈捐赠</span>'

    def wall() -> str:
        return client.get(f"/campaigns/{campaign.id}").get_data(as_text=True)

    assert named not in wall()
    assert client.post("/account/gifts/consent", data={"show_name": "y"}).status_code == 303
    assert wall().count(named) == 3
    assert client.post("/account/gifts/consent", data={}).status_code == 303
    assert named not in wall()


def test_claim_link_is_bound_to_the_account_that_asked(client, login, gifts, mail_outbox):
    asker, thief = UserFactory(), UserFactory()
    db.session.commit()
    login(asker)
    client.post("/account/gifts/claim", data={"email": "guest@example.org"})
    path = _link(mail_outbox[0]).replace("http://localhost", "")

    login(thief)
    assert client.get(path).status_code == 400
    assert client.get(path[:-3] + "abc").status_code == 400
    assert (
        db.session.scalar(
            sa.select(sa.func.count())
            .select_from(Donation)
            .where(Donation.donor_user_id.is_not(None))
        )
        == 0
    )
    login(None)
    assert client.get(path).status_code in (302, 401)
