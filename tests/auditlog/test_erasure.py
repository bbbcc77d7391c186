"""Erasing a donor's personal data keeps the log and `flask audit verify` intact."""

from __future__ import annotations

import json

import pytest

from charity.auditlog import checkpoint, erasure, integrity, merkle, store
from charity.auditlog.canonical import donor_commitment, new_salt
from charity.core import events
from charity.core.events import record_event
from charity.models import AuditEntry, Donation
from tests.support.factories import OrganizationFactory

GIFT = "testonly.gift_succeeded"


@pytest.fixture
def gift_builder():  # type: ignore[no-untyped-def]
    """A minimal donation builder of the kind donation features register: it reads the
    *stored* commitment, never recomputes it from the salt."""

    def build(session, donation_id):  # type: ignore[no-untyped-def]
        donation = session.get(Donation, donation_id)
        return {
            "donation_id": donation.id,
            "amount_fen": donation.amount_fen,
            "currency": donation.currency,
            "donor_commitment": donation.donor_commitment,
        }

    events.register_payload_builder(GIFT, "donations", build)
    yield build
    events.unregister_payload_builder(GIFT)


def _problems(app, session) -> list[str]:  # type: ignore[no-untyped-def]
    signer = checkpoint.signer_for(app)
    return [str(p) for p in integrity.check_log(session, signer, app.config["AUDITLOG_ORIGIN"])]


def test_erasure_keeps_the_log_verifiable(app, db_session, gift_builder) -> None:  # type: ignore[no-untyped-def]
    organization = OrganizationFactory()
    salt = new_salt()
    donor = {"name": "李四", "email": "lisi@example.org"}
    donation = Donation(
        organization_id=organization.id,
        amount_fen=10_000,
        status="succeeded",
        donor_name=donor["name"],
        donor_email=donor["email"],
        commitment_salt=salt,
        donor_commitment=donor_commitment(salt, donor),
    )
    db_session.add(donation)
    db_session.flush()  # the id is the log's subject
    [gift_index] = record_event(db_session, GIFT, subject_id=donation.id)
    gift_payload = db_session.get(AuditEntry, gift_index).payload
    assert "李四" not in gift_payload and donation.donor_commitment in gift_payload
    checkpoint.current_checkpoint(db_session, checkpoint.signer_for(app), "charity.test/log")
    old_size, old_root = store.current_head(db_session)

    erased_index = erasure.erase_personal_data(
        db_session,
        None,
        erasure.ErasePersonalData(donation, fields=("donor_name", "donor_email")),
    )
    db_session.commit()

    db_session.refresh(donation)
    assert (donation.donor_name, donation.donor_email, donation.commitment_salt) == (None,) * 3
    assert donation.donor_commitment is not None
    entry = json.loads(db_session.get(AuditEntry, erased_index).payload)
    assert entry["type"] == "personal_data.erased"
    assert entry["entries"] == [gift_index]
    assert entry["donor_commitment"] == donation.donor_commitment
    assert entry["erased_fields"] == ["commitment_salt", "donor_email", "donor_name"]
    assert db_session.get(AuditEntry, gift_index).payload == gift_payload
    new_size, new_root = store.current_head(db_session)
    proof = store.consistency_proof(db_session, old_size, new_size)
    merkle.verify_consistency(old_size, new_size, old_root, new_root, proof)
    assert _problems(app, db_session) == []


def test_a_tampered_amount_is_still_caught_after_erasure(app, db_session, gift_builder) -> None:  # type: ignore[no-untyped-def]
    import sqlalchemy as sa

    organization = OrganizationFactory()
    donation = Donation(organization_id=organization.id, amount_fen=500, status="succeeded")
    db_session.add(donation)
    db_session.flush()
    [index] = record_event(db_session, GIFT, subject_id=donation.id)
    db_session.execute(
        sa.text("UPDATE donations SET amount_fen = 50 WHERE id = :id"), {"id": donation.id}
    )
    db_session.commit()
    assert any(p.startswith(f"entry {index}: amount_fen") for p in _problems(app, db_session))


def test_erasure_rejects_unknown_fields(db_session) -> None:  # type: ignore[no-untyped-def]
    organization = OrganizationFactory()
    donation = Donation(organization_id=organization.id, amount_fen=500)
    db_session.add(donation)
    db_session.flush()
    with pytest.raises(erasure.ErasureError):
        erasure.erase_personal_data(
            db_session, None, erasure.ErasePersonalData(donation, fields=("donor_shoe_size",))
        )
