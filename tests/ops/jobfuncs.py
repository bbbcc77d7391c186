"""Job functions the job tests enqueue by dotted path (RQ needs importable functions)."""

from __future__ import annotations

from pathlib import Path

from flask import current_app

calls: list[str] = []


def record(value: str) -> str:
    calls.append(value)
    return value.upper()


def flaky(counter_key: str, failures: int) -> int:
    """Fails the first ``failures`` times, counting attempts in Redis (shared with forks)."""
    from charity.ops.jobs import redis_connection

    attempt = int(redis_connection().incr(counter_key))
    if attempt <= failures:
        raise RuntimeError(f"flaky attempt {attempt}")
    return attempt


def always_fails() -> None:
    raise RuntimeError("this job always fails")


def write_marker(path: str) -> None:
    """Proves the job ran with an app context and a working database (in a forked horse)."""
    import sqlalchemy as sa

    from charity.extensions import db

    users = db.session.execute(sa.select(sa.func.count()).select_from(sa.table("users")))
    Path(path).write_text(f"{current_app.config['JOBS_QUEUE']} {users.scalar_one()}")


attempts: dict[str, int] = {}


def flaky_inline(name: str, failures: int) -> int:
    attempts[name] = attempts.get(name, 0) + 1
    if attempts[name] <= failures:
        raise RuntimeError(f"flaky attempt {attempts[name]}")
    return attempts[name]
