"""Read replicas against a real streaming replica of the test server (issue 20, part 1).

Each test commits real rows on the primary, lets the replica replay them, then pauses
replay (``pg_wal_replay_pause()``) so that the primary and the replica differ: what a page
shows then says which database it was read from.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from flask import Flask

import config
from bench.cluster import Replica
from charity import create_app
from charity.auditlog import store
from charity.extensions import db
from charity.models import Campaign, User
from charity.web import replicas as routing
from tests.support.auditlog import synthetic
from tests.support.factories import CampaignFactory, FundFactory


@pytest.fixture(scope="module")
def replica_app(replica: Replica, database_url: str, app: Flask) -> Iterator[Flask]:
    """The app with the session's replica as its pool; health checked on every request."""
    application = create_app(
        config.TestingConfig(
            database_url,
            DATABASE_REPLICA_URLS=replica.url(),
            DATABASE_REPLICA_CHECK_SECONDS=0.0,
            DATABASE_REPLICA_MAX_LAG_SECONDS=3600.0,
        )
    )
    yield application
    routing.pool(application).dispose()
    with application.app_context():
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def world(replica_app: Flask, replica: Replica, committed_db) -> Iterator[dict]:  # type: ignore[no-untyped-def]
    """A published campaign, committed, replayed by the replica; replay left running."""
    campaign = CampaignFactory(title="旧标题")
    db.session.commit()
    replica.wait_caught_up()
    pool = routing.pool(replica_app)
    pool.max_lag = 3600.0
    pool.refresh()
    try:
        yield {"campaign_id": campaign.id}
    finally:
        replica.resume_replay()
        replica.wait_caught_up()
        pool.refresh()


def retitle(campaign_id: int, title: str) -> None:
    """Commit a change on the primary (through the test session's own app)."""
    db.session.execute(sa.update(Campaign).where(Campaign.id == campaign_id).values(title=title))
    db.session.commit()


def page_title(client, campaign_id: int) -> str:  # type: ignore[no-untyped-def]
    response = client.get(f"/campaigns/{campaign_id}")
    assert response.status_code == 200
    text = response.get_data(as_text=True)
    return "新标题" if "新标题" in text else "旧标题" if "旧标题" in text else "?"


def served_from(app: Flask, target: str) -> float:
    from charity.ops.metrics import DB_READS

    return DB_READS.labels(target=target)._value.get()


@pytest.mark.replica
@pytest.mark.usefixtures("postgres_only")
def test_public_reads_go_to_the_replica_and_writes_to_the_primary(
    replica_app: Flask, replica: Replica, world: dict
) -> None:
    campaign_id = world["campaign_id"]
    replica.pause_replay()
    retitle(campaign_id, "新标题")  # on the primary only: the replica is paused
    client = replica_app.test_client()
    before = served_from(replica_app, "replica")
    assert page_title(client, campaign_id) == "旧标题"  # read from the replica
    assert served_from(replica_app, "replica") == before + 1

    # A write (sign up) goes to the primary — a standby would refuse it — and the browser
    # that wrote then reads the primary's fresh data for a while (the sticky cookie), not
    # the paused replica's. (Sign-up answers "check your mail": no login before the
    # address is confirmed.)
    response = client.post(
        "/account/signup",
        data={
            "name": "周读者",
            "email": "reader@example.org",
            "password": "a long enough passphrase",
            "confirm": "a long enough passphrase",
        },
    )
    assert response.status_code == 200, response.get_data(as_text=True)
    assert routing.STICKY_COOKIE in response.headers.get("Set-Cookie", "")
    with replica_app.app_context():
        assert db.session.scalar(sa.select(User.id).where(User.email == "reader@example.org"))
    on_replica = "SELECT count(*) FROM users WHERE email = 'reader@example.org'"
    assert replica.execute(on_replica, database=replica.primary.database) == 0
    assert page_title(client, campaign_id) == "新标题"  # it just wrote: the primary
    # ... while another anonymous visitor reads the replica.
    assert page_title(replica_app.test_client(), campaign_id) == "旧标题"


