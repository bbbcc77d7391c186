"""Rate limits for the endpoints attackers hammer, as decorators reading limits from config.

Keys (issue 15 point 3, issue 17 point 8):

- the client address, ``request.remote_addr``: behind the proxy ProxyFix (TRUSTED_PROXIES)
  makes that the real client, never the proxy. Many donors share one address behind a
  carrier-grade NAT, so per-address limits are generous;
- the donor's email as typed, the donation or monthly gift (its token), and the card (its
  fingerprint at the provider): strict, because card testing needs many attempts on them.

Refused forms (a 400: a typo, a missing field) do not count against the donor. Exceeding a
limit gives 429 with Retry-After: the donation form is shown again with what the donor
typed and when to retry; the card step gets JSON it shows next to the card; other pages get
the 429 page. Storage is ``RATELIMIT_STORAGE_URI`` (memory by default, Redis in production).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from typing import Any

from flask import Flask, Response, current_app, jsonify, request
from flask_babel import gettext as _
from flask_limiter import RequestLimit
from flask_limiter.util import get_remote_address
from flask_login import current_user
from limits import parse_many
from werkzeug.exceptions import TooManyRequests

from charity.extensions import limiter


def _limit(name: str) -> Callable[[], str]:
    return lambda: current_app.config[name]


def email_key(field: str = "email") -> Callable[[], str]:
    """The email typed into ``field`` (lower-cased, trimmed); the address when there is none."""

    def key() -> str:
        typed = (request.form.get(field) or "").strip().lower()[:254]
        return f"email:{typed}" if typed else f"ip:{get_remote_address()}"

    return key


def token_key() -> str:
    """The donation or monthly gift the request is about (its public token in the URL)."""
    token = str((request.view_args or {}).get("token", ""))[:64]
    return f"token:{token}"


def seconds_until(reset_at: float) -> int:
    return max(1, math.ceil(reset_at - time.time()))


def minutes_until(reset_at: float) -> int:
    return max(1, math.ceil((reset_at - time.time()) / 60))


def _refused_form(response: Response) -> bool:
    """Whether the response counts: a refused form (400) does not."""
    return response.status_code != 400


login = limiter.limit(_limit("RATELIMIT_LOGIN"), methods=["POST"], scope="login")
signup = limiter.limit(_limit("RATELIMIT_SIGNUP"), methods=["POST"], scope="signup")
password_reset = limiter.limit(
    _limit("RATELIMIT_PASSWORD_RESET"), methods=["POST"], scope="password_reset"
)
complaint = limiter.limit(
    _limit("RATELIMIT_COMPLAINT"), methods=["POST"], scope="complaint",
    deduct_when=_refused_form,
)  # fmt: skip
message_report = limiter.limit(
    _limit("RATELIMIT_MESSAGE_REPORT"), methods=["POST"], scope="message_report"
)


def card_step_limited(reset_at: float, **extra: str) -> Response:
    """The card step's 429 as JSON (static/js/donate.js shows ``error`` by the card and
    keeps the card it set up for the next try)."""
    minutes = minutes_until(reset_at)
    response = jsonify(
        status="limited",
        retry_after=seconds_until(reset_at),
        error=_(
            "Too many card attempts for now. Please try again in %(minutes)d minutes; "
            "your card was not charged.",
            minutes=minutes,
        ),
        **extra,
    )
    response.status_code = 429
    response.headers["Retry-After"] = str(seconds_until(reset_at))
    return response


def _card_step_breach(limit: RequestLimit) -> Response:
    return card_step_limited(limit.reset_at)


def payment_attempt(view: Any) -> Any:
    """Each card attempt on a donation or monthly gift (declines included): per address
    (generous: a shared NAT) and per donation or gift (strict: card testing needs many
    cards on one payment). A donor who mistypes a card a few times stays far below both."""
    per_ip = limiter.limit(
        _limit("RATELIMIT_PAYMENT_ATTEMPT"),
        methods=["POST"],
        scope="payment_attempt",
        on_breach=_card_step_breach,
    )
    per_payment = limiter.limit(
        _limit("RATELIMIT_PAYMENT_DONATION"),
        methods=["POST"],
        scope="payment_donation",
        key_func=token_key,
        on_breach=_card_step_breach,
    )
    return per_ip(per_payment(view))


class CardLimit:
    """The per-card limit (``RATELIMIT_PAYMENT_CARD``), keyed on the card's fingerprint.

    The card is known only once the provider set it up, inside the confirm view, so this is
    asked from there (``allowed``) instead of by a decorator.
    """

    def __init__(self) -> None:
        self.reset_at: float | None = None

    def allowed(self, fingerprint: str) -> bool:
        if not limiter.enabled:
            return True
        strategy = limiter.limiter
        key = ("charity", "card", fingerprint[:64])
        for item in parse_many(current_app.config["RATELIMIT_PAYMENT_CARD"]):
            if not strategy.hit(item, *key):
                self.reset_at = strategy.get_window_stats(item, *key).reset_time
                return False
        return True

    def breach_response(self, client_secret: str = "") -> Response:
        """429 for this card; ``client_secret`` lets the donor try another card at once."""
        extra = {"client_secret": client_secret} if client_secret else {}
        return card_step_limited(self.reset_at or time.time() + 60, **extra)


def provider_lookup_allowed(token: str) -> bool:
    """Whether the result page of a pending gift may ask its payment provider now: at most
    RATELIMIT_PAYMENT_LOOKUP per donation (issue 15, low: the receipt page called Stripe on
    every GET, so a loop of reloads was a loop of Stripe calls). The page polls, and the
    provider's notification confirms the gift anyway; a reload within the window shows
    what is recorded."""
    if not limiter.enabled:
        return True
    strategy = limiter.limiter
    key = ("charity", "provider_lookup", token[:64])
    return all(
        strategy.hit(item, *key)
        for item in parse_many(current_app.config["RATELIMIT_PAYMENT_LOOKUP"])
    )


def donation_creation(
    email_field: str = "email", on_breach: Callable[[int], Response] | None = None
) -> Callable[[Any], Any]:
    """Per address (generous) and per email (strict), on POST only; a refused form (400)
    counts for neither. ``on_breach(minutes)`` renders the form again with what was typed
    (status 429). Retrying a declined card happens on the donation already created
    (another endpoint), so it never counts here."""

    def breach(limit: RequestLimit) -> Response | None:
        if on_breach is None:
            return None
        response = on_breach(minutes_until(limit.reset_at))
        response.status_code = 429
        response.headers["Retry-After"] = str(seconds_until(limit.reset_at))
        return response

    per_ip = limiter.limit(
        _limit("RATELIMIT_DONATION_IP"),
        methods=["POST"],
        scope="donation_ip",
        deduct_when=_refused_form,
        on_breach=breach,
    )
    per_email = limiter.limit(
        _limit("RATELIMIT_DONATION_EMAIL"),
        methods=["POST"],
        scope="donation_email",
        key_func=email_key(email_field),
        deduct_when=_refused_form,
        on_breach=breach,
    )

    def decorate(view: Any) -> Any:
        return per_ip(per_email(view))

    return decorate


def _user_key() -> str:
    if current_user.is_authenticated:
        return f"user:{current_user.get_id()}"
    return f"ip:{get_remote_address()}"


def outbound_mail(view: Any) -> Any:
    """Quotas on the mail a signed-in person makes the site send to an address they typed
    (gift claims, invitations): per sender and per recipient, so the site cannot be used
    to flood an inbox (issue 15, low). A refused form sends nothing and does not count."""
    per_sender = limiter.limit(
        _limit("RATELIMIT_MAIL_SENDER"),
        methods=["POST"],
        scope="mail_sender",
        key_func=_user_key,
        deduct_when=_refused_form,
    )
    per_recipient = limiter.limit(
        _limit("RATELIMIT_MAIL_RECIPIENT"),
        methods=["POST"],
        scope="mail_recipient",
        key_func=email_key("email"),
        deduct_when=_refused_form,
    )
    return per_sender(per_recipient(view))


def _account_key() -> str:
    """The account (not the session: an attacker with the password can open many)."""
    if current_user.is_authenticated:
        return f"account:{current_user.id}"
    return f"ip:{get_remote_address()}"


#: Wrong two-factor codes (a 400) per account: 10**6 codes, 3 valid at a time, so a few
#: dozen guesses an hour leave an attacker with the password no real chance (issue 15).
second_factor = limiter.limit(
    _limit("RATELIMIT_SECOND_FACTOR"),
    methods=["POST"],
    scope="second_factor",
    key_func=_account_key,
    deduct_when=lambda response: response.status_code == 400,
)

#: Never counted by the per-address page limit: machines that must always get through
#: (load balancers, Prometheus, the payment providers' notifications) and static assets.
#: The public JSON API (``api_v1``) has its own limit, RATELIMIT_API.
PAGE_EXEMPT_ENDPOINTS = frozenset({"static", "ops.healthz", "ops.prometheus_metrics"})
PAGE_EXEMPT_BLUEPRINTS = frozenset({"stripe_webhook", "payment_notify", "api_v1", "pictures"})
#: The public audit-log API (``/api/v1/log``) is limited by RATELIMIT_LOG instead.
LOG_BLUEPRINT = "auditlog_api"


def exempt_addresses() -> frozenset[str]:
    """RATELIMIT_EXEMPT_ADDRESSES: client addresses (comma-separated) the page and log
    limits never count, 127.0.0.1 and ::1 by default (bench scripts and drills run on the
    host). Behind the proxy the address is the one ProxyFix found (TRUSTED_PROXIES), so a
    client cannot claim to be 127.0.0.1 with its own X-Forwarded-For."""
    raw = current_app.config.get("RATELIMIT_EXEMPT_ADDRESSES", "") or ""
    return frozenset(part.strip() for part in raw.split(",") if part.strip())


def _page_scope() -> tuple[str, str] | None:
    """(scope, config setting) of the per-address limit this request counts against."""
    endpoint = request.endpoint or ""
    blueprint = request.blueprint or ""
    if endpoint in PAGE_EXEMPT_ENDPOINTS or blueprint in PAGE_EXEMPT_BLUEPRINTS:
        return None
    if blueprint == LOG_BLUEPRINT:
        return "log", "RATELIMIT_LOG"
    return "page", "RATELIMIT_PAGE"


def check_page_limit() -> None:
    """Every HTML page and ``/api/v1/log`` request, per client address (issue 15, low:
    pages and the log API were outside any limit). Generous: thousands of people share one
    carrier-grade NAT address. Over it: 429 with Retry-After, the Chinese 429 page (JSON
    under /api/)."""
    if not limiter.enabled:
        return
    scope = _page_scope()
    if scope is None:
        return
    address = get_remote_address()
    if address in exempt_addresses():
        return
    name, setting = scope
    strategy = limiter.limiter
    key = ("charity", name, address or "unknown")
    for item in parse_many(current_app.config[setting]):
        if not strategy.hit(item, *key):
            reset_at = strategy.get_window_stats(item, *key).reset_time
            raise TooManyRequests(
                _("Too many requests from your network. Please try again in a minute."),
                retry_after=seconds_until(reset_at),
            )


def init_app(app: Flask) -> None:
    app.before_request(check_page_limit)
