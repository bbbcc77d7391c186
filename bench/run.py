"""`make bench`: measure charity under gunicorn on PostgreSQL and write docs/benchmarks.md.

One command, one run, side by side: a fresh PostgreSQL database is migrated and seeded,
gunicorn starts with gunicorn.conf.py and the production-like bench config
(CHARITY_ENV=bench: JSON request logs, no debug) on a free 127.0.0.1 port, and wrk drives
64 connections at

* the ceiling: a static file served by the same gunicorn + Flask stack,
* the pages that exist today (home page, /healthz), and the campaign page once the
  ``campaigns.show`` endpoint exists (skipped with a note until then),

while the RSS/PSS of every gunicorn worker is sampled from /proc. The results replace the
``<!-- bench:http -->`` section of docs/benchmarks.md; other sections are left alone.

    python -m bench.run [--seconds 10] [--connections 64] [--db-url ...]
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import platform
import secrets
import signal
import subprocess
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench import http_pages as bench_http
from bench.cluster import free_port
from bench.database import recreate_database

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
DEFAULT_DB = "postgresql+psycopg://postgres@127.0.0.1:5432/charity_bench"
INTRO = """# Benchmarks

Measured by `make bench` (`python -m bench.run`) on this repository's own machine: gunicorn
with `gunicorn.conf.py`, PostgreSQL, and the load generator on the same host. Each section
is rewritten by the harness that owns it, between its `<!-- bench:... -->` markers; the text
outside the markers is kept. The targets come from issue 10.
"""

CAMPAIGN_PATH_SCRIPT = """
import json
from flask import url_for
from charity import create_app
from config import load_config
app = create_app(load_config())
result = {"path": None, "reason": None}
if "campaigns.show" not in app.view_functions:
    result["reason"] = "the campaigns.show endpoint does not exist on this branch yet"
else:
    from charity.extensions import db
    from charity.models import Campaign
    rule = next(r for r in app.url_map.iter_rules() if r.endpoint == "campaigns.show")
    with app.test_request_context():
        campaign = db.session.query(Campaign).order_by(Campaign.id).first()
        if campaign is None:
            result["reason"] = "no campaign in the seeded data"
        else:
            values = {arg: getattr(campaign, arg, campaign.id) for arg in rule.arguments}
            result["path"] = url_for("campaigns.show", **values)
print(json.dumps(result))
"""

#: givingdays: the demo's running giving day (its page is cached like the campaign page).
EVENT_PATH_SCRIPT = """
import json
from charity import create_app
from config import load_config
app = create_app(load_config())
result = {"path": None}
if "givingdays.show" in app.view_functions:
    import sqlalchemy as sa
    from flask import url_for
    from charity.extensions import db
    from charity.models import GivingDay
    with app.test_request_context():
        event = db.session.scalars(sa.select(GivingDay).order_by(GivingDay.id)).first()
        if event is not None:
            result["path"] = url_for("givingdays.show", event_id=event.id)
print(json.dumps(result))
"""


#: One client, in-process, no load: where a page's time goes (SQL, templates, the rest).
PROFILE_SCRIPT = """
import json, sys, time
from flask import before_render_template, template_rendered
from sqlalchemy import event
from charity import create_app
from charity.extensions import db
from config import load_config
app = create_app(load_config())
sql, tpl, marks = [0, 0.0, 0.0], [0.0], {}
def before_sql(*args):
    marks["sql"] = time.perf_counter()
def after_sql(*args):
    spent = time.perf_counter() - marks.pop("sql")
    sql[0] += 1
    sql[1] += spent
    if marks.get("tpl"):
        sql[2] += spent  # a lazy load fired while a template renders
def before_tpl(sender, template, context, **extra):
    marks.setdefault("tpl", []).append(time.perf_counter())
def after_tpl(sender, template, context, **extra):
    tpl[0] += time.perf_counter() - marks["tpl"].pop()
with app.app_context():
    event.listen(db.engine, "before_cursor_execute", before_sql)
    event.listen(db.engine, "after_cursor_execute", after_sql)
before_render_template.connect(before_tpl, app)
template_rendered.connect(after_tpl, app)
client = app.test_client()
result = {}
paths = sys.argv[1:]
# The campaign page again with its anonymous page cache off: what a cache miss costs.
paths += [p + "#uncached" for p in paths if p.startswith(("/campaigns/", "/events/"))]
for path in paths:
    uncached = path.endswith("#uncached")
    app.config["PAGE_CACHE_SECONDS"] = 0 if uncached else 3
    path_only = path.removesuffix("#uncached")
    for _ in range(5):
        client.get(path_only)
    sql[:] = [0, 0.0, 0.0]; tpl[0] = 0.0
    runs = 30
    started = time.perf_counter()
    for _ in range(runs):
        client.get(path_only)
    total = (time.perf_counter() - started) / runs
    result[path] = {"ms": total * 1000, "queries": sql[0] / runs, "sql_ms": sql[1] / runs * 1000,
                    "template_ms": (tpl[0] - sql[2]) / runs * 1000,
                    "sql_in_template": sql[2] / runs * 1000}
