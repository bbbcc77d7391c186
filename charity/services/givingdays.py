"""Giving days: events, matching pools (配捐), teams (一起捐) and pledges (认捐).

Matching happens in the donation's success path: ``confirm_payment`` calls
``match_candidates`` (the pools and accounts, no lock) after the gift's ledger posting,
then, after the receipt counter, ``match_gift`` in the same transaction (the lock order of
every path: donation row, campaign or fund row, receipt counter, matching pool rows in id
order, log head). For each pool the gift is
eligible for, the pool row is locked (``SELECT ... FOR UPDATE``) and the match is the
smallest of: the gift times the ratio, the cap per gift, what the donor has left today
under the per-donor cap, what the campaign has left under the per-campaign cap, and
what is left in the pool. So however many gifts race, they take the pool's lock one at
a time and each sees what the previous ones took: the pool is never over-allocated
(also guarded by ``UPDATE ... WHERE allocated_fen + x <= total_fen`` and a CHECK), and
the last gift may get a partial match. docs/givingdays.md has the argument in full.

Every match is a balanced ledger transaction (Dr the pool's ``match_pool`` / Cr the
campaign's ``matched``) and a ``donation.matched`` log entry; a refund releases the
refunded share of the match (``match.released``: the mirror posting and an entry).
"""

from __future__ import annotations

import hashlib
import json
import re
import secrets
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlalchemy.orm import Session
from stdnum.cn import uscc

from charity.auditlog.store import format_timestamp
from charity.core.clock import CST, today_cst
from charity.core.errors import DomainError
from charity.core.events import record_event
from charity.core.permissions import role_in_org
from charity.models import (
    Campaign,
    Donation,
    GivingDay,
    GivingDayCampaign,
    LedgerAccount,
    LedgerEntry,
    Match,
    MatchingPool,
    MatchingPoolCampaign,
    MatchRelease,
    Organization,
    Pledge,
    Refund,
    Team,
    User,
)
from charity.services import ledger
from charity.web.i18n import N_

TEAM_NAME_MAX = 60
TEAM_MESSAGE_MAX = 500
REASON_MAX = 300
_WINDOW = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)-([01]\d|2[0-4]):([0-5]\d)$")


class GivingDayError(DomainError, ValueError):
    """A request we refuse; ``field`` names the form field it belongs to (or None)."""


# --- events ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class NewEvent:
    name: str
    theme: str
    start_date: date
    end_date: date
    region: str = ""


def _require_admin(actor: User) -> None:
    if not getattr(actor, "is_admin", False):
        raise PermissionError("admins only")


def create_event(session: Session, actor: User, command: NewEvent) -> GivingDay:
    _require_admin(actor)
    name = command.name.strip()
    if not name or len(name) > 200:
        raise GivingDayError(N_("Give the event a name (at most 200 characters)."), "name")
    if command.end_date < command.start_date:
        raise GivingDayError(N_("The last day is before the first day."), "end_date")
    event = GivingDay(
        name=name,
        theme=command.theme.strip(),
        start_date=command.start_date,
        end_date=command.end_date,
        region=command.region.strip(),
        created_by_id=actor.id,
    )
    session.add(event)
    session.flush()
    record_event(session, "giving_day.created", subject_id=event.id)
    return event


def event_is_on(event: GivingDay, now: datetime | None = None) -> bool:
    return event.start_date <= today_cst(now) <= event.end_date


def apply_campaign(
    session: Session, actor: User, event_id: int, campaign_id: int
) -> GivingDayCampaign:
    """The campaign's organization (owner or editor) applies to take part."""
    event = session.get(GivingDay, event_id)
    campaign = session.get(Campaign, campaign_id)
    if event is None or campaign is None:
        raise LookupError((event_id, campaign_id))
    if role_in_org(actor, campaign.organization_id) not in ("owner", "editor"):
        raise PermissionError("not a manager of the campaign's organization")
    if campaign.status != "published":
        raise GivingDayError(N_("Only a published campaign can take part."), "campaign_id")
    if today_cst() > event.end_date:
        raise GivingDayError(N_("This event is over."), "campaign_id")
    existing = session.scalars(
        sa.select(GivingDayCampaign).where(
            GivingDayCampaign.event_id == event_id, GivingDayCampaign.campaign_id == campaign_id
        )
    ).one_or_none()
    if existing is not None:
        raise GivingDayError(N_("This campaign has already applied."), "campaign_id")
    entry = GivingDayCampaign(
        event_id=event_id, campaign_id=campaign_id, status="applied", applied_by_id=actor.id
    )
    session.add(entry)
    session.flush()
    return entry


def decide_campaign(
    session: Session, actor: User, entry_id: int, accept: bool
) -> GivingDayCampaign:
    _require_admin(actor)
    entry = session.get(GivingDayCampaign, entry_id)
    if entry is None:
        raise LookupError(entry_id)
    if entry.status != "applied":
        raise GivingDayError(N_("This application was already decided."))
    entry.status = "accepted" if accept else "rejected"
    entry.decided_by_id = actor.id
    entry.decided_at = datetime.now(UTC)
    session.flush()
    if accept:
        record_event(session, "giving_day.campaign_accepted", subject_id=entry.id)
    return entry


# --- pools ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class NewPool:
    event_id: int
    organization_id: int
    sponsor_name: str
    total_fen: int
    ratio_percent: int = 100
    sponsor_uscc: str = ""
    cap_per_gift_fen: int | None = None
    cap_per_donor_day_fen: int | None = None
    cap_per_campaign_fen: int | None = None
    windows: str = ""
    campaign_ids: tuple[int, ...] = ()


def parse_windows(text: str) -> list[tuple[time, time]]:
    """ "09:00-12:00;14:00-16:00" -> [(09:00, 12:00), (14:00, 16:00)]; "" -> []."""
    windows = []
    for part in re.split(r"[;,\s]+", text.strip()):
        if not part:
            continue
        found = _WINDOW.match(part)
        if found is None:
            raise GivingDayError(N_("Write time windows as 09:00-12:00;14:00-16:00."), "windows")
        h1, m1, h2, m2 = (int(g) for g in found.groups())
        start = time(h1, m1)
        end = time(23, 59, 59, 999999) if h2 == 24 else time(h2, m2)
        if h2 == 24 and m2:
            raise GivingDayError(N_("Write time windows as 09:00-12:00;14:00-16:00."), "windows")
        if end <= start:
            raise GivingDayError(N_("A time window must end after it starts."), "windows")
        windows.append((start, end))
    return windows


