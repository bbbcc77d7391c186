"""Annual work report contents (Charity Law (2023) art. 13, MCA Order 81; issue 16 point 13).

CL art. 13: the yearly work report covers fundraising and gifts received, the management
and use of charitable property, the projects carried out, fundraising costs, staff pay
and benefits, and cooperation with organizations or individuals abroad. Order 81: an
organization qualified for public fundraising also discloses the pay of its five
best-paid people and its expense standards; one without the qualification publishes
last year's major projects by May 31. The obligation is fulfilled only by a complete
report.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

import time_machine
from flask import current_app
from sqlalchemy import select

from charity.compliance.rules.deadlines import OrgFacts, derive
from charity.core.clock import today_cst
from charity.extensions import db
from charity.models.disclosure import Disclosure, DisclosureVersion
from charity.services import disclosures as service
from charity.services import projects
from tests.support.compliance import (
    cst_noon,
    login,
    make_campaign,
    make_org,
    member,
    short_key,
    spend_from_campaign,
    statuses,
)
from tests.support.funds import gift

COMPLETE = {
    "activities": "助学、助老",
    "fundraising": "网上募捐",
    "gifts_received_fen": 100_000,
    "gift_count": 1,
    "in_kind_fen": 0,
    "property_use": "按募捐方案使用",
    "spent_fen": 30_000,
    "projects": "山区学校营养午餐",
    "project_count": 1,
    "fundraising_costs_fen": 0,
    "staff_pay_fen": 0,
    "cooperation": "无",
}
QUALIFIED_ITEMS = {"top_pay": "秘书长 12 万元", "expense_standards": "按机构财务制度执行"}


def _publish(session, user, org, fields, period="2026"):  # type: ignore[no-untyped-def]
    command = service.PublishDisclosure(
        org.id, "annual_work_report", "org", period, f"{period} 年度工作报告", "", fields
    )
    return service.publish_disclosure(session, user, command, current_app.config["UPLOAD_DIR"])


def test_cl13_draft_is_prefilled_from_the_books(app, client, db_session):
    org = make_org()
    owner = member(org, "owner")
    campaign = make_campaign(org, date(2026, 3, 1), date(2026, 3, 31))
    with time_machine.travel(cst_noon(date(2026, 2, 1)), tick=False):
        projects.create_project(
            db_session,
            owner,
            projects.NewProject(
                org.id, "山区学校营养午餐", "", date(2026, 3, 1), date(2026, 11, 30)
            ),
        )
    # A gift at 23:30 on Dec 31 in Beijing belongs to that year; one at 00:30 on Jan 1
    # (16:30 UTC on Dec 31) to the next.
    gift(campaign, 100_000, datetime(2026, 3, 2, 4, tzinfo=UTC))
    gift(campaign, 5_000, datetime(2026, 12, 31, 15, 30, tzinfo=UTC))
    gift(campaign, 7_000, datetime(2026, 12, 31, 16, 30, tzinfo=UTC))
    with time_machine.travel(cst_noon(date(2026, 3, 20)), tick=False):
        spend_from_campaign(app, org, campaign, 30_000)
    with time_machine.travel(cst_noon(date(2027, 2, 1)), tick=False):
        login(client, member(org, "editor"))  # the owner approved spending (two-factor on)
        page = client.get(
            f"/orgs/{org.id}/disclosures/new?type=annual_work_report&subject=org&period=2026"
        ).get_data(as_text=True)
    assert 'value="1050.00"' in page  # gifts received in 2026, CST
    assert 'value="300.00"' in page  # spent in 2026
    assert "山区学校营养午餐" in page and campaign.filing_number in page


def test_cl13_qualified_organization_reports_top_pay_and_expense_standards(app, db_session):
    org = make_org(qualified=True)
    owner = member(org, "owner")
    try:
        _publish(db_session, owner, org, COMPLETE)
    except service.DisclosureError as error:
        assert error.field == "top_pay"
    else:  # pragma: no cover - the test fails
        raise AssertionError("a qualified organization's report without top pay published")
    _publish(db_session, owner, org, {**COMPLETE, **QUALIFIED_ITEMS})
    # Without the qualification the extra items are optional.
    plain = make_org(qualified=False)
    _publish(db_session, member(plain, "owner"), plain, COMPLETE)


def test_cl13_a_report_missing_items_fulfils_only_once_completed(app, db_session):
    """Walked with time travel: a report published before the contents were required
    (only the activities) does not fulfil the 2025 obligation; it turns overdue on June 1;
    the correction that completes it fulfils it, late."""
    org = make_org(qualified=False, registered=date(2025, 1, 10))
    owner = member(org, "owner")
    key = "annual_work_report:org:2025"
    with time_machine.travel(cst_noon(date(2026, 3, 1)), tick=False):
        legacy = Disclosure(
            organization_id=org.id,
            disclosure_type="annual_work_report",
            subject_key="org",
            period_key="2025",
            latest_version=1,
            first_published_at=cst_noon(date(2026, 3, 1)),
        )
        legacy.versions.append(
            DisclosureVersion(
                version=1,
                title="2025 年度工作报告",
                body_md="",
                fields_json='{"_qualified":false,"activities":"助学"}',
                content_hash="ab" * 32,
                published_at=cst_noon(date(2026, 3, 1)),
            )
        )
        db.session.add(legacy)
        db.session.flush()
        assert statuses(db_session, org.id, today_cst())[key] == "upcoming"
    # 23:59 on May 31 in Beijing: still due; a minute later, overdue.
    with time_machine.travel(datetime(2026, 5, 31, 15, 59, tzinfo=UTC), tick=False):
        assert statuses(db_session, org.id, today_cst())[key] == "due_soon"
    with time_machine.travel(datetime(2026, 5, 31, 16, 1, tzinfo=UTC), tick=False):
        assert statuses(db_session, org.id, today_cst())[key] == "overdue"
    with time_machine.travel(cst_noon(date(2026, 6, 10)), tick=False):
        service.correct_disclosure(
            db_session,
            owner,
            service.CorrectDisclosure(legacy.id, "2025 年度工作报告", "", COMPLETE, "补充法定内容"),
            current_app.config["UPLOAD_DIR"],
        )
        assert statuses(db_session, org.id, today_cst())[key] == "late"


def _major(org: OrgFacts, today: date = date(2027, 1, 2)) -> dict[str, date]:
    found = derive([org], [], [], {}, {}, today)
    return {short_key(d.key): d.due_date for d in found if d.rule_code == "major_projects"}


def test_order81_only_unqualified_years_owe_the_major_projects_report():
    plain = OrgFacts(1, date(2025, 1, 10))
    assert _major(plain) == {
        "major_projects:org:2025": date(2026, 5, 31),
        "major_projects:org:2026": date(2027, 5, 31),
    }
    qualified = OrgFacts(1, date(2025, 1, 10), None, True, date(2024, 6, 1))
    assert _major(qualified) == {}
    # Qualified from mid-2026: 2025 owes it, 2026 (qualified during the year) does not.
    later = OrgFacts(1, date(2025, 1, 10), None, True, date(2026, 7, 1))
    assert _major(later) == {"major_projects:org:2025": date(2026, 5, 31)}
    # Lost on 2026-01-01: held no day of 2026, so 2026 owes it.
    lost = OrgFacts(1, date(2025, 1, 10), None, True, date(2024, 6, 1), date(2026, 1, 1))
    assert _major(lost) == {"major_projects:org:2026": date(2027, 5, 31)}


def test_order81_major_projects_draft_lists_the_marked_projects(app, client, db_session):
    org = make_org(qualified=False)
    owner = member(org, "owner")
    for title, major in (("社区长者食堂", True), ("读书会", False)):
        projects.create_project(
            db_session,
            owner,
            projects.NewProject(org.id, title, "", date(2026, 1, 5), date(2026, 12, 31), major),
        )
    login(client, owner)
    page = client.get(
        f"/orgs/{org.id}/disclosures/new?type=major_projects&subject=org&period=2026"
    ).get_data(as_text=True)
    assert "社区长者食堂" in page and "读书会" not in page
    assert db_session.scalar(select(Disclosure.id)) is None