print(json.dumps(result))
"""


def _script_answer(env: dict[str, str], script: str, *args: str) -> Any:
    """Run ``script`` in a fresh Python with ``env``; the JSON of its last output line."""
    completed = subprocess.run(
        [sys.executable, "-c", script, *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(completed.stdout.strip().splitlines()[-1])


def profile_pages(env: dict[str, str], paths: list[str]) -> dict[str, dict[str, float]]:
    return _script_answer({**env, "LOG_REQUESTS": "0"}, PROFILE_SCRIPT, *paths)


def bench_env(args: argparse.Namespace, workdir: Path) -> dict[str, str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in ("REDIS_URL", "METRICS_TOKEN", "FLASK_DEBUG", "GUNICORN_ACCESS_LOG")
    }
    env.update(
        FLASK_APP="wsgi:app",
        CHARITY_ENV="bench",
        DATABASE_URL=args.db_url,
        CHARITY_INSTANCE=str(workdir / "instance"),
        PROMETHEUS_MULTIPROC_DIR=str(workdir / "metrics"),
        GUNICORN_BIND=f"127.0.0.1:{args.port}",
    )
    # `flask audit verify` checks checkpoints with this key: one per bench run.
    env.setdefault("AUDITLOG_SIGNING_KEY", base64.b64encode(os.urandom(32)).decode())
    # One secret key and one payment-secrets key for every process of the run, as every host
    # of a deployment shares them: a form served by one app instance (its CSRF token, the
    # session cookie) must be accepted by the other behind the balancer.
    env.setdefault("SECRET_KEY", secrets.token_urlsafe(32))
    env.setdefault("PAYMENT_SECRETS_KEY", base64.urlsafe_b64encode(os.urandom(32)).decode())
    if args.workers:
        env["WEB_CONCURRENCY"] = str(args.workers)
    if args.threads:
        env["GUNICORN_THREADS"] = str(args.threads)
    if args.worker_class:
        env["GUNICORN_WORKER_CLASS"] = args.worker_class
    (workdir / "metrics").mkdir(parents=True, exist_ok=True)
    return env


def prepare(env: dict[str, str]) -> None:
    flask = str(BIN / "flask")
    subprocess.run([flask, "db", "upgrade"], cwd=ROOT, env=env, check=True, capture_output=True)
    subprocess.run([flask, "demo", "load"], cwd=ROOT, env=env, check=True, capture_output=True)


def campaign_path(env: dict[str, str]) -> tuple[str | None, str | None]:
    result = _script_answer(env, CAMPAIGN_PATH_SCRIPT)
    return result["path"], result["reason"]


def event_path(env: dict[str, str]) -> str | None:
    return _script_answer(env, EVENT_PATH_SCRIPT)["path"]


def gunicorn_settings(env: dict[str, str]) -> str:
    code = (
        "import runpy, json; c = runpy.run_path('gunicorn.conf.py'); "
        "print(json.dumps({k: c[k] for k in ('worker_class', 'workers', 'threads', "
        "'preload_app', 'keepalive')}))"
    )
    completed = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True
    )
    return completed.stdout.strip()


def git_revision() -> str:
    completed = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True
    )
    # docs/benchmarks.md itself is rewritten section by section during `make bench`.
    dirty = subprocess.run(
        ["git", "status", "--porcelain", "--untracked-files=no", "--", ".",
         ":(exclude)docs/benchmarks.md"],
        cwd=ROOT,
        capture_output=True,
        text=True,
    ).stdout.strip()  # fmt: skip
    return completed.stdout.strip() + (" (with uncommitted changes)" if dirty else "")


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=int, default=10, help="wrk duration per target")
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds per target")
    parser.add_argument("--warmup", type=int, default=2, help="wrk warm-up seconds per target")
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--wrk-threads", type=int, default=2)
    parser.add_argument("--workers", type=int, help="WEB_CONCURRENCY (default: gunicorn.conf.py)")
    parser.add_argument("--threads", type=int, help="GUNICORN_THREADS")
    parser.add_argument("--worker-class", help="GUNICORN_WORKER_CLASS")
    parser.add_argument("--db-url", default=os.environ.get("BENCH_DATABASE_URL", DEFAULT_DB))
    parser.add_argument("--output", type=Path, default=ROOT / "docs" / "benchmarks.md")
    parser.add_argument("--no-write", action="store_true", help="print, do not edit the docs")
    args = parser.parse_args(argv)
    args.port = free_port()
    # SIGTERM (a CI timeout, kill) still stops gunicorn through the finally below.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))

    wrk = bench_http.ensure_wrk()
    workdir = Path(tempfile.mkdtemp(prefix="charity-bench-"))
    env = bench_env(args, workdir)
    print(f"database {args.db_url}: recreating, migrating, seeding", flush=True)
    recreate_database(args.db_url)
    prepare(env)
    campaign, campaign_reason = campaign_path(env)
    event = event_path(env)  # givingdays
    settings = gunicorn_settings(env)

    load_before = os.getloadavg()
    log_path = workdir / "gunicorn.log"
    with log_path.open("w") as log:
        server = subprocess.Popen(
            [str(BIN / "gunicorn"), "-c", "gunicorn.conf.py", "wsgi:app"],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=log,
        )
    base = f"http://127.0.0.1:{args.port}"
    try:
        bench_http.wait_for(base + "/healthz")
        targets = [
            ("ceiling: static file", "/static/css/app.css"),
            ("home page", "/"),
            ("health check (DB query)", "/healthz"),
        ]
        if campaign:
            targets.append(("campaign page", campaign))
        if event:  # givingdays: issue 18, the event page under load
            targets.append(("giving-day event page", event))
        if args.warmup:
            for name, path in targets:
                print(f"warm-up {path}: {args.warmup}s", flush=True)
                bench_http.run_wrk(
                    wrk, base, name, path, seconds=args.warmup,
                    connections=args.connections, threads=args.wrk_threads,
                )  # fmt: skip
        # Rounds interleave the targets, so a change in background load hits them alike;
        # each row reports the round with the median rate.
        rounds: dict[str, list[bench_http.WrkResult]] = {name: [] for name, _ in targets}
        for number in range(1, args.rounds + 1):
            for name, path in targets:
                result = bench_http.run_wrk(
                    wrk, base, name, path, seconds=args.seconds,
                    connections=args.connections, threads=args.wrk_threads,
                    master_pid=server.pid,
                )  # fmt: skip
                print(
                    f"round {number} {path}: {result.rps:,.0f} req/s  "
                    f"p50 {result.p50_ms:.1f} ms  p99 {result.p99_ms:.1f} ms  "
                    f"errors {result.errors} non-2xx {result.non_2xx_3xx}",
                    flush=True,
                )
                rounds[name].append(result)
        results = [bench_http.median_round(rounds[name]) for name, _ in targets]
        load_after = os.getloadavg()
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=60)

    ceiling = results[0]
    notes = []
    recycles = log_path.read_text().count("Autorestarting worker")
    errors = sum(r.errors for rs in rounds.values() for r in rs)
    if recycles or errors:
        notes.append(
            f"{recycles} worker recycles (gunicorn max_requests) and {errors} socket errors "
            "over all rounds: a recycling gthread worker closes its idle keep-alive "
            "connections, and a request wrk had just sent on one fails. Rerun with "
            "GUNICORN_MAX_REQUESTS=0 to see the errors go with the recycles."
        )
    if campaign is None:
        notes.append(f"Campaign page not measured: {campaign_reason}.")
    for r in results[1:]:
        notes.append(f"{r.name}: {bench_http.ratio(r.rps, ceiling.rps)} of the ceiling.")
    # Issue 18: the event page and the home page (the entry point on a giving day) are
    # cached for anonymous visitors (PAGE_CACHE_SECONDS, default 3 s: totals at most 3 s old).
    for r in results[1:]:
        if r.name in ("home page", "giving-day event page"):
            share = r.rps / ceiling.rps if ceiling.rps else 0.0
            verdict = "met" if share >= 0.5 else "MISSED"
            notes.append(
                f"Issue 18 target: {r.name} ≥ 50% of the ceiling: **{share:.0%}, {verdict}**."
            )
    setup = [
        f"Run {datetime.now(UTC):%Y-%m-%d %H:%M} UTC at commit {git_revision()}; "
        f"{os.cpu_count()} CPU cores ({platform.machine()}), Python {platform.python_version()}, "
        f"PostgreSQL at `{args.db_url.split('@')[-1]}`.",
        f"gunicorn: `{settings}`, CHARITY_ENV=bench (JSON request log on, as in production).",
        f"wrk: {args.connections} connections, {args.wrk_threads} threads, {args.rounds} "
        f"interleaved rounds of {args.seconds} s per target after a {args.warmup} s warm-up; "
        "each row is the round with the median rate. wrk runs on the same cores as the "
        "server, so its CPU use lowers every row alike; the ratios are the measure.",
        f"Load average (1 min) before/after: {load_before[0]:.1f} / {load_after[0]:.1f} on "
        f"{os.cpu_count()} cores: other processes on this machine (it is shared) take CPU, "
        "so absolute rates vary between runs more than the ratios do.",
        "Re-measure: `make bench` (or `python -m bench.run --seconds 30`).",
    ]
    section = bench_http.render_section(results, ceiling, notes, setup)
    profile = profile_pages(env, [r.path for r in results])
    section += "\n\n" + bench_http.render_profile(profile, results)
    print("\n" + section)
    if not args.no_write:
        bench_http.write_section(args.output, "http", section, INTRO)
        print(f"\nwrote the http section of {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
