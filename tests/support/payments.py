"""Payments helpers shared by several test packages: a localstripe per session and the app
pointed at it (fixtures registered for the whole suite by ``pytest_plugins`` in
tests/conftest.py), giving through localstripe and the WeChat Pay / Alipay simulators, and
Stripe events signed like Stripe signs them.

The browser's part (Stripe.js ``confirmCardSetup``) is played here with the real Stripe SDK
against localstripe.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import json
import subprocess
import sys
import time
import urllib.parse
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
from charity.services import donations
from tests.support.factories import CampaignFactory, MembershipFactory, UserFactory, log_in

ROOT = Path(__file__).resolve().parents[2]
SECRET = "whsec_testing"


@contextlib.contextmanager
def running_script(script: str, label: str) -> Iterator[str]:
    """scripts/<script> on a free 127.0.0.1 port (it prints "listening on <url>"); yields
    its base URL and stops it afterwards."""
    process = subprocess.Popen(
        [sys.executable, str(ROOT / "scripts" / script), "--port", "0", "--quiet"],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        line = process.stdout.readline() if process.stdout else ""
        if "listening on" not in line:
            raise RuntimeError(f"{label} did not start: {line!r}")
        yield line.split()[-1]
    finally:
        process.terminate()
        process.wait(timeout=10)
        if process.stdout:
            process.stdout.close()


@contextlib.contextmanager
def running_localstripe() -> Iterator[str]:
    """Our wrapper on a free 127.0.0.1 port; yields its base URL."""
    with running_script("localstripe_server.py", "localstripe") as url:
        yield url


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
    return post_giving_form(client, campaign, data, Donation)


def post_giving_form(client, campaign, data: dict, model):  # type: ignore[no-untyped-def]
    """Post the campaign's giving form; the row of ``model`` (a Donation, or a
    RecurringGift for a monthly gift) its redirect names by public token."""
    response = client.post(f"/campaigns/{campaign.id}/donate", data=data)
    assert response.status_code == 302, response.get_data(as_text=True)
    token = response.headers["Location"].rstrip("/").split("/")[-2]
    return db.session.scalars(sa.select(model).where(model.public_token == token)).one()


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


# --- WeChat Pay and Alipay: the simulators (scripts/), started once per test session ---


@contextlib.contextmanager
def running_simulator(name: str) -> Iterator[str]:
    """scripts/<name>_simulator.py on a free 127.0.0.1 port; yields its base URL."""
    with running_script(f"{name}_simulator.py", f"{name} simulator") as url:
        yield url


def sim_call(base: str, path: str, data: Any = None) -> Any:
    """The simulators' control API (JSON)."""
    body = None if data is None else json.dumps(data).encode()
    request = urllib.request.Request(  # noqa: S310 - our own 127.0.0.1 simulator
        base + path, data=body, headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
        return json.loads(response.read())


def form_values(provider: str, credentials: dict) -> dict[str, str]:
    """The credentials form's fields as an owner would fill them in."""
    if provider == "alipay":
        return {
            "app_id": credentials["app_id"],
            "app_private_key": credentials["app_private_key"],
            "alipay_public_key": credentials["alipay_public_key"],
        }
    public_key = credentials["mode"] == "public_key"
    return {
        "mchid": credentials["mchid"],
        "appid": credentials["appid"],
        "cert_serial_no": credentials["cert_serial_no"],
        "private_key": credentials["private_key"],
        "apiv3_key": credentials["apiv3_key"],
        "platform_public_key_id": credentials["platform_public_key_id"] if public_key else "",
        "platform_public_key": credentials["platform_public_key"] if public_key else "",
    }


def connect(organization, provider: str, credentials: dict):  # type: ignore[no-untyped-def]
    """Save the organization's merchant account through the service, as its owner."""
    from charity.models import Membership
    from charity.services import merchant_accounts, payout_changes
    from tests.support.factories import UserFactory

    owner = UserFactory()
    db.session.add(Membership(user=owner, organization=organization, role="owner"))
    db.session.flush()
    command = merchant_accounts.SaveCredentials(
        organization.id, provider, form_values(provider, credentials)
    )
    # The owner's request waits PAYOUT_CHANGE_DELAY_HOURS, then is applied (issue 15 #12).
    change = payout_changes.request_wallet_change(db.session, owner, command)
    payout_changes.apply_due_changes(db.session, now=change.effective_at)
    return merchant_accounts.account_for(db.session, organization.id, provider)


DESKTOP = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 Chrome/130.0 Safari/537.36"
PHONE = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 Mobile/15E148"


def give_with(client, campaign, method: str, agent: str = DESKTOP, amount: str = "8800", **fields):  # type: ignore[no-untyped-def]
    """Fill the donate form choosing ``method``; returns (donation, response)."""
    data = {
        "amount": amount,
        "custom_amount": fields.pop("custom_amount", ""),
        "donor_name": "王小明",
        "donor_email": "donor@example.org",
        "receipt_wanted": "y",
        "method": method,
        **fields,
    }
    response = client.post(
        f"/campaigns/{campaign.id}/donate", data=data, headers={"User-Agent": agent}
    )
    assert response.status_code in (302, 303), response.get_data(as_text=True)[:2000]
    donation = db.session.scalars(sa.select(Donation).order_by(Donation.id.desc())).first()
    return donation, response


def held(base: str, order_no: str, kind: str | None = None) -> list[dict]:
    """The simulator's notifications about ``order_no`` (signed, not delivered)."""
    found = sim_call(base, "/_sim/notifications")["notifications"]
    return [n for n in found if n["order"] == order_no and (kind is None or n["kind"] == kind)]


def deliver(client, notification: dict):  # type: ignore[no-untyped-def]
    """POST a signed notification to our endpoint, exactly as the provider would."""
    path = urllib.parse.urlsplit(notification["url"]).path
    headers = {k: v for k, v in notification["headers"].items() if k.lower() != "content-length"}
    return client.post(path, data=notification["body"].encode(), headers=headers)


def paid_donations(campaign, app, count: int) -> list[Donation]:  # type: ignore[no-untyped-def]
    """``count`` donations whose PaymentIntents are confirmed at localstripe (not yet here)."""
    made = []
    for n in range(count):
        command = donations.NewDonation(
            campaign_id=campaign.id,
            amount_fen=100 + n,
            donor_name=f"捐赠人{n}",
            donor_email=f"d{n}@example.org",
            is_anonymous=n % 3 == 0,
            consent_show_name=False,
            message="",
            receipt_wanted=True,
            max_amount_fen=app.config["DONATION_MAX_FEN"],
        )
        donation = donations.create_donation(db.session, None, command)
        db.session.commit()
        donations.ensure_payment_intent(db.session, donation.id)
        db.session.commit()
        method = stripe.PaymentMethod.create(
            type="card",
            card={"number": "4242424242424242", "exp_month": 12, "exp_year": 2034, "cvc": "123"},
        ).to_dict()["id"]
        stripe.PaymentIntent.modify(donation.stripe_payment_intent_id, payment_method=method)
        stripe.PaymentIntent.confirm(donation.stripe_payment_intent_id)
        made.append(donation)
    return made


def log_in_finance(client, organization, role="finance"):  # type: ignore[no-untyped-def]
    member = MembershipFactory(organization=organization, role=role, user=UserFactory())
    log_in(client, member.user)  # the login form (an owner or finance member with 2FA)
    return member.user


def post_refund(client, donation, amount: str, reason: str = "捐赠人要求退款"):  # type: ignore[no-untyped-def]
    url = f"/orgs/{donation.organization_id}/donations/{donation.id}/refund"
    return client.post(url, data={"amount": amount, "reason": reason})


def confirm_at_stripe(client, campaign):  # type: ignore[no-untyped-def]
    """A donation whose PaymentIntent succeeded at Stripe, not yet seen by our server."""
    donation = give(client, campaign)
    method = stripe.PaymentMethod.create(
        type="card",
        card={"number": "4242424242424242", "exp_month": 12, "exp_year": 2034, "cvc": "123"},
        stripe_account=donation.stripe_account_id,
    )
    stripe.PaymentIntent.modify(
        donation.stripe_payment_intent_id,
        payment_method=method.to_dict()["id"],
        stripe_account=donation.stripe_account_id,
    )
    stripe.PaymentIntent.confirm(
        donation.stripe_payment_intent_id, stripe_account=donation.stripe_account_id
    )
    return donation