def in_window(windows: str, now: datetime) -> bool:
    """Is ``now`` inside one of the daily windows (CST)? No windows: always."""
    if not windows:  # the usual pool (every matched confirmation asks)
        return True
    spans = parse_windows(windows)
    if not spans:
        return True
    clock = now.astimezone(CST).time()
    return any(start <= clock < end for start, end in spans)


def _valid_uscc(value: str) -> bool:
    return uscc.is_valid(value)


def create_pool(session: Session, actor: User, command: NewPool) -> MatchingPool:
    """An admin records a sponsor's pool: the commitment is posted to the ledger
    (Dr match_commitment / Cr match_pool) and logged."""
    _require_admin(actor)
    event = session.get(GivingDay, command.event_id)
    organization = session.get(Organization, command.organization_id)
    if event is None:
        raise LookupError(command.event_id)
    if organization is None or organization.status != "verified":
        raise GivingDayError(
            N_("Choose a verified organization to hold the pool."), "organization_id"
        )
    name = command.sponsor_name.strip()
    if not name or len(name) > 200:
        raise GivingDayError(N_("Name the sponsor (at most 200 characters)."), "sponsor_name")
    uscc = command.sponsor_uscc.strip().upper()
    if uscc and not _valid_uscc(uscc):
        raise GivingDayError(N_("This is not a valid unified social credit code."), "sponsor_uscc")
    if not 0 < command.total_fen <= 10**13:
        raise GivingDayError(N_("The pool's total must be more than zero."), "total")
    if not 0 < command.ratio_percent <= 1000:
        raise GivingDayError(N_("The ratio must be between 1% and 1000%."), "ratio_percent")
    for value, field in (
        (command.cap_per_gift_fen, "cap_per_gift"),
        (command.cap_per_donor_day_fen, "cap_per_donor_day"),
        (command.cap_per_campaign_fen, "cap_per_campaign"),
    ):
        if value is not None and value <= 0:
            raise GivingDayError(N_("A cap must be more than zero (or left empty)."), field)
    parse_windows(command.windows)
    pool = MatchingPool(
        event_id=event.id,
        organization_id=organization.id,
        sponsor_name=name,
        sponsor_uscc=uscc,
        ratio_percent=command.ratio_percent,
        cap_per_gift_fen=command.cap_per_gift_fen,
        cap_per_donor_day_fen=command.cap_per_donor_day_fen,
        cap_per_campaign_fen=command.cap_per_campaign_fen,
        windows=";".join(p for p in re.split(r"[;,\s]+", command.windows.strip()) if p),
        restricted=bool(command.campaign_ids),
        total_fen=command.total_fen,
        created_by_id=actor.id,
    )
    session.add(pool)
    session.flush()
    for campaign_id in sorted(set(command.campaign_ids)):
        if session.get(Campaign, campaign_id) is None:
            raise GivingDayError(N_("Unknown campaign."), "campaign_ids")
        session.add(MatchingPoolCampaign(pool_id=pool.id, campaign_id=campaign_id))
    commitment, _received, pool_account = pool_accounts(session, pool)
    ledger.post_transaction(
        session,
        kind="match_commitment",
        source_key=f"match_commitment:{pool.id}",
        postings=[
            ledger.Posting(commitment, pool.total_fen),
            ledger.Posting(pool_account, -pool.total_fen),
        ],
        description=f"Matching pool {pool.id}: {name} commits",
    )
    session.flush()
    record_event(session, "matching_pool.created", subject_id=pool.id)
    return pool


def pool_accounts(session: Session, pool: MatchingPool) -> list[LedgerAccount]:
    """The pool's three accounts (commitment, received, pool), created on first use."""
    accounts = []
    for kind in ("match_commitment", "match_received", "match_pool"):
        key = f"matchpool:{pool.id}:{kind}:{pool.currency}"
        account = session.scalars(sa.select(LedgerAccount).where(LedgerAccount.key == key)).first()
        if account is None:
            ledger.insert_ignoring_conflict(
                session,
                {
                    "key": key,
                    "kind": kind,
                    "organization_id": pool.organization_id,
                    "campaign_id": None,
                    "fund_id": None,
                    "currency": pool.currency,
                },
            )
            account = session.scalars(
                sa.select(LedgerAccount).where(LedgerAccount.key == key)
            ).one()
        accounts.append(account)
    return accounts


_pools = MatchingPool.__table__
_LOCK_POOL = sa.select(_pools).where(_pools.c.id == sa.bindparam("pool_id")).with_for_update()


