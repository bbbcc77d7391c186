"""Major asset changes, investments and related-party transactions: the organization's
members see the list with each one's disclosure obligation; owners and finance staff
record them (or a correction). The rules are in charity.services.major_transactions."""

from __future__ import annotations

import re

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from wtforms import DateField, RadioField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, ValidationError

from charity.compliance.rules import law as r
from charity.core import uow
from charity.core.clock import today_cst
from charity.core.permissions import require_org_role, role_in_org
from charity.extensions import db
from charity.models import MajorTransaction, Organization
from charity.models.user import MEMBER_ROLES
from charity.services import disclosures
from charity.services import major_transactions as service
from charity.web.forms import BaseForm, YuanField, show_error

bp = Blueprint("major_transactions", __name__)

STATUS_LABELS = {
    "upcoming": _l("Upcoming"),
    "due_soon": _l("Due soon"),
    "overdue": _l("Overdue"),
    "on_time": _l("Published on time"),
    "late": _l("Published late"),
}
_ZERO = re.compile(r"^[¥￥]?\s*[0０]+(?:[.．。][0０]{1,2})?$")


class AmountField(YuanField):
    """A yuan amount that may be zero (a transaction in which no money changed hands,
    such as the free use of a related party's premises)."""

    def pre_validate(self, form) -> None:  # type: ignore[no-untyped-def]
        if self.data and _ZERO.match(self.data):
            self.fen = 0
            return
        try:
            super().pre_validate(form)
        except ValidationError:
            raise ValidationError(
                _l("Enter an amount in yuan, zero or more, with at most two decimals.")
            ) from None


class TransactionForm(BaseForm):
    kind = RadioField(
        _l("Kind of transaction"),
        choices=[SelectChoice(kind, label) for kind, label in service.KIND_LABELS.items()],
        # An unknown value reaches the service, which says what is wrong.
        validate_choice=False,
        validators=[InputRequired(_l("Choose the kind of transaction."))],
    )
    occurred_on = DateField(
        # InputRequired, not DataRequired: an impossible date keeps its own message.
        _l("Date of the transaction (China Standard Time)"),
        validators=[InputRequired()],
    )
    amount = AmountField(_l("Amount (yuan)"), validators=[DataRequired(), Length(max=20)])
    counterparty = StringField(
        _l("Counterparty"), validators=[DataRequired(), Length(max=service.COUNTERPARTY_MAX)]
    )
    relationship = StringField(
        _l("Relationship to the organization (related-party transactions only)"),
        validators=[Length(max=service.RELATIONSHIP_MAX)],
    )
    description = TextAreaField(
        _l("Description of the transaction"),
        validators=[DataRequired(), Length(max=service.DESCRIPTION_MAX)],
    )
    correction_note = TextAreaField(
        _l("Correction note (what changed and why)"), validators=[Length(max=service.NOTE_MAX)]
    )


def _org_or_404(org_id: int) -> Organization:
    organization = db.session.get(Organization, org_id)
    if organization is None or not organization.is_verified:
        abort(404)
    return organization


@bp.get("/orgs/<int:org_id>/transactions")
def index(org_id: int):  # type: ignore[no-untyped-def]
    organization = _org_or_404(org_id)
    require_org_role(organization.id, *MEMBER_ROLES)
    today = today_cst()
    return render_template(
        "major_transactions/index.html",
        org=organization,
        items=service.transactions_for_org(db.session, organization.id, today),
        today=today,
        rule=r.rule(r.TRIGGER_RULES[service.TRIGGER_KIND]),
        kind_labels=service.KIND_LABELS,
        status_labels=STATUS_LABELS,
        can_record=role_in_org(current_user, organization.id) in service.RECORDER_ROLES,
        can_publish=disclosures.can_publish(current_user, organization.id, r.MAJOR_TRANSACTIONS),
    )


def _corrected_or_404(organization: Organization) -> MajorTransaction | None:
    """The record named by ?corrects=<id>, of this organization (None: a new record)."""
    ref = request.args.get("corrects", "")
    if not ref:
        return None
    record = db.session.get(MajorTransaction, int(ref)) if ref.isdigit() and len(ref) < 12 else None
    if record is None or record.organization_id != organization.id:
        abort(404)
    return record


def _prefill(record: MajorTransaction) -> dict[str, object]:
    return {
        "kind": record.kind,
        "occurred_on": record.occurred_on,
        "amount": f"{record.amount_fen / 100:.2f}",
        "counterparty": record.counterparty,
        "relationship": record.relationship,
        "description": record.description,
    }


def _command(
    organization: Organization, form: TransactionForm, corrected: MajorTransaction | None
) -> service.RecordMajorTransaction:
    return service.RecordMajorTransaction(
        organization_id=organization.id,
        kind=form.kind.data or "",
        occurred_on=form.occurred_on.data,
        amount_fen=form.amount.fen or 0,
        counterparty=form.counterparty.data or "",
        description=form.description.data or "",
        relationship=form.relationship.data or "",
        corrects_id=corrected.id if corrected is not None else None,
        correction_note=form.correction_note.data or "",
        max_amount_fen=current_app.config["MAJOR_TRANSACTION_MAX_FEN"],
    )


@bp.route("/orgs/<int:org_id>/transactions/new", methods=["GET", "POST"])
def new(org_id: int):  # type: ignore[no-untyped-def]
    organization = _org_or_404(org_id)
    require_org_role(organization.id, *service.RECORDER_ROLES)
    corrected = _corrected_or_404(organization)
    prefill = _prefill(corrected) if corrected is not None and request.method == "GET" else None
    form = TransactionForm(data=prefill)
    if form.validate_on_submit():
        try:
            record = service.record_major_transaction(
                db.session, current_user, _command(organization, form, corrected)
            )
        except service.NotAllowedError:
            uow.discard()
            abort(403)
        except service.MajorTransactionError as error:
            uow.discard()
            show_error(form, error, whole_form="form")
        else:
            record_id, due = record.id, service.due_date(db.session, record)
            flash(
                _(
                    "The transaction was recorded. Publish its disclosure by %(day)s.",
                    day=due.isoformat() if due else "—",
                ),
                "success",
            )
            return redirect(
                url_for("major_transactions.index", org_id=org_id, _anchor=f"tx-{record_id}"),
                303,
            )
    status = 422 if form.is_submitted() else 200
    page = render_template(
        "major_transactions/new.html",
        org=organization,
        form=form,
        corrected=corrected,
    )
    return page, status
