"""Charity Law (2023) art. 78 and MCA Order 81 (issue 16 point 7): the basic information
is due 30 days after the *legal* registration/recognition date recorded at application
(not the platform's verification); a change of any basic-information item (charter,
board, supervisors, legal representative, qualification, address, contacts), and setting
up a community fund or other special fund (专项基金), starts a 30-day duty."""

from __future__ import annotations

from datetime import date

import time_machine
from sqlalchemy import func, select

from charity.compliance.rules.deadlines import OrgFacts, derive
from charity.core.clock import today_cst
from charity.extensions import db
from charity.models import Organization
from charity.models.disclosure import ComplianceTrigger, Obligation
from charity.services import funds
from charity.services import organizations as org_service
from tests.support.compliance import cst_noon, login, make_org, member, short_key, statuses
from tests.support.factories import UserFactory, make_uscc
from tests.support.funds import new_fund_command, seats

APPLICATION = {
    "name": "广州市海珠区邻里互助会", "uscc": make_uscc("1", 7788),
    "registration_authority": "广州市海珠区民政局", "registered_on": "2025-05-18",
    "province": "广东省", "city": "广州市", "district": "海珠区", "address": "江南大道 1 号",
    "contact_name": "林小姐", "contact_phone": "020-84440000",
    "contact_email": "contact@example.org", "website": "", "description_md": "邻里互助。",
    "qualification_number": "", "qualification_authority": "", "qualification_date": "",
}  # fmt: skip


def test_cl78_basic_information_due_30_days_after_the_legal_registration():
    # Registered by civil affairs on March 1st, verified on the platform in June: the
    # basic information was due March 31st; annual reports count from the platform year.
    org = OrgFacts(1, date(2025, 3, 1), date(2025, 6, 10))
    found = {short_key(d.key): d.due_date for d in derive([org], [], [], {}, {}, date(2027, 1, 1))}
    assert found["basic_info_registration:org:registration"] == date(2025, 3, 31)
    assert found["annual_work_report:org:2025"] == date(2026, 5, 31)
    # An organization registered years before joining owes annual reports here only from
    # the year it joined (earlier years were published elsewhere).
    old = OrgFacts(2, date(2012, 5, 4), date(2025, 6, 10))
    keys = {short_key(d.key) for d in derive([old], [], [], {}, {}, date(2026, 1, 1))}
    assert "annual_work_report:org:2025" in keys and "annual_work_report:org:2024" not in keys


def test_cl78_application_records_the_legal_date_and_the_duty_runs_from_it(client, db_session):
    """Walked with time travel: applied in June with a registration date of May 18th,
    approved in July; the basic information was due June 17th (overdue on approval)."""
    application_form = APPLICATION
    applicant = UserFactory()
    with time_machine.travel(cst_noon(date(2025, 6, 1)), tick=False):
        login(client, applicant)
        assert client.post("/orgs/apply", data=application_form).status_code == 302
        org = db_session.scalar(
            select(Organization).where(Organization.uscc == application_form["uscc"])
        )
        assert org.registered_on == date(2025, 5, 18)
    with time_machine.travel(cst_noon(date(2025, 7, 1)), tick=False):
        org_service.approve_organization(db_session, UserFactory(platform_role="admin"), org)
        found = statuses(db_session, org.id, today_cst())
        assert found["basic_info_registration:org:registration"] == "overdue"
        [row] = [k for k in found if k.startswith("basic_info_registration")]
        assert row.endswith(":registration")


def test_cl78_a_recorded_board_change_starts_the_30_day_duty(en_client, db_session):
    org = make_org(registered=date(2025, 1, 10))
    owner = member(org, "owner")
    with time_machine.travel(cst_noon(date(2025, 9, 5)), tick=False):
        login(en_client, owner)
        page = en_client.get(f"/orgs/{org.id}/basic-info").get_data(as_text=True)
        assert 'name="item"' in page and "法定代表人" in page
        response = en_client.post(
            f"/orgs/{org.id}/basic-info/changes",
            data={"item": "board", "occurred_on": "2025-09-01"},
        )
        assert response.status_code == 302
        found = statuses(db_session, org.id, today_cst())
        [key] = [k for k in found if k.startswith("basic_info_change")]
        assert found[key] == "upcoming"
        trigger = db_session.scalar(
            select(ComplianceTrigger).where(ComplianceTrigger.organization_id == org.id)
        )
        assert trigger.occurred_on == date(2025, 9, 1)
    # 2025-09-01 + 30 days = 2025-10-01, National Day (国庆节, holiday to Oct 8): the
    # period ends on Thursday Oct 9 (Civil Code art. 203).
    with time_machine.travel(cst_noon(date(2025, 10, 9)), tick=False):
        assert statuses(db_session, org.id, today_cst())[key] == "due_soon"
        assert db_session.scalar(
            select(Obligation.due_date).where(Obligation.organization_id == org.id,
                                              Obligation.rule_code == "basic_info_change")
        ) == date(2025, 10, 9)  # fmt: skip
    with time_machine.travel(cst_noon(date(2025, 10, 10)), tick=False):
        assert statuses(db_session, org.id, today_cst())[key] == "overdue"


def test_cl78_bad_change_records_are_refused_with_a_field_error(en_client, db_session):
    org = make_org(registered=date(2025, 1, 10))
    owner = member(org, "owner")
    with time_machine.travel(cst_noon(date(2025, 9, 5)), tick=False):
        login(en_client, owner)
        for data, message in (
            ({"item": "hairstyle", "occurred_on": "2025-09-01"}, 'id="item-error"'),
            ({"item": "board", "occurred_on": "2025-09-06"}, 'id="occurred_on-error"'),
            ({"item": "board", "occurred_on": ""}, 'id="occurred_on-error"'),
        ):
            response = en_client.post(f"/orgs/{org.id}/basic-info/changes", data=data)
            assert response.status_code == 400
            assert message in response.get_data(as_text=True)
        count = select(func.count()).select_from(ComplianceTrigger)
        assert db_session.scalar(count) == 0
        # Only owners record changes.
        login(en_client, member(org, "editor"))
        response = en_client.post(
            f"/orgs/{org.id}/basic-info/changes",
            data={"item": "board", "occurred_on": "2025-09-01"},
        )
        assert response.status_code == 403


def test_cl78_setting_up_a_community_fund_starts_the_30_day_duty(db_session):
    org = make_org(registered=date(2025, 1, 10))
    owner = member(org, "owner")
    with time_machine.travel(cst_noon(date(2025, 9, 5)), tick=False):
        fund = funds.create_fund(db.session, owner, new_fund_command(org, seats()))
        found = statuses(db_session, org.id, today_cst())
        [key] = [k for k in found if k.startswith("basic_info_change")]
        assert found[key] == "upcoming"
        trigger = db_session.scalar(
            select(ComplianceTrigger).where(ComplianceTrigger.organization_id == org.id)
        )
        assert trigger.occurred_on == date(2025, 9, 5)
        assert str(fund.id) in trigger.description
