"""Platform administration: the organization review queue."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from charity.blueprints.orgs_forms import ReviewForm
from charity.core import uow
from charity.core.permissions import admin_required
from charity.extensions import db
from charity.models import Organization
from charity.services import organizations as service
from charity.web.forms import show_error

bp = Blueprint("admin", __name__)


@bp.get("/organizations")
@admin_required
def organizations():  # type: ignore[no-untyped-def]
    recent = db.session.scalars(
        select(Organization)
        .where(Organization.status != "pending")
        .where(Organization.reviewed_at.is_not(None))
        .order_by(Organization.reviewed_at.desc())
        .limit(20)
    )
    return render_template(
        "admin/organizations.html",
        pending=service.pending_applications(db.session),
        recent=list(recent),
    )


@bp.route("/organizations/<int:org_id>", methods=["GET", "POST"])
@admin_required
def review(org_id: int):  # type: ignore[no-untyped-def]
    organization = db.session.get(Organization, org_id) or abort(404)
    form = ReviewForm()
    if form.validate_on_submit():
        try:
            _decide(organization, form)
        except service.OrganizationError as error:
            uow.discard()
            show_error(form, error)
        else:
            return redirect(url_for("admin.organizations"))
    status = 400 if request.method == "POST" else 200
    return render_template("admin/review.html", org=organization, form=form), status


def _decide(organization: Organization, form: ReviewForm) -> None:
    if form.decision.data == "approve":
        service.approve_organization(db.session, current_user, organization)
        flash(_("%(name)s is now verified.", name=organization.name), "success")
    else:
        service.reject_organization(db.session, current_user, organization, form.reason.data)
        flash(_("%(name)s was rejected.", name=organization.name), "success")
