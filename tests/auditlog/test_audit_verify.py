"""`flask audit verify` finds hand edits: a domain row, a payload, a leaf, a node."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from charity.core.events import record_event
from tests.support.factories import OrganizationFactory, make_uscc


@pytest.fixture
def logged(db_session, append_synthetic):  # type: ignore[no-untyped-def]
    """A log of 11 entries; entry 4 records organization.verified; committed (savepoint)."""
    append_synthetic(4)
    organization = OrganizationFactory()
    [index] = record_event(db_session, "organization.verified", subject_id=organization.id)
    append_synthetic(6)
    db_session.commit()
    return organization, index


def _verify(app):  # type: ignore[no-untyped-def]
    return app.test_cli_runner().invoke(args=["audit", "verify"])


def test_an_untouched_log_verifies(app, logged) -> None:  # type: ignore[no-untyped-def]
    app.test_cli_runner().invoke(args=["audit", "checkpoint"])
    result = _verify(app)
    assert result.exit_code == 0, result.stderr
    assert "OK: the audit log verifies (11 entries)" in result.stdout


def test_edited_uscc_is_named_with_entry_and_field(app, db_session, logged) -> None:  # type: ignore[no-untyped-def]
    organization, index = logged
    logged_uscc, forged = organization.uscc, make_uscc("3", 999_999)
    db_session.execute(
        sa.text("UPDATE organizations SET uscc = :uscc WHERE id = :id"),
        {"uscc": forged, "id": organization.id},
    )
    db_session.commit()
    result = _verify(app)
    assert result.exit_code != 0
    assert (
        f"MISMATCH entry {index}: org_uscc: the log has '{logged_uscc}', "
        f"organizations row {organization.id} gives '{forged}'"
    ) in result.stderr


def test_edited_payload_is_detected(app, db_session, logged) -> None:  # type: ignore[no-untyped-def]
    db_session.execute(
        sa.text("UPDATE auditlog_entries SET payload = replace(payload, :old, :new) WHERE idx = 2"),
        {"old": '"n":2', "new": '"n":9'},
    )
    db_session.commit()
    result = _verify(app)
    assert result.exit_code != 0
    assert "MISMATCH entry 2: leaf_hash" in result.stderr


def test_edited_leaf_hash_is_detected(app, db_session, logged) -> None:  # type: ignore[no-untyped-def]
    db_session.execute(
        sa.text("UPDATE auditlog_entries SET leaf_hash = :h WHERE idx = 7"), {"h": b"\0" * 32}
    )
    db_session.commit()
    result = _verify(app)
    assert result.exit_code != 0
    assert "MISMATCH entry 7: leaf_hash" in result.stderr


@pytest.mark.parametrize(("level", "index", "first_leaf"), [(0, 5, 5), (2, 1, 4), (3, 0, 0)])
def test_edited_node_is_detected(app, db_session, logged, level, index, first_leaf) -> None:  # type: ignore[no-untyped-def]
    db_session.execute(
        sa.text("UPDATE auditlog_nodes SET hash = :h WHERE level = :level AND idx = :idx"),
        {"h": b"\1" * 32, "level": level, "idx": index},
    )
    db_session.commit()
    result = _verify(app)
    assert result.exit_code != 0
    assert f"MISMATCH entry {first_leaf}: node({level},{index}): the stored hash differs" in (
        result.stderr
    )


def test_consistent_rewrite_is_caught_by_the_saved_checkpoint(app, db_session, logged) -> None:  # type: ignore[no-untyped-def]
    from tests.auditlog.tamper import rewrite_payload

    app.test_cli_runner().invoke(args=["audit", "checkpoint"])
    rewrite_payload(db_session, 1, '{"n":1,"type":"test.synthetic","备注":"改写"}')
    db_session.commit()
    result = _verify(app)
    assert result.exit_code != 0
    assert "history was rewritten" in result.stderr
    assert not re.search(r"entry \d+: leaf_hash", result.stderr)  # hashes were made consistent


def test_forged_checkpoint_signature_is_detected(app, db_session, logged) -> None:  # type: ignore[no-untyped-def]
    app.test_cli_runner().invoke(args=["audit", "checkpoint"])
    db_session.execute(
        sa.text("UPDATE auditlog_checkpoints SET note = replace(note, :old, :new)"),
        {"old": "— charity.test/log ", "new": "— charity.test/log A"},
    )
    db_session.commit()
    result = _verify(app)
    assert result.exit_code != 0
    assert "MISMATCH log: checkpoint" in result.stderr


def test_checkpoint_command_prints_a_signed_note(app, logged) -> None:  # type: ignore[no-untyped-def]
    result = app.test_cli_runner().invoke(args=["audit", "checkpoint"])
    assert result.exit_code == 0
    assert result.output.startswith("charity.test/log\n11\n")
    assert "\n\n— charity.test/log " in result.output


def test_truncated_log_is_detected(app, db_session, logged) -> None:  # type: ignore[no-untyped-def]
    app.test_cli_runner().invoke(args=["audit", "checkpoint"])
    db_session.execute(sa.text("DELETE FROM auditlog_entries WHERE idx >= 8"))
    db_session.commit()
    result = _verify(app)
    assert result.exit_code != 0
    assert "MISMATCH log: size: the head says 11 entries, the table holds 8" in result.stderr
    assert "MISMATCH log: checkpoint: size 11 is beyond the log" in result.stderr


def test_missing_entry_in_the_middle_is_detected(app, db_session, logged) -> None:  # type: ignore[no-untyped-def]
    db_session.execute(sa.text("DELETE FROM auditlog_entries WHERE idx = 3"))
    db_session.commit()
    result = _verify(app)
    assert result.exit_code != 0
    assert "MISMATCH entry 3: index: missing (next stored entry is 4)" in result.stderr
