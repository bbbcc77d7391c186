"""Past one machine: a real streaming replica and a real PgBouncer for the PostgreSQL pass.

The replica is a second PostgreSQL cluster made with ``pg_basebackup -R`` from the test
server (bench/cluster.py). Making it takes a few seconds (a fast checkpoint and a copy),
so it starts in the background as soon as collection shows that a replica test will run,
and the first replica test waits for it. Under CI (CI=true or CHARITY_REQUIRE_POSTGRES=1)
a replica or PgBouncer that cannot be started fails the tests instead of skipping them.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest

from bench.cluster import ClusterError, PgBouncer, Replica
from tests.support import dbutil
from tests.support.scale import REPLICA_STATE, make_replica, server_url, unavailable


def pytest_collection_finish(session: pytest.Session) -> None:
    if not dbutil.test_database_url().startswith("postgresql"):
        return
    if any(item.get_closest_marker("replica") for item in session.items):
        thread = threading.Thread(target=make_replica, name="make-replica", daemon=True)
        REPLICA_STATE["thread"] = thread
        thread.start()


@pytest.fixture(scope="session")
def replica(database_url: str) -> Iterator[Replica]:
    if not database_url.startswith("postgresql"):
        pytest.skip("needs PostgreSQL")
    thread = REPLICA_STATE.get("thread")
    if thread is None:  # collected without the hook (e.g. a single test id)
        make_replica()
    else:
        thread.join()  # type: ignore[attr-defined]
    made = REPLICA_STATE.get("replica")
    try:
        if "error" in REPLICA_STATE or made is None:
            unavailable(f"cannot start a streaming replica: {REPLICA_STATE.get('error')}")
        assert isinstance(made, Replica)
        yield made
    finally:
        if isinstance(made, Replica):
            made.remove()


@pytest.fixture(scope="session")
def pgbouncer(database_url: str) -> Iterator[PgBouncer]:
    if not database_url.startswith("postgresql"):
        pytest.skip("needs PostgreSQL")
    bouncer = PgBouncer(server_url(), pool_size=4)
    try:
        bouncer.start()
    except (ClusterError, OSError) as error:
        bouncer.stop()
        unavailable(f"cannot start PgBouncer: {error}")
    try:
        yield bouncer
    finally:
        bouncer.stop()
