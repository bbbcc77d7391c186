"""Matching (配捐) in the success path: ratio, caps, windows, the pool's end, refunds, the
books (`flask ledger check`), the public log and the FIFO tracing (both databases)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import pytest
import sqlalchemy as sa
from psycopg._queries import MAX_CACHED_STATEMENT_LENGTH

from charity.auditlog.store import event_payload
from charity.core.clock import CST
from charity.extensions import db
from charity.models import (
    AuditEntry,
    Donation,
    GivingDayCampaign,
    LedgerTransaction,
    Match,
    MatchingPool,
    MatchRelease,
    utcnow,
)
from charity.services import allocation, donor_accounts, givingdays
from charity.services.ledger import campaign_raised_fen, check_books
from charity.services.pools import Pool
from tests.support.campaigns import StatementCounter
from tests.support.factories import CampaignFactory, UserFactory
from tests.support.givingdays import company_uscc, give, make_day, new_gift, refund, succeed


def _books_ok() -> None:
    problems, _notes = check_books(db.session)
    assert problems == []


def test_one_to_one_match_is_posted_logged_and_shown_apart_from_raised(day):  # type: ignore[no-untyped-def]
    gift = give(day.campaign, 5000)
    (match,) = givingdays.matches_of(db.session, gift.id)
    assert (match.amount_fen, match.pool_id, match.campaign_id) == (
        5000,
        day.pool.id,
        day.campaign.id,
    )
    db.session.refresh(day.pool)
    assert day.pool.allocated_fen == 5000 and day.pool.remaining_fen == 95_000
    assert campaign_raised_fen(db.session, day.campaign.id) == 5000  # the donor's money only
    assert givingdays.campaign_matched_fen(db.session, day.campaign.id) == 5000
    txn = db.session.scalars(
        sa.select(LedgerTransaction).where(LedgerTransaction.source_key == f"match:{match.id}")
    ).one()
    assert sorted(e.amount_fen for e in txn.entries) == [-5000, 5000]
    entry = db.session.scalars(
        sa.select(AuditEntry).where(AuditEntry.event_type == "donation.matched")
    ).one()
    assert entry.subject_id == match.id
    _books_ok()


def test_replayed_success_matches_once(day):  # type: ignore[no-untyped-def]
    gift = give(day.campaign, 3000)
    assert succeed(gift) is False
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Match)) == 1
    _books_ok()


def test_ratio_and_caps(db_session):  # type: ignore[no-untyped-def]
    day = make_day(
        ratio_percent=50,
        cap_per_gift_fen=2000,
        cap_per_donor_day_fen=3000,
        cap_per_campaign_fen=4500,
    )
    first = give(day.campaign, 2000, "a@example.org")  # 50% of 20 = 10
    second = give(day.campaign, 10000, "a@example.org")  # 50, capped per gift 20
    third = give(day.campaign, 10000, "a@example.org")  # donor has 0 left today
    fourth = give(day.campaign, 10000, "b@example.org")  # campaign has 15 left
    fifth = give(day.campaign, 10000, "c@example.org")  # campaign cap reached
    got = [
        givingdays.matched_fen_of_donation(db.session, g.id)
        for g in (first, second, third, fourth, fifth)
    ]
    assert got == [1000, 2000, 0, 1500, 0]
    _books_ok()


def test_splitting_a_gift_is_bounded_by_the_donor_cap(db_session):  # type: ignore[no-untyped-def]
    day = make_day(cap_per_donor_day_fen=1000)
    gifts = [give(day.campaign, 300, "Split@Example.org") for _ in range(10)]
    assert sum(givingdays.matched_fen_of_donation(db.session, g.id) for g in gifts) == 1000


def test_last_gift_gets_a_partial_match_then_nothing(db_session):  # type: ignore[no-untyped-def]
    day = make_day(total_fen=7000)
    a = give(day.campaign, 5000, "a@example.org")
    b = give(day.campaign, 5000, "b@example.org")
    c = give(day.campaign, 5000, "c@example.org")
    assert [givingdays.matched_fen_of_donation(db.session, g.id) for g in (a, b, c)] == [
        5000,
        2000,
        0,
    ]
    db.session.refresh(day.pool)
    assert day.pool.allocated_fen == day.pool.total_fen
    _books_ok()


def test_outside_the_window_no_match(db_session):  # type: ignore[no-untyped-def]
    hour = (datetime.now(UTC).astimezone(CST) + timedelta(hours=2)).hour
    end = min(hour + 1, 24)
    start = hour if end > hour else 0
    day = make_day(windows=f"{start:02d}:00-{end:02d}:00" if hour < 23 else "00:00-00:30")
    gift = give(day.campaign, 5000)
    assert givingdays.matches_of(db.session, gift.id) == []


def test_windows_parse_and_bad_windows_are_refused():  # type: ignore[no-untyped-def]
    at_ten = datetime(2026, 6, 30, 2, 0, tzinfo=UTC)  # 10:00 CST
    assert givingdays.in_window("09:00-12:00", at_ten)
    assert not givingdays.in_window("12:00-14:00;20:00-24:00", at_ten)
    assert givingdays.in_window("", at_ten)
    for bad in ("9-12", "12:00-09:00", "25:00-26:00"):
        with pytest.raises(givingdays.GivingDayError):
            givingdays.parse_windows(bad)


def test_campaign_not_accepted_or_not_eligible_is_not_matched(db_session):  # type: ignore[no-untyped-def]
    other = CampaignFactory()
    day = make_day(campaign_ids=(other.id,))  # restricted to another campaign
    gift = give(day.campaign, 5000)
    assert givingdays.matches_of(db.session, gift.id) == []
    outsider = give(other, 5000)  # eligible but never accepted into the event
    assert givingdays.matches_of(db.session, outsider.id) == []
    entry = givingdays.apply_campaign(db.session, _owner(other), day.event.id, other.id)
    givingdays.decide_campaign(db.session, day.admin, entry.id, accept=True)
    third = give(other, 5000)
    assert givingdays.matched_fen_of_donation(db.session, third.id) == 5000


def _owner(campaign):  # type: ignore[no-untyped-def]
    from tests.support.factories import MembershipFactory

    return MembershipFactory(organization=campaign.organization, role="owner").user


def test_full_and_partial_refunds_release_their_match(day):  # type: ignore[no-untyped-def]
    gift = give(day.campaign, 5000)
    assert refund(gift, 2000, "re_part") == "applied"  # keeps 3000 of 5000: match 3000
    (match,) = givingdays.matches_of(db.session, gift.id)
    db.session.refresh(match)
    assert match.released_fen == 2000
    assert refund(gift, 3000, "re_rest") == "applied"
    db.session.refresh(match)
    db.session.refresh(day.pool)
    assert match.released_fen == 5000 and day.pool.allocated_fen == 0
    assert db.session.scalar(sa.select(sa.func.count()).select_from(MatchRelease)) == 2
    assert givingdays.campaign_matched_fen(db.session, day.campaign.id) == 0
    logged = db.session.scalars(
        sa.select(AuditEntry.event_type).where(AuditEntry.event_type == "match.released")
    ).all()
    assert len(logged) == 2
    _books_ok()


def test_released_money_matches_the_next_gift(db_session):  # type: ignore[no-untyped-def]
    day = make_day(total_fen=5000)
    first = give(day.campaign, 5000, "a@example.org")
    refund(first, 5000, "re_all")
    second = give(day.campaign, 5000, "b@example.org")
    assert givingdays.matched_fen_of_donation(db.session, second.id) == 5000
    _books_ok()


def test_matched_money_is_a_fifo_source_of_the_campaign(day):  # type: ignore[no-untyped-def]
    gift = give(day.campaign, 5000)
    (match,) = givingdays.matches_of(db.session, gift.id)
    sources, _uses = allocation.pool_movements(db.session, Pool("campaign", day.campaign.id))
    assert {s.key: s.net_fen for s in sources} == {
        f"donation:{gift.id}": 5000,
        f"match:{match.id}": 5000,
    }


def test_ledger_check_finds_a_hand_edited_pool(day):  # type: ignore[no-untyped-def]
    give(day.campaign, 5000)
    db.session.execute(
        sa.update(MatchingPool).where(MatchingPool.id == day.pool.id).values(allocated_fen=1)
    )
    problems, _ = check_books(db.session)
    assert any(f"matching pool {day.pool.id}" in p for p in problems)


def test_event_not_running_no_match(db_session):  # type: ignore[no-untyped-def]
    day = make_day()
    day.event.end_date = day.event.start_date = day.event.start_date - timedelta(days=5)
    db.session.flush()
    gift = give(day.campaign, 5000)
    assert givingdays.matches_of(db.session, gift.id) == []


def test_pending_gift_has_no_match_until_it_succeeds(day):  # type: ignore[no-untyped-def]
    gift = new_gift(day.campaign, 5000)
    assert givingdays.matches_of(db.session, gift.id) == []
    assert db.session.scalar(sa.select(sa.func.count()).select_from(GivingDayCampaign)) == 1


def test_audit_verify_and_ledger_check_recompute_every_giving_day_entry(app, day):  # type: ignore[no-untyped-def]
    """Every entry (event, acceptance, pool, match, release) is rebuilt from its row."""
    gift = give(day.campaign, 5000)
    refund(gift, 1000, "re_v")
    db.session.commit()
    result = app.test_cli_runner().invoke(args=["audit", "verify"])
    assert result.exit_code == 0, result.stdout + result.stderr
    result = app.test_cli_runner().invoke(args=["ledger", "check"])
    assert result.exit_code == 0, result.stdout + result.stderr


def test_sponsor_payment_moves_commitment_to_received_and_never_more(day):  # type: ignore[no-untyped-def]
    """Recorded by one person, confirmed by a second (tests/givingdays/test_sponsor_payments.py
    has the pages and the four-eyes refusals)."""
    from charity.core.clock import today_cst
    from charity.services import sponsor_payments as sp
    from tests.support.factories import MembershipFactory, second_person

    organization = day.pool.organization
    finance = second_person(MembershipFactory(organization=organization, role="finance").user)
    owner = second_person(MembershipFactory(organization=organization, role="owner").user)

    def paid(amount_fen: int, recorder, confirmer):  # type: ignore[no-untyped-def]
        payment = sp.record_payment(
            db.session,
            recorder,
            sp.NewSponsorPayment(day.pool.id, amount_fen, today_cst(), f"BANK{amount_fen}"),
        )
        return sp.confirm_payment(db.session, confirmer, payment.id)

    with pytest.raises(PermissionError):  # the campaign's owner is not the pool's
        paid(100, day.owner, finance)
    paid(60_000, finance, owner)
    with pytest.raises(givingdays.GivingDayError):
        paid(40_001, finance, owner)
    paid(40_000, owner, finance)
    commitment, received, _pool = givingdays.pool_accounts(db.session, day.pool)
    from charity.services.ledger import account_balance

    assert account_balance(db.session, received.id) == 100_000
    assert account_balance(db.session, commitment.id) == 0
    _books_ok()


def test_erasure_leaves_no_donor_hash_in_the_matches(db_session):  # type: ignore[no-untyped-def]
    day = make_day(cap_per_donor_day_fen=3000)
    email = "erase.me@example.org"
    gifts = [give(day.campaign, 1000, email) for _ in range(2)]
    other = give(day.campaign, 1000, "stays@example.org")
    donor = UserFactory(email=email, email_verified_at=utcnow())
    db.session.flush()
    hashed = givingdays.donor_key(gifts[0])
    keys = lambda: db.session.scalars(  # noqa: E731
        sa.select(Match.donor_key).where(Match.donation_id.in_([g.id for g in gifts]))
    ).all()
    assert keys() == [hashed, hashed]  # the test can see it

    donor_accounts.erase_my_data(db.session, donor, donor_accounts.EraseMyData(False))

    after = keys()
    assert hashed not in after and len(set(after)) == 1  # still one donor, unidentifiable
    stays = db.session.scalar(sa.select(Match.donor_key).where(Match.donation_id == other.id))
    assert stays == givingdays.donor_key(other)  # someone else's match untouched
    # the matches themselves (and the books) are unchanged
    assert sum(givingdays.matched_fen_of_donation(db.session, g.id) for g in gifts) == 2000
    _books_ok()


def _log_verifies(app) -> None:  # type: ignore[no-untyped-def]
    from charity.auditlog import checkpoint, integrity, store

    store.sequence_pending(db.session)
    signer = checkpoint.signer_for(app)
    assert list(integrity.check_log(db.session, signer, app.config["AUDITLOG_ORIGIN"])) == []


@pytest.mark.parametrize(
    ("pool_fields", "gifts", "wanted"),
    [
        # one statement: the match made by the donation's own UPDATE (with a sponsor
        # USCC in its payload)
        ({"sponsor_uscc": company_uscc(7)}, [5000, 2000], [5000, 2000]),
        # the pool's last yuan: a partial match in the UPDATE, then no candidate
        ({"total_fen": 6000}, [5000, 2000, 1000], [5000, 1000]),
        # 1:0.5 within a cap per gift
        ({"ratio_percent": 50, "cap_per_gift_fen": 2000}, [5000, 1000], [2000, 500]),
        # a per-donor cap: always the long path, after the gift's log entry
        ({"cap_per_donor_day_fen": 6000}, [5000, 2000], [5000, 1000]),
    ],
)
def test_batched_log_match_in_the_donations_update(
    app, db_session, postgres_only, monkeypatch, pool_fields, gifts, wanted
):  # type: ignore[no-untyped-def]
    """PostgreSQL with the batched log (production): the match, its books and its queued
    log entry come with the donation's UPDATE; every entry verifies against its row."""
    from charity.models import AuditQueued

    monkeypatch.setitem(app.config, "AUDITLOG_SEQUENCER", "batched")
    day = make_day(**pool_fields)
    made = [give(day.campaign, amount) for amount in gifts]
    matches = [m for gift in made for m in givingdays.matches_of(db.session, gift.id)]
    assert [m.amount_fen for m in matches] == wanted
    db.session.refresh(day.pool)
    assert day.pool.allocated_fen == sum(wanted)
    queued = db.session.scalars(
        sa.select(AuditQueued).where(AuditQueued.event_type == "donation.matched")
    ).all()
    assert sorted(q.subject_id for q in queued) == sorted(m.id for m in matches)
    for entry in queued:
        match = db.session.get(Match, entry.subject_id)
        assert f'"amount_fen":{match.amount_fen},' in entry.payload
        assert f'"match_id":{match.id},' in entry.payload
        assert entry.organization_id == day.campaign.organization_id
    assert succeed(made[0]) is False  # a replay matches nothing more
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Match)) == len(wanted)
    _books_ok()
    pool_id, first_id = day.pool.id, made[0].id
    _log_verifies(app)  # (leaves the session empty)
    first = db.session.get(Donation, first_id)
    assert refund(first, gifts[0], "re_batched_1") == "applied"
    assert db.session.get(MatchingPool, pool_id).allocated_fen == sum(wanted) - wanted[0]
    _books_ok()
    _log_verifies(app)


