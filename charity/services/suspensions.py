"""Suspending a campaign (issue 16 point 15): a regulator of the organization's province
or a platform admin stops a campaign's gifts, with a reason (optionally the complaint it
answers), and later lifts the suspension.

While suspended, no gift is created and no payment is started for the campaign, online
(every provider) or offline (``charity.services.campaigns.gift_refusal``). A payment
already in flight that succeeds is still recorded (money is never lost) and shows up in
:func:`gifts_while_suspended`, for the regulator to follow up. The donors of the campaign
who gave an e-mail address are told, by a job after the commit, and its monthly gifts are
cancelled at their provider (``charity.services.recurring_stops``).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session

from charity.core.clock import cst_date
from charity.core.errors import DomainError
from charity.core.events import record_event
from charity.core.permissions import has_platform_role
from charity.core.uow import after_commit
from charity.extensions import db
from charity.models import Campaign, Donation, User
from charity.models.enforcement import CampaignSuspension, Complaint
from charity.ops import jobs
from charity.ops.mail import Mail, deliver

REASON_MAX = 2000
MAIL_JOB = "charity.services.suspensions.mail_donors"
STOP_MONTHLY_JOB = "charity.services.recurring_stops.stop_for_suspension"


class SuspensionError(DomainError, ValueError):
    """A refusal (charity.core.errors.DomainError)."""


def active_suspension(session: Session, campaign_id: int) -> CampaignSuspension | None:
    return session.scalar(
        select(CampaignSuspension).where(
            CampaignSuspension.campaign_id == campaign_id, CampaignSuspension.lifted_at.is_(None)
        )
    )


def refusal(session: Session, campaign_id: int) -> Any | None:
    """Why a suspended campaign takes no gift (in plain words, for its page and the
    donor), or None."""
    suspension = active_suspension(session, campaign_id)
    if suspension is None:
        return None
    return _l(
        "This campaign has been suspended by the regulator since %(date)s and takes no "
        "gifts. Reason: %(reason)s",
        date=cst_date(suspension.suspended_at).isoformat(),
        reason=suspension.reason,
    )


def may_suspend(actor: User | None, campaign: Campaign) -> bool:
    """Admins, and regulators of the organization's province (or of every province)."""
    if not has_platform_role(actor, ("admin", "regulator")):
        return False
    province = actor.regulator_province if actor.platform_role == "regulator" else None
    return not province or province == campaign.organization.province


def suspend_campaign(
    session: Session,
    actor: User,
    campaign: Campaign,
    reason: str,
    complaint_id: int | None = None,
    now: datetime | None = None,
) -> CampaignSuspension:
    """Suspend a published campaign. Refused (nothing written): not allowed, not
    published, already suspended, an empty or too long reason, a complaint about
    another organization."""
    if not may_suspend(actor, campaign):
        raise PermissionError("admins and the region's regulator only")
    # One suspension at a time: the campaign's row lock serializes two regulators.
    session.execute(select(Campaign.id).where(Campaign.id == campaign.id).with_for_update())
    if campaign.status != "published":
        raise SuspensionError(_l("Only a published campaign can be suspended."))
    if active_suspension(session, campaign.id) is not None:
        raise SuspensionError(_l("This campaign is already suspended."))
    reason = reason.strip()
    if not reason or len(reason) > REASON_MAX:
        raise SuspensionError(_l("Give the reason (at most 2000 characters)."), "reason")
    if complaint_id is not None:
        complaint = session.get(Complaint, complaint_id)
        if complaint is None or complaint.organization_id != campaign.organization_id:
            raise SuspensionError(_l("No such complaint about this organization."), "complaint")
    suspension = CampaignSuspension(
        campaign_id=campaign.id, reason=reason, complaint_id=complaint_id,
        suspended_at=now or datetime.now(UTC), suspended_by_id=actor.id,
    )  # fmt: skip
    session.add(suspension)
    session.flush()  # the id, for the log entry and the mail job
    record_event(session, "campaign.suspended", subject_id=suspension.id)
    suspension_id = suspension.id
    after_commit(lambda: jobs.enqueue(MAIL_JOB, suspension_id, retry=jobs.MAIL_RETRY))
    # Its monthly gifts are cancelled at their provider (charity.services.recurring_stops).
    after_commit(lambda: jobs.enqueue(STOP_MONTHLY_JOB, suspension_id, retry=jobs.Retry()))
    return suspension


