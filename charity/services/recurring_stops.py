"""Monthly gifts stop when enforcement stops a campaign's gifts (issue 16 points 8 and 15).

A suspended campaign takes no gifts (``charity.services.suspensions``), and an organization
that lost its public fundraising qualification (CL art. 22, MCA Order 74) may take none
from that day. A monthly gift would still be charged by its provider every month, so each
running monthly gift of the campaign (suspension) or of all the organization's campaigns
(lost qualification) is cancelled at its provider — the Stripe Subscription, through the
SDK — marked ``canceled``, logged (``recurring_gift.stopped``: which gift, campaign,
organization, why and when; never the donor) and its donor mailed in Chinese.

The work runs after the decision commits: one job finds the gifts, one job per gift
cancels it (a provider failure retries that gift alone; a subscription already cancelled
at Stripe — a retry after a lost answer — counts as done). A pending gift (no card yet,
never charged) is cancelled without a mail. WeChat Pay and Alipay take one-off gifts only
here (no 委托代扣 contracts are modelled), so there is nothing to cancel there.
"""

from __future__ import annotations

from datetime import UTC, datetime
from functools import partial
from typing import Any

import sqlalchemy as sa
from flask_babel import force_locale
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Session

from charity.core.events import record_event
from charity.core.money import format_fen
from charity.core.uow import after_commit
from charity.extensions import db
from charity.models import Organization, RecurringGift
from charity.models.enforcement import CampaignSuspension
from charity.ops import jobs
from charity.ops.mail import Mail, deliver
from charity.payments import subscriptions
from charity.payments.stripe import PaymentError
from charity.services import recurring

RUNNING = ("pending", "active", "past_due")
SUSPENSION_JOB = "charity.services.recurring_stops.stop_for_suspension"
QUALIFICATION_JOB = "charity.services.recurring_stops.stop_for_qualification_loss"
GIFT_JOB = "charity.services.recurring_stops.stop_gift"
RETRY = jobs.Retry(attempts=4, intervals=(30, 120, 600))
#: Mails to donors are in Chinese (the platform's language for donors in China).
MAIL_LOCALE = "zh_Hans_CN"


def running_gift_ids(
    session: Session, *, campaign_id: int | None = None, organization_id: int | None = None
) -> list[int]:
    statement = sa.select(RecurringGift.id).where(RecurringGift.status.in_(RUNNING))
    if campaign_id is not None:
        statement = statement.where(RecurringGift.campaign_id == campaign_id)
    if organization_id is not None:
        statement = statement.where(RecurringGift.organization_id == organization_id)
    return list(session.scalars(statement.order_by(RecurringGift.id)))


def _fan_out(gift_ids: list[int], cause: str, reference: int) -> int:
    for gift_id in gift_ids:
        after_commit(partial(jobs.enqueue, GIFT_JOB, gift_id, cause, reference, retry=RETRY))
    return len(gift_ids)


def stop_for_suspension(suspension_id: int) -> int:
    """The job after ``campaign.suspended``: the campaign's running monthly gifts."""
    suspension = db.session.get(CampaignSuspension, suspension_id)
    if suspension is None or suspension.lifted_at is not None:
        return 0  # lifted before this ran: nothing to stop
    ids = running_gift_ids(db.session, campaign_id=suspension.campaign_id)
    return _fan_out(ids, "campaign_suspended", suspension_id)


def stop_for_qualification_loss(organization_id: int) -> int:
    """The job after ``organization.qualification_lost``: every running monthly gift to
    the organization (all its campaigns take no gifts from that day)."""
    organization = db.session.get(Organization, organization_id)
    if organization is None or organization.qualification_lost_on is None:
        return 0
    ids = running_gift_ids(db.session, organization_id=organization_id)
    return _fan_out(ids, "qualification_lost", organization_id)


def _cancel_at_stripe(gift: RecurringGift) -> None:
    account, subscription = gift.stripe_account_id or "", gift.stripe_subscription_id or ""
    try:
        subscriptions.cancel_subscription(account=account, subscription=subscription)
    except PaymentError:
        # Cancelled already (a retry after our commit failed, or the donor at Stripe)?
        if subscriptions.subscription_status(account=account, subscription=subscription) != (
            "canceled"
        ):
            raise


def stop_gift(gift_id: int, cause: str, reference: int, now: datetime | None = None) -> bool:
    """The per-gift job: cancel at the provider, mark, log, mail. False if it had already
    stopped (the donor cancelled, or an earlier run did it)."""
    session = db.session
    gift = recurring.lock_gift(session, gift_id)
    if gift.status not in RUNNING:
        return False
    was_charging = gift.status != "pending"
    if gift.stripe_subscription_id:
        _cancel_at_stripe(gift)
    gift.status = "canceled"
    gift.canceled_at = now or datetime.now(UTC)
    record_event(
        session,
        "recurring_gift.stopped",
        stopped_payload(gift, cause, reference),
        subject_table="recurring_gifts",
        subject_id=gift.id,
    )
    if was_charging and gift.donor_email:
        after_commit(partial(deliver, donor_mail(gift, cause, reference)), session)
    return True


def stopped_payload(gift: RecurringGift, cause: str, reference: int) -> dict[str, Any]:
    """The public log: which monthly gift of which campaign and organization stopped, why
    (the suspension's id, or the day the qualification was lost) and when — never the
    donor's name, address, amount or card."""
    organization = gift.organization
    payload: dict[str, Any] = {
        "recurring_gift_id": gift.id,
        "campaign_id": gift.campaign_id,
        "organization_id": gift.organization_id,
        "uscc": organization.uscc,
        "cause": cause,
        "canceled_at": gift.canceled_at.isoformat() if gift.canceled_at else None,
    }
    if cause == "campaign_suspended":
        payload["suspension_id"] = reference
    else:
        lost_on = organization.qualification_lost_on
        payload["qualification_lost_on"] = lost_on.isoformat() if lost_on else None
    return payload


def donor_mail(gift: RecurringGift, cause: str, reference: int) -> Mail:
    """The donor's mail, in Chinese: why the gift stopped (the suspension's reason, or the
    lost qualification's date, reason and decision) and that no further charge comes."""
    campaign, organization = gift.campaign, gift.organization
    title = campaign.title if campaign is not None else organization.name
    with force_locale(MAIL_LOCALE):
        if cause == "campaign_suspended":
            suspension = db.session.get(CampaignSuspension, reference)
            why = _l(
                "The campaign has been suspended by the regulator and takes no gifts. "
                "Reason: %(reason)s",
                reason=suspension.reason if suspension else "",
            )
        else:
            why = _l(
                "%(org)s no longer holds a public fundraising qualification since %(date)s "
                "(%(reason)s; %(source)s), so it may not take gifts from the public.",
                org=organization.name,
                date=organization.qualification_lost_on.isoformat()
                if organization.qualification_lost_on
                else "",
                reason=organization.qualification_loss_reason,
                source=organization.qualification_loss_source,
            )
        subject = str(_l("Your monthly gift has stopped: %(title)s", title=title))
        body = str(
            _l(
                "Your monthly gift of %(amount)s to %(title)s of %(org)s has been "
                "cancelled: you will not be charged again. %(why)s Gifts already made stay "
                "recorded, with their receipts. If the campaign takes gifts again, you may "
                "start a new monthly gift.",
                amount=format_fen(gift.amount_fen),
                title=title,
                org=organization.name,
                why=str(why),
            )
        )
    return Mail(to=gift.donor_email or "", subject=subject, body=body)
