"""Fault drill: kill a worker and restart PostgreSQL during a webhook burst; nothing is
lost or counted twice after Stripe-style redelivery. Then the backup drill.

    python -m bench.fault_drill [--donations 1500] [--no-pg-restart] [--no-backup] [--no-write]

1. A fresh PostgreSQL database (default ``charity_drill``) is migrated and seeded; gunicorn
   serves the app with ``gunicorn.conf.py`` (CHARITY_ENV=bench: the log batched) and the
   log sequencer (``flask audit sequencer``) runs beside it, through the faults too; the
   Stripe stand-in ``bench/stripe_stub.py`` is there for any call. N pending donations
   get one ``payment_intent.succeeded`` event each (fixed event ids, as Stripe keeps an
   event's id across retries).
2. Burst: 16 concurrent senders deliver every event once. A third of the way in, one
   gunicorn worker is SIGKILLed (its in-flight requests die with it; the master forks a
   new one); half way, the log sequencer is SIGKILLed (mid-batch: its transaction rolls
   back) and started again; two thirds in, PostgreSQL is restarted
   (``pg_ctlcluster --skip-systemctl-redirect <version> main restart``: every connection
   drops for a few seconds; other users of this server notice).
3. Redelivery, as Stripe does it: every event again (those that succeeded too), in
   shuffled order, freshly signed, and whatever fails is retried until answered 2xx.
4. Once the sequencer has emptied the queue, checks in SQL: every donation succeeded
   exactly once, one ledger transaction and one ``donation.succeeded`` log entry each (at
   the index its donation links), every event stored once; then
   ``flask ledger check`` and ``flask audit verify`` must pass.

Writes the ``<!-- bench:faults -->`` section of docs/benchmarks.md (with the backup
drill's result unless --no-backup). Exit status 0 only if every check passed.
"""

from __future__ import annotations

import argparse
import os
import random
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

import psycopg

from bench import backup_drill
from bench import http_pages as bench_http
from bench import run as bench_run
from bench import webhook_events as events
from bench.webhook import (
    SECRET,
    deliver,
    flask_check,
    queue_drain_seconds,
    start_gunicorn,
    start_sequencer,
    start_stub,
    wait_port,
)

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DB = "postgresql+psycopg://postgres@127.0.0.1:5432/charity_drill"


def pg_restart_command() -> list[str]:
    versions = sorted(os.listdir("/etc/postgresql")) if os.path.isdir("/etc/postgresql") else []
    if not versions:
        raise SystemExit("no /etc/postgresql/<version>: pass --no-pg-restart")
    return ["pg_ctlcluster", "--skip-systemctl-redirect", versions[-1], "main", "restart"]


def burst(port: int, payloads: list[str], faults: list[tuple[float, str, object]]) -> Counter:
    """Deliver each payload once with 16 senders; run each fault when its share is sent."""
    statuses: Counter = Counter()
    sent = [0]
    lock = threading.Lock()
    pending_faults = sorted(faults, key=lambda f: f[0])
    fault_log: list[str] = []

    def one(payload: str) -> None:
        status = deliver(port, payload)
        with lock:
            statuses[status] += 1
            sent[0] += 1
            while pending_faults and sent[0] >= pending_faults[0][0] * len(payloads):
                _share, label, action = pending_faults.pop(0)
                threading.Thread(target=action).start()  # type: ignore[arg-type]
                fault_log.append(f"{label} after {sent[0]} of {len(payloads)} deliveries")

    with ThreadPoolExecutor(16) as pool:
        list(pool.map(one, payloads))
    statuses["faults"] = 0
    burst.fault_log = fault_log  # type: ignore[attr-defined]
    return statuses


def redeliver(port: int, payloads: list[str], max_passes: int = 20) -> tuple[int, int, Counter]:
    """Every event again, shuffled; failures retried. (passes, deliveries, statuses)."""
    todo = payloads[:]
    random.shuffle(todo)
    statuses: Counter = Counter()
    deliveries = 0
    for number in range(1, max_passes + 1):
        with ThreadPoolExecutor(16) as pool:
            results = list(pool.map(lambda p: (p, deliver(port, p)), todo))
        deliveries += len(results)
        statuses.update(status for _p, status in results)
        todo = [p for p, status in results if not 200 <= status < 300]
        if not todo:
            return number, deliveries, statuses
        time.sleep(1)
    raise SystemExit(f"{len(todo)} deliveries still failing after {max_passes} passes")


