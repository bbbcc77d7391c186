"""Accounts through the browser: sign up, log in and out, the account page, password change."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from charity.models import User
from tests.support.factories import (
    PASSWORD,
    MembershipFactory,
    OrganizationFactory,
    UserFactory,
    log_in,
    open_verification_link,
)

NEW_PASSWORD = "a brand new passphrase"


def _signup(client, **overrides):  # type: ignore[no-untyped-def]
    data = {
        "name": "王小明",
        "email": "xiaoming@example.org",
        "password": "long enough password",
        "confirm": "long enough password",
    }
    data.update(overrides)
    return client.post("/account/signup", data=data)


def _user_count(db_session) -> int:  # type: ignore[no-untyped-def]
    return db_session.scalar(select(func.count()).select_from(User))


def test_sign_up_mails_a_link_that_confirms_the_address_and_logs_in(
    client, db_session, mail_outbox
):
    response = _signup(client, email="  XiaoMing@Example.org ")
    assert response.status_code == 200
    assert "Check your email" in response.get_data(as_text=True)
    user = db_session.scalar(select(User).where(User.email == "xiaoming@example.org"))
    assert user is not None and user.platform_role == "donor"
    assert user.email_verified_at is None
    assert user.password_hash.startswith("$argon2id$")
    assert "long enough password" not in user.password_hash
    assert client.get("/account/").status_code == 302  # not logged in before the link
    opened = open_verification_link(client, mail_outbox)
    assert opened.status_code == 302 and opened.headers["Location"] == "/account/"
    assert user.email_verified_at is not None
    page = client.get("/account/").get_data(as_text=True)
    assert "xiaoming@example.org" in page
    # the link logs in only the first time
    client.post("/account/logout")
    assert open_verification_link(client, mail_outbox).headers["Location"] == "/"
    assert client.get("/account/").status_code == 302


def test_sign_up_with_a_registered_address_says_the_same(client, db_session, mail_outbox):
    """No account discovery: the page is the same; the mail goes to the account's owner."""
    UserFactory(email="taken@example.org")
    before = _user_count(db_session)
    taken = _signup(client, email="Taken@Example.ORG")
    fresh = _signup(client, email="fresh@example.org")
    assert taken.status_code == fresh.status_code == 200
    texts = [r.get_data(as_text=True) for r in (taken, fresh)]
    assert texts[0].replace("Taken@Example.ORG", "X") == texts[1].replace("fresh@example.org", "X")
    assert "already" not in texts[0]
    assert _user_count(db_session) == before + 1
    assert mail_outbox[0]["Subject"] == "You already have an account"


def test_log_in_and_out(client, db_session):
    user = UserFactory()
    response = client.post("/account/login", data={"email": user.email, "password": PASSWORD})
    assert response.status_code == 302
    assert client.get("/account/").status_code == 200
    response = client.post("/account/logout")
    assert response.status_code == 302
    assert client.get("/account/").status_code == 302  # back to the login page


def test_log_in_is_case_insensitive_on_the_email(client, db_session):
    user = UserFactory(email="mixed@example.org")
    response = client.post(
        "/account/login", data={"email": "MIXED@example.org", "password": PASSWORD}
    )
    assert response.status_code == 302
    assert client.get("/account/").status_code == 200
    assert user.email == "mixed@example.org"


def test_wrong_password_is_a_field_error(client, db_session):
    user = UserFactory()
    response = client.post("/account/login", data={"email": user.email, "password": "wrong one!"})
    assert response.status_code == 400
    assert "Wrong email or password." in response.get_data(as_text=True)
    assert client.get("/account/").status_code == 302


def test_unknown_email_gets_the_same_message_as_a_wrong_password(client, db_session):
    response = client.post(
        "/account/login", data={"email": "nobody@example.org", "password": "whatever12"}
    )
    assert response.status_code == 400
    assert "Wrong email or password." in response.get_data(as_text=True)


def test_deactivated_account_cannot_log_in_and_loses_its_session(client, db_session):
    user = UserFactory()
    log_in(client, user)
    user.is_active_account = False
    db_session.flush()
    assert client.get("/account/").status_code == 302
    response = client.post("/account/login", data={"email": user.email, "password": PASSWORD})
    assert response.status_code == 400


def test_logout_only_accepts_post(client, db_session):
    log_in(client, UserFactory())
    assert client.get("/account/logout").status_code == 405
    assert client.get("/account/").status_code == 200


def test_anonymous_account_page_redirects_to_login_with_next(client, db_session):
    response = client.get("/account/")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/account/login?next=")


@pytest.mark.parametrize(
    ("next_value", "expected"),
    [
        ("/account/password", "/account/password"),
        ("/lang/en?next=/", "/lang/en?next=/"),
        ("https://evil.example/", "/account/gifts"),  # a donor's landing page (issue 17.3)
        ("//evil.example/", "/account/gifts"),  # a donor's landing page (issue 17.3)
        ("/\\evil.example", "/account/gifts"),  # a donor's landing page (issue 17.3)
        ("\\\\evil.example", "/account/gifts"),  # a donor's landing page (issue 17.3)
        ("javascript:alert(1)", "/account/gifts"),  # a donor's landing page (issue 17.3)
        ("http:/evil.example", "/account/gifts"),  # a donor's landing page (issue 17.3)
        ("", "/account/gifts"),  # a donor's landing page (issue 17.3)
    ],
)
def test_next_redirect_stays_on_this_site(client, db_session, next_value, expected):
    user = UserFactory()
    response = client.post(
        "/account/login",
        query_string={"next": next_value},
        data={"email": user.email, "password": PASSWORD},
    )
    assert response.status_code == 302
    assert response.headers["Location"] == expected


