"""Fixtures for the compliance tests: organizations with members, real PDFs, logins."""

from __future__ import annotations

import pytest

from tests.support.compliance import make_org, member


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
