"""Bad input on every accounts form field: a field error with a 4xx, never a 500, nothing stored."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from charity.models import LoginAttempt, User
from charity.services import accounts
from tests.support.factories import PASSWORD, UserFactory, log_in

NEW = "a perfectly fine password"
HTML = "<script>alert(1)</script>"
BAD_EMAILS = ["plainaddress", "a@", "@example.org", "a b@example.org", "a@b@example.org"]

#: form -> (fields with valid values, email fields, fields that must match)
FORMS: dict[str, tuple[dict[str, str], tuple[str, ...], tuple[str, str] | None]] = {
    "signup": (
        {"name": "李华", "email": "lihua@example.org", "password": NEW, "confirm": NEW},
        ("email",),
        ("password", "confirm"),
    ),
    "login": ({"email": "existing@example.org", "password": PASSWORD}, ("email",), None),
    "change_password": (
        {"current_password": PASSWORD, "new_password": NEW, "confirm": NEW},
        (),
        ("new_password", "confirm"),
    ),
    "reset_request": ({"email": "existing@example.org"}, ("email",), None),
    "reset_password": ({"password": NEW, "confirm": NEW}, (), ("password", "confirm")),
}
#: fields whose value is a new password (too short is an error there)
NEW_PASSWORD_FIELDS = {
    ("signup", "password"),
    ("change_password", "new_password"),
    ("reset_password", "password"),
}


def _cases():  # type: ignore[no-untyped-def]
    for form, (fields, email_fields, pair) in FORMS.items():
        for field in fields:
            yield form, field, "", "empty"
            yield form, field, "   ", "blank"
            yield form, field, "x" * 5000, "5000 characters"
            yield form, field, "abcdef\x00ghijkl", "NUL byte"
            if field in email_fields or field == "name":
                yield form, field, HTML, "HTML"
            if field in email_fields:
                yield form, field, "é" * 250 + "@example.org", "too long email"
                for bad in BAD_EMAILS:
                    yield form, field, bad, f"bad email {bad}"
            if (form, field) in NEW_PASSWORD_FIELDS:
                yield form, field, "short", "too short"
        if pair:
            yield form, pair[1], "something else entirely", "mismatch"


CASES = [pytest.param(*case[:3], id=f"{case[0]}-{case[1]}-{case[3]}") for case in _cases()]


@pytest.fixture
def setup(client, db_session, app):  # type: ignore[no-untyped-def]
    """Returns form -> URL, with a user logged in where the form needs one."""
    user = UserFactory(email="existing@example.org")
    log_in(client, user)
    token = accounts.make_reset_token(user, app.config["SECRET_KEY"])
    return {
        "signup": "/account/signup",
        "login": "/account/login",
        "change_password": "/account/password",
        "reset_request": "/account/reset",
        "reset_password": f"/account/reset/{token}",
    }


def _stored(db_session, mail_outbox):  # type: ignore[no-untyped-def]
    users = db_session.execute(select(User.id, User.email, User.name, User.password_hash)).all()
    attempts = db_session.scalar(select(func.count()).select_from(LoginAttempt))
    return sorted(users), attempts, len(mail_outbox)


@pytest.mark.parametrize(("form", "field", "value"), CASES)
def test_bad_input_is_a_field_error(client, db_session, mail_outbox, setup, form, field, value):
    data = dict(FORMS[form][0])
    data[field] = value
    before = _stored(db_session, mail_outbox)
    response = client.post(setup[form], data=data)
    text = response.get_data(as_text=True)
    assert response.status_code == 400, text
    assert f'id="{field}-error"' in text
    assert HTML not in text  # never reflected unescaped
    db_session.expire_all()
    assert _stored(db_session, mail_outbox) == before


@pytest.mark.parametrize("form", list(FORMS))
def test_the_valid_values_are_accepted(client, db_session, setup, form):
    """The baseline used above is valid, so each bad-input case fails for its one field."""
    response = client.post(setup[form], data=FORMS[form][0])
    assert response.status_code in (200, 302), response.get_data(as_text=True)
    assert "-error" not in response.get_data(as_text=True)


def test_html_in_a_password_is_a_fine_password(client, db_session):
    password = "<b>" + HTML + "</b>"
    response = client.post(
        "/account/signup",
        data={
            "name": "Alice",
            "email": "alice@example.org",
            "password": password,
            "confirm": password,
        },
    )
    assert response.status_code == 200  # "check your email"
    response = client.post(
        "/account/login", data={"email": "alice@example.org", "password": password}
    )
    assert response.status_code == 302


def test_chinese_name_and_internationalized_email(client, db_session):
    response = client.post(
        "/account/signup",
        data={"name": "欧阳娜娜", "email": "nana@例子.中国", "password": NEW, "confirm": NEW},
    )
    assert response.status_code == 200  # "check your email"
    assert db_session.scalar(select(User.name).where(User.email == "nana@例子.中国")) == "欧阳娜娜"


def test_oversized_request_body_is_a_friendly_413(client, db_session, app):
    response = client.post(
        "/account/login",
        data={"email": "a@example.org", "password": "x" * (app.config["MAX_CONTENT_LENGTH"] + 1)},
    )
    assert response.status_code == 413
    assert "Traceback" not in response.get_data(as_text=True)
