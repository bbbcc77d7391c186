"""Fixtures for the compliance tests: organizations with members, real PDFs, logins."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pytest
from fpdf import FPDF

from charity.compliance.obligations.refresh import refresh_obligations
from charity.compliance.rules.deadlines import status_of
from charity.core.clock import CST
from charity.models.disclosure import Obligation
from tests.support.factories import (
    CampaignFactory,
    MembershipFactory,
    OrganizationFactory,
    QualifiedOrganizationFactory,
    UserFactory,
    session_id,
)


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


def login(client, user) -> None:  # type: ignore[no-untyped-def]
    from flask import g

    g.pop("_login_user", None)
    with client.session_transaction() as session:
        session["_user_id"] = session_id(user)
        session["_fresh"] = True


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


@pytest.fixture
def english(app):  # type: ignore[no-untyped-def]
    """Messages (lazy strings) evaluated in English, whatever the catalog holds."""
    with app.test_request_context("/?lang=en"):
        yield
