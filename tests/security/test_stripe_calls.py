"""No Stripe calls on plain GETs beyond what is needed (issue 15, low, and point 3: card
testing). The card page shown again asks Stripe nothing; the result page of a pending gift
asks at most RATELIMIT_PAYMENT_LOOKUP times per donation; the receipt of a settled gift
asks nothing. Counted at the real Stripe SDK's HTTP client, against localstripe."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import stripe

from charity.extensions import db
from tests.support.factories import CampaignFactory
from tests.support.payments import SECRET, give, pay


class StripeCalls:
    """Every HTTP request the Stripe SDK sends (method, path)."""

    def __init__(self) -> None:
        self.requests: list[tuple[str, str]] = []

    def reset(self) -> None:
        self.requests.clear()

    def __len__(self) -> int:
        return len(self.requests)


@pytest.fixture
def stripe_calls(monkeypatch) -> Iterator[StripeCalls]:  # type: ignore[no-untyped-def]
    calls = StripeCalls()
    stripe.ensure_default_http_client()
    client = stripe.default_http_client
    original = client.request_with_retries

    def counting(method, url, *args, **kwargs):  # type: ignore[no-untyped-def]
        calls.requests.append((method.upper(), url.split("/v1/", 1)[-1].split("?")[0]))
        return original(method, url, *args, **kwargs)

    monkeypatch.setattr(client, "request_with_retries", counting)
    yield calls


@pytest.fixture
def donating(limited_app, stripe_app, localstripe_url, db_session):  # type: ignore[no-untyped-def]
    app = limited_app(
        STRIPE_API_BASE=localstripe_url, STRIPE_WEBHOOK_SECRET=SECRET, RECEIPT_EMAIL_PDF=False
    )
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = "198.51.100.200"
    return client


def test_the_card_page_asks_stripe_once_then_never(donating, stripe_calls):
    donation = give(donating, CampaignFactory())
    stripe_calls.reset()
    first = donating.get(f"/donations/{donation.public_token}/pay")
    assert first.status_code == 200
    assert stripe_calls.requests == [("POST", "setup_intents")]  # this attempt's SetupIntent
    stripe_calls.reset()
    for _ in range(10):  # a reload loop, a bot: no SetupIntent, no PaymentIntent, nothing
        assert donating.get(f"/donations/{donation.public_token}/pay").status_code == 200
    assert len(stripe_calls) == 0


def test_the_pending_result_page_asks_stripe_at_most_once_per_window(donating, stripe_calls):
    donation = give(donating, CampaignFactory())
    stripe_calls.reset()
    for _ in range(10):
        assert donating.get(f"/donations/{donation.public_token}").status_code == 200
    intent = donation.stripe_payment_intent_id
    assert stripe_calls.requests == [("GET", f"payment_intents/{intent}")]


def test_the_receipt_of_a_paid_gift_asks_stripe_nothing(donating, stripe_calls):
    donation = give(donating, CampaignFactory())
    assert pay(donating, donation).json["status"] == "succeeded"
    db.session.refresh(donation)
    assert donation.receipt_number
    stripe_calls.reset()
    for _ in range(5):
        page = donating.get(f"/donations/{donation.public_token}")
        assert page.status_code == 200 and donation.receipt_number in page.get_data(as_text=True)
        assert donating.get(f"/donations/{donation.public_token}/pay").status_code == 302
    assert len(stripe_calls) == 0
