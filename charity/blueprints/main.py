"""Home page and site-wide pages."""

from __future__ import annotations

from flask import (
    Blueprint,
    current_app,
    make_response,
    redirect,
    render_template,
    request,
    session,
    url_for,
)

from charity.core.clock import today_cst
from charity.extensions import db
from charity.services.campaign_browse import featured_campaigns
from charity.web import caching, links
from charity.web.i18n import LANG_SESSION_KEY

bp = Blueprint("main", __name__)


@bp.get("/")
def home():  # type: ignore[no-untyped-def]
    # The entry point on a giving day: anonymous visitors share one render per TTL
    # (charity.web.caching), like the campaign page.
    if caching.anonymous_cacheable():
        return caching.cached_page("home", _render_home)
    return caching.private_page(make_response(_render_home()))


def _render_home() -> str:
    featured, stats = featured_campaigns(db.session, today=today_cst())
    return render_template("main/home.html", featured=featured, stats=stats)


@bp.get("/lang/<code>")
def set_language(code: str):  # type: ignore[no-untyped-def]
    if code in current_app.config["LANGUAGES"]:
        session[LANG_SESSION_KEY] = code
    # Only same-site relative paths: never an open redirect.
    return redirect(links.safe_next(request.args.get("next")) or url_for("main.home"))
