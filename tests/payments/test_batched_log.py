"""A gift confirmed with the batched log (production's AUDITLOG_SEQUENCER=batched): the
entry is queued with the gift, the receipt says so, and the sequencer links it."""

from __future__ import annotations

import json
from datetime import datetime

from charity.auditlog import checkpoint, integrity, store
from charity.extensions import db
from charity.models import AuditEntry
from charity.services import ledger
from charity.services.donations import succeeded_payload
from tests.support.payments import confirm_at_stripe, event, intent_object, post_event


def test_receipt_links_its_entry_once_the_sequencer_has_run(
    stripe_app, client, campaign, mail_outbox, monkeypatch
):  # type: ignore[no-untyped-def]
    monkeypatch.setitem(stripe_app.config, "AUDITLOG_SEQUENCER", "batched")
    donation = confirm_at_stripe(client, campaign)
    size_before, _root = store.current_head(db.session)

    response = post_event(client, event("payment_intent.succeeded", intent_object(donation)))

    assert response.json["status"] == "applied"
    db.session.refresh(donation)
    assert donation.status == "succeeded" and donation.receipt_number
    assert donation.log_index is None and store.pending_count(db.session) == 1
    assert store.current_head(db.session)[0] == size_before
    [mail] = mail_outbox  # the receipt job ran (inline here) after the commit
    assert donation.public_token in mail.get_body(("plain",)).get_content()
    page = client.get(f"/donations/{donation.public_token}").get_data(as_text=True)
    assert "being added to the public log" in page
    # The books count the queued entry: it exists, it only waits for its index.
    assert ledger.check_books(db.session)[0] == []

    [index] = store.sequence_pending(db.session)

    db.session.refresh(donation)
    assert donation.log_index == index == size_before
    entry = db.session.get(AuditEntry, index)
    assert (entry.event_type, entry.subject_id) == ("donation.succeeded", donation.id)
    assert f'"receipt_number":"{donation.receipt_number}"' in entry.payload
    # queued by the donation's own UPDATE: byte for byte the canonical entry
    logged_at = datetime.fromisoformat(json.loads(entry.payload)["at"].replace("Z", "+00:00"))
    rebuilt = succeeded_payload(db.session, donation.id)
    assert entry.payload == store.event_payload("donation.succeeded", logged_at, rebuilt)
    page = client.get(f"/donations/{donation.public_token}").get_data(as_text=True)
    assert f"#{index}" in page and "being added" not in page
    signer = checkpoint.signer_for(stripe_app)
    origin = stripe_app.config["AUDITLOG_ORIGIN"]
    assert list(integrity.check_log(db.session, signer, origin)) == []
