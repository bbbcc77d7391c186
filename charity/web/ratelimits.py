"""Rate limits for the endpoints attackers hammer, as decorators reading limits from config.

Keys are the client address (``request.remote_addr``; behind a proxy the deployment's
ProxyFix makes that the real client) and, for donations, the donor's email as typed, so
that one person cannot spread card testing over many addresses nor many people behind one
address lock each other out too soon. Storage is ``RATELIMIT_STORAGE_URI`` (memory by
default, Redis in production). Exceeding a limit gives 429 with Retry-After: a page for
people, JSON under /api/.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import current_app, request
from flask_limiter.util import get_remote_address

from charity.extensions import limiter


def _limit(name: str) -> Callable[[], str]:
    return lambda: current_app.config[name]


def email_key(field: str = "email") -> Callable[[], str]:
    """The email typed into ``field`` (lower-cased, trimmed); the address when there is none."""

    def key() -> str:
        typed = (request.form.get(field) or "").strip().lower()[:254]
        return f"email:{typed}" if typed else f"ip:{get_remote_address()}"

    return key


login = limiter.limit(_limit("RATELIMIT_LOGIN"), methods=["POST"], scope="login")
signup = limiter.limit(_limit("RATELIMIT_SIGNUP"), methods=["POST"], scope="signup")
password_reset = limiter.limit(
    _limit("RATELIMIT_PASSWORD_RESET"), methods=["POST"], scope="password_reset"
)
#: Each card attempt on an existing donation (declines included): generous enough for a
#: donor who mistypes a card a few times, far below what card testing needs.
payment_attempt = limiter.limit(
    _limit("RATELIMIT_PAYMENT_ATTEMPT"), methods=["POST"], scope="payment_attempt"
)


def donation_creation(email_field: str = "email") -> Callable[[Any], Any]:
    """Per address and per email, on POST only. Retrying a declined card happens on the
    donation already created (another endpoint), so it never counts here."""
    per_ip = limiter.limit(_limit("RATELIMIT_DONATION_IP"), methods=["POST"], scope="donation_ip")
    per_email = limiter.limit(
        _limit("RATELIMIT_DONATION_EMAIL"),
        methods=["POST"],
        scope="donation_email",
        key_func=email_key(email_field),
    )

    def decorate(view: Any) -> Any:
        return per_ip(per_email(view))

    return decorate
