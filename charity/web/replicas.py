"""Which requests read from a replica: decided per view, once per request.

A request reads from a replica (:mod:`charity.core.replicas`) only when all hold:

* its endpoint is in :data:`REPLICA_ENDPOINTS` — public pages and the read API that only
  read (never a form, never money, never a page a member manages);
* it is a GET or HEAD;
* nobody is signed in (a member reads their own changes back at once), and this browser
  made no write in the last ``DATABASE_REPLICA_STICKY_SECONDS`` (the ``charity_rw``
  cookie: a donor who has just given, or anyone who just posted a form, reads from the
  primary for a while — read-your-own-writes);
* a replica is in the pool (answering, lag within the bound).

Otherwise the request uses the primary, exactly as without replicas. The choice is bound
to the request's session before anything reads, so the whole unit of work sees one
database. If a replica fails mid-request (stopped, restarted, a recovery conflict), it
leaves the pool and the view runs again on the primary: stopping a replica costs no
request.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable
from typing import Any

import sqlalchemy as sa
from flask import Flask, current_app, g, request, session

from charity.core.replicas import POOL_EXTENSION, READ_ENGINE_KEY, ReplicaPool, pool
from charity.extensions import db
from charity.ops import metrics

STICKY_COOKIE = "charity_rw"

#: Endpoints that may read from a replica. Each only reads and shows public data; add a
#: public read-only page here (tests/scale/test_replicas.py serves each from a replica).
REPLICA_ENDPOINTS: frozenset[str] = frozenset(
    {
        "main.home",
        "campaigns.index",
        "campaigns.show",
        "orgs.directory",
        "orgs.show",
        "funds.index",
        "funds.show",
        "auditlog_pages.index",
        "auditlog_pages.entry",
        "auditlog_api.get_checkpoint",
        "auditlog_api.get_key",
        "auditlog_api.get_entries",
        "auditlog_api.get_inclusion_proof",
        "auditlog_api.get_consistency_proof",
    }
)
#: Blueprints whose every GET view only reads public data (the read API).
REPLICA_BLUEPRINTS: frozenset[str] = frozenset({"api_v1"})

_RETRYABLE = (sa.exc.OperationalError, sa.exc.InterfaceError)


def replica_endpoint(app: Flask, endpoint: str | None) -> bool:
    if not endpoint or endpoint not in app.view_functions:
        return False
    return endpoint in REPLICA_ENDPOINTS or endpoint.partition(".")[0] in REPLICA_BLUEPRINTS


def _sticky() -> bool:
    raw = request.cookies.get(STICKY_COOKIE, "")
    try:
        return float(raw) > time.time()
    except ValueError:
        return False


def choose_engine() -> sa.Engine | None:
    """The replica this request reads from, or None for the primary."""
    replicas = pool()
    if replicas is None or request.method not in ("GET", "HEAD"):
        return None
    if not replica_endpoint(current_app, request.endpoint):
        return None
    if "_user_id" in session or _sticky():
        return None
    if db.session().in_transaction():  # something already read from the primary
        return None
    return replicas.pick()


def reading_replica() -> sa.Engine | None:
    """The replica engine the current request reads from (None: the primary)."""
    return db.session.info.get(READ_ENGINE_KEY)


def use_primary() -> None:
    db.session.info.pop(READ_ENGINE_KEY, None)


def wrap_view(view: Callable[..., Any]) -> Callable[..., Any]:
    """Serve the view again from the primary if its replica fails under it."""

    @functools.wraps(view)
    def serve(*args: Any, **kwargs: Any) -> Any:
        engine = reading_replica()
        if engine is None:
            return view(*args, **kwargs)
        try:
            response = view(*args, **kwargs)
        except _RETRYABLE as error:
            _replica_failed(engine, error)
            g.db_read_target = "primary"
            return view(*args, **kwargs)
        # The read is complete: end its transaction now, so that a replica lost after the
        # view has read (in the session's teardown) cannot fail a finished page.
        try:
            db.session.close()
        except _RETRYABLE as error:
            _replica_failed(engine, error)
        return response

    return serve


def _replica_failed(engine: sa.Engine, error: sa.exc.DBAPIError) -> None:
    """Take the replica out of the pool and put this request back on the primary."""
    replicas = pool()
    if replicas is not None:
        replicas.mark_down(engine, error)
    current_app.logger.warning(
        "replica failed during %s (%s); reading from the primary",
        request.endpoint,
        type(error.orig or error).__name__,
    )
    for _attempt in range(2):  # a dead connection is invalidated by the first failure
        try:
            db.session.close()
            break
        except _RETRYABLE:
            continue
    use_primary()


def init_app(app: Flask) -> None:
    """Build the pool (when DATABASE_REPLICA_URLS is set) and route requests. Call after
    the blueprints are registered: the replica endpoints' views are wrapped here."""
    with app.app_context():
        replicas = ReplicaPool.from_config(db.engine, app.config)
    if replicas is None:
        return
    app.extensions[POOL_EXTENSION] = replicas

    def route() -> None:
        engine = choose_engine()
        if engine is not None:
            db.session.info[READ_ENGINE_KEY] = engine
            g.db_read_target = "replica"
        elif replica_endpoint(current_app, request.endpoint):
            g.db_read_target = "primary"

    # First, before any other hook can read through the session.
    app.before_request_funcs.setdefault(None, []).insert(0, route)

    @app.after_request
    def _remember_write(response):  # type: ignore[no-untyped-def]
        target = g.pop("db_read_target", None)
        if target is not None:
            metrics.count_read(target)
        if request.method not in ("GET", "HEAD", "OPTIONS") and response.status_code < 400:
            seconds = float(app.config.get("DATABASE_REPLICA_STICKY_SECONDS", 10))
            response.set_cookie(
                STICKY_COOKIE,
                f"{time.time() + seconds:.0f}",
                max_age=int(seconds) + 1,
                httponly=True,
                samesite="Lax",
                secure=bool(app.config.get("SESSION_COOKIE_SECURE")),
            )
        return response

    @app.teardown_request
    def _forget(_error: BaseException | None) -> None:
        use_primary()

    for endpoint, view in list(app.view_functions.items()):
        if replica_endpoint(app, endpoint):
            app.view_functions[endpoint] = wrap_view(view)