def count_checks(conn: psycopg.Connection, ids: list[int], event_ids: list[str]) -> dict:
    one = lambda query, *params: conn.execute(query, params).fetchone()[0]  # noqa: E731
    result = {
        "donations succeeded": one(
            "SELECT count(*) FROM donations WHERE id = ANY(%s) AND status = 'succeeded'", ids
        ),
        "ledger transactions": one(
            "SELECT count(*) FROM ledger_transactions WHERE donation_id = ANY(%s) "
            "AND kind = 'donation'",
            ids,
        ),
        "donations with more than one ledger transaction": one(
            "SELECT count(*) FROM (SELECT donation_id FROM ledger_transactions "
            "WHERE donation_id = ANY(%s) AND kind = 'donation' "
            "GROUP BY donation_id HAVING count(*) > 1) t",
            ids,
        ),
        "donation.succeeded log entries": one(
            "SELECT count(*) FROM auditlog_entries WHERE event_type = 'donation.succeeded' "
            "AND subject_table = 'donations' AND subject_id = ANY(%s)",
            ids,
        ),
        "distinct donations in the log": one(
            "SELECT count(DISTINCT subject_id) FROM auditlog_entries WHERE "
            "event_type = 'donation.succeeded' AND subject_id = ANY(%s)",
            ids,
        ),
        "donations linking their log entry": one(
            "SELECT count(*) FROM donations d JOIN auditlog_entries e ON e.idx = d.log_index "
            "AND e.subject_id = d.id AND e.event_type = 'donation.succeeded' "
            "WHERE d.id = ANY(%s)",
            ids,
        ),
        "entries still queued": one("SELECT count(*) FROM auditlog_queue"),
        "events stored": one("SELECT count(*) FROM provider_events WHERE id = ANY(%s)", event_ids),
        "receipt numbers": one(
            "SELECT count(DISTINCT receipt_number) FROM donations WHERE id = ANY(%s)", ids
        ),
        "raised (fen)": one(
            "SELECT coalesce(sum(amount_fen), 0) FROM donations WHERE id = ANY(%s) "
            "AND status = 'succeeded'",
            ids,
        ),
    }
    conn.commit()
    return result


def wanted_counts(n: int, raised_fen: int) -> dict:
    """What :func:`count_checks` must find after ``n`` gifts of ``raised_fen`` in all each
    succeeded once."""
    return {
        "donations succeeded": n,
        "ledger transactions": n,
        "donations with more than one ledger transaction": 0,
        "donation.succeeded log entries": n,
        "distinct donations in the log": n,
        "donations linking their log entry": n,
        "entries still queued": 0,
        "events stored": n,
        "receipt numbers": n,
        "raised (fen)": raised_fen,
    }