@pytest.mark.replica
@pytest.mark.usefixtures("postgres_only")
def test_paused_replay_sends_reads_back_to_the_primary(
    replica_app: Flask, replica: Replica, world: dict
) -> None:
    campaign_id = world["campaign_id"]
    pool = routing.pool(replica_app)
    pool.max_lag = 0.0  # any unreplayed write is too much
    replica.pause_replay()
    retitle(campaign_id, "新标题")
    client = replica_app.test_client()
    assert page_title(client, campaign_id) == "新标题"  # the lagging replica left the pool

    health = client.get("/healthz").get_json()
    assert health["status"] == "ok"  # the host still serves everything from the primary
    (state,) = health["replicas"]["replicas"]
    assert state["status"] == "lagging" and state["in_pool"] is False
    assert state["replay_paused"] is True and state["lag_bytes"] > 0
    assert state["lag_seconds"] > 0
    assert health["replicas"]["pool"] == []
    metrics = client.get("/metrics").get_data(as_text=True)
    assert f'charity_db_replica_in_pool{{replica="{state["name"]}"}} 0.0' in metrics
    assert "charity_db_replica_lag_seconds{" in metrics

    replica.resume_replay()
    replica.wait_caught_up()
    # The replica follows the whole server (other databases write too), so "caught up"
    # is a lag within a realistic bound again, not exactly zero.
    pool.max_lag = 60.0
    before = served_from(replica_app, "replica")
    assert page_title(client, campaign_id) == "新标题"
    assert served_from(replica_app, "replica") == before + 1  # back in the pool
    health = client.get("/healthz").get_json()
    assert health["replicas"]["replicas"][0]["status"] == "ok"
    assert health["replicas"]["replicas"][0]["lag_seconds"] < 60


@pytest.mark.replica
@pytest.mark.usefixtures("postgres_only")
def test_stopping_the_replica_costs_no_request(
    replica_app: Flask, replica: Replica, world: dict
) -> None:
    campaign_id = world["campaign_id"]
    statuses: list[int] = []
    stop = threading.Event()

    def browse() -> None:
        client = replica_app.test_client()
        for _ in range(300):  # bounded; stops as soon as the test has seen enough
            if stop.is_set():
                return
            statuses.append(client.get(f"/campaigns/{campaign_id}").status_code)

    def wait_for(count: int) -> None:
        deadline = time.monotonic() + 30
        while len(statuses) < count and time.monotonic() < deadline:
            time.sleep(0.01)

    readers = [threading.Thread(target=browse) for _ in range(3)]
    for reader in readers:
        reader.start()
    try:
        wait_for(10)
        assert served_from(replica_app, "replica") > 0
        replica.stop("immediate")  # the replica's machine goes away mid-load
        try:
            wait_for(len(statuses) + 15)
            (state,) = replica_app.test_client().get("/healthz").get_json()["replicas"]["replicas"]
            assert state["status"] == "down" and state["in_pool"] is False
        finally:
            replica.start()
        replica.wait_caught_up()
        wait_for(len(statuses) + 10)
    finally:
        stop.set()
        for reader in readers:
            reader.join()
    assert len(statuses) >= 35
    assert set(statuses) == {200}, statuses
    (state,) = replica_app.test_client().get("/healthz").get_json()["replicas"]["replicas"]
    assert state["status"] == "ok"  # back in the pool once it answers again


