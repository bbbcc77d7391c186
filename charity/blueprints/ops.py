"""Operations endpoints: ``/healthz`` for load balancers, ``/metrics`` for Prometheus."""

from __future__ import annotations

import hmac
import time
from collections.abc import Callable

import sqlalchemy as sa
from flask import Blueprint, Response, abort, current_app, jsonify, request

from charity.extensions import csrf, db, limiter
from charity.ops import metrics
from charity.ops.jobs import redis_connection
from charity.web import replicas

bp = Blueprint("ops", __name__)
_LOOPBACK = frozenset({"127.0.0.1", "::1"})


def check_database() -> None:
    timeout_ms = int(current_app.config["HEALTH_TIMEOUT_SECONDS"] * 1000)
    with db.engine.connect() as connection:
        if connection.dialect.name == "postgresql":
            connection.execute(sa.text(f"SET LOCAL statement_timeout = {timeout_ms}"))
        connection.execute(sa.text("SELECT 1"))  # closing the connection rolls back


def check_redis() -> None:
    connection = redis_connection()
    if connection is not None:
        connection.ping()


def run_check(check: Callable[[], None]) -> dict[str, object]:
    started = time.perf_counter()
    try:
        check()
    except Exception as error:  # any failure of a dependency is what this reports
        # The type only: messages can carry host names or connection strings.
        result: dict[str, object] = {"status": "fail", "error": type(error).__name__}
    else:
        result = {"status": "ok"}
    result["ms"] = round((time.perf_counter() - started) * 1000, 1)
    return result


@bp.get("/healthz")
@limiter.exempt
def healthz():  # type: ignore[no-untyped-def]
    """200 when every dependency answers, else 503; per-check status either way."""
    checks = {"database": run_check(check_database)}
    if current_app.config.get("REDIS_URL"):
        checks["redis"] = run_check(check_redis)
    healthy = all(check["status"] == "ok" for check in checks.values())
    body: dict[str, object] = {"status": "ok" if healthy else "fail", "checks": checks}
    pool = replicas.pool()
    if pool is not None:
        # Informational: without a replica, reads fall back to the primary and the host
        # stays healthy, so the replicas never turn this check into a 503.
        pool.refresh()
        body["replicas"] = pool.status()
    response = jsonify(body)
    response.status_code = 200 if healthy else 503
    response.headers["Cache-Control"] = "no-store"
    return response


def metrics_allowed() -> bool:
    """A bearer METRICS_TOKEN if one is set; otherwise direct loopback requests only."""
    token = current_app.config.get("METRICS_TOKEN")
    if token:
        supplied = request.headers.get("Authorization", "").removeprefix("Bearer ")
        return hmac.compare_digest(supplied.encode(), token.encode())
    # A request relayed by a proxy on this host also comes from 127.0.0.1: refuse those.
    relayed = "X-Forwarded-For" in request.headers or "Forwarded" in request.headers
    return request.remote_addr in _LOOPBACK and not relayed


@bp.get("/metrics")
@limiter.exempt
@csrf.exempt
def prometheus_metrics():  # type: ignore[no-untyped-def]
    if not metrics_allowed():
        abort(403)
    return Response(metrics.render(), mimetype=None, content_type=metrics.CONTENT_TYPE)
