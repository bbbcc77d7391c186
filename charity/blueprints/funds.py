"""Community fund pages: list, fund page (balance, chart, disbursements, where gifts went),
giving, the yearly statement, and the host's forms (create, committee, transfer, close)."""

from __future__ import annotations

import sqlalchemy as sa
from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from wtforms import BooleanField, RadioField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional

from charity.blueprints.donations import (
    DonateForm,
    create_and_pay,
    limited_form,
    method_choices,
)
from charity.blueprints.two_factor import require_reauth
from charity.core import uow
from charity.core.clock import cst_date, today_cst
from charity.core.permissions import can_manage_org, require_org_role
from charity.extensions import db
from charity.models import Campaign, Disbursement, Fund, FundTransfer, Organization
from charity.services import allocation, fund_statements, funds
from charity.services.pools import Pool, available_fen, pool_balance
from charity.web import ratelimits
from charity.web.charts import flows_chart, line_chart
from charity.web.forms import BaseForm, YuanField, show_error
from charity.web.labels import purpose_label

bp = Blueprint("funds", __name__)


def _fund(fund_id: int) -> Fund:
    return db.session.get(Fund, fund_id) or abort(404)


@bp.get("/")
def index():  # type: ignore[no-untyped-def]
    rows = db.session.scalars(
        sa.select(Fund).where(Fund.status == "active").order_by(Fund.id.desc()).limit(200)
    ).all()
    balances = {f.id: pool_balance(db.session, Pool("fund", f.id)) for f in rows}
    return render_template("funds/index.html", funds=rows, balances=balances)


@bp.get("/<int:fund_id>")
def show(fund_id: int):  # type: ignore[no-untyped-def]
    fund = _fund(fund_id)
    pool = Pool("fund", fund.id)
    flows = fund_statements.monthly_flows(db.session, fund.id)
    spent = db.session.scalars(
        sa.select(Disbursement)
        .where(Disbursement.fund_id == fund.id, Disbursement.status == "executed")
        .order_by(Disbursement.executed_at.desc())
    ).all()
    campaigns = db.session.scalars(sa.select(Campaign).where(Campaign.fund_id == fund.id)).all()
    return render_template(
        "funds/show.html",
        fund=fund,
        balance=pool_balance(db.session, pool),
        available=available_fen(db.session, pool),
        flows=flows,
        chart=_flows_chart(fund, flows) if flows else None,
        balance_chart=_balance_chart(fund) if flows else None,
        disbursements=spent,
        traces=allocation.pool_trace(db.session, pool)[:100],
        campaigns=campaigns,
        is_staff=can_manage_org(current_user, fund.organization_id, ("owner", "finance")),
        years=range(today_cst().year, cst_date(fund.created_at).year - 1, -1),
    )


def _flows_chart(fund: Fund, flows: list[tuple[str, int, int, int]]):  # type: ignore[no-untyped-def]
    return flows_chart(
        [(month, inflow, outflow) for month, inflow, outflow, _balance in flows],
        title=_("Inflow and outflow by month"),
        desc=_("Money in (green) and out (red) by month"),
        chart_id=f"fund-flows-{fund.id}",
        names=(_("In"), _("Out")),
    )


def _balance_chart(fund: Fund):  # type: ignore[no-untyped-def]
    points = fund_statements.balance_points(db.session, fund.id)
    return line_chart(
        points,
        title=_("Balance of %(fund)s", fund=fund.name),
        desc=_("The fund's balance at the end of each day with money movements."),
        chart_id=f"fund-balance-{fund.id}",
        end=max(today_cst(), points[-1][0]),
    )


def _limited_fund_form(minutes: int):  # type: ignore[no-untyped-def]
    fund = _fund((request.view_args or {}).get("fund_id", 0))
    return limited_form(minutes, "funds/donate.html", fund.organization, fund=fund)


