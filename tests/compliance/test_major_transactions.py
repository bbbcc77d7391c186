"""Recording major asset changes, investments and related-party transactions: who may, what
is refused (and then nothing changes), the 30-day obligation it starts and its status once
the disclosure is published, corrections as new records, and the public log entry that
`flask audit verify` rebuilds from the row."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
import sqlalchemy as sa
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from charity.compliance.obligations.refresh import refresh_obligations
from charity.compliance.rules.dates import period_end
from charity.compliance.rules.deadlines import status_of
from charity.extensions import db
from charity.models import AuditEntry, MajorTransaction
from charity.models.disclosure import ComplianceTrigger, ImmutableRecordError, Obligation
from charity.services import disclosures
from charity.services import major_transactions as service
from tests.support.compliance import cst_noon, make_org, member
from tests.support.factories import UserFactory

REGISTERED = date(2025, 1, 10)
TODAY = date(2025, 6, 1)
ON = date(2025, 5, 20)


def command(org, **changes) -> service.RecordMajorTransaction:  # type: ignore[no-untyped-def]
    values = {
        "organization_id": org.id,
        "kind": "related_party",
        "occurred_on": ON,
        "amount_fen": 4_800_000,
        "counterparty": "广州越秀文化传播有限公司",
        "relationship": "理事长担任董事的企业",
        "description": "租用活动场地一年，租金按市场价八折计算。",
    }
    return service.RecordMajorTransaction(**{**values, **changes})


def record(session, actor, org, **changes) -> MajorTransaction:  # type: ignore[no-untyped-def]
    return service.record_major_transaction(session, actor, command(org, **changes), TODAY)


def rows(org) -> list[Obligation]:  # type: ignore[no-untyped-def]
    return (
        db.session.query(Obligation)
        .filter_by(organization_id=org.id, rule_code="major_transactions")
        .all()
    )


def counts() -> dict[str, int]:
    tables = (MajorTransaction, ComplianceTrigger, Obligation, AuditEntry)
    db.session.expire_all()
    return {t.__name__: db.session.scalar(select(func.count()).select_from(t)) for t in tables}


@pytest.fixture
def org(db_session):  # type: ignore[no-untyped-def]
    organization = make_org(registered=REGISTERED)
    refresh_obligations(db_session, [organization.id])  # its registration and annual reports
    return organization


@pytest.fixture
def finance(org):  # type: ignore[no-untyped-def]
    return member(org, "finance")


# --- recording starts the obligation --------------------------------------------------


def test_recording_starts_the_obligation_due_30_days_later_and_logs_it(
    db_session, org, finance, recorded_events
):  # type: ignore[no-untyped-def]
    before = counts()
    tx = record(db_session, finance, org)
    assert (tx.kind, tx.occurred_on, tx.amount_fen, tx.currency) == (
        "related_party",
        ON,
        4_800_000,
        "CNY",
    )
    assert (tx.counterparty, tx.relationship, tx.recorded_by_id) == (
        "广州越秀文化传播有限公司",
        "理事长担任董事的企业",
        finance.id,
    )
    trigger = db_session.get(ComplianceTrigger, tx.trigger_id)
    assert (trigger.kind, trigger.occurred_on) == ("major_transaction", ON)
    [ob] = rows(org)
    assert ob.key == f"major_transactions:{org.id}:org:major_transaction-{trigger.id}"
    assert (ob.disclosure_type, ob.triggered_on, ob.due_date) == (
        "major_transactions",
        ON,
        date(2025, 6, 19),
    )
    assert status_of(ob.due_date, ob.fulfilled_on, TODAY) == "upcoming"
    assert status_of(ob.due_date, ob.fulfilled_on, date(2025, 6, 10)) == "due_soon"
    assert status_of(ob.due_date, ob.fulfilled_on, date(2025, 6, 20)) == "overdue"
    [event] = [e for e in recorded_events if e.type == "organization.major_transaction_recorded"]
    assert event.subject_table == "major_transactions" and event.subject_id == tx.id
    assert event.data == {
        "major_transaction_id": tx.id,
        "organization_id": org.id,
        "org_uscc": org.uscc,
        "kind": "related_party",
        "occurred_on": "2025-05-20",
        "amount_fen": 4_800_000,
        "currency": "CNY",
    }
    after = counts()
    assert {k: after[k] - before[k] for k in after} == {
        "MajorTransaction": 1,
        "ComplianceTrigger": 1,
        "Obligation": 1,
        "AuditEntry": 1,
    }
    assert service.due_date(db_session, tx) == date(2025, 6, 19)


@pytest.mark.parametrize(
    ("published_on", "status"), [(date(2025, 6, 19), "on_time"), (date(2025, 6, 20), "late")]
)
def test_publishing_the_disclosure_fulfils_the_obligation(
    app, db_session, org, finance, published_on, status
):  # type: ignore[no-untyped-def]
    tx = record(db_session, finance, org)
    period = service.period_key(tx.trigger_id)
    draft = disclosures.draft_fields(db_session, "major_transactions", None, period, "org", org.id)
    assert draft == {
        "transaction_date": ON,
        "counterparty": "广州越秀文化传播有限公司（理事长担任董事的企业）",
        "amount_fen": 4_800_000,
        "related_party": True,
        "description": "租用活动场地一年，租金按市场价八折计算。",
    }
    fields = {**draft, "transaction_date": ON.isoformat()}
    publish = disclosures.PublishDisclosure(
        org.id, "major_transactions", "org", period, "关联交易公告", "", fields
    )
    disclosures.publish_disclosure(
        db_session, finance, publish, app.config["UPLOAD_DIR"], now=cst_noon(published_on)
    )
    [ob] = rows(org)
    assert ob.fulfilled_on == published_on and ob.disclosure_id is not None
    assert status_of(ob.due_date, ob.fulfilled_on, date(2025, 7, 1)) == status
    [listed] = service.transactions_for_org(db_session, org.id, date(2025, 7, 1))
    assert (listed.status, listed.obligation.id, listed.corrected_by) == (status, ob.id, None)


def test_each_transaction_has_its_own_obligation_and_the_list_is_newest_first(
    db_session, org, finance
):  # type: ignore[no-untyped-def]
    older = record(db_session, finance, org, occurred_on=date(2025, 2, 1), kind="investment",
                   relationship="")  # fmt: skip
    newer = record(db_session, finance, org, occurred_on=date(2025, 5, 1), kind="asset_change",
                   relationship="", amount_fen=0)  # fmt: skip
    # 2025-05-31 is a Saturday before the Dragon Boat holiday: due June 3 (CC art. 203).
    assert sorted(ob.due_date for ob in rows(org)) == [date(2025, 3, 3), date(2025, 6, 3)]
    listed = service.transactions_for_org(db_session, org.id, TODAY)
    assert [item.record.id for item in listed] == [newer.id, older.id]
    # On June 1st the newer one is still due (its period ends June 3).
    assert [item.status for item in listed] == ["due_soon", "overdue"]


@pytest.mark.parametrize("role", ["owner", "finance"])
def test_owners_and_finance_staff_record(db_session, org, role):  # type: ignore[no-untyped-def]
    assert record(db_session, member(org, role), org).id


def _refused_for(db_session, actor, org, **changes):  # type: ignore[no-untyped-def]
    before = counts()
    with pytest.raises(service.NotAllowedError):
        record(db_session, actor, org, **changes)
    assert counts() == before


def test_editors_outsiders_admins_and_regulators_may_not_record(db_session, org):  # type: ignore[no-untyped-def]
    other = make_org(registered=REGISTERED)
    for actor in (
        member(org, "editor"),
        member(other, "owner"),
        member(other, "finance"),
        UserFactory(),
        UserFactory(platform_role="admin"),
        UserFactory(platform_role="regulator"),
    ):
        _refused_for(db_session, actor, org)


def test_a_member_whose_membership_ended_may_not_record(db_session, org):  # type: ignore[no-untyped-def]
    from charity.models import Membership, utcnow

    finance = member(org, "finance")
    membership = db_session.scalar(select(Membership).where(Membership.user_id == finance.id))
    membership.ended_at = utcnow()
    db_session.flush()
    _refused_for(db_session, finance, org)


def test_an_organization_not_yet_verified_records_nothing(db_session):  # type: ignore[no-untyped-def]
    pending = make_org(registered=REGISTERED, status="pending")
    _refused_for(db_session, member(pending, "owner"), pending)


# --- bad input: a field error, nothing changes ------------------------------------------

BAD = [
    ("unknown kind", {"kind": "donation"}, "kind"),
    ("empty kind", {"kind": ""}, "kind"),
    ("tomorrow", {"occurred_on": TODAY + timedelta(days=1)}, "occurred_on"),
    ("before registration", {"occurred_on": REGISTERED - timedelta(days=1)}, "occurred_on"),
    ("negative amount", {"amount_fen": -1}, "amount"),
    ("absurd amount", {"amount_fen": service.DEFAULT_MAX_AMOUNT_FEN + 1}, "amount"),
    ("amount not a number", {"amount_fen": "100"}, "amount"),
    ("amount a boolean", {"amount_fen": True}, "amount"),
    ("empty counterparty", {"counterparty": "   "}, "counterparty"),
    ("long counterparty", {"counterparty": "公" * 201}, "counterparty"),
    ("empty description", {"description": ""}, "description"),
    ("long description", {"description": "述" * 2001}, "description"),
    ("control character", {"description": "租用\x00场地"}, "description"),
    ("no relationship", {"relationship": " "}, "relationship"),
    ("long relationship", {"relationship": "关" * 201}, "relationship"),
    ("relationship of an investment", {"kind": "investment"}, "relationship"),
    ("ID number", {"counterparty": "张某 44010619900307123X"}, "counterparty"),
    ("mobile number", {"description": "联系人电话 138 1234 5678"}, "description"),
    ("landline", {"relationship": "理事长亲属，电话 020-87654321"}, "relationship"),
    ("correction without a note", {"corrects_id": "FIRST"}, "correction_note"),
    ("correction of nothing", {"corrects_id": 999_999, "correction_note": "改日期"}, "corrects_id"),
]


@pytest.mark.parametrize(("changes", "field"), [b[1:] for b in BAD], ids=[b[0] for b in BAD])
def test_bad_input_is_a_field_error_and_changes_nothing(
    db_session, org, finance, recorded_events, changes, field
):  # type: ignore[no-untyped-def]
    first = record(db_session, finance, org)
    if changes.get("corrects_id") == "FIRST":
        changes = {**changes, "corrects_id": first.id}
    before, seen = counts(), len(recorded_events)
    with pytest.raises(service.MajorTransactionError) as refused:
        record(db_session, finance, org, **changes)
    assert refused.value.field == field
    assert not isinstance(refused.value, service.NotAllowedError)
    assert counts() == before and len(recorded_events) == seen
    assert db_session.get(ComplianceTrigger, first.trigger_id).occurred_on == ON


def test_the_amount_cap_comes_from_the_command(db_session, org, finance):  # type: ignore[no-untyped-def]
    with pytest.raises(service.MajorTransactionError) as refused:
        record(db_session, finance, org, amount_fen=100_01, max_amount_fen=100_00)
    assert refused.value.params == {"max": "¥100.00"}
    assert record(db_session, finance, org, amount_fen=100_00, max_amount_fen=100_00).id


def test_boundaries_are_accepted(db_session, org, finance):  # type: ignore[no-untyped-def]
    for changes in (
        {"occurred_on": REGISTERED},
        {"occurred_on": TODAY},
        {"amount_fen": 0},
        {"amount_fen": service.DEFAULT_MAX_AMOUNT_FEN},
        {"counterparty": "公" * 200, "description": "述" * 2000, "relationship": "关" * 200},
        # a company's USCC and a plain amount are not personal data
        {
            "counterparty": "广州某某有限公司（91440101MA59ABCD1X）",
            "description": "投资 5000000 元",
        },
    ):
        assert record(db_session, finance, org, **changes).id


def test_texts_are_stored_trimmed(db_session, org, finance):  # type: ignore[no-untyped-def]
    tx = record(db_session, finance, org, counterparty="  某公司 ", description="\n说明 ")
    assert (tx.counterparty, tx.description) == ("某公司", "说明")


# --- corrections: new records, never an edit -------------------------------------------


def test_a_correction_is_a_new_record_and_the_deadline_follows_the_corrected_date(
    db_session, org, finance, recorded_events
):  # type: ignore[no-untyped-def]
    first = record(db_session, finance, org)
    fixed = record(db_session, finance, org, occurred_on=date(2025, 5, 25), amount_fen=5_000_000,
                   corrects_id=first.id, correction_note="合同日期与金额录入有误")  # fmt: skip
    db_session.expire_all()
    assert (first.occurred_on, first.amount_fen, first.corrects_id) == (ON, 4_800_000, None)
    assert (fixed.corrects_id, fixed.correction_note, fixed.trigger_id) == (
        first.id,
        "合同日期与金额录入有误",
        first.trigger_id,
    )
    [ob] = rows(org)
    assert (ob.triggered_on, ob.due_date) == (date(2025, 5, 25), date(2025, 6, 24))
    listed = service.transactions_for_org(db_session, org.id, TODAY)
    assert [(i.record.id, i.corrected_by) for i in listed] == [
        (fixed.id, None),
        (first.id, fixed.id),
    ]
    event = recorded_events[-1]
    assert event.data["corrects_major_transaction_id"] == first.id
    assert event.data["amount_fen"] == 5_000_000
    draft = service.disclosure_draft(db_session, org.id, service.period_key(first.trigger_id))
    assert draft["amount_fen"] == 5_000_000


def test_only_the_newest_record_of_a_chain_may_be_corrected(db_session, org, finance):  # type: ignore[no-untyped-def]
    first = record(db_session, finance, org)
    record(db_session, finance, org, corrects_id=first.id, correction_note="更正金额")
    before = counts()
    with pytest.raises(service.MajorTransactionError) as refused:
        record(db_session, finance, org, corrects_id=first.id, correction_note="再次更正")
    assert refused.value.field == "corrects_id" and counts() == before


def test_another_organizations_record_cannot_be_corrected(db_session, org, finance):  # type: ignore[no-untyped-def]
    other = make_org(registered=REGISTERED)
    theirs = record(db_session, member(other, "finance"), other)
    with pytest.raises(service.MajorTransactionError) as refused:
        record(db_session, finance, org, corrects_id=theirs.id, correction_note="不是我们的")
    assert refused.value.field == "corrects_id"


def test_records_refuse_update_and_delete(db_session, org, finance):  # type: ignore[no-untyped-def]
    tx = record(db_session, finance, org)
    with pytest.raises(ImmutableRecordError), db_session.begin_nested():
        tx.amount_fen = 1
    db_session.expire_all()
    with pytest.raises(ImmutableRecordError), db_session.begin_nested():
        db_session.delete(tx)


@pytest.mark.parametrize(
    "changes",
    [
        {"amount_fen": -1},
        {"currency": "USD"},
        {"kind": "gift"},
        {"relationship": ""},
        {"kind": "investment"},
        {"corrects_id": "SELF"},
    ],
    ids=["negative", "currency", "kind", "no-relationship", "relationship-of-investment", "note"],
)
def test_the_database_holds_the_invariants_too(db_session, org, finance, changes):  # type: ignore[no-untyped-def]
    tx = record(db_session, finance, org)
    values = {
        c.name: getattr(tx, c.name) for c in MajorTransaction.__table__.columns if c.name != "id"
    }
    if changes.get("corrects_id") == "SELF":
        changes = {"corrects_id": tx.id, "correction_note": ""}
    with pytest.raises(IntegrityError), db_session.begin_nested():
        db_session.execute(sa.insert(MajorTransaction.__table__).values(**{**values, **changes}))


# --- the public log --------------------------------------------------------------------


def test_audit_verify_rebuilds_the_entry_and_finds_an_edited_amount(app, db_session, org, finance):  # type: ignore[no-untyped-def]
    tx = record(db_session, finance, org)
    fixed = record(db_session, finance, org, corrects_id=tx.id, correction_note="更正说明")
    db_session.commit()
    index = db_session.scalar(
        select(AuditEntry.index).where(
            AuditEntry.event_type == "organization.major_transaction_recorded",
            AuditEntry.subject_id == tx.id,
        )
    )
    assert index is not None and fixed.id
    result = app.test_cli_runner().invoke(args=["audit", "verify"])
    assert result.exit_code == 0, result.stderr
    assert "OK: the audit log verifies" in result.stdout
    db_session.execute(
        sa.text("UPDATE major_transactions SET amount_fen = 1 WHERE id = :id"), {"id": tx.id}
    )
    db_session.commit()
    result = app.test_cli_runner().invoke(args=["audit", "verify"])
    assert result.exit_code != 0
    assert (
        f"MISMATCH entry {index}: amount_fen: the log has 4800000, "
        f"major_transactions row {tx.id} gives 1"
    ) in result.stderr


def test_the_log_entry_holds_no_text(db_session, org, finance):  # type: ignore[no-untyped-def]
    record(db_session, finance, org)
    payload = db_session.scalar(
        select(AuditEntry.payload).where(
            AuditEntry.event_type == "organization.major_transaction_recorded"
        )
    )
    assert "广州越秀文化传播有限公司" not in payload and "理事长" not in payload
    assert '"type":"organization.major_transaction_recorded"' in payload


# --- demo data -------------------------------------------------------------------------


def test_the_demo_records_one_related_party_transaction_once(db_session, recorded_events):  # type: ignore[no-untyped-def]
    from charity.demo import load_users
    from charity.demo.compliance import load_major_transaction_demo
    from charity.demo.orgs import load_organizations

    load_users()
    load_organizations()
    first, second = load_major_transaction_demo(), load_major_transaction_demo()
    assert len(first) == 1 and second == []
    [tx] = db_session.scalars(select(MajorTransaction)).all()
    assert tx.kind == "related_party" and tx.relationship == "理事长担任董事的企业"
    assert tx.organization.name == "广州市越秀区慈善会"
    assert tx.recorded_by.email == "yuexiu-finance@demo.charity"
    [ob] = rows(tx.organization)
    due = period_end(tx.occurred_on + timedelta(days=30))
    assert ob.due_date == due and ob.fulfilled_on is None
    types = [e.type for e in recorded_events]
    assert types.count("organization.major_transaction_recorded") == 1
