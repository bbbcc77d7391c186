"""Public data for the API tests: what must show and what must not."""

from __future__ import annotations

import pytest

from charity.core.clock import today_cst
from charity.models.base import utcnow
from tests.support.api import PublicData, make_donation
from tests.support.factories import (
    CampaignFactory,
    OrganizationFactory,
    QualifiedOrganizationFactory,
)


@pytest.fixture
def public_data(db_session) -> PublicData:  # type: ignore[no-untyped-def]
    qualified = QualifiedOrganizationFactory(name="广州市越秀区慈善会", province="广东省")
    plain = OrganizationFactory(
        name="北京市朝阳区邻里互助会", province="北京市", type_digit="1", city="北京市"
    )
    pending = QualifiedOrganizationFactory(name="待审核基金会", status="pending")
    campaign = CampaignFactory(organization=qualified, title="山区儿童营养午餐")
    draft = CampaignFactory(organization=qualified, status="draft", title="草稿活动")
    pending_campaign = CampaignFactory(organization=pending, title="未审核机构的活动")
    named = make_donation(
        campaign, 10_000, is_anonymous=False, consent_show_name=True, donor_name="李雷"
    )
    anonymous = make_donation(campaign, 20_000, donor_name="韩梅梅")
    refunded_part = make_donation(campaign, 5_000, status="partially_refunded", refunded_fen=1_000)
    failed = make_donation(campaign, 70_000, status="failed", succeeded_at=None)
    make_donation(pending_campaign, 9_900)
    return PublicData(
        qualified, plain, pending, campaign, draft, pending_campaign,
        named, anonymous, refunded_part, failed,
    )  # fmt: skip


@pytest.fixture
def compliance_data(public_data):  # type: ignore[no-untyped-def]
    """A published (and corrected) disclosure and two obligations for the qualified org,
    and a disclosure of the pending organization that must stay hidden."""
    from datetime import timedelta

    from charity.extensions import db
    from charity.models.disclosure import Disclosure, DisclosureVersion, Obligation

    def disclose(org, title: str) -> Disclosure:  # type: ignore[no-untyped-def]
        disclosure = Disclosure(
            organization_id=org.id, disclosure_type="annual_work_report", subject_key="org",
            period_key="2024", latest_version=2, first_published_at=utcnow(),
        )  # fmt: skip
        for number in (1, 2):
            disclosure.versions.append(
                DisclosureVersion(
                    version=number,
                    title=f"{title} v{number}",
                    body_md="正文",
                    fields_json="{}",
                    content_hash=f"{number:02d}" * 32,
                    correction_note="更正" if number == 2 else "",
                )
            )
        db.session.add(disclosure)
        return disclosure

    shown = disclose(public_data.qualified, "2024 年度工作报告")
    hidden = disclose(public_data.pending, "未审核")
    db.session.flush()
    today = today_cst()
    obligations = [
        Obligation(
            key=f"{public_data.qualified.id}:annual_work_report:org:{period}",
            organization_id=public_data.qualified.id,
            rule_code="CL78-annual",
            disclosure_type="annual_work_report",
            subject_key="org",
            period_key=period,
            triggered_on=today - timedelta(days=400),
            due_date=due,
            fulfilled_on=done,
            disclosure_id=shown.id if done else None,
        )
        for period, due, done in [
            ("2023", today - timedelta(days=30), today - timedelta(days=40)),
            ("2022", today - timedelta(days=5), None),
        ]
    ]
    db.session.add_all(obligations)
    db.session.flush()
    return {"shown": shown, "hidden": hidden, "on_time": obligations[0], "overdue": obligations[1]}
