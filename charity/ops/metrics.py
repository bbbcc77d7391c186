"""Prometheus metrics, served at ``/metrics`` (charity.blueprints.ops).

Two kinds:

* counters and histograms updated as things happen (requests, donations, webhook lag).
  Under gunicorn each worker is a process, so ``PROMETHEUS_MULTIPROC_DIR`` must name an
  empty directory before the app is imported; gunicorn.conf.py sees to it and a scrape
  then adds up every worker's files. Without it (development, tests) they live in memory.
* gauges read at scrape time from the source of truth (audit log size from the database,
  job queue depth from Redis), cached for ``METRICS_CACHE_SECONDS`` so scrapes stay cheap.

Other features feed the first kind through the functions below, e.g.
``charity.ops.metrics.donation_succeeded("online", 10000)`` after the commit that records a gift,
and may register a cheaper audit log size with ``set_log_size_source``.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from flask import Flask, current_app, g, request
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
)
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.multiprocess import MultiProcessCollector

from charity.core import replicas
from charity.extensions import db
from charity.models import AuditQueued
from charity.ops import jobs

REQUESTS = Counter(
    "charity_http_requests",
    "HTTP requests handled, by endpoint (Flask endpoint name), method and status.",
    ["endpoint", "method", "status"],
)
REQUEST_SECONDS = Histogram(
    "charity_http_request_duration_seconds",
    "Time spent handling a request in the app (not queueing in gunicorn).",
    ["endpoint", "method"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
DONATIONS = Counter(
    "charity_donations",
    "Donations that succeeded (seen by the server at Stripe or recorded offline), by channel.",
    ["channel"],
)
DONATED_FEN = Counter(
    "charity_donations_amount_fen",
    "Sum of succeeded donations in fen, by channel.",
    ["channel"],
)
WEBHOOK_LAG = Histogram(
    "charity_webhook_lag_seconds",
    "Seconds from a Stripe event's creation to our having applied it.",
    buckets=(0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 300, 900, 3600),
)
DB_READS = Counter(
    "charity_db_replica_eligible_requests",
    "Requests to replica-eligible views, by where they read: replica or primary (no replica "
    "in the pool, a signed-in user, a recent write, or a replica that failed mid-request).",
    ["target"],
)

CONTENT_TYPE = CONTENT_TYPE_LATEST
LogSizeSource = Callable[[], int | None]
_log_size_source: LogSizeSource | None = None
_CACHE_KEY = "charity.metrics_cache"
_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


def donation_succeeded(channel: str, amount_fen: int) -> None:
    """Call after the commit that records a succeeded donation."""
    DONATIONS.labels(channel=channel).inc()
    DONATED_FEN.labels(channel=channel).inc(amount_fen)


def count_read(target: str) -> None:
    """A replica-eligible request was served from ``target`` ("replica" or "primary")."""
    DB_READS.labels(target=target).inc()


def observe_webhook_lag(seconds: float) -> None:
    """Call when a Stripe event has been applied: now minus the event's ``created``."""
    WEBHOOK_LAG.observe(max(seconds, 0.0))


def set_log_size_source(source: LogSizeSource | None) -> None:
    """Let the audit log report its size cheaply (e.g. the latest tree size)."""
    global _log_size_source
    _log_size_source = source


def _cached(key: str, compute: Callable[[], Any]) -> Any:
    """Per app, and per source: a newly registered source is read at the next scrape."""
    cache = current_app.extensions.setdefault(_CACHE_KEY, {})
    ttl = float(current_app.config.get("METRICS_CACHE_SECONDS", 10))
    now = time.monotonic()
    hit = cache.get(key)
    if hit and hit[0] is compute and now - hit[1] < ttl:
        return hit[2]
    value = compute()
    cache[key] = (compute, now, value)
    return value


def _count_log_table() -> int | None:
    """The audit log's size: its head row if there is one, else a count; None without a log."""
    head = current_app.config.get("AUDITLOG_HEAD_TABLE", "auditlog_head")
    table = current_app.config.get("AUDITLOG_TABLE", "auditlog_entries")
    inspector = sa.inspect(db.engine)
    with db.engine.connect() as connection:
        if inspector.has_table(head):
            size = connection.execute(
                sa.select(sa.column("size")).select_from(sa.table(head)).where(sa.column("id") == 1)
            ).scalar()
            return int(size or 0)
        if inspector.has_table(table):
            return connection.execute(
                sa.select(sa.func.count()).select_from(sa.table(table))
            ).scalar_one()
    return None


