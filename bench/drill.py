"""Giving-day drill across machines, simulated on this one (issue 20, part 5).

    python -m bench.drill [--donations 300] [--users 6] [--max-seconds 600] [--no-write]

The parts of a multi-host deployment, each its own process on 127.0.0.1:

* two app instances: separate gunicorn masters (2 workers x 4 threads each) on their own
  ports, behind Debian's haproxy (round robin, /healthz checks every 0.5 s);
* PgBouncer (transaction pooling) in front of the PostgreSQL primary; a streaming replica
  (``pg_basebackup -R``) serving the public pages and the read API;
* Redis (database 5 by default) for the page cache and the RQ job queue, with one RQ
  worker sending receipt mail;
* the log sequencer (``flask audit sequencer``), which also asks two witnesses
  (``python -m charity.auditlog.witness``) to cosign each checkpoint and writes the
  static tiles;
* the Stripe API stand-in (bench/stripe_stub.py).

Load, bounded by ``--donations`` and ``--max-seconds``: ``--users`` virtual donors browse
(campaign page, home, organization page, campaign list, the log API) and give through the
donate form; each
gift is confirmed by a signed ``payment_intent.succeeded`` notification, as Stripe sends
it, through the balancer. Meanwhile: at a quarter of the gifts one app instance is
SIGKILLed (master and workers: a machine gone) and restarted 3 s later; at half, the
replica's postmaster is SIGKILLed and restarted; at three quarters, the sequencer is
SIGKILLed and another started. Then every notification is delivered again (Stripe
redelivers until it gets a 2xx), and the drill checks that nothing was lost or doubled,
that the tiles and the API agree and verify, that both witnesses cosigned every
checkpoint, and that every receipt mail was sent.

Writes the ``<!-- bench:drill -->`` section of docs/benchmarks.md; exit status 0 only if
every check passed.
"""

from __future__ import annotations

import argparse
import contextlib
import http.cookiejar
import json
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import psycopg

from bench import http_pages as bench_http
from bench import run as bench_run
from bench import webhook_events as events
from bench.cluster import PgBouncer, Replica, free_port, wait_for_port
from bench.fault_drill import count_checks, wanted_counts
from bench.webhook import SECRET, flask_check, queue_drain_seconds, start_stub
from charity.auditlog import tiles

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
DEFAULT_DB = "postgresql+psycopg://postgres@127.0.0.1:5432/charity_scale_drill"
DEFAULT_REDIS = "redis://127.0.0.1:6379/5"


# --- processes -------------------------------------------------------------------------


def spawn(command: list[str], env: dict[str, str], log: Path) -> subprocess.Popen:
    """A process in its own session (so a whole gunicorn can be killed at once)."""
    out = log.open("a")
    return subprocess.Popen(
        command, cwd=ROOT, env=env, stdout=out, stderr=out, start_new_session=True
    )


def kill_group(process: subprocess.Popen, sig: int = signal.SIGKILL) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, sig)
    with contextlib.suppress(subprocess.TimeoutExpired):
        process.wait(30)


def ensure_haproxy() -> str:
    found = shutil.which("haproxy") or (
        "/usr/sbin/haproxy" if Path("/usr/sbin/haproxy").exists() else None
    )
    if found:
        return found
    print("installing Debian's haproxy", flush=True)
    subprocess.run(["apt-get", "update", "-qq"], check=True)
    subprocess.run(
        ["apt-get", "install", "-y", "-qq", "haproxy"],
        check=True,
        env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"},
    )
    return "/usr/sbin/haproxy"


def haproxy_config(port: int, backends: list[int]) -> str:
    servers = "\n".join(
        f"  server app{n} 127.0.0.1:{backend} check" for n, backend in enumerate(backends, 1)
    )
    return f"""global
  maxconn 4000
defaults
  mode http
  timeout connect 2s
  timeout client 60s
  timeout server 60s
  retries 3
  option redispatch
  retry-on conn-failure
frontend web
  bind 127.0.0.1:{port}
  default_backend apps
backend apps
  balance roundrobin
  option httpchk GET /healthz
  http-check expect status 200
  timeout check 5s
  default-server inter 1s fall 3 rise 2
{servers}
"""


