"""Demo campaigns: one running, one emergency, one closed (idempotent).

They belong to the first verified organization holding a public fundraising
qualification (the organizations demo creates one in 广东省). Without one, nothing
happens. Dates are relative to today so the demo always has a running campaign.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import case, select

from charity.core.clock import CST, today_cst
from charity.core.events import record_event
from charity.extensions import db
from charity.models import Campaign, CampaignUpdate, Organization

_PLAN_DEFAULTS: dict[str, Any] = {
    "person_in_charge": "陈其朗",
    "acceptance_methods": (
        "本平台在线捐赠（银行卡、支付宝、微信支付）；对公银行转账；公益墟日现场捐赠箱"
    ),
    "fundraising_cost": "不超过募得善款的 3%，用于宣传物料与第三方审计，由本会非限定资金列支",
}


def _plans(org: Organization, today: date) -> list[dict[str, Any]]:
    account = f"{org.name} 中国工商银行广州越秀支行 3602 0000 0920 0123 456"
    return [
        {
            "suffix": "A01",
            "title": "粤北山区留守儿童营养午餐计划",
            "summary": "为韶关、清远山区 18 所乡村小学的 2,400 名留守儿童提供一学年的营养午餐。",
            "cause": "children",
            "purpose_md": (
                "粤北山区不少乡村小学的孩子午餐只有米饭和咸菜。本项目与学校食堂合作，"
                "按每餐 **6 元** 标准补贴肉蛋奶和新鲜蔬菜，并培训食堂人员。\n\n"
                "- 每月在本页公布采购与用餐情况\n- 学期结束公布审计结果"
            ),
            "region": "广东省韶关市、清远市",
            "beneficiaries": "韶关市乳源县、清远市连山县 18 所乡村小学的 2,400 名学生",
            "use_of_funds": "食材采购补贴（90%）、食堂设备更新（7%）、营养知识培训（3%）",
            "leftover_plan": "剩余款项经理事会决议转入本会乡村儿童营养项目继续使用，并在本页公示",
            "expected_amount_fen": 50_000_000,
            "filing_date": today - timedelta(days=40),
            "start_date": today - timedelta(days=30),
            "end_date": today + timedelta(days=60),
            "receiving_account": account,
        },
        {
            "suffix": "A02",
            "title": "台风“海燕”受灾群众紧急救助",
            "summary": "为台风受灾的湛江沿海村庄紧急采购饮用水、食品和临时安置物资。",
            "cause": "disaster",
            "purpose_md": (
                "台风过境后，沿海村庄停水停电。本项目紧急采购物资，由本会志愿者送到受灾群众手中。"
            ),
            "region": "广东省湛江市",
            "beneficiaries": "湛江市徐闻县、雷州市受灾村庄的群众",
            "use_of_funds": "饮用水、方便食品、帐篷与应急照明的采购和运输",
            "leftover_plan": "剩余款项用于受灾村庄灾后重建，并在本页公示",
            "expected_amount_fen": 20_000_000,
            "filing_date": today - timedelta(days=3),
            "start_date": today - timedelta(days=5),
            "end_date": today + timedelta(days=25),
            "is_emergency": True,
            "receiving_account": account,
        },
        {
            "suffix": "A03",
            "title": "社区长者助餐点建设（已结束）",
            "summary": "在越秀区 6 个社区建设长者饭堂，为独居老人提供平价午餐。",
            "cause": "elderly",
            "purpose_md": "为社区独居、高龄老人提供营养、平价、方便的午餐。",
            "region": "广东省广州市越秀区",
            "beneficiaries": "越秀区 6 个社区的 60 岁以上独居及高龄老人",
            "use_of_funds": "助餐点厨房设备与适老化改造",
            "leftover_plan": "剩余款项转入本会长者关爱项目",
            "expected_amount_fen": 30_000_000,
            "filing_date": today - timedelta(days=200),
            "start_date": today - timedelta(days=180),
            "end_date": today - timedelta(days=20),
            "closed": True,
            "receiving_account": account,
        },
    ]


def _qualified_organization() -> Organization | None:
    query = (
        select(Organization)
        .where(Organization.status == "verified", Organization.qualification_number.is_not(None))
        .order_by(case((Organization.province == "广东省", 0), else_=1), Organization.id)
        .limit(1)
    )
    return db.session.scalar(query)


def _create(org: Organization, plan: dict[str, Any], filing_number: str) -> Campaign:
    closed = plan.pop("closed", False)
    plan.pop("suffix")
    campaign = Campaign(organization_id=org.id, status="draft", filing_number=filing_number)
    for key, value in {**_PLAN_DEFAULTS, **plan}.items():
        setattr(campaign, key, value)
    db.session.add(campaign)
    db.session.flush()  # the events need the id
    start = datetime.combine(campaign.start_date, time(9), CST).astimezone(UTC)
    campaign.status = "published"
    campaign.published_at = start
    record_event(db.session, "campaign.published", subject_id=campaign.id)
    if closed:
        end = datetime.combine(campaign.end_date + timedelta(days=1), time(0, 10), CST)
        campaign.status = "closed"
        campaign.closed_at = end.astimezone(UTC)
        record_event(db.session, "campaign.closed", subject_id=campaign.id)
    return campaign


def load_campaigns() -> list[str]:
    org = _qualified_organization()
    if org is None:
        return []
    today = today_cst()
    lines = []
    for plan in _plans(org, today):
        filing_number = f"{org.uscc}{plan['suffix']}"
        existing = db.session.scalar(
            select(Campaign).where(Campaign.filing_number == filing_number)
        )
        campaign = existing or _create(org, plan, filing_number)
        if existing is None and not campaign.closed_at and not campaign.is_emergency:
            db.session.add(
                CampaignUpdate(
                    campaign=campaign,
                    # Honest about what has happened (issue 17.1): it thanks nobody for
                    # food bought with money that was never raised.
                    title="活动已启动，采购清单将逐批公开",
                    body_md=(
                        "募捐方案已备案并上线。善款到账后，我们将按方案为乳源县 6 所学校采购"
                        "大米、鸡蛋和牛奶，每一批的采购清单和签收单都会在这里公开。"
                    ),
                    posted_at=datetime.now(UTC) - timedelta(days=7),
                )
            )
        lines.append(f"  {'campaign':<10} {f'/campaigns/{campaign.id}':<28} {campaign.title}")
    return lines
