"""POST /payments/<provider>/notify/<account id>: WeChat Pay and Alipay notifications.

CSRF-exempt like the Stripe webhook: the provider signs instead. Each merchant account
has its own URL (its keys verify and decrypt). The SDK verifies the signature (WeChat:
against the platform certificate or public key, then AES-256-GCM decrypts the resource;
Alipay: RSA2 over the sorted parameters), then the notification is applied at most once
(charity.services.wallet_payments.apply_notice) and answered in the provider's own
protocol: WeChat Pay 204 (or a JSON ``{"code": "FAIL"}`` with 4xx/5xx: it redelivers),
Alipay the text ``success`` (anything else: it redelivers).

- Unknown account → 404; bad signature or a signed body that does not parse → 400,
  recorded in ``webhook_rejections``; nothing applied.
- The provider could not be asked (an Alipay refund's amount) → 503: it redelivers.
"""

from __future__ import annotations

import hashlib

from flask import Blueprint, Response, abort, current_app, request

from charity import payments
from charity.core import uow
from charity.extensions import csrf, db
from charity.models import WebhookRejection
from charity.services import merchant_accounts, wallet_payments

bp = Blueprint("payment_notify", __name__)


@bp.post("/payments/<provider>/notify/<int:account_id>")
@csrf.exempt
def notify(provider: str, account_id: int):  # type: ignore[no-untyped-def]
    if provider not in wallet_payments.METHODS:
        abort(404)
    handler = payments.provider(provider)
    account = merchant_accounts.notify_account(db.session, account_id)
    if account is None or account.provider != provider:
        return _answer(handler.refuse("unknown merchant account", 404))
    body = request.get_data(cache=False)
    try:
        notice = handler.parse_notification(
            merchant_accounts.merchant(account), request.headers, body
        )
    except payments.NotificationError as error:
        return _reject(handler, provider, str(error), body)
    except payments.PaymentError as error:  # e.g. the platform certificates unreachable
        uow.discard()
        current_app.logger.warning("%s notification deferred: %s", provider, error)
        return _answer(handler.refuse("temporarily unavailable", 503))
    try:
        outcome = wallet_payments.apply_notice(db.session, notice, account)
    except payments.PaymentError as error:
        uow.discard()
        current_app.logger.warning(
            "%s notification %s deferred: %s", provider, notice.event_id, error
        )
        return _answer(handler.refuse("temporarily unavailable", 503))
    if outcome == "parked":
        current_app.logger.error("%s notification %s parked", provider, notice.event_id)
    return _answer(handler.acknowledge())


def _answer(answer: tuple[str, int, dict[str, str]]) -> Response:
    body, status, headers = answer
    return Response(body, status=status, headers=headers)


def _reject(handler: payments.Provider, provider: str, reason: str, body: bytes) -> Response:
    current_app.logger.warning("%s notification rejected: %s", provider, reason)
    uow.discard()
    db.session.add(
        WebhookRejection(
            reason=f"{provider}: {reason}"[:300],
            remote_addr=(request.remote_addr or "")[:64],
            payload_sha256=hashlib.sha256(body).hexdigest(),
        )
    )
    return _answer(handler.refuse("invalid notification", 400))
