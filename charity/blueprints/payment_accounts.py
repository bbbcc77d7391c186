"""An organization's receiving accounts and what finance members watch over them.

- ``/orgs/<id>/payments``: the overview (owner and finance): each provider's account,
  events parked for a human, and the daily reconciliation's latest days.
- ``/orgs/<id>/payments/<provider>``: an owner enters the WeChat Pay or Alipay
  credentials after confirming who they are (a fresh two-factor code,
  ``require_reauth``); secrets are never shown again (the form
  always starts empty). Saved: a public log entry (no secrets) and a mail to the owners and
  finance members.
- ``POST /orgs/<id>/payments/parked/<pid>/dismiss``: a finance member closes a parked event
  once handled, with a note.
"""

from __future__ import annotations

import json

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from wtforms import PasswordField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from charity.blueprints.two_factor import require_reauth
from charity.core import uow
from charity.core.permissions import require_org_role
from charity.extensions import db
from charity.models import Organization, PayoutChange
from charity.ops.mail import Mail, queue_mail
from charity.services import (
    approval_mail,
    merchant_accounts,
    parking,
    payout_changes,
    reconciliation,
)
from charity.web import links
from charity.web.forms import BaseForm, show_error
from charity.web.templating import format_datetime_cst

bp = Blueprint("payment_accounts", __name__)

FINANCE_ROLES = ("owner", "finance")
PROVIDER_LABELS = {"wechatpay": _l("WeChat Pay"), "alipay": _l("Alipay"), "stripe": _l("Bank card")}


class WeChatPayForm(BaseForm):
    mchid = StringField(_l("Merchant number (商户号)"), validators=[DataRequired(), Length(max=10)])
    appid = StringField(
        _l("AppID bound to the merchant"), validators=[DataRequired(), Length(max=18)]
    )
    cert_serial_no = StringField(
        _l("API certificate serial number"), validators=[DataRequired(), Length(max=64)]
    )
    private_key = TextAreaField(
        _l("API certificate private key (apiclient_key.pem)"),
        validators=[DataRequired(), Length(max=8000)],
    )
    apiv3_key = PasswordField(_l("API v3 key"), validators=[DataRequired(), Length(max=32)])
    platform_public_key_id = StringField(
        _l("WeChat Pay public key ID (leave empty to use platform certificates)"),
        validators=[Optional(), Length(max=80)],
    )
    platform_public_key = TextAreaField(
        _l("WeChat Pay public key"), validators=[Optional(), Length(max=4000)]
    )


class AlipayForm(BaseForm):
    app_id = StringField(_l("Alipay app ID"), validators=[DataRequired(), Length(max=16)])
    app_private_key = TextAreaField(
        _l("App private key (RSA2)"), validators=[DataRequired(), Length(max=8000)]
    )
    alipay_public_key = TextAreaField(
        _l("Alipay public key"), validators=[DataRequired(), Length(max=4000)]
    )


FORMS = {"wechatpay": WeChatPayForm, "alipay": AlipayForm}


class DismissForm(BaseForm):
    note = TextAreaField(_l("How it was handled"), validators=[DataRequired(), Length(max=500)])


def _organization(org_id: int) -> Organization:
    organization = db.session.get(Organization, org_id)
    if organization is None:
        abort(404)
    return organization


@bp.get("/<int:org_id>/payments")
def overview(org_id: int):  # type: ignore[no-untyped-def]
    organization = _organization(org_id)
    require_org_role(org_id, *FINANCE_ROLES)
    accounts = {
        name: merchant_accounts.account_for(db.session, org_id, name)
        for name in ("wechatpay", "alipay")
    }
    pending = payout_changes.pending_changes(db.session, org_id)
    return render_template(
        "payment_accounts/overview.html",
        org=organization,
        accounts=accounts,
        pending=pending,
        refusals={c.id: payout_changes.approval_refusal(current_user, c) for c in pending},
        labels=PROVIDER_LABELS,
        parked=parking.open_events(db.session, org_id),
        dismiss_form=DismissForm(),
        runs=reconciliation.recent_runs(db.session, org_id),
        settings=lambda account: json.loads(account.settings_json),
    )