@dataclass
class Cluster:
    workdir: Path
    env: dict[str, str]
    app_ports: list[int]
    apps: list[subprocess.Popen] = field(default_factory=list)
    sequencers: list[subprocess.Popen] = field(default_factory=list)
    others: list[subprocess.Popen] = field(default_factory=list)
    incarnations: Counter = field(default_factory=Counter)

    def start_app(self, index: int) -> subprocess.Popen:
        self.incarnations[index] += 1
        metrics = self.workdir / f"metrics-{index}-{self.incarnations[index]}"
        metrics.mkdir()
        env = {
            **self.env,
            "GUNICORN_BIND": f"127.0.0.1:{self.app_ports[index]}",
            "PROMETHEUS_MULTIPROC_DIR": str(metrics),
        }
        process = spawn(
            [str(BIN / "gunicorn"), "-c", "gunicorn.conf.py", "wsgi:app"],
            env,
            self.workdir / f"app{index}.log",
        )
        if index < len(self.apps):
            self.apps[index] = process
        else:
            self.apps.append(process)
        return process

    def start_sequencer(self) -> subprocess.Popen:
        process = spawn(
            [str(BIN / "flask"), "audit", "sequencer"], self.env, self.workdir / "sequencer.log"
        )
        self.sequencers.append(process)
        return process

    def stop(self) -> None:
        for process in [*self.apps, *self.sequencers, *self.others]:
            if process.poll() is None:
                kill_group(process, signal.SIGTERM)


def start_witness(workdir: Path, name: str, log_key: str) -> tuple[subprocess.Popen, str, str]:
    base = [sys.executable, "-m", "charity.auditlog.witness", "--name", name]
    key_file = workdir / f"{name.replace('/', '_')}.key"
    key = subprocess.run(
        [*base, "--key-file", str(key_file), "--print-key"],
        cwd=ROOT, capture_output=True, text=True, check=True,
    ).stdout.strip()  # fmt: skip
    port = free_port()
    process = spawn(
        [
            *base,
            *("--key-file", str(key_file), "--log", log_key, "--quiet"),
            *("--state", str(workdir / f"{name.replace('/', '_')}.json")),
            *("--listen", f"127.0.0.1:{port}"),
        ],
        dict(os.environ),
        workdir / "witness.log",
    )
    wait_for_port(port)
    return process, key, f"http://127.0.0.1:{port}"


# --- the load --------------------------------------------------------------------------


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: object, **kwargs: object) -> None:
        return None


