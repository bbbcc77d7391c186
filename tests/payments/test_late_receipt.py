"""CL 38: a donor who gave without a receipt asks for one later; finance issues it. The
log gains a ``donation.receipt_issued`` entry and every earlier entry still verifies."""

from __future__ import annotations

import json

import sqlalchemy as sa

from charity.auditlog import checkpoint, integrity
from charity.extensions import db
from charity.models import AuditEntry, Donation
from tests.support.payments import give, log_in_finance, pay, post_refund


def _issue(client, donation):  # type: ignore[no-untyped-def]
    url = f"/orgs/{donation.organization_id}/donations/{donation.id}/receipt"
    return client.post(url)


def _verifies(app) -> None:  # type: ignore[no-untyped-def]
    signer = checkpoint.signer_for(app)
    assert list(integrity.check_log(db.session, signer, app.config["AUDITLOG_ORIGIN"])) == []


def _entries(donation, event_type):  # type: ignore[no-untyped-def]
    """The donation's entries of a type, in log order (refund entries name the refund as
    their subject, so match on the payload's donation_id)."""
    rows = db.session.scalars(
        sa.select(AuditEntry).where(AuditEntry.event_type == event_type).order_by(AuditEntry.index)
    ).all()
    return [e for e in rows if json.loads(e.payload)["donation_id"] == donation.id]


def test_receipt_issued_on_request_after_a_partial_refund(
    stripe_app, client, campaign, mail_outbox
):  # type: ignore[no-untyped-def]
    numbered = give(client, campaign)  # someone else's gift takes number 1
    pay(client, numbered)
    waived = give(client, campaign, receipt_wanted="")
    pay(client, waived)
    db.session.refresh(waived)
    assert waived.receipt_waived and waived.receipt_number is None
    log_in_finance(client, campaign.organization)
    assert post_refund(client, waived, "8").status_code == 302  # before the receipt: no number
    assert len(_entries(waived, "donation.refunded")) == 1, "first refund logged"
    mail_outbox.clear()

    response = _issue(client, waived)

    assert response.status_code == 303
    db.session.refresh(waived)
    db.session.refresh(numbered)
    assert waived.receipt_number.endswith("-000002") and not waived.receipt_waived
    assert waived.receipt_seq == numbered.receipt_seq + 1
    assert waived.receipt_issued_late_at is not None
    [issued] = _entries(waived, "donation.receipt_issued")
    assert json.loads(issued.payload)["receipt_number"] == waived.receipt_number
    [succeeded] = _entries(waived, "donation.succeeded")
    assert json.loads(succeeded.payload)["receipt_number"] is None  # as it was logged
    [mail] = mail_outbox
    assert mail["To"] == "donor@example.org"
    listing = client.get(f"/orgs/{campaign.organization_id}/donations").get_data(as_text=True)
    assert waived.receipt_number in listing
    assert post_refund(client, waived, "10").status_code == 302  # after: the number is logged
    refunds = _entries(waived, "donation.refunded")
    assert [json.loads(e.payload)["receipt_number"] for e in refunds] == [
        None,
        waived.receipt_number,
    ]
    _verifies(stripe_app)  # every entry, old and new, rebuilds from the rows


def test_a_receipt_is_issued_once_and_never_for_an_unknown_donor(stripe_app, client, campaign):  # type: ignore[no-untyped-def]
    donation = give(client, campaign, receipt_wanted="")
    pay(client, donation)
    log_in_finance(client, campaign.organization)
    assert _issue(client, donation).status_code == 303
    db.session.refresh(donation)
    number = donation.receipt_number

    again = client.post(
        f"/orgs/{donation.organization_id}/donations/{donation.id}/receipt", follow_redirects=True
    )
    assert "already has a receipt" in again.get_data(as_text=True)
    db.session.refresh(donation)
    assert (
        donation.receipt_number == number
        and len(_entries(donation, "donation.receipt_issued")) == 1
    )

    nameless = give(client, campaign, receipt_wanted="")
    pay(client, nameless)
    db.session.execute(sa.update(Donation).where(Donation.id == nameless.id).values(donor_name=""))
    refused = client.post(
        f"/orgs/{nameless.organization_id}/donations/{nameless.id}/receipt", follow_redirects=True
    )
    assert "no donor name" in refused.get_data(as_text=True)
    db.session.refresh(nameless)
    assert nameless.receipt_number is None and nameless.receipt_waived
    assert _entries(nameless, "donation.receipt_issued") == []
    _verifies(stripe_app)


def test_receipt_for_another_organizations_gift_is_404(stripe_app, client, campaign):  # type: ignore[no-untyped-def]
    from tests.support.factories import OrganizationFactory

    donation = give(client, campaign, receipt_wanted="")
    pay(client, donation)
    other = OrganizationFactory()
    log_in_finance(client, other)
    url = f"/orgs/{other.id}/donations/{donation.id}/receipt"
    assert client.post(url).status_code == 404
    db.session.refresh(donation)
    assert donation.receipt_number is None
