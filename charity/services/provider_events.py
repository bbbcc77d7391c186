"""The provider event ids we stored (``provider_events``): each verified delivery is
recorded once, by id, in the transaction that applies it; a redelivery or a concurrent
duplicate finds it and changes nothing.

Stripe's webhook (charity.payments.webhooks) and the wallets' notifications
(charity.services.wallet_payments) store their events here; the usual delivery, a
payment's success, has its row stored by the donation's row-lock statement instead
(``donations.confirm_payment(..., event=...)`` on PostgreSQL: ``STORE_PG`` as a CTE), one
round trip fewer.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlalchemy.orm import Session

from charity.core.db import dialect_insert
from charity.models import ProviderEvent

_events = ProviderEvent.__table__
#: INSERT ... ON CONFLICT DO NOTHING RETURNING id, built once per dialect.
_store_statements: dict[str, sa.Insert] = {}
#: PostgreSQL: the same INSERT with named parameters (``event_row``'s), for a CTE.
STORE_PG = (
    postgresql.insert(_events)
    .values(
        id=sa.bindparam("event_id"),
        type=sa.bindparam("event_type"),
        account=sa.bindparam("event_account"),
        outcome="applied",
        detail="",
        received_at=sa.bindparam("event_received_at", type_=_events.c.received_at.type),
    )
    .on_conflict_do_nothing()
    .returning(_events.c.id)
)


def event_row(event: Mapping[str, Any]) -> dict[str, Any]:
    """The parameters of ``STORE_PG`` for a verified event (``id``, ``type``, ``account``).

    The row says "applied" from the start (what almost every delivery ends as); the
    caller corrects it with ``set_outcome`` in the same transaction when the outcome
    differs, so no one ever reads the provisional value."""
    return {
        "event_id": event["id"],
        "event_type": str(event.get("type", ""))[:100],
        "event_account": event.get("account"),
        "event_received_at": datetime.now(UTC),
    }


def store_event(session: Session, event: Mapping[str, Any]) -> bool:
    """Record the event id (one INSERT ... ON CONFLICT DO NOTHING, no savepoint);
    False when it was already recorded: a redelivery or a concurrent duplicate."""
    dialect = session.get_bind().dialect.name
    statement = _store_statements.get(dialect)
    if statement is None:
        statement = _store_statements[dialect] = (
            dialect_insert(session)(_events).on_conflict_do_nothing().returning(_events.c.id)
        )
    row = event_row(event)
    stored = (
        session.connection()
        .execute(
            statement,
            {
                "id": row["event_id"],
                "type": row["event_type"],
                "account": row["event_account"],
                "outcome": "applied",
                "detail": "",
                "received_at": row["event_received_at"],
            },
        )
        .first()
    )
    return stored is not None


def set_outcome(session: Session, event_id: str, outcome: str, detail: str = "") -> None:
    """Correct a stored event's provisional "applied" (same transaction)."""
    session.execute(
        sa.update(_events).where(_events.c.id == event_id).values(outcome=outcome, detail=detail)
    )
