"""Disbursement requests and decisions (four eyes), and their evidence files."""

from __future__ import annotations

import sqlalchemy as sa
from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf.file import FileField, FileRequired
from wtforms import RadioField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length

from charity.blueprints.two_factor import require_reauth
from charity.core import uow
from charity.core.permissions import can_manage_org, require_login
from charity.extensions import db
from charity.models import Campaign, Disbursement, Fund, Organization
from charity.services import disbursements as svc
from charity.services import uploads
from charity.services.pools import Pool, available_fen
from charity.web.forms import BaseForm, YuanField, show_error
from charity.web.labels import PURPOSE_LABELS

bp = Blueprint("disbursements", __name__)


class RequestForm(BaseForm):
    amount = YuanField(_l("Amount (yuan)"), validators=[DataRequired(), Length(max=20)])
    purpose_category = SelectField(
        _l("Purpose category"), choices=[SelectChoice(k, v) for k, v in PURPOSE_LABELS.items()]
    )
    purpose = TextAreaField(
        _l("What the money is for"), validators=[DataRequired(), Length(max=2000)]
    )
    beneficiary_kind = RadioField(
        _l("Beneficiary"),
        choices=[
            SelectChoice("organization", _l("An organization (named publicly)")),
            SelectChoice(
                "individual", _l("An individual (shown publicly only as an anonymous label)")
            ),
        ],
        default="organization",
    )
    beneficiary_name = StringField(
        _l("Beneficiary's name"), validators=[DataRequired(), Length(max=200)]
    )
    evidence = FileField(
        _l("Evidence (PDF or image: invoice, contract, receipt)"), validators=[FileRequired()]
    )


def _pool_from_args() -> tuple[Pool, Campaign | Fund]:
    fund_id = request.args.get("fund", type=int)
    campaign_id = request.args.get("campaign", type=int)
    if fund_id is not None:
        return Pool("fund", fund_id), db.session.get(Fund, fund_id) or abort(404)
    if campaign_id is not None:
        return Pool("campaign", campaign_id), db.session.get(Campaign, campaign_id) or abort(404)
    abort(404)


def _store_evidence(form: RequestForm) -> uploads.StoredFile | None:
    limit = current_app.config.get("EVIDENCE_MAX_BYTES", uploads.DEFAULT_MAX_BYTES)
    data = form.evidence.data.read(limit + 1)
    try:
        return uploads.store_file(current_app.config["UPLOAD_DIR"], data, limit)
    except uploads.UploadError as exc:
        form.evidence.errors = [*form.evidence.errors, _(str(exc))]
        return None


@bp.route("/new", methods=["GET", "POST"])
def new():  # type: ignore[no-untyped-def]
    require_login()
    pool, row = _pool_from_args()
    if not svc.can_request(current_user, row):
        abort(403)
    form = RequestForm()
    if form.validate_on_submit() and (stored := _store_evidence(form)) is not None:
        command = svc.DisbursementRequest(
            pool=pool,
            amount_fen=form.amount.fen or 0,
            purpose_category=form.purpose_category.data,
            purpose=form.purpose.data,
            beneficiary_kind=form.beneficiary_kind.data,
            beneficiary_name=form.beneficiary_name.data,
            evidence=stored,
        )
        try:
            made = svc.request_disbursement(db.session, current_user, command)
        except svc.DisbursementError as exc:
            uow.discard()
            show_error(form, exc)
        else:
            flash(_("The request was sent for approval."), "success")
            return redirect(url_for("disbursements.show", disbursement_id=made.id))
    status = 400 if request.method == "POST" else 200
    return render_template(
        "disbursements/new.html",
        form=form,
        source=row,
        available=available_fen(db.session, pool),
    ), status


def _disbursement(disbursement_id: int) -> Disbursement:
    return db.session.get(Disbursement, disbursement_id) or abort(404)


def _is_staff(d: Disbursement) -> bool:
    return bool(current_user.is_authenticated) and (
        svc.can_decide(current_user, d)
        or can_manage_org(current_user, d.organization_id, ("owner", "finance"))
    )


