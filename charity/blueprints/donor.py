"""Monthly gifts (card set-up, the donor's page, cancel) and the donor's account of gifts."""

from __future__ import annotations

import sqlalchemy as sa
from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, logout_user
from wtforms import BooleanField, EmailField, PasswordField
from wtforms.validators import DataRequired, Email, Length

from charity import payments
from charity.blueprints.donor_updates import NewsForm
from charity.core import uow
from charity.core.db import writes
from charity.core.permissions import require_login
from charity.extensions import db
from charity.models import Campaign, Donation, RecurringGift, User
from charity.ops.mail import Mail, queue_mail
from charity.services import (
    accounts,
    donations,
    donor_accounts,
    donor_updates,
    official_receipts,
    receipts,
    recurring,
    statements,
)
from charity.services.donations import DonationError
from charity.web import links, ratelimits
from charity.web.forms import BaseForm, show_error

bp = Blueprint("donor", __name__)


def start_monthly(form, command: donations.NewDonation, actor: User | None):  # type: ignore[no-untyped-def]
    """The donation form chose "every month": store the gift, then the card page."""
    try:
        gift = recurring.create_recurring_gift(db.session, actor, command)
    except donations.DonationError as exc:
        uow.discard()
        show_error(form, exc)
        campaign = db.session.get_one(Campaign, command.campaign_id)
        return render_template("donations/new.html", campaign=campaign, form=form), 400
    return redirect(url_for("donor.monthly_pay", token=gift.public_token))


def _gift_by_token(token: str) -> RecurringGift:
    gift = db.session.scalar(sa.select(RecurringGift).where(RecurringGift.public_token == token))
    if gift is None:
        abort(404)
    return gift


@bp.get("/monthly/<token>")
def monthly_show(token: str):  # type: ignore[no-untyped-def]
    gift = _gift_by_token(token)
    gifts = db.session.scalars(
        sa.select(Donation)
        .where(Donation.recurring_gift_id == gift.id)
        .order_by(Donation.id.desc())
    ).all()
    return render_template("donor/monthly.html", gift=gift, donations=gifts)


@bp.get("/monthly/<token>/pay")
@writes
def monthly_pay(token: str):  # type: ignore[no-untyped-def]
    """The card page: first set-up, or a new card after a failed renewal."""
    gift = _gift_by_token(token)
    if gift.status == "canceled":
        return redirect(url_for("donor.monthly_show", token=token))
    try:
        client_secret = recurring.card_setup_secret(db.session, gift.id)
    except DonationError:
        # e.g. the organization has no receiving account (any more): nothing can be charged
        uow.discard()
        return render_template("donor/unavailable.html", gift=gift), 409
    except payments.PaymentError:
        uow.discard()
        current_app.logger.exception("payment service unavailable for monthly gift %s", gift.id)
        return render_template("donor/unavailable.html", gift=gift), 503
    return render_template("donor/monthly_pay.html", gift=gift, client_secret=client_secret)


@bp.post("/monthly/<token>/confirm")
@ratelimits.payment_attempt
def monthly_confirm(token: str):  # type: ignore[no-untyped-def]
    """Called by static/js/donate.js once Stripe.js has set up the card (rate limited per
    address, per gift and per card: issue 15 point 3)."""
    gift = _gift_by_token(token)
    setup_intent_id = (request.form.get("setup_intent") or "")[:100]
    if not setup_intent_id.startswith("seti_"):
        return jsonify(error=_("The card could not be set up. Please try again.")), 400
    card_limit = ratelimits.CardLimit()
    try:
        result = recurring.start_recurring_gift(
            db.session, gift.id, setup_intent_id, card_allowed=card_limit.allowed
        )
    except payments.PaymentError as exc:
        uow.discard()
        current_app.logger.warning("payment error for monthly gift %s: %s", gift.id, exc)
        return jsonify(error=_("The payment could not be completed. Please try again.")), 502
    if result.succeeded:
        return jsonify(status="succeeded", redirect=url_for("donor.monthly_show", token=token))
    # The decline stands even if the next SetupIntent cannot be made: the documented
    # exception (docs/architecture.md).
    uow.commit_now()
    try:  # the next attempt's SetupIntent
        client_secret = recurring.card_setup_secret(db.session, gift.id)
    except (payments.PaymentError, DonationError):
        uow.discard()
        client_secret = ""
    if result.card_limited:
        return card_limit.breach_response(client_secret)
    return jsonify(
        status="declined",
        error=_(
            "%(reason)s You can try another card.",
            reason=_(result.declined_message),
        ),
        client_secret=client_secret,
    ), 402


@bp.route("/monthly/<token>/cancel", methods=["GET", "POST"])
def monthly_cancel(token: str):  # type: ignore[no-untyped-def]
    """Cancel once the donor has confirmed on the page that says what cancelling means
    (issue 17 point 4). The token page is the donor's own (sent only to them)."""
    gift = _gift_by_token(token)
    if gift.donor_user_id is not None and (
        not current_user.is_authenticated or current_user.id != gift.donor_user_id
    ):
        require_login()
        abort(403)
    if gift.status not in ("pending", "active", "past_due"):
        return redirect(url_for("donor.monthly_show", token=token), 303)
    if request.method == "GET" or request.form.get("confirmed") != "yes":
        return render_template("donor/confirm_cancel.html", gift=gift)
    try:
        changed = recurring.cancel_recurring_gift(db.session, gift.id)
    except payments.PaymentError:
        uow.discard()
        flash(_("The payment service is not available right now. Please try again."), "error")
        return redirect(url_for("donor.monthly_show", token=token), 303)
    if changed:
        flash(_("Your monthly gift is cancelled. No further payments will be taken."), "success")
    return redirect(url_for("donor.monthly_show", token=token), 303)


