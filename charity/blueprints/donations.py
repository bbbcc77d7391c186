"""Giving, the donor's result/receipt pages, and an organization's donations and refunds."""

from __future__ import annotations

from functools import partial
from typing import Any

import sqlalchemy as sa
from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    jsonify,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from wtforms import BooleanField, EmailField, RadioField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Email, Length, Optional, ValidationError

from charity import payments
from charity.blueprints import wallet_pay
from charity.blueprints.donor import start_monthly
from charity.blueprints.two_factor import require_reauth
from charity.core import uow
from charity.core.db import writes
from charity.core.permissions import require_login, require_org_role
from charity.extensions import db
from charity.models import Campaign, Donation, Organization, Team, User, utcnow
from charity.ops import receipt_mail
from charity.services import donations, official_receipts, receipts, refund_approvals
from charity.services.givingdays import team_for_gift
from charity.services.merchant_accounts import providers_of
from charity.services.wallet_payments import current_order, leave_wallet, refresh_wallet_payment
from charity.web import ratelimits
from charity.web.forms import BaseForm, YuanField, show_error

bp = Blueprint("donations", __name__)

#: Preset amounts in fen (¥20, ¥50, ¥88, ¥200, ¥500).
PRESETS_FEN = (2000, 5000, 8800, 20000, 50000)
FINANCE_ROLES = ("owner", "finance")


def _preset_choices() -> list[SelectChoice]:
    presets = [SelectChoice(str(fen), f"¥{fen // 100}") for fen in PRESETS_FEN]
    return [*presets, SelectChoice("custom", _l("Other"))]


class DonateForm(BaseForm):
    amount = RadioField(_l("Amount"), choices=_preset_choices(), default="8800")
    custom_amount = YuanField(_l("Other amount (yuan)"), validators=[Optional(), Length(max=20)])
    donor_name = StringField(_l("Your name"), validators=[DataRequired(), Length(max=100)])
    donor_email = EmailField(
        _l("Email (for the receipt)"), validators=[DataRequired(), Email(), Length(max=254)]
    )
    #: One choice, not two boxes that could both be ticked (issue 17 point 7).
    name_display = RadioField(
        _l("Your name in public"),
        choices=[
            SelectChoice("private", _l("Do not show my name publicly (it is on my receipt)")),
            SelectChoice("wall", _l("Show my name on the donor wall")),
            SelectChoice("anonymous", _l("Give anonymously (your name is never shown publicly)")),
        ],
        default="private",
    )
    message = TextAreaField(
        _l("Message (optional)"), validators=[Length(max=donations.MESSAGE_MAX_LENGTH)]
    )
    receipt_wanted = BooleanField(_l("I want a donation receipt"), default=True)
    #: Donors hear back (issue 17 point 10): off unless ticked.
    wants_updates = BooleanField(
        _l("E-mail me news of this campaign: updates, its result (at most one e-mail a day)"),
        default=False,
    )
    #: A company giving (issue 17 point 5): the charity issues the finance bureau's bill to it.
    company_uscc = StringField(
        _l("Company's unified social credit code"), validators=[Length(max=30)]
    )
    invoice_title = StringField(_l("Bill made out to (company name)"), validators=[Length(max=200)])
    #: How to pay: the organization's providers, wallets first (set per page: method_choices).
    method = RadioField(_l("Pay with"), choices=[], validators=[Optional()], validate_choice=False)
    # monthly gifts
    frequency = RadioField(
        _l("How often"),
        choices=[SelectChoice("once", _l("Once")), SelectChoice("monthly", _l("Every month"))],
        default="once",
    )

    def validate_custom_amount(self, field: YuanField) -> None:
        if self.amount.data != "custom":
            return
        if field.fen is None:
            raise ValidationError(_l("Enter the amount you want to give."))
        maximum = current_app.config["DONATION_MAX_FEN"]
        if field.fen < 100:
            raise ValidationError(_l("The smallest online gift is ¥1."))
        if field.fen > maximum:
            raise ValidationError(
                _l("The largest online gift is ¥%(max)s.", max=f"{maximum // 100:,}")
            )

    def validate_company_uscc(self, field: StringField) -> None:
        if not (field.data or "").strip():
            if (self.invoice_title.data or "").strip():
                raise ValidationError(_l("Enter the company's unified social credit code."))
            return
        try:
            field.data = official_receipts.check_donor_uscc(field.data)
        except official_receipts.OfficialReceiptError as error:
            raise ValidationError(error.text()) from None

    def validate_invoice_title(self, field: StringField) -> None:
        if (self.company_uscc.data or "").strip() and not (field.data or "").strip():
            raise ValidationError(_l("Enter the name the bill is made out to."))

    @property
    def company(self) -> dict[str, str]:
        """The NewDonation fields of a company donor (empty for a person)."""
        return {
            "company_uscc": (self.company_uscc.data or "").strip(),
            "invoice_title": (self.invoice_title.data or "").strip(),
        }

    @property
    def anonymous(self) -> bool:
        return self.name_display.data == "anonymous"

    @property
    def show_name(self) -> bool:
        return self.name_display.data == "wall"

    @property
    def amount_fen(self) -> int:
        if self.amount.data == "custom":
            return self.custom_amount.fen or 0
        return int(self.amount.data)

    def fill_in_donor(self) -> None:
        """A signed-in donor's name and e-mail, on the form as first shown."""
        if request.method == "GET" and current_user.is_authenticated:
            self.donor_name.data = self.donor_name.data or current_user.name
            self.donor_email.data = self.donor_email.data or current_user.email

    def new_donation(self, **target: Any) -> donations.NewDonation:
        """The gift as typed, to ``target``: ``campaign_id`` (or ``campaign_id=None`` and
        ``fund_id``) and what only that page sets."""
        return donations.NewDonation(
            amount_fen=self.amount_fen,
            donor_name=self.donor_name.data,
            donor_email=self.donor_email.data,
            is_anonymous=self.anonymous,
            consent_show_name=self.show_name,
            message=self.message.data or "",
            receipt_wanted=self.receipt_wanted.data,
            max_amount_fen=current_app.config["DONATION_MAX_FEN"],
            **self.company,
            **target,
        )


