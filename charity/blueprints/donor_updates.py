"""Donors hear back (issue 17 point 10): the news setting on 我的捐赠 and the one-click
unsubscribe link of the digest mail (RFC 8058: a POST without login or CSRF token, the
signed token being the authority)."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from wtforms import BooleanField

from charity.core.permissions import require_login
from charity.extensions import csrf, db
from charity.services import donor_updates
from charity.web.forms import BaseForm

bp = Blueprint("donor_updates", __name__)


class NewsForm(BaseForm):
    wants_news = BooleanField(
        _l("E-mail me news of the campaigns I gave to (at most one e-mail a day)")
    )


def masked(email: str) -> str:
    """``d***@example.org``: enough for the owner to recognise, not to harvest."""
    name, _at, domain = email.partition("@")
    return f"{name[:1]}***@{domain}"


@bp.post("/account/gifts/news")
def setting():  # type: ignore[no-untyped-def]
    require_login()
    form = NewsForm()
    if not form.validate_on_submit():
        abort(400)
    if form.wants_news.data:
        donor_updates.opt_in(db.session, current_user.email, str(get_locale()))
    else:
        donor_updates.opt_out(db.session, current_user.email)
    flash(_("Your choice was saved."), "success")
    return redirect(url_for("donor.account_gifts"), 303)


@bp.route("/updates/unsubscribe/<token>", methods=["GET", "POST"])
@csrf.exempt
def unsubscribe(token: str):  # type: ignore[no-untyped-def]
    """GET: a page with one button; POST (the button, or the mail client's one-click
    ``List-Unsubscribe=One-Click``): stop the digest for the token's address."""
    email = donor_updates.email_from_token(current_app.config["SECRET_KEY"], token[:500])
    if email is None:
        return render_template("donor/unsubscribe.html", email=None), 404
    done = request.method == "POST"
    if done:
        donor_updates.opt_out(db.session, email)
    return render_template("donor/unsubscribe.html", email=masked(email), done=done)