@bp.route("/<int:fund_id>/donate", methods=["GET", "POST"])
@ratelimits.donation_creation(email_field="donor_email", on_breach=_limited_fund_form)
def donate(fund_id: int):  # type: ignore[no-untyped-def]
    """The campaigns' giving form and payment flow, for a fund."""
    fund = _fund(fund_id)
    form = DonateForm()
    method_choices(form, fund.organization)
    form.fill_in_donor()
    if form.validate_on_submit():
        command = form.new_donation(campaign_id=None, fund_id=fund.id)
        actor = current_user if current_user.is_authenticated else None
        paying = create_and_pay(form, command, actor)
        if paying is not None:
            return paying
    status = 400 if request.method == "POST" else 200
    return render_template("funds/donate.html", fund=fund, form=form), status


def _statement(fund_id: int, year: int) -> fund_statements.Statement:
    if not 2000 <= year <= today_cst().year:
        abort(404)
    return fund_statements.build_statement(db.session, _fund(fund_id), year)


@bp.get("/<int:fund_id>/statement-<int:year>.csv")
def statement_csv(fund_id: int, year: int):  # type: ignore[no-untyped-def]
    body = fund_statements.statement_csv(_statement(fund_id, year))
    return current_app.response_class(
        body,
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="fund-{fund_id}-{year}.csv"'},
    )


@bp.get("/<int:fund_id>/statement-<int:year>.pdf")
def statement_pdf(fund_id: int, year: int):  # type: ignore[no-untyped-def]
    pdf = fund_statements.statement_pdf(
        _statement(fund_id, year), current_app.config.get("RECEIPT_FONT_PATH")
    )
    return current_app.response_class(
        pdf,
        mimetype="application/pdf",
        headers={"Content-Disposition": f'inline; filename="fund-{fund_id}-{year}.pdf"'},
    )


class FundForm(BaseForm):
    name = StringField(_l("Fund name"), validators=[DataRequired(), Length(max=200)])
    sponsor_reason = TextAreaField(
        _l("Reason for a sponsor's name (only if the name does not start with the host's)"),
        validators=[Optional(), Length(max=1000)],
    )
    purpose_md = TextAreaField(_l("Purpose"), validators=[DataRequired(), Length(max=5000)])
    restriction = TextAreaField(
        _l("Restriction on the use of money"), validators=[DataRequired(), Length(max=2000)]
    )
    service_area = StringField(_l("Service area"), validators=[DataRequired(), Length(max=200)])
    committee = TextAreaField(
        _l("Committee: one member per line: name | chair, member or supervisor | email (optional)"),
        validators=[DataRequired(), Length(max=5000)],
    )
    unpaid = BooleanField(_l("All committee members serve unpaid"))


def parse_committee(text: str, unpaid: bool) -> tuple[funds.Seat, ...]:
    seats = []
    for line in text.splitlines():
        if not line.strip():
            continue
        parts = [p.strip() for p in line.replace("｜", "|").split("|")]
        role = parts[1].lower() if len(parts) > 1 and parts[1] else "member"
        email = parts[2] if len(parts) > 2 else ""
        seats.append(funds.Seat(name=parts[0], role=role, unpaid=unpaid, user_email=email))
    return tuple(seats)


@bp.route("/new/<int:org_id>", methods=["GET", "POST"])
def new(org_id: int):  # type: ignore[no-untyped-def]
    organization = db.session.get(Organization, org_id) or abort(404)
    require_org_role(org_id, "owner")
    form = FundForm()
    if request.method == "GET":
        form.name.data = form.name.data or f"{organization.name}社区慈善基金"
    if form.validate_on_submit():
        command = funds.NewFund(
            organization_id=org_id,
            name=form.name.data,
            sponsor_reason=form.sponsor_reason.data or "",
            purpose_md=form.purpose_md.data,
            restriction=form.restriction.data,
            service_area=form.service_area.data,
            committee=parse_committee(form.committee.data, form.unpaid.data),
        )
        try:
            fund = funds.create_fund(db.session, current_user, command)
        except funds.FundError as exc:
            uow.discard()
            show_error(form, exc)
        else:
            flash(_("The fund was created."), "success")
            return redirect(url_for("funds.show", fund_id=fund.id))
    status = 400 if request.method == "POST" else 200
    return render_template("funds/new.html", form=form, organization=organization), status


