"""`make test`: lint (ruff, then lint-imports), then the whole suite on SQLite and on
PostgreSQL, then the money and log tests again through PgBouncer in transaction pooling mode.

PostgreSQL comes from TEST_POSTGRES_URL (default: the local server, database
charity_test). If it cannot be reached, the PostgreSQL pass is skipped with the reason
printed, unless CI=true or CHARITY_REQUIRE_POSTGRES=1, where it is a failure.
Extra arguments are passed to pytest (e.g. `make test ARGS="-k ledger"`).
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
DEFAULT_PG = "postgresql+psycopg://postgres@127.0.0.1:5432/charity_test"


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
    sqlite_env = {k: v for k, v in env.items() if k != "TEST_DATABASE_URL"}
    print("\n=== test suite on SQLite ===", flush=True)
    status = run([str(BIN / "pytest"), *argv], sqlite_env)
    if status != 0:
        return status

    pg_url = env.get("TEST_POSTGRES_URL", DEFAULT_PG)
    reason = postgres_reachable(pg_url)
    print("\n=== test suite on PostgreSQL ===", flush=True)
    if reason:
        if in_ci:
            print(
                f"PostgreSQL is required here but unreachable at {pg_url}: {reason}",
                file=sys.stderr,
            )
            return 1
        print(
            f"SKIPPED the PostgreSQL pass: cannot reach {pg_url} ({reason}).\n"
            "Start PostgreSQL or set TEST_POSTGRES_URL to run it.",
            flush=True,
        )
        return 0
    status = run([str(BIN / "pytest"), *argv], {**env, "TEST_DATABASE_URL": pg_url})
    if status == 0 and not any(not arg.startswith("-") for arg in argv):
        status = pgbouncer_pass(pg_url, argv, env, in_ci)
    print(f"\nall passes finished in {time.monotonic() - started:.0f}s", flush=True)
    return status


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


def pgbouncer_pass(pg_url: str, argv: list[str], env: dict[str, str], in_ci: bool) -> int:
    """The money and log tests through PgBouncer (Debian's pgbouncer, started here on a
    free port in front of the same server, stopped afterwards)."""
    sys.path.insert(0, str(ROOT))
    from bench.cluster import ClusterError, PgBouncer

    print("\n=== money and log tests through PgBouncer (transaction pooling) ===", flush=True)
    bouncer = PgBouncer(pg_url)
    try:
        bouncer.start()
    except (ClusterError, OSError) as error:
        bouncer.stop()
        if in_ci:
            print(f"PgBouncer is required here: {error}", file=sys.stderr)
            return 1
        print(f"SKIPPED the PgBouncer pass: {error}", flush=True)
        return 0
    try:
        bounced = {
            **env,
            "TEST_DATABASE_URL": bouncer.url(),
            "TEST_DATABASE_ADMIN_URL": pg_url,
            "DB_TRANSACTION_POOLING": "1",
        }
        return run([str(BIN / "pytest"), *argv, *PGBOUNCER_TESTS], bounced)
    finally:
        bouncer.stop()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
