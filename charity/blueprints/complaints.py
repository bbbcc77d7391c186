"""Complaints (举报) from the public: the form linked from every organization, campaign
and fund page, the acknowledgement with its reference number, and the status page
(reference + check code: the path that needs no contact details). Issue 16 point 15."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, render_template, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileField
from wtforms import BooleanField, EmailField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional

from charity.core import uow
from charity.extensions import db
from charity.models import Campaign, Fund, Organization
from charity.models.enforcement import COMPLAINT_CATEGORIES
from charity.services import complaints as service
from charity.services.uploads import DEFAULT_MAX_BYTES
from charity.web import ratelimits
from charity.web.forms import BaseForm, show_error

bp = Blueprint("complaints", __name__)

CATEGORY_LABELS = {
    "misuse_of_funds": _l("Money not used as promised"),
    "false_information": _l("False or misleading information"),
    "unlawful_fundraising": _l("Unlawful fundraising"),
    "disclosure": _l("Information not disclosed"),
    "privacy": _l("Personal data exposed"),
    "other": _l("Something else"),
}
STATUS_LABELS = {
    "received": _l("Received"),
    "in_review": _l("In review"),
    "replied": _l("Replied"),
    "closed": _l("Closed"),
}


class ComplaintForm(BaseForm):
    category = SelectField(
        _l("What is it about?"),
        choices=[SelectChoice(c, CATEGORY_LABELS[c]) for c in COMPLAINT_CATEGORIES],
        validators=[DataRequired()],
    )
    body = TextAreaField(
        _l("What happened?"), validators=[DataRequired(), Length(max=service.BODY_MAX)]
    )
    anonymous = BooleanField(_l("Complain anonymously (no name or contact)"), default=True)
    name = StringField(_l("Your name"), validators=[Length(max=100)])
    email = EmailField(_l("Email"), validators=[Optional(), Length(max=254)])
    phone = StringField(_l("Phone"), validators=[Optional(), Length(max=32)])
    evidence = FileField(_l("Evidence (optional: PDF or image, at most 5 MB)"))
    #: A field people never see (hidden by CSS): bots fill it in.
    website = StringField(_l("Leave this empty"), validators=[Length(max=200)])


class CheckForm(BaseForm):
    reference = StringField(_l("Reference number"), validators=[DataRequired(), Length(max=32)])
    code = StringField(_l("Check code"), validators=[DataRequired(), Length(max=16)])


def _subject(org_id: int) -> tuple[Organization, Campaign | None, Fund | None]:
    """The organization and, from ?campaign= or ?fund=, which of its campaigns or funds."""
    organization = db.session.get(Organization, org_id)
    if organization is None or not organization.is_verified:
        abort(404)
    campaign = fund = None
    if (campaign_id := request.args.get("campaign", type=int)) is not None:
        campaign = db.session.get(Campaign, campaign_id)
        if campaign is None or campaign.organization_id != org_id or campaign.status == "draft":
            abort(404)
    elif (fund_id := request.args.get("fund", type=int)) is not None:
        fund = db.session.get(Fund, fund_id)
        if fund is None or fund.organization_id != org_id:
            abort(404)
    return organization, campaign, fund


@bp.route("/orgs/<int:org_id>/complaints/new", methods=["GET", "POST"])
@ratelimits.complaint
def new(org_id: int):  # type: ignore[no-untyped-def]
    organization, campaign, fund = _subject(org_id)
    form = ComplaintForm()
    if form.validate_on_submit():
        if form.website.data:  # the honeypot: answer as if accepted, keep nothing
            return render_template("complaints/received.html", complaint=None, code=""), 201
        command = service.NewComplaint(
            organization_id=organization.id,
            campaign_id=campaign.id if campaign else None,
            fund_id=fund.id if fund else None,
            category=form.category.data, body=form.body.data or "",
            is_anonymous=bool(form.anonymous.data), name=form.name.data or "",
            email=form.email.data or "", phone=form.phone.data or "",
            evidence=form.evidence.data.read(DEFAULT_MAX_BYTES + 1) if form.evidence.data else None,
        )  # fmt: skip
        try:
            complaint, code = service.submit_complaint(
                db.session, command, current_app.config["UPLOAD_DIR"]
            )
        except service.ComplaintError as error:
            uow.discard()
            show_error(form, error, fallback_field="body")
        else:
            return render_template("complaints/received.html", complaint=complaint, code=code), 201
    status = 400 if request.method == "POST" else 200
    return render_template(
        "complaints/new.html", form=form, organization=organization, campaign=campaign, fund=fund
    ), status


@bp.route("/complaints/check", methods=["GET", "POST"])
@ratelimits.complaint
def check():  # type: ignore[no-untyped-def]
    """The status and the reply, for whoever holds the reference and the check code."""
    form = CheckForm()
    complaint, not_found = None, False
    if form.validate_on_submit():
        complaint = service.find_by_reference(db.session, form.reference.data, form.code.data)
        if complaint is None:
            not_found = True
            form.code.errors = [*form.code.errors, _("No complaint with this reference and code.")]
    # A wrong reference or code is a 404, which counts against the rate limit (a refused
    # form does not): guessing codes is slow.
    status = 200 if request.method == "GET" or complaint else (404 if not_found else 400)
    return render_template(
        "complaints/check.html", form=form, complaint=complaint, statuses=STATUS_LABELS
    ), status
