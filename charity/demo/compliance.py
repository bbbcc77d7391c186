"""Demo loader: obligations for every demo organization and one example disclosure."""

from __future__ import annotations

from datetime import timedelta

from flask import current_app
from sqlalchemy import select

from charity.compliance.obligations.refresh import refresh_obligations
from charity.core.clock import today_cst
from charity.demo.orgs import DEMO_ORGS, demo_uscc
from charity.extensions import db
from charity.models import MajorTransaction, Membership, Organization, User
from charity.models.disclosure import Disclosure
from charity.services import major_transactions as service
from charity.services.disclosures import PublishDisclosure, publish_disclosure


def load_compliance_demo() -> list[str]:
    """Idempotent: refreshes obligations; publishes basic information once."""
    refresh_obligations(db.session)
    if db.session.scalar(select(Disclosure.id).limit(1)) is not None:
        return []
    membership = db.session.scalar(
        select(Membership)
        .join(Organization, Organization.id == Membership.organization_id)
        .where(Organization.status == "verified", Membership.role == "owner")
        .limit(1)
    )
    if membership is None:
        return []
    org = membership.organization
    fields = {
        "charter_summary": "本会宗旨：弘扬人道、博爱、奉献精神，帮助社区中有需要的人。",
        "board": "理事长 陈明；副理事长 林芳；理事 黄伟、周丽、吴强",
        "supervisors": "监事 郑华",
        "sub_units": "社区慈善基金 2 个",
        "contacts": f"{org.contact_name} {org.contact_phone}",
    }
    command = PublishDisclosure(
        org.id, "basic_info", "org", "registration", f"{org.name}基本信息", "", fields
    )
    publish_disclosure(db.session, membership.user, command, current_app.config["UPLOAD_DIR"])
    return [f"  disclosures: basic information published for {org.name}"]


DEMO_TRANSACTION_ORG = "yuexiu"


def load_major_transaction_demo() -> list[str]:
    """Idempotent: one related-party transaction recorded by a demo organization's finance
    member, so its 30-day disclosure obligation shows on the obligations and transactions
    pages."""
    spec = next(org for org in DEMO_ORGS if org.key == DEMO_TRANSACTION_ORG)
    org = db.session.scalar(
        select(Organization).where(Organization.uscc == demo_uscc(spec.uscc_prefix))
    )
    finance = db.session.scalar(
        select(User).where(User.email == f"{spec.key}-finance@demo.charity")
    )
    if org is None or finance is None or not org.is_verified:
        return []
    if db.session.scalar(
        select(MajorTransaction.id).where(MajorTransaction.organization_id == org.id)
    ):
        return []
    today = today_cst()
    command = service.RecordMajorTransaction(
        organization_id=org.id,
        kind="related_party",
        occurred_on=max(service.registered_on(org), today - timedelta(days=5)),
        amount_fen=4_800_000,
        counterparty="广州越秀文化传播有限公司",
        relationship="理事长担任董事的企业",
        description=(
            "租用该公司位于北京街道的活动场地一年，用于每月举办公益墟日；"
            "租金按市场价的八折计算，经理事会审议通过，关联理事回避表决。"
        ),
    )
    service.record_major_transaction(db.session, finance, command, today)
    return [f"  major transactions: a related-party transaction recorded for {org.name}"]
