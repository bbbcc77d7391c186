"""Rate limits (Flask-Limiter) on login, sign-up, password reset and the public API."""

from __future__ import annotations

import pytest

from charity.extensions import limiter
from tests.support.factories import PASSWORD, UserFactory

IP_A = {"REMOTE_ADDR": "203.0.113.10"}
IP_B = {"REMOTE_ADDR": "203.0.113.20"}


def _post(client, path: str, data: dict, environ=IP_A):  # type: ignore[no-untyped-def]
    return client.post(path, data=data, environ_base=environ)


def _assert_human_429(response) -> None:  # type: ignore[no-untyped-def]
    assert response.status_code == 429
    assert response.mimetype == "text/html"
    assert 0 < int(response.headers["Retry-After"]) <= 3600
    page = response.get_data(as_text=True)
    assert "<h1" in page and "Traceback" not in page
    assert "Too many attempts" in page or "尝试次数过多" in page or "429" in page


FORMS = {
    "login": ("/account/login", "RATELIMIT_LOGIN", {"email": "x@example.org", "password": "no"}),
    "signup": ("/account/signup", "RATELIMIT_SIGNUP", {"name": "", "email": "bad"}),
    "reset": ("/account/reset", "RATELIMIT_PASSWORD_RESET", {"email": "x@example.org"}),
}


@pytest.mark.parametrize("form", sorted(FORMS))
def test_form_posts_are_limited_per_address(limited_app, form):
    path, setting, data = FORMS[form]
    client = limited_app(**{setting: "3 per minute"}).test_client()
    for _ in range(3):
        assert _post(client, path, data).status_code in (200, 302, 400)
    _assert_human_429(_post(client, path, data))
    # another address is not affected, and reading the page is never limited
    assert _post(client, path, data, IP_B).status_code != 429
    assert client.get(path, environ_base=IP_A).status_code in (200, 302)


def test_a_limited_login_does_not_check_the_password(limited_app, db_session):
    user = UserFactory()
    client = limited_app(RATELIMIT_LOGIN="2 per minute").test_client()
    for _ in range(2):
        _post(client, "/account/login", {"email": user.email, "password": "wrong"})
    response = _post(client, "/account/login", {"email": user.email, "password": PASSWORD})
    assert response.status_code == 429
    assert "session" not in " ".join(response.headers.getlist("Set-Cookie"))


def test_default_limits_let_honest_people_retry(limited_app, db_session):
    """Three typos and then the right password: well within the default limits."""
    user = UserFactory()
    client = limited_app().test_client()
    for _ in range(3):
        response = _post(client, "/account/login", {"email": user.email, "password": "typo"})
        assert response.status_code == 400
    response = _post(client, "/account/login", {"email": user.email, "password": PASSWORD})
    assert response.status_code == 302


def test_the_api_is_limited_per_address_with_json(limited_app, db_session):
    client = limited_app(RATELIMIT_API="4 per minute").test_client()
    for _ in range(4):
        response = client.get("/api/v1/organizations", environ_base=IP_A)
        assert response.status_code == 200
        assert "X-RateLimit-Remaining" in response.headers
    response = client.get("/api/v1/organizations", environ_base=IP_A)
    assert response.status_code == 429
    assert response.get_json()["error"]["code"] == "too_many_requests"
    assert int(response.headers["Retry-After"]) > 0
    assert response.headers["Access-Control-Allow-Origin"] == "*"  # browsers can read the 429
    assert client.get("/api/v1/campaigns", environ_base=IP_B).status_code == 200


def test_the_limiter_is_off_again_for_the_rest_of_the_suite(limited_app, app, client):
    limited_app(RATELIMIT_LOGIN="1 per minute")
    assert limiter.enabled is True  # process-global: the fixture must put it back
    # (the fixture's teardown restores it; the next test checks that nothing is limited)


def test_nothing_is_limited_in_ordinary_tests(client, db_session):
    assert limiter.enabled is False
    for _ in range(15):
        assert client.post("/account/reset", data={"email": "x@example.org"}).status_code == 200
