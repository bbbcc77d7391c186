"""Security headers on every response."""

from __future__ import annotations

from flask import Flask, Response, g, request
from flask.sessions import SecureCookieSessionInterface

from charity.core.notifications import is_notification, is_notification_path

#: Where a gift's form may send the donor (a redirect after the POST counts for
#: form-action): WeChat Pay's H5 cashier and Alipay's gateway and cashiers.
WALLET_CASHIERS = ("https://wx.tenpay.com", "https://*.alipay.com")


def _origin(url: str) -> str:
    return "/".join(url.split("/")[:3]) if url else ""


def form_action(app: Flask) -> str:
    """'self', the wallets' cashiers, and the local simulators when configured."""
    names = ("WECHATPAY_API_BASE", "ALIPAY_GATEWAY")
    simulators = [_origin(app.config.get(name) or "") for name in names]
    return " ".join(filter(None, ["'self'", *WALLET_CASHIERS, *simulators]))


def content_security_policy(app: Flask) -> str:
    stripe_js = app.config.get("STRIPE_JS_URL", "")
    stripe_origin = "/".join(stripe_js.split("/")[:3]) if stripe_js else ""
    script_src = " ".join(filter(None, ["'self'", stripe_origin]))
    connect_src = " ".join(
        filter(None, ["'self'", stripe_origin, app.config.get("STRIPE_API_BASE") or ""])
    )
    frame_src = " ".join(filter(None, ["'self'", stripe_origin, "https://hooks.stripe.com"]))
    return "; ".join(
        [
            "default-src 'self'",
            f"script-src {script_src}",
            "style-src 'self'",
            "img-src 'self' data:",
            "font-src 'self'",
            f"connect-src {connect_src}",
            f"frame-src {frame_src}",
            "object-src 'none'",
            "base-uri 'self'",
            f"form-action {form_action(app)}",
            "frame-ancestors 'none'",
        ]
    )


#: Pages about one donor, public only through their unguessable token.
PERSONAL_ENDPOINTS = frozenset(
    {
        "donations.show",
        "donations.pay",
        "donations.receipt_pdf",
        "donor.monthly_show",
        "donor.monthly_pay",
    }
)


def _personal(endpoint: str | None) -> bool:
    """A page with personal data: a donor's token page, or any page rendered for a
    logged-in person (issue 15, low: no shared or back-button cache keeps it). Flask-Login
    keeps the user it loaded in ``g``; the session itself is not touched here."""
    if endpoint in PERSONAL_ENDPOINTS:
        return True
    user = g.get("_login_user")
    return bool(user is not None and user.is_authenticated)


class SessionInterface(SecureCookieSessionInterface):
    """Flask's signed-cookie session, except for provider notifications: they carry no
    cookie and must not set one, so they get a null session (no signer built, nothing
    saved; a write would fail loudly). charity.core.notifications."""

    def open_session(self, app: Flask, request):  # type: ignore[no-untyped-def,override]
        if is_notification_path(request.path):
            return self.make_null_session(app)
        return super().open_session(app, request)


def init_app(app: Flask) -> None:
    csp = content_security_policy(app)
    app.session_interface = SessionInterface()

    @app.after_request
    def _set_headers(response: Response) -> Response:
        if is_notification():  # a provider's server, not a browser: none of these apply
            return response
        headers = response.headers
        headers.setdefault("Content-Security-Policy", csp)
        headers.setdefault("X-Content-Type-Options", "nosniff")
        headers.setdefault("X-Frame-Options", "DENY")
        headers.setdefault("Referrer-Policy", "strict-origin-when-cross-origin")
        headers.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
        headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
        if app.config.get("SESSION_COOKIE_SECURE"):
            headers.setdefault("Strict-Transport-Security", "max-age=63072000; includeSubDomains")
        if "Cache-Control" not in headers and _personal(request.endpoint):
            headers["Cache-Control"] = "private, no-store"
        return response
