"""`make test`: lint (ruff, then lint-imports), then the whole suite on SQLite and on
PostgreSQL, then the money and log tests again through PgBouncer in transaction pooling mode.

The SQLite pass and the PostgreSQL pass (followed by the PgBouncer pass, which uses the
same database) run at the same time, as two processes: on two cores this takes about as
long as the longer of the two instead of their sum. Each pass writes its output to a file;
the output is printed whole when the pass ends, then a summary of every pass. The exit
status is non-zero if any pass failed. CHARITY_TEST_SERIAL=1 runs the passes one after the
other, printing as they go (the old behaviour, handy when following one pass live).

PostgreSQL comes from TEST_POSTGRES_URL (default: the local server, database
charity_test). If it cannot be reached, the PostgreSQL pass is skipped with the reason
printed, unless CI=true or CHARITY_REQUIRE_POSTGRES=1, where it is a failure.
Extra arguments are passed to pytest (e.g. `make test ARGS="-k ledger"`).
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
DEFAULT_PG = "postgresql+psycopg://postgres@127.0.0.1:5432/charity_test"
#: How often (seconds) a line says which passes are still running, so a CI log never
#: stays silent for the quarter of an hour the passes take.
HEARTBEAT = 60


def required(name: str) -> bool:
    return os.environ.get(name, "").lower() in ("1", "true", "yes")


def postgres_reachable(url: str) -> str | None:
    """None if reachable, else the reason."""
    import sqlalchemy as sa

    admin_url = sa.engine.make_url(url).set(database="postgres")
    try:
        engine = sa.create_engine(admin_url, connect_args={"connect_timeout": 5})
        with engine.connect() as connection:
            connection.execute(sa.text("SELECT 1"))
        engine.dispose()
    except Exception as error:  # any driver error means "not reachable"
        return f"{type(error).__name__}: {str(error).splitlines()[0]}"
    return None


def run(cmd: list[str], env: dict[str, str]) -> int:
    print("+", " ".join(cmd), flush=True)
    return subprocess.call(cmd, cwd=ROOT, env=env)


@dataclass
class Pass:
    """One pytest run (or a skip), its output in a file unless run in the foreground."""

    name: str
    status: int | None = None
    seconds: float = 0.0
    note: str = ""
    steps: list[str] = field(default_factory=list)


class Runner:
    """Runs commands for one lane of passes, in the foreground (serial) or into a log file."""

    def __init__(self, log: Path | None) -> None:
        self.log = log
        self.process: subprocess.Popen[bytes] | None = None
        self.cancelled = False

    def say(self, text: str) -> None:
        if self.log is None:
            print(text, flush=True)
        else:
            with self.log.open("a", encoding="utf-8") as out:
                out.write(text + "\n")

    def call(self, cmd: list[str], env: dict[str, str]) -> int:
        self.say("+ " + " ".join(cmd))
        if self.cancelled:
            return 1
        if self.log is None:
            return subprocess.call(cmd, cwd=ROOT, env=env)
        with self.log.open("ab") as out:
            self.process = subprocess.Popen(
                cmd, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT
            )
            return self.process.wait()

    def cancel(self) -> None:
        self.cancelled = True
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()


def pytest_cmd(argv: list[str], basetemp: Path) -> list[str]:
    # Each pass its own --basetemp: two pytest processes sharing /tmp/pytest-of-<user>
    # would prune each other's numbered temporary directories.
    return [str(BIN / "pytest"), f"--basetemp={basetemp}", *argv]


def sqlite_lane(runner: Runner, argv: list[str], env: dict[str, str], tmp: Path) -> list[Pass]:
    result = Pass("SQLite (with the browser tests)")
    started = time.monotonic()
    sqlite_env = {k: v for k, v in env.items() if k != "TEST_DATABASE_URL"}
    runner.say("\n=== test suite on SQLite ===")
    result.status = runner.call(pytest_cmd(argv, tmp / "sqlite"), sqlite_env)
    result.seconds = time.monotonic() - started
    return [result]


def postgres_lane(
    runner: Runner, argv: list[str], env: dict[str, str], in_ci: bool, tmp: Path
) -> list[Pass]:
    result = Pass("PostgreSQL")
    started = time.monotonic()
    pg_url = env.get("TEST_POSTGRES_URL", DEFAULT_PG)
    reason = postgres_reachable(pg_url)
    runner.say("\n=== test suite on PostgreSQL ===")
    if reason:
        if in_ci:
            runner.say(f"PostgreSQL is required here but unreachable at {pg_url}: {reason}")
            result.status, result.note = 1, "unreachable (required)"
            return [result]
        runner.say(
            f"SKIPPED the PostgreSQL pass: cannot reach {pg_url} ({reason}).\n"
            "Start PostgreSQL or set TEST_POSTGRES_URL to run it."
        )
        result.status, result.note = 0, "skipped: unreachable"
        return [result]
    result.status = runner.call(
        pytest_cmd(argv, tmp / "postgres"), {**env, "TEST_DATABASE_URL": pg_url}
    )
    result.seconds = time.monotonic() - started
    passes = [result]
    if not any(not arg.startswith("-") for arg in argv):
        bouncer = Pass("PgBouncer (money and log tests)")
        if result.status != 0:
            bouncer.note = "not run: the PostgreSQL pass failed"
            bouncer.status = None
        else:
            started = time.monotonic()
            bouncer.status, bouncer.note = pgbouncer_pass(runner, pg_url, argv, env, in_ci, tmp)
            bouncer.seconds = time.monotonic() - started
        passes.append(bouncer)
    return passes


def main(argv: list[str]) -> int:
    env = dict(os.environ)
    env.setdefault("CHARITY_ENV", "testing")
    in_ci = required("CI") or required("CHARITY_REQUIRE_POSTGRES")
    if in_ci:
        env["CHARITY_REQUIRE_POSTGRES"] = "1"

    if run([str(BIN / "ruff"), "check", "."], env) != 0:
        print("ruff found problems (run `make format`)", file=sys.stderr)
        return 1
    # The import contracts of pyproject.toml (layers, no cycles); bench/ is imported from
    # the checkout, so the root is on the path.
    lint_env = {
        **env,
        "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")])),
    }
    if run([str(BIN / "lint-imports")], lint_env) != 0:
        print("lint-imports: an import breaks a contract of pyproject.toml", file=sys.stderr)
        return 1

    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="charity-tests-") as name:
        tmp = Path(name)
        if required("CHARITY_TEST_SERIAL"):
            passes = serial(argv, env, in_ci, tmp)
        else:
            passes = concurrent(argv, env, in_ci, tmp)
    total = time.monotonic() - started
    print("\n=== summary ===", flush=True)
    for one in passes:
        state = {None: "not run", 0: "passed"}.get(one.status, f"FAILED (exit {one.status})")
        if one.note and one.status == 0:
            state = one.note
        extra = f" — {one.note}" if one.note and one.status != 0 else ""
        print(f"{one.name:<36} {state:<24} {one.seconds:6.0f}s{extra}", flush=True)
    print(f"all passes finished in {total:.0f}s", flush=True)
    return next((one.status for one in passes if one.status), 0)


def serial(argv: list[str], env: dict[str, str], in_ci: bool, tmp: Path) -> list[Pass]:
    runner = Runner(None)
    passes = sqlite_lane(runner, argv, env, tmp)
    if passes[0].status != 0:
        return passes
    return passes + postgres_lane(runner, argv, env, in_ci, tmp)


def concurrent(argv: list[str], env: dict[str, str], in_ci: bool, tmp: Path) -> list[Pass]:
    lanes = {
        "SQLite": lambda runner: sqlite_lane(runner, argv, env, tmp),
        "PostgreSQL + PgBouncer": lambda runner: postgres_lane(runner, argv, env, in_ci, tmp),
    }
    runners = {name: Runner(tmp / f"{name.split()[0].lower()}.log") for name in lanes}
    results: dict[str, list[Pass]] = {}
    done = threading.Condition()
    lock = threading.Lock()

    def work(name: str) -> None:
        try:
            passes = lanes[name](runners[name])
        except Exception as error:  # a crash in this script is a failed lane, not a hang
            runners[name].say(f"run_tests.py: {type(error).__name__}: {error}")
            passes = [Pass(name, status=1, note=f"{type(error).__name__}: {error}")]
        with lock:
            results[name] = passes
            log = runners[name].log
            assert log is not None
            print(f"\n##### {name}: output #####", flush=True)
            sys.stdout.buffer.write(log.read_bytes())
            sys.stdout.flush()
        with done:
            done.notify_all()

    print(f"\nrunning at the same time: {', '.join(lanes)} (output printed as each ends)")
    sys.stdout.flush()
    threads = [threading.Thread(target=work, args=(name,), daemon=True) for name in lanes]
    for thread in threads:
        thread.start()
    began = last = time.monotonic()
    try:
        with done:
            while len(results) < len(lanes):
                done.wait(timeout=HEARTBEAT)
                with lock:
                    running = [name for name in lanes if name not in results]
                if running and time.monotonic() - last >= HEARTBEAT:
                    last = time.monotonic()
                    minutes = (time.monotonic() - began) / 60
                    print(f"... {minutes:.0f} min, still running: {', '.join(running)}")
                    sys.stdout.flush()
    except KeyboardInterrupt:
        for runner in runners.values():
            runner.cancel()
        for thread in threads:
            thread.join(timeout=30)
        raise
    return [one for name in lanes for one in results[name]]


#: Run a second time through PgBouncer in transaction pooling mode: the tests of money
#: (donations, webhooks, refunds, the ledger) and of the log (appends, the sequencer, the
#: API), the paths that must keep working when production puts PgBouncer in front.
PGBOUNCER_TESTS = (
    "tests/payments/test_webhook.py",
    "tests/payments/test_ledger.py",
    "tests/payments/test_refunds.py",
    "tests/payments/test_concurrency.py",
    "tests/payments/test_batched_log.py",
    "tests/auditlog/test_store.py",
    "tests/auditlog/test_sequencer.py",
    "tests/auditlog/test_concurrency.py",
    "tests/auditlog/test_api.py",
)


def pgbouncer_pass(
    runner: Runner, pg_url: str, argv: list[str], env: dict[str, str], in_ci: bool, tmp: Path
) -> tuple[int, str]:
    """The money and log tests through PgBouncer (Debian's pgbouncer, started here on a
    free port in front of the same server, stopped afterwards)."""
    sys.path.insert(0, str(ROOT))
    from bench.cluster import ClusterError, PgBouncer

    runner.say("\n=== money and log tests through PgBouncer (transaction pooling) ===")
    bouncer = PgBouncer(pg_url)
    try:
        bouncer.start()
    except (ClusterError, OSError) as error:
        bouncer.stop()
        if in_ci:
            runner.say(f"PgBouncer is required here: {error}")
            return 1, f"PgBouncer would not start: {error}"
        runner.say(f"SKIPPED the PgBouncer pass: {error}")
        return 0, "skipped: no PgBouncer"
    try:
        bounced = {
            **env,
            "TEST_DATABASE_URL": bouncer.url(),
            "TEST_DATABASE_ADMIN_URL": pg_url,
            "DB_TRANSACTION_POOLING": "1",
        }
        return runner.call(pytest_cmd([*argv, *PGBOUNCER_TESTS], tmp / "pgbouncer"), bounced), ""
    finally:
        bouncer.stop()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
