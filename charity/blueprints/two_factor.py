"""Two-factor authentication pages: the login's second step, enrolment (QR code, recovery
codes), and the gate that holds every other page until the second factor is passed."""

from __future__ import annotations

import segno
from flask import (
    Blueprint,
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
from wtforms import StringField
from wtforms.validators import DataRequired, Length

from charity.core import uow
from charity.extensions import db
from charity.models import User
from charity.services import two_factor
from charity.web import links
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


def _next() -> str:
    return links.safe_next(request.args.get("next")) or url_for("auth.account")


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
    if user.totp_enabled_at is None or two_factor.session_passed(db.session, user):
        return None
    target = request.full_path if request.method == "GET" else None
    return redirect(
        url_for("two_factor.verify", next=target) if target else url_for("two_factor.verify")
    )


def require_enrolled() -> None:
    """Roles that need two-factor authentication (``two_factor.required_for``) are sent to
    set it up before they act."""
    from flask import abort

    user = _user()
    if user.totp_enabled_at is None and two_factor.required_for(user):
        target = request.full_path if request.method == "GET" else request.path
        abort(redirect(url_for("two_factor.setup", next=target)))


@bp.route("/", methods=["GET", "POST"])
@login_required
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


@bp.route("/setup", methods=["GET", "POST"])
@login_required
def setup():  # type: ignore[no-untyped-def]
    """Scan the QR code (or type the key), confirm with a code, keep the recovery codes."""
    user = _user()
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
    return render_template(
        "auth/two_factor_setup.html", form=form, secret=secret, qr=_qr_svg(uri), uri=uri
    ), status
