"""`make test`: lint, then the whole suite on SQLite and on PostgreSQL.

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
    print(f"\nboth passes finished in {time.monotonic() - started:.0f}s", flush=True)
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
