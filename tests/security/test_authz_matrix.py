"""The authorization matrix: every route of the URL map × every kind of user, checked against
``tests/security/authz_table.py``. A route missing from the table fails here."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlsplit

import pytest
import sqlalchemy as sa
from flask import Flask
from sqlalchemy import select

import config
from charity import create_app
from charity.extensions import db
from tests.security import authz_table as table
from tests.security.world import seed, world_user
from tests.support.factories import session_id
from tests.support.security import IGNORED_ENDPOINTS, ROUTES, url_for_case

INVITATION_TOKEN = "matrix-invitation-token-0123456789abcdef"


def _params() -> list[Any]:
    params = []
    for endpoint, method in ROUTES:
        cases = [c for c in table.TABLE.get(endpoint, ()) if c.method == method]
        if not cases:
            params.append(pytest.param(endpoint, method, None, "-", id=f"{endpoint}-{method}"))
        for case in cases:
            for role in table.ROLES:
                label = "-".join(filter(None, [endpoint, method, case.variant, role]))
                params.append(pytest.param(endpoint, method, case, role, id=label))
    return params


def _snapshot() -> list[Any]:
    """Every row of every table. On PostgreSQL one statement brings them all (each row as
    its JSON): a SELECT per table is a hundred round trips, most of a case's time there."""
    db.session.expire_all()
    tables = db.metadata.sorted_tables
    if db.session.get_bind().dialect.name != "postgresql":
        return [(t.name, sorted(map(repr, db.session.execute(select(t)).all()))) for t in tables]
    quote = db.session.get_bind().dialect.identifier_preparer.quote
    union = " UNION ALL ".join(
        f"SELECT {n}, row_to_json(r)::text FROM {quote(t.name)} r"  # noqa: S608
        for n, t in enumerate(tables)
    )
    rows: list[list[str]] = [[] for _ in tables]
    for number, row in db.session.execute(sa.text(union)):
        rows[number].append(row)
    return [(t.name, sorted(found)) for t, found in zip(tables, rows, strict=True)]


def _is_login_redirect(response) -> bool:  # type: ignore[no-untyped-def]
    if response.status_code not in (301, 302, 303, 307, 308):
        return False
    return urlsplit(response.headers["Location"]).path == "/account/login"


def _assert_plain_title(response, url: str) -> None:  # type: ignore[no-untyped-def]
    """Every HTML page's <title> is plain text (a template once put a whole table in it)."""
    if response.status_code != 200 or response.mimetype != "text/html":
        return
    found = re.search(r"<title>(.*?)</title>", response.get_data(as_text=True), re.S)
    assert found, f"{url}: no <title>"
    title = found.group(1)
    assert "<" not in title and "&lt;" not in title and len(title) < 200, f"{url}: {title[:120]}"


def _allowed(response) -> bool:  # type: ignore[no-untyped-def]
    """Past authorization: anything but 401/403/404 and a redirect to the login page."""
    return response.status_code not in (401, 403, 404) and not _is_login_redirect(response)


#: The documented deployment (docs/deployment.md §7): one nginx at 10.0.0.2 appends the
#: client's address (203.0.113.66) to whatever X-Forwarded-For the client sent.
PROXY = "10.0.0.2"
ATTACKER = "203.0.113.66"


def behind_the_proxy(app: Flask, monkeypatch, client) -> dict[str, str]:  # type: ignore[no-untyped-def]
    """Serve this request as production does behind the proxy (ProxyFix, one trusted hop)
    and forge what an attacker can: a loopback X-Forwarded-For, X-Real-IP and
    X-Forwarded-Host. Returns the headers as they reach the app."""
    from werkzeug.middleware.proxy_fix import ProxyFix

    monkeypatch.setattr(app, "wsgi_app", ProxyFix(app.wsgi_app, x_for=1, x_proto=1))
    client.environ_base["REMOTE_ADDR"] = PROXY
    return {
        "X-Forwarded-For": f"127.0.0.1, {ATTACKER}",
        "X-Forwarded-Proto": "http",
        "X-Real-IP": "127.0.0.1",
        "X-Forwarded-Host": "evil.example",
    }


