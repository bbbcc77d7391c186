"""Charitable trusts (慈善信托; issue 16 point 14).

MCA Order 81 art. 12: a charity acting as trustee publishes the trust's affairs and
finances at least once a year (yearly, by March 31, the date of 慈善信托管理办法); a charity
that sets up a trust as settlor publishes its name, trustee and amount within 30 days.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

import time_machine
from sqlalchemy import select

from charity.compliance.rules.deadlines import OrgFacts, derive
from charity.compliance.rules.trusts import TrustFacts
from charity.core.clock import today_cst
from charity.extensions import db
from charity.models import CharitableTrust
from charity.services import trusts as service
from tests.support.compliance import cst_noon, login, make_org, member, short_key, statuses
from tests.support.factories import UserFactory


def _due(trust: TrustFacts, today: date = date(2028, 1, 2)) -> dict[str, date]:
    orgs = [OrgFacts(1, date(2024, 1, 10)), OrgFacts(2, date(2024, 1, 10))]
    found = derive(orgs, [], [], {}, {}, today, trusts=[trust])
    return {
        f"{d.organization_id}:{short_key(d.key)}": d.due_date
        for d in found
        if d.rule_code.startswith("trust_")
    }


def test_order81_art12_trustee_reports_yearly_and_settlor_within_30_days():
    # Set up Sep 1 2025: the settlor's 30 days end on Oct 1 (国庆节, off until Oct 8),
    # so on Oct 9 (Civil Code art. 203). The trustee reports 2025, 2026 and 2027 (the
    # term ends in 2027) by March 31 of the next year (a fixed date: not moved).
    trust = TrustFacts(5, date(2025, 9, 1), date(2027, 8, 31), 1, (2,))
    assert _due(trust, date(2029, 1, 1)) == {
        "1:trust_annual_report:trust:5:2025": date(2026, 3, 31),
        "1:trust_annual_report:trust:5:2026": date(2027, 3, 31),
        "1:trust_annual_report:trust:5:2027": date(2028, 3, 31),
        "2:trust_settlement:trust:5:established": date(2025, 10, 9),
    }
    # Before a year is over it owes nothing for it yet.
    assert "1:trust_annual_report:trust:5:2026" not in _due(trust, date(2026, 12, 31))


def test_order81_art12_a_trust_company_trustee_owes_nothing_here():
    assert _due(TrustFacts(6, date(2025, 3, 1), None, None, ())) == {}


def _form(uscc: str, settlor_line: str, **overrides) -> dict[str, str]:  # type: ignore[no-untyped-def]
    return {
        "name": "示例山区助学慈善信托",
        "filing_number": "粤民慈信备〔2026〕示例9号",
        "filing_date": "2026-03-03",
        "filing_authority": "广东省民政厅",
        "province": "广东省",
        "established_on": "2026-03-01",
        "trustee_uscc": uscc,
        "purpose": "资助山区学校",
        "assets": "10000",
        "settlors": settlor_line,
        **overrides,
    }


def test_order81_art12_walk_registry_to_disclosures(app, client, db_session):
    """Walked with time travel: a regulator registers a trust (a charity trustee and a
    charity settlor) through the form; the settlor's 30-day disclosure is due soon,
    published pre-filled on its last day (Beijing time); the trustee's 2026 report falls
    overdue on April 1, 2027."""
    trustee, settlor = make_org(province="广东省"), make_org(province="广东省")
    settlor_owner = member(settlor, "owner")
    regulator = UserFactory(platform_role="regulator", regulator_province="广东省")
    with time_machine.travel(cst_noon(date(2026, 3, 5)), tick=False):
        login(client, regulator)
        response = client.post(
            "/trusts/new", data=_form(trustee.uscc, f"{settlor.name}, 10000, {settlor.uscc}")
        )
        assert response.status_code == 302, response.get_data(as_text=True)
        trust = db_session.scalar(select(CharitableTrust))
        assert [s.organization_id for s in trust.settlors] == [settlor.id]
        settlement = f"trust_settlement:trust:{trust.id}:established"
        found = statuses(db_session, settlor.id, today_cst())
        assert found[settlement] == "upcoming"  # due March 31
    # 23:30 on March 31 in Beijing is still in time.
    with time_machine.travel(datetime(2026, 3, 31, 15, 30, tzinfo=UTC), tick=False):
        assert statuses(db_session, settlor.id, today_cst())[settlement] == "due_soon"
        login(client, settlor_owner)
        url = (
            f"/orgs/{settlor.id}/disclosures/new?type=trust_settlement"
            f"&subject=trust:{trust.id}&period=established"
        )
        page = client.get(url).get_data(as_text=True)
        assert "示例山区助学慈善信托" in page and 'value="10000.00"' in page
        response = client.post(
            url,
            data={
                "title": "设立慈善信托的公告",
                "trust_name": "示例山区助学慈善信托",
                "trustee_name": trustee.name,
                "amount_fen": "10000.00",
            },
        )
        assert response.status_code == 302, response.get_data(as_text=True)
        assert statuses(db_session, settlor.id, today_cst())[settlement] == "on_time"
    annual = f"trust_annual_report:trust:{trust.id}:2026"
    with time_machine.travel(cst_noon(date(2027, 3, 31)), tick=False):
        assert statuses(db_session, trustee.id, today_cst())[annual] == "due_soon"
    with time_machine.travel(datetime(2027, 3, 31, 16, 30, tzinfo=UTC), tick=False):
        assert statuses(db_session, trustee.id, today_cst())[annual] == "overdue"
        page = client.get(f"/trusts/{trust.id}").get_data(as_text=True)
        assert "粤民慈信备〔2026〕示例9号" in page


def test_order81_art12_bad_filings_are_refused(app, client, db_session):
    org = make_org(province="广东省")
    other_province = UserFactory(platform_role="regulator", regulator_province="浙江省")
    admin = UserFactory(platform_role="admin")
    with time_machine.travel(cst_noon(date(2026, 3, 5)), tick=False):
        login(client, admin)
        for overrides, field in [
            ({"filing_date": "2026-02-01"}, "filing_date"),  # filed before it was set up
            ({"trustee_company": "示例信托公司"}, "trustee_company"),  # two trustees
            ({"trustee_uscc": "", "trustee_company": ""}, "trustee_company"),  # none
            ({"settlors": "某公司, 十元"}, "settlors"),
            ({"filing_date": "2026-04-01"}, "filing_date"),  # in the future
        ]:
            response = client.post("/trusts/new", data=_form(org.uscc, "某公司, 10", **overrides))
            assert response.status_code == 400, field
            assert db_session.scalar(select(CharitableTrust.id)) is None
        assert client.post("/trusts/new", data=_form(org.uscc, "某公司, 10")).status_code == 302
        again = client.post("/trusts/new", data=_form(org.uscc, "某公司, 10"))
        assert again.status_code == 400 and "该备案编号已登记" in again.get_data(as_text=True)
        login(client, other_province)
        form = _form(org.uscc, "某公司, 10", filing_number="另一号")
        assert client.post("/trusts/new", data=form).status_code in (400, 403)
    assert db_session.scalar(select(db.func.count(CharitableTrust.id))) == 1


def test_order81_art12_registry_on_api_feed_and_dashboard(app, client, db_session):
    org = make_org(province="广东省")
    admin = UserFactory(platform_role="admin")
    trust = service.record_trust(
        db_session,
        admin,
        service.NewTrust(
            name="示例环保慈善信托",
            filing_number="示例-001",
            filing_date=date(2025, 5, 2),
            filing_authority="广州市民政局",
            province="广东省",
            purpose="环保",
            assets_fen=5_000_000,
            established_on=date(2025, 5, 1),
            settlors=(service.Settlor("示例公司", 5_000_000),),
            trustee_org_id=org.id,
        ),
        today=date(2026, 1, 5),
    )
    db.session.commit()
    body = client.get(f"/api/v1/trusts/{trust.id}").get_json()
    assert body["filing_number"] == "示例-001" and body["trustee_org_id"] == org.id
    assert body["settlors"] == [
        {"name": "示例公司", "amount_fen": 5_000_000, "organization_id": None}
    ]
    assert client.get("/api/v1/trusts?province=浙江省").get_json()["items"] == []
    assert "CharitableTrust" in client.get("/api/v1/openapi.json").get_data(as_text=True)
    feed = client.get("/compliance/feed.json").get_json()["items"]
    assert any(item["type"] == "trust_filed" and item["trust"]["id"] == trust.id for item in feed)
    assert "示例环保慈善信托" in client.get("/compliance/feed.atom").get_data(as_text=True)
    login(client, UserFactory(platform_role="regulator", regulator_province="广东省"))
    page = client.get("/regulator/").get_data(as_text=True)
    assert "/trusts" in page and "¥50,000.00" in page
