"""gunicorn settings for charity: ``gunicorn -c gunicorn.conf.py wsgi:app``.

Every knob reads an environment variable so one file serves this 2-core machine, a bigger
host and the benchmark. The defaults and why (docs/deployment.md has the table):

* worker_class ``gthread``: a few processes, each with a small thread pool. The app is
  plain synchronous Flask + SQLAlchemy whose requests mostly wait on PostgreSQL and, on
  the donation path, on Stripe's API (hundreds of ms). A ``sync`` worker would sit idle
  through that wait and cannot keep connections alive; ``gevent`` would need
  monkey-patching of psycopg and Stripe's HTTP client, a risk on the money path. Threads
  release the GIL while waiting on sockets, which is all the concurrency this needs.
* workers = CPU cores + 1 (3 here): one busy process per core plus one to cover a
  worker that is blocked or being recycled. threads = 4 per worker. Each thread may hold
  one database connection, so workers x threads (12) stays well inside PostgreSQL's
  ``max_connections`` and the SQLAlchemy pool (DB_POOL_SIZE, default 10 per process).
* preload_app: the app is imported once in the master, so a bad configuration
  (config.ProductionConfig refuses unsafe settings) stops start-up before any worker
  forks, and workers share the imported code copy-on-write (less memory per worker). The
  price: ``kill -HUP`` does not load new code; deploy with a restart (scripts/prod.sh).
  post_fork drops any database connection the master may have pooled.
* timeout 30 s: a worker that stops answering the master's heartbeat for that long is
  killed and replaced. graceful_timeout 30 s lets running requests finish on SIGTERM.
* max_requests 5000 with jitter 500: workers are recycled now and then (bounding slow
  leaks) but not all at the same moment.
* keepalive 5 s: behind a load balancer, set GUNICORN_KEEPALIVE above the balancer's idle
  timeout so the balancer never reuses a connection gunicorn just closed.
* Logs: errors to stderr as JSON lines when LOG_FORMAT=json (the production default).
  The app writes one JSON line per request itself (with request id, endpoint timing), so
  gunicorn's own access log is off unless GUNICORN_ACCESS_LOG is set (e.g. to ``-``); it
  is JSON too.
* Metrics: PROMETHEUS_MULTIPROC_DIR must be set before the app (and prometheus_client)
  is imported; when it is not set, a fresh directory is made here. Files left by dead
  processes (a previous run) are removed at start so their counts are not added in.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

from config import SECRET_CONFIG_KEYS

_cores = os.cpu_count() or 1

bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")
worker_class = os.environ.get("GUNICORN_WORKER_CLASS", "gthread")
workers = int(os.environ.get("WEB_CONCURRENCY", _cores + 1))
threads = int(os.environ.get("GUNICORN_THREADS", 4))
preload_app = os.environ.get("GUNICORN_PRELOAD", "1") == "1"
timeout = int(os.environ.get("GUNICORN_TIMEOUT", 30))
graceful_timeout = int(os.environ.get("GUNICORN_GRACEFUL_TIMEOUT", 30))
keepalive = int(os.environ.get("GUNICORN_KEEPALIVE", 5))
max_requests = int(os.environ.get("GUNICORN_MAX_REQUESTS", 5000))
max_requests_jitter = int(os.environ.get("GUNICORN_MAX_REQUESTS_JITTER", 500))
backlog = int(os.environ.get("GUNICORN_BACKLOG", 2048))
# The heartbeat file lives in memory: a slow disk must not get healthy workers killed.
worker_tmp_dir = "/dev/shm" if Path("/dev/shm").is_dir() else None  # noqa: S108
# Trust X-Forwarded-* only from the proxy in front (set to its address).
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")
proc_name = "charity"

errorlog = "-"
loglevel = os.environ.get("LOG_LEVEL", "info").lower()
accesslog = os.environ.get("GUNICORN_ACCESS_LOG") or None
access_log_format = json.dumps(
    {
        "time": "%(t)s",
        "logger": "gunicorn.access",
        "remote": "%(h)s",
        "method": "%(m)s",
        "path": "%(U)s",
        "query": "%(q)s",
        "status": "%(s)s",
        "bytes": "%(B)s",
        "duration_ms": "%(M)s",
        "request_id": "%({x-request-id}o)s",
        "user_agent": "%(a)s",
    }
)

_default_format = "text" if os.environ.get("CHARITY_ENV") == "development" else "json"
if os.environ.get("LOG_FORMAT", _default_format) == "json":
    logconfig_dict = {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"json": {"()": "charity.ops.logs.JsonFormatter"}},
        "filters": {
            "secrets": {
                "()": "charity.ops.logs.SecretMaskingFilter",
                "secrets": [os.environ.get(key, "") for key in SECRET_CONFIG_KEYS],
            }
        },
        "handlers": {
            "error": {
                "class": "logging.StreamHandler",
                "formatter": "json",
                "filters": ["secrets"],
                "stream": "ext://sys.stderr",
            },
            "access": {
                "class": "logging.StreamHandler",
                "formatter": None,
                "stream": "ext://sys.stdout",
            },
        },
        "loggers": {
            "gunicorn.error": {
                "handlers": ["error"],
                "level": loglevel.upper(),
                "propagate": False,
            },
            # With a logconfig gunicorn always emits access lines; WARNING silences them.
            "gunicorn.access": {
                "handlers": ["access"],
                "level": "INFO" if accesslog else "WARNING",
                "propagate": False,
            },
        },
        "root": {"level": "INFO", "handlers": []},
    }


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _prepare_metrics_dir() -> None:
    """Drop files of processes that are gone (a previous run); keep live ones (job workers)."""
    path = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if not path:
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="charity-metrics-")
        return
    Path(path).mkdir(parents=True, exist_ok=True)
    for file in Path(path).glob("*.db"):
        pid = file.stem.rpartition("_")[2]
        if not pid.isdigit() or not _alive(int(pid)):
            file.unlink(missing_ok=True)


_prepare_metrics_dir()


def post_fork(server, worker):  # type: ignore[no-untyped-def]
    """A worker must not share the master's pooled database sockets (preload_app)."""
    try:
        from charity.extensions import db

        app = worker.app.wsgi()
        with app.app_context():
            db.engine.dispose(close=False)
    except Exception:  # the app failed to load; gunicorn reports that itself
        server.log.debug("post_fork: no engine to reset", exc_info=True)


def child_exit(server, worker):  # type: ignore[no-untyped-def]
    """Let the metrics of a dead worker stop counting as live gauges."""
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)
