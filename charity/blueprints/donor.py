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
from flask_login import current_user

from charity import payments
from charity.db import commit
from charity.extensions import db
from charity.mail import Mail, queue_mail
from charity.models import Campaign, Donation, RecurringGift, User
from charity.permissions import require_login
from charity.services import donations, recurring

bp = Blueprint("donor", __name__)


def start_monthly(form, command: donations.NewDonation, actor: User | None):  # type: ignore[no-untyped-def]
    """The donation form chose "every month": store the gift, then the card page."""
    from charity.blueprints.donations import _field_error

    try:
        gift = recurring.create_recurring_gift(db.session, actor, command)
    except donations.DonationError as exc:
        db.session.rollback()
        _field_error(form, exc)
        campaign = db.session.get_one(Campaign, command.campaign_id)
        return render_template("donations/new.html", campaign=campaign, form=form), 400
    commit()
    return redirect(url_for("donor.monthly_pay", token=gift.public_token))


def _gift_by_token(token: str) -> RecurringGift:
    gift = db.session.scalar(sa.select(RecurringGift).where(RecurringGift.public_token == token))
    if gift is None:
        abort(404)
    return gift


def queue_recurring_mail() -> None:
    """Email donors whose renewal failed in this request how to update the card."""
    for gift_id in db.session.info.pop("recurring_failures", []):
        gift = db.session.get(RecurringGift, gift_id)
        if gift is None or not gift.donor_email:
            continue
        queue_mail(
            Mail(
                to=gift.donor_email,
                subject=_(
                    "Your monthly gift to %(org)s could not be charged", org=gift.organization.name
                ),
                body=render_template("donor/renewal_failed_email.txt", gift=gift),
            )
        )


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
def monthly_pay(token: str):  # type: ignore[no-untyped-def]
    """The card page: first set-up, or a new card after a failed renewal."""
    gift = _gift_by_token(token)
    if gift.status == "canceled":
        return redirect(url_for("donor.monthly_show", token=token))
    try:
        client_secret = recurring.card_setup_secret(gift)
    except payments.PaymentError:
        current_app.logger.exception("payment service unavailable for monthly gift %s", gift.id)
        return render_template("donor/unavailable.html", gift=gift), 503
    return render_template("donor/monthly_pay.html", gift=gift, client_secret=client_secret)


@bp.post("/monthly/<token>/confirm")
def monthly_confirm(token: str):  # type: ignore[no-untyped-def]
    """Called by static/js/donate.js once Stripe.js has set up the card."""
    from charity.blueprints.donations import commit_with_receipts

    gift = _gift_by_token(token)
    setup_intent_id = (request.form.get("setup_intent") or "")[:100]
    if not setup_intent_id.startswith("seti_"):
        return jsonify(error=_("The card could not be set up. Please try again.")), 400
    try:
        result = recurring.start_recurring_gift(db.session, gift.id, setup_intent_id)
        commit_with_receipts()
    except payments.PaymentError as exc:
        db.session.rollback()
        current_app.logger.warning("payment error for monthly gift %s: %s", gift.id, exc)
        return jsonify(error=_("The payment could not be completed. Please try again.")), 502
    if result.succeeded:
        return jsonify(status="succeeded", redirect=url_for("donor.monthly_show", token=token))
    return jsonify(
        status="declined",
        error=_(
            "Your card was declined: %(reason)s You can try another card.",
            reason=_(result.declined_message),
        ),
        client_secret=recurring.card_setup_secret(gift),
    ), 402


@bp.post("/monthly/<token>/cancel")
def monthly_cancel(token: str):  # type: ignore[no-untyped-def]
    """Cancel at once. The token page is the donor's own (sent only to them)."""
    gift = _gift_by_token(token)
    if gift.donor_user_id is not None and (
        not current_user.is_authenticated or current_user.id != gift.donor_user_id
    ):
        require_login()
        abort(403)
    try:
        changed = recurring.cancel_recurring_gift(db.session, gift.id)
        commit()
    except payments.PaymentError:
        db.session.rollback()
        flash(_("The payment service is not available right now. Please try again."), "error")
        return redirect(url_for("donor.monthly_show", token=token), 303)
    if changed:
        flash(_("Your monthly gift is cancelled. No further payments will be taken."), "success")
    return redirect(url_for("donor.monthly_show", token=token), 303)


@bp.get("/account/gifts")
def account_gifts():  # type: ignore[no-untyped-def]
    require_login()
    gifts = db.session.scalars(
        sa.select(Donation)
        .where(Donation.donor_user_id == current_user.id, Donation.status != "pending")
        .order_by(Donation.id.desc())
    ).all()
    monthly = db.session.scalars(
        sa.select(RecurringGift)
        .where(RecurringGift.donor_user_id == current_user.id)
        .order_by(RecurringGift.id.desc())
    ).all()
    return render_template("donor/gifts.html", donations=gifts, monthly=monthly)
