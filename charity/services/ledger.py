"""Double-entry bookkeeping for money that moved.

Callers write ledger transactions in the same database transaction as the domain change
(a donation succeeded, a refund) and its public log entry. ``post_transaction`` refuses
anything that does not balance per currency, and the ``source_key`` unique constraint
makes a second posting for the same fact fail instead of double-counting.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, NamedTuple

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlalchemy.orm import Session

from charity.core.db import dialect_insert
from charity.models import (
    AuditEntry,
    AuditQueued,
    Donation,
    DonationReversal,
    LedgerAccount,
    LedgerEntry,
    LedgerTransaction,
    Match,
    MatchingPool,
    MatchRelease,
    Refund,
)

_transactions = LedgerTransaction.__table__
_entries = LedgerEntry.__table__
_INSERT_TRANSACTION = _transactions.insert().returning(_transactions.c.id)


def _insert_with_entries() -> sa.Insert:
    """PostgreSQL: the transaction and its entries in ONE statement (a data-modifying
    CTE feeding the entries' INSERT from three unnested arrays); returns the id."""
    new = (
        _transactions.insert()
        .values(
            kind=sa.bindparam("kind"),
            source_key=sa.bindparam("source_key"),
            donation_id=sa.bindparam("donation_id"),
            refund_id=sa.bindparam("refund_id"),
            description=sa.bindparam("description"),
            created_at=sa.bindparam("created_at", type_=_transactions.c.created_at.type),
        )
        .returning(_transactions.c.id)
        .cte("new_transaction")
    )
    lines = (
        sa.func.unnest(
            sa.bindparam("accounts", type_=postgresql.ARRAY(sa.BigInteger)),
            sa.bindparam("amounts", type_=postgresql.ARRAY(sa.BigInteger)),
            sa.bindparam("currencies", type_=postgresql.ARRAY(sa.String)),
        )
        .table_valued("account_id", "amount_fen", "currency")
        .render_derived(name="line")
    )
    return (
        _entries.insert()
        .from_select(
            ["transaction_id", "account_id", "amount_fen", "currency"],
            sa.select(
                new.c.id, lines.c.account_id, lines.c.amount_fen, lines.c.currency
            ).select_from(new.join(lines, sa.true())),
        )
        .returning(_entries.c.transaction_id)
        .add_cte(new)
    )


_INSERT_WITH_ENTRIES = _insert_with_entries()


class UnbalancedTransactionError(ValueError):
    """Entries that do not sum to zero per currency: a programming error, never stored."""


class AccountRef(NamedTuple):
    """What a posting needs of an account (a LedgerAccount works too)."""

    id: int
    currency: str


@dataclass(frozen=True)
class Posting:
    account: LedgerAccount | AccountRef
    amount_fen: int


def insert_ignoring_conflict(session: Session, values: dict) -> None:
    """INSERT ... ON CONFLICT (key) DO NOTHING, so concurrent creators never collide."""
    statement = dialect_insert(session)(LedgerAccount).values(**values).on_conflict_do_nothing()
    session.execute(statement)


def account_key(
    kind: str, organization_id: int, currency: str, campaign_id: int | None, fund_id: int | None
) -> str:
    owner = f"campaign:{campaign_id}" if campaign_id is not None else f"org:{organization_id}"
    if fund_id is not None:
        owner = f"fund:{fund_id}"
    return f"{owner}:{kind}:{currency}"


def get_account(
    session: Session,
    kind: str,
    organization_id: int,
    currency: str,
    campaign_id: int | None,
    fund_id: int | None = None,  # a community fund's restricted sub-ledger
) -> LedgerAccount:
    return get_accounts(session, (kind, organization_id, currency, campaign_id, fund_id))[0]


AccountSpec = tuple[str, int, str, "int | None", "int | None"]


def get_accounts(session: Session, *specs: AccountSpec) -> list[LedgerAccount]:
    """The accounts for (kind, organization, currency, campaign, fund) specs, created on
    first use; one SELECT when they all exist (the hot path: every confirmation)."""
    keys = [account_key(*spec) for spec in specs]
    found = {
        account.key: account
        for account in session.scalars(sa.select(LedgerAccount).where(LedgerAccount.key.in_(keys)))
    }
    for key, (kind, organization_id, currency, campaign_id, fund_id) in zip(
        keys, specs, strict=True
    ):
        if key in found:
            continue
        insert_ignoring_conflict(
            session,
            {
                "key": key,
                "kind": kind,
                "organization_id": organization_id,
                "campaign_id": campaign_id,
                "fund_id": fund_id,
                "currency": currency,
            },
        )
        found[key] = session.scalars(sa.select(LedgerAccount).where(LedgerAccount.key == key)).one()
    return [found[key] for key in keys]


def post_transaction(
    session: Session,
    *,
    kind: str,
    source_key: str,
    postings: Iterable[Posting],
    donation_id: int | None = None,
    refund_id: int | None = None,
    description: str = "",
    created_at: datetime | None = None,
) -> int:
    """Write one balanced transaction; returns its id. The caller's session must have
    flushed the rows it refers to (donation, refund)."""
    postings = list(postings)
    totals: dict[str, int] = defaultdict(int)
    for posting in postings:
        totals[posting.account.currency] += posting.amount_fen
    if len(postings) < 2 or any(totals.values()) or any(p.amount_fen == 0 for p in postings):
        raise UnbalancedTransactionError(f"{source_key}: {dict(totals)}")
    # Core, not the unit of work, on every confirmation's path: on PostgreSQL one
    # statement; elsewhere two (the transaction, then its entries in one multi-row INSERT).
    connection = session.connection()
    values = {
        "kind": kind,
        "source_key": source_key,
        "donation_id": donation_id,
        "refund_id": refund_id,
        "description": description[:300],
        "created_at": created_at or datetime.now(UTC),
    }
    if connection.dialect.name == "postgresql":
        return (
            connection.execute(
                _INSERT_WITH_ENTRIES,
                {
                    **values,
                    "accounts": [p.account.id for p in postings],
                    "amounts": [p.amount_fen for p in postings],
                    "currencies": [p.account.currency for p in postings],
                },
            )
            .scalars()
            .first()
        )
    transaction_id = connection.execute(_INSERT_TRANSACTION, values).scalar_one()
    connection.execute(
        _entries.insert(),
        [
            {
                "transaction_id": transaction_id,
                "account_id": p.account.id,
                "amount_fen": p.amount_fen,
                "currency": p.account.currency,
            }
            for p in postings
        ],
    )
    return transaction_id


def _net_assets_spec(donation: Donation, kind: str) -> AccountSpec:
    if donation.fund_id is not None:
        return (kind, donation.organization_id, donation.currency, None, donation.fund_id)
    if donation.campaign_id is not None:
        return (kind, donation.organization_id, donation.currency, donation.campaign_id, None)
    fund_kind = "unrestricted" if kind == "restricted" else kind
    return (fund_kind, donation.organization_id, donation.currency, None, None)


def _net_assets_account(session: Session, donation: Donation, kind: str) -> LedgerAccount:
    return get_accounts(session, _net_assets_spec(donation, kind))[0]


_accounts = LedgerAccount.__table__
_ACCOUNT_REFS = sa.select(_accounts.c.key, _accounts.c.id, _accounts.c.currency).where(
    _accounts.c.key.in_(sa.bindparam("keys", expanding=True))
)


def account_refs(session: Session, *specs: AccountSpec) -> list[AccountRef]:
    """Like ``get_accounts``, as (id, currency) pairs read with one Core SELECT: the
    confirmation path's lookup (no ORM objects to build)."""
    keys = [account_key(*spec) for spec in specs]
    rows = session.connection().execute(_ACCOUNT_REFS, {"keys": keys})
    found = {key: AccountRef(id_, currency) for key, id_, currency in rows}
    if len(found) < len(set(keys)):  # first gift to this campaign/fund: create them
        for key, account in zip(keys, get_accounts(session, *specs), strict=True):
            found[key] = AccountRef(account.id, account.currency)
    return [found[key] for key in keys]


#: PostgreSQL: a gift's transaction and entries, its two accounts found by key, in ONE
#: statement (the confirmation path; balanced by construction: +x, -x in the one
#: currency both keys name). No row when an account does not exist yet.
_POST_BY_KEYS = sa.text(
    """
    WITH line AS (
        SELECT * FROM unnest(CAST(:keys AS varchar[]), CAST(:amounts AS bigint[]))
            AS line(key, amount_fen)
    ), account AS (
        SELECT ledger_accounts.id, ledger_accounts.currency, line.amount_fen
        FROM line JOIN ledger_accounts ON ledger_accounts.key = line.key
        WHERE ledger_accounts.currency = :currency
    ), new_transaction AS (
        INSERT INTO ledger_transactions
            (kind, source_key, donation_id, refund_id, description, created_at)
        SELECT :kind, :source_key, :donation_id, NULL, :description, :created_at
        WHERE (SELECT count(*) FROM account) = 2
        RETURNING id
    )
    INSERT INTO ledger_entries (transaction_id, account_id, amount_fen, currency)
    SELECT new_transaction.id, account.id, account.amount_fen, account.currency
    FROM new_transaction CROSS JOIN account
    RETURNING transaction_id
    """
).bindparams(sa.bindparam("created_at", type_=_transactions.c.created_at.type))


def post_donation(session: Session, donation: Donation, created_at: datetime | None = None) -> int:
    """Dr Stripe clearing / Cr the campaign's restricted fund (or unrestricted).
    ``donation``: a Donation, or any row with its columns (the confirmation path)."""
    specs = (
        ("clearing", donation.organization_id, donation.currency, None, None),
        _net_assets_spec(donation, "restricted"),
    )
    connection = session.connection()
    if connection.dialect.name == "postgresql" and donation.amount_fen > 0:
        posted = connection.execute(
            _POST_BY_KEYS,
            {
                "keys": [account_key(*spec) for spec in specs],
                "amounts": [donation.amount_fen, -donation.amount_fen],
                "currency": donation.currency,
                "kind": "donation",
                "source_key": f"donation:{donation.id}",
                "donation_id": donation.id,
                "description": f"Donation {donation.id}",
                "created_at": created_at or datetime.now(UTC),
            },
        ).first()
        if posted is not None:
            return int(posted[0])
        # the first gift to this campaign or fund: its account is made below
    clearing, fund = account_refs(session, *specs)
    return post_transaction(
        session,
        kind="donation",
        source_key=f"donation:{donation.id}",
        donation_id=donation.id,
        postings=[Posting(clearing, donation.amount_fen), Posting(fund, -donation.amount_fen)],
        description=f"Donation {donation.id}",
        created_at=created_at,
    )


def post_refund(session: Session, donation: Donation, refund: Refund) -> int:
    """Dr refunds (contra) / Cr Stripe clearing."""
    clearing = get_account(session, "clearing", donation.organization_id, donation.currency, None)
    contra = _net_assets_account(session, donation, "refunds")
    return post_transaction(
        session,
        kind="refund",
        source_key=f"refund:{refund.id}",
        donation_id=donation.id,
        refund_id=refund.id,
        postings=[Posting(contra, refund.amount_fen), Posting(clearing, -refund.amount_fen)],
        description=f"Refund {refund.id} of donation {donation.id}",
    )


def account_balance(session: Session, account_id: int) -> int:
    total = session.scalar(
        sa.select(sa.func.coalesce(sa.func.sum(LedgerEntry.amount_fen), 0)).where(
            LedgerEntry.account_id == account_id
        )
    )
    return int(total or 0)


def campaign_raised_fen(session: Session, campaign_id: int, currency: str = "CNY") -> int:
    """Gifts to the campaign net of refunds, from the ledger (credits are negative)."""
    total = session.scalar(
        sa.select(sa.func.coalesce(sa.func.sum(LedgerEntry.amount_fen), 0))
        .join(LedgerAccount, LedgerEntry.account_id == LedgerAccount.id)
        .where(
            LedgerAccount.campaign_id == campaign_id,
            LedgerAccount.kind.in_(("restricted", "refunds")),
            LedgerAccount.currency == currency,
        )
    )
    return -int(total or 0)


def _unbalanced(session: Session) -> list[str]:
    rows = session.execute(
        sa.select(
            LedgerEntry.transaction_id,
            LedgerEntry.currency,
            sa.func.sum(LedgerEntry.amount_fen),
            sa.func.count(),
        )
        .group_by(LedgerEntry.transaction_id, LedgerEntry.currency)
        .having(sa.or_(sa.func.sum(LedgerEntry.amount_fen) != 0, sa.func.count() < 2))
    ).all()
    return [
        f"transaction {t} does not balance in {c}: sum {s} over {n} entries" for t, c, s, n in rows
    ]


def _clearing_amounts(session: Session, kind: str, column: Any) -> dict[int, list[int]]:
    """{donation or refund id: [debit to clearing (or credit, negated) per transaction]}."""
    rows = session.execute(
        sa.select(column, LedgerEntry.amount_fen)
        .join(LedgerEntry, LedgerEntry.transaction_id == LedgerTransaction.id)
        .join(LedgerAccount, LedgerEntry.account_id == LedgerAccount.id)
        .where(LedgerTransaction.kind == kind, LedgerAccount.kind == "clearing")
    ).all()
    found: dict[int, list[int]] = defaultdict(list)
    for subject_id, amount in rows:
        found[subject_id].append(abs(amount))
    return found


def _donation_mismatches(session: Session) -> list[str]:
    problems = []
    posted = _clearing_amounts(session, "donation", LedgerTransaction.donation_id)
    counted = ("succeeded", "partially_refunded", "refunded")
    for donation in session.scalars(sa.select(Donation).order_by(Donation.id)):
        amounts = posted.pop(donation.id, [])
        if donation.channel == "in_kind" or donation.status == "reversed":
            continue  # checked by _gift_mismatches
        if donation.status in counted and amounts != [donation.amount_fen]:
            problems.append(
                f"donation {donation.id} ({donation.amount_fen} fen, {donation.status}) "
                f"has ledger postings {amounts}"
            )
        elif donation.status not in counted and amounts:
            problems.append(f"donation {donation.id} is {donation.status} but in the ledger")
    problems += [f"ledger posting for missing donation {d}" for d in posted]
    return problems


def _refund_mismatches(session: Session) -> list[str]:
    problems = []
    posted = _clearing_amounts(session, "refund", LedgerTransaction.refund_id)
    refunded: dict[int, int] = defaultdict(int)
    for refund in session.scalars(sa.select(Refund).order_by(Refund.id)):
        refunded[refund.donation_id] += refund.amount_fen
        if posted.pop(refund.id, []) != [refund.amount_fen]:
            problems.append(f"refund {refund.id} ({refund.amount_fen} fen) is not posted once")
    problems += [f"ledger posting for missing refund {r}" for r in posted]
    for donation in session.scalars(sa.select(Donation).where(Donation.refunded_fen != 0)):
        if refunded[donation.id] != donation.refunded_fen:
            problems.append(
                f"donation {donation.id} says {donation.refunded_fen} fen refunded, "
                f"refunds total {refunded[donation.id]}"
            )
    return problems


def _campaign_mismatches(session: Session) -> list[str]:
    problems = []
    counted = ("succeeded", "partially_refunded", "refunded")
    rows = session.execute(
        sa.select(
            Donation.campaign_id,
            Donation.currency,
            sa.func.sum(Donation.amount_fen - Donation.refunded_fen),
        )
        .where(Donation.status.in_(counted), Donation.campaign_id.is_not(None))
        .where(Donation.channel != "in_kind")  # goods are not cash
        .group_by(Donation.campaign_id, Donation.currency)
    ).all()
    expected = {(c, cur): int(total) for c, cur, total in rows}
    campaign_ids = session.scalars(
        sa.select(LedgerAccount.campaign_id).where(LedgerAccount.campaign_id.is_not(None))
    ).all()
    for campaign_id in set(campaign_ids) | {c for c, _ in expected}:
        for currency in {cur for _, cur in expected} | {"CNY"}:
            want = expected.get((campaign_id, currency), 0)
            have = campaign_raised_fen(session, campaign_id, currency)
            if want != have:
                problems.append(
                    f"campaign {campaign_id}: donations net of refunds {want} fen, "
                    f"ledger {have} fen ({currency})"
                )
    return problems


def _log_counts(session: Session, subject_table: str, label: str) -> dict[int, int]:
    """{subject id: entries of type ``label``}, counting entries in the tree and those
    still queued for the log sequencer (AUDITLOG_SEQUENCER=batched): a queued entry is
    written, in its change's transaction, and only waits for its index."""
    counts: dict[int, int] = defaultdict(int)
    for model in (AuditEntry, AuditQueued):
        rows = session.execute(
            sa.select(model.subject_id, sa.func.count())
            .where(model.subject_table == subject_table, model.event_type == label)
            .group_by(model.subject_id)
        ).all()
        for subject_id, count in rows:
            counts[int(subject_id)] += count
    return counts


def _log_mismatches(session: Session) -> tuple[list[str], list[str]]:
    problems = []
    counted = ("succeeded", "partially_refunded", "refunded")
    checks = (
        (
            "donations",
            "donation.succeeded",
            sa.select(Donation.id).where(Donation.status.in_(counted)),
        ),
        ("refunds", "donation.refunded", sa.select(Refund.id)),
    )
    for subject_table, label, ids in checks:
        counts = _log_counts(session, subject_table, label)
        for subject_id in session.scalars(ids):
            if counts.get(subject_id, 0) != 1:
                problems.append(
                    f"{subject_table} {subject_id}: {counts.get(subject_id, 0)} {label} log entries"
                )
    return problems, []


def check_books(session: Session) -> tuple[list[str], list[str]]:
    """(problems, notes). No problems means the books balance and match the donations."""
    problems = _unbalanced(session)
    problems += _donation_mismatches(session)
    problems += _refund_mismatches(session)
    problems += _campaign_mismatches(session)
    problems += _gift_mismatches(session)  # in-kind gifts and reversals
    problems += check_matching(session)
    log_problems, notes = _log_mismatches(session)
    return problems + log_problems, notes


def check_matching(session: Session) -> list[str]:
    """Giving-day matching: pools, matches, releases, the ledger and the log agree."""
    problems = []
    held: dict[int, int] = {}
    for pool_id, total in session.execute(
        sa.select(Match.pool_id, sa.func.sum(Match.amount_fen - Match.released_fen)).group_by(
            Match.pool_id
        )
    ):
        held[int(pool_id)] = int(total or 0)
    fresh = {"populate_existing": True}  # rows the hot path wrote with Core
    pools = sa.select(MatchingPool).order_by(MatchingPool.id).execution_options(**fresh)
    for pool in session.scalars(pools):
        if pool.allocated_fen != held.get(pool.id, 0):
            problems.append(
                f"matching pool {pool.id}: allocated {pool.allocated_fen} fen, "
                f"matches hold {held.get(pool.id, 0)} fen"
            )
        if not 0 <= pool.allocated_fen <= pool.total_fen:
            problems.append(f"matching pool {pool.id} is over-allocated")
        key = f"matchpool:{pool.id}:match_pool:{pool.currency}"
        balance = session.scalar(
            sa.select(sa.func.coalesce(sa.func.sum(LedgerEntry.amount_fen), 0))
            .join(LedgerAccount, LedgerEntry.account_id == LedgerAccount.id)
            .where(LedgerAccount.key == key)
        )
        if -int(balance or 0) != pool.total_fen - pool.allocated_fen:
            problems.append(
                f"matching pool {pool.id}: ledger says {-int(balance or 0)} fen unallocated, "
                f"the pool {pool.total_fen - pool.allocated_fen}"
            )
    posted: dict[str, int] = {}
    for source_key, amount in session.execute(
        sa.select(LedgerTransaction.source_key, LedgerEntry.amount_fen)
        .join(LedgerEntry, LedgerEntry.transaction_id == LedgerTransaction.id)
        .join(LedgerAccount, LedgerEntry.account_id == LedgerAccount.id)
        .where(
            LedgerTransaction.kind.in_(("match", "match_release")),
            LedgerAccount.kind == "matched",
        )
    ):
        posted[source_key] = posted.get(source_key, 0) + abs(int(amount))
    counts: dict[tuple[str, int], int] = {}
    for model in (AuditEntry, AuditQueued):
        for table, subject_id, count in session.execute(
            sa.select(model.subject_table, model.subject_id, sa.func.count())
            .where(model.event_type.in_(("donation.matched", "match.released")))
            .group_by(model.subject_table, model.subject_id)
        ):
            counts[(table, int(subject_id))] = counts.get((table, int(subject_id)), 0) + count
    for match in session.scalars(sa.select(Match).order_by(Match.id).execution_options(**fresh)):
        if posted.pop(f"match:{match.id}", None) != match.amount_fen:
            problems.append(f"match {match.id} ({match.amount_fen} fen) is not posted once")
        if counts.get(("matches", match.id), 0) != 1:
            problems.append(f"match {match.id}: {counts.get(('matches', match.id), 0)} log entries")
    released: dict[int, int] = {}
    for release in session.scalars(sa.select(MatchRelease).order_by(MatchRelease.id)):
        released[release.match_id] = released.get(release.match_id, 0) + release.amount_fen
        if posted.pop(f"match_release:{release.id}", None) != release.amount_fen:
            problems.append(f"match release {release.id} is not posted once")
        if counts.get(("match_releases", release.id), 0) != 1:
            problems.append(f"match release {release.id}: not logged once")
    for match in session.scalars(sa.select(Match).where(Match.released_fen != 0)):
        if released.get(match.id, 0) != match.released_fen:
            problems.append(f"match {match.id}: released {match.released_fen} fen, releases differ")
    problems += [f"ledger posting {key} has no match" for key in posted]
    return problems


# --- in-kind gifts and reversals ---------------------------------------------------


def post_in_kind(session: Session, donation: Donation) -> int:
    """Dr goods held (in-kind assets) / Cr in-kind net assets of the campaign (or org):
    accounts apart from every cash account, so goods never enter a cash balance."""
    goods = get_account(
        session, "in_kind_assets", donation.organization_id, donation.currency, None
    )
    given = get_account(
        session, "in_kind", donation.organization_id, donation.currency, donation.campaign_id
    )
    return post_transaction(
        session,
        kind="in_kind",
        source_key=f"in_kind:{donation.id}",
        donation_id=donation.id,
        postings=[Posting(goods, donation.amount_fen), Posting(given, -donation.amount_fen)],
        description=f"In-kind gift {donation.id}",
    )


def post_reversal(session: Session, donation: Donation, reversal_id: int) -> int:
    """The mirror of the gift's own transaction (donation or in_kind), as a new one."""
    original = session.scalars(
        sa.select(LedgerTransaction).where(
            LedgerTransaction.donation_id == donation.id,
            LedgerTransaction.kind.in_(("donation", "in_kind")),
        )
    ).one()
    postings = [Posting(entry.account, -entry.amount_fen) for entry in original.entries]
    return post_transaction(
        session,
        kind="reversal",
        source_key=f"reversal:{reversal_id}",
        donation_id=donation.id,
        postings=postings,
        description=f"Reversal {reversal_id} of gift {donation.id}",
    )


def campaign_in_kind_fen(session: Session, campaign_id: int, currency: str = "CNY") -> int:
    """The valuation of goods given to the campaign (net of reversals), from the ledger."""
    total = session.scalar(
        sa.select(sa.func.coalesce(sa.func.sum(LedgerEntry.amount_fen), 0))
        .join(LedgerAccount, LedgerEntry.account_id == LedgerAccount.id)
        .where(
            LedgerAccount.campaign_id == campaign_id,
            LedgerAccount.kind == "in_kind",
            LedgerAccount.currency == currency,
        )
    )
    return -int(total or 0)


def _gift_mismatches(session: Session) -> list[str]:
    problems = []
    rows = session.execute(
        sa.select(
            LedgerTransaction.donation_id,
            LedgerTransaction.kind,
            LedgerEntry.account_id,
            LedgerEntry.amount_fen,
        ).join(LedgerEntry, LedgerEntry.transaction_id == LedgerTransaction.id)
    ).all()
    per_donation: dict[int, dict[str, list[tuple[int, int]]]] = defaultdict(
        lambda: defaultdict(list)
    )
    for donation_id, kind, account_id, amount in rows:
        if donation_id is not None:
            per_donation[donation_id][kind].append((account_id, amount))
    kinds = dict(session.execute(sa.select(LedgerAccount.id, LedgerAccount.kind)).all())
    counted = ("succeeded", "reversed")
    in_kind = sa.select(Donation).where(Donation.channel == "in_kind")
    for donation in session.scalars(in_kind.order_by(Donation.id)):
        posted = per_donation[donation.id]
        cash = [
            a for k in posted for a, _ in posted[k] if kinds[a] not in ("in_kind", "in_kind_assets")
        ]
        goods = [abs(v) for a, v in posted.get("in_kind", []) if kinds[a] == "in_kind_assets"]
        if cash:
            problems.append(f"in-kind gift {donation.id} touches cash accounts")
        if donation.status in counted and goods != [donation.amount_fen]:
            problems.append(f"in-kind gift {donation.id} has in-kind postings {goods}")
    reversed_ids = set(session.scalars(sa.select(Donation.id).where(Donation.status == "reversed")))
    reversals = session.scalars(sa.select(DonationReversal)).all()
    if {r.donation_id for r in reversals} != reversed_ids:
        problems.append("reversed gifts and recorded reversals differ")
    for donation_id in sorted(reversed_ids):
        posted = per_donation[donation_id]
        if not posted.get("reversal"):
            problems.append(f"reversed gift {donation_id} has no reversal transaction")
            continue
        net: dict[int, int] = defaultdict(int)
        for entries in posted.values():
            for account_id, amount in entries:
                net[account_id] += amount
        if any(net.values()):
            problems.append(f"reversed gift {donation_id} does not net to zero")
    counts = _log_counts(session, "donation_reversals", "donation.reversed")
    for reversal in reversals:
        if counts.get(reversal.id, 0) != 1:
            problems.append(
                f"reversal {reversal.id}: {counts.get(reversal.id, 0)} donation.reversed "
                "log entries"
            )
    return problems
