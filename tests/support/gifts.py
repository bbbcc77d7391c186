"""Gifts helpers shared by several test packages: monthly gifts set up through localstripe,
renewal invoices, offline gifts posted with real evidence files.
"""

from __future__ import annotations

import contextlib
import io
import json

import stripe
from fpdf import FPDF
from PIL import Image

from charity.models import RecurringGift
from tests.support.payments import browser_sets_up_card, post_giving_form


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
    return post_giving_form(client, target, data, RecurringGift)


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