def test_logged_in_user_visiting_login_or_signup_goes_to_the_account(client, db_session):
    log_in(client, UserFactory())
    for path, landing in (("/account/login", "/account/gifts"), ("/account/signup", "/account/")):
        response = client.get(path)
        assert response.status_code == 302
        assert response.headers["Location"] == landing


def test_account_page_shows_organizations_roles_and_platform_role(client, db_session):
    user = UserFactory(name="陈会计")
    MembershipFactory(user=user, organization=OrganizationFactory(name="甲基金会"), role="finance")
    MembershipFactory(user=user, organization=OrganizationFactory(name="乙慈善会"), role="owner")
    OrganizationFactory(name="丙社工中心")  # not a member
    log_in(client, user)
    page = client.get("/account/?lang=en").get_data(as_text=True)
    assert "甲基金会" in page and "乙慈善会" in page
    assert "丙社工中心" not in page
    assert "Finance" in page and "Owner" in page
    assert "Donor" in page


def test_account_page_of_a_scoped_regulator(client, db_session):
    user = UserFactory(platform_role="regulator", regulator_province="广东省")
    log_in(client, user)
    page = client.get("/account/?lang=en").get_data(as_text=True)
    assert "Regulator" in page and "广东省" in page
    assert "not a member of any organization" in page


def test_change_password(client, db_session, mail_outbox):
    user = UserFactory()
    log_in(client, user)
    response = client.post(
        "/account/password",
        data={"current_password": PASSWORD, "new_password": NEW_PASSWORD, "confirm": NEW_PASSWORD},
    )
    assert response.status_code == 302
    assert client.get("/account/").status_code == 200  # this session lives on
    client.post("/account/logout")
    bad = client.post("/account/login", data={"email": user.email, "password": PASSWORD})
    assert bad.status_code == 400
    log_in(client, user, NEW_PASSWORD)
    assert [m["To"] for m in mail_outbox] == [user.email]
    assert "changed" in mail_outbox[0]["Subject"]


def test_change_password_needs_the_current_password(client, db_session, mail_outbox):
    user = UserFactory()
    hash_before = user.password_hash
    log_in(client, user)
    response = client.post(
        "/account/password",
        data={
            "current_password": "not my pass",
            "new_password": NEW_PASSWORD,
            "confirm": NEW_PASSWORD,
        },
    )
    assert response.status_code == 400
    assert "current password is wrong" in response.get_data(as_text=True)
    db_session.refresh(user)
    assert user.password_hash == hash_before
    assert mail_outbox == []


def test_change_password_to_the_same_password_is_refused(client, db_session):
    user = UserFactory()
    log_in(client, user)
    response = client.post(
        "/account/password",
        data={"current_password": PASSWORD, "new_password": PASSWORD, "confirm": PASSWORD},
    )
    assert response.status_code == 400
    assert "different from the current one" in response.get_data(as_text=True)


def test_change_password_needs_login(client, db_session):
    response = client.get("/account/password")
    assert response.status_code == 302
    assert "/account/login?next=" in response.headers["Location"]


def test_password_change_logs_out_other_sessions_and_remember_cookies(app, client, db_session):
    user = UserFactory()
    other_device = app.test_client()
    other_device.post(
        "/account/login", data={"email": user.email, "password": PASSWORD, "remember": "y"}
    )
    assert other_device.get("/account/").status_code == 200
    assert other_device.get_cookie("remember_token") is not None
    log_in(client, user)
    client.post(
        "/account/password",
        data={"current_password": PASSWORD, "new_password": NEW_PASSWORD, "confirm": NEW_PASSWORD},
    )
    assert client.get("/account/").status_code == 200
    # The old session cookie carries the old stamp: refused.
    assert other_device.get("/account/").status_code == 302
    # So does the remember-me cookie, once the session is gone.
    other_device.delete_cookie("session")
    assert other_device.get_cookie("remember_token") is not None
    assert other_device.get("/account/").status_code == 302


def test_remember_me_cookie_restores_a_session(app, db_session):
    user = UserFactory()
    device = app.test_client()
    device.post("/account/login", data={"email": user.email, "password": PASSWORD, "remember": "y"})
    device.delete_cookie("session")
    assert device.get("/account/").status_code == 200


def test_session_id_carries_a_password_stamp(client, db_session):
    user = UserFactory()
    log_in(client, user)
    with client.session_transaction() as session:
        assert session["_user_id"].startswith(f"{user.id}:{user.session_stamp}:")
        session["_user_id"] = str(user.id)  # a bare id (no stamp) is not a session
    assert client.get("/account/").status_code == 302


def test_session_protection_marks_a_moved_session_not_fresh(client, db_session):
    log_in(client, UserFactory())
    with client.session_transaction() as session:
        assert session.get("_fresh") is True
    response = client.get("/account/", environ_base={"REMOTE_ADDR": "203.0.113.9"})
    assert response.status_code == 200
    with client.session_transaction() as session:
        assert session.get("_fresh") is False