@pytest.mark.parametrize(
    ("sponsor_uscc", "currency", "at"),
    [
        (None, "CNY", datetime(2026, 6, 30, 1, 2, 3, 456789, tzinfo=UTC)),
        ("", "CNY", datetime(2026, 6, 30, 16, 0, tzinfo=UTC)),
        (company_uscc(7), "USD", datetime(2026, 12, 31, 23, 59, 59, 999999, tzinfo=CST)),
        ('9144"\\配捐\n', "人民币", datetime(2027, 1, 1, tzinfo=UTC)),
    ],
)
def test_fused_log_pieces_are_the_canonical_payload(sponsor_uscc, currency, at):  # type: ignore[no-untyped-def]
    """The match's queued log text, formatted by hand around its amount and id, is
    byte for byte what ``event_payload`` makes of the same event (what the log verifies)."""
    row = SimpleNamespace(id=81234, campaign_id=17, organization_id=2**40, currency=currency)
    account = givingdays.ledger.AccountRef(5, currency)
    candidate = givingdays.Candidate(9, account, account, event_id=3, sponsor_uscc=sponsor_uscc)
    head, middle, tail = givingdays.fused_log_pieces(row, at, candidate)
    for amount, match_id in [(1, 1), (500_000, 2**31 + 7)]:
        data = givingdays._fused_payload(row, candidate, amount, match_id)
        wanted = event_payload("donation.matched", at, data)
        assert head + str(amount) + middle + str(match_id) + tail == wanted


