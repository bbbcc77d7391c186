"""Server-side session revocation (issue 15 finding 13): logging out, "log out everywhere"
and a password change end sessions on the server, so a copied session or remember-me
cookie logs nobody in afterwards."""

from __future__ import annotations

from sqlalchemy import func, select

from charity.models import UserSession
from tests.support.factories import PASSWORD, UserFactory, log_in


def _cookies(client) -> dict[str, str]:  # type: ignore[no-untyped-def]
    return {cookie.key: cookie.value for cookie in client._cookies.values()}


def _replay(app, cookies: dict[str, str]):  # type: ignore[no-untyped-def]
    """Another browser holding a copy of the cookies."""
    thief = app.test_client()
    for name, value in cookies.items():
        thief.set_cookie(name, value)
    return thief


def test_a_copied_session_cookie_is_dead_after_logout(app, client, db_session):
    log_in(client, UserFactory())
    copied = _cookies(client)
    assert _replay(app, copied).get("/account/").status_code == 200
    client.post("/account/logout")
    assert _replay(app, copied).get("/account/").status_code == 302


def test_a_remember_me_cookie_is_dead_after_logout(app, client, db_session):
    user = UserFactory()
    client.post("/account/login", data={"email": user.email, "password": PASSWORD, "remember": "y"})
    remember = {k: v for k, v in _cookies(client).items() if k == "remember_token"}
    assert remember
    assert _replay(app, remember).get("/account/").status_code == 200
    client.post("/account/logout")
    assert _replay(app, remember).get("/account/").status_code == 302


def test_log_out_everywhere_ends_every_session(app, db_session):
    user = UserFactory()
    phone, laptop = app.test_client(), app.test_client()
    log_in(phone, user)
    log_in(laptop, user)
    response = laptop.post("/account/logout-everywhere")
    assert response.status_code == 302
    assert phone.get("/account/").status_code == 302
    assert laptop.get("/account/").status_code == 302
    count = db_session.scalar(
        select(func.count()).select_from(UserSession).where(UserSession.user_id == user.id)
    )
    assert count == 0


def test_a_password_change_ends_the_other_sessions_only(app, db_session):
    user = UserFactory()
    phone, laptop = app.test_client(), app.test_client()
    log_in(phone, user)
    log_in(laptop, user)
    new = "a brand new password 42"
    answer = laptop.post(
        "/account/password",
        data={"current_password": PASSWORD, "new_password": new, "confirm": new},
    )
    assert answer.status_code == 302, answer.get_data(as_text=True)[:300]
    assert laptop.get("/account/").status_code == 200
    assert phone.get("/account/").status_code == 302


def test_a_forged_session_id_is_not_a_session(app, client, db_session):
    user = UserFactory()
    with client.session_transaction() as session:
        session["_user_id"] = f"{user.id}:{user.session_stamp}:made-up"
    assert client.get("/account/").status_code == 302
