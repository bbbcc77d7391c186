"""Login throttling after repeated failures: progressive delays per (account, address) and
a cap per address; no account is locked for everyone (issue 15 finding 8)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from charity.models import LoginAttempt
from charity.models.base import utcnow
from charity.services import accounts
from tests.support.factories import PASSWORD, UserFactory

ATTEMPTS = 5
WINDOW = 900


@pytest.fixture(autouse=True)
def _policy(app, monkeypatch):  # type: ignore[no-untyped-def]
    monkeypatch.setitem(app.config, "LOGIN_THROTTLE_ATTEMPTS", ATTEMPTS)
    monkeypatch.setitem(app.config, "LOGIN_THROTTLE_WINDOW", WINDOW)
    monkeypatch.setitem(app.config, "LOGIN_THROTTLE_IP_ATTEMPTS", 8)


def _login(client, email, password, ip="198.51.100.7"):  # type: ignore[no-untyped-def]
    return client.post(
        "/account/login",
        data={"email": email, "password": password},
        environ_base={"REMOTE_ADDR": ip},
    )


def _attempts(db_session, email: str) -> int:  # type: ignore[no-untyped-def]
    return db_session.scalar(
        select(func.count()).select_from(LoginAttempt).where(LoginAttempt.email == email)
    )


def test_account_is_throttled_after_repeated_failures_from_one_address(client, db_session):
    user = UserFactory()
    for _ in range(ATTEMPTS):
        assert _login(client, user.email, "wrong password", ip="192.0.2.1").status_code == 400
    response = _login(client, user.email, PASSWORD, ip="192.0.2.1")  # even the right password
    assert response.status_code == 429
    text = response.get_data(as_text=True)
    assert "Too many failed attempts. Please wait 1 minute and try again." in text
    assert 1 <= int(response.headers["Retry-After"]) <= 30
    assert client.get("/account/").status_code == 302  # not logged in


def test_strangers_cannot_lock_the_real_user_out(client, db_session):
    """Finding 8: wrong passwords for an administrator from elsewhere, many of them."""
    admin = UserFactory(platform_role="admin")
    for n in range(3 * ATTEMPTS):
        _login(client, admin.email, "wrong password", ip=f"192.0.2.{n % 3}")
    assert _login(client, admin.email, PASSWORD, ip="203.0.113.77").status_code == 302


def test_each_further_failure_doubles_the_wait(app, db_session):
    policy = accounts.ThrottlePolicy.from_config(app.config)
    now = utcnow()
    waits = []
    for _ in range(ATTEMPTS + 2):  # below the address cap (8)
        db_session.add(LoginAttempt(email="p@example.org", ip="192.0.2.9", at=now))
        db_session.flush()
        waits.append(accounts.login_wait(db_session, "p@example.org", "192.0.2.9", policy, now))
    assert waits == [0] * (ATTEMPTS - 1) + [30, 60, 120]
    assert accounts.login_wait(db_session, "p@example.org", "192.0.2.8", policy, now) == 0


def test_message_is_in_chinese_by_default(client, db_session):
    user = UserFactory()
    for _ in range(ATTEMPTS):
        _login(client, user.email, "wrong password")
    response = _login(client, user.email, "wrong password")
    assert response.status_code == 429
    assert 'lang="zh-Hans"' in response.get_data(as_text=True)


def test_throttled_attempts_are_not_checked_or_recorded(client, db_session):
    user = UserFactory()
    for _ in range(ATTEMPTS):
        _login(client, user.email, "wrong password")
    for _ in range(3):
        assert _login(client, user.email, "wrong password").status_code == 429
    assert _attempts(db_session, user.email) == ATTEMPTS


def test_address_is_throttled_across_accounts(client, db_session):
    for n in range(8):
        assert _login(client, f"guess{n}@example.org", "wrong password").status_code == 400
    user = UserFactory()
    assert _login(client, user.email, PASSWORD).status_code == 429
    # Another address is unaffected.
    assert _login(client, user.email, PASSWORD, ip="203.0.113.5").status_code == 302


def test_success_clears_the_account_counter(client, db_session):
    user = UserFactory()
    for _ in range(ATTEMPTS - 1):
        _login(client, user.email, "wrong password")
    assert _login(client, user.email, PASSWORD).status_code == 302
    assert _attempts(db_session, user.email) == 0
    client.post("/account/logout")
    for _ in range(ATTEMPTS - 1):
        assert _login(client, user.email, "wrong password").status_code == 400
    assert _login(client, user.email, PASSWORD).status_code == 302


def test_failures_older_than_the_window_do_not_count(client, db_session):
    user = UserFactory()
    old = utcnow() - timedelta(seconds=WINDOW + 1)
    for _ in range(ATTEMPTS):
        db_session.add(LoginAttempt(email=user.email, ip="192.0.2.1", at=old))
    db_session.flush()
    assert _login(client, user.email, PASSWORD).status_code == 302


def test_the_delay_is_capped(app, db_session):
    policy = accounts.ThrottlePolicy(
        account_attempts=1,
        address_attempts=1000,
        window=timedelta(hours=1),
        base_delay=timedelta(seconds=30),
        max_delay=timedelta(seconds=100),
    )
    now = utcnow()
    for _ in range(10):
        db_session.add(LoginAttempt(email="c@example.org", ip="192.0.2.1", at=now))
    db_session.flush()
    assert accounts.login_wait(db_session, "C@example.org", "192.0.2.1", policy, now) == 100
    later = now + timedelta(seconds=101)
    assert accounts.login_wait(db_session, "c@example.org", "192.0.2.1", policy, later) == 0


def test_one_minute_message_for_a_short_wait(client, db_session, app, monkeypatch):
    monkeypatch.setitem(app.config, "LOGIN_THROTTLE_WINDOW", 30)
    user = UserFactory()
    for _ in range(ATTEMPTS):
        _login(client, user.email, "wrong password")
    response = _login(client, user.email, "wrong password")
    assert response.status_code == 429
    assert "Please wait 1 minute and try again." in response.get_data(as_text=True)


def test_invalid_form_input_is_not_an_attempt(client, db_session):
    for _ in range(ATTEMPTS + 2):
        assert _login(client, "not-an-email", "x").status_code == 400
    assert db_session.scalar(select(func.count()).select_from(LoginAttempt)) == 0


def test_a_password_reset_lifts_the_account_throttle(client, db_session, app):
    user = UserFactory()
    for _ in range(ATTEMPTS):
        _login(client, user.email, "wrong password")
    assert _login(client, user.email, PASSWORD).status_code == 429
    token = accounts.make_reset_token(user, app.config["SECRET_KEY"])
    new = "after the reset 123"
    response = client.post(f"/account/reset/{token}", data={"password": new, "confirm": new})
    assert response.status_code == 302
    assert _login(client, user.email, new).status_code == 302
