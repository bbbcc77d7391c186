"""Accounts: sign up, log in and out, the account page, password change and reset.

Thin views: form → command → ``charity.services.accounts`` → redirect (the unit of work commits).
Mail is queued and goes out after the commit.
"""

from __future__ import annotations

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from flask_login import current_user, login_required, login_user, logout_user
from wtforms import BooleanField, EmailField, PasswordField, StringField
from wtforms.validators import DataRequired, Email, EqualTo, Length

from charity.blueprints.two_factor import require_reauth
from charity.core import uow
from charity.core.db import writes
from charity.extensions import db, login_manager
from charity.models import User
from charity.ops.mail import Mail, queue_mail
from charity.services import accounts, two_factor
from charity.web import links, navigation, ratelimits
from charity.web.forms import BaseForm, show_error

bp = Blueprint("auth", __name__)

login_manager.login_view = "auth.login"
login_manager.login_message = _l("Please log in to continue.")
login_manager.login_message_category = "warning"
# "basic": a session whose address or browser changes becomes non-fresh instead of being
# dropped; donors on phones hop between Wi-Fi and mobile networks all the time. Stolen
# sessions are cut off by changing the password (the session id carries a password stamp).
login_manager.session_protection = "basic"

PLATFORM_ROLE_LABELS = {
    "donor": _l("Donor"),
    "admin": _l("Platform administrator"),
    "regulator": _l("Regulator"),
}
MEMBER_ROLE_LABELS = {"owner": _l("Owner"), "finance": _l("Finance"), "editor": _l("Editor")}
_PASSWORD_HINT = _l("At least 10 characters.")


@bp.after_request
def _no_store(response):  # type: ignore[no-untyped-def]
    """Account pages (and reset links) stay out of shared and back-button caches."""
    response.headers.setdefault("Cache-Control", "no-store")
    return response


@login_manager.user_loader
def _load_user(session_id: str) -> User | None:
    return accounts.load_user_from_session_id(db.session, session_id)


# --- forms -------------------------------------------------------------------------------


def _email_field() -> EmailField:
    return EmailField(_l("Email"), validators=[DataRequired(), Email(), Length(max=254)])


def _new_password_field(label: str) -> PasswordField:
    return PasswordField(label, validators=[DataRequired(), Length(min=10, max=200)])


def _confirm_field(other: str) -> PasswordField:
    return PasswordField(
        _l("Repeat the password"),
        validators=[DataRequired(), EqualTo(other, message=_l("The passwords differ."))],
    )


class LoginForm(BaseForm):
    email = _email_field()
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=200)])
    remember = BooleanField(_l("Keep me logged in on this device"))


class SignUpForm(BaseForm):
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=100)])
    email = _email_field()
    password = _new_password_field(_l("Password"))
    confirm = _confirm_field("password")


class ChangePasswordForm(BaseForm):
    current_password = PasswordField(
        _l("Current password"), validators=[DataRequired(), Length(max=200)]
    )
    new_password = _new_password_field(_l("New password"))
    confirm = _confirm_field("new_password")


class ResetRequestForm(BaseForm):
    email = _email_field()


class ResetPasswordForm(BaseForm):
    password = _new_password_field(_l("New password"))
    confirm = _confirm_field("password")


# --- helpers -----------------------------------------------------------------------------


def _next_path() -> str | None:
    """The safe ``?next=`` of this request, to carry between the login and sign-up pages."""
    target = safe_next("")
    return target or None


def safe_next(default: str) -> str:
    """``?next=`` if it is a path on this site, else ``default``: never an open redirect."""
    return links.safe_next(request.args.get("next")) or default


def _status() -> int:
    return 400 if request.method == "POST" else 200


def _client_ip() -> str:
    return request.remote_addr or "unknown"


