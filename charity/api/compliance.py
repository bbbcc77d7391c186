"""Public API resources for accountability: disclosures, the obligations they fulfil, and
community funds (restricted sub-ledgers of their host organization)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select, tuple_
from sqlalchemy.orm import Session

from charity.api import fields as f
from charity.api.resources import Resource
from charity.compliance.readmodels.obligations import status_expression
from charity.compliance.rules.deadlines import STATUSES, status_of
from charity.compliance.rules.law import DISCLOSURE_TYPES, OBLIGATION_TYPES
from charity.core.clock import today_cst
from charity.models import Organization
from charity.models.disclosure import Disclosure, DisclosureVersion, Obligation
from charity.models.fund import FUND_STATUSES, Fund


def _public_disclosures():  # type: ignore[no-untyped-def]
    return (
        select(Disclosure)
        .join(Organization, Disclosure.organization_id == Organization.id)
        .where(Organization.status == "verified")
    )


def _latest_versions(session: Session, rows: list[Disclosure]) -> dict[int, DisclosureVersion]:
    """Each disclosure's current version, in one query for the page."""
    if not rows:
        return {}
    statement = select(DisclosureVersion).where(
        tuple_(DisclosureVersion.disclosure_id, DisclosureVersion.version).in_(
            [(row.id, row.latest_version) for row in rows]
        )
    )
    return {version.disclosure_id: version for version in session.scalars(statement)}


def _version_value(attr: str):  # type: ignore[no-untyped-def]
    def get(row: Disclosure, versions: dict[int, DisclosureVersion]) -> Any:
        version = versions.get(row.id)
        value = getattr(version, attr) if version is not None else None
        return f.iso_datetime(value) if attr == "published_at" else value

    return get


DISCLOSURES = Resource(
    name="disclosures",
    schema_name="Disclosure",
    summary="Statutory disclosures (信息公开)",
    description="Published disclosures of verified organizations with their current "
    "version, newest first. Corrections are new versions (see the disclosure page).",
    model=Disclosure,
    public=_public_disclosures,
    newest_first=True,
    context=_latest_versions,
    fields=(
        f.integer("id", "Stable identifier.", example=44),
        f.integer("organization_id", "Publishing organization.", example=7),
        f.string(
            "type",
            "Disclosure type.",
            attr="disclosure_type",
            enum=DISCLOSURE_TYPES,
            example="annual_work_report",
        ),
        f.string("subject_key", "What it is about (org or campaign key).", example="org"),
        f.string("period_key", "Period it covers.", example="2024"),
        f.integer("campaign_id", "Campaign, or null.", nullable=True, example=None),
        f.integer("latest_version", "Current version number (1 = never corrected).", example=1),
        f.computed(
            "title",
            {"type": ["string", "null"]},
            _version_value("title"),
            "Current version's title.",
            example="2024 年度工作报告",
        ),
        f.computed(
            "content_hash",
            {"type": ["string", "null"]},
            _version_value("content_hash"),
            "SHA-256 of the current version.",
            example="ab" * 32,
        ),
        f.computed(
            "version_published_at",
            {"type": ["string", "null"], "format": "date-time"},
            _version_value("published_at"),
            "When the current version was published.",
            example="2025-03-01T08:00:00Z",
        ),
        f.timestamp("first_published_at", "When the first version was published.", nullable=False),
    ),
    filters=(
        f.id_filter(
            "organization",
            "Only this organization's disclosures.",
            lambda s, v: s.where(Disclosure.organization_id == v),
        ),
        f.enum_filter(
            "type",
            "Only this type.",
            DISCLOSURE_TYPES,
            lambda s, v: s.where(Disclosure.disclosure_type == v),
        ),
        f.id_filter(
            "campaign",
            "Only disclosures about this campaign.",
            lambda s, v: s.where(Disclosure.campaign_id == v),
        ),
    ),
)


def _public_obligations():  # type: ignore[no-untyped-def]
    return (
        select(Obligation)
        .join(Organization, Obligation.organization_id == Organization.id)
        .where(Organization.status == "verified")
    )


