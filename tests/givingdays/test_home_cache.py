"""The home page, the entry point on a giving day, is cached for anonymous visitors like
the campaign page: one render per PAGE_CACHE_SECONDS, and no visitor's query string in the
shared page (the language link names the path only)."""

from __future__ import annotations

import pytest

from charity.web.caching import page_cache


@pytest.fixture
def cache_on(app):  # type: ignore[no-untyped-def]
    app.config["PAGE_CACHE_SECONDS"] = 30
    page_cache(app).clear()
    yield
    app.config.pop("PAGE_CACHE_SECONDS")
    page_cache(app).clear()


def test_anonymous_home_page_is_shared_and_names_no_query_string(client, cache_on):  # type: ignore[no-untyped-def]
    first = client.get("/?from=visitor-a-secret")
    assert "public" in first.headers["Cache-Control"]
    body = first.get_data(as_text=True)
    assert "visitor-a-secret" not in body
    assert "next=/" in body or "next=%2F" in body
    second = client.get("/?from=visitor-b")
    assert second.get_data() == first.get_data()
    assert second.headers["ETag"] == first.headers["ETag"]


def test_logged_in_home_page_is_private(client, login, db_session, cache_on):  # type: ignore[no-untyped-def]
    from tests.support.factories import UserFactory

    login(UserFactory())
    response = client.get("/?q=1")
    assert response.headers["Cache-Control"] == "private, no-cache"
    assert "q%3D1" in response.get_data(as_text=True) or "q=1" in response.get_data(as_text=True)
