"""Campaigns (公开募捐活动): filing, publishing, closing, updates and their statistics.

The legal rules live here, each with its source:

- only a verified organization holding a public fundraising qualification may raise
  funds from the public (Charity Law 2023 arts. 22, 24); one without it may cooperate
  with a qualified organization that files the campaign and receives all money (art. 26);
- the plan is filed on the national platform (慈善中国) at least 10 days before the
  campaign starts (art. 24; MCA Order 74 art. 11), except that an emergency campaign is
  filed within 10 days after it starts (art. 73);
- a published plan is never edited in place (MCA Order 81 art. 16: a correction is a new
  disclosure). The model enforces that too (``PLAN_FIELDS``).

Public log payloads for ``campaign.published`` and ``campaign.closed`` are built here from
fields that never change after the event.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from typing import Any

from flask import current_app, has_app_context
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.orm import Session, object_session

from charity.compliance.rules.dates import period_end  # Civil Code art. 203
from charity.core.clock import today_cst
from charity.core.errors import DomainError
from charity.core.events import record_event
from charity.core.permissions import ensure_org_role
from charity.models import Campaign, CampaignUpdate, Organization, User
from charity.models.campaign import CAUSES, PLAN_FIELDS
from charity.models.disclosure import Obligation
from charity.services import donor_updates, suspensions

#: CL 24, MCA Order 74 art. 11: filing at least this many days before the start.
FILING_LEAD_DAYS = 10
#: CL 73: an emergency campaign is filed at the latest this many days after its start.
EMERGENCY_FILING_GRACE_DAYS = 10
#: The Charity Law took effect and 慈善中国 opened for filings on this day.
EARLIEST_FILING_DATE = date(2016, 9, 1)
#: A sanity bound, not a legal one: nobody files a plan for more than ten years.
MAX_DURATION_DAYS = 3653
#: ¥10 billion: far above any campaign ever filed, below any integer limit.
MAX_EXPECTED_FEN = 1_000_000_000_000
FILING_NUMBER_RE = re.compile(r"^[0-9A-Z][0-9A-Z-]{3,63}$")
FILE_ROLES = ("owner", "editor")
PUBLISH_ROLES = ("owner",)


class CampaignError(DomainError):
    """Domain errors, each with the form field it belongs to (None: the whole form); a
    plan with several problems is one ``CampaignError.many([(field, message), ...])``."""


NOT_QUALIFIED = _l(
    "Only a verified charitable organization holding a public fundraising qualification "
    "(公开募捐资格证书) may raise funds from the public (Charity Law arts. 22 and 24). "
    "Your organization does not hold one on this platform."
)
NOT_VERIFIED = _l(
    "Your organization has not been verified on this platform yet. Campaigns can be filed "
    "once the verification is complete."
)
COOPERATION_ROUTE = _l(
    "You can still raise funds with the public through cooperation (合作募捐, Charity Law "
    "art. 26): a qualified organization files the campaign and names your organization as "
    "its partner. The qualified organization receives all the money and is responsible for "
    "the campaign."
)


def gift_refusal(campaign: Campaign, day: date) -> Any | None:
    """Why this campaign takes no gift received on ``day`` (CST), online or offline, or
    None. CL art. 22 / MCA Order 74 (issue 16 point 8): once the organization has lost
    its public fundraising qualification its campaigns take no more gifts; the campaign
    page shows this reason. Issue 16 point 15: a campaign suspended by a regulator or an
    admin takes no gift either, and its page says why."""
    session = object_session(campaign)
    if session is not None and campaign.id is not None:
        suspended = suspensions.refusal(session, campaign.id)
        if suspended is not None:
            return suspended
    organization = campaign.organization
    if organization.qualification_lost_on is not None and day >= organization.qualification_lost_on:
        return _l(
            "%(org)s lost its public fundraising qualification on %(date)s (%(reason)s; "
            "%(source)s). Under Charity Law art. 22 this campaign takes no more gifts.",
            org=organization.name,
            date=organization.qualification_lost_on.isoformat(),
            reason=organization.qualification_loss_reason,
            source=organization.qualification_loss_source,
        )
    return None


def filing_refusal(organization: Organization) -> Any | None:
    """Why this organization cannot file a public campaign, or None if it can."""
    if not organization.is_verified:
        return NOT_VERIFIED
    if not organization.has_qualification:
        return NOT_QUALIFIED
    return long_overdue_refusal(organization)


def long_overdue_refusal(organization: Organization) -> Any | None:
    """Issue 16 point 15: an organization whose oldest unfulfilled obligation has been
    overdue for longer than OVERDUE_FILING_BLOCK_DAYS files no new campaign until it
    catches up (publishes it, even late)."""
    days = int(current_app.config.get("OVERDUE_FILING_BLOCK_DAYS", 180)) if has_app_context() else 0
    session = object_session(organization)
    if days <= 0 or session is None or organization.id is None:
        return None
    oldest = session.scalar(
        select(func.min(Obligation.due_date)).where(
            Obligation.organization_id == organization.id,
            Obligation.fulfilled_on.is_(None),
            Obligation.due_date < today_cst() - timedelta(days=days),
        )
    )
    if oldest is None:
        return None
    return _l(
        "Your organization has a disclosure obligation overdue since %(date)s, more than "
        "%(days)s days: new campaigns can be filed once it is published. See the "
        "organization's obligations.",
        date=oldest.isoformat(),
        days=days,
    )


#: The plan fields a person types: the model's PLAN_FIELDS (the one list) less the
#: organization, the partner (typed as its USCC, ``partner_uscc``) and the currency.
TYPED_PLAN_FIELDS = tuple(
    name for name in PLAN_FIELDS if name not in ("organization_id", "partner_id", "currency")
)


@dataclass(frozen=True)
class CampaignPlan:
    """Everything a filed plan says, as typed (amount already in fen)."""

    title: str
    summary: str
    cause: str
    purpose_md: str
    start_date: date
    end_date: date
    region: str
    person_in_charge: str
    acceptance_methods: str
    receiving_account: str
    beneficiaries: str
    use_of_funds: str
    fundraising_cost: str
    leftover_plan: str
    expected_amount_fen: int
    filing_number: str
    filing_date: date
    is_emergency: bool = False
    #: USCC of a cooperation partner (合作募捐), or "".
    partner_uscc: str = ""
    #: The planned end of the project the money serves (None: ends with fundraising).
    project_end_date: date | None = None

    def normalized(self) -> CampaignPlan:
        return replace(
            self,
            filing_number=self.filing_number.strip().upper(),
            partner_uscc=self.partner_uscc.strip().upper(),
        )


def _date_errors(plan: CampaignPlan, today: date) -> list[tuple[str | None, Any]]:
    errors: list[tuple[str | None, Any]] = []
    if plan.filing_date > today:
        errors.append(("filing_date", _l("The filing date cannot be in the future.")))
    elif plan.filing_date < EARLIEST_FILING_DATE:
        errors.append(
            ("filing_date", _l("Filings on the national platform began on 1 September 2016."))
        )
    if plan.end_date < plan.start_date:
        errors.append(("end_date", _l("The end date must be on or after the start date.")))
    elif (plan.end_date - plan.start_date).days > MAX_DURATION_DAYS:
        errors.append(("end_date", _l("A campaign plan may cover at most ten years.")))
    elif plan.end_date < today:
        errors.append(("end_date", _l("The end date has already passed.")))
    if plan.project_end_date is not None and plan.project_end_date < plan.end_date:
        errors.append(
            (
                "project_end_date",
                _l(
                    "The project cannot end before its fundraising ends (leave it empty if "
                    "they end together)."
                ),
            )
        )
    elif (
        plan.project_end_date is not None
        and (plan.project_end_date - plan.start_date).days > MAX_DURATION_DAYS
    ):
        errors.append(("project_end_date", _l("A campaign plan may cover at most ten years.")))
    errors += _filing_lead_errors(plan)
    return errors


def _filing_lead_errors(plan: CampaignPlan) -> list[tuple[str | None, Any]]:
    if plan.is_emergency:
        latest = period_end(plan.start_date + timedelta(days=EMERGENCY_FILING_GRACE_DAYS))
        if plan.filing_date > latest:
            message = _l(
                "An emergency campaign must be filed within %(days)s days after it starts "
                "(Charity Law art. 73), so by %(date)s at the latest.",
                days=EMERGENCY_FILING_GRACE_DAYS,
                date=latest.isoformat(),
            )
            return [("filing_date", message)]
        return []
    earliest = plan.filing_date + timedelta(days=FILING_LEAD_DAYS)
    if plan.start_date < earliest:
        message = _l(
            "A campaign may start at the earliest %(days)s days after its filing date "
            "(Charity Law art. 24), so on %(date)s or later. Only a response to a sudden "
            "emergency may start earlier.",
            days=FILING_LEAD_DAYS,
            date=earliest.isoformat(),
        )
        return [("start_date", message)]
    return []


def _plan_errors(
    session: Session,
    organization: Organization,
    plan: CampaignPlan,
    today: date,
    own_id: int | None,
) -> tuple[list[tuple[str | None, Any]], Organization | None]:
    errors = _date_errors(plan, today)
    if plan.cause not in CAUSES:
        errors.append(("cause", _l("Choose one of the listed causes.")))
    if not 0 < plan.expected_amount_fen <= MAX_EXPECTED_FEN:
        errors.append(("expected_amount", _l("Enter an amount between ¥0.01 and ¥10,000,000,000.")))
    if not FILING_NUMBER_RE.match(plan.filing_number):
        errors.append(("filing_number", _l("Use the filing number exactly as 慈善中国 shows it.")))
    elif _filing_number_taken(session, plan.filing_number, own_id):
        errors.append(
            ("filing_number", _l("A campaign with this filing number is already on the platform."))
        )
    partner, partner_errors = _resolve_partner(session, organization, plan.partner_uscc)
    return errors + partner_errors, partner


def _filing_number_taken(session: Session, filing_number: str, own_id: int | None) -> bool:
    query = select(Campaign.id).where(Campaign.filing_number == filing_number)
    if own_id is not None:
        query = query.where(Campaign.id != own_id)
    return session.scalar(query.limit(1)) is not None


def _resolve_partner(
    session: Session, organization: Organization, uscc: str
) -> tuple[Organization | None, list[tuple[str | None, Any]]]:
    if not uscc:
        return None, []
    partner = session.scalar(
        select(Organization).where(Organization.uscc == uscc, Organization.status == "verified")
    )
    if partner is None or not partner.is_verified:
        message = _l("No verified organization on the platform has this USCC.")
    elif partner.id == organization.id:
        message = _l("Your own organization cannot be its partner.")
    elif partner.has_qualification:
        message = _l(
            "This organization holds its own public fundraising qualification; a cooperation "
            "partner is an organization without one. It can file its own campaigns."
        )
    else:
        return partner, []
    return None, [("partner_uscc", message)]


def _validated(
    session: Session, organization: Organization, plan: CampaignPlan, today: date, own_id=None
) -> tuple[CampaignPlan, Organization | None]:
    refusal = filing_refusal(organization)
    if refusal is not None:
        raise CampaignError(refusal)
    plan = plan.normalized()
    errors, partner = _plan_errors(session, organization, plan, today, own_id)
    if errors:
        raise CampaignError.many(errors)
    return plan, partner


def _apply(campaign: Campaign, plan: CampaignPlan, partner: Organization | None) -> None:
    for name in TYPED_PLAN_FIELDS:
        setattr(campaign, name, getattr(plan, name))
    campaign.partner_id = partner.id if partner else None


def file_campaign(
    session: Session,
    actor: User,
    organization: Organization,
    plan: CampaignPlan,
    *,
    today: date | None = None,
) -> Campaign:
    """Record a filed plan as a draft campaign of ``organization``."""
    ensure_org_role(actor, organization.id, FILE_ROLES)
    plan, partner = _validated(session, organization, plan, today or today_cst())
    campaign = Campaign(organization_id=organization.id, status="draft", created_by_id=actor.id)
    _apply(campaign, plan, partner)
    session.add(campaign)
    session.flush()  # the id is needed for the redirect
    return campaign


def update_campaign(
    session: Session, actor: User, campaign: Campaign, plan: CampaignPlan, *, today=None
) -> Campaign:
    """Edit a draft; a published plan is corrected by a disclosure instead."""
    ensure_org_role(actor, campaign.organization_id, FILE_ROLES)
    if campaign.status != "draft":
        raise CampaignError(
            _l("A published plan cannot be edited. Publish a correction instead."), None
        )
    plan, partner = _validated(
        session, campaign.organization, plan, today or today_cst(), campaign.id
    )
    _apply(campaign, plan, partner)
    return campaign


def publish_campaign(
    session: Session, actor: User, campaign: Campaign, *, now: datetime | None = None
) -> Campaign:
    """draft -> published: the campaign appears in the list and may receive gifts."""
    ensure_org_role(actor, campaign.organization_id, PUBLISH_ROLES)
    now = now or datetime.now(UTC)
    if campaign.status != "draft":
        raise CampaignError(_l("Only a draft can be published."))
    refusal = filing_refusal(campaign.organization)
    if refusal is not None:
        raise CampaignError(refusal)
    if campaign.end_date < today_cst(now):
        raise CampaignError(_l("The campaign's end date has already passed."))
    campaign.status = "published"
    campaign.published_at = now.replace(microsecond=0)
    record_event(session, "campaign.published", subject_id=campaign.id)
    return campaign


def close_campaign(
    session: Session, actor: User | None, campaign: Campaign, *, now: datetime | None = None
) -> Campaign:
    """published -> closed, by the owner at any time or by the system (actor None) at the end."""
    if actor is not None:
        ensure_org_role(actor, campaign.organization_id, PUBLISH_ROLES)
    if campaign.status != "published":
        raise CampaignError(_l("Only a published campaign can be closed."))
    campaign.status = "closed"
    campaign.closed_at = (now or datetime.now(UTC)).replace(microsecond=0)
    record_event(session, "campaign.closed", subject_id=campaign.id)
    return campaign


def close_ended_campaigns(session: Session, *, now: datetime | None = None) -> list[Campaign]:
    """Close every published campaign whose end date (CST) has passed. Safe to repeat."""
    now = now or datetime.now(UTC)
    query = (
        select(Campaign)
        .where(Campaign.status == "published", Campaign.end_date < today_cst(now))
        .order_by(Campaign.id)
        .with_for_update(skip_locked=True)
    )
    ended = list(session.scalars(query))
    for campaign in ended:
        close_campaign(session, None, campaign, now=now)
    return ended


@dataclass(frozen=True)
class UpdatePost:
    title: str
    body_md: str


def post_update(
    session: Session,
    actor: User,
    campaign: Campaign,
    command: UpdatePost,
    *,
    now: datetime | None = None,
) -> CampaignUpdate:
    """An update on the campaign page, by the organization's owner or editor."""
    ensure_org_role(actor, campaign.organization_id, FILE_ROLES)
    if campaign.status == "draft":
        raise CampaignError(_l("Publish the campaign before posting updates."))
    update = CampaignUpdate(
        campaign=campaign,
        title=command.title,
        body_md=command.body_md,
        posted_at=now or datetime.now(UTC),
        author_id=actor.id,
    )
    session.add(update)
    donor_updates.note(session, campaign.id, "update", None, command.title)
    return update


