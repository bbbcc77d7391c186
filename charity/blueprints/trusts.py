"""The public registry of charitable trusts (慈善信托) and its entry form for admins and
regulators (charity.services.trusts decides)."""

from __future__ import annotations

import re

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import select
from wtforms import DateField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, Optional

from charity.blueprints.orgs_forms import is_english
from charity.compliance.presentation.forms import FenField
from charity.compliance.readmodels.obligations import status_expression
from charity.compliance.rules import law as r
from charity.core import regions, uow
from charity.core.clock import today_cst
from charity.core.permissions import regulator_required
from charity.extensions import db
from charity.models import Organization
from charity.models.disclosure import Disclosure, Obligation
from charity.models.trust import CharitableTrust
from charity.services import trusts as service
from charity.web.forms import BaseForm, show_error

bp = Blueprint("trusts", __name__)
_USCC = re.compile(r"^[0-9A-HJ-NPQRTUWXY]{18}$")


class TrustForm(BaseForm):
    name = StringField(_l("Name of the trust"), validators=[DataRequired(), Length(max=200)])
    filing_number = StringField(
        _l("Filing number (备案编号)"), validators=[DataRequired(), Length(max=64)]
    )
    filing_date = DateField(_l("Filing date"), validators=[InputRequired()])
    filing_authority = StringField(
        _l("Filed with (civil affairs department)"), validators=[DataRequired(), Length(max=100)]
    )
    province = SelectField(_l("Province"), choices=[])
    established_on = DateField(_l("Set up on"), validators=[InputRequired()])
    term_end = DateField(_l("Term ends (empty: no fixed term)"), validators=[Optional()])
    trustee_uscc = StringField(
        _l("Trustee: a charity on the platform (its USCC)"), validators=[Optional(), Length(max=18)]
    )
    trustee_company = StringField(
        _l("Trustee: or a trust company (its name)"), validators=[Optional(), Length(max=200)]
    )
    purpose = TextAreaField(_l("Purpose"), validators=[DataRequired(), Length(max=5000)])
    assets = FenField(_l("Trust property (yuan)"), validators=[DataRequired()])
    assets_note = StringField(_l("Property other than money"), validators=[Length(max=500)])
    settlors = TextAreaField(
        _l("Settlors: one a line, name, amount in yuan, and a charity's USCC if it has one"),
        validators=[DataRequired(), Length(max=5000)],
    )


@bp.app_template_global("trust_totals")
def trust_totals(province: str | None) -> tuple[int, int]:
    """For the regulator's dashboard: (trusts, total property) in scope, one query."""
    return service.totals(db.session, province)


def _org_by_uscc(uscc: str) -> int | None:
    return db.session.scalar(select(Organization.id).where(Organization.uscc == uscc.upper()))


def _settlors(text: str) -> tuple[service.Settlor, ...]:
    """Lines of ``name, amount[, USCC]`` (commas: , or ，)."""
    found = []
    for line in text.splitlines():
        parts = [p.strip() for p in re.split(r"[,，]", line) if p.strip()]
        if not parts:
            continue
        amount = FenField.parse(parts[1]) if len(parts) > 1 else 0
        if amount is None:
            raise service.TrustError(_l("Enter an amount in yuan, zero or more."), "settlors")
        org_id = None
        if len(parts) > 2:
            org_id = _org_by_uscc(parts[2]) if _USCC.match(parts[2].upper()) else None
            if org_id is None:
                raise service.TrustError(_l("Choose a verified charity."), "settlors")
        found.append(service.Settlor(parts[0], amount, org_id))
    return tuple(found)


def _command(form: TrustForm) -> service.NewTrust:
    trustee_org_id = None
    if form.trustee_uscc.data:
        trustee_org_id = _org_by_uscc(form.trustee_uscc.data.strip())
        if trustee_org_id is None:
            raise service.TrustError(_l("Choose a verified charity."), "trustee_uscc")
    return service.NewTrust(
        name=form.name.data or "",
        filing_number=form.filing_number.data or "",
        filing_date=form.filing_date.data,
        filing_authority=form.filing_authority.data or "",
        province=form.province.data or "",
        purpose=form.purpose.data or "",
        assets_fen=form.assets.fen or 0,
        established_on=form.established_on.data,
        settlors=_settlors(form.settlors.data or ""),
        trustee_org_id=trustee_org_id,
        trustee_company=form.trustee_company.data or "",
        assets_note=form.assets_note.data or "",
        term_end=form.term_end.data,
    )


@bp.get("/trusts")
def index():  # type: ignore[no-untyped-def]
    wanted = request.args.get("province") or None
    province = wanted if wanted and regions.is_province(wanted) else None
    return render_template(
        "trusts/index.html",
        trusts=service.registry(db.session, province),
        totals=service.totals(db.session, province),
        province=province,
        can_record=service.can_record(current_user),
    )


@bp.get("/trusts/<int:trust_id>")
def show(trust_id: int):  # type: ignore[no-untyped-def]
    trust = db.session.get(CharitableTrust, trust_id)
    if trust is None:
        abort(404)
    today = today_cst()
    items = db.session.execute(
        select(Obligation, status_expression(today))
        .where(Obligation.subject_key == trust.subject_key)
        .order_by(Obligation.due_date.desc())
    ).all()
    disclosures = db.session.scalars(
        select(Disclosure)
        .where(Disclosure.subject_key == trust.subject_key)
        .order_by(Disclosure.first_published_at.desc())
    ).all()
    return render_template(
        "trusts/show.html",
        trust=trust,
        items=[(ob, status) for ob, status in items],
        disclosures=disclosures,
        labels=r.TYPE_LABELS,
    )


@bp.route("/trusts/new", methods=["GET", "POST"])
@regulator_required
def new():  # type: ignore[no-untyped-def]
    form = TrustForm()
    scoped = current_user.regulator_province if current_user.is_regulator else None
    form.province.choices = [
        choice
        for choice in regions.province_choices(is_english())
        if not scoped or choice[0] == scoped
    ]
    if form.validate_on_submit():
        try:
            trust = service.record_trust(db.session, current_user, _command(form))
        except service.TrustError as error:
            uow.discard()
            show_error(form, error, whole_form="form")
        except PermissionError:
            abort(403)
        else:
            flash(_("Saved."), "success")
            return redirect(url_for("trusts.show", trust_id=trust.id))
    status = 400 if request.method == "POST" else 200
    return render_template("trusts/new.html", form=form), status
