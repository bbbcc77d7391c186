"""The regulator's side of complaints and suspensions (issue 16 point 15): the complaint
queue with its reply clock, each complaint with the complainant's data and evidence, the
steps (review, reply, close), and suspending or lifting a campaign. For admins and
regulators; a regulator scoped to a province sees only its organizations (others: 404)."""

from __future__ import annotations

from datetime import UTC, datetime

from flask import Blueprint, abort, current_app, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from wtforms import IntegerField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from charity.blueprints.complaints import CATEGORY_LABELS, STATUS_LABELS
from charity.core import uow
from charity.core.clock import today_cst
from charity.core.permissions import regulator_required
from charity.extensions import db
from charity.models import Campaign
from charity.models.enforcement import Complaint
from charity.services import complaints as complaint_service
from charity.services import suspensions, uploads
from charity.web.forms import BaseForm, show_error

bp = Blueprint("enforcement", __name__)


class ReplyForm(BaseForm):
    reply = TextAreaField(
        _l("Reply"), validators=[DataRequired(), Length(max=complaint_service.BODY_MAX)]
    )


class SuspendForm(BaseForm):
    reason = TextAreaField(
        _l("Reason (shown on the campaign page and mailed to its donors)"),
        validators=[DataRequired(), Length(max=suspensions.REASON_MAX)],
    )
    complaint = IntegerField(_l("Complaint number (optional)"), validators=[Optional()])


class LiftForm(BaseForm):
    note = TextAreaField(_l("Note"), validators=[Length(max=suspensions.REASON_MAX)])


def _province() -> str | None:
    if current_user.is_regulator and current_user.regulator_province:
        return str(current_user.regulator_province)
    return None


def _complaint(complaint_id: int) -> Complaint:
    complaint = db.session.get(Complaint, complaint_id)
    if complaint is None or not complaint_service.may_handle(current_user, complaint.organization):
        abort(404)
    return complaint


def _campaign(campaign_id: int) -> Campaign:
    campaign = db.session.get(Campaign, campaign_id)
    if campaign is None or campaign.status == "draft":
        abort(404)
    if not suspensions.may_suspend(current_user, campaign):
        abort(404)
    return campaign


@bp.get("/complaints")
@regulator_required
def complaints():  # type: ignore[no-untyped-def]
    today = today_cst()
    return render_template(
        "enforcement/complaints.html",
        rows=complaint_service.queue(db.session, _province()),
        today=today,
        statuses=STATUS_LABELS,
        categories=CATEGORY_LABELS,
    )


@bp.get("/complaints/<int:complaint_id>")
@regulator_required
def complaint(complaint_id: int):  # type: ignore[no-untyped-def]
    return _show(_complaint(complaint_id), ReplyForm()), 200


def _show(complaint: Complaint, form: ReplyForm) -> str:
    return render_template(
        "enforcement/complaint.html",
        complaint=complaint,
        form=form,
        today=today_cst(),
        statuses=STATUS_LABELS,
        categories=CATEGORY_LABELS,
    )


def _step(complaint_id: int, action) -> object:  # type: ignore[no-untyped-def]
    complaint = _complaint(complaint_id)
    try:
        action(complaint)
    except complaint_service.ComplaintError as error:
        uow.discard()
        flash(error.text(), "error")
    return redirect(url_for("enforcement.complaint", complaint_id=complaint.id))


@bp.post("/complaints/<int:complaint_id>/review")
@regulator_required
def review(complaint_id: int):  # type: ignore[no-untyped-def]
    now = datetime.now(UTC)
    return _step(
        complaint_id, lambda c: complaint_service.start_review(db.session, current_user, c, now)
    )


@bp.post("/complaints/<int:complaint_id>/close")
@regulator_required
def close(complaint_id: int):  # type: ignore[no-untyped-def]
    now = datetime.now(UTC)
    return _step(
        complaint_id, lambda c: complaint_service.close_complaint(db.session, current_user, c, now)
    )


@bp.post("/complaints/<int:complaint_id>/reply")
@regulator_required
def reply(complaint_id: int):  # type: ignore[no-untyped-def]
    complaint = _complaint(complaint_id)
    form = ReplyForm()
    if form.validate_on_submit():
        try:
            complaint_service.reply_to_complaint(
                db.session, current_user, complaint, form.reply.data, datetime.now(UTC)
            )
        except complaint_service.ComplaintError as error:
            uow.discard()
            form.reply.errors = [*form.reply.errors, error.text()]
        else:
            flash(_("The reply is recorded."), "success")
            return redirect(url_for("enforcement.complaint", complaint_id=complaint.id))
    return _show(complaint, form), 400


@bp.get("/complaints/<int:complaint_id>/evidence")
@regulator_required
def evidence(complaint_id: int):  # type: ignore[no-untyped-def]
    complaint = _complaint(complaint_id)
    if not complaint.evidence_sha256 or not complaint.evidence_type:
        abort(404)
    response = uploads.send_stored(
        current_app.config["UPLOAD_DIR"],
        complaint.evidence_sha256,
        complaint.evidence_type,
        f"complaint-{complaint.id}.{uploads.EXTENSIONS[complaint.evidence_type]}",
    )
    return response if response is not None else abort(404)


# --- suspensions -------------------------------------------------------------------------


@bp.get("/campaigns/<int:campaign_id>")
@regulator_required
def campaign(campaign_id: int):  # type: ignore[no-untyped-def]
    return _campaign_page(_campaign(campaign_id), SuspendForm(), LiftForm()), 200


def _campaign_page(campaign: Campaign, suspend_form: SuspendForm, lift_form: LiftForm) -> str:
    return render_template(
        "enforcement/campaign.html",
        campaign=campaign,
        suspension=suspensions.active_suspension(db.session, campaign.id),
        flagged=suspensions.gifts_while_suspended(db.session, campaign.id),
        suspend_form=suspend_form,
        lift_form=lift_form,
    )


@bp.post("/campaigns/<int:campaign_id>/suspend")
@regulator_required
def suspend(campaign_id: int):  # type: ignore[no-untyped-def]
    campaign = _campaign(campaign_id)
    form = SuspendForm()
    if form.validate_on_submit():
        try:
            suspensions.suspend_campaign(
                db.session, current_user, campaign, form.reason.data, form.complaint.data
            )
        except suspensions.SuspensionError as error:
            uow.discard()
            show_error(form, error)
        else:
            flash(_("The campaign is suspended; its donors are being told."), "success")
            return redirect(url_for("enforcement.campaign", campaign_id=campaign.id))
    return _campaign_page(campaign, form, LiftForm()), 400


@bp.post("/campaigns/<int:campaign_id>/lift")
@regulator_required
def lift(campaign_id: int):  # type: ignore[no-untyped-def]
    campaign = _campaign(campaign_id)
    form = LiftForm()
    if form.validate_on_submit():
        try:
            suspensions.lift_suspension(db.session, current_user, campaign, form.note.data or "")
        except suspensions.SuspensionError as error:
            uow.discard()
            flash(error.text(), "error")
        else:
            flash(_("The suspension is lifted."), "success")
        return redirect(url_for("enforcement.campaign", campaign_id=campaign.id))
    return _campaign_page(campaign, SuspendForm(), form), 400