#: The label of each way to pay (gettext: 微信支付, 支付宝, 银行卡).
METHOD_LABELS = {"wechatpay": _l("WeChat Pay"), "alipay": _l("Alipay"), "stripe": _l("Bank card")}


def method_choices(form: DonateForm, organization: Organization) -> None:
    """Offer the organization's providers, wallets first, the first one chosen."""
    offered = providers_of(db.session, organization)
    form.method.choices = [SelectChoice(name, METHOD_LABELS[name]) for name in offered]
    if offered and form.method.data not in offered:
        form.method.data = offered[0]  # the first offered (a form posted without a choice)


def _donation_by_token(token: str) -> Donation:
    donation = db.session.scalar(sa.select(Donation).where(Donation.public_token == token))
    if donation is None:
        abort(404)
    return donation


def limited_form(minutes: int, template: str, organization: Organization, **context: object):  # type: ignore[no-untyped-def]
    """The giving form again, as the donor filled it in, saying when to try again (429)."""
    form = DonateForm()
    method_choices(form, organization)
    flash(
        _(
            "Many gifts were started from here or with this email address in a short time. "
            "For everyone's safety, please try again in %(minutes)d minutes; what you typed "
            "is kept below.",
            minutes=minutes,
        ),
        "error",
    )
    return make_response(render_template(template, form=form, **context))


def _limited_campaign_form(minutes: int):  # type: ignore[no-untyped-def]
    campaign = db.session.get(Campaign, (request.view_args or {}).get("campaign_id", 0))
    if campaign is None or campaign.status == "draft":
        abort(404)
    return limited_form(minutes, "donations/new.html", campaign.organization, campaign=campaign)


@bp.route("/campaigns/<int:campaign_id>/donate", methods=["GET", "POST"])
@ratelimits.donation_creation(email_field="donor_email", on_breach=_limited_campaign_form)
def new(campaign_id: int):  # type: ignore[no-untyped-def]
    campaign = db.session.get(Campaign, campaign_id)
    if campaign is None or campaign.status == "draft":
        abort(404)
    form = DonateForm()
    method_choices(form, campaign.organization)
    form.fill_in_donor()
    if form.validate_on_submit():
        command = form.new_donation(
            campaign_id=campaign.id,
            team_id=_team_param(),  # the team link the donor came through
            wants_updates=bool(form.wants_updates.data),
            language=str(get_locale()),
        )
        actor = current_user if current_user.is_authenticated else None
        if form.frequency.data == "monthly":  # monthly gifts
            return start_monthly(form, command, actor)
        paying = create_and_pay(form, command, actor)
        if paying is not None:
            return paying
    status = 400 if request.method == "POST" else 200
    team = _team_of(campaign.id)
    return render_template("donations/new.html", campaign=campaign, form=form, team=team), status