def lift_suspension(
    session: Session, actor: User, campaign: Campaign, note: str, now: datetime | None = None
) -> CampaignSuspension:
    if not may_suspend(actor, campaign):
        raise PermissionError("admins and the region's regulator only")
    suspension = active_suspension(session, campaign.id)
    if suspension is None:
        raise SuspensionError(_l("This campaign is not suspended."))
    note = note.strip()
    if len(note) > REASON_MAX:
        raise SuspensionError(_l("At most 2000 characters."), "note")
    suspension.lifted_at, suspension.lifted_by_id = now or datetime.now(UTC), actor.id
    suspension.lift_note = note
    record_event(session, "campaign.suspension_lifted", subject_id=suspension.id)
    return suspension


def donor_emails(session: Session, campaign_id: int) -> list[str]:
    """The distinct e-mail addresses of the campaign's donors who paid (refunded too)."""
    return list(
        session.scalars(
            select(func.lower(Donation.donor_email))
            .distinct()
            .where(
                Donation.campaign_id == campaign_id,
                Donation.succeeded_at.is_not(None),
                Donation.donor_email.is_not(None),
                Donation.donor_email != "",
            )
            .order_by(func.lower(Donation.donor_email))
        )
    )


def mail_donors(suspension_id: int) -> int:
    """The job: one mail to each donor of the suspended campaign who gave an e-mail.
    Returns how many were sent."""
    session = db.session
    suspension = session.get(CampaignSuspension, suspension_id)
    if suspension is None:
        return 0
    campaign = suspension.campaign
    subject = str(_l("Campaign suspended: %(title)s", title=campaign.title))
    body = str(
        _l(
            "The campaign %(title)s of %(org)s, to which you gave, has been suspended by "
            "the regulator and takes no more gifts for now. Reason: %(reason)s",
            title=campaign.title,
            org=campaign.organization.name,
            reason=suspension.reason,
        )
    )
    addresses = donor_emails(session, campaign.id)
    for address in addresses:
        deliver(Mail(to=address, subject=subject, body=body))
    return len(addresses)


def gifts_while_suspended(session: Session, campaign_id: int) -> list[Donation]:
    """Gifts that succeeded while the campaign was suspended (payments in flight when it
    was suspended): recorded, never lost, flagged here for follow-up."""
    window = and_(
        Donation.succeeded_at >= CampaignSuspension.suspended_at,
        or_(
            CampaignSuspension.lifted_at.is_(None),
            Donation.succeeded_at < CampaignSuspension.lifted_at,
        ),
    )
    return list(
        session.scalars(
            select(Donation)
            .join(CampaignSuspension, CampaignSuspension.campaign_id == Donation.campaign_id)
            .where(Donation.campaign_id == campaign_id, window)
            .order_by(Donation.succeeded_at)
        )
    )


def suspension_payload(session: Session, suspension_id: int) -> dict[str, Any]:
    """The public log: which campaign, from when, why (the reason is public: the page
    shows it), and the complaint it answers; lifted: when."""
    suspension = session.get(CampaignSuspension, suspension_id)
    if suspension is None:
        raise LookupError(suspension_id)
    campaign = suspension.campaign
    return {
        "suspension_id": suspension.id,
        "campaign_id": campaign.id,
        "organization_id": campaign.organization_id,
        "uscc": campaign.organization.uscc,
        "suspended_at": suspension.suspended_at.isoformat(),
        "reason": suspension.reason,
        "complaint_id": suspension.complaint_id,
    }


def lifted_payload(session: Session, suspension_id: int) -> dict[str, Any]:
    payload = suspension_payload(session, suspension_id)
    suspension = session.get(CampaignSuspension, suspension_id)
    lifted = suspension.lifted_at if suspension else None
    payload["lifted_at"] = lifted.isoformat() if lifted else None
    return payload
