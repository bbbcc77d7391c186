"""Fixtures for the compliance tests: organizations with members, real PDFs, logins."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from flask_sqlalchemy.session import Session as FlaskSQLAlchemySession
from fpdf import FPDF

from charity.compliance.obligations import refresh_obligations, status_of
from charity.models.disclosure import Obligation
from tests.factories import (
    CampaignFactory,
    MembershipFactory,
    OrganizationFactory,
    QualifiedOrganizationFactory,
    UserFactory,
)

CST = ZoneInfo("Asia/Shanghai")


def cst_noon(day: date) -> datetime:
    """Noon in China on ``day``, as aware UTC (for time travel and timestamps)."""
    return datetime.combine(day, time(12), tzinfo=CST).astimezone(UTC)


def make_pdf(text: str = "Annual report") -> bytes:
    pdf = FPDF()
    pdf.add_page()
    pdf.set_font("helvetica", size=12)
    pdf.cell(text=text)
    return bytes(pdf.output())


def make_org(qualified: bool = True, registered: date = date(2025, 1, 10), **kwargs):  # type: ignore[no-untyped-def]
    factory = QualifiedOrganizationFactory if qualified else OrganizationFactory
    return factory(reviewed_at=cst_noon(registered), **kwargs)


def member(org, role: str):  # type: ignore[no-untyped-def]
    return MembershipFactory(organization=org, role=role, user=UserFactory()).user


def make_campaign(org, start: date, end: date, **kwargs):  # type: ignore[no-untyped-def]
    kwargs.setdefault("filing_date", start - timedelta(days=20))
    return CampaignFactory(organization=org, start_date=start, end_date=end, **kwargs)


def statuses(session, org_id: int, today: date) -> dict[str, str]:  # type: ignore[no-untyped-def]
    refresh_obligations(session, [org_id], today)
    rows = session.query(Obligation).filter_by(organization_id=org_id).all()
    return {short_key(ob.key): status_of(ob.due_date, ob.fulfilled_on, today) for ob in rows}


def short_key(key: str) -> str:
    """ "rule:<org id>:subject:period" without the organization id, for readable tests."""
    rule, _org_id, rest = key.split(":", 2)
    return f"{rule}:{rest}"


@pytest.fixture(autouse=True)
def _forget_logged_in_user(app):  # type: ignore[no-untyped-def]
    """The suite shares one app context, so Flask-Login's user cached on ``g`` would leak
    from one test's request into the next; forget it around every test."""
    from flask import g

    g.pop("_login_user", None)
    yield
    g.pop("_login_user", None)


def login(client, user) -> None:  # type: ignore[no-untyped-def]
    from flask import g

    g.pop("_login_user", None)
    with client.session_transaction() as session:
        session["_user_id"] = str(user.id)
        session["_fresh"] = True


class _BoundSession(FlaskSQLAlchemySession):
    def get_bind(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        return self.bind


@pytest.fixture
def db_session(app):  # type: ignore[no-untyped-def]
    """Like tests/conftest.py's, but with a Session class that honours ``bind``: Flask-SQLAlchemy's
    Session.get_bind() returns the default engine and ignores ``bind=connection``, so the
    shared fixture's sessions use their own connection and a view's commit() really
    commits (and leaks into later tests). Bound to the test's connection, commits only
    release a SAVEPOINT and everything is rolled back at the end."""
    from charity.extensions import db

    connection = db.engine.connect()
    outer = connection.begin()
    original = db.session
    db.session = db._make_scoped_session(
        {"bind": connection, "join_transaction_mode": "create_savepoint", "class_": _BoundSession}
    )
    try:
        yield db.session
    finally:
        db.session.remove()
        db.session = original
        if outer.is_active:
            outer.rollback()
        connection.close()


@pytest.fixture
def org(db_session):  # type: ignore[no-untyped-def]
    return make_org()


@pytest.fixture
def owner(org):  # type: ignore[no-untyped-def]
    return member(org, "owner")


@pytest.fixture
def en_client(client):  # type: ignore[no-untyped-def]
    with client.session_transaction() as session:
        session["lang"] = "en"
    return client