def lock_matching_pool(session: Session, pool_id: int) -> MatchingPool:
    pool = session.scalars(
        sa.select(MatchingPool)
        .where(MatchingPool.id == pool_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).one_or_none()
    if pool is None:
        raise LookupError(pool_id)
    return pool


# --- matching (the hot path) ----------------------------------------------------------------

_events = GivingDay.__table__
_entries = GivingDayCampaign.__table__
_eligible = MatchingPoolCampaign.__table__
_matches = Match.__table__
_accounts = LedgerAccount.__table__
_pool_account = _accounts.alias("pool_account")
_matched_account = _accounts.alias("matched_account")


def _candidate_conditions(campaign_id: Any, currency: Any) -> list[Any]:
    """A pool of a giving day on today (CST) with money left, in this currency, whose
    event accepted the campaign and which may match it (unrestricted or listed)."""
    return [
        _events.c.id == _pools.c.event_id,
        _events.c.start_date <= sa.bindparam("today"),
        _events.c.end_date >= sa.bindparam("today"),
        _pools.c.allocated_fen < _pools.c.total_fen,
        _pools.c.currency == currency,
        sa.exists()
        .where(
            _entries.c.event_id == _pools.c.event_id,
            _entries.c.campaign_id == campaign_id,
            _entries.c.status == "accepted",
        )
        .correlate_except(_entries),
        sa.or_(
            sa.not_(_pools.c.restricted),
            sa.exists()
            .where(
                _eligible.c.pool_id == _pools.c.id,
                _eligible.c.campaign_id == campaign_id,
            )
            .correlate_except(_eligible),
        ),
    ]


def may_match(campaign_id: Any, currency: Any) -> Any:
    """EXISTS: some pool could match a gift to this campaign today (``:today``, CST),
    windows aside. ``confirm_payment`` asks it in its row lock's SELECT on SQLite (on
    PostgreSQL ``candidates_column`` instead), so an ordinary day costs no statement."""
    return (
        sa.exists()
        .where(*_candidate_conditions(campaign_id, currency))
        .select_from(_pools, _events)
    )


def candidates_column(campaign_id: Any, currency: Any) -> Any:
    """PostgreSQL: the pools a gift to this campaign could be matched from today
    (``:today``, CST), windows aside, as a JSON array in pool id order (NULL: none), each
    ``[pool id, windows, match_pool account id, its currency, the campaign's matched
    account id, its currency, event id, sponsor USCC, true when the pool has no per-donor
    or per-campaign cap]`` (account ids NULL when not made yet). ``confirm_payment``
    asks it in its row lock's SELECT, so a matched gift needs no statement of its own to
    find its pools (``candidates_from`` reads it)."""
    pool_account = _accounts.alias("candidate_pool_account")
    matched_account = _accounts.alias("candidate_matched_account")
    matched_key = (
        sa.literal("campaign:")
        + sa.cast(campaign_id, sa.String)
        + sa.literal(":matched:")
        + currency
    )
    line = sa.func.json_build_array(
        _pools.c.id,
        _pools.c.windows,
        pool_account.c.id,
        pool_account.c.currency,
        matched_account.c.id,
        matched_account.c.currency,
        _pools.c.event_id,
        _pools.c.sponsor_uscc,
        sa.and_(_pools.c.cap_per_donor_day_fen.is_(None), _pools.c.cap_per_campaign_fen.is_(None)),
    )
    return (
        sa.select(sa.func.json_agg(postgresql.aggregate_order_by(line, _pools.c.id)))
        .select_from(_pools)
        .join(_events, _events.c.id == _pools.c.event_id)
        .outerjoin(
            pool_account,
            pool_account.c.key
            == sa.literal("matchpool:")
            + sa.cast(_pools.c.id, sa.String)
            + sa.literal(":match_pool:")
            + _pools.c.currency,
        )
        .outerjoin(matched_account, matched_account.c.key == matched_key)
        .where(*_candidate_conditions(campaign_id, currency))
        .scalar_subquery()
    )


def candidates_from(found: Any, row: Any, now: datetime) -> list[Candidate] | None:
    """The candidates from ``candidates_column``'s JSON (window open now), or None when an
    account is not made yet (the caller asks ``match_candidates``, which makes it)."""
    if isinstance(found, str):
        found = json.loads(found)
    if not found or row.campaign_id is None or row.channel == "in_kind":
        return []
    open_now = [line for line in found if in_window(line[1], now)]
    if not open_now:
        return []
    if open_now[0][4] is None or any(line[2] is None for line in open_now):
        return None
    matched = ledger.AccountRef(int(open_now[0][4]), open_now[0][5])
    return [
        Candidate(
            int(line[0]),
            ledger.AccountRef(int(line[2]), line[3]),
            matched,
            event_id=line[6],
            sponsor_uscc=line[7],
            uncapped=bool(line[8]),
        )
        for line in open_now
    ]


#: Pools a gift to this campaign could be matched from today (CST), in id order, each
#: with its match_pool ledger account and the campaign's matched account (NULL when not
#: made yet): one statement.
_CANDIDATES = (
    sa.select(
        _pools.c.id,
        _pools.c.windows,
        _pool_account.c.id.label("pool_account_id"),
        _pool_account.c.currency.label("pool_account_currency"),
        _matched_account.c.id.label("matched_account_id"),
        _matched_account.c.currency.label("matched_account_currency"),
    )
    .select_from(_pools)
    .join(_events, _events.c.id == _pools.c.event_id)
    .outerjoin(
        _pool_account,
        _pool_account.c.key
        == sa.literal("matchpool:")
        + sa.cast(_pools.c.id, sa.String)
        + sa.literal(":match_pool:")
        + _pools.c.currency,
    )
    .outerjoin(_matched_account, _matched_account.c.key == sa.bindparam("matched_key"))
    .where(*_candidate_conditions(sa.bindparam("campaign_id"), sa.bindparam("currency")))
    .order_by(_pools.c.id)
)
_DONOR_TODAY = sa.select(
    sa.func.coalesce(sa.func.sum(_matches.c.amount_fen - _matches.c.released_fen), 0)
).where(
    _matches.c.pool_id == sa.bindparam("pool_id"),
    _matches.c.donor_key == sa.bindparam("donor_key"),
    _matches.c.cst_day == sa.bindparam("day"),
)
_CAMPAIGN_MATCHED = sa.select(
    sa.func.coalesce(sa.func.sum(_matches.c.amount_fen - _matches.c.released_fen), 0)
).where(
    _matches.c.pool_id == sa.bindparam("pool_id"),
    _matches.c.campaign_id == sa.bindparam("campaign_id"),
)
#: The conditional raise: never past the total, whatever else happened.
_ALLOCATE = (
    _pools.update()
    .where(
        _pools.c.id == sa.bindparam("pool_id"),
        _pools.c.allocated_fen + sa.bindparam("x") <= _pools.c.total_fen,
    )
    .values(allocated_fen=_pools.c.allocated_fen + sa.bindparam("x"))
    .returning(_pools.c.allocated_fen)
)
_INSERT_MATCH = _matches.insert().returning(_matches.c.id)


def donor_key(donation: Any) -> str:
    """Who gave, for the per-donor cap: the e-mail (or the account), hashed."""
    if donation.donor_email:
        basis = "email:" + donation.donor_email.strip().lower()
    elif donation.donor_user_id is not None:
        basis = f"user:{donation.donor_user_id}"
    else:
        basis = f"donation:{donation.id}"
    return hashlib.sha256(basis.encode()).hexdigest()


def forget_donor_keys(session: Session, donation_ids: list[int]) -> int:
    """Erasure: the per-donor cap hash of these gifts' matches is the donor's e-mail (or
    account) hashed, i.e. identifying to anyone who guesses the address. Replace it with
    one random value shared by these matches (so they still count together against the
    cap, for what is left of their day) that nothing can be traced back to. Returns the
    matches changed. A later gift from the same address starts a fresh count."""
    if not donation_ids:
        return 0
    replacement = hashlib.sha256(b"erased:" + secrets.token_bytes(32)).hexdigest()
    result = session.execute(
        sa.update(_matches)
        .where(_matches.c.donation_id.in_(donation_ids))
        .values(donor_key=replacement)
    )
    return result.rowcount or 0  # type: ignore[attr-defined]


def match_amount(
    gift_fen: int,
    ratio_percent: int,
    cap_per_gift: int | None,
    donor_left: int | None,
    campaign_left: int | None,
    pool_left: int,
) -> int:
    """The match: the gift times the ratio, within every cap and what the pool has left."""
    limits = [gift_fen * ratio_percent // 100, pool_left]
    limits += [v for v in (cap_per_gift, donor_left, campaign_left) if v is not None]
    return max(0, min(limits))


@dataclass(frozen=True)
class Candidate:
    """A pool a succeeding gift may be matched from, with the two accounts a match posts
    to (looked up before any shared lock is taken)."""

    pool_id: int
    pool_account: ledger.AccountRef
    matched_account: ledger.AccountRef
    #: known when the candidate came with the row lock's SELECT (``candidates_from``):
    #: what the match's log entry needs before the match is made (``fused_candidate``)
    event_id: int | None = None
    sponsor_uscc: str | None = None
    #: no per-donor and no per-campaign cap (the match may be made in one statement)
    uncapped: bool = False


def match_candidates(session: Session, row: Any, now: datetime) -> list[Candidate]:
    """The pools a gift succeeding now could be matched from (event on today, campaign
    accepted and eligible, window open, money left), in pool id order, with their ledger
    accounts: one statement. No lock is taken: ``match_gift`` decides under each pool's
    lock. Called by ``confirm_payment`` before the receipt counter, so the lookup is not
    inside any serialized section."""
    if row.campaign_id is None or row.channel == "in_kind":
        return []
    matched_key = ledger.account_key(
        "matched", row.organization_id, row.currency, row.campaign_id, None
    )
    found = [
        found
        for found in session.connection().execute(
            _CANDIDATES,
            {
                "campaign_id": row.campaign_id,
                "today": today_cst(now),
                "currency": row.currency,
                "matched_key": matched_key,
            },
        )
        if in_window(found.windows, now)
    ]
    if not found:
        return []
    if found[0].matched_account_id is not None:
        matched = ledger.AccountRef(found[0].matched_account_id, found[0].matched_account_currency)
    else:  # the campaign's first match: create its account
        (matched,) = ledger.account_refs(
            session, ("matched", row.organization_id, row.currency, row.campaign_id, None)
        )
    candidates = []
    for pool in found:
        if pool.pool_account_id is not None:
            account = ledger.AccountRef(pool.pool_account_id, pool.pool_account_currency)
        else:  # made with the pool; created here only for a hand-made pool
            made = pool_accounts(session, session.get(MatchingPool, pool.id))[2]  # type: ignore[arg-type]
            account = ledger.AccountRef(made.id, made.currency)
        candidates.append(Candidate(pool.id, account, matched))
    return candidates


#: PostgreSQL, one pool without per-donor or per-campaign caps (whose sums must be read
#: after the pool's lock, in a later statement, to see the matches committed meanwhile):
#: lock the pool, compute the match from the locked row (the gift times the ratio, within
#: the cap per gift and what is left), raise its allocation, write the match and its
#: ledger transaction with both entries, in ONE statement. The UPDATE's own condition
#: (rechecked on the row's latest version) keeps the pool from ever being over-allocated;
#: no row back means nothing was written (caps, nothing left, or a zero match), and the
#: caller falls back to the statement-per-step path.
_MATCH_IN_ONE = sa.text(
    """
    WITH pick AS (
        SELECT id, event_id, sponsor_uscc, currency,
            LEAST(CAST(:gift_fen AS bigint) * ratio_percent / 100, cap_per_gift_fen,
                  total_fen - allocated_fen) AS amount_fen
        FROM matching_pools
        WHERE id = :pool_id
          AND cap_per_donor_day_fen IS NULL AND cap_per_campaign_fen IS NULL
        FOR UPDATE
    ), allocation AS (
        UPDATE matching_pools
        SET allocated_fen = matching_pools.allocated_fen + pick.amount_fen
        FROM pick
        WHERE matching_pools.id = pick.id AND pick.amount_fen > 0
          AND matching_pools.allocated_fen + pick.amount_fen <= matching_pools.total_fen
        RETURNING pick.id, pick.event_id, pick.sponsor_uscc, pick.currency, pick.amount_fen
    ), new_match AS (
        INSERT INTO matches
            (donation_id, pool_id, campaign_id, amount_fen, released_fen, donor_key, cst_day,
             created_at)
        SELECT :donation_id, allocation.id, :campaign_id, allocation.amount_fen, 0,
               :donor_key, :day, :now
        FROM allocation
        RETURNING id, amount_fen
    ), new_transaction AS (
        INSERT INTO ledger_transactions
            (kind, source_key, donation_id, refund_id, description, created_at)
        SELECT 'match', 'match:' || CAST(new_match.id AS text), :donation_id, NULL,
               'Match ' || CAST(new_match.id AS text) || ': pool '
               || CAST(:pool_id AS text) || ' for donation ' || CAST(:donation_id AS text),
               :now
        FROM new_match
        RETURNING id
    ), entries AS (
        INSERT INTO ledger_entries (transaction_id, account_id, amount_fen, currency)
        SELECT new_transaction.id, line.account_id, line.sign * new_match.amount_fen,
               line.currency
        FROM new_transaction CROSS JOIN new_match CROSS JOIN (
            VALUES (CAST(:pool_account AS bigint), 1, CAST(:currency AS varchar)),
                   (CAST(:matched_account AS bigint), -1, CAST(:currency AS varchar))
        ) AS line(account_id, sign, currency)
    )
    SELECT new_match.id AS match_id, allocation.id, allocation.event_id,
           allocation.sponsor_uscc, allocation.currency, allocation.amount_fen
    FROM new_match CROSS JOIN allocation
    """
).bindparams(sa.bindparam("now", type_=_matches.c.created_at.type))


def _match_in_one(
    session: Session, row: Any, now: datetime, candidate: Candidate, key: str
) -> int | None:
    """``_MATCH_IN_ONE`` for one candidate pool; the match's id, or None (nothing
    written: the caller takes the long path)."""
    connection = session.connection()
    if (
        connection.dialect.name != "postgresql"
        or candidate.pool_account.currency != candidate.matched_account.currency
        or candidate.pool_account.currency != row.currency
    ):
        return None
    made = connection.execute(
        _MATCH_IN_ONE,
        {
            "gift_fen": row.amount_fen,
            "pool_id": candidate.pool_id,
            "donation_id": row.id,
            "campaign_id": row.campaign_id,
            "donor_key": key,
            "day": today_cst(now),
            "now": now,
            "pool_account": candidate.pool_account.id,
            "matched_account": candidate.matched_account.id,
            "currency": row.currency,
        },
    ).first()
    if made is None:
        return None
    record_event(
        session,
        "donation.matched",
        _match_payload(
            made.match_id, row.id, made, row.campaign_id, row.organization_id, made.amount_fen
        ),
        subject_table="matches",
        subject_id=made.match_id,
        at=now,
    )
    return int(made.match_id)


#: ``with_match``: the pieces of ``_MATCH_IN_ONE`` as CTEs of the donation's own UPDATE
#: (whose ``:donation_id`` they share), plus the match's log entry queued (batched log):
#: its canonical payload is the three pieces ``fused_params`` formats around the match's
#: amount and id, which only the statement knows.
_FUSED_CTES = (
    (
        "m_pick",
        """SELECT id, LEAST(CAST(:m_gift_fen AS bigint) * ratio_percent / 100,
                          cap_per_gift_fen, total_fen - allocated_fen) AS amount_fen
        FROM matching_pools
        WHERE id = :m_pool_id
          AND cap_per_donor_day_fen IS NULL AND cap_per_campaign_fen IS NULL
        FOR UPDATE""",
    ),
    (
        "m_allocation",
        """UPDATE matching_pools
        SET allocated_fen = matching_pools.allocated_fen + m_pick.amount_fen
        FROM m_pick
        WHERE matching_pools.id = m_pick.id AND m_pick.amount_fen > 0
          AND matching_pools.allocated_fen + m_pick.amount_fen <= matching_pools.total_fen
        RETURNING m_pick.id, m_pick.amount_fen""",
    ),
    (
        "m_match",
        """INSERT INTO matches
            (donation_id, pool_id, campaign_id, amount_fen, released_fen, donor_key, cst_day,
             created_at)
        SELECT :donation_id, m_allocation.id, :m_campaign_id, m_allocation.amount_fen, 0,
               :m_donor_key, :m_day, :m_now
        FROM m_allocation
        RETURNING id, amount_fen""",
    ),
    (
        "m_transaction",
        """INSERT INTO ledger_transactions
            (kind, source_key, donation_id, refund_id, description, created_at)
        SELECT 'match', 'match:' || CAST(m_match.id AS text), :donation_id, NULL,
               'Match ' || CAST(m_match.id AS text) || ': pool '
               || CAST(:m_pool_id AS text) || ' for donation '
               || CAST(:donation_id AS text),
               :m_now
        FROM m_match
        RETURNING id""",
    ),
    (
        "m_entries",
        """INSERT INTO ledger_entries (transaction_id, account_id, amount_fen, currency)
        SELECT m_transaction.id, line.account_id, line.sign * m_match.amount_fen, line.currency
        FROM m_transaction CROSS JOIN m_match CROSS JOIN (
            VALUES (CAST(:m_pool_account AS bigint), 1, CAST(:m_currency AS varchar)),
                   (CAST(:m_matched_account AS bigint), -1, CAST(:m_currency AS varchar))
        ) AS line(account_id, sign, currency)""",
    ),
    (
        "m_logged",
        """INSERT INTO auditlog_queue
            (payload, event_type, organization_uscc, organization_id, subject_table,
             subject_id, created_at)
        SELECT '{"amount_fen":' || CAST(m_match.amount_fen AS text)
               || CAST(:m_log_middle AS text) || CAST(m_match.id AS text)
               || CAST(:m_log_tail AS text),
               'donation.matched', NULL, :m_organization_id, 'matches', m_match.id, :m_now
        FROM m_match""",
    ),
)


#: How the match's log payload starts (``fused_log_pieces``; written in ``m_logged``).
_LOG_HEAD = '{"amount_fen":'


def with_match(update: Any) -> Any:
    """PostgreSQL, batched log: ``update`` (the donation's success UPDATE) that also makes
    the gift's match from one uncapped pool, in the same statement: lock the pool,
    compute the match from the locked row, raise its allocation under the guard, write
    the match, its ledger transaction with both entries and its log entry (queued). The
    result row has ``match_id`` and ``match_amount_fen`` (NULL: nothing matched; the
    caller runs ``match_gift`` after it). Built once, by ``donations``."""
    statement = update
    for name, body in _FUSED_CTES:
        textual = (
            sa.text(body).bindparams(sa.bindparam("m_now", type_=_matches.c.created_at.type))
            if ":m_now" in body
            else sa.text(body)
        )
        statement = statement.add_cte(textual.columns().cte(name))
    return statement.returning(
        sa.literal_column("(SELECT id FROM m_match)").label("match_id"),
        sa.literal_column("(SELECT amount_fen FROM m_match)").label("match_amount_fen"),
    )


def fused_candidate(
    connection: Any, row: Any, candidates: list[Candidate], batched: bool
) -> Candidate | None:
    """The one candidate whose match ``with_match`` can make inside the donation's UPDATE
    (PostgreSQL, batched log, one pool without per-donor or per-campaign caps, all in the
    gift's currency, its event known), else None (``match_gift`` runs as before)."""
    if not batched or len(candidates) != 1 or connection.dialect.name != "postgresql":
        return None
    candidate = candidates[0]
    if (
        not candidate.uncapped
        or candidate.event_id is None
        or candidate.pool_account.currency != row.currency
        or candidate.matched_account.currency != row.currency
    ):
        return None
    return candidate


def _fused_payload(row: Any, candidate: Candidate, amount: int, match_id: int) -> dict[str, Any]:
    return {
        "match_id": match_id,
        "donation_id": row.id,
        "pool_id": candidate.pool_id,
        "event_id": candidate.event_id,
        "sponsor_uscc": candidate.sponsor_uscc or None,
        "campaign_id": row.campaign_id,
        "organization_id": row.organization_id,
        "amount_fen": amount,
        "currency": row.currency,
    }


def _json_text(value: str | None) -> str:
    """A string (or null) as ``canonical_json`` writes it."""
    if value is None:
        return "null"
    if value.isascii() and value.isalnum():  # a currency code, a USCC: nothing to escape
        return f'"{value}"'
    return json.dumps(value, ensure_ascii=False)


def fused_log_pieces(row: Any, now: datetime, candidate: Candidate) -> tuple[str, str, str]:
    """The match's log payload, ``event_payload("donation.matched", now,
    _fused_payload(...))``, as (head, middle, tail) around its amount and its id:
    formatted by hand (canonical JSON: keys sorted, no spaces, UTF-8 as is), as this runs
    for every matched gift; tests compare it with ``event_payload`` for every field."""
    return (
        _LOG_HEAD,
        f',"at":"{format_timestamp(now)}","campaign_id":{int(row.campaign_id)}'
        f',"currency":{_json_text(row.currency)},"donation_id":{int(row.id)}'
        f',"event_id":{int(candidate.event_id)},"match_id":',  # type: ignore[arg-type]
        f',"organization_id":{int(row.organization_id)},"pool_id":{int(candidate.pool_id)}'
        f',"sponsor_uscc":{_json_text(candidate.sponsor_uscc or None)}'
        ',"type":"donation.matched"}',
    )


def fused_params(row: Any, now: datetime, day: date, candidate: Candidate) -> dict[str, Any]:
    """``with_match``'s parameters, besides the UPDATE's own (``donation_id`` too); ``day``
    is ``now``'s CST date."""
    _head, middle, tail = fused_log_pieces(row, now, candidate)
    return {
        "m_gift_fen": row.amount_fen,
        "m_pool_id": candidate.pool_id,
        "m_campaign_id": row.campaign_id,
        "m_donor_key": donor_key(row),
        "m_day": day,
        "m_now": now,
        "m_pool_account": candidate.pool_account.id,
        "m_matched_account": candidate.matched_account.id,
        "m_currency": row.currency,
        "m_log_middle": middle,
        "m_log_tail": tail,
        "m_organization_id": row.organization_id,
    }


def after_fused(
    session: Session, row: Any, now: datetime, candidate: Candidate, made: Any
) -> list[int]:
    """After ``with_match``'s UPDATE: the match's event through the one door (its log
    entry is already queued by the statement), or, when nothing was matched there (the
    pool's last yuan: a partial match, or nothing left), ``match_gift``'s long path."""
    if made.match_id is None:
        return match_gift(session, row, now, [candidate], one_statement=False)
    record_event(
        session,
        "donation.matched",
        _fused_payload(row, candidate, int(made.match_amount_fen), int(made.match_id)),
        subject_table="matches",
        subject_id=int(made.match_id),
        at=now,
        queued=True,
    )
    return [int(made.match_id)]


def match_gift(
    session: Session,
    row: Any,
    now: datetime,
    candidates: list[Candidate] | None = None,
    *,
    one_statement: bool = True,
) -> list[int]:
    """Match a gift that is succeeding now (``row``: the locked donation's columns) from
    its candidate pools. Returns the new matches' ids. Called by
    ``donations.confirm_payment`` only, after the receipt counter and before the gift's
    own log entry (lock order: donation, campaign, receipt counter, pools, log head)."""
    if candidates is None:
        candidates = match_candidates(session, row, now)
    if not candidates:
        return []
    if one_statement and len(candidates) == 1:  # the usual case: often one statement
        made_in_one = _match_in_one(session, row, now, candidates[0], donor_key(row))
        if made_in_one is not None:
            return [made_in_one]
    connection = session.connection()
    day = today_cst(now)
    # Lock every pool first, in id order, and only then write: the log entries below take
    # the log head's lock (inline log), which must come after every pool lock.
    locked = [(connection.execute(_LOCK_POOL, {"pool_id": c.pool_id}).one(), c) for c in candidates]
    made = []
    key = donor_key(row)
    for pool, candidate in locked:
        pool_id = pool.id
        donor_left = campaign_left = None
        if pool.cap_per_donor_day_fen is not None:
            used = connection.execute(
                _DONOR_TODAY, {"pool_id": pool_id, "donor_key": key, "day": day}
            ).scalar_one()
            donor_left = pool.cap_per_donor_day_fen - int(used)
        if pool.cap_per_campaign_fen is not None:
            used = connection.execute(
                _CAMPAIGN_MATCHED, {"pool_id": pool_id, "campaign_id": row.campaign_id}
            ).scalar_one()
            campaign_left = pool.cap_per_campaign_fen - int(used)
        amount = match_amount(
            row.amount_fen,
            pool.ratio_percent,
            pool.cap_per_gift_fen,
            donor_left,
            campaign_left,
            pool.total_fen - pool.allocated_fen,
        )
        if amount <= 0:
            continue
        if connection.execute(_ALLOCATE, {"pool_id": pool_id, "x": amount}).first() is None:
            raise RuntimeError(f"matching pool {pool_id} would be over-allocated")  # never
        match_id = connection.execute(
            _INSERT_MATCH,
            {
                "donation_id": row.id,
                "pool_id": pool_id,
                "campaign_id": row.campaign_id,
                "amount_fen": amount,
                "released_fen": 0,
                "donor_key": key,
                "cst_day": day,
                "created_at": now,
            },
        ).scalar_one()
        ledger.post_transaction(
            session,
            kind="match",
            source_key=f"match:{match_id}",
            donation_id=row.id,
            postings=[
                ledger.Posting(candidate.pool_account, amount),
                ledger.Posting(candidate.matched_account, -amount),
            ],
            description=f"Match {match_id}: pool {pool_id} for donation {row.id}",
            created_at=now,
        )
        record_event(
            session,
            "donation.matched",
            _match_payload(match_id, row.id, pool, row.campaign_id, row.organization_id, amount),
            subject_table="matches",
            subject_id=match_id,
            at=now,
        )
        made.append(match_id)
    return made


def _match_accounts(session: Session, pool: Any, row: Any) -> tuple[Any, Any]:
    """(the pool's match_pool account, the campaign's matched account) as AccountRefs."""
    key = f"matchpool:{pool.id}:match_pool:{pool.currency}"
    found = (
        session.connection()
        .execute(
            sa.select(LedgerAccount.id, LedgerAccount.currency).where(LedgerAccount.key == key)
        )
        .first()
    )
    if found is None:
        account = pool_accounts(session, session.get(MatchingPool, pool.id))[2]  # type: ignore[arg-type]
        found = (account.id, account.currency)
    (matched,) = ledger.account_refs(
        session, ("matched", row.organization_id, row.currency, row.campaign_id, None)
    )
    return ledger.AccountRef(found[0], found[1]), matched


def _match_payload(
    match_id: int,
    donation_id: int,
    pool: Any,
    campaign_id: int,
    organization_id: int,
    amount_fen: int,
) -> dict[str, Any]:
    return {
        "match_id": match_id,
        "donation_id": donation_id,
        "pool_id": pool.id,
        "event_id": pool.event_id,
        "sponsor_uscc": pool.sponsor_uscc or None,
        "campaign_id": campaign_id,
        "organization_id": organization_id,
        "amount_fen": amount_fen,
        "currency": pool.currency,
    }


def matched_payload(session: Session, match_id: int) -> dict[str, Any]:
    match = session.get(Match, match_id)
    if match is None:
        raise LookupError(f"match {match_id} is gone")
    donation = session.get(Donation, match.donation_id)
    assert donation is not None
    return _match_payload(
        match.id,
        match.donation_id,
        match.pool,
        match.campaign_id,
        donation.organization_id,
        match.amount_fen,
    )


def release_share(match_amount_fen: int, gift_fen: int, gift_net_fen: int) -> int:
    """What of a match a gift keeps once refunded down to ``gift_net_fen``: its share."""
    return match_amount_fen * gift_net_fen // gift_fen


def release_preview(session: Session, donation: Donation, refund_fen: int) -> int:
    """How much matched money a refund of ``refund_fen`` would take out of the campaign."""
    net_after = donation.amount_fen - donation.refunded_fen - refund_fen
    total = 0
    for match in session.scalars(sa.select(Match).where(Match.donation_id == donation.id)):
        keep = release_share(match.amount_fen, donation.amount_fen, net_after)
        total += max(0, match.net_fen - keep)
    return total


def release_for_refund(session: Session, donation: Donation, refund: Refund) -> list[int]:
    """A refund (already applied to ``donation``) gives the refunded share of each match
    back to its pool: pool row locked, ledger mirror posting, ``match.released`` entry."""
    matches = session.scalars(
        sa.select(Match).where(Match.donation_id == donation.id).order_by(Match.pool_id)
    ).all()
    releasing = []
    for match in matches:  # lock the pools first (id order), then write (see match_gift)
        keep = release_share(match.amount_fen, donation.amount_fen, donation.net_fen)
        if match.net_fen - keep > 0:
            releasing.append(
                (match, match.net_fen - keep, lock_matching_pool(session, match.pool_id))
            )
    made = []
    for match, amount, pool in releasing:
        pool.allocated_fen -= amount
        match.released_fen += amount
        release = MatchRelease(match_id=match.id, refund_id=refund.id, amount_fen=amount)
        session.add(release)
        session.flush()
        pool_account, matched = _match_accounts(session, pool, donation)
        ledger.post_transaction(
            session,
            kind="match_release",
            source_key=f"match_release:{release.id}",
            donation_id=donation.id,
            refund_id=refund.id,
            postings=[ledger.Posting(matched, amount), ledger.Posting(pool_account, -amount)],
            description=f"Match {match.id} released by refund {refund.id}",
        )
        record_event(session, "match.released", subject_id=release.id)
        made.append(release.id)
    return made


def released_payload(session: Session, release_id: int) -> dict[str, Any]:
    release = session.get(MatchRelease, release_id)
    if release is None:
        raise LookupError(f"match release {release_id} is gone")
    match = release.match
    return {
        "release_id": release.id,
        "match_id": match.id,
        "refund_id": release.refund_id,
        "donation_id": match.donation_id,
        "pool_id": match.pool_id,
        "campaign_id": match.campaign_id,
        "amount_fen": release.amount_fen,
        "currency": match.pool.currency,
    }


def giving_day_payload(session: Session, event_id: int) -> dict[str, Any]:
    event = session.get(GivingDay, event_id)
    if event is None:
        raise LookupError(f"giving day {event_id} is gone")
    return {
        "event_id": event.id,
        "name": event.name,
        "start_date": event.start_date.isoformat(),
        "end_date": event.end_date.isoformat(),
        "region": event.region,
    }


def accepted_payload(session: Session, entry_id: int) -> dict[str, Any]:
    entry = session.get(GivingDayCampaign, entry_id)
    if entry is None:
        raise LookupError(f"giving day campaign {entry_id} is gone")
    return {"event_id": entry.event_id, "campaign_id": entry.campaign_id}


def pool_payload(session: Session, pool_id: int) -> dict[str, Any]:
    pool = session.get(MatchingPool, pool_id)
    if pool is None:
        raise LookupError(f"matching pool {pool_id} is gone")
    eligible = session.scalars(
        sa.select(MatchingPoolCampaign.campaign_id)
        .where(MatchingPoolCampaign.pool_id == pool.id)
        .order_by(MatchingPoolCampaign.campaign_id)
    ).all()
    return {
        "pool_id": pool.id,
        "event_id": pool.event_id,
        "organization_id": pool.organization_id,
        "sponsor_name": pool.sponsor_name,
        "sponsor_uscc": pool.sponsor_uscc or None,
        "ratio_percent": pool.ratio_percent,
        "cap_per_gift_fen": pool.cap_per_gift_fen,
        "cap_per_donor_day_fen": pool.cap_per_donor_day_fen,
        "cap_per_campaign_fen": pool.cap_per_campaign_fen,
        "windows": pool.windows,
        "eligible_campaign_ids": list(eligible) if pool.restricted else None,
        "total_fen": pool.total_fen,
        "currency": pool.currency,
    }


def matches_of(session: Session, donation_id: int) -> list[Match]:
    return list(
        session.scalars(
            sa.select(Match).where(Match.donation_id == donation_id).order_by(Match.pool_id)
        )
    )


def matched_fen_of_donation(session: Session, donation_id: int) -> int:
    return sum(m.net_fen for m in matches_of(session, donation_id))


def campaign_matched_fen(session: Session, campaign_id: int, currency: str = "CNY") -> int:
    """Matching money allocated to the campaign, net of releases, from the ledger."""
    total = session.scalar(
        sa.select(sa.func.coalesce(sa.func.sum(LedgerEntry.amount_fen), 0))
        .join(LedgerAccount, LedgerEntry.account_id == LedgerAccount.id)
        .where(
            LedgerAccount.campaign_id == campaign_id,
            LedgerAccount.kind == "matched",
            LedgerAccount.currency == currency,
        )
    )
    return -int(total or 0)


# --- teams ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class NewTeam:
    campaign_id: int
    name: str
    goal_fen: int
    message: str = ""


def create_team(session: Session, actor: User, command: NewTeam) -> Team:
    """Any logged-in supporter creates a team page for a published campaign."""
    campaign = session.get(Campaign, command.campaign_id)
    if campaign is None:
        raise LookupError(command.campaign_id)
    if campaign.status != "published" or campaign.end_date < today_cst():
        raise GivingDayError(N_("This campaign is not accepting gifts now."))
    name = command.name.strip()
    if not name or len(name) > TEAM_NAME_MAX:
        raise GivingDayError(N_("Give the team a name (at most 60 characters)."), "name")
    if not 100 <= command.goal_fen <= 10**11:
        raise GivingDayError(N_("The goal must be at least ¥1."), "goal")
    if len(command.message) > TEAM_MESSAGE_MAX:
        raise GivingDayError(N_("The message is too long."), "message")
    team = Team(
        campaign_id=campaign.id,
        creator_id=actor.id,
        name=name,
        goal_fen=command.goal_fen,
        message=command.message.strip(),
    )
    session.add(team)
    session.flush()
    return team


def team_for_gift(session: Session, team_id: int | None, campaign_id: int | None) -> int | None:
    """The team a gift is credited to: only a visible team of the same campaign."""
    if team_id is None or campaign_id is None:
        return None
    team = session.get(Team, team_id)
    if team is None or team.hidden or team.campaign_id != campaign_id:
        return None
    return team.id


def hide_team(session: Session, actor: User, team_id: int, reason: str) -> Team:
    """The campaign's organization hides a team, with a reason (logged)."""
    team = session.get(Team, team_id)
    if team is None:
        raise LookupError(team_id)
    if role_in_org(actor, team.campaign.organization_id) not in ("owner", "editor"):
        raise PermissionError("not a manager of the campaign's organization")
    reason = reason.strip()
    if not reason or len(reason) > REASON_MAX:
        raise GivingDayError(N_("Give a reason (at most 300 characters)."), "reason")
    if team.hidden:
        raise GivingDayError(N_("This team is already hidden."))
    team.hidden = True
    team.hidden_reason = reason
    team.hidden_by_id = actor.id
    team.hidden_at = datetime.now(UTC)
    session.flush()
    record_event(session, "team.hidden", subject_id=team.id)
    return team


def team_hidden_payload(session: Session, team_id: int) -> dict[str, Any]:
    team = session.get(Team, team_id)
    if team is None:
        raise LookupError(f"team {team_id} is gone")
    return {
        "team_id": team.id,
        "campaign_id": team.campaign_id,
        "organization_id": team.campaign.organization_id,
        "reason": team.hidden_reason,
    }


# --- pledges --------------------------------------------------------------------------------


@dataclass(frozen=True)
class NewPledge:
    event_id: int
    organization_id: int
    company_name: str
    company_uscc: str
    amount_fen: int
    due_date: date
    campaign_id: int | None = None


def _require_finance(actor: User, organization_id: int) -> None:
    if role_in_org(actor, organization_id) not in ("owner", "finance"):
        raise PermissionError("not finance of the organization")


def record_pledge(session: Session, actor: User, command: NewPledge) -> Pledge:
    _require_finance(actor, command.organization_id)
    if session.get(GivingDay, command.event_id) is None:
        raise LookupError(command.event_id)
    name = command.company_name.strip()
    if not name or len(name) > 200:
        raise GivingDayError(N_("Name the company (at most 200 characters)."), "company_name")
    uscc = command.company_uscc.strip().upper()
    if not _valid_uscc(uscc):
        raise GivingDayError(N_("This is not a valid unified social credit code."), "company_uscc")
    if not 0 < command.amount_fen <= 10**13:
        raise GivingDayError(N_("The amount must be more than zero."), "amount")
    if command.campaign_id is not None:
        campaign = session.get(Campaign, command.campaign_id)
        if campaign is None or campaign.organization_id != command.organization_id:
            raise GivingDayError(N_("Choose one of your organization's campaigns."), "campaign_id")
    pledge = Pledge(
        event_id=command.event_id,
        organization_id=command.organization_id,
        campaign_id=command.campaign_id,
        company_name=name,
        company_uscc=uscc,
        amount_fen=command.amount_fen,
        due_date=command.due_date,
        created_by_id=actor.id,
    )
    session.add(pledge)
    session.flush()
    record_event(session, "pledge.recorded", subject_id=pledge.id)
    return pledge


def link_gift(session: Session, actor: User, pledge_id: int, donation_id: int) -> Donation:
    """The organization links a gift (online or offline) that pays the pledge."""
    pledge = session.get(Pledge, pledge_id)
    if pledge is None:
        raise LookupError(pledge_id)
    _require_finance(actor, pledge.organization_id)
    donation = session.scalars(
        sa.select(Donation).where(Donation.id == donation_id).with_for_update()
    ).one_or_none()
    if donation is None or donation.organization_id != pledge.organization_id:
        raise GivingDayError(N_("Choose a gift received by your organization."), "donation_id")
    if donation.status not in ("succeeded", "partially_refunded"):
        raise GivingDayError(N_("Only a received gift can be linked."), "donation_id")
    if donation.pledge_id is not None:
        raise GivingDayError(N_("This gift is already linked to a pledge."), "donation_id")
    donation.pledge_id = pledge.id
    session.flush()
    record_event(session, "pledge.gift_linked", subject_id=donation.id)
    return donation


def pledge_payload(session: Session, pledge_id: int) -> dict[str, Any]:
    pledge = session.get(Pledge, pledge_id)
    if pledge is None:
        raise LookupError(f"pledge {pledge_id} is gone")
    return {
        "pledge_id": pledge.id,
        "event_id": pledge.event_id,
        "organization_id": pledge.organization_id,
        "campaign_id": pledge.campaign_id,
        "company_name": pledge.company_name,
        "company_uscc": pledge.company_uscc,
        "amount_fen": pledge.amount_fen,
        "due_date": pledge.due_date.isoformat(),
    }


def linked_payload(session: Session, donation_id: int) -> dict[str, Any]:
    donation = session.get(Donation, donation_id)
    if donation is None or donation.pledge_id is None:
        raise LookupError(f"donation {donation_id} is not linked")
    return {
        "pledge_id": donation.pledge_id,
        "donation_id": donation.id,
        "organization_id": donation.organization_id,
        "amount_fen": donation.amount_fen,
    }


def pledge_received_fen(session: Session, pledge_ids: list[int]) -> dict[int, int]:
    """{pledge id: money received so far}: its linked gifts net of refunds."""
    if not pledge_ids:
        return {}
    rows = session.execute(
        sa.select(Donation.pledge_id, sa.func.sum(Donation.amount_fen - Donation.refunded_fen))
        .where(
            Donation.pledge_id.in_(pledge_ids),
            Donation.status.in_(("succeeded", "partially_refunded", "refunded")),
        )
        .group_by(Donation.pledge_id)
    ).all()
    return {int(p): int(total or 0) for p, total in rows}