class CommitteeForm(BaseForm):
    committee = FundForm.committee
    unpaid = FundForm.unpaid


@bp.route("/<int:fund_id>/committee", methods=["GET", "POST"])
def committee(fund_id: int):  # type: ignore[no-untyped-def]
    fund = _fund(fund_id)
    require_org_role(fund.organization_id, "owner")
    form = CommitteeForm()
    if request.method == "GET":
        form.committee.data = "\n".join(
            f"{m.name} | {m.role} | {m.user.email if m.user else ''}" for m in fund.active_committee
        )
        form.unpaid.data = True
    if form.validate_on_submit():
        seats = parse_committee(form.committee.data, form.unpaid.data)
        try:
            funds.replace_committee(db.session, current_user, fund.id, seats)
        except funds.FundError as exc:
            uow.discard()
            show_error(form, exc)
        else:
            flash(_("The committee was changed."), "success")
            return redirect(url_for("funds.show", fund_id=fund.id))
    status = 400 if request.method == "POST" else 200
    return render_template("funds/committee.html", form=form, fund=fund), status


class TransferForm(BaseForm):
    direction = RadioField(
        _l("Direction"),
        choices=[
            SelectChoice("to_fund", _l("From the host's unrestricted money into the fund")),
            SelectChoice("to_host", _l("From the fund back to the host's unrestricted money")),
        ],
        default="to_fund",
    )
    amount = YuanField(_l("Amount (yuan)"), validators=[DataRequired(), Length(max=20)])
    reason = TextAreaField(_l("Reason"), validators=[DataRequired(), Length(max=1000)])


@bp.route("/<int:fund_id>/transfer", methods=["GET", "POST"])
def transfer(fund_id: int):  # type: ignore[no-untyped-def]
    fund = _fund(fund_id)
    require_org_role(fund.organization_id, "owner", "finance")
    form = TransferForm()
    if form.validate_on_submit():
        command = funds.TransferCommand(
            fund.id, form.direction.data, form.amount.fen or 0, form.reason.data
        )
        try:
            funds.transfer(db.session, current_user, command)
        except funds.FundError as exc:
            uow.discard()
            show_error(form, exc)
        else:
            if command.direction == "to_host":
                flash(_("The request was recorded: another finance member approves it."), "success")
                return redirect(url_for("funds.transfer", fund_id=fund.id))
            flash(_("The transfer was recorded."), "success")
            return redirect(url_for("funds.show", fund_id=fund.id))
    status = 400 if request.method == "POST" else 200
    return _transfer_page(fund, form, status)


def _transfer_page(fund: Fund, form: TransferForm, status: int):  # type: ignore[no-untyped-def]
    pending = funds.pending_transfers(db.session, fund.id)
    refusals = {row.id: funds.transfer_approval_refusal(current_user, row) for row in pending}
    return render_template(
        "funds/transfer.html",
        form=form,
        fund=fund,
        pending=pending,
        refusals=refusals,
        host_fen=funds.host_unrestricted_fen(db.session, fund.organization_id),
        available=available_fen(db.session, Pool("fund", fund.id)),
    ), status


def _decide_transfer(fund_id: int, transfer_id: int, action, message: str, reauth: bool = False):  # type: ignore[no-untyped-def]
    fund = _fund(fund_id)
    require_org_role(fund.organization_id, "owner", "finance")
    if reauth:
        require_reauth()  # approving money leaving (issue 15): a fresh code
    row = db.session.get(FundTransfer, transfer_id)
    if row is None or row.fund_id != fund.id:
        abort(404)
    try:
        action(row.id)
    except funds.FundError as exc:
        uow.discard()
        flash(exc.text(), "error")
        return _transfer_page(fund, TransferForm(formdata=None), 422)
    flash(message, "success")
    return redirect(url_for("funds.transfer", fund_id=fund.id))


