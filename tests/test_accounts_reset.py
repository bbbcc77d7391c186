"""Password reset by emailed link."""

from __future__ import annotations

import re
import time
from types import SimpleNamespace
from urllib.parse import urlsplit

import itsdangerous.timed
import pytest

from charity.services import accounts
from tests.support.factories import PASSWORD, UserFactory, log_in

NEW_PASSWORD = "reset to something new"


def _request_reset(client, email: str):  # type: ignore[no-untyped-def]
    return client.post("/account/reset", data={"email": email})


def _link_path(message) -> str:  # type: ignore[no-untyped-def]
    body = message.get_body(("plain",)).get_content()
    url = re.search(r"https?://\S+/account/reset/\S+", body).group(0)
    return urlsplit(url).path


def _choose(client, path: str, password: str = NEW_PASSWORD):  # type: ignore[no-untyped-def]
    return client.post(path, data={"password": password, "confirm": password})


def test_reset_by_emailed_link(client, db_session, mail_outbox):
    user = UserFactory()
    response = _request_reset(client, user.email.upper())
    assert response.status_code == 200
    assert [m["To"] for m in mail_outbox] == [user.email]
    path = _link_path(mail_outbox[0])
    page = client.get(path)
    assert page.status_code == 200
    assert page.headers["Referrer-Policy"] == "no-referrer"
    response = _choose(client, path)
    assert response.status_code == 302
    assert response.headers["Location"] == "/account/login"
    assert (
        client.post("/account/login", data={"email": user.email, "password": PASSWORD}).status_code
        == 400
    )
    log_in(client, user, NEW_PASSWORD)
    assert mail_outbox[-1]["Subject"] == "Your password was changed"


def test_reset_page_says_the_same_whether_or_not_the_email_exists(client, db_session, mail_outbox):
    UserFactory(email="exists@example.org")
    known = _request_reset(client, "exists@example.org")
    unknown = _request_reset(client, "absent@example.org")
    assert known.status_code == unknown.status_code == 200
    normalize = lambda r: r.get_data(as_text=True).replace("exists@", "X@").replace("absent@", "X@")  # noqa: E731
    assert normalize(known) == normalize(unknown)
    assert len(mail_outbox) == 1


def test_no_mail_for_a_deactivated_account(client, db_session, mail_outbox):
    user = UserFactory(is_active_account=False)
    assert _request_reset(client, user.email).status_code == 200
    assert mail_outbox == []


def test_a_link_works_once(client, db_session, mail_outbox):
    user = UserFactory()
    _request_reset(client, user.email)
    path = _link_path(mail_outbox[0])
    assert _choose(client, path).status_code == 302
    second = _choose(client, path, "yet another password")
    assert second.status_code == 400
    assert "does not work" in second.get_data(as_text=True)
    log_in(client, user, NEW_PASSWORD)


def test_a_link_dies_when_the_password_changes_otherwise(client, db_session, mail_outbox):
    user = UserFactory()
    _request_reset(client, user.email)
    path = _link_path(mail_outbox[0])
    log_in(client, user)
    client.post(
        "/account/password",
        data={"current_password": PASSWORD, "new_password": NEW_PASSWORD, "confirm": NEW_PASSWORD},
    )
    assert client.get(path).status_code == 400


def test_an_expired_link_is_refused(client, db_session, mail_outbox, app, monkeypatch):
    user = UserFactory()
    _request_reset(client, user.email)
    path = _link_path(mail_outbox[0])
    later = time.time() + app.config["PASSWORD_RESET_MAX_AGE"] + 5
    monkeypatch.setattr(itsdangerous.timed, "time", SimpleNamespace(time=lambda: later))
    response = client.get(path)
    assert response.status_code == 400
    assert _choose(client, path).status_code == 400
    hash_before = user.password_hash
    db_session.refresh(user)
    assert user.password_hash == hash_before


def test_a_link_just_before_expiry_still_works(client, db_session, mail_outbox, app, monkeypatch):
    user = UserFactory()
    _request_reset(client, user.email)
    path = _link_path(mail_outbox[0])
    later = time.time() + app.config["PASSWORD_RESET_MAX_AGE"] - 30
    monkeypatch.setattr(itsdangerous.timed, "time", SimpleNamespace(time=lambda: later))
    assert _choose(client, path).status_code == 302


@pytest.mark.parametrize(
    "token",
    ["garbage", "x" * 5000, "eyJ1c2VyIjoxfQ.AAAA.BBBB", "%00", "a%00b", "%3Cscript%3E"],
)
def test_forged_or_broken_links_are_a_friendly_400(client, db_session, token):
    response = client.get(f"/account/reset/{token}")
    assert response.status_code == 400
    assert "does not work" in response.get_data(as_text=True)


def test_a_link_signed_with_another_key_is_refused(client, db_session):
    user = UserFactory()
    token = accounts.make_reset_token(user, "some-other-secret-key")
    assert client.get(f"/account/reset/{token}").status_code == 400


def test_the_typed_address_is_shown_escaped(client, db_session):
    response = _request_reset(client, "a&b'x@example.org")
    assert response.status_code == 200
    text = response.get_data(as_text=True)
    assert "a&amp;b&#39;x@example.org" in text
    assert "a&b'x@" not in text


def test_account_pages_are_not_cached(client, db_session):
    for path in ("/account/login", "/account/signup", "/account/reset", "/account/reset/bad"):
        assert client.get(path).headers["Cache-Control"] == "no-store"
    assert "no-store" not in client.get("/").headers.get("Cache-Control", "")


def test_a_link_dies_when_the_account_is_deactivated(client, db_session, mail_outbox):
    user = UserFactory()
    _request_reset(client, user.email)
    path = _link_path(mail_outbox[0])
    user.is_active_account = False
    db_session.flush()
    assert _choose(client, path).status_code == 400