def _team_param() -> int | None:
    """givingdays: ``?team=<id>`` of a team link (the form posts to the same URL)."""
    raw = request.args.get("team", "")
    return int(raw) if raw.isdigit() and len(raw) < 10 else None


def _team_of(campaign_id: int):  # type: ignore[no-untyped-def]
    team_id = team_for_gift(db.session, _team_param(), campaign_id)
    return db.session.get(Team, team_id) if team_id is not None else None


def create_and_pay(form: DonateForm, command: donations.NewDonation, actor: User | None):  # type: ignore[no-untyped-def]
    """Create the gift and go on to pay it (start_payment); None when it is refused, the
    reason then shown on the form."""
    try:
        donation = donations.create_donation(db.session, actor, command)
    except donations.DonationError as exc:
        uow.discard()
        show_error(form, exc)
        return None
    return start_payment(donation, form.method.data)


def start_payment(donation: Donation, method: str | None = "stripe"):  # type: ignore[no-untyped-def]
    """Go on to the way of paying the donor chose: a wallet's cashier, or the card step.

    The new donation is committed first, the documented exception to one commit per request
    (docs/architecture.md): it exists before anything is asked of the provider, whose
    failure must not lose it."""
    uow.commit_now()
    if method in ("wechatpay", "alipay"):
        return wallet_pay.start(donation, method)
    try:
        donations.ensure_payment_intent(db.session, donation.id)
    except donations.DonationError as exc:  # the campaign was suspended meanwhile
        uow.discard()
        flash(exc.text(), "error")
        return redirect(url_for("campaigns.show", campaign_id=donation.campaign_id))
    except payments.PaymentError:
        uow.discard()
        current_app.logger.exception("could not start payment for donation %s", donation.id)
        flash(_("The payment service is not available right now. Please try again."), "error")
    return redirect(url_for("donations.pay", token=donation.public_token))


@bp.get("/donations/<token>/pay")
@writes
def pay(token: str):  # type: ignore[no-untyped-def]
    donation = _donation_by_token(token)
    if donation.status != "pending":
        return redirect(url_for("donations.show", token=token))
    try:
        if donation.payment_provider in ("wechatpay", "alipay"):  # the donor switched to a card
            leave_wallet(db.session, donation.id, utcnow())
            # Leaving the wallet (the order closed, or found paid) stands even if the card
            # step below cannot start: the documented exception (docs/architecture.md).
            uow.commit_now()
            if donation.status != "pending":
                return redirect(url_for("donations.show", token=token))
        client_secret = donations.card_step_secret(db.session, donation.id)
    except donations.DonationError as exc:  # a suspended campaign (issue 16 point 15)
        uow.discard()
        flash(exc.text(), "error")
        return redirect(url_for("campaigns.show", campaign_id=donation.campaign_id))
    except payments.PaymentError:
        uow.discard()
        current_app.logger.exception("payment service unavailable for donation %s", donation.id)
        return render_template("donations/unavailable.html", donation=donation), 503
    return render_template("donations/pay.html", donation=donation, client_secret=client_secret)


@bp.post("/donations/<token>/confirm")
@ratelimits.payment_attempt
def confirm(token: str):  # type: ignore[no-untyped-def]
    """Called by static/js/donate.js once Stripe.js has set up the card."""
    donation = _donation_by_token(token)
    setup_intent_id = (request.form.get("setup_intent") or "")[:100]
    if not setup_intent_id.startswith("seti_"):
        return jsonify(error=_("The card could not be set up. Please try again.")), 400
    card_limit = ratelimits.CardLimit()
    try:
        result = donations.pay_donation(
            db.session, donation.id, setup_intent_id, card_allowed=card_limit.allowed
        )
    except donations.DonationError as exc:  # a suspended campaign (issue 16 point 15)
        uow.discard()
        return jsonify(error=exc.text()), 409
    except payments.PaymentError as exc:
        uow.discard()
        current_app.logger.warning("payment error for donation %s: %s", donation.id, exc)
        return jsonify(error=_("The payment could not be completed. Please try again.")), 502
    show = url_for("donations.show", token=token)
    if result.succeeded:
        return jsonify(status="succeeded", redirect=show)
    # The decline stands even if the next SetupIntent cannot be made: the documented
    # exception (docs/architecture.md).
    uow.commit_now()
    try:  # the next attempt's SetupIntent (the one just used cannot take another card)
        client_secret = donations.card_step_secret(db.session, donation.id)
    except (payments.PaymentError, donations.DonationError):
        uow.discard()
        client_secret = ""
    if result.card_limited:
        return card_limit.breach_response(client_secret)
    message = (
        _(result.declined_message)
        if result.declined_message
        else _("The payment did not go through.")
    )
    return jsonify(
        status="declined",
        error=_("%(reason)s You can try another card.", reason=message),
        client_secret=client_secret,
    ), 402


