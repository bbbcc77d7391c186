"""Campaign statistics: raised (net of refunds), gift count and the daily series.

One grouped query serves any number of campaigns (the list page asks for a page of
them at once). Days are calendar days in China Standard Time.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import Date, func, select
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Session
from sqlalchemy.sql.functions import FunctionElement

from charity.core.clock import CST
from charity.models import Donation

#: Donation statuses whose net amount counts towards a campaign's total.
COUNTED_STATUSES = ("succeeded", "partially_refunded")


class cst_day(FunctionElement):  # noqa: N801 - reads like the SQL function it renders
    """The calendar day in China Standard Time of a UTC timestamp column."""

    type = Date()
    inherit_cache = True


@compiles(cst_day)
def _cst_day_default(element, compiler, **kw):  # type: ignore[no-untyped-def]
    # China has had no daylight saving time since 1991: a fixed offset is exact.
    return f"date({compiler.process(element.clauses, **kw)}, '+8 hours')"


@compiles(cst_day, "postgresql")
def _cst_day_postgresql(element, compiler, **kw):  # type: ignore[no-untyped-def]
    return f"CAST(timezone('{CST.key}', {compiler.process(element.clauses, **kw)}) AS DATE)"


@dataclass
class CampaignStats:
    raised_fen: int = 0
    gift_count: int = 0
    #: (CST day, raised that day, cumulative raised) in day order; days without gifts left out.
    daily_series: list[tuple[date, int, int]] = field(default_factory=list)

    def percent_of(self, goal_fen: int) -> int:
        """Whole percent of the goal, for the progress bar (may exceed 100)."""
        return self.raised_fen * 100 // goal_fen if goal_fen > 0 else 0


def campaign_stats(session: Session, campaign_ids: list[int]) -> dict[int, CampaignStats]:
    """Raised (net of refunds), gift count and daily series for many campaigns in ONE query."""
    stats = {campaign_id: CampaignStats() for campaign_id in campaign_ids}
    if not stats:
        return stats
    day = cst_day(func.coalesce(Donation.succeeded_at, Donation.created_at))
    query = (
        select(
            Donation.campaign_id,
            day.label("day"),
            func.sum(Donation.amount_fen - Donation.refunded_fen),
            func.count(Donation.id),
        )
        .where(Donation.campaign_id.in_(stats), Donation.status.in_(COUNTED_STATUSES))
        .where(Donation.channel != "in_kind")  # goods are never counted as cash
        .group_by(Donation.campaign_id, day)
    )
    per_campaign: dict[int, list[tuple[date, int, int]]] = defaultdict(list)
    for campaign_id, gift_day, raised, count in session.execute(query):
        per_campaign[campaign_id].append((gift_day, int(raised), int(count)))
    for campaign_id, rows in per_campaign.items():
        entry = stats[campaign_id]
        for gift_day, raised, count in sorted(rows):
            entry.raised_fen += raised
            entry.gift_count += count
            entry.daily_series.append((gift_day, raised, entry.raised_fen))
    return stats


def donor_wall(session: Session, campaign_id: int, limit: int = 20) -> list[Donation]:
    """The latest counted gifts; the template shows a name only where Donation.public_name."""
    query = (
        select(Donation)
        .where(Donation.campaign_id == campaign_id, Donation.status.in_(COUNTED_STATUSES))
        .order_by(
            func.coalesce(Donation.succeeded_at, Donation.created_at).desc(), Donation.id.desc()
        )
        .limit(limit)
    )
    return list(session.scalars(query))
