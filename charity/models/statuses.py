"""Status strings and the moves between them, checked in one place (issue 19 point 5).

``TRANSITIONS[kind][current]`` is the set of statuses a row of that kind may move to. The
models check every assignment to ``status`` against it (an SQLAlchemy validator, so a
service that assigns an illegal status raises ``IllegalTransitionError`` before anything
is written); the one raw UPDATE (a donation's success, charity.services.donations) calls
``check_transition`` itself. Assigning the current status again is not a move.

The statuses each table accepts are its CHECK constraint (``CAMPAIGN_STATUSES``, ...);
tests/core/test_statuses.py checks that the two agree.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

TRANSITIONS: dict[str, dict[str, frozenset[str]]] = {
    # Charity Law art. 24: a filed plan is published, then closed; never back.
    "campaign": {
        "draft": frozenset({"published"}),
        "published": frozenset({"closed"}),
        "closed": frozenset(),
    },
    # A gift is paid or fails; a paid gift is refunded (in parts) or, offline, reversed.
    "donation": {
        "pending": frozenset({"succeeded", "failed"}),
        "succeeded": frozenset({"partially_refunded", "refunded", "reversed"}),
        "partially_refunded": frozenset({"refunded"}),
        "failed": frozenset(),
        "refunded": frozenset(),
        "reversed": frozenset(),
    },
    # Four eyes: a request is approved or rejected, and an approved one executed.
    "disbursement": {
        "requested": frozenset({"approved", "rejected"}),
        "approved": frozenset({"executed"}),
        "rejected": frozenset(),
        "executed": frozenset(),
    },
    # received -> in review -> replied -> closed; a complaint may be closed from any step
    # (a duplicate, spam), and nothing goes back.
    "complaint": {
        "received": frozenset({"in_review", "replied", "closed"}),
        "in_review": frozenset({"replied", "closed"}),
        "replied": frozenset({"closed"}),
        "closed": frozenset(),
    },
}


class IllegalTransitionError(ValueError):
    """A programming error: code tried a status move the table does not allow."""


def can_transition(kind: str, current: str | None, target: str) -> bool:
    """Whether a ``kind`` row may go from ``current`` (None: a new row) to ``target``."""
    table = TRANSITIONS[kind]
    if target not in table:
        return False
    return current is None or target == current or target in table[current]


def check_transition(kind: str, current: str | None, target: str) -> None:
    """Raise ``IllegalTransitionError`` unless the move is allowed."""
    if not can_transition(kind, current, target):
        raise IllegalTransitionError(f"a {kind} cannot go from {current} to {target}")


def status_guard(kind: str) -> Callable[[Any, str, str], str]:
    """The body of a model's ``@validates("status")``: every assignment is checked."""

    def guard(row: Any, key: str, value: str) -> str:
        check_transition(kind, row.status, value)
        return value

    return guard
