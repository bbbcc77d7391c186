"""Giving days in the public API: events, matching pools (with what is left), teams and
company pledges (with what has been received). Only what the public pages show: visible
teams, pools of events, pledges of verified organizations."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from charity.api import fields as f
from charity.api.resources import Resource
from charity.core.clock import today_cst
from charity.models import GivingDay, MatchingPool, Organization, Pledge, Team
from charity.services.givingday_stats import accepted_campaign_ids, team_raised
from charity.services.givingdays import pledge_received_fen

_MONEY = {"type": "integer", "minimum": 0}
_NULLABLE_MONEY = {"type": ["integer", "null"], "minimum": 1}


def _events_context(session: Session, rows: list[Any]) -> dict[int, list[int]]:
    return {row.id: accepted_campaign_ids(session, row.id) for row in rows}


EVENTS = Resource(
    name="giving_days",
    schema_name="GivingDay",
    summary="Giving days",
    description="Giving-day events (公益日) with their days in Beijing time, newest first.",
    model=GivingDay,
    public=lambda: select(GivingDay),
    newest_first=True,
    context=_events_context,
    fields=(
        f.integer("id", "Stable identifier.", example=1),
        f.string("name", "Name.", example="6·30 广东扶贫济困日"),
        f.string("theme", "Theme; may be empty.", example="扶贫济困，共建共享"),
        f.day("start_date", "First day (Beijing time)."),
        f.day("end_date", "Last day (Beijing time)."),
        f.string(
            "region", "Province for a regional day, empty for a national one.", example="广东省"
        ),
        f.computed(
            "campaign_ids",
            {"type": "array", "items": {"type": "integer"}},
            lambda row, context: context[row.id],
            "Accepted (participating) campaigns.",
            example=[12, 14],
        ),
    ),
)


def _cap(name: str, description: str) -> f.Field:
    return f.computed(name, _NULLABLE_MONEY, lambda row, context: getattr(row, name), description)


POOLS = Resource(
    name="matching_pools",
    schema_name="MatchingPool",
    summary="Matching pools (配捐)",
    description="Sponsors' matching money per giving day, with the amount left, oldest first.",
    model=MatchingPool,
    public=lambda: select(MatchingPool),
    fields=(
        f.integer("id", "Stable identifier.", example=3),
        f.integer("event_id", "The giving day.", example=1),
        f.integer("organization_id", "The organization holding the pool.", example=7),
        f.string("sponsor_name", "The sponsor.", example="示例科技有限公司"),
        f.string("sponsor_uscc", "The sponsor's USCC (a company), or empty.", example=""),
        f.integer("ratio_percent", "Match as a percentage of each gift (100 = 1:1).", example=100),
        _cap("cap_per_gift_fen", "Largest match of one gift, in fen, or null."),
        _cap("cap_per_donor_day_fen", "Largest match of one donor per day, in fen, or null."),
        _cap("cap_per_campaign_fen", "Largest total match of one campaign, in fen, or null."),
        f.string("windows", "Daily windows, Beijing time (empty: all day).", example="09:00-12:00"),
        f.computed("total_fen", _MONEY, lambda row, c: row.total_fen, "Committed, in fen.", 10**7),
        f.computed(
            "allocated_fen", _MONEY, lambda row, c: row.allocated_fen, "Matched now, in fen.", 0
        ),
        f.computed(
            "remaining_fen",
            _MONEY,
            lambda row, context: row.remaining_fen,
            "Left to match, in fen.",
            example=10**7,
        ),
        f.string("currency", "ISO 4217 currency.", example="CNY"),
    ),
    filters=(
        f.id_filter(
            "event",
            "Only pools of this giving day.",
            lambda s, v: s.where(MatchingPool.event_id == v),
        ),
    ),
)


def _teams_context(session: Session, rows: list[Any]) -> dict[int, tuple[int, int]]:
    return team_raised(session, [row.id for row in rows])


TEAMS = Resource(
    name="teams",
    schema_name="Team",
    summary="Teams (一起捐)",
    description="Supporters' teams for campaigns (hidden ones left out), oldest first.",
    model=Team,
    public=lambda: select(Team).where(Team.hidden.is_(False)),
    context=_teams_context,
    fields=(
        f.integer("id", "Stable identifier.", example=4),
        f.integer("campaign_id", "The campaign.", example=12),
        f.string("name", "Team name.", example="越秀跑团"),
        f.string("message", "The team's message.", example="一起为孩子们加油！"),
        f.computed("goal_fen", _MONEY, lambda row, c: row.goal_fen, "Goal, in fen.", 100_000),
        f.computed(
            "raised_fen",
            _MONEY,
            lambda row, context: context.get(row.id, (0, 0))[0],
            "Gifts through the team's link, net of refunds, in fen.",
            example=52_000,
        ),
        f.computed(
            "gift_count",
            {"type": "integer", "minimum": 0},
            lambda row, context: context.get(row.id, (0, 0))[1],
            "Gifts through the team's link.",
            example=9,
        ),
    ),
    filters=(
        f.id_filter(
            "campaign", "Only teams of this campaign.", lambda s, v: s.where(Team.campaign_id == v)
        ),
    ),
)


def _pledges_context(session: Session, rows: list[Any]) -> dict[int, int]:
    return pledge_received_fen(session, [row.id for row in rows])


PLEDGES = Resource(
    name="pledges",
    schema_name="Pledge",
    summary="Company pledges (认捐)",
    description=(
        "Companies' pledges made at giving days, with what has been received (gifts linked "
        "to them, net of refunds). A pledge is not money raised until it is received."
    ),
    model=Pledge,
    public=lambda: (
        select(Pledge)
        .join(Organization, Pledge.organization_id == Organization.id)
        .where(Organization.status == "verified")
    ),
    context=_pledges_context,
    fields=(
        f.integer("id", "Stable identifier.", example=2),
        f.integer("event_id", "The giving day.", example=1),
        f.integer("organization_id", "The receiving organization.", example=7),
        f.integer("campaign_id", "The campaign, or null.", nullable=True, example=12),
        f.string("company_name", "The company.", example="示例建材有限公司"),
        f.string("company_uscc", "The company's USCC.", example="91440101MA0000001X"),
        f.computed("amount_fen", _MONEY, lambda row, c: row.amount_fen, "Pledged, in fen.", 10**6),
        f.day("due_date", "When the money is due."),
        f.computed(
            "received_fen",
            _MONEY,
            lambda row, context: context.get(row.id, 0),
            "Received so far, in fen.",
            example=400_000,
        ),
        f.computed(
            "overdue",
            {"type": "boolean"},
            lambda row, context: (
                row.due_date < today_cst() and context.get(row.id, 0) < row.amount_fen
            ),
            "Past its due date and not fully received.",
            example=False,
        ),
    ),
    filters=(
        f.id_filter(
            "event", "Only pledges of this giving day.", lambda s, v: s.where(Pledge.event_id == v)
        ),
        f.id_filter(
            "organization",
            "Only pledges to this organization.",
            lambda s, v: s.where(Pledge.organization_id == v),
        ),
    ),
)
