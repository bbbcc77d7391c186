"""Hostile input through every form (Hypothesis): bad amounts, very long strings, NUL bytes,
RTL marks, emoji, SQL and HTML. Never a 500; what must be refused gets a 4xx and stores
nothing; the rest may be accepted (a name with an emoji is a name)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from charity.core.clock import today_cst
from charity.extensions import db
from tests.security import authz_table as table
from tests.security.world import World, seed
from tests.support.factories import make_uscc, session_id

# --- hostile values, each tagged with whether a form may accept it ------------------------

MUST_REFUSE = "refuse"
MAY_ACCEPT = "may accept"

PAYLOADS = [
    "'; DROP TABLE users; --",
    "1' OR '1'='1",
    "<script>alert(1)</script>",
    '"><img src=x onerror=alert(1)>',
    "\u202egnp.exe",  # right-to-left override
    "\u200f\u200e\u2067مرحبا\u2069",  # RTL/LTR marks and isolates
    "😀🎉👨‍👩‍👧‍👦",
    "{{7*7}}{% raw %}",
    '=HYPERLINK("http://evil")',
]
TEXT = st.one_of(
    st.tuples(st.sampled_from(PAYLOADS), st.just(MAY_ACCEPT)),
    st.tuples(st.integers(20_001, 100_000).map(lambda n: "长" * n), st.just(MUST_REFUSE)),
    st.tuples(
        st.tuples(st.text(max_size=20), st.text(max_size=20)).map(lambda p: f"{p[0]}\x00{p[1]}"),
        st.just(MUST_REFUSE),
    ),
    st.tuples(st.text(max_size=50), st.just(MAY_ACCEPT)),
)
#: Fullwidth digits are how Chinese input methods type numbers: charity.core.money reads them
#: (NFKC) as the same amount, so "１００" is ¥100, not an error. Fullwidth *hostile* amounts
#: (negative, too many decimals) are in the list below and must be refused.
AMOUNTS = st.tuples(
    st.one_of(
        st.integers(max_value=0).map(str),  # negative and zero
        st.sampled_from(["0", "0.00", "-0.01", "0.001", "1.234", "1.", ".5.5", "1e3", "NaN",
                         "inf", "-inf", "１２.３４５", "－１", "٣", "abc", "1,2,3.4.5", "¥-5",
                         "0x10", "1_000", "9" * 30, "99999999999999999.99", "--1", "+-1"]),
        st.decimals(min_value=0, max_value=10_000, places=3).map(str)
        .filter(lambda s: not s.endswith("0")),  # three significant decimals
        st.integers(min_value=10**15, max_value=10**40).map(str),  # huge
    ),
    st.just(MUST_REFUSE),
)  # fmt: skip
DATES = st.tuples(
    st.sampled_from(["2025-02-30", "0000-01-01", "99999-01-01", "yesterday", "２０２５-０１-０１",
                     "2025-13-01", "-1", "1e9"]),
    st.just(MUST_REFUSE),
)  # fmt: skip
#: Amounts where zero is a valid answer (a report's "fundraising costs: 0").
AMOUNTS_OR_ZERO = AMOUNTS.filter(lambda pair: pair[0].lstrip("-+") not in ("0", "0.00"))
KINDS = {"text": TEXT, "amount": AMOUNTS, "amount0": AMOUNTS_OR_ZERO, "date": DATES}

# --- every form: where it posts, who posts it, a valid baseline, the fields to attack ---


@dataclass(frozen=True)
class FormSpec:
    name: str
    path: str  # formatted with the world's names
    role: str
    fields: dict[str, str]
    baseline: dict[str, Any] = field(default_factory=dict)


def _plan(today: date) -> dict[str, Any]:
    return {
        "title": "乡村学校图书角", "summary": "为乡村小学建设图书角。", "cause": "education",
        "purpose_md": "让孩子读书。", "filing_number": "53440100MJL0000001A26999",
        "filing_date": (today - timedelta(days=2)).isoformat(),
        "start_date": (today + timedelta(days=8)).isoformat(),
        "end_date": (today + timedelta(days=100)).isoformat(),
        "region": "广东省梅州市", "person_in_charge": "周五", "acceptance_methods": "在线",
        "receiving_account": "中国银行 6217", "beneficiaries": "学生", "use_of_funds": "购书",
        "fundraising_cost": "2%", "leftover_plan": "转入同类项目", "expected_amount": "500,000",
        "partner_uscc": "",
    }  # fmt: skip


APPLICATION = {
    "name": "广州市海珠区邻里互助会", "uscc": make_uscc("1", 4242),
    "registration_authority": "广州市海珠区民政局", "registered_on": "2020-05-18",
    "province": "广东省", "city": "广州市",
    "district": "海珠区", "address": "江南大道 1 号", "contact_name": "林小姐",
    "contact_phone": "020-84440000", "contact_email": "contact@example.org",
    "website": "https://example.org", "description_md": "我们组织**邻里互助**。",
    "qualification_number": "", "qualification_authority": "", "qualification_date": "",
}  # fmt: skip
NEW_PASSWORD = "a perfectly fine password"
#: The rest of a complete annual work report (CL art. 13, Order 81; A is qualified).
WORK_REPORT = {
    "fundraising": "网上募捐", "gifts_received_fen": "100", "gift_count": "1",
    "in_kind_fen": "0", "property_use": "按方案使用", "spent_fen": "50", "projects": "助学",
    "project_count": "1", "fundraising_costs_fen": "0", "staff_pay_fen": "0",
    "cooperation": "无", "top_pay": "秘书长 12 万元", "expense_standards": "按机构财务制度",
}  # fmt: skip
FEN0 = ("total_income_fen", "last_year_income_fen", "charitable_spending_fen",
        "management_costs_fen", "fundraising_costs_fen", "total_spending_fen", "net_assets_fen",
        "prior_net_assets_fen")  # fmt: skip

FORMS = [
    FormSpec("signup", "/account/signup", table.ANONYMOUS,
             {"name": "text", "email": "text", "password": "text"},
             {"name": "新用户", "email": "fresh@example.org", "password": NEW_PASSWORD,
              "confirm": NEW_PASSWORD}),
    FormSpec("login", "/account/login", table.ANONYMOUS, {"email": "text"},
             {"email": "nobody@example.org", "password": "x"}),
    FormSpec("reset_request", "/account/reset", table.ANONYMOUS, {"email": "text"},
             {"email": "nobody@example.org"}),
    FormSpec("change_password", "/account/password", table.DONOR,
             {"new_password": "text", "current_password": "text"},
             {"current_password": "wrong", "new_password": NEW_PASSWORD,
              "confirm": NEW_PASSWORD}),
    FormSpec("apply", "/orgs/apply", table.DONOR,
             {k: "text" for k in APPLICATION if k not in ("province", "qualification_date")}
             | {"qualification_date": "date"}, APPLICATION),
    FormSpec("invite", "/orgs/{org_a}/members/invite", table.OWNER_A,
             {"email": "text", "role": "text"}, {"email": "new@example.org", "role": "editor"}),
    FormSpec("change_role", "/orgs/{org_a}/members/{editor_membership}/role", table.OWNER_A,
             {"role": "text"}, {"role": "finance"}),
    FormSpec("review", "/admin/organizations/{org_pending}", table.ADMIN,
             {"decision": "text", "reason": "text"}, {"decision": "reject", "reason": "不完整"}),
    FormSpec("campaign_new", "/orgs/{org_a}/campaigns/new", table.OWNER_A,
             {k: "text" for k in _plan(today_cst()) if k not in ("cause",)}
             | {"expected_amount": "amount", "start_date": "date", "end_date": "date",
                "filing_date": "date"}, {}),
    FormSpec("campaign_edit", "/campaigns/{draft_a}/edit", table.OWNER_A,
             {"title": "text", "summary": "text", "expected_amount": "amount",
              "start_date": "date"}, {}),
    FormSpec("donate", "/campaigns/{campaign_a}/donate", table.ANONYMOUS,
             {"custom_amount": "amount", "donor_name": "text", "donor_email": "text",
              "message": "text"},
             {"amount": "custom", "custom_amount": "88", "donor_name": "王小明",
              "donor_email": "donor@example.org", "receipt_wanted": "y"}),
    FormSpec("refund", "/orgs/{org_a}/donations/{gift}/refund", table.OWNER_A,
             {"amount": "amount", "reason": "text"}, {"amount": "10", "reason": "捐赠人要求"}),
    FormSpec("disclosure_new",
             "/orgs/{org_a}/disclosures/new?type=annual_financial_report&subject=org&period=2025",
             table.OWNER_A, {"title": "text", "body_md": "text"} | {f: "amount0" for f in FEN0},
             {"title": "2025 年度财务报告", "body_md": "见附件"} | {f: "100" for f in FEN0}),
    FormSpec("disclosure_correct", "/disclosures/{plain_disclosure}/correct", table.OWNER_A,
             {"title": "text", "correction_note": "text", "activities": "text"},
             {"title": "报告 v3", "correction_note": "更正错字", "activities": "助学"}
             | WORK_REPORT),
    FormSpec("fund_transfer", "/funds/{fund_a}/transfer", table.OWNER_A,
             {"amount": "amount", "reason": "text"},
             {"direction": "to_fund", "amount": "10", "reason": "主账户拨入"}),
    FormSpec("fund_donate", "/funds/{fund_a}/donate", table.ANONYMOUS,
             {"custom_amount": "amount", "donor_name": "text", "message": "text"},
             {"amount": "custom", "custom_amount": "88", "donor_name": "王小明",
              "donor_email": "donor@example.org", "receipt_wanted": "y"}),
    FormSpec("fund_new", "/funds/new/{org_a}", table.OWNER_A,
             {"name": "text", "purpose_md": "text", "restriction": "text",
              "service_area": "text", "committee": "text"},
             {"name": "测试慈善基金会社区慈善基金", "purpose_md": "长者关爱",
              "restriction": "仅用于长者", "service_area": "北京街道",
              "committee": "陈,chair\n李,member\n王,member\n赵,member\n周,supervisor"}),
    FormSpec("campaign_update", "/campaigns/{campaign_a}/updates", table.OWNER_A,
             {"title": "text", "body_md": "text"}, {"title": "进展", "body_md": "第一批"}),
    FormSpec("major_transaction", "/orgs/{org_a}/transactions/new", table.FINANCE_A,
             {"kind": "text", "occurred_on": "date", "amount": "amount0", "counterparty": "text",
              "relationship": "text", "description": "text"},
             {"kind": "related_party", "occurred_on": today_cst().isoformat(), "amount": "48000",
              "counterparty": "广州越秀文化传播有限公司", "relationship": "理事长担任董事的企业",
              "description": "租用活动场地一年"}),
]  # fmt: skip
SEARCHES = [
    ("/orgs/", ["q", "province", "type", "qualified", "page"]),
    ("/campaigns/", ["q", "province", "cause", "status", "sort", "page"]),
]


def _counts() -> dict[str, int]:
    db.session.expire_all()
    return {
        t.name: db.session.scalar(select(func.count()).select_from(t))
        for t in db.metadata.sorted_tables
    }


def _client(app, world: World, role: str):  # type: ignore[no-untyped-def]
    client = app.test_client()
    if role != table.ANONYMOUS:
        with client.session_transaction() as session:
            session["_user_id"] = session_id(world.users[role])
            session["_fresh"] = True
    return client


def _field_and_value(spec: FormSpec):  # type: ignore[no-untyped-def]
    return st.sampled_from(sorted(spec.fields)).flatmap(
        lambda name: st.tuples(st.just(name), KINDS[spec.fields[name]])
    )


SETTINGS = settings(
    max_examples=25,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@pytest.mark.parametrize("spec", FORMS, ids=[f.name for f in FORMS])
def test_hostile_values_in_every_form_field(app, stripe_app, db_session, spec):
    world = seed(app)
    # Views roll back on errors; the harness's session is the views' session, so commit the
    # world (to the test's outer transaction, rolled back after the test) to keep it.
    db.session.commit()
    baseline = spec.baseline or {**_plan(today_cst()), "filing_number": "53440100MJL0000001A26998"}
    path = spec.path.format(**world.names)

    @given(attack=_field_and_value(spec))
    @SETTINGS
    def attack_form(attack) -> None:  # type: ignore[no-untyped-def]
        name, (value, verdict) = attack
        client = _client(app, world, spec.role)  # a login (its server-side session) first
        db.session.commit()  # kept like the world, whatever the view rolls back
        before = _counts()
        response = client.post(path, data={**baseline, name: value})
        assert response.status_code < 500, f"{name}={value!r:.80}: {response.status}"
        assert "Traceback" not in response.get_data(as_text=True)
        if verdict == MUST_REFUSE:
            assert 400 <= response.status_code < 500, f"{name}={value!r:.80} was accepted"
        if 400 <= response.status_code < 500:
            after = _counts()
            changed = {t for t in after if after[t] != before[t]} - {"login_attempts"}
            assert not changed, f"{name}={value!r:.80} refused, yet stored rows in {changed}"

    attack_form()


@pytest.mark.parametrize(("path", "params"), SEARCHES)
@given(values=st.lists(st.sampled_from(PAYLOADS) | st.text(max_size=300), min_size=6))
@SETTINGS
def test_hostile_search_parameters(client, db_session, path, params, values):
    query = dict(zip(params, values, strict=False))
    response = client.get(path, query_string=query)
    assert response.status_code < 500
    assert "<script>alert(1)</script>" not in response.get_data(as_text=True)


def test_correcting_a_disclosure_that_has_attachments(app, client, db_session):
    world = seed(app)
    db.session.commit()
    with client.session_transaction() as session:
        session["_user_id"] = session_id(world.users[table.OWNER_A])
    response = client.post(
        f"/disclosures/{world.names['disclosure_a']}/correct",
        data={"title": "报告 v3", "correction_note": "更正错字", "activities": "助学"}
        | WORK_REPORT,
    )
    assert response.status_code == 302
