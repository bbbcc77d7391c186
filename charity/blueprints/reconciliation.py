"""A reconciliation run with its evidence, and applying what the provider's record proves.

``/orgs/<id>/reconciliation/<run id>`` (owner and finance): every difference with the
provider's line exactly as its statement has it and ours beside it; an appliable one
(a refund the provider made and we lack, a payment it took that we hold as unpaid) has a
form: a reason, and one step records it as a new ledger transaction with its log entry.
"""

from __future__ import annotations

import json

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from wtforms import TextAreaField
from wtforms.validators import DataRequired, Length

from charity import payments
from charity.core import uow
from charity.core.permissions import require_org_role
from charity.extensions import db
from charity.models import Organization, ReconciliationDifference, ReconciliationRun
from charity.services import reconciliation
from charity.web.forms import BaseForm

bp = Blueprint("reconciliation", __name__)


class ApplyForm(BaseForm):
    reason = TextAreaField(_l("Reason"), validators=[DataRequired(), Length(max=500)])


def _run(org_id: int, run_id: int) -> ReconciliationRun:
    run = db.session.get(ReconciliationRun, run_id)
    if run is None or run.organization_id != org_id:
        abort(404)
    return run


@bp.get("/<int:org_id>/reconciliation/<int:run_id>")
def show_run(org_id: int, run_id: int):  # type: ignore[no-untyped-def]
    require_org_role(org_id, "owner", "finance")
    run = _run(org_id, run_id)
    return render_template(
        "reconciliation/run.html",
        org=db.session.get(Organization, org_id),
        run=run,
        form=ApplyForm(),
        appliable=reconciliation.appliable,
        evidence=_evidence,
    )


def _evidence(text: str) -> list[tuple[str, str]]:
    if not text:
        return []
    try:
        value = json.loads(text)
    except ValueError:
        return [("", text)]
    return [(str(k), str(v)) for k, v in value.items()] if isinstance(value, dict) else []


@bp.post("/<int:org_id>/reconciliation/<int:run_id>/differences/<int:difference_id>/apply")
def apply(org_id: int, run_id: int, difference_id: int):  # type: ignore[no-untyped-def]
    require_org_role(org_id, "owner", "finance")
    run = _run(org_id, run_id)
    difference = db.session.get(ReconciliationDifference, difference_id)
    if difference is None or difference.run_id != run.id:
        abort(404)
    form = ApplyForm()
    back = redirect(url_for("reconciliation.show_run", org_id=org_id, run_id=run_id), 303)
    if not form.validate_on_submit():
        flash(_("Give a reason."), "error")
        return back
    try:
        reconciliation.apply_difference(db.session, current_user, difference.id, form.reason.data)
    except reconciliation.ReconciliationError as error:
        uow.discard()
        flash(error.text(), "error")
    except payments.PaymentError:
        uow.discard()
        flash(_("The payment service is not available right now. Please try again."), "error")
    else:
        flash(_("The provider's record was applied to the books."), "success")
    return back
