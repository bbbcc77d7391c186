"""The public API's resources, each a small declaration (see ``charity.api.resources``).

Only what the public pages show is here: verified organizations, published campaigns and
succeeded donations as the donor wall shows them (a name only with the donor's consent;
never an email, a Stripe id or a commitment salt).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from charity.api import enforcement
from charity.api import fields as f
from charity.api.resources import Resource
from charity.core import regions
from charity.models import Campaign, CampaignUpdate, Donation, Organization
from charity.models.campaign import CAUSES
from charity.models.donation import DONATION_CHANNELS
from charity.models.organization import ORG_TYPES

ORG_SCHEMA_REF = {"$ref": "#/components/schemas/Organization"}

# --- organizations ---------------------------------------------------------------------------


def _public_organizations():  # type: ignore[no-untyped-def]
    return select(Organization).where(Organization.status == "verified")


def _qualification(org: Organization, context: Any) -> dict[str, Any] | None:
    if not org.has_qualification:
        return None
    return {
        "number": org.qualification_number,
        "authority": org.qualification_authority,
        "date": org.qualification_date.isoformat() if org.qualification_date else None,
    }


_QUALIFICATION_SCHEMA = {
    "type": ["object", "null"],
    "required": ["number", "authority", "date"],
    "properties": {
        "number": {"type": "string"},
        "authority": {"type": "string"},
        "date": {"type": ["string", "null"], "format": "date"},
    },
}


def _org_text(statement, text: str):  # type: ignore[no-untyped-def]
    return statement.where(
        or_(
            Organization.name.icontains(text, autoescape=True),
            Organization.uscc == text.strip().upper(),
        )
    )


def _qualified(statement, value: bool):  # type: ignore[no-untyped-def]
    column = Organization.qualification_number
    return statement.where(column.is_not(None) if value else column.is_(None))


ORGANIZATIONS = Resource(
    name="organizations",
    schema_name="Organization",
    summary="Verified charitable organizations",
    description="Organizations (慈善组织) verified by the platform, oldest first.",
    model=Organization,
    public=_public_organizations,
    context=enforcement.organization_context,
    fields=(
        f.integer("id", "Stable identifier.", example=7),
        f.string("name", "Full registered name.", example="广州市越秀区慈善会"),
        f.string(
            "uscc", "Unified social credit code (统一社会信用代码).", example="53440100MJL000017X"
        ),
        f.string("type", "Legal form.", attr="org_type", enum=ORG_TYPES, example="foundation"),
        f.string("province", "Province (Chinese name).", example="广东省"),
        f.string("city", "City; may be empty.", example="广州市"),
        f.string("district", "District; may be empty.", example="越秀区"),
        f.string("region", "Province, city and district.", example="广东省 广州市 越秀区"),
        f.string(
            "registration_authority",
            "Civil-affairs registration authority.",
            example="广州市民政局",
        ),
        f.computed(
            "qualification",
            _QUALIFICATION_SCHEMA,
            _qualification,
            "Public fundraising qualification (公开募捐资格证书), or null.",
        ),
        f.boolean(
            "qualified",
            "Holds a public fundraising qualification.",
            attr="has_qualification",
            example=True,
        ),
        f.string("website", "Website; may be empty.", example="https://example.org"),
        f.string(
            "description_md",
            "Self-description in Markdown (render it sanitized).",
            example="我们帮助社区中有需要的人。",
        ),
        f.timestamp("verified_at", "When the platform verified it.", attr="reviewed_at"),
        f.computed(
            "qualification_loss",
            enforcement.QUALIFICATION_LOSS_SCHEMA,
            enforcement.qualification_loss,
            "Loss of the public fundraising qualification (CL art. 22, MCA Order 74): date, "
            "reason and the decision it comes from; null if never lost.",
        ),
        f.computed(
            "suspended_campaigns",
            {"type": "array", "items": enforcement.SUSPENDED_CAMPAIGN_SCHEMA},
            enforcement.suspended_campaigns,
            "Its campaigns suspended now (they take no gifts): since, reason, and whether "
            "the regulator or the platform decided.",
            example=[{"campaign_id": 12, **enforcement.SUSPENSION_EXAMPLE}],
        ),
        f.computed(
            "complaints",
            enforcement.COMPLAINTS_SCHEMA,
            enforcement.complaint_counts,
            "Complaints (举报, CL (2023) art. 108) received about it on this platform, and "
            "how many were handled (replied or closed). Counts only: a complaint is not a "
            "finding; complainants, texts and evidence are never public.",
            example={"received": 3, "handled": 2},
        ),
    ),
    filters=(
        f.enum_filter(
            "province",
            "Only this province (Chinese name).",
            [p.name for p in regions.PROVINCES],
            lambda s, v: s.where(Organization.province == v),
        ),
        f.enum_filter(
            "type",
            "Only this legal form.",
            ORG_TYPES,
            lambda s, v: s.where(Organization.org_type == v),
        ),
        f.bool_filter(
            "qualified",
            "Only organizations with (true) or without (false) a public fundraising qualification.",
            _qualified,
        ),
        f.text_filter("q", "Name contains this text, or the exact USCC.", _org_text),
    ),
)

# --- campaigns -------------------------------------------------------------------------------

PUBLIC_CAMPAIGN_STATUSES = ("published", "closed")
#: Donations that count in public totals (net of refunds).
COUNTED_DONATION_STATUSES = ("succeeded", "partially_refunded")


def _public_campaigns():  # type: ignore[no-untyped-def]
    return (
        select(Campaign)
        .join(Organization, Campaign.organization_id == Organization.id)
        .where(Campaign.status.in_(PUBLIC_CAMPAIGN_STATUSES))
        .where(Organization.status == "verified")
    )


@dataclass
class _CampaignContext:
    totals: dict[int, tuple[int, int]]
    suspensions: dict[int, dict[str, Any]]


def _campaign_context(session: Session, rows: list[Campaign]) -> _CampaignContext:
    ids = [row.id for row in rows]
    return _CampaignContext(
        _campaign_totals(session, rows),
        enforcement.campaign_suspensions(session, ids) if ids else {},
    )


def _campaign_totals(session: Session, rows: list[Campaign]) -> dict[int, tuple[int, int]]:
    """Raised (net fen) and gift count per campaign, in one query for the page."""
    if not rows:
        return {}
    statement = (
        select(
            Donation.campaign_id,
            func.coalesce(func.sum(Donation.amount_fen - Donation.refunded_fen), 0),
            func.count(Donation.id),
        )
        .where(Donation.campaign_id.in_([row.id for row in rows]))
        .where(Donation.status.in_(COUNTED_DONATION_STATUSES))
        .group_by(Donation.campaign_id)
    )
    return {cid: (int(raised), int(count)) for cid, raised, count in session.execute(statement)}


def _raised(row: Campaign, context: _CampaignContext) -> int:
    return context.totals.get(row.id, (0, 0))[0]


def _donation_count(row: Campaign, context: _CampaignContext) -> int:
    return context.totals.get(row.id, (0, 0))[1]


def _suspension(row: Campaign, context: _CampaignContext) -> dict[str, Any] | None:
    return context.suspensions.get(row.id)


CAMPAIGNS = Resource(
    name="campaigns",
    schema_name="Campaign",
    summary="Public fundraising campaigns",
    description="Published and closed campaigns (公开募捐活动) of verified organizations, "
    "with the filed plan and the money raised so far, newest first.",
    model=Campaign,
    public=_public_campaigns,
    newest_first=True,
    context=_campaign_context,
    fields=(
        f.integer("id", "Stable identifier.", example=12),
        f.integer("organization_id", "The qualified organization receiving all gifts.", example=7),
        f.integer(
            "partner_id",
            "Cooperating organization (合作募捐), or null.",
            nullable=True,
            example=None,
        ),
        f.string("title", "Title.", example="山区儿童营养午餐计划"),
        f.string("summary", "Short summary.", example="为山区学校的孩子提供一年的营养午餐。"),
        f.string("cause", "Cause.", enum=CAUSES, example="children"),
        f.string(
            "status",
            "published (running or upcoming) or closed.",
            enum=PUBLIC_CAMPAIGN_STATUSES,
            example="published",
        ),
        f.string(
            "filing_number",
            "Filing number (备案编号) on the national platform.",
            example="53100000500012345X0001",
        ),
        f.day("filing_date", "Filing date."),
        f.day("start_date", "First day of fundraising."),
        f.day("end_date", "Last day of fundraising."),
        f.boolean("is_emergency", "Emergency response campaign.", example=False),
        f.string("region", "Fundraising region.", example="广东省清远市"),
        f.string("purpose_md", "Purpose (Markdown).", example="改善山区学生营养状况。"),
        f.string("beneficiaries", "Beneficiaries.", example="清远市连山县 12 所小学的学生"),
        f.string("use_of_funds", "Planned use of the funds.", example="购买食材和厨房设备"),
        f.string("currency", "ISO 4217 currency of all amounts.", example="CNY"),
        f.integer("expected_amount_fen", "Expected amount, in fen.", example=50_000_000),
        f.computed(
            "raised_fen",
            {"type": "integer", "minimum": 0},
            _raised,
            "Raised so far, net of refunds, in fen.",
            example=1_234_500,
        ),
        f.computed(
            "donation_count",
            {"type": "integer", "minimum": 0},
            _donation_count,
            "Number of gifts counted in raised_fen.",
            example=87,
        ),
        f.timestamp("published_at", "When it was published."),
        f.computed(
            "suspension",
            enforcement.SUSPENSION_SCHEMA,
            _suspension,
            "Suspended now (it takes no gifts, issue 16 point 15): since, reason, and "
            "whether the regulator or the platform decided; null if not suspended.",
            example=None,
        ),
    ),
    filters=(
        f.id_filter(
            "organization",
            "Only campaigns of this organization.",
            lambda s, v: s.where(Campaign.organization_id == v),
        ),
        f.enum_filter(
            "status",
            "Only running/upcoming (published) or closed campaigns.",
            PUBLIC_CAMPAIGN_STATUSES,
            lambda s, v: s.where(Campaign.status == v),
        ),
        f.enum_filter(
            "cause", "Only this cause.", CAUSES, lambda s, v: s.where(Campaign.cause == v)
        ),
        f.bool_filter(
            "emergency",
            "Only emergency (true) or ordinary (false) campaigns.",
            lambda s, v: s.where(Campaign.is_emergency.is_(v)),
        ),
        f.text_filter(
            "q",
            "Title contains this text.",
            lambda s, v: s.where(Campaign.title.icontains(v, autoescape=True)),
        ),
    ),
)

# --- donations (the public donor wall) -------------------------------------------------------


def _public_donations():  # type: ignore[no-untyped-def]
    return (
        select(Donation)
        .join(Organization, Donation.organization_id == Organization.id)
        .where(Donation.status.in_(COUNTED_DONATION_STATUSES))
        .where(Organization.status == "verified")
    )


DONATIONS = Resource(
    name="donations",
    schema_name="Donation",
    summary="Public donor wall",
    description="Succeeded gifts as the public donor wall shows them, newest first. A donor's "
    "name appears only with their consent (Charity Law art. 82); otherwise it is null. No "
    "contact details, payment ids or commitments are ever shown here.",
    model=Donation,
    public=_public_donations,
    newest_first=True,
    has_item=False,
    fields=(
        f.integer("id", "Stable identifier (as in the public log).", example=301),
        f.integer("organization_id", "Receiving organization.", example=7),
        f.integer("campaign_id", "Campaign, or null.", nullable=True, example=12),
        f.computed(
            "amount_fen",
            {"type": "integer", "minimum": 0},
            lambda row, context: row.net_fen,
            "Amount net of refunds, in fen.",
            example=10_000,
        ),
        f.string("currency", "ISO 4217 currency.", example="CNY"),
        f.string(
            "channel",
            "How it was given.",
            example="online_card",
            enum=DONATION_CHANNELS,
        ),
        f.computed(
            "donor_name",
            {"type": ["string", "null"]},
            lambda row, context: row.public_name,
            "The donor's name if they consented to show it, else null.",
            example="王女士",
        ),
        f.timestamp("succeeded_at", "When the payment succeeded."),
    ),
    filters=(
        f.id_filter(
            "campaign",
            "Only gifts to this campaign.",
            lambda s, v: s.where(Donation.campaign_id == v),
        ),
        f.id_filter(
            "organization",
            "Only gifts to this organization.",
            lambda s, v: s.where(Donation.organization_id == v),
        ),
    ),
)

# --- campaign updates (progress reports) ----------------------------------------------------


def _public_updates():  # type: ignore[no-untyped-def]
    return (
        select(CampaignUpdate)
        .join(Campaign, CampaignUpdate.campaign_id == Campaign.id)
        .join(Organization, Campaign.organization_id == Organization.id)
        .where(Campaign.status.in_(PUBLIC_CAMPAIGN_STATUSES))
        .where(Organization.status == "verified")
    )


CAMPAIGN_UPDATES = Resource(
    name="campaign_updates",
    schema_name="CampaignUpdate",
    summary="Campaign progress updates",
    description="Progress reports posted on public campaigns, newest first.",
    model=CampaignUpdate,
    public=_public_updates,
    newest_first=True,
    fields=(
        f.integer("id", "Stable identifier.", example=5),
        f.integer("campaign_id", "The campaign.", example=12),
        f.string("title", "Title.", example="第一批食材已送达"),
        f.string("body_md", "Text (Markdown; render it sanitized).", example="本周送达 3 所学校。"),
        f.timestamp("posted_at", "When it was posted.", nullable=False),
    ),
    filters=(
        f.id_filter(
            "campaign",
            "Only updates of this campaign.",
            lambda s, v: s.where(CampaignUpdate.campaign_id == v),
        ),
    ),
)

from charity.api.compliance import DISCLOSURES, FUNDS, OBLIGATIONS  # noqa: E402 (after the basics)
from charity.api.givingdays import EVENTS, PLEDGES, POOLS, TEAMS  # noqa: E402 - givingdays
from charity.api.projects import PROJECTS  # noqa: E402 - projects
from charity.api.trusts import TRUSTS  # noqa: E402 - trusts

#: Every resource the API serves, in the order of the documentation.
RESOURCES: tuple[Resource, ...] = (
    ORGANIZATIONS,
    CAMPAIGNS,
    CAMPAIGN_UPDATES,
    DONATIONS,
    FUNDS,
    PROJECTS,
    TRUSTS,
    DISCLOSURES,
    OBLIGATIONS,
    EVENTS,
    POOLS,
    TEAMS,
    PLEDGES,
)
