"""Gifts fixtures: the payments area's localstripe and app, plus monthly-gift helpers."""

from __future__ import annotations

import contextlib
import io
import json
from datetime import date

import pytest
import sqlalchemy as sa
import stripe
from fpdf import FPDF
from PIL import Image

from charity.core import uow
from charity.extensions import db
from charity.models import RecurringGift
from charity.services import offline
from tests.payments.conftest import (  # noqa: F401 - fixtures shared with payments
    browser_sets_up_card,
    campaign,
    localstripe_url,
    stripe_app,
)
from tests.support.factories import CampaignFactory, MembershipFactory


def give_monthly(client, target, amount: str = "5000", **fields):  # type: ignore[no-untyped-def]
    data = {
        "amount": amount,
        "custom_amount": "",
        "frequency": "monthly",
        "donor_name": "李月捐",
        "donor_email": "Monthly@Example.org",
        "receipt_wanted": "y",
        "message": "",
        **fields,
    }
    response = client.post(f"/campaigns/{target.id}/donate", data=data)
    assert response.status_code == 302, response.get_data(as_text=True)
    token = response.headers["Location"].rstrip("/").split("/")[-2]
    return db.session.scalars(
        sa.select(RecurringGift).where(RecurringGift.public_token == token)
    ).one()


def set_up_card(client, gift, number: str = "4242424242424242"):  # type: ignore[no-untyped-def]
    page = client.get(f"/monthly/{gift.public_token}/pay")
    assert page.status_code == 200
    secret = page.get_data(as_text=True).split('data-client-secret="')[1].split('"')[0]
    seti = browser_sets_up_card(gift.stripe_account_id, secret, number)
    return client.post(f"/monthly/{gift.public_token}/confirm", data={"setup_intent": seti})


def renewal_invoice(gift, card: str | None = None) -> dict:
    """Stripe's next monthly invoice for the gift, charged now (localstripe cannot advance
    time): created and paid through the SDK; returns the invoice as a webhook carries it."""
    account = gift.stripe_account_id
    if card is not None:
        method = stripe.PaymentMethod.create(
            type="card",
            card={"number": card, "exp_month": 12, "exp_year": 2034, "cvc": "123"},
            stripe_account=account,
        )
        stripe.PaymentMethod.attach(
            method.id, customer=gift.stripe_customer_id, stripe_account=account
        )
        stripe.Customer.modify(
            gift.stripe_customer_id,
            invoice_settings={"default_payment_method": method.id},
            stripe_account=account,
        )
    invoice = stripe.Invoice.create(
        customer=gift.stripe_customer_id,
        subscription=gift.stripe_subscription_id,
        stripe_account=account,
    )
    with contextlib.suppress(stripe.CardError):  # a declined renewal: the invoice stays open
        stripe.Invoice.pay(invoice.id, stripe_account=account)
    return invoice_object(gift, invoice.id)


def invoice_object(gift, invoice_id: str) -> dict:  # type: ignore[no-untyped-def]
    obj = stripe.Invoice.retrieve(invoice_id, stripe_account=gift.stripe_account_id)
    return json.loads(json.dumps(obj.to_dict()))


def real_pdf() -> bytes:
    pdf = FPDF()
    pdf.add_page()
    pdf.set_font("helvetica", size=12)
    pdf.cell(text="Bank slip 2026-11-20")
    return bytes(pdf.output())


def real_png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (20, 10), "white").save(out, format="PNG")
    return out.getvalue()


@pytest.fixture
def setting(app, db_session, login, tmp_path, monkeypatch):  # type: ignore[no-untyped-def]
    monkeypatch.setitem(app.config, "UPLOAD_DIR", str(tmp_path / "uploads"))
    monkeypatch.setitem(app.config, "RECEIPT_EMAIL_PDF", False)  # receipt mails: link only
    target = CampaignFactory()
    member = MembershipFactory(organization=target.organization, role="finance")
    db.session.commit()  # a refused form rolls its request back, not the setting
    login(member.user)
    return target


def post_offline(client, target, evidence: bytes, name: str = "slip.pdf", **fields):  # type: ignore[no-untyped-def]
    data = {
        "kind": "bank_transfer",
        "campaign_id": str(target.id),
        "amount": "1234.50",
        "received_on": "2026-11-20",
        "payer_name": "深圳某某科技有限公司",
        "bank_reference": "CMB20261120-0042",
        "donor_email": "finance@payer.example",
        "receipt_wanted": "y",
        "evidence": (io.BytesIO(evidence), name),
        **fields,
    }
    return client.post(
        f"/orgs/{target.organization_id}/offline-gifts/new",
        data=data,
        content_type="multipart/form-data",
    )


@pytest.fixture
def gifts(app, db_session, tmp_path, monkeypatch):  # type: ignore[no-untyped-def]
    """Three guest gifts under guest@example.org, one under someone else's email (their
    receipt mails go out at the commit, without PDF)."""
    monkeypatch.setitem(app.config, "RECEIPT_EMAIL_PDF", False)
    target = CampaignFactory()
    finance = MembershipFactory(organization=target.organization, role="finance").user
    made = []
    for amount, email, payer in (
        (10000, "Guest@Example.org", "陈捐赠"),
        (25050, "guest@example.org", "陈捐赠"),
        (5000, "guest@example.org", "陈捐赠"),
        (7700, "other@example.org", "别人"),
    ):
        command = offline.NewOfflineGift(
            organization_id=target.organization_id,
            campaign_id=target.id,
            kind="bank_transfer",
            amount_fen=amount,
            received_on=date.today(),
            evidence=real_pdf(),
            payer_name=payer,
            bank_reference=f"REF-{amount}",
            donor_email=email,
            receipt_wanted=True,
        )
        made.append(offline.record_offline_gift(db.session, finance, command, str(tmp_path)))
    uow.commit()
    return target, made
