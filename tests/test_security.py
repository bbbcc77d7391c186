"""CSRF on every accounts form, cookie flags, security headers and friendly error pages."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

import config
from charity import create_app
from charity.models import LoginAttempt, User
from charity.services import accounts
from tests.support.factories import PASSWORD, UserFactory, log_in

NEW = "a perfectly fine password"


# --- CSRF --------------------------------------------------------------------------------


@pytest.fixture
def csrf_on(app, monkeypatch):  # type: ignore[no-untyped-def]
    monkeypatch.setitem(app.config, "WTF_CSRF_ENABLED", True)


def _token(client, path: str) -> str:  # type: ignore[no-untyped-def]
    page = client.get(path).get_data(as_text=True)
    return re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)


def _state(db_session, mail_outbox):  # type: ignore[no-untyped-def]
    db_session.expire_all()
    users = db_session.execute(select(User.id, User.password_hash)).all()
    attempts = db_session.scalar(select(func.count()).select_from(LoginAttempt))
    return sorted(users), attempts, len(mail_outbox)


def _forms(user, app):  # type: ignore[no-untyped-def]
    token = accounts.make_reset_token(user, app.config["SECRET_KEY"])
    return {
        "login": ("/account/login", {"email": user.email, "password": "wrong password"}),
        "signup": (
            "/account/signup",
            {"name": "N", "email": "new@example.org", "password": NEW, "confirm": NEW},
        ),
        "logout": ("/account/logout", {}),
        "change_password": (
            "/account/password",
            {"current_password": PASSWORD, "new_password": NEW, "confirm": NEW},
        ),
        "reset_request": ("/account/reset", {"email": user.email}),
        "reset_password": (f"/account/reset/{token}", {"password": NEW, "confirm": NEW}),
    }


@pytest.mark.parametrize(
    "form", ["login", "signup", "logout", "change_password", "reset_request", "reset_password"]
)
def test_every_form_rejects_a_missing_csrf_token(
    app, client, db_session, mail_outbox, monkeypatch, form
):
    user = UserFactory()
    log_in(client, user)  # CSRF still off here
    monkeypatch.setitem(app.config, "WTF_CSRF_ENABLED", True)
    path, data = _forms(user, app)[form]
    before = _state(db_session, mail_outbox)
    response = client.post(path, data=data)
    assert response.status_code == 400
    assert "Traceback" not in response.get_data(as_text=True)
    assert _state(db_session, mail_outbox) == before
    assert client.get("/account/").status_code == 200  # still logged in (logout refused)


def test_a_wrong_csrf_token_is_rejected(client, db_session, csrf_on):
    user = UserFactory()
    response = client.post(
        "/account/login",
        data={"email": user.email, "password": PASSWORD, "csrf_token": "forged"},
    )
    assert response.status_code == 400
    assert client.get("/account/").status_code == 302


def test_forms_work_with_the_token_from_the_page(client, db_session, csrf_on):
    """The positive case: the pages render a token and the forms accept it."""
    user = UserFactory()
    token = _token(client, "/account/login")
    response = client.post(
        "/account/login", data={"email": user.email, "password": PASSWORD, "csrf_token": token}
    )
    assert response.status_code == 302
    page = client.get("/account/").get_data(as_text=True)
    logout_token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    assert client.post("/account/logout", data={"csrf_token": logout_token}).status_code == 302
    assert client.get("/account/").status_code == 302


# --- cookies -----------------------------------------------------------------------------


def _cookie_header(response, name: str) -> str:  # type: ignore[no-untyped-def]
    headers = [h for h in response.headers.getlist("Set-Cookie") if h.startswith(name + "=")]
    assert headers, response.headers
    return headers[-1]


def test_session_and_remember_cookies_are_httponly_and_samesite(client, db_session):
    user = UserFactory()
    response = client.post(
        "/account/login", data={"email": user.email, "password": PASSWORD, "remember": "y"}
    )
    for name in ("session", "remember_token"):
        header = _cookie_header(response, name)
        assert "HttpOnly" in header
        assert "SameSite=Lax" in header
        assert "Secure" not in header  # plain http in tests and development


def test_production_cookies_are_secure(production_app):
    client = production_app.test_client()
    response = client.get("/lang/en?next=/")  # sets the session without touching the database
    header = _cookie_header(response, "session")
    assert "Secure" in header and "HttpOnly" in header and "SameSite=Lax" in header
    assert response.headers["Strict-Transport-Security"].startswith("max-age=")
    assert production_app.config["REMEMBER_COOKIE_SECURE"] is True


# --- security headers --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "status", "kind"),
    [
        ("/", 200, "text/html"),
        ("/account/login", 200, "text/html"),
        ("/account/", 302, None),
        ("/no-such-page", 404, "text/html"),
        ("/account/logout", 405, "text/html"),
        ("/healthz", 200, "application/json"),
        ("/api/v1/no-such-thing", 404, "application/json"),
    ],
)
def test_security_headers_on_every_kind_of_response(client, db_session, path, status, kind):
    response = client.get(path)
    assert response.status_code == status
    if kind:
        assert response.mimetype == kind
    headers = response.headers
    csp = headers["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in csp
    assert "object-src 'none'" in csp
    assert "'unsafe-inline'" not in csp and "'unsafe-eval'" not in csp
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["X-Frame-Options"] == "DENY"
    assert headers["Referrer-Policy"] == "strict-origin-when-cross-origin"


def test_no_inline_script_or_style_in_accounts_pages(client, db_session):
    log_in(client, UserFactory())
    for path in ("/account/", "/account/password"):
        page = client.get(path).get_data(as_text=True)
        assert "<script>" not in page and "style=" not in page
    client.post("/account/logout")
    for path in ("/account/login", "/account/signup", "/account/reset"):
        page = client.get(path).get_data(as_text=True)
        assert "<script>" not in page and "style=" not in page


# --- error pages -------------------------------------------------------------------------


SECRET_DETAIL = "database password is hunter2"


@pytest.fixture
def failing_app(database_url, tmp_path):  # type: ignore[no-untyped-def]
    """An app whose one extra route raises; the route exists only in this test app."""
    application = create_app(config.TestingConfig(database_url, PROPAGATE_TEST_ERRORS=False))
    application.instance_path = str(tmp_path)

    @application.get("/_test/boom")
    def boom():  # type: ignore[no-untyped-def]
        raise RuntimeError(SECRET_DETAIL)

    @application.get("/api/v1/_test/boom")
    def api_boom():  # type: ignore[no-untyped-def]
        raise RuntimeError(SECRET_DETAIL)

    yield application
    from charity.extensions import db

    with application.app_context():
        db.engine.dispose()


def test_unexpected_error_is_a_friendly_500_without_details(failing_app, db_session, caplog):
    response = failing_app.test_client().get("/_test/boom")
    text = response.get_data(as_text=True)
    assert response.status_code == 500
    assert "Something went wrong on our side" in text or "500" in text
    assert SECRET_DETAIL not in text and "Traceback" not in text and "RuntimeError" not in text
    assert response.headers["Content-Security-Policy"]
    assert SECRET_DETAIL in caplog.text  # logged for us, not shown to them


def test_unexpected_api_error_is_json_without_details(failing_app, db_session):
    response = failing_app.test_client().get("/api/v1/_test/boom")
    assert response.status_code == 500
    assert response.get_json()["error"]["code"] == "internal_server_error"
    assert SECRET_DETAIL not in response.get_data(as_text=True)


def test_friendly_404_page(client, db_session):
    response = client.get("/no/such/page?lang=en")
    text = response.get_data(as_text=True)
    assert response.status_code == 404
    assert "Page not found" in text
    assert "Back to the home page" in text


def test_friendly_405_page(client, db_session):
    response = client.get("/account/logout?lang=en")
    assert response.status_code == 405
    assert "Back to the home page" in response.get_data(as_text=True)
