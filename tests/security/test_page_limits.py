"""Per-address limits on HTML pages and the audit-log API (issue 15, low: pages and
``/api/v1/log`` were outside any limit). Generous and keyed on the client's address as
ProxyFix finds it behind the trusted proxy; machines (health checks, metrics, the payment
providers' notifications) and loopback (bench scripts, drills) are never counted.
Real Flask-Limiter, memory storage."""

from __future__ import annotations

import pytest

IP_A = {"REMOTE_ADDR": "203.0.113.50"}
IP_B = {"REMOTE_ADDR": "203.0.113.51"}


def test_html_pages_are_limited_per_address_with_a_chinese_429(limited_app, db_session):
    client = limited_app(RATELIMIT_PAGE="3 per minute").test_client()
    for path in ("/", "/campaigns/", "/account/login"):
        assert client.get(path, environ_base=IP_A).status_code in (200, 302)
    limited = client.get("/", environ_base=IP_A)
    assert limited.status_code == 429
    assert limited.mimetype == "text/html"
    assert 0 < int(limited.headers["Retry-After"]) <= 60
    page = limited.get_data(as_text=True)
    assert "尝试次数过多" in page and "Traceback" not in page
    assert "Too many attempts" not in page  # Chinese first, one language per page
    # another address is not affected
    assert client.get("/", environ_base=IP_B).status_code == 200


def test_the_log_api_is_limited_per_address_with_json(limited_app, db_session):
    client = limited_app(RATELIMIT_LOG="2 per minute").test_client()
    for _ in range(2):
        assert client.get("/api/v1/log/checkpoint", environ_base=IP_A).status_code == 200
    limited = client.get("/api/v1/log/checkpoint", environ_base=IP_A)
    assert limited.status_code == 429
    assert limited.get_json()["error"]["code"] == "too_many_requests"
    assert int(limited.headers["Retry-After"]) > 0
    # the log's limit and the pages' limit are separate buckets
    assert client.get("/", environ_base=IP_A).status_code == 200


@pytest.mark.parametrize(
    ("method", "path", "allowed"),
    [
        ("GET", "/healthz", (200, 503)),
        ("GET", "/metrics", (200, 403)),
        ("POST", "/stripe/webhook", (400,)),
        ("POST", "/payments/wechatpay/notify/1", (400, 404)),
        ("GET", "/static/css/site.css", (200, 404)),
    ],
)
def test_machines_and_assets_are_never_counted(limited_app, db_session, method, path, allowed):
    client = limited_app(RATELIMIT_PAGE="1 per minute", RATELIMIT_LOG="1 per minute").test_client()
    for _ in range(5):
        answer = client.open(path, method=method, environ_base=IP_A)
        assert answer.status_code in allowed, (path, answer.status_code)
    # and they used none of the address's page budget
    assert client.get("/", environ_base=IP_A).status_code == 200


def test_loopback_bench_and_drills_are_not_throttled(limited_app, db_session):
    client = limited_app(RATELIMIT_PAGE="2 per minute").test_client()
    for _ in range(10):
        assert client.get("/", environ_base={"REMOTE_ADDR": "127.0.0.1"}).status_code == 200


def test_the_allow_list_is_a_setting(limited_app, db_session):
    client = limited_app(
        RATELIMIT_PAGE="2 per minute", RATELIMIT_EXEMPT_ADDRESSES="192.0.2.7"
    ).test_client()
    for _ in range(5):
        assert client.get("/", environ_base={"REMOTE_ADDR": "192.0.2.7"}).status_code == 200
    for _ in range(2):
        client.get("/", environ_base={"REMOTE_ADDR": "127.0.0.1"})
    assert client.get("/", environ_base={"REMOTE_ADDR": "127.0.0.1"}).status_code == 429


def test_behind_the_proxy_each_client_has_its_own_bucket(limited_app, db_session):
    """TRUSTED_PROXIES=1: the proxy (10.0.0.2) appends the client's address; only that
    last entry counts. A client sending its own X-Forwarded-For (another address, or
    127.0.0.1 to look like the bench) is still counted as itself."""
    client = limited_app(TRUSTED_PROXIES=1, RATELIMIT_PAGE="2 per minute").test_client()
    proxy = {"REMOTE_ADDR": "10.0.0.2"}

    def via_proxy(real: str, claimed: str = "") -> int:
        chain = f"{claimed}, {real}" if claimed else real
        return client.get("/", environ_base=proxy, headers={"X-Forwarded-For": chain}).status_code

    assert via_proxy("198.51.100.1") == 200
    assert via_proxy("198.51.100.1", claimed="127.0.0.1") == 200
    assert via_proxy("198.51.100.1", claimed="198.51.100.99") == 429
    assert via_proxy("198.51.100.1", claimed="127.0.0.1") == 429
    # another donor behind the same proxy is not affected
    assert via_proxy("198.51.100.2") == 200


def test_ordinary_tests_are_not_limited(client, db_session):
    for _ in range(30):
        assert client.get("/", environ_base=IP_A).status_code == 200
