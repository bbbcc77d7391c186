"""The regulator's dashboard: access, scoping, constant query count, exports."""

from __future__ import annotations

import csv
import io
from datetime import date

import pytest
from openpyxl import load_workbook
from sqlalchemy import event

from charity.extensions import db
from charity.services import disclosures as service
from charity.web.exports import safe_cell
from tests.support.compliance import cst_noon, login, make_campaign, make_org, member, populate
from tests.support.factories import GiftFactory, UserFactory

INJECTION = '=HYPERLINK("http://evil.example","click")'


@pytest.fixture
def regulator(db_session):  # type: ignore[no-untyped-def]
    return UserFactory(platform_role="regulator")


def test_only_regulators_and_admins_see_the_dashboard(client, regulator):
    assert client.get("/regulator/").status_code in (302, 401)
    login(client, UserFactory())
    assert client.get("/regulator/").status_code == 403
    login(client, UserFactory(platform_role="admin"))
    assert client.get("/regulator/").status_code == 200
    login(client, regulator)
    page = client.get("/regulator/")
    assert page.status_code == 200 and "<svg" in page.get_data(as_text=True)


def _count_queries(client) -> int:  # type: ignore[no-untyped-def]
    statements: list[str] = []

    def count(conn, cursor, statement, *args):  # type: ignore[no-untyped-def]
        statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", count)
    try:
        assert client.get("/regulator/").status_code == 200
    finally:
        event.remove(db.engine, "before_cursor_execute", count)
    return len([s for s in statements if not s.startswith(("SAVEPOINT", "RELEASE"))])


def test_query_count_does_not_grow_with_organizations(client, regulator):
    populate(5)
    login(client, regulator)
    # A first request loads the user's memberships (the page header): warm up once so
    # that both counts are of the same, steady-state request.
    _count_queries(client)
    at_five = _count_queries(client)
    populate(45)
    at_fifty = _count_queries(client)
    assert at_five == at_fifty
    # 15 + complaints, suspensions, 慈善中国 and published project reports (one query each)
    assert at_five <= 19


def test_a_scoped_regulator_sees_only_their_province(client, db_session):
    populate(1, province="广东省", name="粤慈善会")
    other = populate(1, province="浙江省", name="浙慈善会")[0]
    regulator = UserFactory(platform_role="regulator", regulator_province="广东省")
    login(client, regulator)
    page = client.get("/regulator/?province=浙江省").get_data(as_text=True)
    assert "粤慈善会" in page and "浙慈善会" not in page
    assert client.get(f"/regulator/orgs/{other.id}").status_code == 404


def test_timeline_lists_deadlines_and_publications(client, regulator):
    org = populate(1)[0]
    login(client, regulator)
    page = client.get(f"/regulator/orgs/{org.id}").get_data(as_text=True)
    assert "2024-02-09" in page  # registration + 30 days
    assert "基本信息" in page


def test_mismatches_and_ratio_failures_are_listed(client, regulator):
    org = make_org()
    owner = member(org, "owner")
    campaign = make_campaign(org, date(2025, 1, 1), date(2025, 3, 31))
    db.session.add(
        GiftFactory(
            campaign=campaign,
            amount_fen=50_000,
            status="succeeded",
            succeeded_at=cst_noon(date(2025, 2, 1)),
        )
    )
    figures = {
        "raised_fen": 70_000,
        "refunded_fen": 0,
        "gift_count": 1,
        "in_kind_fen": 0,
        "spent_fen": 0,
        "balance_fen": 0,
        "implementation": "x",
    }
    service.publish_disclosure(
        db.session,
        owner,
        service.PublishDisclosure(
            org.id, "campaign_result", f"campaign:{campaign.id}", "result", "结果", "", figures
        ),
        "/nonexistent",
    )
    login(client, regulator)
    rows = list(
        csv.reader(
            io.StringIO(
                client.get("/regulator/export/mismatches.csv")
                .get_data(as_text=True)
                .lstrip("\ufeff")
            )
        )
    )
    # For people: headings in words and amounts in yuan (issue 17.2) ...
    assert rows[0][-3:] == [
        "Published figure (yuan)",
        "Platform records (yuan)",
        "Difference (yuan)",
    ]
    assert rows[1][-4:] == ["Raised (net of refunds)", "700.00", "500.00", "200.00"]
    # ... for programs: the machine-readable export keeps the codes and fen, labelled so.
    machine = client.get("/regulator/export/mismatches.machine.csv")
    assert "mismatches-machine-" in machine.headers["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(machine.get_data(as_text=True).lstrip("\ufeff"))))
    assert rows[0][-3:] == ["reported_fen", "platform_fen", "difference_fen"]
    assert rows[1][-4:] == ["raised_fen", "70000", "50000", "20000"]


def test_exports_defuse_formula_injection(client, regulator):
    populate(1, name=INJECTION)
    login(client, regulator)
    response = client.get("/regulator/export/overdue.csv")
    assert response.headers["Content-Disposition"].startswith("attachment")
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))
    names = [row[1] for row in rows[1:]]
    assert names and all(name == "'" + INJECTION for name in names)

    workbook = load_workbook(io.BytesIO(client.get("/regulator/export/overdue.xlsx").data))
    sheet = workbook.active
    cell = sheet.cell(row=2, column=2)
    assert cell.value == "'" + INJECTION and cell.data_type == "s"
    assert sheet.cell(row=2, column=1).data_type == "n"  # numbers stay numbers


@pytest.mark.parametrize("payload", ["=1+1", "+1", "-1", "@SUM(A1)", "\tx", "\rx"])
def test_safe_cell_prefixes_dangerous_text(payload):
    assert safe_cell(payload) == "'" + payload
    assert safe_cell(-5) == -5
    assert safe_cell("普通文本") == "普通文本"


def test_api_summary_is_json(client, regulator):
    populate(2)
    login(client, regulator)
    data = client.get("/regulator/api/summary").get_json()
    assert set(data["tables"]) >= {"overdue", "by_region", "mismatches", "ratio_failures"}


def test_dashboard_rates_agree_with_status_of(db_session):
    from charity.compliance.readmodels.dashboard import compliance_rates
    from charity.compliance.rules.deadlines import status_of
    from charity.models.disclosure import Obligation

    populate(6)
    for day in (date(2024, 2, 1), date(2024, 2, 9), date(2024, 2, 10), date(2026, 3, 1)):
        expected: dict[str, int] = {}
        for ob in db.session.query(Obligation):
            state = status_of(ob.due_date, ob.fulfilled_on, day)
            expected[state] = expected.get(state, 0) + 1
        counts = compliance_rates(db.session, day, None)["overall"].counts
        assert {k: v for k, v in counts.items() if v} == expected