@pytest.mark.replica
@pytest.mark.usefixtures("postgres_only")
def test_every_replica_endpoint_is_served_from_the_replica(
    replica_app: Flask, replica: Replica, world: dict
) -> None:
    """Each listed endpoint answers from a replica (a standby refuses any write, so a
    view that wrote would fail here), and only GET/HEAD views are listed."""
    fund = FundFactory()
    store.append_entries(db.session, synthetic(3))
    db.session.commit()
    campaign = db.session.get(Campaign, world["campaign_id"])
    org_id = campaign.organization_id
    replica.wait_caught_up()
    urls = {
        "main.home": "/",
        "campaigns.index": "/campaigns/",
        "campaigns.show": f"/campaigns/{campaign.id}",
        "orgs.directory": "/orgs/",
        "orgs.show": f"/orgs/{org_id}",
        "funds.index": "/funds/",
        "funds.show": f"/funds/{fund.id}",
        "auditlog_pages.index": "/log/",
        "auditlog_pages.entry": "/log/0",
        "auditlog_api.get_checkpoint": "/api/v1/log/checkpoint",
        "auditlog_api.get_key": "/api/v1/log/key",
        "auditlog_api.get_entries": "/api/v1/log/entries?start=0&end=1",
        "auditlog_api.get_inclusion_proof": "/api/v1/log/proof/inclusion?index=0&tree_size=3",
        "auditlog_api.get_consistency_proof": "/api/v1/log/proof/consistency?first=1&second=3",
    }
    assert set(urls) == set(routing.REPLICA_ENDPOINTS)
    api = [
        rule.rule
        for rule in replica_app.url_map.iter_rules()
        if rule.endpoint.startswith("api_v1.") and "<" not in rule.rule
    ]
    client = replica_app.test_client()
    for path in [*urls.values(), *api]:
        before = served_from(replica_app, "replica")
        response = client.get(path)
        assert response.status_code == 200, (path, response.status_code)
        assert served_from(replica_app, "replica") == before + 1, path
    for rule in replica_app.url_map.iter_rules():
        if routing.replica_endpoint(replica_app, rule.endpoint):
            assert rule.methods <= {"GET", "HEAD", "OPTIONS"}, rule


def test_replica_urls_and_lag_rules() -> None:
    from charity.core.replicas import ReplicaPool, parse_lsn, replica_urls

    assert parse_lsn("16/B374D848") == (0x16 << 32) + 0xB374D848
    assert replica_urls(" postgresql://a/x, postgresql://b/x ") == [
        "postgresql://a/x",
        "postgresql://b/x",
    ]
    pool = ReplicaPool(primary=None, replicas=[])  # type: ignore[arg-type]
    assert pool.lag_of(100, now=10.0) is None  # no sample yet: unknown
    pool.samples.extend([(1.0, 100), (2.0, 200), (3.0, 300)])
    assert pool.lag_of(300, now=5.0) == 0.0  # replayed everything sampled
    assert pool.lag_of(250, now=5.0) == 2.0  # the 3.0 sample is not replayed: 2 s
    assert pool.lag_of(50, now=5.0) is None  # behind even the oldest sample: unknown


@pytest.mark.usefixtures("postgres_only")
def test_a_connection_out_when_its_replica_is_marked_down_is_closed_when_it_comes_back(
    database_url: str,
) -> None:
    """The request that finds a replica dead marks it down while other requests still hold
    connections to it; those come back to a pool that was thrown away and must be closed
    then, not left to the garbage collector (a server connection held for an unknown time,
    and psycopg's ResourceWarning at a random later test: a flake of the fresh-clone CI)."""
    from charity.core.replicas import ReplicaPool

    primary = sa.create_engine(database_url)
    pool = ReplicaPool.from_config(primary, {"DATABASE_REPLICA_URLS": database_url})
    assert pool is not None
    (replica,) = pool.replicas
    try:
        busy = replica.engine.connect()  # another request, mid-read
        busy.execute(sa.text("SELECT 1"))
        raw = busy.connection.dbapi_connection
        idle = replica.engine.connect()
        idle.execute(sa.text("SELECT 1"))
        idle_raw = idle.connection.dbapi_connection
        idle.close()
        pool.mark_down(replica.engine, sa.exc.OperationalError("SELECT 1", {}, Exception()))
        assert idle_raw.closed  # idle in the pool: closed by the dispose itself
        assert not raw.closed
        busy.close()  # the request ends
        assert raw.closed
        with replica.engine.connect() as fresh:  # once back, new connections stay pooled
            fresh.execute(sa.text("SELECT 1"))
            kept = fresh.connection.dbapi_connection
        assert not kept.closed
    finally:
        pool.dispose()
        primary.dispose()
