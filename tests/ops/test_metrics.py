"""/metrics: Prometheus text, request counters, the hooks features feed, access control."""

from __future__ import annotations

import pytest
from prometheus_client import REGISTRY

from charity.ops import metrics


def _sample(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def test_requests_are_counted_by_endpoint_and_status(client):
    labels = {"endpoint": "main.home", "method": "GET", "status": "200"}
    before = _sample("charity_http_requests_total", **labels)
    client.get("/")
    client.get("/")
    assert _sample("charity_http_requests_total", **labels) == before + 2
    body = client.get("/metrics").get_data(as_text=True)
    assert 'charity_http_requests_total{endpoint="main.home",method="GET",status="200"}' in body
    assert "charity_http_request_duration_seconds_bucket" in body


def test_unknown_paths_share_one_series(client):
    labels = {"endpoint": "unmatched", "method": "GET", "status": "404"}
    before = _sample("charity_http_requests_total", **labels)
    client.get("/no-such-page-1")
    client.get("/no-such-page-2")
    assert _sample("charity_http_requests_total", **labels) == before + 2
    assert "no-such-page" not in client.get("/metrics").get_data(as_text=True)


def test_donations_counter(client):
    before = _sample("charity_donations_total", channel="online_card")
    metrics.donation_succeeded("online_card", 10_000)
    assert _sample("charity_donations_total", channel="online_card") == before + 1
    body = client.get("/metrics").get_data(as_text=True)
    assert 'charity_donations_total{channel="online_card"}' in body
    assert 'charity_donations_amount_fen_total{channel="online_card"}' in body


def test_webhook_lag_histogram(client):
    before = _sample("charity_webhook_lag_seconds_count")
    metrics.observe_webhook_lag(1.5)
    assert _sample("charity_webhook_lag_seconds_count") == before + 1
    assert "charity_webhook_lag_seconds_bucket" in client.get("/metrics").get_data(as_text=True)


def test_log_size_is_reported_from_the_audit_log(client):
    assert "charity_auditlog_entries" in client.get("/metrics").get_data(as_text=True)


def test_log_size_from_a_registered_source(client):
    metrics.set_log_size_source(lambda: 1234)
    try:
        body = client.get("/metrics").get_data(as_text=True)
    finally:
        metrics.set_log_size_source(None)
    assert "charity_auditlog_entries 1234.0" in body


def test_log_size_counted_from_the_table(make_app, committed_db):
    from tests.support.factories import UserFactory

    UserFactory.create_batch(3)
    committed_db.commit()
    # Any table can stand in for the audit log's: the count is read at scrape time.
    counting = make_app(
        AUDITLOG_HEAD_TABLE="no_such_table", AUDITLOG_TABLE="users", METRICS_CACHE_SECONDS=0
    )
    body = counting.test_client().get("/metrics").get_data(as_text=True)
    assert "charity_auditlog_entries 3.0" in body


def test_log_size_read_from_the_head_row(make_app, committed_db):
    import sqlalchemy as sa

    from charity.extensions import db

    with db.engine.begin() as connection:
        connection.execute(
            sa.text("CREATE TABLE ops_test_head (id INTEGER PRIMARY KEY, size BIGINT)")
        )
        connection.execute(sa.text("INSERT INTO ops_test_head (id, size) VALUES (1, 4321)"))
    try:
        reading = make_app(AUDITLOG_HEAD_TABLE="ops_test_head", METRICS_CACHE_SECONDS=0)
        body = reading.test_client().get("/metrics").get_data(as_text=True)
    finally:
        with db.engine.begin() as connection:
            connection.execute(sa.text("DROP TABLE ops_test_head"))
    assert "charity_auditlog_entries 4321.0" in body


@pytest.mark.parametrize(
    ("remote", "headers", "status"),
    [
        ("127.0.0.1", {}, 200),
        ("::1", {}, 200),
        ("10.1.2.3", {}, 403),
        # relayed through a proxy on this host: the proxy's address is loopback
        ("127.0.0.1", {"X-Forwarded-For": "203.0.113.9"}, 403),
    ],
)
def test_without_a_token_only_loopback_may_scrape(client, remote, headers, status):
    response = client.get("/metrics", headers=headers, environ_base={"REMOTE_ADDR": remote})
    assert response.status_code == status


@pytest.mark.parametrize(
    ("authorization", "status"),
    [(None, 403), ("Bearer wrong-token", 403), ("Bearer s3cret-metrics-token", 200)],
)
def test_with_a_token_it_is_required_from_anywhere(make_app, authorization, status):
    guarded = make_app(METRICS_TOKEN="s3cret-metrics-token")
    headers = {"Authorization": authorization} if authorization else {}
    response = guarded.test_client().get(
        "/metrics", headers=headers, environ_base={"REMOTE_ADDR": "127.0.0.1"}
    )
    assert response.status_code == status


def test_a_succeeded_gift_and_its_webhook_lag_are_counted(client, db_session):
    """The payment path feeds the donation counter and the webhook-lag histogram."""
    from charity.core import uow
    from tests.support.factories import DonationFactory

    before = client.get("/metrics").get_data(as_text=True)
    gift = DonationFactory(status="succeeded", donor_email=None)
    from charity.services import donations

    donations.note_succeeded(db_session, gift)
    with client.application.test_request_context():
        uow.commit()
    metrics.observe_webhook_lag(2.5)
    after = client.get("/metrics").get_data(as_text=True)

    def value(body: str, name: str) -> float:
        lines = [line for line in body.splitlines() if line.startswith(name)]
        return float(lines[0].split()[-1]) if lines else 0.0

    counter = 'charity_donations_total{channel="online_card"}'
    assert value(after, counter) == value(before, counter) + 1
    assert value(after, "charity_webhook_lag_seconds_count") >= 1


def test_entries_waiting_for_the_sequencer_are_a_metric(make_app, committed_db):
    from datetime import UTC, datetime, timedelta

    from charity.auditlog import store
    from tests.support.auditlog import synthetic

    an_hour_ago = datetime.now(UTC) - timedelta(hours=1)
    for entry in synthetic(2):
        store.enqueue_entry(committed_db, entry, an_hour_ago)
    committed_db.commit()
    scraping = make_app(METRICS_CACHE_SECONDS=0)
    body = scraping.test_client().get("/metrics").get_data(as_text=True)
    assert "charity_auditlog_queued 2.0" in body
    [age] = [
        float(line.split()[-1])
        for line in body.splitlines()
        if line.startswith("charity_auditlog_queue_oldest_seconds")
    ]
    assert 3500 < age < 3700  # no sequencer ran: the alert's signal
