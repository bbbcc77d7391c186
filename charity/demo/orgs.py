"""Demo organizations for `make run`: every type, several provinces, each review outcome.

Idempotent: an organization whose USCC exists is left alone, and so are its members.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import select
from stdnum.cn import uscc

from charity.core.events import record_event
from charity.demo import DEMO_MEMBERSHIP_AGE, ensure_user, make_approver
from charity.extensions import db
from charity.models import Membership, Organization, utcnow
from charity.services.accounts import find_user_by_email


def demo_uscc(prefix: str) -> str:
    """A valid USCC from its first 17 characters (the check character computed)."""
    return prefix + uscc.calc_check_digit(prefix)


@dataclass(frozen=True)
class DemoOrg:
    #: Short name used in the demo logins, e.g. "gdfoundation" -> gdfoundation-owner@demo.charity
    key: str
    name: str
    uscc_prefix: str
    registration_authority: str
    province: str
    city: str
    district: str
    address: str
    contact_name: str
    contact_phone: str
    description_md: str
    status: str = "verified"
    qualification: tuple[str, str, date] | None = None
    stripe_account_id: str | None = None
    review_reason: str = ""
    website: str = ""
    #: Verified on the platform this many days ago: the foundation joined 45 days ago, so
    #: its 30-day basic-information disclosure is overdue by 15 days and the regulator's
    #: dashboard has an overdue obligation to show next to the due-soon ones (issue 17
    #: point 1); far from the 180 days that would bar it from filing campaigns.
    verified_days_ago: int = 0


DEMO_ORGS = [
    DemoOrg(
        key="gdfoundation",
        name="广东省乐善慈善基金会",
        uscc_prefix="53440000MJ0000001",
        registration_authority="广东省民政厅",
        province="广东省",
        city="广州市",
        district="天河区",
        address="广州市天河区体育西路 100 号",
        contact_name="陈蔚岚",
        contact_phone="020-87650001",
        description_md=(
            "广东省乐善慈善基金会成立于 2012 年，专注**乡村儿童营养**与**助学**。\n\n"
            "- 山区学校营养午餐\n- 困难学生助学金\n- 乡村教师培训"
        ),
        qualification=("粤民募字〔2017〕第 003 号", "广东省民政厅", date(2017, 6, 1)),
        stripe_account_id="acct_demo_gdfoundation",
        website="https://example.org/lesan",
        verified_days_ago=45,
    ),
    DemoOrg(
        key="yuexiu",
        name="广州市越秀区慈善会",
        uscc_prefix="51440104MJ0000002",
        registration_authority="广州市越秀区民政局",
        province="广东省",
        city="广州市",
        district="越秀区",
        address="广州市越秀区东风中路 300 号",
        contact_name="黄启舟",
        contact_phone="020-83330002",
        description_md=(
            "越秀区慈善会是区级枢纽型慈善组织，设立并托管**社区慈善基金**，"
            "支持街道和社区开展邻里互助、长者关爱和公益墟日。"
        ),
        qualification=("穗民募字〔2018〕第 012 号", "广州市民政局", date(2018, 9, 5)),
        stripe_account_id="acct_demo_yuexiu",
    ),
    DemoOrg(
        key="bjcommunity",
        name="北京市朝阳区社区公益促进会",
        uscc_prefix="51110105MJ0000003",
        registration_authority="北京市朝阳区民政局",
        province="北京市",
        city="北京市",
        district="朝阳区",
        address="北京市朝阳区朝阳路 88 号",
        contact_name="刘知遥",
        contact_phone="010-65000003",
        description_md="支持朝阳区社区社会组织成长，开展社区治理与志愿服务培训。",
    ),
    DemoOrg(
        key="shsunshine",
        name="上海市浦东新区阳光社会工作服务中心",
        uscc_prefix="52310115MJ0000004",
        registration_authority="上海市浦东新区民政局",
        province="上海市",
        city="上海市",
        district="浦东新区",
        address="上海市浦东新区世纪大道 200 号",
        contact_name="周语棠",
        contact_phone="021-58000004",
        description_md="为独居老人和困境儿童提供专业社会工作服务。",
    ),
    DemoOrg(
        key="scapplicant",
        name="四川省山区助学基金会",
        uscc_prefix="53510000MJ0000005",
        registration_authority="四川省民政厅",
        province="四川省",
        city="成都市",
        district="武侯区",
        address="成都市武侯区人民南路 50 号",
        contact_name="杨书屿",
        contact_phone="028-85000005",
        description_md="资助凉山州、甘孜州的山区学生完成学业。",
        status="pending",
    ),
    DemoOrg(
        key="zjrejected",
        name="浙江省绿水环保促进会",
        uscc_prefix="51330000MJ0000006",
        registration_authority="浙江省民政厅",
        province="浙江省",
        city="杭州市",
        district="西湖区",
        address="杭州市西湖区文三路 60 号",
        contact_name="吴清沅",
        contact_phone="0571-8800006",
        description_md="开展钱塘江流域的河道保护和环境教育。",
        status="rejected",
        review_reason="登记证书扫描件与统一社会信用代码不一致，请核对后重新提交。",
    ),
]

ROLES_BY_STATUS = {"verified": ("owner", "finance", "editor"), "pending": ("owner",)}
ROLES_BY_STATUS["rejected"] = ("owner",)


def _email(org: DemoOrg, role: str) -> str:
    return f"{org.key}-{role}@demo.charity"


def _person(spec: DemoOrg, role: str) -> str:
    surname = spec.contact_name[0]
    return {"owner": spec.contact_name, "finance": f"{surname}会计", "editor": f"{surname}编辑"}[
        role
    ]


def _ensure_org(spec: DemoOrg, admin_id: int | None) -> None:
    code = demo_uscc(spec.uscc_prefix)
    if db.session.scalar(select(Organization.id).where(Organization.uscc == code)):
        return
    organization = _build(spec, code, admin_id)
    db.session.add(organization)
    for role in ROLES_BY_STATUS[spec.status]:
        user = ensure_user(_email(spec, role), _person(spec, role), "donor", None)
        if spec.status == "verified" and role in ("owner", "finance"):
            make_approver(user)  # they approve each other's requests (four eyes)
        since = utcnow() - DEMO_MEMBERSHIP_AGE
        db.session.add(Membership(organization=organization, user=user, role=role, since=since))
    db.session.flush()  # ids for the events
    if spec.status == "verified":
        record_event(db.session, "organization.verified", subject_id=organization.id)
        for membership in organization.memberships:
            record_event(db.session, "organization.member_added", subject_id=membership.id)
    elif spec.status == "rejected":
        record_event(db.session, "organization.rejected", subject_id=organization.id)


def _build(spec: DemoOrg, code: str, admin_id: int | None) -> Organization:
    number, authority, issued_on = spec.qualification or (None, None, None)
    reviewed = spec.status != "pending"
    return Organization(
        name=spec.name,
        uscc=code,
        org_type={"1": "social_group", "2": "social_service", "3": "foundation"}[code[1]],
        registration_authority=spec.registration_authority,
        province=spec.province,
        city=spec.city,
        district=spec.district,
        address=spec.address,
        contact_name=spec.contact_name,
        contact_phone=spec.contact_phone,
        contact_email=f"{spec.key}@demo.charity",
        website=spec.website,
        description_md=spec.description_md,
        qualification_number=number,
        qualification_authority=authority,
        qualification_date=issued_on,
        status=spec.status,
        review_reason=spec.review_reason,
        reviewed_at=utcnow() - timedelta(days=spec.verified_days_ago) if reviewed else None,
        reviewed_by_id=admin_id if reviewed else None,
        stripe_account_id=spec.stripe_account_id,
    )


def load_organizations() -> list[str]:
    admin = find_user_by_email(db.session, "admin@demo.charity")
    lines = []
    for spec in DEMO_ORGS:
        _ensure_org(spec, admin.id if admin else None)
        for role in ROLES_BY_STATUS[spec.status]:
            lines.append(f"  {role:<10} {_email(spec, role):<36} {spec.name} ({spec.status})")
    return lines
