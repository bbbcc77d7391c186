"""The finance bureau's receipt (财政电子票据) for gifts: an organization's finance members
record the bills they issued, one by one or from a CSV file, and the donor downloads the
bill's file from the gift's page (issue 17 point 5)."""

from __future__ import annotations

import sqlalchemy as sa
from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf.file import FileField, FileRequired
from wtforms import DateField, StringField
from wtforms.validators import DataRequired, Length

from charity.core import uow
from charity.core.permissions import require_org_role
from charity.extensions import db
from charity.models import Donation, Organization
from charity.services import official_receipts as svc
from charity.services import uploads
from charity.web.forms import BaseForm, show_error

bp = Blueprint("official_receipts", __name__)

FINANCE_ROLES = ("owner", "finance")
MAX_CSV_BYTES = 1024 * 1024


class BillForm(BaseForm):
    bill_code = StringField(_l("Bill code (票据代码)"), validators=[DataRequired(), Length(max=20)])
    bill_number = StringField(
        _l("Bill number (票据号码)"), validators=[DataRequired(), Length(max=20)]
    )
    check_code = StringField(_l("Check code (校验码)"), validators=[DataRequired(), Length(max=20)])
    issued_on = DateField(_l("Date issued"), validators=[DataRequired()])
    file = FileField(_l("The bill's file (PDF or OFD, optional)"))


class ImportForm(BaseForm):
    csv_file = FileField(_l("CSV file"), validators=[FileRequired()])


def _organization(org_id: int) -> Organization:
    organization = db.session.get(Organization, org_id) or abort(404)
    require_org_role(org_id, *FINANCE_ROLES)
    return organization


def _gifts(org_id: int) -> list[Donation]:
    """Received gifts, those whose donor asked for a bill first, newest first."""
    return list(
        db.session.scalars(
            sa.select(Donation)
            .where(Donation.organization_id == org_id, Donation.status.in_(svc.RECEIVED))
            .order_by(Donation.invoice_title.is_(None), Donation.id.desc())
            .limit(500)
        )
    )


def _index_page(organization: Organization, form: ImportForm, problems=(), status: int = 200):  # type: ignore[no-untyped-def]
    gifts = _gifts(organization.id)
    bills = svc.official_receipts_by_donation(db.session, [gift.id for gift in gifts])
    return render_template(
        "official_receipts/index.html",
        organization=organization,
        gifts=gifts,
        bills=bills,
        form=form,
        problems=problems,
        columns=[names[0] for names in svc.COLUMNS.values()],
    ), status


@bp.get("/orgs/<int:org_id>/official-receipts")
def index(org_id: int):  # type: ignore[no-untyped-def]
    return _index_page(_organization(org_id), ImportForm())


@bp.post("/orgs/<int:org_id>/official-receipts/import")
def import_csv(org_id: int):  # type: ignore[no-untyped-def]
    organization = _organization(org_id)
    form = ImportForm()
    if not form.validate_on_submit():
        return _index_page(organization, form, status=400)
    try:
        text = form.csv_file.data.read(MAX_CSV_BYTES + 1)
        if len(text) > MAX_CSV_BYTES:
            raise UnicodeError
        text = text.decode("utf-8-sig")
    except UnicodeError:
        form.csv_file.errors = [_("Upload a CSV file in UTF-8, at most 1 MB.")]
        return _index_page(organization, form, status=400)
    try:
        count = svc.import_csv(db.session, current_user, org_id, text)
    except svc.ImportRefusedError as refused:
        uow.discard()
        problems = [(row, error.text()) for row, error in refused.problems]
        return _index_page(organization, form, problems, status=400)
    flash(_("%(count)s bills were recorded.", count=count), "success")
    return redirect(url_for(".index", org_id=org_id), 303)


@bp.route("/orgs/<int:org_id>/official-receipts/<int:donation_id>", methods=["GET", "POST"])
def record(org_id: int, donation_id: int):  # type: ignore[no-untyped-def]
    organization = _organization(org_id)
    donation = db.session.get(Donation, donation_id)
    if donation is None or donation.organization_id != org_id:
        abort(404)
    existing = svc.official_receipt_for(db.session, donation.id)
    form = BillForm()
    if existing is None and form.validate_on_submit():
        try:
            bill = svc.read_bill(
                form.bill_code.data, form.bill_number.data, form.check_code.data,
                form.issued_on.data,
            )  # fmt: skip
            bill_file = _store_bill(form)
            svc.record_official_receipt(
                db.session, current_user, org_id, donation.id, bill, bill_file
            )
        except (svc.OfficialReceiptError, uploads.UploadError) as error:
            uow.discard()
            show_error(
                form,
                error,
                fallback_field="file" if isinstance(error, uploads.UploadError) else None,
            )
        else:
            flash(_("The bill was recorded; the donor can see it now."), "success")
            return redirect(url_for(".index", org_id=org_id), 303)
    status = 400 if request.method == "POST" else 200
    return render_template(
        "official_receipts/record.html",
        organization=organization,
        donation=donation,
        existing=existing,
        form=form,
    ), status


def _store_bill(form: BillForm) -> svc.BillFile | None:
    if not form.file.data or not form.file.data.filename:
        return None
    limit = uploads.DEFAULT_MAX_BYTES
    data = form.file.data.read(limit + 1)
    media = svc.bill_file_type(data)
    stored = uploads.store_file(current_app.config["UPLOAD_DIR"], data, limit, media=media)
    return svc.BillFile(stored.sha256, stored.content_type, stored.size)


@bp.get("/donations/<token>/official-receipt")
def download(token: str):  # type: ignore[no-untyped-def]
    """The bill's file, for whoever holds the gift's unguessable link (the donor)."""
    donation = db.session.scalar(sa.select(Donation).where(Donation.public_token == token))
    if donation is None:
        abort(404)
    bill = svc.official_receipt_for(db.session, donation.id)
    if bill is None or not bill.file_sha256 or not bill.file_type:
        abort(404)
    response = uploads.send_stored(
        current_app.config["UPLOAD_DIR"],
        bill.file_sha256,
        bill.file_type,
        f"{bill.bill_code}-{bill.bill_number}.{bill.file_extension}",
        sniffer=svc.sniff_bill,
    )
    if response is None:
        abort(404)
    response.headers["Cache-Control"] = "private, no-store"
    return response
