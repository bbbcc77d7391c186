"""Background jobs: in-process by default, RQ on Redis when ``REDIS_URL`` is set.

``enqueue("charity.ops.mail.send_mail", mail)`` names the function by its dotted path, so the
caller never imports RQ and the same call works in both modes:

* in-process (development, tests, the embedded default without Redis): the function runs
  now, in the caller's app context; a retry policy retries at once, without waiting.
* RQ: the job goes to the ``JOBS_QUEUE`` queue in Redis; ``flask jobs worker`` runs it
  inside an app context, retrying after the policy's intervals (the worker runs RQ's
  scheduler for that). Jobs that fail for good stay in RQ's failed registry (the metric
  ``charity_job_queue_failed`` counts them).

Arguments are pickled by RQ: pass ids and small frozen values, never ORM objects.
Side effects of a request are enqueued after its commit (charity.core.uow.after_commit), so
a job never sees a row the request rolled back. Each job runs as one unit of work
(charity.core.uow.unit_of_work): it commits when the job returns, rolls back if it raises.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from importlib import import_module
from typing import TYPE_CHECKING, Any

from flask import Flask, current_app, has_app_context
from redis.exceptions import RedisError

from charity.core.uow import unit_of_work
from charity.extensions import db
from charity.ops.mail import MAIL_DISPATCH_KEY, send_mail

if TYPE_CHECKING:
    from redis import Redis
    from rq import Queue  # only with a job queue: callers never import RQ

log = logging.getLogger("charity.ops.jobs")
_REDIS_KEY = "charity.redis"
_worker_app: Flask | None = None
_engine_pid = os.getpid()


@dataclass(frozen=True)
class Retry:
    """Try ``attempts`` times in all; wait ``intervals[i]`` seconds before retry i+1."""

    attempts: int = 3
    intervals: tuple[int, ...] = (10, 60, 300)


#: Mail: a few quick retries (an SMTP server that hiccups), then the failed registry.
MAIL_RETRY = Retry(attempts=4, intervals=(30, 120, 600))


def resolve(func_path: str) -> Any:
    module_name, _, attribute = func_path.rpartition(".")
    if not module_name:
        raise ValueError(f"not a dotted path: {func_path!r}")
    return getattr(import_module(module_name), attribute)


def redis_connection(app: Flask | None = None) -> Redis | None:
    """The app's Redis client (short timeouts), or None when REDIS_URL is not set."""
    app = app or current_app._get_current_object()  # type: ignore[attr-defined]
    url = app.config.get("REDIS_URL")
    if not url:
        return None
    if _REDIS_KEY not in app.extensions:
        from redis import Redis  # redis and rq load only when a job queue is configured

        timeout = float(app.config.get("HEALTH_TIMEOUT_SECONDS", 2))
        app.extensions[_REDIS_KEY] = Redis.from_url(
            url, socket_connect_timeout=timeout, socket_timeout=max(timeout, 5)
        )
    return app.extensions[_REDIS_KEY]


def rq_queue(name: str | None = None) -> Queue | None:
    connection = redis_connection()
    if connection is None:
        return None
    from rq import Queue  # only with a job queue: callers never import RQ

    return Queue(name or current_app.config["JOBS_QUEUE"], connection=connection)


def enqueue(func_path: str, *args: Any, retry: Retry | None = None, **kwargs: Any) -> str | None:
    """Run ``func_path(*args, **kwargs)`` in the background; the RQ job id, or None inline."""
    queue = rq_queue()
    if queue is None:
        run_inline(func_path, args, kwargs, retry)
        return None
    from rq import Retry as RQRetry  # only with a job queue

    rq_retry = None
    if retry and retry.attempts > 1:
        rq_retry = RQRetry(max=retry.attempts - 1, interval=list(retry.intervals))
    job = queue.enqueue_call(
        run_job,
        args=(func_path, args, kwargs),
        retry=rq_retry,
        timeout=current_app.config.get("JOBS_TIMEOUT", 300),
        description=func_path,
    )
    return job.id


def run_inline(
    func_path: str, args: tuple, kwargs: dict[str, Any], retry: Retry | None = None
) -> Any:
    """Call now; with a retry policy, retry at once on an exception (no waiting inline)."""
    function = resolve(func_path)
    attempts = retry.attempts if retry else 1
    for attempt in range(1, attempts + 1):
        try:
            with unit_of_work():
                return function(*args, **kwargs)
        except Exception:
            if attempt == attempts:
                raise
            log.warning("job %s failed (attempt %d of %d)", func_path, attempt, attempts)
    return None  # unreachable: the loop returns or raises


def run_job(func_path: str, args: tuple, kwargs: dict[str, Any]) -> Any:
    """What RQ runs: the named function inside an app context."""
    if has_app_context():
        _forget_inherited_connections()
        with unit_of_work():
            return resolve(func_path)(*args, **kwargs)
    with worker_app().app_context():
        _forget_inherited_connections()
        with unit_of_work():
            return resolve(func_path)(*args, **kwargs)


def worker_app() -> Flask:
    """The app a plain ``rq worker`` uses (``flask jobs worker`` already has one)."""
    global _worker_app
    if _worker_app is None:
        # A plain `rq worker` has no app: it builds one (the app factory sits above every
        # layer, so this is the one upward import; flask jobs worker never gets here).
        from charity import create_app
        from config import load_config  # (with create_app, for the plain rq worker)

        _worker_app = create_app(load_config())
    return _worker_app


def _forget_inherited_connections() -> None:
    """In a forked work horse, drop the parent's pooled DB connections without closing them."""
    global _engine_pid
    if os.getpid() != _engine_pid:
        db.engine.dispose(close=False)
        _engine_pid = os.getpid()


def dispatch_mail(mail: Any) -> None:
    """charity.ops.mail's dispatch hook when a queue is configured; inline if Redis is down."""
    try:
        enqueue("charity.ops.mail.send_mail", mail, retry=MAIL_RETRY)
    except RedisError:
        current_app.logger.warning("job queue unavailable; sending mail to %s inline", mail.to)
        send_mail(mail)


def init_app(app: Flask) -> None:
    if app.config.get("REDIS_URL"):
        app.extensions[MAIL_DISPATCH_KEY] = dispatch_mail