@bp.route("/<int:org_id>/payments/<provider>", methods=["GET", "POST"])
def edit(org_id: int, provider: str):  # type: ignore[no-untyped-def]
    organization = _organization(org_id)
    require_org_role(org_id, "owner")
    if provider not in FORMS:
        abort(404)
    require_reauth()  # merchant credentials (issue 14 part 2, issue 15): a fresh code
    form = FORMS[provider]()
    if form.validate_on_submit():
        values = {
            name: form[name].data or "" for name, _secret in merchant_accounts.FIELDS[provider]
        }
        command = merchant_accounts.SaveCredentials(org_id, provider, values)
        try:
            change = payout_changes.request_wallet_change(db.session, current_user, command)
        except merchant_accounts.MerchantAccountError as error:
            uow.discard()
            show_error(form, error)
        else:
            return change_requested(organization, change)
    status = 400 if request.method == "POST" else 200
    account = merchant_accounts.account_for(db.session, org_id, provider)
    return render_template(
        "payment_accounts/edit.html",
        org=organization,
        form=form,
        provider=provider,
        label=PROVIDER_LABELS[provider],
        account=account,
    ), status


def change_requested(organization: Organization, change: PayoutChange):  # type: ignore[no-untyped-def]
    """After a request: mail every owner and finance member, say when it takes effect."""
    for person in approval_mail.finance_people(db.session, organization.id):
        queue_mail(
            Mail(
                to=person.email,
                subject=_(
                    "%(org)s: a new %(provider)s receiving account was requested",
                    org=organization.name,
                    provider=PROVIDER_LABELS[change.provider],
                ),
                body=render_template(
                    "payment_accounts/change_requested_email.txt",
                    org=organization,
                    provider=PROVIDER_LABELS[change.provider],
                    change=change,
                    by=current_user,
                    url=links.public_url("payment_accounts.overview", org_id=organization.id)
                    + "#changes",
                ),
            )
        )
    flash(
        _(
            "The change was requested. Gifts keep going to the current account until "
            "%(when)s, unless another owner or finance member approves it sooner or "
            "someone cancels it. Everyone was told by mail.",
            when=format_datetime_cst(change.effective_at),
        ),
        "success",
    )
    return redirect(url_for("payment_accounts.overview", org_id=organization.id) + "#changes", 303)


def _decide_change(org_id: int, change_id: int, action, message: str, reauth: bool = False):  # type: ignore[no-untyped-def]
    _organization(org_id)
    require_org_role(org_id, *FINANCE_ROLES)
    if reauth:
        require_reauth()  # a new receiving account at once (issue 15): a fresh code
    change = db.session.get(PayoutChange, change_id)
    if change is None or change.organization_id != org_id:
        abort(404)
    try:
        action(change.id)
    except payout_changes.PayoutChangeError as error:
        uow.discard()
        flash(error.text(), "error")
    else:
        flash(message, "success")
    return redirect(url_for("payment_accounts.overview", org_id=org_id) + "#changes", 303)


@bp.post("/<int:org_id>/payments/changes/<int:change_id>/approve")
def approve_change(org_id: int, change_id: int):  # type: ignore[no-untyped-def]
    return _decide_change(
        org_id,
        change_id,
        lambda i: payout_changes.approve_change(db.session, current_user, i),
        _("Approved: gifts are paid into the new account from now on."),
        reauth=True,
    )


@bp.post("/<int:org_id>/payments/changes/<int:change_id>/cancel")
def cancel_change(org_id: int, change_id: int):  # type: ignore[no-untyped-def]
    return _decide_change(
        org_id,
        change_id,
        lambda i: payout_changes.cancel_change(db.session, current_user, i),
        _("Cancelled: the receiving account stays as it was."),
    )


@bp.post("/<int:org_id>/payments/parked/<int:parked_id>/dismiss")
def dismiss(org_id: int, parked_id: int):  # type: ignore[no-untyped-def]
    _organization(org_id)
    require_org_role(org_id, *FINANCE_ROLES)
    form = DismissForm()
    if not form.validate_on_submit():
        flash(_("Say how the event was handled."), "error")
        return redirect(url_for("payment_accounts.overview", org_id=org_id), 303)
    try:
        parked = parking.dismiss(db.session, current_user, parked_id, form.note.data)
        if parked.organization_id != org_id:
            abort(404)
    except parking.ParkingError as error:
        uow.discard()
        flash(error.text(), "error")
    else:
        flash(_("The event was closed."), "success")
    return redirect(url_for("payment_accounts.overview", org_id=org_id), 303)
