"""Offline gifts: a finance member records a bank transfer or a cash box with evidence."""

from __future__ import annotations

import sqlalchemy as sa
from flask import Blueprint, abort, current_app, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf.file import FileField, FileRequired
from wtforms import (
    BooleanField,
    DateField,
    DecimalField,
    EmailField,
    RadioField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Email, Length, Optional

from charity.core import uow
from charity.core.permissions import require_org_role
from charity.extensions import db
from charity.models import Campaign, Donation, InKindDetail, OfflineGiftDetail, Organization
from charity.services import offline, uploads
from charity.web.forms import BaseForm, YuanField, show_error

bp = Blueprint("offline", __name__)

FINANCE_ROLES = ("owner", "finance")


class OfflineGiftForm(BaseForm):
    kind = RadioField(
        _l("How the gift arrived"),
        choices=[
            SelectChoice("bank_transfer", _l("Bank transfer")),
            SelectChoice("cash_box", _l("Cash box or event collection")),
        ],
        validators=[DataRequired()],
    )
    campaign_id = SelectField(_l("Campaign"), choices=[], coerce=str)
    amount = YuanField(_l("Amount (yuan)"), validators=[DataRequired(), Length(max=20)])
    received_on = DateField(_l("Date received or counted"), validators=[DataRequired()])
    payer_name = StringField(_l("Payer (bank transfer)"), validators=[Length(max=100)])
    bank_reference = StringField(_l("Bank reference"), validators=[Length(max=100)])
    event_name = StringField(_l("Event (cash box)"), validators=[Length(max=200)])
    place = StringField(_l("Place"), validators=[Length(max=200)])
    counted_by_1 = StringField(_l("Counted by"), validators=[Length(max=100)])
    counted_by_2 = StringField(_l("And by (a second person)"), validators=[Length(max=100)])
    donor_email = EmailField(
        _l("Payer's email (for a receipt)"), validators=[Optional(), Email(), Length(max=254)]
    )
    receipt_wanted = BooleanField(_l("The payer asked for a receipt"))
    consent_show_name = BooleanField(_l("The payer agreed to be named publicly"))
    evidence = FileField(
        _l("Evidence (bank slip or count sheet: PDF or image)"), validators=[FileRequired()]
    )


def _campaign_choices(org_id: int) -> list[SelectChoice]:
    campaigns = db.session.scalars(
        sa.select(Campaign)
        .where(Campaign.organization_id == org_id, Campaign.status != "draft")
        .order_by(Campaign.id.desc())
    ).all()
    return [SelectChoice("", _l("No campaign (general funds)"))] + [
        SelectChoice(str(c.id), c.title) for c in campaigns
    ]


@bp.route("/orgs/<int:org_id>/offline-gifts/new", methods=["GET", "POST"])
def new(org_id: int):  # type: ignore[no-untyped-def]
    organization = db.session.get(Organization, org_id) or abort(404)
    require_org_role(org_id, *FINANCE_ROLES)
    form = OfflineGiftForm()
    form.campaign_id.choices = _campaign_choices(org_id)
    if form.validate_on_submit():
        command = offline.NewOfflineGift(
            organization_id=org_id,
            campaign_id=int(form.campaign_id.data) if form.campaign_id.data else None,
            kind=form.kind.data,
            amount_fen=form.amount.fen or 0,
            received_on=form.received_on.data,
            evidence=form.evidence.data.read(offline.EVIDENCE_MAX_BYTES + 1),
            payer_name=form.payer_name.data or "",
            bank_reference=form.bank_reference.data or "",
            event_name=form.event_name.data or "",
            place=form.place.data or "",
            counted_by_1=form.counted_by_1.data or "",
            counted_by_2=form.counted_by_2.data or "",
            donor_email=form.donor_email.data or "",
            receipt_wanted=form.receipt_wanted.data,
            consent_show_name=form.consent_show_name.data,
        )
        try:
            donation = offline.record_offline_gift(
                db.session, current_user, command, current_app.config["UPLOAD_DIR"]
            )
        except offline.OfflineGiftError as exc:
            uow.discard()
            show_error(form, exc, fallback_field="kind")
        else:
            return _recorded(org_id, donation, _("The offline gift was recorded."))
    status = 422 if form.is_submitted() else 200
    return render_template("offline/new.html", organization=organization, form=form), status


def _recorded(org_id: int, donation: Donation, done: str):  # type: ignore[no-untyped-def]
    """Counted at once, or (above OFFLINE_FOUR_EYES_FEN) waiting for a second person."""
    if donation.status == "pending":
        flash(
            _(
                "The gift was recorded and waits for a second person to confirm it: it is "
                "counted, and its receipt issued, only then."
            ),
            "success",
        )
        return redirect(url_for("money_approvals.index", org_id=org_id), 303)
    flash(done, "success")
    return redirect(url_for("offline.index", org_id=org_id), 303)


@bp.get("/orgs/<int:org_id>/offline-gifts")
def index(org_id: int):  # type: ignore[no-untyped-def]
    organization = db.session.get(Organization, org_id) or abort(404)
    require_org_role(org_id, *FINANCE_ROLES)
    rows = db.session.execute(
        sa.select(Donation, OfflineGiftDetail)
        .join(OfflineGiftDetail, OfflineGiftDetail.donation_id == Donation.id)
        .where(Donation.organization_id == org_id)
        .order_by(Donation.id.desc())
        .limit(500)
    ).all()
    goods = db.session.execute(
        sa.select(Donation, InKindDetail)
        .join(InKindDetail, InKindDetail.donation_id == Donation.id)
        .where(Donation.organization_id == org_id)
        .order_by(Donation.id.desc())
        .limit(500)
    ).all()
    return render_template("offline/index.html", organization=organization, rows=rows, goods=goods)


@bp.get("/orgs/<int:org_id>/offline-gifts/<int:donation_id>/evidence")
def evidence(org_id: int, donation_id: int):  # type: ignore[no-untyped-def]
    require_org_role(org_id, *FINANCE_ROLES)
    donation = db.session.get(Donation, donation_id)
    detail = db.session.get(OfflineGiftDetail, donation_id)
    if donation is None or detail is None or donation.organization_id != org_id:
        abort(404)
    response = uploads.send_stored(
        current_app.config["UPLOAD_DIR"],
        detail.evidence_sha256,
        detail.evidence_content_type,
        f"evidence-{donation.id}.{uploads.EXTENSIONS[detail.evidence_content_type]}",
    )
    if response is None:
        abort(404)
    return response


class InKindForm(BaseForm):
    campaign_id = SelectField(_l("Campaign"), choices=[], coerce=str)
    description = StringField(
        _l("Goods (what was given)"), validators=[DataRequired(), Length(max=300)]
    )
    quantity = DecimalField(_l("Quantity"), places=3, validators=[DataRequired()])
    unit = StringField(_l("Unit (e.g. boxes, kg)"), validators=[DataRequired(), Length(max=20)])
    valuation = YuanField(_l("Value (yuan)"), validators=[DataRequired(), Length(max=20)])
    valuation_basis = StringField(
        _l("How the value was set (invoice, market price, appraisal)"),
        validators=[DataRequired(), Length(max=300)],
    )
    received_on = DateField(_l("Date received"), validators=[DataRequired()])
    donor_name = StringField(_l("Donor (optional)"), validators=[Length(max=100)])
    donor_email = EmailField(
        _l("Donor's email (for a receipt)"), validators=[Optional(), Email(), Length(max=254)]
    )
    receipt_wanted = BooleanField(_l("The donor asked for a receipt"))
    consent_show_name = BooleanField(_l("The donor agreed to be named publicly"))


@bp.route("/orgs/<int:org_id>/in-kind-gifts/new", methods=["GET", "POST"])
def new_in_kind(org_id: int):  # type: ignore[no-untyped-def]
    organization = db.session.get(Organization, org_id) or abort(404)
    require_org_role(org_id, *FINANCE_ROLES)
    form = InKindForm()
    form.campaign_id.choices = _campaign_choices(org_id)
    if form.validate_on_submit():
        command = offline.NewInKindGift(
            organization_id=org_id,
            campaign_id=int(form.campaign_id.data) if form.campaign_id.data else None,
            description=form.description.data,
            quantity=form.quantity.data,
            unit=form.unit.data,
            valuation_fen=form.valuation.fen or 0,
            valuation_basis=form.valuation_basis.data,
            received_on=form.received_on.data,
            donor_name=form.donor_name.data or "",
            donor_email=form.donor_email.data or "",
            receipt_wanted=form.receipt_wanted.data,
            consent_show_name=form.consent_show_name.data,
        )
        try:
            donation = offline.record_in_kind_gift(db.session, current_user, command)
        except offline.OfflineGiftError as exc:
            uow.discard()
            show_error(form, exc, fallback_field="description")
        else:
            return _recorded(org_id, donation, _("The in-kind gift was recorded."))
    status = 422 if form.is_submitted() else 200
    return render_template("offline/in_kind.html", organization=organization, form=form), status


class ReverseForm(BaseForm):
    reason = TextAreaField(
        _l("Why this record is wrong"), validators=[DataRequired(), Length(max=500)]
    )


@bp.route("/orgs/<int:org_id>/gifts/<int:donation_id>/reverse", methods=["GET", "POST"])
def reverse(org_id: int, donation_id: int):  # type: ignore[no-untyped-def]
    require_org_role(org_id, *FINANCE_ROLES)
    donation = db.session.get(Donation, donation_id)
    if donation is None or donation.organization_id != org_id:
        abort(404)
    form = ReverseForm()
    if form.validate_on_submit():
        command = offline.ReverseGift(org_id, donation.id, form.reason.data)
        try:
            offline.reverse_gift(db.session, current_user, command)
        except offline.OfflineGiftError as exc:
            uow.discard()
            form.reason.errors = [*form.reason.errors, exc.text()]
        else:
            flash(_("The gift was reversed."), "success")
            return redirect(url_for("offline.index", org_id=org_id), 303)
    status = 422 if form.is_submitted() else 200
    return render_template("offline/reverse.html", donation=donation, form=form), status
