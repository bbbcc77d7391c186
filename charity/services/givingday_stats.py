"""What the giving-day pages show: an event's live totals, its chart by hour, its
leaderboards (campaigns, organizations, regions, teams), its pools and pledges; a team's
total; where a pool's matched money went. Read-only; a few grouped queries each.

An event's gifts are the succeeded gifts to its accepted campaigns made during its days
(CST), net of refunds; pledges count only through the gifts linked to them.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import Session

from charity.core.clock import CST, today_cst
from charity.models import (
    Campaign,
    Donation,
    GivingDay,
    GivingDayCampaign,
    Match,
    MatchingPool,
    Organization,
    Pledge,
    SpendingAllocation,
    Team,
)
from charity.services.givingdays import pledge_received_fen

COUNTED = ("succeeded", "partially_refunded", "refunded")
BOARD_SIZE = 10


@dataclass(frozen=True)
class BoardRow:
    label: str
    amount_fen: int
    gifts: int
    #: What the row links to: a campaign id, an organization id, a team id (or None).
    ref: int | None = None


@dataclass(frozen=True)
class PledgeRow:
    pledge: Pledge
    received_fen: int
    overdue: bool


@dataclass
class EventStats:
    raised_fen: int = 0
    gift_count: int = 0
    donor_count: int = 0
    matched_fen: int = 0
    #: (CST hour start, amount) for every hour with gifts.
    hourly: list[tuple[datetime, int]] = field(default_factory=list)
    by_campaign: list[BoardRow] = field(default_factory=list)
    by_organization: list[BoardRow] = field(default_factory=list)
    by_region: list[BoardRow] = field(default_factory=list)
    teams: list[BoardRow] = field(default_factory=list)
    pledges: list[PledgeRow] = field(default_factory=list)
    pledged_fen: int = 0
    pledge_received_fen: int = 0
    campaign_ids: list[int] = field(default_factory=list)


def event_bounds(event: GivingDay) -> tuple[datetime, datetime]:
    """The event's days as UTC instants [first 00:00 CST, day after the last 00:00 CST)."""
    start = datetime.combine(event.start_date, time(0), CST).astimezone(UTC)
    end = datetime.combine(event.end_date + timedelta(days=1), time(0), CST).astimezone(UTC)
    return start, end


def accepted_campaign_ids(session: Session, event_id: int) -> list[int]:
    return list(
        session.scalars(
            sa.select(GivingDayCampaign.campaign_id)
            .where(GivingDayCampaign.event_id == event_id, GivingDayCampaign.status == "accepted")
            .order_by(GivingDayCampaign.campaign_id)
        )
    )


def _board(totals: dict, counts: dict, labels: dict) -> list[BoardRow]:
    rows = [BoardRow(labels.get(k, str(k)), v, counts[k], k) for k, v in totals.items()]
    rows.sort(key=lambda r: (-r.amount_fen, r.label))
    return rows[:BOARD_SIZE]


def event_stats(session: Session, event: GivingDay, today: date | None = None) -> EventStats:
    stats = EventStats(campaign_ids=accepted_campaign_ids(session, event.id))
    start, end = event_bounds(event)
    gifts = (
        session.execute(
            sa.select(
                Donation.campaign_id,
                Donation.organization_id,
                Donation.amount_fen - Donation.refunded_fen,
                Donation.succeeded_at,
                Donation.donor_email,
                Donation.donor_user_id,
                Donation.id,
                Donation.team_id,
            ).where(
                Donation.campaign_id.in_(stats.campaign_ids),
                Donation.status.in_(COUNTED),
                Donation.succeeded_at >= start,
                Donation.succeeded_at < end,
                Donation.channel != "in_kind",
            )
        ).all()
        if stats.campaign_ids
        else []
    )
    per_campaign: dict[int, int] = defaultdict(int)
    per_campaign_n: dict[int, int] = defaultdict(int)
    per_org: dict[int, int] = defaultdict(int)
    per_org_n: dict[int, int] = defaultdict(int)
    per_team: dict[int, int] = defaultdict(int)
    per_team_n: dict[int, int] = defaultdict(int)
    hourly: dict[datetime, int] = defaultdict(int)
    donors = set()
    for campaign_id, org_id, net, at, email, user_id, gift_id, team_id in gifts:
        stats.raised_fen += net
        stats.gift_count += 1
        donors.add(email or (f"user:{user_id}" if user_id else f"gift:{gift_id}"))
        per_campaign[campaign_id] += net
        per_campaign_n[campaign_id] += 1
        per_org[org_id] += net
        per_org_n[org_id] += 1
        if team_id is not None:
            per_team[team_id] += net
            per_team_n[team_id] += 1
        hour = at.astimezone(CST).replace(minute=0, second=0, microsecond=0)
        hourly[hour] += net
    stats.donor_count = len(donors)
    stats.hourly = sorted(hourly.items())
    campaigns = {
        c.id: c
        for c in session.scalars(sa.select(Campaign).where(Campaign.id.in_(list(per_campaign))))
    }
    organizations = {
        o.id: o
        for o in session.scalars(sa.select(Organization).where(Organization.id.in_(list(per_org))))
    }
    stats.by_campaign = _board(
        per_campaign, per_campaign_n, {k: c.title for k, c in campaigns.items()}
    )
    stats.by_organization = _board(
        per_org, per_org_n, {k: o.name for k, o in organizations.items()}
    )
    per_region: dict[str, int] = defaultdict(int)
    per_region_n: dict[str, int] = defaultdict(int)
    for org_id, amount in per_org.items():
        region = organizations[org_id].province if org_id in organizations else ""
        per_region[region] += amount
        per_region_n[region] += per_org_n[org_id]
    stats.by_region = [
        BoardRow(region, amount, per_region_n[region])
        for region, amount in sorted(per_region.items(), key=lambda kv: (-kv[1], kv[0]))
    ][:BOARD_SIZE]
    visible = {
        t.id: t
        for t in session.scalars(
            sa.select(Team).where(Team.id.in_(list(per_team)), Team.hidden.is_(False))
        )
    }
    stats.teams = _board(
        {k: v for k, v in per_team.items() if k in visible},
        per_team_n,
        {k: t.name for k, t in visible.items()},
    )
    pool_ids = [p.id for p in event.pools]
    if pool_ids:
        stats.matched_fen = int(
            session.scalar(
                sa.select(
                    sa.func.coalesce(sa.func.sum(Match.amount_fen - Match.released_fen), 0)
                ).where(Match.pool_id.in_(pool_ids))
            )
            or 0
        )
    stats.pledges = pledge_rows(session, event_id=event.id, today=today)
    stats.pledged_fen = sum(r.pledge.amount_fen for r in stats.pledges)
    stats.pledge_received_fen = sum(r.received_fen for r in stats.pledges)
    return stats