@dataclass
class Load:
    base: str
    db_url: str
    donations: int
    campaign_id: int
    org_id: int
    statuses: Counter = field(default_factory=Counter)
    created: list[tuple[int, int, str]] = field(default_factory=list)  # (id, amount, account)
    lock: threading.Lock = field(default_factory=threading.Lock)
    faults: list[tuple[float, str, object]] = field(default_factory=list)
    fault_log: list[str] = field(default_factory=list)
    #: monotonic time after which no new gift is started (the load is bounded in time too)
    deadline: float = float("inf")

    def count(self, kind: str, status: int) -> None:
        with self.lock:
            self.statuses[(kind, status)] += 1

    def browse(self, opener: urllib.request.OpenerDirector) -> None:
        path = random.choice(
            [
                f"/campaigns/{self.campaign_id}",
                f"/campaigns/{self.campaign_id}",
                "/",
                f"/orgs/{self.org_id}",
                "/campaigns/",
                "/api/v1/log/checkpoint",
            ]
        )
        self.count("page", _status(opener, self.base + path))

    def give(
        self, opener: urllib.request.OpenerDirector, number: int, conn: psycopg.Connection
    ) -> None:
        form_url = f"{self.base}/campaigns/{self.campaign_id}/donate"
        try:
            with opener.open(form_url, timeout=30) as response:
                page = response.read().decode()
        except (urllib.error.URLError, OSError) as error:
            self.count("donate form", getattr(error, "code", 0))
            return
        token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page) or re.search(
            r'name="csrf_token" value="([^"]+)"', page
        )
        fields = {
            "csrf_token": token.group(1) if token else "",
            "amount": str(random.choice([2000, 5000, 8800, 20000])),
            "donor_name": "演练捐赠人",
            "donor_email": f"drill{number}@example.org",  # required by the form
            "frequency": "once",
            "is_anonymous": "y",
            "receipt_wanted": "y",  # the form's default: every gift numbered
            "message": "",
        }
        data = urllib.parse.urlencode({k: v for k, v in fields.items() if v}).encode()
        try:
            response = opener.open(form_url, data=data, timeout=30)
            status, location = response.status, ""
        except urllib.error.HTTPError as error:
            status, location = error.code, error.headers.get("Location", "")
        except (urllib.error.URLError, OSError):
            status, location = 0, ""
        self.count("donation created", status)
        match = re.search(r"/donations/([^/]+)/pay", location)
        if status != 302 or not match:
            return
        row = conn.execute(
            "SELECT id, amount_fen, stripe_account_id FROM donations WHERE public_token = %s",
            (match.group(1),),
        ).fetchone()
        conn.commit()
        pending = events.Pending(row[0], row[1], row[2])
        payload = events.event_payload(pending, f"evt_drill_{pending.donation_id}")
        with self.lock:
            self.created.append((row[0], row[1], row[2]))
            made = len(self.created)
            while self.faults and made >= self.faults[0][0] * self.donations:
                _share, label, action = self.faults.pop(0)
                threading.Thread(target=action).start()  # type: ignore[arg-type]
                self.fault_log.append(f"{label} after {made} of {self.donations} gifts")
        self.count("notification", deliver(self.base, payload))

    def user(self, number: int) -> None:
        jar = http.cookiejar.CookieJar()
        opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar), NoRedirect)
        conn = psycopg.connect(events.psycopg_url(self.db_url))
        try:
            step = 0
            while True:
                with self.lock:
                    if len(self.created) >= self.donations or time.monotonic() > self.deadline:
                        return
                step += 1
                for _ in range(4):  # ~4 page views per gift
                    self.browse(opener)
                self.give(opener, number * 100_000 + step, conn)
        finally:
            conn.close()


def _status(opener: urllib.request.OpenerDirector, url: str) -> int:
    try:
        with opener.open(url, timeout=30) as response:
            response.read()
            return response.status
    except urllib.error.HTTPError as error:
        return error.code
    except (urllib.error.URLError, OSError):
        return 0