def test_batched_log_a_matched_gift_costs_no_statement_more_than_a_plain_one(
    app, db_session, postgres_only, monkeypatch
):  # type: ignore[no-untyped-def]
    """PostgreSQL with the batched log: the match (and its queued entry) rides on the
    donation's UPDATE, which queues the gift's own entry too, so a matched confirmation
    sends as many statements as an unmatched one; the statement stays short enough for
    psycopg's query cache (4 KiB)."""
    monkeypatch.setitem(app.config, "AUDITLOG_SEQUENCER", "batched")
    day = make_day()
    plain_campaign = CampaignFactory(organization=day.campaign.organization)
    give(day.campaign, 1000)  # each campaign's first gift creates its accounts
    give(plain_campaign, 1000)

    def statements_of(campaign):  # type: ignore[no-untyped-def]
        donation = new_gift(campaign, 3000)
        db.session.commit()
        counter = StatementCounter()
        sa.event.listen(db.engine, "before_cursor_execute", counter)
        try:
            assert succeed(donation)
        finally:
            sa.event.remove(db.engine, "before_cursor_execute", counter)
        return counter.statements, donation

    matched_statements, matched = statements_of(day.campaign)
    plain_statements, plain = statements_of(plain_campaign)
    assert [m.amount_fen for m in givingdays.matches_of(db.session, matched.id)] == [3000]
    assert givingdays.matches_of(db.session, plain.id) == []
    # the one statement more is the receipt counter's: a gift no pool may match takes
    # its number inside its UPDATE; a matched one before the pool's lock (lock order)
    counter = "INSERT INTO receipt_counters"
    assert [s.startswith(counter) for s in matched_statements].count(True) == 1
    assert not any(s.startswith(counter) for s in plain_statements)
    assert len(matched_statements) == len(plain_statements) + 1, matched_statements
    (fused,) = [sql for sql in matched_statements if "m_match" in sql]
    assert len(fused.encode()) <= MAX_CACHED_STATEMENT_LENGTH
