"""200 webhook deliveries from parallel clients on PostgreSQL: exact totals, once each."""

from __future__ import annotations

import random
import threading
import urllib.request
from concurrent.futures import ThreadPoolExecutor

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session
from werkzeug.serving import make_server

from charity.auditlog import checkpoint, integrity, store
from charity.core import events
from charity.extensions import db
from charity.models import AuditEntry, Donation, LedgerTransaction, ProviderEvent
from charity.services import ledger
from tests.support.factories import CampaignFactory
from tests.support.payments import event, intent_object, paid_donations, sign

UNIQUE = 140
DUPLICATES = 60  # 30% of 200 deliveries


@pytest.mark.postgres_only
@pytest.mark.parametrize("log_mode", ["inline", "batched"])
def test_parallel_duplicated_shuffled_webhooks(
    stripe_app, committed_db, postgres_only, log_mode, monkeypatch
):  # type: ignore[no-untyped-def]
    """With the batched log a sequencer thread appends entries while deliveries run."""
    monkeypatch.setitem(stripe_app.config, "AUDITLOG_SEQUENCER", log_mode)
    campaign = CampaignFactory()
    committed_db.commit()
    paid = paid_donations(campaign, stripe_app, UNIQUE)
    payloads = [event("payment_intent.succeeded", intent_object(d)) for d in paid]
    deliveries = payloads + random.choices(payloads, k=DUPLICATES)
    random.shuffle(deliveries)

    recorded: list[int] = []
    lock = threading.Lock()

    def count(_session, recorded_event):  # type: ignore[no-untyped-def]
        if recorded_event.type == "donation.succeeded":
            with lock:
                recorded.append(recorded_event.subject_id)

    events.subscribe(count)
    stop_sequencer = threading.Event()
    engine = db.engine

    def sequence() -> None:
        while not stop_sequencer.is_set():
            with Session(engine) as session, session.begin():
                store.sequence_pending(session, limit=25)
            stop_sequencer.wait(0.01)

    sequencer = threading.Thread(target=sequence, daemon=True)
    if log_mode == "batched":
        sequencer.start()
    server = make_server("127.0.0.1", 0, stripe_app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{server.server_port}/stripe/webhook"

    def deliver(payload: str) -> int:
        request = urllib.request.Request(
            url,
            data=payload.encode(),
            headers={"Content-Type": "application/json", "Stripe-Signature": sign(payload)},
        )
        with urllib.request.urlopen(request, timeout=60) as response:  # noqa: S310 - 127.0.0.1
            return response.status

    try:
        with ThreadPoolExecutor(max_workers=10) as pool:
            statuses = list(pool.map(deliver, deliveries))
    finally:
        server.shutdown()
        thread.join()
        events.unsubscribe(count)
        stop_sequencer.set()
        if sequencer.is_alive():
            sequencer.join(timeout=60)
    with Session(db.engine) as session, session.begin():  # what is still queued
        store.sequence_pending(session, limit=10_000)

    assert statuses == [200] * len(deliveries)
    session = db.session
    session.expire_all()
    rows = session.scalars(sa.select(Donation).where(Donation.campaign_id == campaign.id)).all()
    assert {d.status for d in rows} == {"succeeded"}
    total = sum(d.amount_fen for d in rows)
    assert ledger.campaign_raised_fen(session, campaign.id) == total
    assert session.scalar(sa.select(sa.func.count()).select_from(LedgerTransaction)) == UNIQUE
    assert session.scalar(sa.select(sa.func.count()).select_from(ProviderEvent)) == UNIQUE
    assert sorted(recorded) == sorted(d.id for d in rows)
    assert sorted(d.receipt_seq for d in rows) == list(range(1, UNIQUE + 1))
    assert len({d.receipt_number for d in rows}) == UNIQUE
    assert ledger.check_books(session)[0] == []
    # Every gift's entry is in the log once, at the index its donation links.
    logged = dict(
        session.execute(
            sa.select(AuditEntry.subject_id, AuditEntry.index).where(
                AuditEntry.event_type == "donation.succeeded"
            )
        ).all()
    )
    assert logged == {d.id: d.log_index for d in rows}
    assert store.pending_count(session) == 0
    signer = checkpoint.signer_for(stripe_app)
    origin = stripe_app.config["AUDITLOG_ORIGIN"]
    assert list(integrity.check_log(session, signer, origin)) == []