@bp.post("/<int:fund_id>/transfers/<int:transfer_id>/approve")
def approve_transfer(fund_id: int, transfer_id: int):  # type: ignore[no-untyped-def]
    return _decide_transfer(
        fund_id,
        transfer_id,
        lambda i: funds.approve_transfer(db.session, current_user, i),
        _("The transfer was approved and recorded."),
        reauth=True,
    )


@bp.post("/<int:fund_id>/transfers/<int:transfer_id>/reject")
def reject_transfer(fund_id: int, transfer_id: int):  # type: ignore[no-untyped-def]
    return _decide_transfer(
        fund_id,
        transfer_id,
        lambda i: funds.reject_transfer(db.session, current_user, i),
        _("The transfer request was turned down."),
    )


class CloseForm(BaseForm):
    reason = TextAreaField(_l("Reason for closing"), validators=[DataRequired(), Length(max=1000)])


@bp.route("/<int:fund_id>/close", methods=["GET", "POST"])
def close(fund_id: int):  # type: ignore[no-untyped-def]
    fund = _fund(fund_id)
    require_org_role(fund.organization_id, "owner")
    form = CloseForm()
    if form.validate_on_submit():
        try:
            funds.close_fund(db.session, current_user, fund.id, form.reason.data)
        except funds.FundError as exc:
            uow.discard()
            show_error(form, exc)
        else:
            flash(_("The fund was closed."), "success")
            return redirect(url_for("funds.show", fund_id=fund.id))
    status = 400 if request.method == "POST" else 200
    return render_template("funds/close.html", form=form, fund=fund), status


COMMITTEE_ROLE_LABELS = {
    "chair": _l("Chair"),
    "member": _l("Member"),
    "supervisor": _l("Supervisor"),
}


def _source_label(key: str) -> str:
    kind, _sep, number = key.partition(":")
    if kind == "donation":
        return _("Gift #%(number)s", number=number)
    return _("Transfer from the host #%(number)s", number=number)


@bp.app_context_processor
def _fund_helpers() -> dict:
    return {
        "gift_trace": lambda donation: allocation.gift_trace(db.session, donation),
        "purpose_label": purpose_label,
        "committee_role_label": lambda key: COMMITTEE_ROLE_LABELS.get(key, key),
        "source_label": _source_label,
    }


class EarmarkForm(BaseForm):
    fund_id = SelectField(_l("Fund"), choices=[], validate_choice=False)


@bp.route("/earmark/<int:campaign_id>", methods=["GET", "POST"])
def earmark(campaign_id: int):  # type: ignore[no-untyped-def]
    """Mark a campaign as raising for one of its organization's funds (or clear the mark)."""
    campaign = db.session.get(Campaign, campaign_id) or abort(404)
    require_org_role(campaign.organization_id, "owner", "finance")
    own_funds = db.session.scalars(
        sa.select(Fund).where(Fund.organization_id == campaign.organization_id)
    ).all()
    form = EarmarkForm()
    form.fund_id.choices = [SelectChoice("", _("No fund"))] + [
        SelectChoice(str(f.id), f.name) for f in own_funds
    ]
    if request.method == "GET":
        form.fund_id.data = str(campaign.fund_id or "")
    if form.validate_on_submit():
        chosen = int(form.fund_id.data) if (form.fund_id.data or "").isdigit() else None
        try:
            funds.earmark_campaign(db.session, current_user, campaign.id, chosen)
        except funds.FundError as exc:
            uow.discard()
            show_error(form, exc)
        else:
            flash(_("Saved."), "success")
            return redirect(url_for("funds.earmark", campaign_id=campaign.id))
    status = 400 if request.method == "POST" else 200
    return render_template("funds/earmark.html", form=form, campaign=campaign), status