class ClaimForm(BaseForm):
    email = EmailField(
        _l("Email you gave under"), validators=[DataRequired(), Email(), Length(max=254)]
    )


class ConsentForm(BaseForm):
    show_name = BooleanField(_l("Show my name on donor walls for my gifts"))


@bp.get("/account/gifts")
def account_gifts():  # type: ignore[no-untyped-def]
    require_login()
    return _account_page(ClaimForm(), 200)


def _account_page(claim_form: ClaimForm, status: int):  # type: ignore[no-untyped-def]
    gifts = donor_accounts.donor_history(db.session, current_user)
    monthly = db.session.scalars(
        sa.select(RecurringGift)
        .where(RecurringGift.donor_user_id == current_user.id)
        .order_by(RecurringGift.id.desc())
    ).all()
    consent = ConsentForm(show_name=any(g.consent_show_name for g in gifts))
    # The one 我的捐赠 page (issue 17.3) also lists gifts started but not paid yet.
    unfinished = db.session.scalars(
        sa.select(Donation)
        .where(Donation.donor_user_id == current_user.id, Donation.status == "pending")
        .order_by(Donation.id.desc())
        .limit(20)
    ).all()
    return render_template(
        "donor/gifts.html",
        donations=gifts,
        monthly=monthly,
        unfinished=unfinished,
        claim_form=claim_form,
        consent_form=consent,
        years=statements.statement_years(db.session, current_user),
        bills=official_receipts.official_receipts_by_donation(db.session, [g.id for g in gifts]),
        news_form=NewsForm(wants_news=donor_updates.is_subscribed(db.session, current_user.email)),
    ), status


@bp.post("/account/gifts/claim")
@ratelimits.outbound_mail
def claim_request():  # type: ignore[no-untyped-def]
    require_login()
    form = ClaimForm()
    if not form.validate_on_submit():
        return _account_page(form, 400)
    token = donor_accounts.make_claim_token(
        current_user, form.email.data, current_app.config["SECRET_KEY"]
    )
    queue_mail(
        Mail(
            to=donor_accounts.normalize_email(form.email.data),
            subject=_("Link your gifts to your account"),
            body=render_template(
                "donor/claim_email.txt",
                link=links.public_url("donor.claim_confirm", token=token),
            ),
        )
    )
    flash(_("We sent a link to that address. Open it to add those gifts here."), "success")
    return redirect(url_for("donor.account_gifts"), 303)


@bp.get("/account/gifts/claim/<token>")
@writes
def claim_confirm(token: str):  # type: ignore[no-untyped-def]
    require_login()
    try:
        result = donor_accounts.claim_gifts(
            db.session, current_user, token, current_app.config["SECRET_KEY"]
        )
    except donor_accounts.ClaimError as exc:
        uow.discard()
        flash(exc.text(), "error")
        return _account_page(ClaimForm(), 400)
    flash(
        _("%(count)s gifts were added to your account.", count=result.donations + result.monthly),
        "success",
    )
    return redirect(url_for("donor.account_gifts"), 303)


@bp.post("/account/gifts/consent")
def consent():  # type: ignore[no-untyped-def]
    require_login()
    form = ConsentForm()
    if not form.validate_on_submit():
        abort(400)
    donor_accounts.set_name_consent(db.session, current_user, bool(form.show_name.data))
    flash(_("Your choice was saved."), "success")
    return redirect(url_for("donor.account_gifts"), 303)


@bp.get("/account/gifts/statement-<int:year>.pdf")
def statement_pdf(year: int):  # type: ignore[no-untyped-def]
    require_login()
    if not 2000 <= year <= 2999:
        abort(404)
    statement = statements.yearly_statement(db.session, current_user, year)
    try:
        pdf = statements.render_statement_pdf(
            statement, current_user.name, current_app.config.get("RECEIPT_FONT_PATH")
        )
    except receipts.ReceiptFontMissingError:
        current_app.logger.exception("no CJK font for PDF statements")
        abort(503)
    return current_app.response_class(
        pdf,
        mimetype="application/pdf",
        headers={
            "Content-Disposition": f'attachment; filename="statement-{year}.pdf"',
            "X-Content-Type-Options": "nosniff",
        },
    )


class EraseForm(BaseForm):
    password = PasswordField(_l("Your password"), validators=[DataRequired()])
    delete_account = BooleanField(_l("Also close my account"))


@bp.route("/account/erase", methods=["GET", "POST"])
def erase():  # type: ignore[no-untyped-def]
    """The donor erases their personal data (and may close the account)."""
    require_login()
    form = EraseForm()
    if form.validate_on_submit():
        if not accounts.verify_password(current_user, form.password.data):
            form.password.errors = [*form.password.errors, _("The password is not correct.")]
        else:
            command = donor_accounts.EraseMyData(delete_account=form.delete_account.data)
            try:
                result = donor_accounts.erase_my_data(db.session, current_user, command)
            except payments.PaymentError:
                uow.discard()
                flash(
                    _("The payment service is not available right now. Please try again."), "error"
                )
                return render_template("donor/erase.html", form=form), 503
            if result.account_deleted:
                logout_user()
            flash(_("Your personal data was erased."), "success")
            if result.account_deleted:
                return redirect(url_for("main.home"), 303)
            return redirect(url_for("donor.account_gifts"), 303)
    status = 400 if form.is_submitted() else 200
    return render_template("donor/erase.html", form=form), status
