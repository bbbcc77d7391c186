"""Disbursements: four eyes, permissions, never overdrawing, ledger and log on every step."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from charity.extensions import db
from charity.models import LedgerTransaction
from charity.services import disbursements as svc
from charity.services.ledger import check_books
from charity.services.pools import Pool, available_fen, pool_balance
from tests.support.factories import CampaignFactory
from tests.support.funds import day, gift


def _request(people, fund, evidence, amount_fen=6000, actor=None):  # type: ignore[no-untyped-def]
    command = svc.DisbursementRequest(
        pool=Pool("fund", fund.id),
        amount_fen=amount_fen,
        purpose_category="medical_supplies",
        purpose="社区卫生站医疗物资",
        beneficiary_kind="organization",
        beneficiary_name="北京街道社区卫生服务中心",
        evidence=evidence,
    )
    return svc.request_disbursement(db.session, actor or people.finance, command)


def test_request_approve_execute_moves_money_once(people, fund, evidence, recorded_events):
    gift(fund, 10000, day(1))
    d = _request(people, fund, evidence)
    pool = Pool("fund", fund.id)
    assert available_fen(db.session, pool) == 10000
    svc.approve_disbursement(db.session, people.committee[0], d.id)
    assert (pool_balance(db.session, pool), available_fen(db.session, pool)) == (10000, 4000)
    svc.execute_disbursement(db.session, people.finance2, d.id, "BANK-20260302-001")
    assert (pool_balance(db.session, pool), available_fen(db.session, pool)) == (4000, 4000)
    kinds = db.session.scalars(sa.select(LedgerTransaction.kind).order_by(LedgerTransaction.id))
    assert list(kinds) == ["donation", "disbursement"]
    types = [e.type for e in recorded_events if e.type.startswith("disbursement.")]
    assert types == ["disbursement.requested", "disbursement.approved", "disbursement.executed"]
    steps = [e for e in recorded_events if e.type.startswith("disbursement.")]
    assert all(e.data["beneficiary"] == "北京街道社区卫生服务中心" for e in steps)
    problems, _notes = check_books(db.session)
    assert [p for p in problems if "log entries" not in p] == []
    with pytest.raises(svc.DisbursementError):
        svc.execute_disbursement(db.session, people.finance2, d.id, "again")


def test_requester_can_never_approve_their_own(people, fund, evidence):
    gift(fund, 10000, day(1))
    d = _request(people, fund, evidence, actor=people.finance)
    with pytest.raises(svc.DisbursementError, match="your own"):
        svc.approve_disbursement(db.session, people.finance, d.id)
    with pytest.raises(svc.DisbursementError, match="your own"):
        svc.reject_disbursement(db.session, people.finance, d.id, "no")
    assert d.status == "requested"


def test_committee_member_request_needs_another_approver(people, fund, evidence):
    gift(fund, 10000, day(1))
    d = _request(people, fund, evidence, actor=people.committee[1])
    with pytest.raises(svc.DisbursementError):
        svc.approve_disbursement(db.session, people.committee[1], d.id)
    svc.approve_disbursement(db.session, people.committee[2], d.id)
    assert d.approved_by_id == people.committee[2].id


def test_outsiders_cannot_request_approve_or_execute(people, fund, evidence):
    gift(fund, 10000, day(1))
    outsiders = (people.donor, people.regulator, people.other_editor)
    for actor in outsiders:
        with pytest.raises(PermissionError):
            _request(people, fund, evidence, actor=actor)
    d = _request(people, fund, evidence)
    for actor in outsiders:
        with pytest.raises(PermissionError):
            svc.approve_disbursement(db.session, actor, d.id)
    svc.approve_disbursement(db.session, people.finance2, d.id)
    for actor in (*outsiders, people.committee[0]):
        with pytest.raises(PermissionError):
            svc.execute_disbursement(db.session, actor, d.id, "REF")


def test_campaign_disbursement_approved_by_other_finance_member(people, evidence):
    campaign = CampaignFactory(organization=people.host)
    gift(campaign, 5000, day(1))
    command = svc.DisbursementRequest(
        pool=Pool("campaign", campaign.id),
        amount_fen=5000,
        purpose_category="food",
        purpose="营养午餐食材",
        beneficiary_kind="individual",
        beneficiary_name="张某某（私密）",
        evidence=evidence,
    )
    d = svc.request_disbursement(db.session, people.finance, command)
    with pytest.raises(PermissionError):  # committee members have no say over campaigns
        svc.approve_disbursement(db.session, people.committee[0], d.id)
    svc.approve_disbursement(db.session, people.owner, d.id)
    svc.execute_disbursement(db.session, people.finance, d.id, "REF-1")
    assert d.public_beneficiary == f"受助人A-{d.id:04d}"
    assert pool_balance(db.session, Pool("campaign", campaign.id)) == 0


def test_cannot_request_or_approve_beyond_available(people, fund, evidence):
    gift(fund, 10000, day(1))
    with pytest.raises(svc.DisbursementError) as caught:
        _request(people, fund, evidence, amount_fen=10001)
    assert caught.value.field == "amount"
    first = _request(people, fund, evidence, amount_fen=7000)
    second = _request(people, fund, evidence, amount_fen=7000)
    svc.approve_disbursement(db.session, people.finance2, first.id)
    with pytest.raises(svc.DisbursementError, match="more than the money"):
        svc.approve_disbursement(db.session, people.finance2, second.id)
    assert second.status == "requested"


def test_reject_needs_a_reason_and_is_final(people, fund, evidence, recorded_events):
    gift(fund, 10000, day(1))
    d = _request(people, fund, evidence)
    with pytest.raises(svc.DisbursementError) as caught:
        svc.reject_disbursement(db.session, people.finance2, d.id, "  ")
    assert caught.value.field == "reason"
    svc.reject_disbursement(db.session, people.finance2, d.id, "凭证不完整")
    assert d.status == "rejected" and d.rejection_reason == "凭证不完整"
    with pytest.raises(svc.DisbursementError):
        svc.approve_disbursement(db.session, people.committee[0], d.id)
    assert "disbursement.rejected" in [e.type for e in recorded_events]


def test_individuals_never_named_in_the_log(people, fund, evidence, recorded_events):
    gift(fund, 10000, day(1))
    command = svc.DisbursementRequest(
        pool=Pool("fund", fund.id),
        amount_fen=3000,
        purpose_category="elderly_care",
        purpose="独居长者助餐",
        beneficiary_kind="individual",
        beneficiary_name="刘婆婆",
        evidence=evidence,
    )
    d = svc.request_disbursement(db.session, people.finance, command)
    (event,) = [e for e in recorded_events if e.type == "disbursement.requested"]
    assert "刘婆婆" not in repr(event.data)
    assert event.data["beneficiary"] == f"受助人A-{d.id:04d}"


def test_ledger_check_command_covers_disbursements_and_allocation(app, people, fund, evidence):
    from charity.services.disbursements import check_disbursements

    gift(fund, 10000, day(1))
    d = _request(people, fund, evidence)
    svc.approve_disbursement(db.session, people.committee[0], d.id)
    svc.execute_disbursement(db.session, people.finance2, d.id, "REF")
    db.session.commit()
    assert check_disbursements(db.session) == []
    result = app.test_cli_runner().invoke(args=["ledger", "check"])
    assert result.exit_code == 0, result.output
    d.amount_fen = 5000  # a hand edit the books no longer match
    db.session.commit()
    assert check_disbursements(db.session) == [
        f"disbursement {d.id} (executed) has ledger postings [6000]"
    ]
    result = app.test_cli_runner().invoke(args=["ledger", "check"])
    assert result.exit_code == 1 and f"disbursement {d.id}" in result.output
