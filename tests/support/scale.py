"""Scale-test helpers: whether the PostgreSQL cluster is required, the live server's address
and the read replica made once per session.
"""

from __future__ import annotations

import os

import pytest

from bench.cluster import ClusterError, Replica
from tests.support import dbutil

REPLICA_STATE: dict[str, object] = {}


def required() -> bool:
    return any(
        os.environ.get(name, "").lower() in ("1", "true", "yes")
        for name in ("CI", "CHARITY_REQUIRE_POSTGRES")
    )


def unavailable(reason: str) -> None:
    if required():
        pytest.fail(f"required under CI: {reason}", pytrace=False)
    pytest.skip(reason)


def server_url() -> str:
    """The PostgreSQL server the test database lives on (past PgBouncer, if any)."""
    return dbutil.admin_server_url(dbutil.test_database_url()).render_as_string(hide_password=False)


def make_replica() -> None:
    replica = Replica(server_url())
    REPLICA_STATE["replica"] = replica
    try:
        replica.create().start()
    except (ClusterError, OSError) as error:
        REPLICA_STATE["error"] = str(error)
