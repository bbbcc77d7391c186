"""Finding campaigns: the public list (search, filters, sorting, pages) and the home page.

A page of the list costs a fixed number of queries whatever its size: the page itself
(with its organizations joined), its count, and one grouped statistics query.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import Select, and_, case, func, or_, select
from sqlalchemy.orm import Session, contains_eager

from charity.models import Campaign, Donation, Organization
from charity.models.campaign import CAUSES
from charity.services.campaign_stats import COUNTED_STATUSES, CampaignStats, campaign_stats

PUBLIC_STATUSES = ("published", "closed")
PHASE_FILTERS = ("running", "upcoming", "closed")
SORTS = ("newest", "ending", "raised")
PER_PAGE = 12
MAX_PAGE = 10_000


@dataclass(frozen=True)
class CampaignQuery:
    """What a visitor asked for; unknown values are ignored rather than refused."""

    text: str = ""
    province: str = ""
    cause: str = ""
    phase: str = ""
    sort: str = "newest"
    page: int = 1

    def cleaned(self) -> CampaignQuery:
        return CampaignQuery(
            text=_printable(self.text)[:100],
            province=_printable(self.province)[:32],
            cause=self.cause if self.cause in CAUSES else "",
            phase=self.phase if self.phase in PHASE_FILTERS else "",
            sort=self.sort if self.sort in SORTS else "newest",
            page=min(max(self.page, 1), MAX_PAGE),
        )


def _printable(text: str) -> str:
    """Drop control characters (PostgreSQL refuses NUL in a query parameter)."""
    return "".join(ch for ch in text if ch.isprintable()).strip()


@dataclass
class CampaignPage:
    items: list[Campaign]
    stats: dict[int, CampaignStats]
    total: int
    page: int
    per_page: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))


def _public_campaigns() -> Select:
    return (
        select(Campaign)
        .join(Organization, Campaign.organization_id == Organization.id)
        .options(contains_eager(Campaign.organization))
        .where(Campaign.status.in_(PUBLIC_STATUSES))
    )


def _phase_condition(phase: str, today: date):  # type: ignore[no-untyped-def]
    published = Campaign.status == "published"
    if phase == "running":
        return and_(published, Campaign.start_date <= today, Campaign.end_date >= today)
    if phase == "upcoming":
        return and_(published, Campaign.start_date > today)
    return or_(Campaign.status == "closed", and_(published, Campaign.end_date < today))


def _filtered(query: CampaignQuery, today: date) -> Select:
    stmt = _public_campaigns()
    if query.text:
        stmt = stmt.where(
            or_(
                Campaign.title.icontains(query.text, autoescape=True),
                Campaign.summary.icontains(query.text, autoescape=True),
                Organization.name.icontains(query.text, autoescape=True),
            )
        )
    if query.province:
        stmt = stmt.where(
            or_(
                Organization.province == query.province,
                Campaign.region.contains(query.province, autoescape=True),
            )
        )
    if query.cause:
        stmt = stmt.where(Campaign.cause == query.cause)
    if query.phase:
        stmt = stmt.where(_phase_condition(query.phase, today))
    return stmt


def _sorted(stmt: Select, sort: str, today: date) -> Select:
    if sort == "ending":
        finished = case((_phase_condition("closed", today), 1), else_=0)
        return stmt.order_by(finished, Campaign.end_date, Campaign.id.desc())
    if sort == "raised":
        raised = (
            select(
                Donation.campaign_id,
                func.sum(Donation.amount_fen - Donation.refunded_fen).label("raised"),
            )
            .where(Donation.status.in_(COUNTED_STATUSES), Donation.campaign_id.is_not(None))
            .group_by(Donation.campaign_id)
            .subquery()
        )
        stmt = stmt.outerjoin(raised, raised.c.campaign_id == Campaign.id)
        return stmt.order_by(func.coalesce(raised.c.raised, 0).desc(), Campaign.id.desc())
    return stmt.order_by(Campaign.start_date.desc(), Campaign.id.desc())


def search_campaigns(session: Session, query: CampaignQuery, *, today: date) -> CampaignPage:
    query = query.cleaned()
    stmt = _filtered(query, today)
    total = session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery())) or 0
    page_stmt = _sorted(stmt, query.sort, today)
    page_stmt = page_stmt.limit(PER_PAGE).offset((query.page - 1) * PER_PAGE)
    items = list(session.scalars(page_stmt).unique())
    stats = campaign_stats(session, [campaign.id for campaign in items])
    return CampaignPage(items, stats, total, query.page, PER_PAGE)


def featured_campaigns(
    session: Session, *, today: date, limit: int = 3
) -> tuple[list[Campaign], dict[int, CampaignStats]]:
    """A few running campaigns for the home page: those ending soonest first."""
    stmt = _public_campaigns().where(_phase_condition("running", today))
    stmt = stmt.order_by(Campaign.end_date, Campaign.id.desc()).limit(limit)
    items = list(session.scalars(stmt).unique())
    return items, campaign_stats(session, [campaign.id for campaign in items])


def campaign_provinces(session: Session) -> list[str]:
    """Provinces of organizations with public campaigns, for the region filter."""
    stmt = (
        select(Organization.province)
        .join(Campaign, Campaign.organization_id == Organization.id)
        .where(Campaign.status.in_(PUBLIC_STATUSES))
        .distinct()
        .order_by(Organization.province)
    )
    return [province for province in session.scalars(stmt) if province]
