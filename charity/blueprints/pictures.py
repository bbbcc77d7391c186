"""Pictures: serving the public variants, and a campaign's cover (issue 17 point 9).

``/img/<sha256>.<ext>``: the URL names the file's content, so it never changes and is
cached for a year (``immutable``); a new cover is a new URL. Only files recorded as image
variants are served here, inline, with ``nosniff`` and a sandboxing CSP.
"""

from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf.file import FileField, FileRequired
from wtforms import StringField
from wtforms.validators import DataRequired, Length

from charity.core import uow
from charity.core.permissions import require_org_role
from charity.extensions import db
from charity.models import Campaign, Image
from charity.services import images, uploads
from charity.web.forms import BaseForm

bp = Blueprint("pictures", __name__)

YEAR = 365 * 24 * 3600


class CoverForm(BaseForm):
    picture = FileField(_l("Cover picture (JPEG, PNG or WebP, at most 8 MB)"), [FileRequired()])
    alt = StringField(
        _l("What the picture shows (for people who cannot see it)"),
        [DataRequired(), Length(max=images.MAX_ALT)],
    )


@bp.get("/img/<sha256>.<ext>")
def variant(sha256: str, ext: str):  # type: ignore[no-untyped-def]
    if len(sha256) != 64 or ext not in ("webp", "jpg"):
        abort(404)
    found = images.public_variant(db.session, sha256, ext)
    data = uploads.read_stored(current_app.config["UPLOAD_DIR"], sha256) if found else None
    if found is None or data is None:
        abort(404)
    response = current_app.response_class(data, mimetype=found.content_type)
    response.headers["Cache-Control"] = f"public, max-age={YEAR}, immutable"
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.set_etag(sha256)
    return response.make_conditional(request)


def picture_data(form_field) -> bytes:  # type: ignore[no-untyped-def]
    """The uploaded bytes, read at most one byte past the limit."""
    return form_field.data.read(images.MAX_BYTES + 1) if form_field.data else b""


@bp.route("/campaigns/<int:campaign_id>/cover", methods=["GET", "POST"])
def cover(campaign_id: int):  # type: ignore[no-untyped-def]
    campaign = db.get_or_404(Campaign, campaign_id)
    require_org_role(campaign.organization_id, *images.IMAGE_ROLES)
    form = CoverForm()
    if form.validate_on_submit():
        try:
            images.set_campaign_cover(
                db.session,
                current_user,
                campaign,
                current_app.config["UPLOAD_DIR"],
                picture_data(form.picture),
                form.alt.data,
            )
        except images.PictureError as error:
            uow.discard()
            form.picture.errors = [*form.picture.errors, _(str(error))]
        else:
            flash(_("The cover picture is saved."), "success")
            return redirect(url_for("campaigns.show", campaign_id=campaign.id), 303)
    elif request.method == "GET" and campaign.cover_alt:
        form.alt.data = campaign.cover_alt
    status = 422 if request.method == "POST" else 200
    return render_template("pictures/cover.html", campaign=campaign, form=form), status


@bp.app_template_global()
def picture_sources(image: Image | None) -> dict[str, object] | None:
    """srcset strings per format, the fallback JPEG and the intrinsic size, for
    templates/macros/pictures.html; None without a picture."""
    if image is None or not image.variants:
        return None
    by_type: dict[str, list] = {"image/webp": [], "image/jpeg": []}
    for found in image.variants:
        by_type[found.content_type].append(found)

    def srcset(kind: str) -> str:
        return ", ".join(f"{_url(v)} {v.width}w" for v in by_type[kind])

    jpegs = by_type["image/jpeg"]
    return {
        "webp": srcset("image/webp"),
        "jpeg": srcset("image/jpeg"),
        "src": _url(jpegs[0]) if jpegs else _url(image.variants[0]),
        "largest_jpeg": _url(jpegs[-1]) if jpegs else None,
        "width": image.width,
        "height": image.height,
    }


def _url(found) -> str:  # type: ignore[no-untyped-def]
    return url_for("pictures.variant", sha256=found.sha256, ext=found.extension)