@bp.get("/donations/<token>")
@writes
def show(token: str):  # type: ignore[no-untyped-def]
    """The result page and, once succeeded, the receipt (public via the unguessable token)."""
    donation = _donation_by_token(token)
    try:
        if donation.status != "pending" or not ratelimits.provider_lookup_allowed(token):
            pass  # settled, or asked the provider moments ago: show what is recorded
        elif donation.payment_provider in ("wechatpay", "alipay"):
            refresh_wallet_payment(db.session, donation, utcnow())
        else:
            donations.refresh_donation(db.session, donation)
    except payments.PaymentError:
        uow.discard()
        current_app.logger.warning("could not refresh donation %s", donation.id)
    except donations.PaymentMismatchError as exc:
        uow.discard()
        current_app.logger.error("donation %s: %s", donation.id, exc)
    except sa.exc.OperationalError as exc:
        # A concurrent confirmation (the provider's notification) held the database; the
        # page shows what is recorded and asks again (it polls, or the donor reloads).
        uow.discard()
        current_app.logger.warning("donation %s not refreshed: %s", donation.id, exc)
    return render_template(
        "donations/show.html",
        donation=donation,
        capitals=receipts.amount_in_capitals(donation.amount_fen),
        address=receipts.organization_address(donation.organization),
        check_url=receipts.check_url(donation),
        not_official=receipts.NOT_AN_OFFICIAL_RECEIPT,
        donor_json=receipts.donor_json(donation),
        log_url=receipts.log_entry_url(donation),
        bill=official_receipts.official_receipt_for(db.session, donation.id),
        **_pending_context(donation),
    )


def _pending_context(donation: Donation) -> dict:
    """For a gift not paid yet: the ways to (re)start paying, and the open order."""
    if donation.status != "pending":
        return {}
    order = current_order(db.session, donation)
    return {
        "offered": providers_of(db.session, donation.organization),
        "method_labels": METHOD_LABELS,
        "start_form": wallet_pay.StartForm(),
        "open_order": order if order is not None and order.status == "open" else None,
    }


@bp.get("/donations/<token>/receipt.pdf")
def receipt_pdf(token: str):  # type: ignore[no-untyped-def]
    donation = _donation_by_token(token)
    if not donation.receipt_number:
        abort(404)
    try:
        pdf = receipts.render_receipt_pdf(donation)
    except receipts.ReceiptFontMissingError:
        current_app.logger.exception("no CJK font for PDF receipts")
        abort(503)
    return current_app.response_class(
        pdf,
        mimetype="application/pdf",
        headers={"Content-Disposition": f'inline; filename="{donation.receipt_number}.pdf"'},
    )


@bp.get("/v/<code>")
def check_receipt(code: str):  # type: ignore[no-untyped-def]
    """The short address on a 捐赠电子凭证 (its QR code): anyone holding the voucher can check
    that the platform has it, with what amount, for which charity, and whether it was
    refunded. The donor's name is not shown (issue 17 point 5)."""
    donation = receipts.donation_by_check_code(
        db.session, code[:60], current_app.config["SECRET_KEY"]
    )
    if donation is None:
        return render_template("donations/check_receipt.html", donation=None), 404
    return render_template(
        "donations/check_receipt.html",
        donation=donation,
        capitals=receipts.amount_in_capitals(donation.amount_fen),
        address=receipts.organization_address(donation.organization),
        not_official=receipts.NOT_AN_OFFICIAL_RECEIPT,
    )


