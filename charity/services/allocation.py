"""Where did my gift go: FIFO allocation of a pool's spending to its sources.

The rule (docs/allocation.md has it in full, with a worked example):
- A pool is a campaign or a community fund. Its *sources* are gifts (ordered by
  ``succeeded_at``, then donation id) and transfers in from the host (ordered by their
  ledger time, then id); its *uses* are executed disbursements (``executed_at``, then id)
  and transfers out to the host (ledger time, then id).
- A source counts with its NET amount: what was given minus everything refunded so far.
  A refund therefore removes the refunded part of the gift from the pool as if it had
  never been given, also after part of the gift was spent: spending that was allocated to
  it moves on, by the same FIFO rule, to the next sources.
- Uses take, in order, from the oldest source that still has money. A use that no source
  can cover is reported as uncovered (the pool was overdrawn; ``flask ledger check`` fails).

``allocate`` is a pure function; ``pool_movements`` reads the inputs from the ledger;
``store_allocation`` writes what pages show; ``check_allocations`` recomputes and compares.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session

from charity.models import (
    Disbursement,
    Donation,
    LedgerAccount,
    LedgerEntry,
    LedgerTransaction,
    MatchRelease,
    SpendingAllocation,
)
from charity.services.pools import Pool


@dataclass(frozen=True)
class Source:
    key: str
    at: datetime
    amount_fen: int
    refunded_fen: int = 0
    donation_id: int | None = None

    @property
    def net_fen(self) -> int:
        return self.amount_fen - self.refunded_fen


@dataclass(frozen=True)
class Use:
    key: str
    at: datetime
    amount_fen: int
    disbursement_id: int | None = None


@dataclass(frozen=True)
class Allocated:
    source_key: str
    use_key: str
    amount_fen: int


@dataclass
class AllocationResult:
    allocations: list[Allocated] = field(default_factory=list)
    #: source key -> net amount not yet spent
    unspent: dict[str, int] = field(default_factory=dict)
    #: use key -> amount no source covers
    uncovered: dict[str, int] = field(default_factory=dict)


def _order(key: str, at: datetime) -> tuple[datetime, str, int]:
    kind, _, number = key.partition(":")
    return (at, kind, int(number))


def allocate(sources: list[Source], uses: list[Use]) -> AllocationResult:
    """FIFO: each use, in order, takes from the oldest sources that still hold money."""
    ordered = sorted(sources, key=lambda s: _order(s.key, s.at))
    result = AllocationResult(unspent={s.key: s.net_fen for s in ordered})
    queue = [s.key for s in ordered if s.net_fen > 0]
    head = 0
    for use in sorted(uses, key=lambda u: _order(u.key, u.at)):
        need = use.amount_fen
        while need > 0 and head < len(queue):
            key = queue[head]
            take = min(need, result.unspent[key])
            result.allocations.append(Allocated(key, use.key, take))
            result.unspent[key] -= take
            need -= take
            if result.unspent[key] == 0:
                head += 1
        if need > 0:
            result.uncovered[use.key] = need
    return result


def _pool_entries(session: Session, pool: Pool) -> list[sa.Row]:
    return session.execute(
        sa.select(
            LedgerTransaction.kind,
            LedgerTransaction.source_key,
            LedgerTransaction.donation_id,
            LedgerTransaction.created_at,
            LedgerEntry.amount_fen,
        )
        .join(LedgerEntry, LedgerEntry.transaction_id == LedgerTransaction.id)
        .join(LedgerAccount, LedgerEntry.account_id == LedgerAccount.id)
        .where(pool.account_column == pool.id)
    ).all()


def pool_movements(session: Session, pool: Pool) -> tuple[list[Source], list[Use]]:
    """The allocation's inputs, read from the pool's ledger entries (and the times of the
    gifts and disbursements they belong to)."""
    gifts: dict[int, int] = defaultdict(int)
    refunds: dict[int, int] = defaultdict(int)
    sources: list[Source] = []
    spent: dict[int, int] = {}
    uses: list[Use] = []
    matched: dict[int, tuple[datetime, int]] = {}  # match id -> (time, amount)
    released: dict[int, int] = defaultdict(int)
    for kind, key, donation_id, created_at, amount in _pool_entries(session, pool):
        if kind == "match":
            matched[int(key.split(":")[1])] = (created_at, -amount)
        elif kind == "match_release":
            released[int(key.split(":")[1])] += amount
        elif kind == "donation":
            gifts[donation_id] += -amount
        elif kind == "refund":
            refunds[donation_id] += amount
        elif kind == "disbursement":
            spent[int(key.split(":")[1])] = amount
        elif kind == "transfer" and amount < 0:
            sources.append(Source(key, created_at, -amount))
        elif kind == "transfer":
            uses.append(Use(key, created_at, amount))
    times = dict(
        session.execute(
            sa.select(Donation.id, Donation.succeeded_at).where(Donation.id.in_(list(gifts)))
        ).all()
    )
    sources += [
        Source(f"donation:{d}", times[d], amount, refunds[d], d) for d, amount in gifts.items()
    ]
    if released:  # release keys name the release; the match is what the source is
        owner = dict(
            session.execute(
                sa.select(MatchRelease.id, MatchRelease.match_id).where(
                    MatchRelease.id.in_(list(released))
                )
            ).all()
        )
        per_match: dict[int, int] = defaultdict(int)
        for release_id, amount in released.items():
            per_match[owner[release_id]] += amount
        released = per_match
    sources += [
        Source(f"match:{m}", at, amount, released.get(m, 0)) for m, (at, amount) in matched.items()
    ]
    executed = dict(
        session.execute(
            sa.select(Disbursement.id, Disbursement.executed_at).where(
                Disbursement.id.in_(list(spent))
            )
        ).all()
    )
    uses += [Use(f"disbursement:{d}", executed[d], amount, d) for d, amount in spent.items()]
    return sources, uses


def compute_allocation(session: Session, pool: Pool) -> AllocationResult:
    return allocate(*pool_movements(session, pool))


def _key_id(key: str, prefix: str) -> int | None:
    kind, _, number = key.partition(":")
    return int(number) if kind == prefix else None


def store_allocation(session: Session, pool: Pool) -> AllocationResult:
    """Rewrite what the pages show for this pool (caller holds the pool's lock)."""
    result = compute_allocation(session, pool)
    session.execute(
        sa.delete(SpendingAllocation).where(
            SpendingAllocation.pool_kind == pool.kind, SpendingAllocation.pool_id == pool.id
        )
    )
    merged: dict[tuple[str, str], int] = defaultdict(int)
    for item in result.allocations:
        merged[(item.source_key, item.use_key)] += item.amount_fen
    session.add_all(
        SpendingAllocation(
            pool_kind=pool.kind,
            pool_id=pool.id,
            source_key=source,
            use_key=use,
            donation_id=_key_id(source, "donation"),
            disbursement_id=_key_id(use, "disbursement"),
            amount_fen=amount,
        )
        for (source, use), amount in merged.items()
    )
    return result


def stored_allocation(session: Session, pool: Pool) -> dict[tuple[str, str], int]:
    rows = session.execute(
        sa.select(
            SpendingAllocation.source_key, SpendingAllocation.use_key, SpendingAllocation.amount_fen
        )
        .where(SpendingAllocation.pool_kind == pool.kind, SpendingAllocation.pool_id == pool.id)
        .order_by(SpendingAllocation.id)
    ).all()
    return {(s, u): int(a) for s, u, a in rows}


def _all_pools(session: Session) -> list[Pool]:
    accounts = session.execute(
        sa.select(LedgerAccount.campaign_id, LedgerAccount.fund_id).distinct()
    ).all()
    stored = session.execute(
        sa.select(SpendingAllocation.pool_kind, SpendingAllocation.pool_id).distinct()
    ).all()
    pools = {Pool("campaign", c) for c, f in accounts if c is not None and f is None}
    pools |= {Pool("fund", f) for _, f in accounts if f is not None}
    pools |= {Pool(kind, pool_id) for kind, pool_id in stored}
    return sorted(pools, key=lambda p: (p.kind, p.id))


def check_allocations(session: Session) -> list[str]:
    """Recompute every pool's allocation from the ledger; name each difference from what
    the pages show, and each use the pool could not cover."""
    problems = []
    for pool in _all_pools(session):
        result = compute_allocation(session, pool)
        fresh: dict[tuple[str, str], int] = defaultdict(int)
        for item in result.allocations:
            fresh[(item.source_key, item.use_key)] += item.amount_fen
        if dict(fresh) != stored_allocation(session, pool):
            problems.append(f"{pool.kind} {pool.id}: stored allocation differs from the ledger")
        for use, amount in result.uncovered.items():
            problems.append(f"{pool.kind} {pool.id}: {use} has {amount} fen no gift covers")
    return problems


@dataclass(frozen=True)
class TraceLine:
    amount_fen: int
    #: The disbursement the money went to, or None for a transfer back to the host.
    disbursement: Disbursement | None
    use_key: str


@dataclass(frozen=True)
class SourceTrace:
    key: str
    at: datetime
    amount_fen: int
    refunded_fen: int
    lines: tuple[TraceLine, ...]

    @property
    def net_fen(self) -> int:
        return self.amount_fen - self.refunded_fen

    @property
    def spent_fen(self) -> int:
        return sum(line.amount_fen for line in self.lines)

    @property
    def unspent_fen(self) -> int:
        return self.net_fen - self.spent_fen


def _lines(session: Session, rows: list[tuple[str, int]]) -> tuple[TraceLine, ...]:
    """Rows in allocation order (store order is FIFO use order)."""
    ids = [i for key, _ in rows if (i := _key_id(key, "disbursement")) is not None]
    found = {
        d.id: d for d in session.scalars(sa.select(Disbursement).where(Disbursement.id.in_(ids)))
    }
    return tuple(TraceLine(a, found.get(_key_id(k, "disbursement") or 0), k) for k, a in rows)


def gift_trace(session: Session, donation: Donation) -> SourceTrace | None:
    """The donor's view: how much of the gift went where (from the stored allocation)."""
    if donation.succeeded_at is None or (donation.fund_id is None and donation.campaign_id is None):
        return None
    rows = session.execute(
        sa.select(SpendingAllocation.use_key, SpendingAllocation.amount_fen)
        .where(SpendingAllocation.donation_id == donation.id)
        .order_by(SpendingAllocation.id)
    ).all()
    return SourceTrace(
        key=f"donation:{donation.id}",
        at=donation.succeeded_at,
        amount_fen=donation.amount_fen,
        refunded_fen=donation.refunded_fen,
        lines=_lines(session, [(k, int(a)) for k, a in rows]),
    )


def pool_trace(session: Session, pool: Pool) -> list[SourceTrace]:
    """Every source of the pool (newest first) with where its money went; no personal data."""
    sources, _uses = pool_movements(session, pool)
    by_source: dict[str, list[tuple[str, int]]] = defaultdict(list)
    for (source, use), amount in stored_allocation(session, pool).items():
        by_source[source].append((use, amount))
    traces = [
        SourceTrace(s.key, s.at, s.amount_fen, s.refunded_fen, _lines(session, by_source[s.key]))
        for s in sources
    ]
    return sorted(traces, key=lambda t: _order(t.key, t.at), reverse=True)
