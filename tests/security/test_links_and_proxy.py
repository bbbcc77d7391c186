"""Issue 15, findings 2, 4 and 9, from the outside.

2. Links in mail are built from PUBLIC_BASE_URL, never from the request's Host header;
   TRUSTED_HOSTS refuses other host names.
4. Behind the proxy docs/deployment.md prescribes (TRUSTED_PROXIES=1), each client keeps its
   own address: per-IP limits are per client, not site-wide, and a client cannot choose its
   address by sending its own X-Forwarded-For.
9. ``next=`` never sends anyone to another site.
"""

from __future__ import annotations

import pytest

from charity.extensions import db
from tests.support.factories import MembershipFactory, UserFactory, session_id

BASE = "https://charity.example"
EVIL = {"Host": "evil.example"}


@pytest.fixture
def public_base(app, monkeypatch):  # type: ignore[no-untyped-def]
    monkeypatch.setitem(app.config, "PUBLIC_BASE_URL", BASE)
    return BASE


def _log_in_at(client, user, host: str = "evil.example") -> None:  # type: ignore[no-untyped-def]
    """A session cookie for ``host`` (the test client keeps cookies per host name)."""
    with client.session_transaction(base_url=f"http://{host}") as session:
        session["_user_id"] = session_id(user)
        session["_fresh"] = True
        session["lang"] = "en"


def _text(mail) -> str:  # type: ignore[no-untyped-def]
    return mail.get_body(("plain",)).get_content()


def _only_links_to_base(body: str) -> None:
    assert "evil.example" not in body
    assert f"{BASE}/" in body


def test_password_reset_mail_ignores_the_host_header(client, db_session, public_base, mail_outbox):
    user = UserFactory()
    db.session.commit()
    response = client.post("/account/reset", data={"email": user.email}, headers=EVIL)
    assert response.status_code in (200, 302)
    [mail] = mail_outbox
    _only_links_to_base(_text(mail))
    assert f"{BASE}/account/reset/" in _text(mail)


def test_invitation_mail_ignores_the_host_header(client, db_session, public_base, mail_outbox):
    owner = MembershipFactory(role="owner")
    db.session.commit()
    _log_in_at(client, owner.user)
    response = client.post(
        f"/orgs/{owner.organization_id}/members/invite",
        data={"email": "new-cfo@org.example", "role": "finance"},
        headers=EVIL,
    )
    assert response.status_code == 302
    [mail] = mail_outbox
    _only_links_to_base(_text(mail))


def test_claim_mail_ignores_the_host_header(client, db_session, public_base, mail_outbox):
    user = UserFactory()
    db.session.commit()
    _log_in_at(client, user)
    response = client.post("/account/gifts/claim", data={"email": "old@example.org"}, headers=EVIL)
    assert response.status_code == 303
    [mail] = mail_outbox
    _only_links_to_base(_text(mail))


def test_feed_links_ignore_the_host_header(client, db_session, public_base):
    feed = client.get("/compliance/feed.atom", headers=EVIL)
    assert feed.status_code == 200
    _only_links_to_base(feed.get_data(as_text=True))


def test_trusted_hosts_refuse_other_host_names(client, db_session, app, monkeypatch):
    monkeypatch.setitem(app.config, "TRUSTED_HOSTS", ["charity.example"])
    assert client.get("/", headers=EVIL).status_code == 400
    assert client.get("/", headers={"Host": "charity.example"}).status_code == 200


def test_health_checks_by_address_pass_the_host_check(limited_app):
    """haproxy's health check and a Prometheus scrape name the app host's address, not the
    public name: with TRUSTED_HOSTS from PUBLIC_BASE_URL they must not get 400, or the
    balancer takes every host out (prod.sh's test found it); other paths still refuse."""
    client = limited_app(PUBLIC_BASE_URL="https://charity.example").test_client()
    by_address = {"Host": "10.0.0.5:8000"}
    assert client.get("/", headers=by_address).status_code == 400
    assert client.get("/", headers={"Host": "charity.example"}).status_code == 200
    health = client.get("/healthz", headers=by_address)
    assert health.status_code == 200 and health.get_json()["status"] == "ok"
    assert client.get("/healthz/", headers=by_address).status_code in (400, 404)


# --- 4. the documented proxy ----------------------------------------------------------

PROXY = {"REMOTE_ADDR": "10.0.0.2"}  # every request arrives from the proxy


def _via_proxy(client, path: str, data: dict, client_ip: str, claimed: str = ""):  # type: ignore[no-untyped-def]
    forwarded = f"{claimed}, {client_ip}" if claimed else client_ip
    return client.post(path, data=data, environ_base=PROXY, headers={"X-Forwarded-For": forwarded})


def test_behind_the_proxy_each_client_has_its_own_limit(limited_app):
    client = limited_app(TRUSTED_PROXIES=1, RATELIMIT_PASSWORD_RESET="3 per hour").test_client()
    data = {"email": "x@example.org"}
    for _ in range(3):
        assert _via_proxy(client, "/account/reset", data, "198.51.100.1").status_code != 429
    assert _via_proxy(client, "/account/reset", data, "198.51.100.1").status_code == 429
    # another donor behind the same proxy is not affected
    assert _via_proxy(client, "/account/reset", data, "198.51.100.2").status_code != 429
    # and the limited one cannot escape by claiming another address: the proxy appends
    # the real one, and only that last hop is trusted
    spoofed = _via_proxy(client, "/account/reset", data, "198.51.100.1", claimed="192.0.2.77")
    assert spoofed.status_code == 429


def test_without_the_setting_the_proxy_is_one_client(limited_app):
    """The failure the tester saw: what TRUSTED_PROXIES=1 fixes."""
    client = limited_app(TRUSTED_PROXIES=0, RATELIMIT_PASSWORD_RESET="2 per hour").test_client()
    data = {"email": "x@example.org"}
    for ip in ("198.51.100.1", "198.51.100.2"):
        _via_proxy(client, "/account/reset", data, ip)
    assert _via_proxy(client, "/account/reset", data, "198.51.100.3").status_code == 429


def test_behind_the_proxy_the_scheme_is_the_clients(limited_app, db_session):
    client = limited_app(TRUSTED_PROXIES=1).test_client()
    response = client.get(
        "/lang/en",
        environ_base=PROXY,
        headers={"X-Forwarded-For": "198.51.100.1", "X-Forwarded-Proto": "https"},
    )
    assert response.status_code == 302
    assert response.headers["Location"] in ("/", "https://localhost/")


# --- 9. next= -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "target",
    [
        "/%09/evil.example",
        "//evil.example",
        "/\\evil.example",
        "https://evil.example/",
        "/%0d%0a/evil.example",
        "/%5Cevil.example",
        "javascript:alert(1)",
    ],
)
def test_language_switch_never_redirects_off_site(client, target):
    response = client.get(f"/lang/en?next={target}")
    assert response.status_code == 302
    location = response.headers["Location"]
    assert "evil.example" not in location and not location.startswith("//")


@pytest.mark.parametrize("target", ["/%09/evil.example", "//evil.example", "/\\evil.example"])
def test_login_never_redirects_off_site(client, db_session, target):
    user = UserFactory()
    db.session.commit()
    response = client.post(
        f"/account/login?next={target}",
        data={"email": user.email, "password": "correct horse battery"},
    )
    assert response.status_code == 302
    assert "evil.example" not in response.headers["Location"]


def test_a_path_on_this_site_is_kept(client):
    response = client.get("/lang/en?next=/campaigns?page=2")
    assert response.headers["Location"] == "/campaigns?page=2"
