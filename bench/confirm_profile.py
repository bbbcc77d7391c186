"""Load-robust confirmation cost: CPU ms and SQL statements per confirmation, in-process.

    python -m bench.confirm_profile [--db-url ...] [--reuse] [-n 150] [--rounds 3]
                                    [--providers stripe,wechatpay,alipay] [--cprofile]

wrk's confirmations/s move with whatever else the shared machine runs; the process CPU one
confirmation costs barely does. This pushes signed deliveries (prepared beforehand, so the
bench's own RSA signing is not counted) one at a time through ``app.test_client()`` of the
charity app (CHARITY_ENV=bench, as ``bench.webhook`` runs it) and of the floor
(bench/webhook_floor.py), interleaved, for each provider, and with Stripe also with the
giving-day 1:1 matching pool on (issue 18). It reports, per target, the median over the
rounds of this process's CPU ms per confirmation (``time.process_time``: not PostgreSQL's)
and the SQL statements per confirmation (SQLAlchemy's ``before_cursor_execute``; the floor
sends 8 by construction), with the CPU the database's client backends spent meanwhile (from
/proc, when PostgreSQL runs on this machine; clock ticks, so read it over 100+ deliveries)
and, for the matching pool, "matching ÷ plain": plain CPU ÷ matching CPU of the same
round, the median over the rounds (issue 18's target in CPU terms). ``--cprofile`` adds
our functions by cumulative time for each provider (Stripe also with matching).

The database (``BENCH_DATABASE_URL`` or ``--db-url``) is recreated, migrated and seeded as
``bench.webhook`` does it, unless ``--reuse``. Writes nothing to docs/.
"""

from __future__ import annotations

import argparse
import base64
import cProfile
import gc
import json
import os
import pstats
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psycopg
from sqlalchemy import event as sa_event

from bench import run as bench_run
from bench import wallet_events, webhook_floor
from bench import webhook as bench_webhook
from bench import webhook_events as events
from bench.webhook_floor import create_floor_tables
from charity import create_app
from charity.extensions import db
from config import load_config

ROOT = Path(__file__).resolve().parent.parent