def deliver(base: str, payload: str) -> int:
    request = urllib.request.Request(  # noqa: S310 (loopback)
        f"{base}/stripe/webhook",
        data=payload.encode(),
        headers={
            "Content-Type": "application/json",
            "Stripe-Signature": events.sign(payload, SECRET),
        },
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
            return response.status
    except urllib.error.HTTPError as error:
        return error.code
    except (urllib.error.URLError, OSError):
        return 0


def redeliver(base: str, payloads: list[str], max_passes: int = 30) -> tuple[int, int]:
    """Every notification again, shuffled, 8 senders; what fails is sent again."""
    todo = payloads[:]
    random.shuffle(todo)
    deliveries = 0
    for number in range(1, max_passes + 1):
        with ThreadPoolExecutor(8) as pool:
            results = list(pool.map(lambda payload: (payload, deliver(base, payload)), todo))
        deliveries += len(results)
        todo = [payload for payload, status in results if not 200 <= status < 300]
        if not todo:
            return number, deliveries
        time.sleep(1)
    raise SystemExit(f"{len(todo)} notifications still refused after {max_passes} passes")


# --- watching --------------------------------------------------------------------------


@dataclass
class Watch:
    cluster: Cluster
    lag_seconds: float = 0.0
    lag_bytes: int = 0
    states: Counter = field(default_factory=Counter)
    reads: dict[tuple[int, int, str], float] = field(default_factory=dict)
    stopping: threading.Event = field(default_factory=threading.Event)

    def run(self) -> None:
        while not self.stopping.wait(0.5):
            for index, port in enumerate(self.cluster.app_ports):
                with contextlib.suppress(OSError, ValueError, KeyError):
                    health = json.loads(_get(f"http://127.0.0.1:{port}/healthz"))
                    for replica in health.get("replicas", {}).get("replicas", []):
                        self.states[replica["status"]] += 1
                        self.lag_seconds = max(self.lag_seconds, replica["lag_seconds"] or 0)
                        self.lag_bytes = max(self.lag_bytes, replica["lag_bytes"] or 0)
                with contextlib.suppress(OSError):
                    text = _get(f"http://127.0.0.1:{port}/metrics").decode()
                    incarnation = self.cluster.incarnations[index]
                    for target, value in re.findall(
                        r'charity_db_replica_eligible_requests_total\{target="(\w+)"\} ([0-9.e+]+)',
                        text,
                    ):
                        key = (index, incarnation, target)
                        self.reads[key] = max(self.reads.get(key, 0.0), float(value))

    def read_totals(self) -> dict[str, int]:
        totals: Counter = Counter()
        for (_index, _incarnation, target), value in self.reads.items():
            totals[target] += int(value)
        return dict(totals)


def _get(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=5) as response:  # noqa: S310 (loopback)
        return response.read()


# --- checks ----------------------------------------------------------------------------


def wait_published(
    conn: psycopg.Connection, tiles_dir: Path, timeout: float = 600
) -> tuple[int, int]:
    """Until the tiles' checkpoint is the head and every checkpoint has 2 cosignatures."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        (head,) = conn.execute("SELECT coalesce(max(size), 0) FROM auditlog_head").fetchone()
        (uncosigned,) = conn.execute(
            "SELECT count(*) FROM auditlog_checkpoints c WHERE c.tree_size > 0 AND "
            "(SELECT count(*) FROM auditlog_cosignatures s WHERE s.tree_size = c.tree_size) < 2"
        ).fetchone()
        conn.commit()
        checkpoint = tiles_dir / "checkpoint"
        published = int(checkpoint.read_text().split("\n")[1]) if checkpoint.exists() else -1
        if published == head and uncosigned == 0:
            return head, published
        time.sleep(0.2)
    raise SystemExit(f"tiles not published / checkpoints not cosigned within {timeout:.0f} s")


def compare_tiles_and_api(base: str, tiles_dir: Path, size: int) -> bool:
    served = _get(f"{base}/api/v1/log/checkpoint").decode()
    if served != (tiles_dir / "checkpoint").read_text():
        return False
    tree = tiles.TiledTree(lambda path: (tiles_dir / path).read_bytes(), size)
    for start in range(0, size, 1000):
        end = min(size, start + 1000)
        listed = json.loads(_get(f"{base}/api/v1/log/entries?start={start}&end={end}"))["entries"]
        for entry in listed:
            index = entry["index"]
            bundled = tree.bundle(index // 256)[index % 256].decode()
            if bundled != entry["payload"]:
                return False
    return True


def run_drill(args: argparse.Namespace) -> tuple[bool, list[str]]:
    workdir = Path(tempfile.mkdtemp(prefix="charity-scale-drill-"))
    args.port, args.workers, args.threads, args.worker_class = 0, None, None, None
    env = bench_run.bench_env(args, workdir)
    env["LOG_REQUESTS"] = "0"
    print(f"database {args.db_url}: recreating, migrating, seeding", flush=True)
    bench_run.recreate_database(args.db_url)
    bench_run.prepare(env)
    log_key = subprocess.run(
        [str(BIN / "flask"), "audit", "key"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    conn = psycopg.connect(events.psycopg_url(args.db_url))
    campaign_id, org_id, _account = events.bench_campaign(conn)
    conn.close()

    import redis  # the drill's Redis steps only

    redis.Redis.from_url(args.redis_url).flushdb()
    haproxy = ensure_haproxy()
    print(
        "starting: replica, PgBouncer, witnesses, Stripe stand-in, RQ worker, apps, haproxy",
        flush=True,
    )
    replica = Replica(args.db_url, name="charity_scale_drill_replica").create().start()
    bouncer = PgBouncer(args.db_url, pool_size=20, name="charity_scale_drill_pgbouncer").start()
    stub, stub_url = start_stub()
    tiles_dir = workdir / "tiles"
    cluster = Cluster(workdir, {}, [free_port(), free_port()])
    witnesses = []
    lines: list[str] = []
    try:
        for name in ("w1.drill.example/witness", "w2.drill.example/witness"):
            process, key, url = start_witness(workdir, name, log_key)
            cluster.others.append(process)
            witnesses.append((key, url))
        cluster.env = {
            **env,
            "DATABASE_URL": bouncer.url(),
            "DB_TRANSACTION_POOLING": "1",
            "DATABASE_REPLICA_URLS": replica.url(),
            "REDIS_URL": args.redis_url,
            "STRIPE_API_BASE": stub_url,
            "STRIPE_WEBHOOK_SECRET": SECRET,
            "AUDITLOG_WITNESSES": ", ".join(f"{key} {url}" for key, url in witnesses),
            "AUDITLOG_TILES": str(tiles_dir),
            "WEB_CONCURRENCY": "2",
            "GUNICORN_THREADS": "4",
        }
        cluster.others.append(
            spawn([str(BIN / "flask"), "jobs", "worker"], cluster.env, workdir / "worker.log")
        )
        cluster.start_sequencer()
        for index in range(2):
            cluster.start_app(index)
        for port in cluster.app_ports:
            bench_http.wait_for(f"http://127.0.0.1:{port}/healthz", timeout=90)
        balancer_port = free_port()
        (workdir / "haproxy.cfg").write_text(haproxy_config(balancer_port, cluster.app_ports))
        cluster.others.append(
            spawn(
                [haproxy, "-f", str(workdir / "haproxy.cfg"), "-db"],
                dict(os.environ),
                workdir / "haproxy.log",
            )
        )
        wait_for_port(balancer_port)
        base = f"http://127.0.0.1:{balancer_port}"
        bench_http.wait_for(f"{base}/healthz", timeout=30)

        def kill_app() -> None:
            kill_group(cluster.apps[0])
            print("  SIGKILLed app instance 1 (master and workers)", flush=True)
            time.sleep(3)
            cluster.start_app(0)
            print("  app instance 1 restarted", flush=True)

        def kill_replica() -> None:
            replica.kill()
            print("  SIGKILLed the replica's postmaster", flush=True)
            time.sleep(3)
            replica.start()
            print("  replica restarted", flush=True)

        def kill_sequencer() -> None:
            kill_group(cluster.sequencers[-1])
            print("  SIGKILLed the log sequencer; starting another", flush=True)
            cluster.start_sequencer()

        load = Load(base, args.db_url, args.donations, campaign_id, org_id)
        load.faults = [
            (1 / 4, "SIGKILL of app instance 1 (restarted 3 s later)", kill_app),
            (1 / 2, "SIGKILL of the replica (restarted 3 s later)", kill_replica),
            (3 / 4, "SIGKILL of the log sequencer (another started at once)", kill_sequencer),
        ]
        watch = Watch(cluster)
        watcher = threading.Thread(target=watch.run, daemon=True)
        watcher.start()
        print(f"load: {args.users} users until {args.donations} gifts", flush=True)
        started = time.monotonic()
        load.deadline = started + args.max_seconds
        users = [
            threading.Thread(target=load.user, args=(n,), daemon=True) for n in range(args.users)
        ]
        for user in users:
            user.start()
        for user in users:
            user.join()
        load_seconds = time.monotonic() - started
        time.sleep(4)  # the restarts finish
        payloads = [
            events.event_payload(events.Pending(*row), f"evt_drill_{row[0]}")
            for row in load.created
        ]
        print(f"load done in {load_seconds:.0f} s: {dict(load.statuses)}; redelivering", flush=True)
        passes, redeliveries = redeliver(base, payloads)
        conn = psycopg.connect(events.psycopg_url(args.db_url))
        drain = queue_drain_seconds(conn)
        head, published = wait_published(conn, tiles_dir)
        watch.stopping.set()
        watcher.join()
        ids = [row[0] for row in load.created]
        counts = count_checks(conn, ids, [f"evt_drill_{i}" for i in ids])
        (checkpoints, cosignatures) = conn.execute(
            "SELECT (SELECT count(*) FROM auditlog_checkpoints WHERE tree_size > 0), "
            "(SELECT count(*) FROM auditlog_cosignatures)"
        ).fetchone()
        # Gifts whose form answer was lost (the app instance died after the commit): the
        # donor saw an error and was never asked to pay; they must not have succeeded.
        (unseen, unseen_succeeded) = conn.execute(
            "SELECT count(*), count(*) FILTER (WHERE status = 'succeeded') FROM donations "
            "WHERE donor_name = '演练捐赠人' AND NOT id = ANY(%s)",
            (ids,),
        ).fetchone()
        (with_email,) = conn.execute(
            "SELECT count(*) FROM donations WHERE id = ANY(%s) AND donor_email <> ''", (ids,)
        ).fetchone()
        conn.close()
        receipts = receipts_sent(args.redis_url, with_email)
        with contextlib.ExitStack() as stack:
            port = free_port()
            server = subprocess.Popen(
                [sys.executable, "-m", "http.server", "--bind", "127.0.0.1", str(port)],
                cwd=tiles_dir, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            )  # fmt: skip
            stack.callback(lambda: (server.terminate(), server.wait(10)))
            wait_for_port(port)
            command = [
                *(sys.executable, "-m", "charity.auditlog.verifier"),
                *("--tiles", f"http://127.0.0.1:{port}", "--key", log_key, "--all"),
                *("--witness", witnesses[0][0], "--witness", witnesses[1][0]),
                *("--state", str(workdir / "verifier.json")),
            ]
            verified = subprocess.run(
                command, cwd=ROOT, capture_output=True, text=True, check=False
            )
        agree = compare_tiles_and_api(base, tiles_dir, head)
        pools = bouncer.show("STATS")
        transactions = sum(
            int(row.get("total_xact_count", 0))
            for row in pools
            if row["database"] == bouncer.primary.database
        )
    finally:
        cluster.stop()
        stub.terminate()
        stub.wait(10)
        bouncer.stop()
        replica.remove()
    n = len(load.created)
    # A form refused (a CSRF token one instance signed and the other rejects, say) is a
    # gift lost as surely as a dropped notification; only the killed instance may fail.
    refused = sum(
        count for (_kind, status), count in load.statuses.items() if status and 400 <= status < 500
    )
    wanted = wanted_counts(n, sum(row[1] for row in load.created))
    direct = {**env, "DATABASE_URL": args.db_url}
    checks = {
        "ledger check": flask_check(direct, "ledger", "check"),
        "audit verify": flask_check(direct, "audit", "verify"),
    }
    extra = {
        "checkpoints, each cosigned by both witnesses": (
            checkpoints * 2 == cosignatures,
            f"{checkpoints} checkpoints, {cosignatures} cosignatures",
        ),
        "tiles published up to the head": (head == published, f"head {head}, tiles {published}"),
        "verifier on the tiles (--all, 2 of 2 witnesses)": (
            verified.returncode == 0,
            verified.stdout.strip().splitlines()[-2]
            if verified.returncode == 0
            else verified.stderr.strip()[-300:],
        ),
        "tiles and API: same checkpoint, same entries": (agree, "identical" if agree else "DIFFER"),
        "receipt mails sent by the RQ worker": (receipts[0], receipts[1]),
        "no request refused by the app (4xx)": (
            refused == 0,
            f"{refused} answers 4xx" if refused else "none",
        ),
        "no other donation succeeded": (
            unseen_succeeded == 0,
            f"{unseen} created but never shown to the donor (lost answers), none paid",
        ),
    }
    ok = (
        counts == wanted
        and all(passed for passed, _ in checks.values())
        and all(passed for passed, _ in extra.values())
    )
    statuses = Counter()
    for (kind, status), count in load.statuses.items():
        statuses[f"{kind} {status or 'failed'}"] += count
    reads = watch.read_totals()
    lines += [
        f"{n} gifts by {args.users} virtual donors through the donate form (about 4 page views "
        f"per gift), each confirmed by a signed `payment_intent.succeeded` notification, "
        f"in {load_seconds:.0f} s; faults: " + "; ".join(load.fault_log) + ".",
        "Answers seen by the load (through haproxy): "
        + ", ".join(f"{k}: {v:,}" for k, v in sorted(statuses.items()))
        + ". Notifications that failed were delivered again, as Stripe does: "
        f"{passes} pass(es), {redeliveries:,} deliveries of all {n} events, shuffled.",
        f"Replica: the largest replay lag any health check saw was {watch.lag_seconds:.2f} s "
        f"({watch.lag_bytes:,} bytes of WAL); replica states seen by the checks: "
        + ", ".join(f"{k} {v}" for k, v in sorted(watch.states.items()))
        + f". Replica-eligible requests served from the replica: {reads.get('replica', 0):,}, "
        f"from the primary: {reads.get('primary', 0):,} (the replica's restart, signed-in "
        "and just-wrote visitors). "
        f"PgBouncer carried {transactions:,} transactions to the primary "
        "(transaction pooling, 20 server connections for 2 × 2 workers × 4 threads, the "
        "sequencer and the RQ worker). The log queue was empty "
        f"{drain:.1f} s after the redelivery.",
        "",
        "| check | expected | found |",
        "|---|---:|---:|",
        *(f"| {k} | {wanted[k]:,} | {counts[k]:,} |" for k in wanted),
        *(
            f"| `flask {k}` | passes | {'passes' if passed else 'FAILS'}: {last} |"
            for k, (passed, last) in checks.items()
        ),
        *(
            f"| {k} | yes | {'yes' if passed else 'NO'}: {detail} |"
            for k, (passed, detail) in extra.items()
        ),
        "",
        "**Result: "
        + ("nothing lost or doubled; tiles, API and witnesses agree" if ok else "FAILED")
        + ".**",
    ]
    if ok:
        shutil.rmtree(workdir, ignore_errors=True)
    else:
        print(f"kept {workdir} for inspection")
    return ok, lines


def receipts_sent(redis_url: str, expected: int, stall: float = 180) -> tuple[bool, str]:
    """Until the RQ worker has finished ``expected`` receipt jobs (and none failed), for as
    long as it makes progress: it fails only if no job finishes for ``stall`` seconds (one
    worker renders a PDF per receipt, slow on a loaded machine, but nothing may be lost)."""
    import redis  # the drill's Redis steps only
    from rq import Queue  # the drill's Redis steps only

    queue = Queue(
        os.environ.get("JOBS_QUEUE", "charity"), connection=redis.Redis.from_url(redis_url)
    )
    # RQ keeps a finished job's id for its result TTL (500 s) only: gather the ids as they
    # appear, so that a slow worker's early jobs still count once they have expired.
    finished: set[str] = set()
    failed: set[str] = set()
    started = time.monotonic()
    deadline = started + stall
    while time.monotonic() < deadline:
        before = len(finished) + len(failed)
        finished.update(queue.finished_job_registry.get_job_ids())
        failed.update(queue.failed_job_registry.get_job_ids())
        if len(finished) + len(failed) > before:
            deadline = time.monotonic() + stall
        if len(finished) + len(failed) >= expected and queue.count == 0:
            return (
                not failed and len(finished) >= expected,
                f"{len(finished)} sent, {len(failed)} failed, {expected} wanted "
                f"({time.monotonic() - started:.0f} s after the redelivery)",
            )
        time.sleep(0.5)
    return False, f"{len(finished)} of {expected}, none more for {stall:.0f} s"


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--donations", type=int, default=300)
    parser.add_argument("--users", type=int, default=6)
    parser.add_argument(
        "--max-seconds", type=float, default=600, help="stop starting gifts after this long"
    )
    parser.add_argument("--db-url", default=os.environ.get("DRILL_DATABASE_URL", DEFAULT_DB))
    parser.add_argument("--redis-url", default=os.environ.get("DRILL_REDIS_URL", DEFAULT_REDIS))
    parser.add_argument("--output", type=Path, default=ROOT / "docs" / "benchmarks.md")
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args(argv)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    started = datetime.now(UTC)
    ok, lines = run_drill(args)
    section = [
        "## Giving-day drill across machines, simulated on this one",
        "",
        f"Run {started:%Y-%m-%d %H:%M} UTC at commit {bench_run.git_revision()} by "
        "`python -m bench.drill` (part of `make bench`): two gunicorn masters (2 workers × 4 "
        "threads each) behind haproxy, PgBouncer (transaction pooling) in front of the "
        "PostgreSQL primary, a streaming replica for the public pages and read API, Redis "
        "with an RQ worker, the log sequencer publishing tiles and asking two witnesses, "
        "all on this 2-core machine.",
        "",
        *lines,
    ]
    text = "\n".join(section)
    print("\n" + text)
    if not args.no_write:
        bench_http.write_section(args.output, "drill", text, bench_run.INTRO)
        print(f"\nwrote the drill section of {args.output}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
