"""FIFO allocation of spending to gifts, against hand-computed numbers.

The worked example (also in docs/allocation.md), amounts in yuan:
  gifts:    A ¥100 (Mar 1), B ¥50 (Mar 2 09:00), C ¥30 (Mar 3)
  spending: S1 ¥60 (Mar 2 15:00), S2 ¥70 (Mar 4)
  FIFO:     S1 <- A 60;  S2 <- A 40 + B 30
  unspent:  A 0, B 20, C 30   (sum 50 = 180 - 130, the fund's balance)
Then B is refunded ¥40 (after ¥30 of it was spent): B's net is ¥10, so S2 <- A 40 + B 10
+ C 20; unspent A 0, B 0, C 10 (sum 10 = 180 - 40 - 130).
"""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa

from charity.extensions import db
from charity.models import SpendingAllocation
from charity.services import allocation, donations
from charity.services import disbursements as svc
from charity.services.pools import Pool, pool_balance, refund_refusal
from tests.support.funds import day, gift


def at(d: int, h: int = 12) -> datetime:
    return datetime(2026, 3, d, h, tzinfo=UTC)


def _example(b_refunded: int = 0):  # type: ignore[no-untyped-def]
    sources = [
        allocation.Source("donation:3", at(3), 3000),
        allocation.Source("donation:1", at(1), 10000),
        allocation.Source("donation:2", at(2, 9), 5000, refunded_fen=b_refunded),
    ]
    uses = [
        allocation.Use("disbursement:8", at(4), 7000),
        allocation.Use("disbursement:7", at(2, 15), 6000),
    ]
    return allocation.allocate(sources, uses)


def test_hand_computed_example():
    result = _example()
    assert result.allocations == [
        allocation.Allocated("donation:1", "disbursement:7", 6000),
        allocation.Allocated("donation:1", "disbursement:8", 4000),
        allocation.Allocated("donation:2", "disbursement:8", 3000),
    ]
    assert result.unspent == {"donation:1": 0, "donation:2": 2000, "donation:3": 3000}
    assert result.uncovered == {}


def test_refund_after_partial_spending_moves_spending_on():
    result = _example(b_refunded=4000)
    assert result.allocations == [
        allocation.Allocated("donation:1", "disbursement:7", 6000),
        allocation.Allocated("donation:1", "disbursement:8", 4000),
        allocation.Allocated("donation:2", "disbursement:8", 1000),
        allocation.Allocated("donation:3", "disbursement:8", 2000),
    ]
    assert result.unspent == {"donation:1": 0, "donation:2": 0, "donation:3": 1000}


def test_ties_broken_by_id_and_overdraw_reported():
    same = at(1)
    result = allocation.allocate(
        [allocation.Source("donation:9", same, 100), allocation.Source("donation:2", same, 100)],
        [allocation.Use("disbursement:1", same, 250)],
    )
    assert [a.source_key for a in result.allocations] == ["donation:2", "donation:9"]
    assert result.uncovered == {"disbursement:1": 50}


def _spend(people, fund, evidence, amount_fen, when):  # type: ignore[no-untyped-def]
    command = svc.DisbursementRequest(
        pool=Pool("fund", fund.id),
        amount_fen=amount_fen,
        purpose_category="medical_supplies",
        purpose="医疗物资",
        beneficiary_kind="organization",
        beneficiary_name="社区卫生站",
        evidence=evidence,
    )
    d = svc.request_disbursement(db.session, people.finance, command)
    svc.approve_disbursement(db.session, people.finance2, d.id)
    svc.execute_disbursement(db.session, people.owner, d.id, f"REF-{amount_fen}")
    d.executed_at = when  # the example's times; the allocation reads them from here
    db.session.flush()
    return d


def test_example_through_the_database_and_refund(people, fund, evidence):
    a = gift(fund, 10000, day(1))
    b = gift(fund, 5000, day(2, 9))
    s1 = _spend(people, fund, evidence, 6000, day(2, 15))
    c = gift(fund, 3000, day(3))
    s2 = _spend(people, fund, evidence, 7000, day(4))
    pool = Pool("fund", fund.id)
    allocation.store_allocation(db.session, pool)

    trace = allocation.gift_trace(db.session, a)
    assert [(line.amount_fen, line.disbursement) for line in trace.lines] == [
        (6000, s1),
        (4000, s2),
    ]
    assert allocation.gift_trace(db.session, b).unspent_fen == 2000
    assert allocation.gift_trace(db.session, c).unspent_fen == 3000
    assert allocation.check_allocations(db.session) == []

    # Refunding more of C than the fund holds unspent is refused...
    assert refund_refusal(db.session, c, 3000) is None
    assert refund_refusal(db.session, c, 5001) is not None
    # ...and a refund of B after part of it was spent moves S2 on to C.
    donations.record_provider_refund(db.session, b.id, "stripe", "re_test_b", 4000)
    assert pool_balance(db.session, pool) == 1000
    assert [line.amount_fen for line in allocation.gift_trace(db.session, b).lines] == [1000]
    trace_c = allocation.gift_trace(db.session, c)
    assert (trace_c.spent_fen, trace_c.unspent_fen) == (2000, 1000)
    assert allocation.check_allocations(db.session) == []


def test_check_finds_a_stored_allocation_that_differs(people, fund, evidence):
    gift(fund, 10000, day(1))
    _spend(people, fund, evidence, 6000, day(2))
    row = db.session.scalars(sa.select(SpendingAllocation)).one()
    row.amount_fen = 5000
    db.session.flush()
    assert allocation.check_allocations(db.session) == [
        f"fund {fund.id}: stored allocation differs from the ledger"
    ]
