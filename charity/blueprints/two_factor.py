"""Two-factor authentication pages: the login's second step, enrolment (QR code, recovery
codes), re-authentication for sensitive actions, and the gate before every request that

- holds an enrolled login until it passes its second factor (``/account/2fa/``), and
- sends an account whose role needs two-factor (``two_factor.required_for``: platform
  administrators, regulators, owners, finance members, fund committee members) and has
  not set it up to ``/account/2fa/setup`` before any page that acts for that role.

``require_reauth()`` is what a sensitive view calls first: without a confirmation in the
last REAUTH_MAX_AGE_SECONDS it sends the person to ``/account/2fa/confirm`` (a code, or
the password without two-factor), which returns them to the page (a safe path only)."""

from __future__ import annotations

from urllib.parse import urlsplit

import segno
from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from markupsafe import Markup
from wtforms import PasswordField, StringField
from wtforms.validators import DataRequired, Length

from charity.core import uow
from charity.extensions import db
from charity.models import User
from charity.services import two_factor
from charity.web import links, ratelimits
from charity.web.forms import BaseForm

bp = Blueprint("two_factor", __name__, url_prefix="/account/2fa")

#: Pages an account may open before passing its second factor.
OPEN_ENDPOINTS = {
    "two_factor.verify",
    "two_factor.setup",
    "auth.logout",
    "static",
    "main.set_language",
}
#: Pages an account whose role needs two-factor may open before setting it up: the above,
#: and what finishing the account needs (confirming the address, logging out everywhere).
SETUP_OPEN_ENDPOINTS = OPEN_ENDPOINTS | {
    "auth.verify_email",
    "auth.resend_verification",
    "auth.logout_everywhere",
}
_SETUP_SECRET = "two_factor_setup_secret"  # noqa: S105 - a session key's name
#: Blueprints that serve machines (the public API, the log, webhooks, health and metrics).
_MACHINE_ENDPOINTS = (
    "api_v1.",
    "auditlog_api.",
    "ops.",
    "stripe_webhook.",
    "payment_notify.",
)


class CodeForm(BaseForm):
    code = StringField(
        _l("Code from your authenticator app, or a recovery code"),
        validators=[DataRequired(), Length(max=40)],
        render_kw={"autocomplete": "one-time-code", "inputmode": "text"},
    )


def _user() -> User:
    return current_user._get_current_object()  # type: ignore[attr-defined,no-any-return]


class PasswordConfirmForm(BaseForm):
    code = PasswordField(
        _l("Your password"),
        validators=[DataRequired(), Length(max=200)],
        render_kw={"autocomplete": "current-password"},
    )


def _next() -> str:
    return links.safe_next(request.args.get("next")) or url_for("auth.account")


def _return_path() -> str | None:
    """Where to come back to: this page for a GET; for a POST (a button), the page the
    button was on, when the browser says it was a page of this site."""
    if request.method == "GET":
        path = request.full_path.rstrip("?")
        return links.safe_next(path)
    referrer = urlsplit(request.referrer or "")
    if referrer.netloc != request.host or not referrer.path:
        return None
    path = referrer.path + (f"?{referrer.query}" if referrer.query else "")
    return links.safe_next(path)


def _redirect_to(endpoint: str, **values: str):  # type: ignore[no-untyped-def]
    target = _return_path()
    if target:
        values["next"] = target
    return redirect(url_for(endpoint, **values), 303 if request.method != "GET" else 302)


@bp.before_app_request
def gate():  # type: ignore[no-untyped-def]
    """Before every request: an enrolled account that has not passed its second factor in
    this session sees only the code page (and can log out)."""
    endpoint = request.endpoint or ""
    if endpoint in OPEN_ENDPOINTS or endpoint.startswith(_MACHINE_ENDPOINTS):
        return None  # (the public API and machines never touch the session: no cookie)
    if "_user_id" not in session or not current_user.is_authenticated:
        return None
    user = _user()
    if user.totp_enabled_at is None:
        if endpoint not in SETUP_OPEN_ENDPOINTS and two_factor.missing_for(db.session, user):
            # (issue 15) a role that moves money or oversees it acts only with a 2nd factor
            return _redirect_to("two_factor.setup")
        return None
    if two_factor.session_passed(db.session, user):
        return None
    return _redirect_to("two_factor.verify")