@bp.get("/donations/<token>/receipt-qr.png")
def receipt_qr(token: str):  # type: ignore[no-untyped-def]
    """The QR code of the voucher's check address, for the receipt page."""
    donation = _donation_by_token(token)
    url = receipts.check_url(donation)
    if url is None:
        abort(404)
    response = current_app.response_class(receipts.qr_png(url), mimetype="image/png")
    response.headers["Cache-Control"] = "private, max-age=86400"
    return response


@bp.get("/donations/mine")
def mine():  # type: ignore[no-untyped-def]
    """The old address of 我的捐赠: one page of one's gifts is /account/gifts (issue 17.3)."""
    require_login()
    return redirect(url_for("donor.account_gifts"), 301)


@bp.get("/orgs/<int:org_id>/donations")
def org_list(org_id: int):  # type: ignore[no-untyped-def]
    organization = db.session.get(Organization, org_id) or abort(404)
    require_org_role(org_id, *FINANCE_ROLES)
    rows = db.session.scalars(
        sa.select(Donation)
        .where(Donation.organization_id == org_id, Donation.status != "pending")
        .order_by(Donation.id.desc())
        .limit(500)
    ).all()
    return render_template(
        "donations/org_list.html", organization=organization, donations=rows, form=ReceiptForm()
    )


class RefundForm(BaseForm):
    amount = YuanField(_l("Amount to refund (yuan)"), validators=[DataRequired(), Length(max=20)])
    reason = TextAreaField(_l("Reason"), validators=[DataRequired(), Length(max=500)])


@bp.route("/orgs/<int:org_id>/donations/<int:donation_id>/refund", methods=["GET", "POST"])
def refund(org_id: int, donation_id: int):  # type: ignore[no-untyped-def]
    require_org_role(org_id, *FINANCE_ROLES)
    donation = db.session.get(Donation, donation_id)
    if donation is None or donation.organization_id != org_id:
        abort(404)
    require_reauth()  # money going back out (issue 15: re-authentication for refunds)
    form = RefundForm()
    if form.validate_on_submit():
        command = donations.RefundCommand(donation.id, form.amount.fen or 0, form.reason.data)
        try:
            if donations.refund_needs_second_person(donation, command.amount_fen):
                # above REFUND_FOUR_EYES_FEN: a request a second person approves (issue 15)
                refund_approvals.request_refund(db.session, current_user, command)
                flash(
                    _("The refund was requested: it is made when a second person approves it."),
                    "success",
                )
                return redirect(url_for("money_approvals.index", org_id=org_id))
            donations.refund_donation(db.session, current_user, command)
        except (donations.DonationError, refund_approvals.RefundApprovalError) as exc:
            uow.discard()
            field = form.amount if exc.field == "amount" else form.reason
            field.errors = [*field.errors, exc.text()]
        except payments.PaymentError as exc:
            uow.discard()
            form.amount.errors = [*form.amount.errors, exc.message]
        else:
            flash(_("The refund was made."), "success")
            return redirect(url_for("donations.org_list", org_id=org_id))
    status = 400 if request.method == "POST" else 200
    return render_template(
        "donations/refund.html",
        form=form,
        donation=donation,
        refundable=donations.refundable_fen(donation),
        four_eyes_fen=donations.refund_four_eyes_fen(),
        waiting=refund_approvals.pending_for(db.session, donation.id),
    ), status


class ReceiptForm(BaseForm):
    """The "issue a receipt" button: only the CSRF token."""


@bp.post("/orgs/<int:org_id>/donations/<int:donation_id>/receipt")
def issue_receipt(org_id: int, donation_id: int):  # type: ignore[no-untyped-def]
    """Issue the receipt a donor asks for after giving without one (CL 38)."""
    require_org_role(org_id, *FINANCE_ROLES)
    if not ReceiptForm().validate_on_submit():
        abort(400)
    try:
        donation = receipts.issue_receipt_on_request(db.session, current_user, org_id, donation_id)
    except LookupError:
        abort(404)
    except receipts.ReceiptError as error:
        uow.discard()
        flash(error.text(), "error")
        return redirect(url_for("donations.org_list", org_id=org_id), 303)
    number = donation.receipt_number
    if donation.donor_email:
        uow.after_commit(partial(receipt_mail.queue_receipts, [donation.id]))
    flash(_("Receipt %(number)s was issued.", number=number), "success")
    return redirect(url_for("donations.org_list", org_id=org_id), 303)
