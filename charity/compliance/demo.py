"""Demo loader: obligations for every demo organization and one example disclosure."""

from __future__ import annotations

from sqlalchemy import select

from charity.compliance.obligations import refresh_obligations
from charity.extensions import db
from charity.models import Membership, Organization
from charity.models.disclosure import Disclosure


def load_compliance_demo() -> list[str]:
    """Idempotent: refreshes obligations; publishes basic information once."""
    from flask import current_app

    from charity.services.disclosures import PublishDisclosure, publish_disclosure

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
