"""Disclosures in the fields of 慈善中国 (the national charity information platform of the
Ministry of Civil Affairs, cszg.mca.gov.cn), issue 16 point 16.

One row per disclosure (its latest version) with the Chinese column headings of the
platform's 信息公开 entry: the organization's 统一社会信用代码 and name, the 信息类别 the
platform files it under, title, period, 备案编号 of the campaign it concerns, publication
time, the content (the text followed by each structured field as 「名称：值」 lines, the
field names in Chinese), and where it is on 慈善中国 once the organization recorded it.
The mapping and its sources are in docs/compliance.md; the headings are the platform's
words and are never translated.
"""

from __future__ import annotations

import json
from typing import Any

from flask_babel import force_locale
from sqlalchemy import and_, select
from sqlalchemy.orm import Session

from charity.compliance.rules import law as r
from charity.compliance.rules.fields import FIELDS, display_value
from charity.core.clock import cst_date
from charity.models import Campaign, Organization
from charity.models.disclosure import Disclosure, DisclosureVersion
from charity.models.enforcement import CnchinaEntry

#: The columns, in the platform's words (never translated).
HEADERS = [
    "统一社会信用代码",
    "慈善组织名称",
    "信息类别",
    "信息标题",
    "所属期间",
    "募捐活动备案编号",
    "发布时间",
    "版本",
    "更正说明",
    "信息内容",
    "慈善中国编号",
    "慈善中国链接",
    "本平台链接",
]

#: Our disclosure type -> the 慈善中国 信息公开 category it is filed under (Order 81 arts.
#: 8-16; the platform's category names as listed on its 信息公开 pages).
CATEGORIES = {
    r.BASIC_INFO: "基本信息",
    r.ANNUAL_WORK_REPORT: "年度工作报告",
    r.ANNUAL_FINANCIAL_REPORT: "财务会计报告",
    r.CAMPAIGN_PROGRESS: "募捐活动情况",
    r.CAMPAIGN_RESULT: "募捐活动情况",
    r.EMERGENCY_UPDATE: "募捐活动情况",
    r.PARTNER_EVALUATION: "募捐活动情况",
    r.LEFTOVER_PROPERTY: "募捐活动情况",
    r.PROJECT_PROGRESS: "慈善项目实施情况",
    r.PROJECT_RESULT: "慈善项目实施情况",
    r.MAJOR_PROJECTS: "慈善项目实施情况",
    r.MAJOR_TRANSACTIONS: "重大资产变动、投资及关联交易",
    r.FUND_ANNUAL_STATEMENT: "专项基金",
    r.RELATED_PARTY_LIST: "关联方",
}


def category(disclosure_type: str) -> str:
    return CATEGORIES.get(disclosure_type, "其他信息")


def _content(disclosure: Disclosure, version: DisclosureVersion) -> str:
    """The text, then each structured field as 「名称：值」 (names in Chinese)."""
    values = json.loads(version.fields_json or "{}")
    with force_locale("zh_Hans_CN"):
        lines = [
            f"{spec.label}：{display_value(spec, values.get(spec.name))}"
            for spec in FIELDS.get(disclosure.disclosure_type, ())
        ]
    return "\n".join(part for part in [version.body_md.strip(), *lines] if part)


def rows(
    session: Session, organization_id: int | None, link: Any, province: str | None = None
) -> list[list[Any]]:
    """Every disclosure (latest version) of one organization (None: all, optionally of a
    province), oldest first. ``link(disclosure_id)`` gives this platform's address."""
    query = (
        select(Disclosure, DisclosureVersion, Organization, Campaign, CnchinaEntry)
        .join(
            DisclosureVersion,
            and_(
                DisclosureVersion.disclosure_id == Disclosure.id,
                DisclosureVersion.version == Disclosure.latest_version,
            ),
        )
        .join(Organization, Organization.id == Disclosure.organization_id)
        .outerjoin(Campaign, Campaign.id == Disclosure.campaign_id)
        .outerjoin(CnchinaEntry, CnchinaEntry.disclosure_id == Disclosure.id)
        .order_by(Disclosure.first_published_at, Disclosure.id)
    )
    if organization_id is not None:
        query = query.where(Disclosure.organization_id == organization_id)
    if province:
        query = query.where(Organization.province == province)
    return [
        [
            org.uscc,
            org.name,
            category(d.disclosure_type),
            v.title,
            d.period_key,
            campaign.filing_number if campaign else "",
            cst_date(v.published_at).isoformat() if v.published_at else "",
            v.version,
            v.correction_note,
            _content(d, v),
            entry.entry_number if entry else "",
            entry.url if entry else "",
            link(d.id),
        ]
        for d, v, org, campaign, entry in session.execute(query)
    ]
