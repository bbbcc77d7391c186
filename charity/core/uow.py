"""The unit of work: one transaction per request, CLI command or job, and the effects that
follow its commit.

- ``init_app`` wraps the app's view dispatch in ``unit_of_work()``: the transaction commits
  when the view returns normally and rolls back when it raises (``abort`` included). A view
  that catches a domain error and shows it (a form error, a refused notification) calls
  ``discard()``: the work so far is rolled back at once and its effects dropped; what the
  view does after that (recording a rejected webhook) commits as usual. Views never call
  ``commit()`` or ``rollback()`` themselves (tests/test_unit_of_work.py scans for it).
- Services queue what must happen only once the change is durable with
  ``after_commit(effect)``: mail, receipt mail, jobs, metrics, cache invalidation. The effects
  run once, in order, right after the commit; a rollback drops them. An effect that fails is
  logged and does not undo the commit (it already happened).
- CLI commands and jobs run in ``unit_of_work()`` too (charity.commands, charity.ops.jobs).

The one documented exception is ``commit_now()`` (see docs/architecture.md): a view whose
first step must outlive a failing provider call commits that step before asking the
provider (a new gift exists before its payment order is opened).

Effects are kept per SQLAlchemy session, in this module only: queued ones move to
"committed" when the session's outermost transaction commits, and are dropped when it ends
otherwise. An effect queued inside a savepoint (``session.begin_nested()``) is dropped when
that savepoint rolls back, even if the transaction around it commits (a webhook applies a
refund in a savepoint: the refund undone, its mail must not go); a savepoint released is no
commit (SQLAlchemy reports it as one): its effects wait for the outermost commit. So a raw
``session.commit()`` (a test, a maintenance script) never loses or leaks an effect: it is
dispatched at the end of the unit of work, or by ``dispatch()``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import wraps
from typing import Any
from weakref import WeakKeyDictionary

from flask import Flask
from sqlalchemy import event
from sqlalchemy.orm import Session, SessionTransaction

from charity.extensions import db

log = logging.getLogger("charity.core.uow")

Effect = Callable[[], Any]

#: Effects queued in the session's open transaction, each with the savepoints it was queued
#: in (innermost first; empty outside any savepoint).
_queued: WeakKeyDictionary[Session, list[tuple[tuple[SessionTransaction, ...], Effect]]] = (
    WeakKeyDictionary()
)
#: Effects whose transaction committed, waiting to be dispatched.
_committed: WeakKeyDictionary[Session, list[Effect]] = WeakKeyDictionary()


def _session(session: Session | None = None) -> Session:
    if session is None:
        return db.session()  # the scoped session's current Session
    if isinstance(session, Session):
        return session
    return session()  # type: ignore[operator,no-any-return] - a scoped_session


def after_commit(effect: Effect, session: Session | None = None) -> None:
    """Run ``effect()`` once the current transaction has committed; never if it (or the
    savepoint it was queued in) rolls back."""
    current = _session(session)
    _queued.setdefault(current, []).append((_savepoints(current), effect))


def _savepoints(session: Session) -> tuple[SessionTransaction, ...]:
    chain, transaction = [], session.get_nested_transaction()
    while transaction is not None:
        if transaction.nested:
            chain.append(transaction)
        transaction = transaction.parent
    return tuple(chain)


def dispatch(session: Session | None = None) -> None:
    """Run the effects of the transactions that committed (in order), once each."""
    current = _session(session)
    while effects := _committed.pop(current, []):
        for effect in effects:
            try:
                effect()
            except Exception:
                log.exception("after-commit effect %r failed", effect)


def commit(session: Session | None = None) -> None:
    """Commit and dispatch the effects: the end of a unit of work (the hook's, a command's)."""
    current = _session(session)
    current.commit()
    dispatch(current)


def rollback(session: Session | None = None) -> None:
    """Roll back (dropping the queued effects); effects of earlier commits still go out."""
    current = _session(session)
    current.rollback()
    dispatch(current)


def discard() -> None:
    """A view caught a domain error and shows it: roll the work so far back now (its
    effects dropped). The unit of work goes on."""
    rollback()


def commit_now() -> None:
    """Commit the work so far inside a request (the documented exception, see the module
    docstring): the unit of work goes on and ends as usual."""
    commit()


@contextmanager
def unit_of_work() -> Iterator[None]:
    """Commit on normal exit, roll back on any exception; then dispatch the effects that
    committed."""
    try:
        yield
        commit()
    except BaseException:
        rollback()
        raise


def run_in_unit_of_work(function: Callable[..., Any]) -> Callable[..., Any]:
    """Decorator for CLI commands and jobs: the function's work is one unit of work."""

    @wraps(function)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        with unit_of_work():
            return function(*args, **kwargs)

    return wrapper


def _on_commit(session: Session) -> None:
    if session.get_nested_transaction() is not None:
        return  # a savepoint released (SQLAlchemy reports it as a commit): nothing durable yet
    if effects := _queued.pop(session, None):
        _committed.setdefault(session, []).extend(effect for _chain, effect in effects)


def _on_soft_rollback(session: Session, previous: SessionTransaction) -> None:
    if previous.nested and (effects := _queued.get(session)):
        effects[:] = [(chain, effect) for chain, effect in effects if previous not in chain]


def _on_transaction_end(session: Session, transaction: SessionTransaction) -> None:
    if transaction.parent is None:  # the outermost transaction ended without committing
        _queued.pop(session, None)


_listening = False


def init_app(app: Flask) -> None:
    """Listen to every session's commits, and make each request one unit of work."""
    global _listening
    if not _listening:
        event.listen(Session, "after_commit", _on_commit)
        event.listen(Session, "after_transaction_end", _on_transaction_end)
        event.listen(Session, "after_soft_rollback", _on_soft_rollback)
        _listening = True
    dispatch_request = app.dispatch_request

    @wraps(dispatch_request)
    def dispatch_in_unit_of_work() -> Any:
        with unit_of_work():
            return dispatch_request()

    app.dispatch_request = dispatch_in_unit_of_work  # type: ignore[method-assign]
