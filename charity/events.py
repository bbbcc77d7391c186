"""The one door for events of public interest.

Every change that the public may need to verify (an organization verified, a member
added, later a donation succeeded ...) calls :func:`record_event` inside the same
database transaction as the change. The audit log subscribes here, so callers never
need to know how the log is stored.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.orm import Session


@dataclass(frozen=True)
class Event:
    #: ``subject.action``, e.g. ``organization.verified``.
    type: str
    #: Public, non-personal fields (ids, amounts in fen, USCC ...).
    data: Mapping[str, Any]
    at: datetime = field(default_factory=lambda: datetime.now(UTC))
    #: Which domain row the event is about, so `flask audit verify` can recompute it.
    subject_table: str | None = None
    subject_id: int | None = None


Subscriber = Callable[[Session, Event], Any]
_subscribers: list[Subscriber] = []


def subscribe(handler: Subscriber) -> Subscriber:
    if handler not in _subscribers:
        _subscribers.append(handler)
    return handler


def record_event(
    session: Session,
    type: str,
    data: Mapping[str, Any],
    *,
    subject_table: str | None = None,
    subject_id: int | None = None,
    at: datetime | None = None,
) -> list[Any]:
    """Record an event in the caller's transaction; returns what subscribers returned."""
    event = Event(
        type=type,
        data=dict(data),
        at=at or datetime.now(UTC),
        subject_table=subject_table,
        subject_id=subject_id,
    )
    return [handler(session, event) for handler in list(_subscribers)]
