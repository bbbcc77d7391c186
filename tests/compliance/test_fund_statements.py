"""Fund annual statements: derived from fund creation and closing, refreshed by the fund
events, pre-filled from the fund's ledger statement, fulfilled by publishing."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlalchemy import event

from charity.compliance.obligations.refresh import refresh_obligations
from charity.compliance.rules.deadlines import FundFacts, OrgFacts, derive
from charity.core.clock import CST
from charity.extensions import db
from charity.models.disclosure import Obligation
from charity.services import disclosures as service
from charity.services import fund_statements, funds
from tests.support.compliance import login, make_org, statuses
from tests.support.factories import FundFactory
from tests.support.funds import gift, new_fund_command, seats

STATEMENT = {
    "fund_name": "基金",
    "opening_fen": 0,
    "income_fen": 100_00,
    "spent_fen": 0,
    "balance_fen": 100_00,
}


def _keys(funds_: list[FundFacts], today: date) -> dict[str, date]:
    found = derive([OrgFacts(1, date(2024, 1, 10))], [], [], {}, {}, today, funds_)
    return {d.key: d.due_date for d in found if d.rule_code == "fund_annual_statement"}


def test_an_active_fund_owes_a_statement_for_every_finished_year():
    keys = _keys([FundFacts(7, 1, date(2025, 3, 1))], date(2027, 1, 2))
    assert keys == {
        "fund_annual_statement:1:fund:7:2025": date(2026, 5, 31),
        "fund_annual_statement:1:fund:7:2026": date(2027, 5, 31),
    }
    assert _keys([FundFacts(7, 1, date(2026, 3, 1))], date(2026, 12, 31)) == {}


def test_a_closed_fund_owes_statements_up_to_its_closing_year():
    closed = FundFacts(7, 1, date(2024, 3, 1), closed_on=date(2025, 8, 1))
    assert set(_keys([closed], date(2028, 1, 1))) == {
        "fund_annual_statement:1:fund:7:2024",
        "fund_annual_statement:1:fund:7:2025",
    }


@pytest.fixture
def fund(people):  # type: ignore[no-untyped-def]
    return funds.create_fund(
        db.session, people.owner, new_fund_command(people.host, seats(people.committee))
    )


def test_creating_a_fund_refreshes_its_host_obligations(people):  # type: ignore[no-untyped-def]
    assert db.session.query(Obligation).filter_by(organization_id=people.host.id).count() == 0
    funds.create_fund(
        db.session, people.owner, new_fund_command(people.host, seats(people.committee))
    )
    assert db.session.query(Obligation).filter_by(organization_id=people.host.id).count() > 0


def test_closing_a_fund_refreshes_its_statement_obligations(people, fund):  # type: ignore[no-untyped-def]
    fund.created_at = datetime(2024, 6, 1, 4, tzinfo=UTC)
    db.session.flush()
    key = f"fund_annual_statement:{people.host.id}:fund:{fund.id}:2024"
    assert db.session.query(Obligation).filter_by(key=key).count() == 0
    funds.close_fund(db.session, people.owner, fund.id, "基金使命已完成")
    assert db.session.query(Obligation).filter_by(key=key).one().due_date == date(2025, 5, 31)


def test_publishing_the_statement_fulfils_it(app, people, fund):  # type: ignore[no-untyped-def]
    fund.created_at = datetime(2025, 6, 1, 4, tzinfo=UTC)
    db.session.flush()
    key = f"fund_annual_statement:fund:{fund.id}:2025"
    assert statuses(db.session, people.host.id, date(2026, 5, 20))[key] == "due_soon"
    command = service.PublishDisclosure(
        people.host.id,
        "fund_annual_statement",
        f"fund:{fund.id}",
        "2025",
        "2025年度基金收支报告",
        "",
        {**STATEMENT, "fund_name": fund.name},
    )
    service.publish_disclosure(
        db.session, people.finance, command, app.config["UPLOAD_DIR"], now=datetime.now(UTC)
    )
    assert statuses(db.session, people.host.id, date(2026, 6, 20))[key] in ("on_time", "late")
    ob = db.session.query(Obligation).filter_by(subject_key=f"fund:{fund.id}").one()
    assert ob.disclosure_id is not None


@pytest.mark.parametrize("subject", ["org", "fund:999999", "fund:x"])
def test_a_fund_statement_must_name_a_fund_of_the_host(app, people, fund, subject):  # type: ignore[no-untyped-def]
    command = service.PublishDisclosure(
        people.host.id, "fund_annual_statement", subject, "2025", "报告", "", STATEMENT
    )
    with pytest.raises(service.DisclosureError):
        service.publish_disclosure(db.session, people.finance, command, app.config["UPLOAD_DIR"])


def test_the_draft_carries_the_fund_page_statement_figures(client, people, fund):  # type: ignore[no-untyped-def]
    gift(fund, 300_00, datetime(2026, 3, 1, 12, tzinfo=UTC))
    gift(fund, 123_45, datetime(2026, 3, 2, 12, tzinfo=UTC))
    year = fund_statements.fund_movements(db.session, fund.id)[0].at.astimezone(CST).year
    expected = fund_statements.build_statement(db.session, fund, year)
    draft = service.draft_fields(
        db.session, "fund_annual_statement", None, str(year), f"fund:{fund.id}", people.host.id
    )
    assert draft == {
        "fund_name": fund.name,
        "opening_fen": expected.opening_fen,
        "income_fen": expected.inflow_fen,
        "spent_fen": expected.outflow_fen,
        "balance_fen": expected.closing_fen,
    }
    assert (draft["opening_fen"], draft["income_fen"], draft["balance_fen"]) == (0, 423_45, 423_45)
    login(client, people.finance)
    page = client.get(
        f"/orgs/{people.host.id}/disclosures/new?type=fund_annual_statement"
        f"&subject=fund:{fund.id}&period={year}"
    )
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert html.count('value="423.45"') == 2  # income and closing balance
    # Another organization's fund is never pre-filled.
    assert (
        service.draft_fields(
            db.session,
            "fund_annual_statement",
            None,
            str(year),
            f"fund:{fund.id}",
            people.host.id + 1,
        )
        == {}
    )


def test_refreshing_many_organizations_includes_their_funds(people, fund):  # type: ignore[no-untyped-def]
    fund.created_at = datetime(2024, 6, 1, 4, tzinfo=UTC)
    db.session.flush()
    refresh_obligations(db.session, None, date(2026, 1, 2))
    periods = {
        ob.period_key
        for ob in db.session.query(Obligation).filter_by(subject_key=f"fund:{fund.id}")
    }
    assert periods == {"2024", "2025"}


def _refresh_queries(today: date) -> int:
    statements: list[str] = []

    def count(conn, cursor, statement, *args):  # type: ignore[no-untyped-def]
        statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", count)
    try:
        refresh_obligations(db.session, None, today)
    finally:
        event.remove(db.engine, "before_cursor_execute", count)
    return len([s for s in statements if not s.startswith(("SAVEPOINT", "RELEASE"))])


def _hosts_with_funds(count: int) -> None:
    for _ in range(count):
        host = make_org(registered=date(2024, 1, 10))
        FundFactory(organization=host, created_at=datetime(2024, 6, 1, 4, tzinfo=UTC))
        FundFactory(organization=host, created_at=datetime(2025, 6, 1, 4, tzinfo=UTC))
    db.session.flush()


def test_the_refresh_query_count_does_not_grow_with_funds(db_session):  # type: ignore[no-untyped-def]
    _hosts_with_funds(2)
    first = _refresh_queries(date(2026, 2, 1))
    _hosts_with_funds(8)
    db.session.query(Obligation).delete()
    assert _refresh_queries(date(2026, 2, 1)) == first
    assert db.session.query(Obligation).filter(Obligation.subject_key.like("fund:%")).count() == 30


def test_order81_fund_statement_is_reconciled_with_the_fund_ledger(client, people, fund):  # type: ignore[no-untyped-def]
    """Issue 16 point 5 (MCA Order 81, CL art. 78): a published fund statement is compared
    with the fund's ledger statement for its year like campaign figures; a difference is
    flagged on the disclosure page and in the regulator's mismatch list."""
    from charity.compliance.readmodels.dashboard import build_tables
    from tests.support.factories import UserFactory

    fund.created_at = datetime(2026, 1, 5, 4, tzinfo=UTC)
    gift(fund, 300_00, datetime(2026, 3, 1, 12, tzinfo=UTC))
    year = fund_statements.fund_movements(db.session, fund.id)[0].at.astimezone(CST).year
    draft = service.draft_fields(
        db.session, "fund_annual_statement", None, str(year), f"fund:{fund.id}", people.host.id
    )
    honest = service.publish_disclosure(
        db.session,
        people.finance,
        service.PublishDisclosure(
            people.host.id,
            "fund_annual_statement",
            f"fund:{fund.id}",
            str(year),
            "收支报告",
            "",
            draft,
        ),
        client.application.config["UPLOAD_DIR"],
    )
    assert service.compare_figures(db.session, honest) == []
    headers, rows = build_tables(db.session, date(year + 1, 1, 2), None, None)["mismatches"]
    assert [row for row in rows if row[0] == honest.disclosure_id] == []
    # A correction that understates the income by ¥100 is flagged, figure by figure.
    wrong = {**draft, "income_fen": draft["income_fen"] - 100_00}
    corrected = service.correct_disclosure(
        db.session,
        people.finance,
        service.CorrectDisclosure(honest.disclosure_id, "收支报告", "", wrong, "更正"),
        client.application.config["UPLOAD_DIR"],
    )
    [diff] = service.compare_figures(db.session, corrected)
    assert (diff.name, diff.difference_fen) == ("income_fen", -100_00)
    headers, rows = build_tables(db.session, date(year + 1, 1, 2), None, None)["mismatches"]
    [row] = [dict(zip(headers, row, strict=True)) for row in rows if row[0] == honest.disclosure_id]
    assert (row["subject"], row["figure"], row["difference_fen"]) == (
        fund.name,
        "income_fen",
        -100_00,
    )
    login(client, UserFactory(platform_role="regulator"))
    page = client.get(f"/disclosures/{honest.disclosure_id}").get_data(as_text=True)
    assert 'class="card mismatch"' in page
