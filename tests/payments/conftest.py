"""Payments fixtures: a localstripe per test session (our wrapper, 127.0.0.1, free port),
the app pointed at it, and helpers that play the browser's and Stripe's parts.

The browser's part (Stripe.js ``confirmCardSetup``) is done here with the real Stripe SDK
against localstripe; events localstripe does not send are signed like Stripe signs them.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import json
import subprocess
import sys
import time
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
import stripe

from charity.extensions import db
from charity.models import Donation
from tests.factories import CampaignFactory

ROOT = Path(__file__).resolve().parents[2]
SECRET = "whsec_testing"


@contextlib.contextmanager
def running_localstripe() -> Iterator[str]:
    """Our wrapper on a free 127.0.0.1 port; yields its base URL."""
    process = subprocess.Popen(
        [sys.executable, str(ROOT / "scripts" / "localstripe_server.py"), "--port", "0", "--quiet"],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        line = process.stdout.readline() if process.stdout else ""
        if "listening on" not in line:
            raise RuntimeError(f"localstripe did not start: {line!r}")
        yield line.split()[-1]
    finally:
        process.terminate()
        process.wait(timeout=10)
        if process.stdout:
            process.stdout.close()


@pytest.fixture(scope="session")
def localstripe_url() -> Iterator[str]:
    with running_localstripe() as url:
        yield url


@pytest.fixture(scope="session")
def stripe_app(app, localstripe_url):  # type: ignore[no-untyped-def]
    app.config["STRIPE_API_BASE"] = localstripe_url
    app.config["STRIPE_WEBHOOK_SECRET"] = SECRET
    # A PDF costs ~0.5 s of CPU (CJK font subsetting): attached only where a test asks.
    app.config["RECEIPT_EMAIL_PDF"] = False
    return app


@pytest.fixture
def pdf_mail(stripe_app):  # type: ignore[no-untyped-def]
    stripe_app.config["RECEIPT_EMAIL_PDF"] = True
    yield
    stripe_app.config["RECEIPT_EMAIL_PDF"] = False


@pytest.fixture
def campaign(stripe_app, db_session):  # type: ignore[no-untyped-def]
    return CampaignFactory()


def browser_sets_up_card(account: str, client_secret: str, number: str) -> str:
    """The request localstripe's Stripe.js sends for ``confirmCardSetup``: JSON with the
    publishable key and the client secret, no secret key. Returns the SetupIntent id."""
    from flask import current_app

    del account  # Stripe.js sends it as a header on real Stripe; localstripe ignores it
    seti = client_secret.split("_secret_")[0]
    body = {
        "key": current_app.config["STRIPE_PUBLISHABLE_KEY"],
        "use_stripe_sdk": True,
        "client_secret": client_secret,
        "payment_method_data": {
            "type": "card",
            "card": {"number": number, "exp_month": 12, "exp_year": 2034, "cvc": "123"},
        },
    }
    request = urllib.request.Request(  # noqa: S310 - our own 127.0.0.1 localstripe
        f"{current_app.config['STRIPE_API_BASE']}/v1/setup_intents/{seti}/confirm",
        data=json.dumps(body).encode(),
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 - 127.0.0.1
        answer = json.loads(response.read())
    assert answer["status"] == "succeeded", answer
    return answer["id"]


def give(client, campaign, amount: str = "8800", **fields: Any) -> Donation:  # type: ignore[no-untyped-def]
    data = {
        "amount": amount,
        "custom_amount": fields.pop("custom_amount", ""),
        "donor_name": "王小明",
        "donor_email": "Donor@Example.org",
        "receipt_wanted": "y",
        "message": "加油！",
        **fields,
    }
    response = client.post(f"/campaigns/{campaign.id}/donate", data=data)
    assert response.status_code == 302, response.get_data(as_text=True)
    token = response.headers["Location"].rstrip("/").split("/")[-2]
    return db.session.scalars(sa.select(Donation).where(Donation.public_token == token)).one()


def pay(client, donation: Donation, number: str = "4242424242424242"):  # type: ignore[no-untyped-def]
    """Open the card page, set up the card as the browser would, post to our confirm."""
    page = client.get(f"/donations/{donation.public_token}/pay")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    client_secret = html.split('data-client-secret="')[1].split('"')[0]
    seti = browser_sets_up_card(donation.stripe_account_id, client_secret, number)
    return client.post(f"/donations/{donation.public_token}/confirm", data={"setup_intent": seti})


def sign(payload: str, secret: str = SECRET, timestamp: int | None = None) -> str:
    t = int(time.time()) if timestamp is None else timestamp
    digest = hmac.new(secret.encode(), f"{t}.{payload}".encode(), hashlib.sha256).hexdigest()
    return f"t={t},v1={digest}"


def event(type_: str, obj: dict, account: str | None = None, event_id: str | None = None) -> str:
    body = {
        "id": event_id or f"evt_{uuid.uuid4().hex[:24]}",
        "object": "event",
        "type": type_,
        "created": int(time.time()),
        "data": {"object": obj},
        "livemode": False,
        "api_version": "2024-06-20",
    }
    if account:
        body["account"] = account
    return json.dumps(body)


def post_event(client, payload: str, signature: str | None = "sign"):  # type: ignore[no-untyped-def]
    headers = {"Content-Type": "application/json"}
    if signature == "sign":
        headers["Stripe-Signature"] = sign(payload)
    elif signature is not None:
        headers["Stripe-Signature"] = signature
    return client.post("/stripe/webhook", data=payload, headers=headers)


def intent_object(donation: Donation) -> dict:
    """The PaymentIntent as Stripe has it now (what a real webhook would carry)."""
    obj = stripe.PaymentIntent.retrieve(
        donation.stripe_payment_intent_id, stripe_account=donation.stripe_account_id
    )
    return json.loads(json.dumps(obj.to_dict()))