def require_reauth() -> None:
    """A sensitive action: the person proved who they are (a code, or the password
    without two-factor) in the last REAUTH_MAX_AGE_SECONDS, or they are sent to do so
    and brought back to this page."""
    max_age = int(
        current_app.config.get("REAUTH_MAX_AGE_SECONDS", two_factor.DEFAULT_REAUTH_MAX_AGE_SECONDS)
    )
    if not two_factor.confirmed_recently(db.session, _user(), max_age):
        abort(_redirect_to("two_factor.confirm"))


@bp.route("/", methods=["GET", "POST"])
@login_required
@ratelimits.second_factor
def verify():  # type: ignore[no-untyped-def]
    user = _user()
    if user.totp_enabled_at is None or two_factor.session_passed(db.session, user):
        return redirect(_next())
    form = CodeForm()
    if form.validate_on_submit():
        try:
            two_factor.pass_login(db.session, user, form.code.data)
        except two_factor.TwoFactorError as error:
            uow.discard()
            form.code.errors = [*form.code.errors, error.text()]
        else:
            return redirect(_next())
    status = 400 if request.method == "POST" else 200
    return render_template("auth/two_factor.html", form=form), status


def _qr_svg(uri: str) -> Markup:
    svg = segno.make(uri, error="m").svg_inline(scale=4, title="otpauth")
    return Markup(svg)  # noqa: S704 - segno's own SVG of our otpauth URI


@bp.route("/confirm", methods=["GET", "POST"])
@login_required
@ratelimits.second_factor
def confirm():  # type: ignore[no-untyped-def]
    """Re-authentication before a sensitive action: a code from the app (or a recovery
    code), or the password for an account without two-factor; then back to the action."""
    user = _user()
    enrolled = user.totp_enabled_at is not None
    form = CodeForm() if enrolled else PasswordConfirmForm()
    if form.validate_on_submit():
        try:
            two_factor.confirm(db.session, user, form.code.data)
        except two_factor.TwoFactorError as error:
            # Kept: a used recovery code stays used; nothing else was written.
            form.code.errors = [*form.code.errors, error.text()]
        else:
            return redirect(_next(), 303)
    status = 400 if request.method == "POST" else 200
    return render_template("auth/two_factor_confirm.html", form=form, enrolled=enrolled), status


class DisableForm(BaseForm):
    pass


@bp.post("/disable")
@login_required
def disable():  # type: ignore[no-untyped-def]
    """Turn two-factor off (only where the role does not need it), after a fresh
    confirmation."""
    user = _user()
    if user.totp_enabled_at is None:
        return redirect(url_for("auth.account"), 303)
    if not DisableForm().validate_on_submit():
        abort(400)
    require_reauth()
    try:
        two_factor.disable(db.session, user)
    except two_factor.TwoFactorError as error:
        uow.discard()
        flash(error.text(), "error")
    else:
        flash(_("Two-factor authentication is off. Other sessions were logged out."), "success")
    return redirect(url_for("auth.account"), 303)


@bp.route("/setup", methods=["GET", "POST"])
@login_required
def setup():  # type: ignore[no-untyped-def]
    """Scan the QR code (or type the key), confirm with a code, keep the recovery codes.
    Moving an enrolled account to a new app needs a fresh confirmation first."""
    user = _user()
    if user.totp_enabled_at is not None:
        require_reauth()
    if request.method == "GET" or _SETUP_SECRET not in session:
        session[_SETUP_SECRET] = two_factor.new_secret()
    secret = session[_SETUP_SECRET]
    form = CodeForm()
    if form.validate_on_submit():
        try:
            codes = two_factor.enable(db.session, user, secret, form.code.data)
        except two_factor.TwoFactorError as error:
            uow.discard()
            form.code.errors = [*form.code.errors, error.text()]
        else:
            session.pop(_SETUP_SECRET, None)
            flash(_("Two-factor authentication is on. Other sessions were logged out."), "success")
            return render_template("auth/two_factor_codes.html", codes=codes, next_url=_next())
    issuer = current_app.config.get("TOTP_ISSUER", "charity")
    uri = two_factor.provisioning_uri(user, secret, issuer)
    status = 400 if request.method == "POST" else 200
    required = user.totp_enabled_at is None and two_factor.required_for(user, db.session)
    return render_template(
        "auth/two_factor_setup.html",
        form=form,
        secret=secret,
        qr=_qr_svg(uri),
        uri=uri,
        required=required,
    ), status
