"""The one door for events of public interest.

Every change that the public may need to verify (an organization verified, a member
added, later a donation succeeded ...) calls :func:`record_event` inside the same
database transaction as the change. The audit log subscribes here, so callers never
need to know how the log is stored.

Payload builders: an event type may have a function that builds its public data from the
subject row. Subscribers and builders are registered in one place, ``charity.wiring``
(called by ``create_app``), never when a module is imported.
``record_event`` uses it when no data is given, and ``flask audit verify`` calls the same
function later to recompute every entry from the domain tables, so a hand edit of a
recorded value is detected. Builders must read only fields that never legitimately
change after the event (ids, USCC, amounts of a succeeded gift, ...), and never personal
data.
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
    #: The subject row as the caller already holds it (an ORM object or a Core row with
    #: its columns), for subscribers that would otherwise load it again; never stored.
    subject: Any = field(default=None, compare=False, repr=False)
    #: The caller already queued this event's log entry (batched log) in its own
    #: statement, with the same payload (e.g. a match made inside the donation's UPDATE):
    #: the log subscriber writes nothing; the other subscribers run as for any event.
    queued: bool = False


Subscriber = Callable[[Session, Event], Any]
PayloadBuilder = Callable[[Session, int], Mapping[str, Any]]

_subscribers: list[Subscriber] = []
#: event type -> (subject table, builder)
_builders: dict[str, tuple[str, PayloadBuilder]] = {}


class EventError(RuntimeError):
    """A programming error: an event recorded without data and without a builder."""


def subscribe(handler: Subscriber) -> Subscriber:
    if handler not in _subscribers:
        _subscribers.append(handler)
    return handler


def unsubscribe(handler: Subscriber) -> None:
    if handler in _subscribers:
        _subscribers.remove(handler)


def subscribers() -> tuple[Subscriber, ...]:
    return tuple(_subscribers)


def register_payload_builder(event_type: str, subject_table: str, builder: PayloadBuilder) -> None:
    _builders[event_type] = (subject_table, builder)


def unregister_payload_builder(event_type: str) -> None:
    _builders.pop(event_type, None)


def event_types() -> list[str]:
    """The event types with a payload builder (recomputable from their subject row)."""
    return sorted(_builders)


def builder_for(event_type: str) -> tuple[str, PayloadBuilder] | None:
    return _builders.get(event_type)


def build_payload(session: Session, event_type: str, subject_id: int) -> dict[str, Any]:
    registered = _builders.get(event_type)
    if registered is None:
        raise EventError(f"no payload builder registered for {event_type!r}")
    return dict(registered[1](session, subject_id))


def record_event(
    session: Session,
    type: str,
    data: Mapping[str, Any] | None = None,
    *,
    subject_table: str | None = None,
    subject_id: int | None = None,
    at: datetime | None = None,
    subject: Any = None,
    queued: bool = False,
) -> list[Any]:
    """Record an event in the caller's transaction; returns what subscribers returned
    (None results left out: the audit log returns the new entry's index).

    Prefer ``record_event(session, "x.y", subject_id=row.id)`` with a registered builder;
    pass ``data`` only for events that cannot be recomputed from a row.
    """
    registered = _builders.get(type)
    if data is None:
        if subject_id is None:
            raise EventError(f"{type!r}: give data or a subject_id with a payload builder")
        data = build_payload(session, type, subject_id)
    if registered is not None and subject_table is None:
        subject_table = registered[0]
    event = Event(
        type=type,
        data=dict(data),
        at=at or datetime.now(UTC),
        subject_table=subject_table,
        subject_id=subject_id,
        subject=subject,
        queued=queued,
    )
    results = [handler(session, event) for handler in list(_subscribers)]
    return [result for result in results if result is not None]
