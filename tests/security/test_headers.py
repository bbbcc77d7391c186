"""Security headers and cookie flags on every page of the URL map, secrets kept out of logs,
and no stack traces in production."""

from __future__ import annotations

import logging

import pytest

import config
from charity import create_app
from tests.security import authz_table as table
from tests.security.world import seed, world_user
from tests.support.factories import PASSWORD, UserFactory
from tests.support.security import ROUTES, url_for_case


def _get_pages() -> list[tuple[str, table.Case, str]]:
    """Every GET route with a role allowed to see it (the matrix's table says who)."""
    pages = []
    for endpoint, method in ROUTES:
        for case in table.TABLE.get(endpoint, ()):
            if method == "GET" and case.method == "GET" and case.allowed:
                role = next(r for r in table.ROLES if r in case.allowed)
                pages.append((endpoint, case, role))
    return pages


PAGES = _get_pages()


def check_security_headers(response) -> None:  # type: ignore[no-untyped-def]
    headers = response.headers
    csp = headers["Content-Security-Policy"]
    if "sandbox" in csp:  # downloads of uploaded files: stricter still
        assert csp.startswith("default-src 'none'")
        csp = "default-src 'self' frame-ancestors 'none' object-src 'none' base-uri 'self' "
        csp += "form-action 'self'"
    for directive in ("default-src 'self'", "frame-ancestors 'none'", "object-src 'none'",
                      "base-uri 'self'", "form-action 'self'"):  # fmt: skip
        assert directive in csp
    assert "'unsafe-inline'" not in csp and "'unsafe-eval'" not in csp
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["X-Frame-Options"] == "DENY"
    assert headers["Referrer-Policy"] in ("strict-origin-when-cross-origin", "no-referrer")
    assert "camera=()" in headers["Permissions-Policy"]
    assert headers["Cross-Origin-Opener-Policy"] == "same-origin"
    for cookie in headers.getlist("Set-Cookie"):
        assert "HttpOnly" in cookie and "SameSite=Lax" in cookie, cookie


class TestEveryPage:
    """One class so that ``shared_world`` is seeded once for all the pages (and emptied
    before the module's other tests, which seed their own)."""

    @pytest.mark.parametrize(
        ("endpoint", "case", "role"),
        PAGES,
        ids=[f"{e}{'-' + c.variant if c.variant else ''}" for e, c, _r in PAGES],
    )
    def test_every_page_has_the_security_headers(
        self, app, shared_world, client, login, db_session, endpoint, case, role
    ):  # type: ignore[no-untyped-def]
        if role != table.ANONYMOUS:
            login(world_user(shared_world, role))
        response = client.get(url_for_case(app, endpoint, case, shared_world))
        response.get_data()
        response.close()
        # The seeded world holds no signed claim link (a friendly 400) and its monthly gift
        # cannot be charged (409): those error pages' headers are checked all the same.
        assert response.status_code < 400 or endpoint in {
            "donor.claim_confirm",
            "donor.monthly_pay",
        }
        check_security_headers(response)
        if response.mimetype == "text/html":
            assert response.headers["Content-Type"] == "text/html; charset=utf-8"


def test_private_pages_are_not_cached(app, client, login, db_session):
    world = seed(app)
    login(world.users[table.OWNER_A])
    for path in ("/account/", "/account/password"):
        assert "no-store" in client.get(path).headers["Cache-Control"]


def test_public_api_sets_no_cookies_even_for_a_logged_in_browser(app, client, login, db_session):
    world = seed(app)
    login(world.users[table.DONOR])
    response = client.get("/api/v1/organizations")
    assert "Set-Cookie" not in response.headers
    assert response.headers["Cache-Control"].startswith("public")


# --- secrets never in logs ------------------------------------------------------------------

SECRETS = {
    "SECRET_KEY": "s3cret-key-for-the-log-test-0123456789",
    "STRIPE_SECRET_KEY": "sk_test_logcheck_0123456789",
    "STRIPE_WEBHOOK_SECRET": "whsec_logcheck_0123456789",
    "SMTP_PASSWORD": "smtp-password-logcheck",
}


@pytest.fixture
def chatty_app(database_url, tmp_path):  # type: ignore[no-untyped-def]
    application = create_app(
        config.TestingConfig(database_url, PROPAGATE_TEST_ERRORS=False, **SECRETS)
    )
    application.instance_path = str(tmp_path)

    @application.post("/_test/explode")
    def explode():  # type: ignore[no-untyped-def]
        raise RuntimeError("boom while handling a form")

    yield application
    from charity.extensions import db

    with application.app_context():
        db.engine.dispose()


