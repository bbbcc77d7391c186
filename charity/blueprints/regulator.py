"""The regulator's dashboard (read-only, except recording the loss of a public
fundraising qualification), for regulators (optionally scoped to their
province) and platform admins. Every table exports as CSV and XLSX; /regulator/api/
gives the same data as JSON."""

from __future__ import annotations

from datetime import date

from flask import (
    Blueprint,
    abort,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from wtforms import DateField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length

from charity.blueprints.orgs_forms import is_english
from charity.compliance.presentation.charts import bar_chart
from charity.compliance.readmodels.dashboard import (
    TABLES,
    Scope,
    build_tables,
    compliance_rates,
    org_timeline,
)
from charity.compliance.rules import law as r
from charity.core import regions, uow
from charity.core.clock import today_cst
from charity.core.permissions import regulator_required
from charity.extensions import db
from charity.models import Organization
from charity.models.organization import ORG_TYPES
from charity.services import organizations as org_service
from charity.web import table_words
from charity.web.exports import table_download
from charity.web.forms import BaseForm, show_error
from charity.web.labels import ORG_TYPE_LABELS

bp = Blueprint("regulator", __name__)
LIST_LIMIT = 100


def _scoped_province() -> str | None:
    """The province a scoped regulator is limited to (None: may see every region)."""
    if current_user.is_regulator and current_user.regulator_province:
        return str(current_user.regulator_province)
    return None


def _province() -> str | None:
    """A scoped regulator sees only their province; others may filter with ?province=
    (an unknown province is ignored)."""
    wanted = request.args.get("province") or None
    return _scoped_province() or (wanted if wanted and regions.is_province(wanted) else None)


def _scope() -> Scope:
    """The dashboard's filters from the query string: ?province=, ?org_type=,
    ?disclosure_type= (unknown values are ignored, never an error)."""
    org_type = request.args.get("org_type") or None
    kind = request.args.get("disclosure_type") or None
    return Scope(
        province=_province(),
        org_type=org_type if org_type in ORG_TYPES else None,
        disclosure_type=kind if kind in r.OBLIGATION_TYPES else None,
    )


def _filter_args(scope: Scope) -> dict[str, str]:
    """The filters as query arguments, for links that keep them (exports)."""
    return {
        name: value
        for name, value in (
            ("province", scope.province),
            ("org_type", scope.org_type),
            ("disclosure_type", scope.disclosure_type),
        )
        if value
    }


def _label(value: str) -> str:
    return str(r.TYPE_LABELS.get(value, value))


@bp.get("/")
@regulator_required
def index():  # type: ignore[no-untyped-def]
    today, scope = today_cst(), _scope()
    rates = compliance_rates(db.session, today, scope)
    tables = build_tables(db.session, today, scope, LIST_LIMIT, rates)
    english = is_english()
    charts = {
        "region": bar_chart(
            _("Compliance rate by region"),
            [(regions.province_label(x.label, english=english), x.rate) for x in rates["region"]],
        ),
        "disclosure_type": bar_chart(
            _("Compliance rate by disclosure type"),
            [(_label(x.label), x.rate) for x in rates["disclosure_type"]],
        ),
    }
    return render_template(
        "regulator/index.html",
        today=today,
        province=scope.province,
        scope=scope,
        filter_args=_filter_args(scope),
        scoped_province=_scoped_province(),
        province_choices=regions.province_choices(english=english),
        org_type_choices=[(value, ORG_TYPE_LABELS[value]) for value in ORG_TYPES],
        disclosure_type_choices=[(value, r.TYPE_LABELS[value]) for value in r.OBLIGATION_TYPES],
        rates=rates,
        tables=tables,
        readable_tables={
            name: table_words.readable(name, *table, english=english, money=table_words.page_money)
            for name, table in tables.items()
        },
        charts=charts,
        labels=r.TYPE_LABELS,
        limit=LIST_LIMIT,
    )


def _org_in_scope(org_id: int) -> Organization:
    org = db.session.get(Organization, org_id)
    province = _province()
    if org is None or (province and org.province != province):
        abort(404)
    return org


class QualificationLossForm(BaseForm):
    """CL art. 22 / MCA Order 74: the loss of the public fundraising qualification."""

    lost_on = DateField(_l("Lost on (first day without it)"), validators=[InputRequired()])
    reason = TextAreaField(_l("Reason"), validators=[DataRequired(), Length(max=2000)])
    source = StringField(
        _l("Decision (authority and document number)"),
        validators=[DataRequired(), Length(max=300)],
    )


@bp.get("/orgs/<int:org_id>")
@regulator_required
def timeline(org_id: int):  # type: ignore[no-untyped-def]
    return _timeline(_org_in_scope(org_id), QualificationLossForm()), 200


def _timeline(org: Organization, loss_form: QualificationLossForm) -> str:
    today = today_cst()
    return render_template(
        "regulator/timeline.html",
        org=org,
        items=org_timeline(db.session, org.id, today),
        labels=r.TYPE_LABELS,
        today=today,
        loss_form=loss_form,
    )


@bp.post("/orgs/<int:org_id>/qualification-loss")
@regulator_required
def qualification_loss(org_id: int):  # type: ignore[no-untyped-def]
    """A regulator (of the organization's province) or an admin records the loss of the
    public fundraising qualification; its campaigns stop taking gifts from that day."""
    org = _org_in_scope(org_id)
    form = QualificationLossForm()
    if form.validate_on_submit():
        try:
            org_service.record_qualification_loss(
                db.session, current_user, org, form.lost_on.data, form.reason.data,
                form.source.data,
            )  # fmt: skip
        except org_service.OrganizationError as error:
            uow.discard()
            show_error(form, error)
        else:
            flash(_("The loss of the qualification is recorded."), "success")
            return redirect(url_for("regulator.timeline", org_id=org.id))
    return _timeline(org, form), 400


@bp.get("/export/<name>.<fmt>")
@regulator_required
def export(name: str, fmt: str):  # type: ignore[no-untyped-def]
    name, machine = name.removesuffix(".machine"), name.endswith(".machine")
    if name not in TABLES or fmt not in ("csv", "xlsx") or (machine and fmt != "csv"):
        abort(404)
    today = today_cst()
    headers, rows = build_tables(db.session, today, _scope(), None)[name]
    # The default export is for people (words, yuan); ``<name>.machine.csv`` keeps the
    # machine names, codes and fen for programs, and says so in its file name.
    headers, rows = (
        (headers, rows)
        if machine
        else table_words.readable(name, headers, rows, english=is_english())
    )
    filename = f"{name}{'-machine' if machine else ''}-{today.isoformat()}.{fmt}"
    return table_download(filename, fmt, name, headers, rows)


@bp.get("/api/summary")
@regulator_required
def api_summary():  # type: ignore[no-untyped-def]
    today, scope = today_cst(), _scope()
    tables = build_tables(db.session, today, scope, None)
    return jsonify(
        {
            "today": today.isoformat(),
            "province": scope.province,
            "org_type": scope.org_type,
            "disclosure_type": scope.disclosure_type,
            "tables": {
                name: [dict(zip(headers, row, strict=True)) for row in rows]
                for name, (headers, rows) in tables.items()
                if not name.startswith("_")
            },
        }
    )


def parse_day(text: str | None) -> date | None:
    try:
        return date.fromisoformat(text) if text else None
    except ValueError:
        return None
