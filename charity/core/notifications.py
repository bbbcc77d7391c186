"""Provider notifications (Stripe's webhook, WeChat Pay and Alipay notify URLs): requests
a payment provider's server sends, never a browser.

A giving day is a storm of them (docs/scaling.md), so the request hooks built for people
skip what a provider's server never uses: the cookie session is neither read nor
written (a null session: writing to it fails loudly), no language is remembered, no
browser security headers are set, and a successful delivery writes no request log line
(failures still do; every delivery is counted in /metrics and kept in
``provider_events`` or ``webhook_rejections``). The request id header stays.
"""

from __future__ import annotations

import re

from flask import request

#: The blueprints whose endpoints providers call.
NOTIFICATION_BLUEPRINTS = frozenset({"stripe_webhook", "payment_notify"})

#: Their paths, for the hooks that run before the URL is matched (the session's opening).
_PATHS = re.compile(r"^/(?:stripe/webhook|payments/[a-z]+/notify/\d+)$")


def is_notification_path(path: str) -> bool:
    return _PATHS.match(path) is not None


def is_notification() -> bool:
    """The current request is a provider's notification (its URL matched one)."""
    return request.blueprint in NOTIFICATION_BLUEPRINTS