def run_drill(args: argparse.Namespace, env: dict[str, str], workdir: Path) -> tuple[bool, list]:
    conn = psycopg.connect(events.psycopg_url(args.db_url), autocommit=False)
    pending = events.create_pending(conn, args.donations)
    conn.close()
    event_ids = [f"evt_drill_{p.donation_id}" for p in pending]
    payloads = [events.event_payload(p, e) for p, e in zip(pending, event_ids, strict=True)]
    expected_fen = sum(p.amount_fen for p in pending)
    port = bench_run.free_port()
    server = start_gunicorn(env, "wsgi:app", port, workdir / "gunicorn.log")
    sequencers = [start_sequencer(env, workdir / "sequencer.log")]
    lines: list[str] = []
    try:
        wait_port(port)
        bench_http.wait_for(f"http://127.0.0.1:{port}/healthz", timeout=60)

        def kill_worker() -> None:
            pids = bench_http.worker_pids(server.pid)
            if pids:
                os.kill(pids[0], signal.SIGKILL)
                print(f"  SIGKILLed gunicorn worker {pids[0]}", flush=True)

        def restart_postgres() -> None:
            started = time.monotonic()
            subprocess.run(pg_restart_command(), check=True, capture_output=True)
            print(f"  PostgreSQL restarted in {time.monotonic() - started:.1f} s", flush=True)

        def kill_sequencer() -> None:
            os.kill(sequencers[-1].pid, signal.SIGKILL)
            sequencers[-1].wait(timeout=10)
            print("  SIGKILLed the log sequencer; starting another", flush=True)
            sequencers.append(start_sequencer(env, workdir / "sequencer-2.log"))

        faults = [
            (1 / 3, "SIGKILL of a gunicorn worker", kill_worker),
            (1 / 2, "SIGKILL of the log sequencer (a new one started at once)", kill_sequencer),
        ]
        if not args.no_pg_restart:
            faults.append((2 / 3, "PostgreSQL restart", restart_postgres))
        print(f"burst: {len(payloads)} deliveries, 16 senders", flush=True)
        started = time.monotonic()
        first = burst(port, payloads, faults)
        burst_seconds = time.monotonic() - started
        del first["faults"]
        time.sleep(3)  # let a restarting PostgreSQL come back before Stripe "retries"
        print(f"burst statuses: {dict(first)}; redelivering everything", flush=True)
        passes, redeliveries, second = redeliver(port, payloads)
        print(f"redelivery: {passes} passes, {redeliveries} deliveries, {dict(second)}")
        conn = psycopg.connect(events.psycopg_url(args.db_url))
        drain = queue_drain_seconds(conn)
        conn.close()
        print(f"the sequencer emptied the log queue {drain:.1f} s after the redelivery")
    finally:
        for process in (server, *sequencers):
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in (server, *sequencers):
            process.wait(timeout=60)
    conn = psycopg.connect(events.psycopg_url(args.db_url))
    counts = count_checks(conn, [p.donation_id for p in pending], event_ids)
    conn.close()
    n = len(pending)
    wanted = wanted_counts(n, expected_fen)
    checks = {
        "ledger check": flask_check(env, "ledger", "check"),
        "audit verify": flask_check(env, "audit", "verify"),
    }
    ok = counts == wanted and all(passed for passed, _ in checks.values())
    faults_seen = getattr(burst, "fault_log", [])
    lines += [
        f"{n} pending donations, one `payment_intent.succeeded` event each; the burst sent "
        f"each once with 16 concurrent senders in {burst_seconds:.1f} s; faults injected: "
        + "; ".join(faults_seen)
        + ".",
        "Burst answers (HTTP status: count, 0 = connection failed): "
        + ", ".join(f"{k}: {v}" for k, v in sorted(first.items()))
        + ".",
        f"Redelivery of all {n} events, shuffled, failures retried: {passes} pass(es), "
        f"{redeliveries} deliveries; answers "
        + ", ".join(f"{k}: {v}" for k, v in sorted(second.items()))
        + f". The log sequencer (the second one, after the kill) emptied its queue {drain:.1f} s "
        "after the redelivery ended.",
        "",
        "| check | expected | found |",
        "|---|---:|---:|",
        *(f"| {k} | {wanted[k]:,} | {counts[k]:,} |" for k in wanted),
        *(
            f"| `flask {k}` | passes | {'passes' if passed else 'FAILS'}: {last} |"
            for k, (passed, last) in checks.items()
        ),
        "",
        f"**Result: {'nothing lost, nothing counted twice' if ok else 'FAILED'}.**",
    ]
    return ok, lines


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--donations", type=int, default=1500)
    parser.add_argument("--db-url", default=os.environ.get("DRILL_DATABASE_URL", DEFAULT_DB))
    parser.add_argument("--no-pg-restart", action="store_true")
    parser.add_argument("--no-backup", action="store_true")
    parser.add_argument("--output", type=Path, default=ROOT / "docs" / "benchmarks.md")
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args(argv)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    workdir = Path(tempfile.mkdtemp(prefix="charity-drill-"))
    args.port = 0
    args.workers = args.threads = args.worker_class = None
    env = bench_run.bench_env(args, workdir)
    env["LOG_REQUESTS"] = "0"
    print(f"database {args.db_url}: recreating, migrating, seeding", flush=True)
    bench_run.recreate_database(args.db_url)
    bench_run.prepare(env)
    stub, stub_url = start_stub()
    env.update(STRIPE_API_BASE=stub_url, STRIPE_WEBHOOK_SECRET=SECRET)
    try:
        ok, lines = run_drill(args, env, workdir)
        backup_ok, backup_lines = True, []
        if not args.no_backup:
            backup_ok, backup_lines = backup_drill.run_backup_drill(args.db_url, env, workdir)
    finally:
        stub.terminate()
        stub.wait(timeout=10)
    section = [
        "## Faults: a killed worker, a killed sequencer and a PostgreSQL restart mid-burst; "
        "backup and restore",
        "",
        f"Run {datetime.now(UTC):%Y-%m-%d %H:%M} UTC at commit {bench_run.git_revision()} by "
        "`python -m bench.fault_drill` (part of `make bench`; the procedure is in "
        "docs/deployment.md). gunicorn with `gunicorn.conf.py` on PostgreSQL, the Stripe "
        "API pointed at `bench/stripe_stub.py` on loopback (the confirmation path calls none).",
        "",
        "### Webhook burst with faults",
        "",
        *lines,
    ]
    if backup_lines:
        section += ["", "### Backup and restore (`bench/backup_drill.py`)", "", *backup_lines]
    text = "\n".join(section)
    print("\n" + text)
    if not args.no_write:
        bench_http.write_section(args.output, "faults", text, bench_run.INTRO)
        print(f"\nwrote the faults section of {args.output}")
    return 0 if ok and backup_ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
