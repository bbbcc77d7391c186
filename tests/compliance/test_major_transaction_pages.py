"""The major-transaction pages: the members' list with each transaction's obligation and a
link to publish its disclosure, the form for owners and finance staff (bad input: the form
again with a message, never a 500, nothing stored), corrections, and the links to them."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from charity.core.clock import today_cst
from charity.extensions import db
from charity.models import AuditEntry, MajorTransaction
from charity.models.disclosure import ComplianceTrigger, Obligation
from charity.services import major_transactions as service
from tests.support.compliance import login, make_org, member

TODAY = today_cst()
REGISTERED = TODAY - timedelta(days=60)


def form(**changes) -> dict[str, str]:  # type: ignore[no-untyped-def]
    values = {
        "kind": "related_party",
        "occurred_on": (TODAY - timedelta(days=3)).isoformat(),
        "amount": "48,000.00",
        "counterparty": "广州越秀文化传播有限公司",
        "relationship": "理事长担任董事的企业",
        "description": "租用活动场地一年，租金按市场价八折计算。",
    }
    return {**values, **changes}


def stored() -> tuple[int, ...]:
    db.session.expire_all()
    tables = (MajorTransaction, ComplianceTrigger, Obligation, AuditEntry)
    return tuple(db.session.scalar(select(func.count()).select_from(t)) for t in tables)


@pytest.fixture
def org(db_session):  # type: ignore[no-untyped-def]
    return make_org(registered=REGISTERED)


@pytest.fixture
def finance(org):  # type: ignore[no-untyped-def]
    return member(org, "finance")


def _record(client, org, **changes):  # type: ignore[no-untyped-def]
    return client.post(f"/orgs/{org.id}/transactions/new", data=form(**changes))


def test_finance_records_a_transaction_and_sees_its_obligation(client, org, finance):  # type: ignore[no-untyped-def]
    login(client, finance)
    page = client.get(f"/orgs/{org.id}/transactions/new")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "Never enter personal data such as ID card numbers or phone numbers" in text
    assert 'name="amount"' in text and 'name="correction_note"' not in text
    response = _record(client, org)
    assert response.status_code == 303, response.get_data(as_text=True)
    [tx] = db.session.scalars(select(MajorTransaction)).all()
    assert response.headers["Location"].endswith(f"/orgs/{org.id}/transactions#tx-{tx.id}")
    assert (tx.amount_fen, tx.recorded_by_id) == (4_800_000, finance.id)
    due = (TODAY + timedelta(days=27)).isoformat()
    listing = client.get(response.headers["Location"]).get_data(as_text=True)
    assert f"Publish its disclosure by {due}." in listing
    assert "广州越秀文化传播有限公司" in listing and "¥48,000.00" in listing
    assert "Upcoming" in listing and due in listing
    assert f"period=major_transaction-{tx.trigger_id}" in listing
    assert "type=major_transactions" in listing


def test_publishing_from_the_list_prefills_the_disclosure_and_fulfils_the_obligation(
    client, org, finance
):  # type: ignore[no-untyped-def]
    login(client, finance)
    _record(client, org)
    [tx] = db.session.scalars(select(MajorTransaction)).all()
    period = service.period_key(tx.trigger_id)
    url = f"/orgs/{org.id}/disclosures/new?type=major_transactions&subject=org&period={period}"
    prefilled = client.get(url).get_data(as_text=True)
    assert "广州越秀文化传播有限公司（理事长担任董事的企业）" in prefilled
    assert 'value="48000.00"' in prefilled
    published = client.post(
        url,
        data={
            "title": "关联交易公告",
            "transaction_date": tx.occurred_on.isoformat(),
            "counterparty": "广州越秀文化传播有限公司（理事长担任董事的企业）",
            "amount_fen": "48000",
            "related_party": "y",
            "description": tx.description,
        },
    )
    assert published.status_code == 302, published.get_data(as_text=True)
    listing = client.get(f"/orgs/{org.id}/transactions").get_data(as_text=True)
    assert "Published on time" in listing
    assert f"Published on {TODAY.isoformat()}" in listing
    assert "Publish the disclosure" not in listing


BAD_INPUT = [
    ("future date", {"occurred_on": (TODAY + timedelta(days=1)).isoformat()},
     "The date cannot be in the future."),
    ("before registration", {"occurred_on": (REGISTERED - timedelta(days=1)).isoformat()},
     "The date cannot be before the organization was registered here"),
    ("not a date", {"occurred_on": "2025-02-30"}, "Not a valid date value."),
    ("negative amount", {"amount": "-5"}, "Enter an amount in yuan, zero or more"),
    ("text amount", {"amount": "abc"}, "Enter an amount in yuan, zero or more"),
    ("three decimals", {"amount": "1.234"}, "Enter an amount in yuan, zero or more"),
    ("absurd amount", {"amount": "999999999999"}, "The amount is more than ¥10,000,000,000.00"),
    ("unknown kind", {"kind": "donation"}, "Choose the kind of transaction."),
    ("no kind", {"kind": ""}, "Choose the kind of transaction."),
    ("no counterparty", {"counterparty": " "}, "This field is required."),
    ("long counterparty", {"counterparty": "公" * 201}, "Field cannot be longer than 200"),
    ("no relationship", {"relationship": ""}, "Say how the counterparty is related"),
    ("relationship of an investment", {"kind": "investment"},
     "Only a related-party transaction has a relationship"),
    ("ID number", {"counterparty": "张某 44010619900307123X"},
     "do not enter personal data such as ID or phone numbers"),
    ("phone number", {"description": "联系电话 13812345678"},
     "do not enter personal data such as ID or phone numbers"),
    ("NUL byte", {"description": "租用\x00场地"}, "Contains characters that are not allowed."),
]  # fmt: skip


@pytest.mark.parametrize(
    ("changes", "message"), [b[1:] for b in BAD_INPUT], ids=[b[0] for b in BAD_INPUT]
)
def test_bad_input_shows_the_form_again_with_a_message(client, org, finance, changes, message):  # type: ignore[no-untyped-def]
    login(client, finance)
    before = stored()
    response = _record(client, org, **changes)
    assert response.status_code == 422
    text = response.get_data(as_text=True)
    assert message in text
    assert "Please correct the fields marked below." in text
    assert stored() == before


def test_the_cap_is_configurable(app, client, org, finance):  # type: ignore[no-untyped-def]
    login(client, finance)
    app.config["MAJOR_TRANSACTION_MAX_FEN"] = 1_000_00
    try:
        refused = _record(client, org, amount="1000.01")
        accepted = _record(client, org, amount="1000")
    finally:
        app.config["MAJOR_TRANSACTION_MAX_FEN"] = service.DEFAULT_MAX_AMOUNT_FEN
    assert refused.status_code == 422
    assert "The amount is more than ¥1,000.00: please check it." in refused.get_data(as_text=True)
    assert accepted.status_code == 303


def test_zero_is_an_amount(client, org, finance):  # type: ignore[no-untyped-def]
    login(client, finance)
    response = _record(client, org, amount="0", kind="asset_change", relationship="")
    assert response.status_code == 303
    assert db.session.scalar(select(MajorTransaction.amount_fen)) == 0


def test_a_correction_through_the_form(client, org, finance):  # type: ignore[no-untyped-def]
    login(client, finance)
    _record(client, org)
    [first] = db.session.scalars(select(MajorTransaction)).all()
    url = f"/orgs/{org.id}/transactions/new?corrects={first.id}"
    page = client.get(url).get_data(as_text=True)
    assert f"Correct record {first.id}" in page
    assert 'value="48000.00"' in page and "广州越秀文化传播有限公司" in page
    assert 'name="correction_note"' in page
    before = stored()
    no_note = client.post(url, data=form(amount="50000"))
    assert no_note.status_code == 422
    assert "Say what was corrected and why." in no_note.get_data(as_text=True)
    assert stored() == before
    fixed = client.post(url, data=form(amount="50000", correction_note="合同金额录入有误"))
    assert fixed.status_code == 303
    listing = client.get(f"/orgs/{org.id}/transactions").get_data(as_text=True)
    newest = db.session.scalar(select(func.max(MajorTransaction.id)))
    assert f"Corrected by record {newest}" in listing
    assert f"Corrects record {first.id}:" in listing and "合同金额录入有误" in listing
    again = client.post(url, data=form(correction_note="再改一次"))
    assert again.status_code == 422
    assert "already been corrected" in again.get_data(as_text=True)


@pytest.mark.parametrize("ref", ["abc", "999999999", "1" * 20, "OTHER"])
def test_correcting_a_record_that_is_not_ours_is_not_found(client, org, finance, ref):  # type: ignore[no-untyped-def]
    if ref == "OTHER":
        other = make_org(registered=REGISTERED)
        command = service.RecordMajorTransaction(
            other.id, "investment", TODAY, 100, "某公司", "投资", max_amount_fen=10**12
        )
        ref = str(service.record_major_transaction(db.session, member(other, "owner"), command).id)
    login(client, finance)
    assert client.get(f"/orgs/{org.id}/transactions/new?corrects={ref}").status_code == 404
    assert (
        client.post(f"/orgs/{org.id}/transactions/new?corrects={ref}", data=form()).status_code
        == 404
    )


@pytest.mark.parametrize(
    ("role", "records"), [("owner", True), ("finance", True), ("editor", False)]
)
def test_members_see_the_list_and_owners_and_finance_record(client, org, role, records):  # type: ignore[no-untyped-def]
    login(client, member(org, role))
    page = client.get(f"/orgs/{org.id}/transactions")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "No major transactions recorded yet." in text
    assert ("Record a transaction" in text) is records
    assert client.get(f"/orgs/{org.id}/transactions/new").status_code == (200 if records else 403)
    before = stored()
    assert _record(client, org).status_code == (303 if records else 403)
    assert (stored() == before) is not records


def test_outsiders_are_refused(client, org):  # type: ignore[no-untyped-def]
    other = make_org(registered=REGISTERED)
    assert client.get(f"/orgs/{org.id}/transactions").status_code == 302  # to the login page
    login(client, member(other, "owner"))
    assert client.get(f"/orgs/{org.id}/transactions").status_code == 403
    assert _record(client, org).status_code == 403
    pending = make_org(registered=REGISTERED, status="pending")
    login(client, member(pending, "owner"))
    assert client.get(f"/orgs/{pending.id}/transactions").status_code == 404


def test_members_find_the_page_where_obligations_are_shown(client, org, finance):  # type: ignore[no-untyped-def]
    link = f'href="/orgs/{org.id}/transactions"'
    assert link not in client.get(f"/orgs/{org.id}/obligations").get_data(as_text=True)
    assert link not in client.get(f"/orgs/{org.id}").get_data(as_text=True)
    login(client, finance)
    for path in (f"/orgs/{org.id}/manage", f"/orgs/{org.id}/obligations", f"/orgs/{org.id}"):
        assert link in client.get(path).get_data(as_text=True), path


@pytest.mark.chinese
def test_the_pages_are_in_chinese_by_default(client, org, finance):  # type: ignore[no-untyped-def]
    login(client, finance)
    page = client.get(f"/orgs/{org.id}/transactions/new").get_data(as_text=True)
    assert "<h1>登记重大交易</h1>" in page
    assert "重大资产变动" in page and "对外投资" in page and "关联交易" in page
    assert "请勿填写身份证号、电话号码等个人信息" in page
    refused = _record(client, org, occurred_on=(TODAY + timedelta(days=1)).isoformat())
    assert refused.status_code == 422
    assert "日期不能晚于今天。" in refused.get_data(as_text=True)
    _record(client, org)
    listing = client.get(f"/orgs/{org.id}/transactions").get_data(as_text=True)
    assert "<h1>重大交易</h1>" in listing
    assert "发布信息公开" in listing and "即将开始" in listing