def _inner(config_path: str) -> None:  # runs in a subprocess with the bench env
    config = json.loads(Path(config_path).read_text())
    app = create_app(load_config())
    os.environ["FLOOR_DATABASE_URL"] = os.environ["DATABASE_URL"]
    conn = psycopg.connect(events.psycopg_url(os.environ["DATABASE_URL"]))
    keys = json.loads(Path(os.environ["FLOOR_WALLET_KEYS"]).read_text())
    signer = wallet_events.Signer(keys)
    account_ids = {k: int(v) for k, v in config["account_ids"].items()}
    clients = {"charity": app.test_client(), "floor": webhook_floor.app.test_client()}
    statements = [0]
    with app.app_context():
        sa_event.listen(
            db.engine,
            "before_cursor_execute",
            lambda *a: statements.__setitem__(0, statements[0] + 1),
        )
    secret = os.environ["STRIPE_WEBHOOK_SECRET"]

    def deliveries(provider: str, target: str, count: int) -> list[tuple[str, dict, str]]:
        table = "floor_donations" if target == "floor" else "donations"
        if provider == "stripe":
            out = []
            for item in events.create_pending(conn, count, table):
                body = events.event_payload(item)
                headers = {
                    "Content-Type": "application/json",
                    "Stripe-Signature": events.sign(body, secret),
                }
                out.append(("/stripe/webhook", headers, body))
            return out
        public_id = keys[provider]["mchid" if provider == "wechatpay" else "app_id"]
        pending = wallet_events.create_pending(
            conn, count, provider, account_ids[provider], public_id, table
        )
        url = f"/payments/{provider}/notify/{account_ids[provider]}"
        return [(url, *signer.delivery(provider, item)) for item in pending]

    def switch(on: bool) -> None:
        if config["event_id"] is None:
            return
        conn.execute(
            "UPDATE giving_day_campaigns SET status = %s WHERE event_id = %s",
            ("accepted" if on else "rejected", config["event_id"]),
        )
        conn.commit()

    def push(target: str, items: list) -> None:
        client = clients["floor" if target == "floor" else "charity"]
        for url, headers, body in items:
            response = client.post(url, data=body, headers=headers)
            assert response.status_code in (200, 204), (
                target,
                url,
                response.status_code,
                response.get_data()[:300],
            )

    def backend_cpu() -> float | None:
        """CPU seconds so far (user + system, /proc) of this database's client backends
        but the bench's own: during a push, the server's side of the target's statements
        (None: PostgreSQL is not on this machine or not readable)."""
        pids = conn.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database()"
            " AND backend_type = 'client backend' AND pid <> pg_backend_pid()"
        ).fetchall()
        conn.commit()
        total = 0
        try:
            for (pid,) in pids:
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
                total += int(fields[11]) + int(fields[12])  # utime, stime (clock ticks)
        except (OSError, IndexError, ValueError):
            return None
        return total / os.sysconf("SC_CLK_TCK")

    n, warm = config["n"], 20
    targets = {p: ["floor", "charity"] for p in config["providers"]}
    if "stripe" in targets and config["event_id"] is not None:
        targets["stripe"].append("matching")
    samples: dict[str, dict[str, list]] = {
        f"{p}/{t}": {"cpu": [], "wall": [], "sql": [], "pg": []}
        for p in targets
        for t in targets[p]
    }
    for number in range(config["rounds"] + 1):
        for provider, names in targets.items():
            for target in names:
                if target != "floor":
                    switch(target == "matching")
                items = deliveries(provider, target, n + warm)
                push(target, items[:warm])
                # the bench's own garbage (the deliveries just prepared) collected now:
                # a full collection (~0.15 s here) inside a timed batch of 100 added
                # ~1.5 ms to each of its confirmations, in whichever target it fell
                gc.collect()
                statements[0] = 0
                server = backend_cpu()
                wall, cpu = time.perf_counter(), time.process_time()
                push(target, items[warm:])
                cpu = (time.process_time() - cpu) / n * 1000
                wall = (time.perf_counter() - wall) / n * 1000
                after = backend_cpu()
                server = None if server is None or after is None else (after - server) / n * 1000
                if number:  # round 0 warms every path up
                    sample = samples[f"{provider}/{target}"]
                    sample["cpu"].append(cpu)
                    sample["wall"].append(wall)
                    sample["sql"].append(8.0 if target == "floor" else statements[0] / n)
                    sample["pg"].append(server)
    switch(False)
    result: dict = {"targets": {}}
    for key, sample in samples.items():
        result["targets"][key] = {
            "cpu_ms": statistics.median(sample["cpu"]),
            "cpu_range": [min(sample["cpu"]), max(sample["cpu"])],
            "wall_ms": statistics.median(sample["wall"]),
            "statements": statistics.median(sample["sql"]),
            "pg_cpu_ms": (statistics.median(sample["pg"]) if None not in sample["pg"] else None),
        }
    if "stripe/matching" in samples:  # the same rounds, side by side (issue 18's target)
        plain, matched = samples["stripe/charity"], samples["stripe/matching"]
        result["matching_vs_plain"] = {
            "cpu": sorted(a / b for a, b in zip(plain["cpu"], matched["cpu"], strict=True)),
            "with_pg": (
                sorted(
                    (a + c) / (b + d)
                    for a, b, c, d in zip(
                        plain["cpu"], matched["cpu"], plain["pg"], matched["pg"], strict=True
                    )
                )
                if None not in plain["pg"] + matched["pg"]
                else None
            ),
        }
    profiled = [("stripe", "charity")] if "stripe" in targets else []
    if "stripe" in targets and config["event_id"]:
        profiled.append(("stripe", "matching"))
    profiled += [(p, "charity") for p in targets if p != "stripe"]
    for provider, target in profiled if config["cprofile"] else []:
        switch(target == "matching")
        items = deliveries(provider, target, n)
        profile = cProfile.Profile(time.process_time)
        profile.enable()
        push(target, items)
        profile.disable()
        rows = []
        for (filename, line, name), (_cc, nc, tt, ct, _callers) in pstats.Stats(
            profile
        ).stats.items():
            if "site-packages/" in filename:
                filename = filename.split("site-packages/")[-1]
            elif filename.startswith(os.getcwd()):
                filename = os.path.relpath(filename)
            rows.append((f"{filename}:{line}({name})", ct / n * 1000, tt / n * 1000, nc / n))
        rows.sort(key=lambda r: r[1], reverse=True)
        name = target if provider == "stripe" else provider
        result[f"cprofile_{name}"] = {
            "cumulative": [r for r in rows if not r[0].startswith(("werkzeug", "bench/"))][:90],
            "own": sorted(rows, key=lambda r: r[2], reverse=True)[:25],
        }
    switch(False)
    Path(config["out"]).write_text(json.dumps(result))


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--db-url", default=os.environ.get("BENCH_DATABASE_URL", bench_run.DEFAULT_DB)
    )
    parser.add_argument("--reuse", action="store_true", help="skip recreating the database")
    parser.add_argument("-n", type=int, default=150, help="confirmations measured per round")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--providers", default="stripe,wechatpay,alipay")
    parser.add_argument("--no-matching", action="store_true")
    parser.add_argument("--cprofile", action="store_true")
    parser.add_argument("--json", type=Path, help="also write the result here")
    args = parser.parse_args(argv)
    workdir = Path(tempfile.mkdtemp(prefix="charity-confirm-profile-"))
    args.port, args.workers, args.threads, args.worker_class = 0, None, None, None
    env = bench_run.bench_env(args, workdir)
    env.setdefault("PAYMENT_SECRETS_KEY", base64.urlsafe_b64encode(os.urandom(32)).decode())
    if not args.reuse:
        print(f"database {args.db_url}: recreating, migrating, seeding", flush=True)
        bench_run.recreate_database(args.db_url)
        bench_run.prepare(env)
    stub, stub_url = bench_webhook.start_stub()
    keys_path = workdir / "wallet_keys.json"
    env.update(
        STRIPE_API_BASE=stub_url,
        STRIPE_WEBHOOK_SECRET=bench_webhook.SECRET,
        FLOOR_DATABASE_URL=args.db_url,
        FLOOR_WALLET_KEYS=str(keys_path),
    )
    try:
        conn = psycopg.connect(events.psycopg_url(args.db_url))
        create_floor_tables(conn)
        _campaign, org_id, _account = events.bench_campaign(conn)
        account_ids = wallet_events.connect(env, wallet_events.make_keys(), keys_path, org_id)
        event_id = None
        if not args.no_matching and "stripe" in args.providers:
            event_id = bench_webhook.setup_matching(env, conn)
            bench_webhook.switch_matching(conn, event_id, on=False)
        else:  # the seeded demo giving day's pools would match the plain confirmations
            conn.execute("UPDATE giving_day_campaigns SET status = 'rejected'")
            conn.commit()
        config = {
            "account_ids": account_ids,
            "event_id": event_id,
            "n": args.n,
            "rounds": args.rounds,
            "providers": [p for p in args.providers.split(",") if p],
            "cprofile": args.cprofile,
            "out": str(workdir / "result.json"),
        }
        (workdir / "config.json").write_text(json.dumps(config))
        with (workdir / "inner.log").open("w") as log:
            completed = subprocess.run(
                [sys.executable, "-m", "bench.confirm_profile", "--inner",
                 str(workdir / "config.json")],
                cwd=ROOT, env=env, stdout=log, stderr=log,
            )  # fmt: skip
        if completed.returncode != 0:
            print((workdir / "inner.log").read_text()[-4000:])
            return 1
    finally:
        stub.send_signal(signal.SIGTERM)
        stub.wait(timeout=10)
    result = json.loads((workdir / "result.json").read_text())
    print(f"load average {os.getloadavg()[0]:.1f}; {args.rounds} rounds of {args.n}, medians")
    print(
        f"{'target':24} {'CPU ms':>8} {'range':>13} {'wall ms':>8} {'SQL':>5} {'CPU vs floor':>12}"
        f" {'PG CPU ms':>9}"
    )
    rows = result["targets"]
    for key, row in rows.items():
        floor = rows[key.split("/")[0] + "/floor"]["cpu_ms"]
        low, high = row["cpu_range"]
        server = "—" if row["pg_cpu_ms"] is None else f"{row['pg_cpu_ms']:.2f}"
        print(
            f"{key:24} {row['cpu_ms']:8.2f} {low:6.2f}-{high:6.2f} {row['wall_ms']:8.2f} "
            f"{row['statements']:5.1f} {floor / row['cpu_ms']:11.0%} {server:>9}"
        )
    if "matching_vs_plain" in result:
        ratios = result["matching_vs_plain"]
        low, high = ratios["cpu"][0], ratios["cpu"][-1]
        line = (
            "matching ÷ plain (plain CPU ÷ matching CPU, round by round): median "
            f"{statistics.median(ratios['cpu']):.0%} ({low:.0%}–{high:.0%})"
        )
        if ratios["with_pg"]:
            line += f"; with PostgreSQL's CPU: {statistics.median(ratios['with_pg']):.0%}"
        print(line)
    for name in ("charity", "matching", "wechatpay", "alipay"):
        name = f"cprofile_{name}"
        if name in result:
            print(f"\n{name}: cumulative ms / own ms / calls per confirmation")
            for function, cumulative, own, calls in result[name]["cumulative"]:
                print(f"  {cumulative:7.3f} {own:7.3f} {calls:6.1f}  {function}")
            print(f"{name}: top own time")
            for function, cumulative, own, calls in result[name]["own"]:
                print(f"  {own:7.3f} {cumulative:7.3f} {calls:6.1f}  {function}")
    if args.json:
        args.json.write_text(json.dumps(result, indent=1))
    return 0


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--inner":
        _inner(sys.argv[2])
    else:
        sys.exit(main(sys.argv[1:]))
