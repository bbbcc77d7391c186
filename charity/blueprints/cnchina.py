"""慈善中国 interoperation (issue 16 point 16): every organization's disclosures as a
CSV/XLSX in the national platform's fields (public, like the disclosures themselves), and
the form where members record a disclosure's entry number and address on 慈善中国."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from wtforms import StringField
from wtforms.validators import DataRequired, Length

from charity.compliance.presentation import cnexport
from charity.core import uow
from charity.core.clock import today_cst
from charity.extensions import db
from charity.models import Organization
from charity.models.disclosure import Disclosure
from charity.models.enforcement import CnchinaEntry
from charity.services import cnchina as service
from charity.web import links
from charity.web.exports import table_download
from charity.web.forms import BaseForm, show_error

bp = Blueprint("cnchina", __name__)


class EntryForm(BaseForm):
    entry_number = StringField(
        _l("Entry number on 慈善中国"), validators=[DataRequired(), Length(max=64)]
    )
    url = StringField(_l("Address of the entry on 慈善中国"), validators=[Length(max=500)])


@bp.app_template_global()
def cnchina_entry(disclosure_id: int) -> CnchinaEntry | None:
    return service.entry_of(db.session, disclosure_id)


@bp.get("/orgs/<int:org_id>/disclosures/cnchina.<fmt>")
def export(org_id: int, fmt: str):  # type: ignore[no-untyped-def]
    organization = db.session.get(Organization, org_id)
    if organization is None or not organization.is_verified or fmt not in ("csv", "xlsx"):
        abort(404)
    rows = cnexport.rows(
        db.session, org_id, lambda d: links.public_url("disclosures.show", disclosure_id=d)
    )
    filename = f"cnchina-{organization.uscc}-{today_cst().isoformat()}.{fmt}"
    return table_download(filename, fmt, "信息公开", cnexport.HEADERS, rows)


@bp.route("/disclosures/<int:disclosure_id>/cnchina", methods=["GET", "POST"])
def record(disclosure_id: int):  # type: ignore[no-untyped-def]
    disclosure = db.session.get(Disclosure, disclosure_id)
    if disclosure is None:
        abort(404)
    if not service.may_record(current_user, disclosure):
        abort(403)
    entry = service.entry_of(db.session, disclosure.id)
    form = EntryForm(obj=entry)
    if form.validate_on_submit():
        try:
            service.record_entry(
                db.session, current_user, disclosure, form.entry_number.data, form.url.data or ""
            )
        except service.CnchinaError as error:
            uow.discard()
            show_error(form, error, fallback_field="entry_number")
        else:
            flash(_("The 慈善中国 entry is recorded."), "success")
            return redirect(url_for("disclosures.show", disclosure_id=disclosure.id))
    return render_template(
        "cnchina/record.html", form=form, disclosure=disclosure
    ), 400 if form.errors else 200
