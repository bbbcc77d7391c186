"""Donor messages (留言): visitors report them, the organization hides them with a reason.

See charity.services.gift_messages (issue 17 point 9).
"""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, session, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from wtforms import StringField
from wtforms.validators import DataRequired, Length

from charity.core import uow
from charity.core.permissions import require_org_role
from charity.extensions import db
from charity.models import Donation, Organization
from charity.services import gift_messages as service
from charity.web import ratelimits
from charity.web.forms import BaseForm

bp = Blueprint("gift_messages", __name__)

#: How many reported message ids one browser session remembers (one report each).
REMEMBERED_REPORTS = 50


class HideMessageForm(BaseForm):
    reason = StringField(
        _l("Why hide it (shown on the campaign page and in the public log)"),
        validators=[DataRequired(), Length(max=service.REASON_MAX)],
    )


class ReportForm(BaseForm):
    """Only the CSRF token."""


def _back(donation: Donation):  # type: ignore[no-untyped-def]
    if donation.campaign_id is not None:
        return redirect(
            url_for("campaigns.show", campaign_id=donation.campaign_id, _anchor="donors-heading")
        )
    return redirect(url_for("main.home"))


@bp.route("/gifts/<int:donation_id>/message/report", methods=["GET", "POST"])
@ratelimits.message_report
def report(donation_id: int):  # type: ignore[no-untyped-def]
    """Anyone may report a donor's message to the campaign's organization. The campaign
    page (cached for anonymous visitors, so without a CSRF token) links here; this page
    shows the message and the form that reports it."""
    donation = db.session.get(Donation, donation_id) or abort(404)
    form = ReportForm()
    if not form.validate_on_submit():
        status = 400 if form.is_submitted() else 200
        return render_template(
            "campaigns/report_message.html",
            donation=donation,
            shown=service.is_shown(donation),
            form=form,
        ), status
    reported = [int(i) for i in session.get("reported_messages", []) if str(i).isdigit()]
    if donation.id in reported:
        flash(_("You have already reported this message."), "info")
        return _back(donation)
    if service.report_message(db.session, donation.id):
        session["reported_messages"] = [*reported, donation.id][-REMEMBERED_REPORTS:]
        flash(_("Thank you. The organization will look at this message."), "success")
    else:
        flash(_("There is no message to report."), "info")
    return _back(donation)


@bp.get("/orgs/<int:org_id>/messages")
def queue(org_id: int):  # type: ignore[no-untyped-def]
    """The organization's messages: reported ones first, each with a form to hide it."""
    require_org_role(org_id, "owner", "editor")
    organization = db.session.get(Organization, org_id) or abort(404)
    return render_template(
        "orgs/messages.html",
        organization=organization,
        messages=service.queue(db.session, org_id),
        form=HideMessageForm(),
    )


@bp.post("/orgs/<int:org_id>/messages/<int:donation_id>/hide")
def hide(org_id: int, donation_id: int):  # type: ignore[no-untyped-def]
    require_org_role(org_id, "owner", "editor")
    donation = db.session.get(Donation, donation_id)
    if donation is None or donation.organization_id != org_id:
        abort(404)
    form = HideMessageForm()
    if not form.validate_on_submit():
        flash(_("Give a reason (at most 300 characters)."), "error")
        return redirect(url_for("gift_messages.queue", org_id=org_id)), 303
    try:
        service.hide_message(db.session, current_user, donation.id, form.reason.data or "")
    except service.MessageError as exc:
        uow.discard()
        flash(exc.text(), "error")
    else:
        flash(_("The message is hidden; the campaign page says why."), "success")
    return redirect(url_for("gift_messages.queue", org_id=org_id)), 303