def pledge_rows(
    session: Session,
    *,
    event_id: int | None = None,
    organization_id: int | None = None,
    today: date | None = None,
) -> list[PledgeRow]:
    """Pledges with what has arrived; overdue: past due and not fully received."""
    query = sa.select(Pledge).order_by(Pledge.due_date, Pledge.id)
    if event_id is not None:
        query = query.where(Pledge.event_id == event_id)
    if organization_id is not None:
        query = query.where(Pledge.organization_id == organization_id)
    pledges = list(session.scalars(query))
    received = pledge_received_fen(session, [p.id for p in pledges])
    today = today or today_cst()
    return [
        PledgeRow(
            p,
            received.get(p.id, 0),
            p.due_date < today and received.get(p.id, 0) < p.amount_fen,
        )
        for p in pledges
    ]


def team_raised(session: Session, team_ids: list[int]) -> dict[int, tuple[int, int]]:
    """{team id: (raised net of refunds, gift count)}."""
    if not team_ids:
        return {}
    rows = session.execute(
        sa.select(
            Donation.team_id,
            sa.func.coalesce(sa.func.sum(Donation.amount_fen - Donation.refunded_fen), 0),
            sa.func.count(),
        )
        .where(Donation.team_id.in_(team_ids), Donation.status.in_(COUNTED))
        .group_by(Donation.team_id)
    ).all()
    return {int(t): (int(total), int(n)) for t, total, n in rows}


def campaign_teams(session: Session, campaign_id: int) -> list[BoardRow]:
    """The campaign's visible teams, best first (its team leaderboard)."""
    teams = list(
        session.scalars(
            sa.select(Team).where(Team.campaign_id == campaign_id, Team.hidden.is_(False))
        )
    )
    raised = team_raised(session, [t.id for t in teams])
    rows = [
        BoardRow(t.name, raised.get(t.id, (0, 0))[0], raised.get(t.id, (0, 0))[1], t.id)
        for t in teams
    ]
    rows.sort(key=lambda r: (-r.amount_fen, r.ref or 0))
    return rows[:BOARD_SIZE]


@dataclass(frozen=True)
class MatchedUse:
    """One matched gift's money and where it went (the campaign's FIFO allocation)."""

    match: Match
    campaign_title: str
    spent: list[tuple[str, int]]  # (use key, amount)

    @property
    def unspent_fen(self) -> int:
        return self.match.net_fen - sum(a for _, a in self.spent)


def pool_uses(session: Session, pool: MatchingPool) -> list[MatchedUse]:
    """For the sponsor: every match of the pool and the disbursements it paid for."""
    matches = list(
        session.scalars(sa.select(Match).where(Match.pool_id == pool.id).order_by(Match.id))
    )
    titles = dict(
        session.execute(
            sa.select(Campaign.id, Campaign.title).where(
                Campaign.id.in_({m.campaign_id for m in matches})
            )
        ).all()
    )
    spent: dict[str, list[tuple[str, int]]] = defaultdict(list)
    keys = [f"match:{m.id}" for m in matches]
    if keys:
        for source, use, amount in session.execute(
            sa.select(
                SpendingAllocation.source_key,
                SpendingAllocation.use_key,
                SpendingAllocation.amount_fen,
            )
            .where(
                SpendingAllocation.pool_kind == "campaign",
                SpendingAllocation.source_key.in_(keys),
            )
            .order_by(SpendingAllocation.id)
        ):
            spent[source].append((use, int(amount)))
    return [MatchedUse(m, titles.get(m.campaign_id, ""), spent[f"match:{m.id}"]) for m in matches]
