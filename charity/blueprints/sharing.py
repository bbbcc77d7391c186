"""Sharing (issue 17 point 9, issue 18 point 5): share posters, 我捐了 cards, and the Open
Graph / WeChat metadata of public pages.

Posters are PNGs rendered with Pillow (charity.services.posters) and kept for
``POSTER_CACHE_SECONDS`` (default 300) under a key made of what they show, in Redis when
``REDIS_URL`` is set, else in a small per-process cache: a giving day's thousands of
shares render each poster once per change of its totals.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable

from flask import Blueprint, Flask, abort, current_app, request
from werkzeug.wrappers import Response

from charity.extensions import db
from charity.models import Campaign, Donation, GivingDay, Image, Team
from charity.services import posters
from charity.services.campaign_stats import COUNTED_STATUSES
from charity.services.receipts import ReceiptFontMissingError
from charity.web import caching
from charity.web.links import public_url, site_root

bp = Blueprint("sharing", __name__)

_CACHE_KEY = "charity.poster_cache"
DEFAULT_TTL = 300


def _cache(app: Flask):  # type: ignore[no-untyped-def]
    cache = app.extensions.get(_CACHE_KEY)
    if cache is None:
        shared = caching.page_cache(app)
        # Posters are ~40 KB: a process keeps a few dozen, Redis keeps them all.
        cache = (
            shared if isinstance(shared, caching.RedisPageCache) else caching.MemoryPageCache(64)
        )
        app.extensions[_CACHE_KEY] = cache
    return cache


def _png(key: str, render: Callable[[str], bytes], name: str, *, private: bool) -> Response:
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    cache = _cache(app)
    data = cache.get(key)
    if data is None:
        try:
            data = render(app.config["UPLOAD_DIR"])
        except ReceiptFontMissingError:
            app.logger.exception("no CJK font for share posters")
            abort(503)
        cache.set(key, data, float(app.config.get("POSTER_CACHE_SECONDS", DEFAULT_TTL)))
    response = app.response_class(data, mimetype="image/png")
    ttl = int(app.config.get("POSTER_CACHE_SECONDS", DEFAULT_TTL))
    response.headers["Cache-Control"] = f"{'private' if private else 'public'}, max-age={ttl}"
    response.headers["Content-Disposition"] = f'inline; filename="{name}"'
    response.set_etag(hashlib.blake2b(data, digest_size=12).hexdigest())
    return response.make_conditional(request)


def _poster_png(poster: posters.Poster, name: str) -> Response:
    """A public poster, cached under its contents."""
    return _png(
        posters.cache_key("poster", poster),
        lambda upload_dir: posters.render_poster(poster, upload_dir),
        name,
        private=False,
    )


@bp.get("/campaigns/<int:campaign_id>/poster.png")
def campaign_poster(campaign_id: int) -> Response:
    campaign = db.session.get(Campaign, campaign_id)
    if campaign is None or campaign.status == "draft":
        abort(404)
    url = public_url("campaigns.show", campaign_id=campaign.id)
    poster = posters.campaign_poster(db.session, campaign, url)
    return _poster_png(poster, f"poster-campaign-{campaign.id}.png")


@bp.get("/events/<int:event_id>/poster.png")
def event_poster(event_id: int) -> Response:
    event = db.session.get(GivingDay, event_id) or abort(404)
    url = public_url("givingdays.show", event_id=event.id)
    poster = posters.event_poster(db.session, event, url)
    return _poster_png(poster, f"poster-event-{event.id}.png")


@bp.get("/teams/<int:team_id>/poster.png")
def team_poster(team_id: int) -> Response:
    """The team's page is the QR's target: its donate button carries ``?team=``, so every
    gift through the poster is credited to the team."""
    team = db.session.get(Team, team_id)
    if team is None or team.hidden or team.campaign.status == "draft":
        abort(404)
    url = public_url("givingdays.team", team_id=team.id)
    poster = posters.team_poster(db.session, team, url)
    return _poster_png(poster, f"poster-team-{team.id}.png")


@bp.get("/donations/<token>/card.png")
def gift_card(token: str) -> Response:
    """我捐了, from the result page (the gift's unguessable token): no name ever; the amount
    only with ``?amount=1``, the donor's choice."""
    donation = db.session.query(Donation).filter(Donation.public_token == token).one_or_none()
    if donation is None or donation.campaign is None or donation.status not in COUNTED_STATUSES:
        abort(404)
    show_amount = request.args.get("amount") == "1"
    url = public_url("campaigns.show", campaign_id=donation.campaign_id)
    card = posters.gift_card(donation, url, show_amount=show_amount)
    return _png(
        posters.cache_key("card", card),
        lambda upload_dir: posters.render_card(card, upload_dir),
        "wo-juan-le.png",
        private=True,
    )


# --- Open Graph and WeChat metadata (templates/macros/share.html) ---------------------


@bp.app_template_global()
def share_image(image: Image | None = None, poster: str | None = None) -> dict | None:
    """The absolute address and size of a page's share picture: the cover's widest JPEG
    (WeChat does not show WebP), else the page's poster, else None."""
    sha256 = posters.largest_jpeg(image)
    if sha256 is not None and image is not None:
        return {
            "url": public_url("pictures.variant", sha256=sha256, ext="jpg"),
            "width": image.width,
            "height": image.height,
            "type": "image/jpeg",
        }
    if poster is not None:
        return {"url": site_root() + poster.lstrip("/"), "width": 750, "height": 1240,
                "type": "image/png"}  # fmt: skip
    return None


@bp.app_template_global()
def public_page_url() -> str:
    """This page's address on the public site (never the Host header, never the query)."""
    return site_root() + request.path.lstrip("/")