def _reset_minutes() -> int:
    return max(1, current_app.config["PASSWORD_RESET_MAX_AGE"] // 60)


def _queue_reset_mail(user: User) -> None:
    token = accounts.make_reset_token(user, current_app.config["SECRET_KEY"])
    minutes = _reset_minutes()
    body = _(
        "Hello %(name)s,\n\nSomeone, probably you, asked to reset the password of your account. "
        "Open this link within %(minutes)d minutes to choose a new password:\n\n%(url)s\n\n"
        "The link works once. If you did not ask for this, ignore this email: your password "
        "stays as it is.",
        name=user.name,
        minutes=minutes,
        url=links.public_url("auth.reset_password", token=token),
    )
    queue_mail(Mail(to=user.email, subject=_("Reset your password"), body=body))


def _queue_verification_mail(user: User, next_path: str | None = None) -> None:
    token = accounts.make_verification_token(user, current_app.config["SECRET_KEY"])
    values = {"token": token, **({"next": next_path} if next_path else {})}
    body = _(
        "Hello %(name)s,\n\nOpen this link within 3 days to confirm your email address "
        "and finish creating your account:\n\n%(url)s\n\n"
        "If you did not sign up, ignore this email.",
        name=user.name,
        url=links.public_url("auth.verify_email", **values),
    )
    queue_mail(Mail(to=user.email, subject=_("Confirm your email address"), body=body))


def _queue_signup_attempt_mail(user: User) -> None:
    """Someone signed up with an address that has an account: tell its owner, not them."""
    body = _(
        "Hello %(name)s,\n\nSomeone, probably you, tried to create an account with this "
        "email address, but you already have one. Log in here: %(login)s\n"
        "Forgot the password? Choose a new one here: %(reset)s\n\n"
        "If this was not you, nothing was changed and you can ignore this email.",
        name=user.name,
        login=links.public_url("auth.login"),
        reset=links.public_url("auth.reset_request"),
    )
    queue_mail(Mail(to=user.email, subject=_("You already have an account"), body=body))


def _queue_password_changed_mail(user: User) -> None:
    body = _(
        "Hello %(name)s,\n\nThe password of your account was just changed, and every other "
        "session was logged out. If this was not you, reset your password now: %(url)s",
        name=user.name,
        url=links.public_url("auth.reset_request"),
    )
    queue_mail(Mail(to=user.email, subject=_("Your password was changed"), body=body))


# --- views -------------------------------------------------------------------------------


@bp.route("/login", methods=["GET", "POST"])
@ratelimits.login
def login():  # type: ignore[no-untyped-def]
    if current_user.is_authenticated and request.method == "GET":
        return redirect(safe_next(navigation.landing_url(current_user)))
    form = LoginForm()
    if form.validate_on_submit():
        command = accounts.LogIn(form.email.data, form.password.data, _client_ip())
        policy = accounts.ThrottlePolicy.from_config(current_app.config)
        try:
            user = accounts.log_in(db.session, command, policy)
        except accounts.LoginThrottledError as throttled:
            uow.discard()
            return _throttled(form, throttled.retry_after)
        except accounts.AccountError as error:
            # No discard: the failed attempt is kept (committed), it counts towards the throttle.
            show_error(form, error, whole_form="form")
        else:
            _start_session(user)
            if user.totp_enabled_at is None:  # the password was just entered
                two_factor.mark_confirmed(db.session, user)
            login_user(user, remember=form.remember.data)
            # Without a next=, the page where this user's work is (issue 17.3).
            return redirect(safe_next(navigation.landing_url(user)))
    return render_template("auth/login.html", form=form, next_path=_next_path()), _status()


def _throttled(form: LoginForm, retry_after: int):  # type: ignore[no-untyped-def]
    minutes = max(1, -(-retry_after // 60))
    message = ngettext(
        "Too many failed attempts. Please wait %(num)d minute and try again.",
        "Too many failed attempts. Please wait %(num)d minutes and try again.",
        minutes,
    )
    body = render_template(
        "auth/login.html", form=form, throttle_message=message, next_path=_next_path()
    )
    return body, 429, {"Retry-After": str(retry_after)}


@bp.route("/signup", methods=["GET", "POST"])
@ratelimits.signup
def signup():  # type: ignore[no-untyped-def]
    if current_user.is_authenticated and request.method == "GET":
        return redirect(url_for("auth.account"))
    form = SignUpForm()
    if form.validate_on_submit():
        command = accounts.SignUp(form.email.data, form.name.data, form.password.data)
        try:
            registration = accounts.register(db.session, command)
        except accounts.AccountError as error:
            uow.discard()
            show_error(form, error, whole_form="form")
        else:
            if registration.user is not None:
                _queue_verification_mail(registration.user, _next_path())
            elif registration.existing is not None:
                _queue_signup_attempt_mail(registration.existing)
            # The same page whether or not the address had an account (issue 15): the
            # link in the mail finishes the sign-up and logs the new account in.
            return render_template("auth/signup_sent.html", email=form.email.data)
    body = render_template(
        "auth/signup.html", form=form, password_hint=_PASSWORD_HINT, next_path=_next_path()
    )
    return body, _status()


def _start_session(user: User) -> None:
    """The server-side session this login's cookie names (issue 15 finding 13)."""
    agent = request.headers.get("User-Agent", "")
    accounts.start_session(db.session, user, _client_ip(), agent)


@bp.get("/verify/<token>")
@writes
def verify_email(token: str):  # type: ignore[no-untyped-def]
    """The link of the verification mail: the address is confirmed, and a new account is
    logged in (only the first time: a verified account's link logs nobody in)."""
    headers = {"Referrer-Policy": "no-referrer"}  # the token is in this page's URL
    try:
        user = accounts.user_for_verification(
            db.session, token[:1000], current_app.config["SECRET_KEY"]
        )
    except accounts.InvalidVerificationLinkError:
        return render_template("auth/verify_invalid.html"), 400, headers
    first_time = user.email_verified_at is None
    accounts.verify_email(db.session, token[:1000], current_app.config["SECRET_KEY"])
    if first_time and not (current_user.is_authenticated and current_user.id == user.id):
        _start_session(user)
        login_user(user)
    flash(_("Thank you, your email address is confirmed."), "success")
    if current_user.is_authenticated:
        return redirect(safe_next(url_for("auth.account")))
    return redirect(url_for("main.home"))  # already confirmed: this link logs nobody in


@bp.post("/verify")
@login_required
@ratelimits.outbound_mail
def resend_verification():  # type: ignore[no-untyped-def]
    user: User = current_user._get_current_object()  # type: ignore[attr-defined]
    if user.email_verified_at is None:
        _queue_verification_mail(user)
    flash(_("We sent a new link to %(email)s.", email=user.email), "success")
    return redirect(url_for("auth.account"), 303)


@bp.post("/logout")
def logout():  # type: ignore[no-untyped-def]
    if current_user.is_authenticated:
        accounts.end_session(db.session, current_user._get_current_object())  # type: ignore[attr-defined]
    logout_user()
    flash(_("You are logged out."), "success")
    return redirect(url_for("main.home"))


@bp.post("/logout-everywhere")
@login_required
def logout_everywhere():  # type: ignore[no-untyped-def]
    """End every session of this account, on every device, this one included."""
    accounts.end_all_sessions(db.session, current_user._get_current_object())  # type: ignore[attr-defined]
    logout_user()
    flash(_("You are logged out on every device."), "success")
    return redirect(url_for("main.home"))


@bp.get("/")
@login_required
def account():  # type: ignore[no-untyped-def]
    user: User = current_user  # type: ignore[assignment]
    memberships = sorted(user.active_memberships, key=lambda m: m.organization.name)
    return render_template(
        "auth/account.html",
        user=user,
        memberships=memberships,
        platform_role_label=PLATFORM_ROLE_LABELS[user.platform_role],
        member_role_labels=MEMBER_ROLE_LABELS,
        org_page_endpoint="orgs.show",
        two_factor_required=two_factor.required_for(user, db.session),
    )


@bp.route("/password", methods=["GET", "POST"])
@login_required
def change_password():  # type: ignore[no-untyped-def]
    user: User = current_user._get_current_object()  # type: ignore[attr-defined]
    if user.totp_enabled_at is not None:  # the form asks the password; add a fresh code
        require_reauth()
    form = ChangePasswordForm()
    if form.validate_on_submit():
        command = accounts.ChangePassword(form.current_password.data, form.new_password.data)
        try:
            accounts.change_password(db.session, user, command)
        except accounts.AccountError as error:
            uow.discard()
            show_error(form, error, whole_form="form")
        else:
            _queue_password_changed_mail(user)
            login_user(user)  # this session carries the new stamp; all others end
            flash(_("Your password was changed. Other sessions were logged out."), "success")
            return redirect(url_for("auth.account"))
    body = render_template("auth/change_password.html", form=form, password_hint=_PASSWORD_HINT)
    return body, _status()


@bp.route("/reset", methods=["GET", "POST"])
@ratelimits.password_reset
def reset_request():  # type: ignore[no-untyped-def]
    form = ResetRequestForm()
    if form.validate_on_submit():
        user = accounts.find_user_for_reset(db.session, form.email.data)
        if user is not None:
            _queue_reset_mail(user)
        # The same page whether or not the address has an account: no account discovery.
        return render_template(
            "auth/reset_sent.html", email=form.email.data, reset_minutes=_reset_minutes()
        )
    return render_template("auth/reset_request.html", form=form), _status()


@bp.route("/reset/<token>", methods=["GET", "POST"])
def reset_password(token: str):  # type: ignore[no-untyped-def]
    headers = {"Referrer-Policy": "no-referrer"}  # the token is in this page's URL
    try:
        user = accounts.user_for_reset_token(
            db.session,
            token[:1000],
            current_app.config["SECRET_KEY"],
            current_app.config["PASSWORD_RESET_MAX_AGE"],
        )
    except accounts.InvalidResetLinkError:
        uow.discard()
        body = render_template("auth/reset_invalid.html", reset_minutes=_reset_minutes())
        return body, 400, headers
    form = ResetPasswordForm()
    if form.validate_on_submit():
        try:
            accounts.reset_password(db.session, user, form.password.data)
        except accounts.AccountError as error:
            uow.discard()
            show_error(form, error, whole_form="form")
        else:
            _queue_password_changed_mail(user)
            logout_user()
            flash(_("Your password was changed. Please log in with the new one."), "success")
            return redirect(url_for("auth.login"))
    body = render_template("auth/reset_password.html", form=form, password_hint=_PASSWORD_HINT)
    return body, _status(), headers