# --- the public log ---------------------------------------------------------------


def _rfc3339(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def published_payload(session: Session, campaign_id: int) -> dict[str, Any]:
    campaign = session.get(Campaign, campaign_id)
    if campaign is None:
        raise LookupError(f"campaign {campaign_id} is gone")
    return {
        "campaign_id": campaign.id,
        "organization_id": campaign.organization_id,
        "org_uscc": campaign.organization.uscc,
        "partner_uscc": campaign.partner.uscc if campaign.partner else None,
        "filing_number": campaign.filing_number,
        "filing_date": campaign.filing_date.isoformat(),
        "expected_amount_fen": campaign.expected_amount_fen,
        "currency": campaign.currency,
        "start_date": campaign.start_date.isoformat(),
        "end_date": campaign.end_date.isoformat(),
        "is_emergency": campaign.is_emergency,
    }


def closed_payload(session: Session, campaign_id: int) -> dict[str, Any]:
    payload = published_payload(session, campaign_id)
    campaign = session.get(Campaign, campaign_id)
    if campaign is None or campaign.closed_at is None:
        raise LookupError(f"campaign {campaign_id} is not closed")
    payload["closed_at"] = _rfc3339(campaign.closed_at)
    return payload


def campaign_phase(campaign: Campaign, today: date) -> str:
    """draft, upcoming, running, ended (published but past its end date) or closed."""
    if campaign.is_running_on(today):
        return "running"
    if campaign.status != "published":
        return campaign.status
    return "upcoming" if today < campaign.start_date else "ended"