def test_passwords_and_secrets_never_reach_the_logs(chatty_app, db_session, caplog):
    caplog.set_level(logging.DEBUG)
    user = UserFactory()
    client = chatty_app.test_client()
    typed = "my-very-private-passphrase"
    client.post("/account/signup", data={"name": "N", "email": "n@example.org",
                                         "password": typed, "confirm": typed})  # fmt: skip
    client.post("/account/logout")
    client.post("/account/login", data={"email": user.email, "password": "wrong-" + typed})
    client.post("/account/login", data={"email": user.email, "password": PASSWORD})
    client.post("/_test/explode", data={"password": typed, "card": "4242424242424242"})
    logged = caplog.text
    assert "boom while handling a form" in logged  # the log really was captured
    for secret in [typed, PASSWORD, "4242424242424242", *SECRETS.values()]:
        assert secret not in logged, f"{secret} appeared in the logs"


# --- production: no debugger, no stack traces ---------------------------------------------


def test_production_shows_no_stack_trace(production_app):
    assert production_app.debug is False and not production_app.testing
    for path in ("/_test/crash", "/api/v1/_test/crash"):
        response = production_app.test_client().get(path)
        text = response.get_data(as_text=True)
        assert response.status_code == 500, path
        assert "Traceback" not in text and "secret_salt" not in text and "KeyError" not in text
        check_security_headers(response)
        assert "Strict-Transport-Security" in response.headers


def test_production_database_errors_are_a_friendly_500(production_app):
    """The database is unreachable: a page that needs it fails politely, without details."""
    response = production_app.test_client().get("/orgs/")
    text = response.get_data(as_text=True)
    assert response.status_code == 500
    assert "never_connected" not in text and "psycopg" not in text and "Traceback" not in text


# --- uploaded files ---------------------------------------------------------------------------


def test_uploaded_files_are_downloads_with_a_safe_type(app, client, db_session):
    world = seed(app)
    response = client.get(f"/disclosures/files/{world.names['attachment_sha256']}.pdf")
    body = response.get_data()
    response.close()
    assert response.status_code == 200 and body.startswith(b"%PDF")
    assert response.mimetype == "application/pdf"
    assert response.headers["Content-Disposition"].startswith("attachment;")
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert "sandbox" in response.headers["Content-Security-Policy"]


@pytest.mark.parametrize("name", ["../../config", "..%2F..%2Fetc%2Fpasswd", "x" * 64, "A" * 64])
def test_upload_paths_cannot_be_traversed(client, db_session, name):
    response = client.get(f"/disclosures/files/{name}.pdf")
    assert response.status_code == 404


def test_the_log_handler_masks_secrets_that_code_logs_by_mistake(chatty_app, db_session):
    """The ops log filter on our real handler: careless log lines and tracebacks that carry
    secrets come out masked (configured secrets, Stripe key shapes, URL passwords)."""
    import io
    import logging

    from flask import current_app

    handler = next(h for h in logging.getLogger("charity").handlers if hasattr(h, "setStream"))
    buffer = io.StringIO()
    previous = handler.setStream(buffer)

    @chatty_app.get("/_test/leak")
    def leak():  # type: ignore[no-untyped-def]
        config = current_app.config
        current_app.logger.warning(
            "keys %s %s %s", config["STRIPE_SECRET_KEY"], config["SECRET_KEY"],
            "postgresql://app:db-pass-0123456789@db.internal/charity",
        )  # fmt: skip
        raise RuntimeError(f"webhook secret was {config['STRIPE_WEBHOOK_SECRET']}")

    try:
        response = chatty_app.test_client().get("/_test/leak")
    finally:
        handler.setStream(previous)
    written = buffer.getvalue()
    assert response.status_code == 500
    assert "keys" in written and "webhook secret was" in written  # the lines were written
    for secret in [*SECRETS.values(), "db-pass-0123456789"]:
        assert secret not in written


def test_personal_pages_are_private_and_not_stored(client, db_session, login):
    """Issue 15 (low): pages rendered for a logged-in person and a donor's token pages."""
    from tests.support.factories import UserFactory

    login(UserFactory())
    for path in ("/account/gifts", "/campaigns/"):
        cache = client.get(path).headers.get("Cache-Control", "")
        assert "private" in cache and "no-store" in cache, (path, cache)