def _log_queue() -> tuple[int, float] | None:
    """(entries waiting for the log sequencer, age in seconds of the oldest), or None
    when there is no queue table. A growing age means no sequencer is running."""
    if not sa.inspect(db.engine).has_table(AuditQueued.__tablename__):
        return None
    with db.engine.connect() as connection:  # min() keeps the column's type: aware UTC
        count, oldest = connection.execute(
            sa.select(sa.func.count(), sa.func.min(AuditQueued.created_at))
        ).one()
    if not count or oldest is None:
        return 0, 0.0
    return int(count), max(0.0, (datetime.now(UTC) - oldest).total_seconds())


def _queue_depths() -> dict[str, tuple[int, int]]:
    """{queue name: (waiting jobs, failed jobs)} from RQ, or {} when jobs run in-process."""
    queue = jobs.rq_queue()
    if queue is None:
        return {}
    return {queue.name: (queue.count, queue.failed_job_registry.count)}


def _replica_gauges() -> Iterator[GaugeMetricFamily]:
    """The read-replica pool as this process last checked it (charity.core.replicas)."""
    pool = replicas.pool()
    if pool is None:
        return
    pool.refresh_if_due()
    in_pool = GaugeMetricFamily(
        "charity_db_replica_in_pool",
        "1 while the replica serves reads (answering, replay lag within the bound).",
        labels=["replica"],
    )
    lag = GaugeMetricFamily(
        "charity_db_replica_lag_seconds",
        "Replay lag: age of the oldest primary WAL position the replica has not replayed.",
        labels=["replica"],
    )
    lag_bytes = GaugeMetricFamily(
        "charity_db_replica_lag_bytes",
        "Bytes of WAL the replica has not replayed yet (at the last check).",
        labels=["replica"],
    )
    for replica in pool.replicas:
        in_pool.add_metric([replica.name], 1 if replica.status == "ok" else 0)
        if replica.lag_seconds is not None:
            lag.add_metric([replica.name], replica.lag_seconds)
        if replica.lag_bytes is not None:
            lag_bytes.add_metric([replica.name], replica.lag_bytes)
    yield in_pool
    yield lag
    yield lag_bytes


class LiveCollector:
    """Gauges computed at scrape time; a failing source drops its gauge, not the scrape."""

    def collect(self) -> Iterator[GaugeMetricFamily]:
        size = self._safely("log_size", _log_size_source or _count_log_table)
        if size is not None:
            yield GaugeMetricFamily(
                "charity_auditlog_entries", "Entries in the public audit log.", value=size
            )
        queued = self._safely("log_queue", _log_queue)
        if queued is not None:
            yield GaugeMetricFamily(
                "charity_auditlog_queued",
                "Entries committed and waiting for the log sequencer (AUDITLOG_SEQUENCER=batched).",
                value=queued[0],
            )
            yield GaugeMetricFamily(
                "charity_auditlog_queue_oldest_seconds",
                "Age of the oldest entry waiting for the sequencer; alert when it grows.",
                value=queued[1],
            )
        yield from _replica_gauges()
        depths = self._safely("queues", _queue_depths) or {}
        waiting = GaugeMetricFamily(
            "charity_job_queue_depth", "Jobs waiting in the queue.", labels=["queue"]
        )
        failed = GaugeMetricFamily(
            "charity_job_queue_failed", "Jobs that failed for good.", labels=["queue"]
        )
        for name, (count, failures) in depths.items():
            waiting.add_metric([name], count)
            failed.add_metric([name], failures)
        yield waiting
        yield failed

    @staticmethod
    def _safely(key: str, compute: Callable[[], Any]) -> Any:
        try:
            return _cached(key, compute)
        except Exception:  # a metrics scrape must never fail because a source is down
            current_app.logger.warning("metrics: could not read %s", key, exc_info=True)
            return None


def render() -> bytes:
    """The exposition text: every process's counters plus the live gauges."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        MultiProcessCollector(registry)
        counters = generate_latest(registry)
    else:
        counters = generate_latest(REGISTRY)
    live = CollectorRegistry()
    live.register(LiveCollector())
    return counters + generate_latest(live)


def init_app(app: Flask) -> None:
    @app.before_request
    def _start_timer() -> None:
        g.metrics_started = time.perf_counter()

    @app.after_request
    def _count_request(response):  # type: ignore[no-untyped-def]
        # The endpoint name, not the path: unmatched URLs must not create new series.
        endpoint = request.url_rule.endpoint if request.url_rule else "unmatched"
        method = request.method if request.method in _METHODS else "other"
        started = g.get("metrics_started")
        REQUESTS.labels(endpoint, method, str(response.status_code)).inc()
        if started is not None:
            REQUEST_SECONDS.labels(endpoint, method).observe(time.perf_counter() - started)
        return response
