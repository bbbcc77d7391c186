"""Fixtures for the organizations area."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
import sqlalchemy as sa
from flask import g, request_started
from flask_sqlalchemy.session import Session as FlaskSQLAlchemySession

from charity import events
from charity.extensions import db
from charity.i18n import LANG_SESSION_KEY
from charity.models import User
from tests.factories import make_uscc


class _ConnectionBoundSession(FlaskSQLAlchemySession):
    def get_bind(self, mapper=None, clause=None, bind=None, **kwargs):  # type: ignore[no-untyped-def]
        return bind if bind is not None else self.bind


@pytest.fixture
def db_session(app) -> Iterator[sa.orm.scoped_session]:  # type: ignore[no-untyped-def]
    """As tests/conftest.py's, but the session really uses the test's connection.

    Flask-SQLAlchemy's Session.get_bind() ignores ``bind=`` and returns the engine, so
    the views' commits went to a separate connection and outlived the test.
    """
    connection = db.engine.connect()
    outer = connection.begin()
    original = db.session
    db.session = db._make_scoped_session(
        {
            "bind": connection,
            "join_transaction_mode": "create_savepoint",
            "class_": _ConnectionBoundSession,
        }
    )
    try:
        yield db.session
    finally:
        db.session.remove()
        db.session = original
        if outer.is_active:
            outer.rollback()
        connection.close()


@pytest.fixture(autouse=True)
def _fresh_login_per_request(app) -> Iterator[None]:  # type: ignore[no-untyped-def]
    """The session-wide app context of tests/conftest.py makes ``g`` outlive a request, so
    Flask-Login's cached ``g._login_user`` would leak between requests and tests; a real
    server has one app context per request. Forget it at every request start."""

    def forget(sender, **extra):  # type: ignore[no-untyped-def]
        g.pop("_login_user", None)

    g.pop("_login_user", None)
    with request_started.connected_to(forget, app):
        yield
    g.pop("_login_user", None)


@pytest.fixture(autouse=True)
def _english_pages(request) -> None:  # type: ignore[no-untyped-def]
    """Assertions read English messages; they must not break when the catalog is translated."""
    if "client" in request.fixturenames:
        client = request.getfixturevalue("client")
        with client.session_transaction() as session:
            session[LANG_SESSION_KEY] = "en"


@pytest.fixture
def login(client) -> Callable[[User], None]:  # type: ignore[no-untyped-def]
    """Log a user in through Flask-Login's session keys (the login form is tested elsewhere)."""

    def log_in(user: User | None) -> None:
        """Log ``user`` in, or log out with None."""
        with client.session_transaction() as session:
            if user is None:
                session.pop("_user_id", None)
                return
            session["_user_id"] = user.get_id()
            session["_fresh"] = True

    return log_in


@pytest.fixture
def recorded_events() -> Iterator[list[events.Event]]:
    """Every event recorded during the test, via a real subscriber."""
    seen: list[events.Event] = []

    def handler(session, event):  # type: ignore[no-untyped-def]
        seen.append(event)

    events.subscribe(handler)
    try:
        yield seen
    finally:
        events._subscribers.remove(handler)


@pytest.fixture
def application_form() -> dict[str, str]:
    """A complete, valid application as a browser would post it."""
    return {
        "name": "广州市海珠区邻里互助会",
        "uscc": make_uscc("1", 777),
        "registration_authority": "广州市海珠区民政局",
        "province": "广东省",
        "city": "广州市",
        "district": "海珠区",
        "address": "广州市海珠区江南大道 1 号",
        "contact_name": "林小姐",
        "contact_phone": "020-84440000",
        "contact_email": "Contact@Example.org",
        "website": "https://example.org",
        "description_md": "我们组织**邻里互助**。",
        "qualification_number": "",
        "qualification_authority": "",
        "qualification_date": "",
    }