@bp.get("/<int:disbursement_id>")
def show(disbursement_id: int):  # type: ignore[no-untyped-def]
    """Executed disbursements are public; requests are seen by those who decide on them."""
    d = _disbursement(disbursement_id)
    staff = _is_staff(d)
    if d.status != "executed" and not staff:
        abort(404)
    can_decide = staff and svc.can_decide(current_user, d) and current_user.id != d.requested_by_id
    return render_template(
        "disbursements/show.html",
        d=d,
        staff=staff,
        can_decide=can_decide,
        evidence_visible=svc.evidence_visible_to(current_user, d),
        approval_refusal=svc.approval_refusal(current_user, d) if can_decide else None,
        can_execute=staff and can_manage_org(current_user, d.organization_id, svc.FINANCE_ROLES),
    )


@bp.get("/<int:disbursement_id>/evidence")
def evidence(disbursement_id: int):  # type: ignore[no-untyped-def]
    d = _disbursement(disbursement_id)
    if d.status != "executed" and not _is_staff(d):
        abort(404)
    if not svc.evidence_visible_to(current_user, d):
        abort(403)  # an individual's evidence names them (issue 15 finding 7)
    extension = uploads.EXTENSIONS.get(d.evidence_content_type, "bin")
    response = uploads.send_stored(
        current_app.config["UPLOAD_DIR"],
        d.evidence_sha256,
        d.evidence_content_type,
        f"evidence-{d.id}.{extension}",
    )
    return response or abort(404)


def _decide(disbursement_id: int, action, message: str):  # type: ignore[no-untyped-def]
    require_login()
    d = _disbursement(disbursement_id)
    try:
        action(d)
    except PermissionError:
        uow.discard()
        abort(403)
    except svc.DisbursementError as exc:
        uow.discard()
        flash(exc.text(), "error")
        return render_template(
            "disbursements/show.html", d=d, staff=True, can_decide=False, can_execute=False
        ), 422
    flash(message, "success")
    return redirect(url_for("disbursements.show", disbursement_id=d.id))


@bp.post("/<int:disbursement_id>/approve")
def approve(disbursement_id: int):  # type: ignore[no-untyped-def]
    require_login()
    if svc.can_decide(current_user, _disbursement(disbursement_id)):
        require_reauth()  # approving money leaving (issue 15): a fresh code
    return _decide(
        disbursement_id,
        lambda d: svc.approve_disbursement(db.session, current_user, d.id),
        _("Approved."),
    )


@bp.post("/<int:disbursement_id>/reject")
def reject(disbursement_id: int):  # type: ignore[no-untyped-def]
    reason = (request.form.get("reason") or "")[:1000]
    return _decide(
        disbursement_id,
        lambda d: svc.reject_disbursement(db.session, current_user, d.id, reason),
        _("Rejected."),
    )


@bp.post("/<int:disbursement_id>/execute")
def execute(disbursement_id: int):  # type: ignore[no-untyped-def]
    reference = (request.form.get("payment_reference") or "")[:100]
    return _decide(
        disbursement_id,
        lambda d: svc.execute_disbursement(db.session, current_user, d.id, reference),
        _("Recorded as paid."),
    )


@bp.get("/org/<int:org_id>")
def queue(org_id: int):  # type: ignore[no-untyped-def]
    """An organization's requests, for its finance staff and its funds' committee members."""
    require_login()
    organization = db.session.get(Organization, org_id) or abort(404)
    rows = db.session.scalars(
        sa.select(Disbursement)
        .where(Disbursement.organization_id == org_id)
        .order_by(Disbursement.id.desc())
        .limit(500)
    ).all()
    visible = [d for d in rows if svc.can_decide(current_user, d)]
    if not visible and not can_manage_org(current_user, org_id, svc.FINANCE_ROLES):
        abort(403)
    staff = can_manage_org(current_user, org_id, svc.FINANCE_ROLES)
    sources = {
        "funds": db.session.scalars(
            sa.select(Fund).where(Fund.organization_id == org_id, Fund.status == "active")
        ).all()
        if staff
        else [],
        "campaigns": db.session.scalars(
            sa.select(Campaign).where(
                Campaign.organization_id == org_id, Campaign.status != "draft"
            )
        ).all()
        if staff
        else [],
    }
    return render_template(
        "disbursements/queue.html", organization=organization, rows=visible, sources=sources
    )