class TestAuthorizationMatrix:
    """One class so that ``shared_world`` is seeded once for all of the matrix's cases (and
    emptied before the module's other tests, which seed their own)."""

    @pytest.mark.parametrize(("endpoint", "method", "case", "role"), _params())
    def test_authorization_matrix(
        self, app, shared_world, client, db_session, login, mail_outbox, monkeypatch,
        endpoint, method, case, role,
    ):  # type: ignore[no-untyped-def]  # fmt: skip
        assert case is not None, (
            f"{method} {endpoint} has no entry in tests/security/authz_table.py: "
            "declare who may use it"
        )
        world = shared_world
        if role not in (table.ANONYMOUS, table.PROXY_ATTACKER):
            login(world_user(world, role))
            db.session.commit()  # its server-side session, into the test's outer transaction
        url = url_for_case(app, endpoint, case, world)
        before = _snapshot() if method != "GET" else None
        outbox_before = len(mail_outbox)
        headers: dict[str, str] = {}
        if role == table.PROXY_ATTACKER:
            headers = behind_the_proxy(app, monkeypatch, client)
        response = client.open(url, method=method, data={}, headers=headers)
        response.get_data()
        response.close()  # file downloads keep the file open until closed
        assert response.status_code < 500, response.get_data(as_text=True)[:500]
        if table.allows(case, role):
            assert _allowed(response), (
                f"{role} should be allowed: {method} {url} → {response.status}"
            )
            _assert_plain_title(response, url)
            if before is not None and role in case.inert:
                assert _snapshot() == before, f"{role}'s {method} {url} changed the database"
            return
        assert not _allowed(response), (
            f"{role} should be denied: {method} {url} → {response.status}"
        )
        if before is not None:
            assert _snapshot() == before, f"a denied {method} {url} by {role} changed the database"
            assert len(mail_outbox) == outbox_before


def test_every_table_entry_is_a_route_of_the_app():
    served = set(ROUTES)
    stale = [
        f"{case.method} {endpoint}"
        for endpoint, cases in table.TABLE.items()
        for case in cases
        if (endpoint, case.method) not in served
    ]
    assert not stale, f"entries for routes that no longer exist: {stale}"


def test_a_new_route_without_an_entry_fails(app):
    """The matrix's own check, on an app with one extra undeclared route."""
    extra = create_app(config.TestingConfig("sqlite://"))
    extra.add_url_rule("/secret-admin-tool", "secret_tool", lambda: "hello")
    endpoints = {rule.endpoint for rule in extra.url_map.iter_rules()}
    undeclared = endpoints - set(table.TABLE) - IGNORED_ENDPOINTS
    assert undeclared == {"secret_tool"}
    with extra.app_context():
        db.engine.dispose()


def test_a_route_missing_its_permission_check_fails_the_matrix(app, database_url, db_session):
    """A deliberately broken route (owner-only by the table, no check in the view) is caught
    by the same seeding, URL building and classification as the matrix."""
    from charity.extensions import limiter

    enabled = limiter.enabled
    leaky = create_app(config.TestingConfig(database_url))
    leaky.add_url_rule("/orgs/<int:org_id>/leaky", "leaky", lambda org_id: "secrets")
    case = table.get({table.OWNER_A})
    try:
        world = seed(leaky)
        with leaky.test_client() as client:
            with client.session_transaction() as session:
                session["_user_id"] = session_id(world.users[table.DONOR])
            response = client.get(url_for_case(leaky, "leaky", case, world))
        assert table.DONOR not in case.allowed and _allowed(response)  # the matrix would fail
    finally:
        limiter.enabled = enabled
        with leaky.app_context():
            db.engine.dispose()


def test_the_snapshot_sees_any_change(app, db_session):
    """The matrix's "changed the database" check can fail: a changed column, an added row
    and a deleted row each change the snapshot."""
    from charity.models import Campaign, CampaignUpdate

    world = seed(app)
    before = _snapshot()
    update = db.session.get(CampaignUpdate, world.names["update_a"])
    update.title += "!"
    db.session.flush()
    assert _snapshot() != before
    update.title = update.title[:-1]
    db.session.flush()
    assert _snapshot() == before
    added = CampaignUpdate(
        campaign=db.session.get(Campaign, world.names["campaign_a"]), title="新", body_md="x",
        posted_at=update.posted_at,
    )  # fmt: skip
    db.session.add(added)
    db.session.flush()
    assert _snapshot() != before
    db.session.delete(added)
    db.session.delete(update)
    db.session.flush()
    assert _snapshot() != before


@pytest.mark.parametrize(
    "environ",
    [
        {"REMOTE_ADDR": "203.0.113.5"},
        {"REMOTE_ADDR": "127.0.0.1", "HTTP_X_FORWARDED_FOR": "1.2.3.4"},
    ],
)
def test_metrics_refuse_other_addresses(client, db_session, environ):
    assert client.get("/metrics", environ_base=environ).status_code == 403
