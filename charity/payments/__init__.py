"""The one place that talks to payment providers: one module each, one interface.

``charity.payments.base`` is the interface and its plain types; ``stripe``, ``wechatpay``
and ``alipay`` implement it, and only they import a provider SDK. Services ask
``provider(name)`` (providers are registered in ``create_app`` through ``init_app``).
The card step's own Stripe calls (SetupIntent, confirm, subscriptions) are re-exported
here as before.
"""

from __future__ import annotations

from flask import Flask, current_app

from charity.payments import declines
from charity.payments.alipay import AlipayProvider
from charity.payments.base import (
    CardDeclinedError,
    Checkout,
    Intent,
    Merchant,
    NewPayment,
    Notice,
    NotificationError,
    PaymentError,
    PaymentUnavailableError,
    Provider,
    RefundNotice,
    RefundRequest,
    RefundResult,
    Statement,
    StatementLine,
    WebhookSignatureError,
)
from charity.payments.stripe import (
    StripeProvider,
    cancel_payment_intent,
    confirm_payment_intent,
    construct_webhook_event,
    create_payment_intent,
    create_refund,
    create_setup_intent,
    create_test_payment_method,
    intent_from_event_object,
    retrieve_payment_intent,
    setup_intent_card,
    setup_intent_payment_method,
)
from charity.payments.wechatpay import WeChatPayProvider

__all__ = [
    "CardDeclinedError",
    "Checkout",
    "Intent",
    "Merchant",
    "NewPayment",
    "Notice",
    "NotificationError",
    "PaymentError",
    "PaymentUnavailableError",
    "Provider",
    "RefundNotice",
    "RefundRequest",
    "RefundResult",
    "Statement",
    "StatementLine",
    "WebhookSignatureError",
    "cancel_payment_intent",
    "confirm_payment_intent",
    "construct_webhook_event",
    "create_payment_intent",
    "create_refund",
    "create_setup_intent",
    "create_test_payment_method",
    "init_app",
    "intent_from_event_object",
    "provider",
    "retrieve_payment_intent",
    "setup_intent_card",
    "setup_intent_payment_method",
]

EXTENSION = "charity.payments"


def init_app(app: Flask) -> None:
    """Register the three providers, and the card form's words for templates (called from
    create_app)."""
    app.jinja_env.globals["card_form_language"] = declines.card_form_language
    app.extensions[EXTENSION] = {
        p.name: p for p in (StripeProvider(), WeChatPayProvider(), AlipayProvider())
    }


def provider(name: str) -> Provider:
    return current_app.extensions[EXTENSION][name]
