"""Two-factor authentication (issue 15): TOTP enrolment through the real pyotp code,
recovery codes, the login's second step, and the sessions a 2FA change ends."""

from __future__ import annotations

import re

import pyotp

from charity.models import RecoveryCode
from tests.factories import PASSWORD, UserFactory, log_in


def _enrol(client) -> tuple[str, list[str]]:  # type: ignore[no-untyped-def]
    page = client.get("/account/2fa/setup").get_data(as_text=True)
    secret = re.search(r'id="totp-secret">([A-Z2-7]+)<', page).group(1)
    assert "<svg" in page  # the QR code of the otpauth:// address
    done = client.post("/account/2fa/setup", data={"code": pyotp.TOTP(secret).now()})
    assert done.status_code == 200, done.get_data(as_text=True)[:400]
    codes = re.findall(r"<code>([0-9a-f]{8}-[0-9a-f]{8})</code>", done.get_data(as_text=True))
    assert len(codes) == 10
    return secret, codes


def test_enrol_then_every_login_needs_the_second_factor(app, client, db_session):
    user = UserFactory()
    log_in(client, user)
    other = app.test_client()
    log_in(other, user)
    secret, _codes = _enrol(client)
    assert user.totp_enabled_at is not None and user.totp_secret == secret
    assert other.get("/account/").status_code == 302  # a 2FA change ends other sessions
    assert client.get("/account/").status_code == 200  # not this one
    client.post("/account/logout")
    response = client.post("/account/login", data={"email": user.email, "password": PASSWORD})
    assert response.status_code == 302
    held = client.get("/account/")
    assert held.status_code == 302 and "/account/2fa/" in held.headers["Location"]
    assert client.get("/orgs/apply").headers["Location"].startswith("/account/2fa/")
    wrong = client.post("/account/2fa/", data={"code": "000000"})
    assert wrong.status_code == 400
    assert client.post("/account/2fa/", data={"code": pyotp.TOTP(secret).now()}).status_code == 302
    assert client.get("/account/").status_code == 200


def test_a_recovery_code_works_once(client, db_session):
    user = UserFactory()
    log_in(client, user)
    _secret, codes = _enrol(client)
    stored = db_session.query(RecoveryCode).filter_by(user_id=user.id).all()
    assert len(stored) == 10 and all(codes[0] not in row.code_hash for row in stored)
    for attempt, expected in ((codes[0], 302), (codes[0], 400)):
        client.post("/account/logout")
        client.post("/account/login", data={"email": user.email, "password": PASSWORD})
        assert client.post("/account/2fa/", data={"code": attempt}).status_code == expected


def test_a_wrong_code_does_not_turn_it_on(client, db_session):
    user = UserFactory()
    log_in(client, user)
    client.get("/account/2fa/setup")
    assert client.post("/account/2fa/setup", data={"code": "123456"}).status_code == 400
    assert user.totp_enabled_at is None
