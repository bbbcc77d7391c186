"""Status strings and the moves between them, checked in one place (issue 19 point 5).

``TRANSITIONS[kind][current]`` is the set of statuses a row of that kind may move to. The
models check every assignment to ``status`` against it (an SQLAlchemy validator, so a
service that assigns an illegal status raises ``IllegalTransitionError`` before anything
is written); the one raw UPDATE (a donation's success, charity.services.donations) calls
``check_transition`` itself. Assigning the current status again is not a move.

The statuses each table accepts are its CHECK constraint (``CAMPAIGN_STATUSES``, ...);
tests/core/test_statuses.py checks that the two agree, and that every model with a
``status`` column has a table here and its validator.
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
    # An application is reviewed once; a rejected applicant may apply again (back to
    # pending). Verification is never taken back here (losing the public fundraising
    # qualification is a separate record).
    "organization": {
        "pending": frozenset({"verified", "rejected"}),
        "rejected": frozenset({"pending"}),
        "verified": frozenset(),
    },
    # A community fund closes once its money is spent or transferred.
    "fund": {
        "active": frozenset({"closed"}),
        "closed": frozenset(),
    },
    # Money into a fund is posted at once; money out waits for a second person.
    "fund_transfer": {
        "requested": frozenset({"posted", "rejected"}),
        "posted": frozenset(),
        "rejected": frozenset(),
    },
    # A monthly gift starts when its first invoice is paid, falls past due on a failed
    # invoice and recovers on a paid one; it may be canceled at any step, never restarted.
    "recurring_gift": {
        "pending": frozenset({"active", "canceled"}),
        "active": frozenset({"past_due", "canceled"}),
        "past_due": frozenset({"active", "canceled"}),
        "canceled": frozenset(),
    },
    # A wallet (WeChat Pay / Alipay) order is paid, closed (expired) or failed, once.
    "payment_order": {
        "open": frozenset({"paid", "closed", "failed"}),
        "paid": frozenset(),
        "closed": frozenset(),
        "failed": frozenset(),
    },
    # A parked provider event waits for its gift, is applied, or needs a person, who
    # dismisses it with a note. Applying marks it applied first; if it no longer fits
    # (more than what remains) it goes on to unresolved in the same transaction.
    "parked_event": {
        "waiting": frozenset({"applied", "unresolved", "dismissed"}),
        "applied": frozenset({"unresolved"}),
        "unresolved": frozenset({"dismissed"}),
        "dismissed": frozenset(),
    },
    # A reconciliation run is ok unless fetching or comparing the statement failed.
    "reconciliation_run": {
        "ok": frozenset({"failed"}),
        "failed": frozenset(),
    },
    # A change of receiving account waits, then is applied or cancelled.
    "payout_change": {
        "pending": frozenset({"applied", "cancelled"}),
        "applied": frozenset(),
        "cancelled": frozenset(),
    },
    # A refund above the four-eyes limit waits for a second person.
    "refund_request": {
        "pending": frozenset({"approved", "rejected"}),
        "approved": frozenset(),
        "rejected": frozenset(),
    },
    # A campaign applies to a giving day; the organizer accepts or rejects it once.
    "event_campaign": {
        "applied": frozenset({"accepted", "rejected"}),
        "accepted": frozenset(),
        "rejected": frozenset(),
    },
    # A sponsor's payment is recorded, then confirmed or rejected by a second person.
    "sponsor_payment": {
        "recorded": frozenset({"confirmed", "rejected"}),
        "confirmed": frozenset(),
        "rejected": frozenset(),
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

    guard.kind = kind  # type: ignore[attr-defined]  # read by tests/core/test_statuses.py
    return guard