def _obligation_status(row: Obligation, context: Any) -> str:
    return status_of(row.due_date, row.fulfilled_on, today_cst())


def _status_filter(statement, value: str):  # type: ignore[no-untyped-def]
    return statement.where(status_expression(today_cst()) == value)


OBLIGATIONS = Resource(
    name="obligations",
    schema_name="Obligation",
    summary="Disclosure obligations and their status",
    description="What each verified organization must disclose by when (Charity Law, MCA "
    "Orders 74 and 81), and whether it did: upcoming, due_soon, overdue, on_time or late "
    "(status as of today in China Standard Time).",
    model=Obligation,
    public=_public_obligations,
    fields=(
        f.integer("id", "Identifier.", example=90),
        f.string("key", "Stable key of the obligation.", example="7:annual_work_report:org:2024"),
        f.integer("organization_id", "The organization.", example=7),
        f.string("rule_code", "The rule that requires it.", example="CL78-annual"),
        f.string(
            "type",
            "Disclosure type due.",
            attr="disclosure_type",
            enum=OBLIGATION_TYPES,
            example="annual_work_report",
        ),
        f.string("subject_key", "What it is about.", example="org"),
        f.string("period_key", "Period.", example="2024"),
        f.integer("campaign_id", "Campaign, or null.", nullable=True, example=None),
        f.day("triggered_on", "When the duty arose."),
        f.day("due_date", "Due date (China Standard Time)."),
        f.day("fulfilled_on", "When it was fulfilled, or null.", nullable=True),
        f.integer(
            "disclosure_id", "The fulfilling disclosure, or null.", nullable=True, example=44
        ),
        f.computed(
            "status",
            {"type": "string", "enum": list(STATUSES)},
            _obligation_status,
            "upcoming, due_soon, overdue, on_time or late.",
            example="on_time",
        ),
    ),
    filters=(
        f.id_filter(
            "organization",
            "Only this organization's obligations.",
            lambda s, v: s.where(Obligation.organization_id == v),
        ),
        f.enum_filter(
            "status", "Only obligations with this status today.", STATUSES, _status_filter
        ),
        f.enum_filter(
            "type",
            "Only this type.",
            OBLIGATION_TYPES,
            lambda s, v: s.where(Obligation.disclosure_type == v),
        ),
    ),
)


def _public_funds():  # type: ignore[no-untyped-def]
    return (
        select(Fund)
        .join(Organization, Fund.organization_id == Organization.id)
        .where(Organization.status == "verified")
    )


FUNDS = Resource(
    name="funds",
    schema_name="Fund",
    summary="Community charitable funds (社区慈善基金)",
    description="Funds hosted by verified organizations: restricted sub-ledgers with a "
    "committee, newest first. Balances and statements are on each fund's page.",
    model=Fund,
    public=_public_funds,
    newest_first=True,
    fields=(
        f.integer("id", "Stable identifier.", example=3),
        f.integer("organization_id", "The host organization.", example=7),
        f.string("name", "Name.", example="广州市越秀区慈善会北京街道社区慈善基金"),
        f.string("purpose_md", "Purpose (Markdown).", example="支持社区长者关爱。"),
        f.string("restriction", "What the money may be used for.", example="仅用于长者关爱"),
        f.string("service_area", "Area served.", example="广州市越秀区北京街道"),
        f.string("currency", "ISO 4217 currency.", example="CNY"),
        f.string("status", "active or closed.", enum=FUND_STATUSES, example="active"),
        f.timestamp("created_at", "When it was set up.", nullable=False),
        f.timestamp("closed_at", "When it was closed, or null."),
    ),
    filters=(
        f.id_filter(
            "organization",
            "Only funds hosted by this organization.",
            lambda s, v: s.where(Fund.organization_id == v),
        ),
        f.enum_filter(
            "status",
            "Only active or closed funds.",
            FUND_STATUSES,
            lambda s, v: s.where(Fund.status == v),
        ),
    ),
)
