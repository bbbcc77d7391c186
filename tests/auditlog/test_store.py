"""The stored tree: appends, rollback, proofs against the RFC 9162 reference, on both DBs."""

from __future__ import annotations

import json

import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from charity.auditlog import merkle, store
from charity.core.events import record_event
from charity.models import AuditEntry, AuditNode
from tests.support.auditlog import synthetic
from tests.support.factories import OrganizationFactory

FIXTURE_SETTINGS = settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)


def _stored_leaves(session) -> list[bytes]:  # type: ignore[no-untyped-def]
    query = sa.select(AuditEntry.leaf_hash).order_by(AuditEntry.index)
    return list(session.scalars(query))


def test_record_event_appends_canonical_payload(db_session) -> None:  # type: ignore[no-untyped-def]
    organization = OrganizationFactory()
    [index] = record_event(db_session, "organization.verified", subject_id=organization.id)
    entry = db_session.get(AuditEntry, index)
    payload = json.loads(entry.payload)
    assert payload["type"] == "organization.verified"
    assert payload["org_uscc"] == organization.uscc
    assert payload["organization_id"] == organization.id
    assert payload["at"].endswith("Z") and len(payload["at"]) == len("2026-11-25T14:33:35.123456Z")
    assert entry.payload == json.dumps(
        payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False
    )
    assert entry.leaf_hash == merkle.leaf_hash(entry.payload.encode())
    assert entry.organization_uscc == organization.uscc
    assert (entry.subject_table, entry.subject_id) == ("organizations", organization.id)
    assert store.current_head(db_session) == (index + 1, store.root_at(db_session, index + 1))


def test_entry_rolls_back_with_the_change(db_session) -> None:  # type: ignore[no-untyped-def]
    organization = OrganizationFactory()
    before = store.current_head(db_session)
    savepoint = db_session.begin_nested()
    record_event(db_session, "organization.verified", subject_id=organization.id)
    assert store.current_head(db_session)[0] == before[0] + 1
    savepoint.rollback()
    assert store.current_head(db_session) == before
    assert db_session.scalar(sa.select(sa.func.count()).select_from(AuditEntry)) == before[0]


def test_event_data_may_not_shadow_type_or_at(db_session) -> None:  # type: ignore[no-untyped-def]
    import pytest

    from charity.core.events import EventError

    with pytest.raises(EventError):
        record_event(db_session, "test.clash", {"at": "yesterday"})


def test_batch_append_stores_every_perfect_subtree(db_session, append_synthetic) -> None:  # type: ignore[no-untyped-def]
    append_synthetic(5)
    append_synthetic(8)
    size, root = store.current_head(db_session)
    leaves = _stored_leaves(db_session)
    assert size == 13 == len(leaves)
    assert root == merkle.root_hash(leaves)
    nodes = db_session.scalar(sa.select(sa.func.count()).select_from(AuditNode))
    assert nodes == 13 + 6 + 3 + 1  # perfect subtrees of sizes 1, 2, 4, 8


@FIXTURE_SETTINGS
@given(
    batches=st.lists(st.integers(min_value=1, max_value=40), min_size=1, max_size=6),
    data=st.data(),
)
def test_proofs_match_the_reference(db_session, batches, data) -> None:  # type: ignore[no-untyped-def]
    savepoint = db_session.begin_nested()
    try:
        for n in batches:
            size, _ = store.current_head(db_session)
            store.append_entries(db_session, synthetic(n, size))
        leaves = _stored_leaves(db_session)
        size = len(leaves)
        reference = merkle.reference_subtree_hash(leaves)
        for _ in range(5):
            tree_size = data.draw(st.integers(min_value=1, max_value=size))
            index = data.draw(st.integers(min_value=0, max_value=tree_size - 1))
            first = data.draw(st.integers(min_value=1, max_value=tree_size))
            root = store.root_at(db_session, tree_size)
            assert root == reference(0, tree_size)
            path = store.inclusion_proof(db_session, index, tree_size)
            assert path == merkle.inclusion_path(index, tree_size, reference)
            merkle.verify_inclusion(index, tree_size, leaves[index], path, root)
            proof = store.consistency_proof(db_session, first, tree_size)
            assert proof == merkle.consistency_path(first, tree_size, reference)
            merkle.verify_consistency(first, tree_size, reference(0, first), root, proof)
    finally:
        savepoint.rollback()


@settings(max_examples=200, deadline=None)
@given(size=st.integers(min_value=1, max_value=300), data=st.data())
def test_reference_proofs_verify_and_tampering_fails(size: int, data) -> None:  # type: ignore[no-untyped-def]
    leaves = [merkle.leaf_hash(str(i).encode()) for i in range(size)]
    reference = merkle.reference_subtree_hash(leaves)
    index = data.draw(st.integers(min_value=0, max_value=size - 1))
    path = merkle.inclusion_path(index, size, reference)
    merkle.verify_inclusion(index, size, leaves[index], path, reference(0, size))
    wrong = merkle.leaf_hash(b"not in the log")
    try:
        merkle.verify_inclusion(index, size, wrong, path, reference(0, size))
    except merkle.VerificationError:
        pass
    else:
        raise AssertionError("a wrong leaf verified")
    first = data.draw(st.integers(min_value=1, max_value=size))
    proof = merkle.consistency_path(first, size, reference)
    merkle.verify_consistency(first, size, reference(0, first), reference(0, size), proof)
    if first < size:
        try:
            merkle.verify_consistency(first, size, wrong, reference(0, size), proof)
        except merkle.VerificationError:
            pass
        else:
            raise AssertionError("a wrong old root verified")
