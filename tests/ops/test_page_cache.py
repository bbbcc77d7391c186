"""The anonymous campaign page cache: fresh within the TTL, never for members, per language."""

from __future__ import annotations

from datetime import timedelta

import pytest

from charity.web.caching import MemoryPageCache, page_cache
from tests.support.campaigns import sign_in
from tests.support.factories import CampaignFactory, GiftFactory, MembershipFactory

TTL = 0.4


class Clock:
    """Monotonic seconds that move only when the test says so (no wall-clock sleep)."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def cached(app, monkeypatch, clock):  # type: ignore[no-untyped-def]
    monkeypatch.setitem(app.config, "PAGE_CACHE_SECONDS", TTL)
    cache = page_cache(app)
    assert isinstance(cache, MemoryPageCache)  # no REDIS_URL under tests
    monkeypatch.setattr(cache, "clock", clock)
    cache.clear()
    yield cache
    cache.clear()


@pytest.fixture
def campaign(db_session):  # type: ignore[no-untyped-def]
    from charity.core.clock import today_cst

    today = today_cst()
    return CampaignFactory(
        expected_amount_fen=1_000_000,
        start_date=today - timedelta(days=3),
        end_date=today + timedelta(days=20),
    )


def _get(client, campaign, lang="en", **headers):  # type: ignore[no-untyped-def]
    return client.get(f"/campaigns/{campaign.id}?lang={lang}", headers=headers)


def test_a_new_gift_shows_within_the_ttl(client, cached, campaign, clock):
    first = _get(client, campaign)
    assert first.status_code == 200
    assert first.headers["Cache-Control"] == "public, max-age=1"
    assert "Cookie" in first.headers["Vary"]
    assert "¥123.45" not in first.get_data(as_text=True)

    GiftFactory(campaign=campaign, amount_fen=12_345)
    # Within the TTL the cached page (same ETag) is served: the render is reused.
    again = _get(client, campaign)
    assert again.headers["ETag"] == first.headers["ETag"]
    assert "¥123.45" not in again.get_data(as_text=True)

    clock.now += TTL - 0.1  # still within the TTL
    assert _get(client, campaign).headers["ETag"] == first.headers["ETag"]
    clock.now += 0.2  # past it
    fresh = _get(client, campaign)
    assert "¥123.45" in fresh.get_data(as_text=True)
    assert fresh.headers["ETag"] != first.headers["ETag"]


def test_conditional_get_answers_304(client, cached, campaign):
    first = _get(client, campaign)
    second = _get(client, campaign, **{"If-None-Match": first.headers["ETag"]})
    assert second.status_code == 304
    assert second.get_data() == b""


def test_members_never_get_the_anonymous_page(client, cached, campaign):
    anonymous = _get(client, campaign).get_data(as_text=True)
    member = MembershipFactory(organization=campaign.organization, role="owner").user
    sign_in(client, member)
    response = _get(client, campaign)
    page = response.get_data(as_text=True)
    assert page != anonymous
    assert "Post an update" in page
    assert response.headers["Cache-Control"] == "private, no-cache"
    # ...and the member's page does not leak into the anonymous cache either.
    with client.session_transaction() as session:
        session.clear()
    assert "Post an update" not in _get(client, campaign).get_data(as_text=True)


def test_the_language_is_part_of_the_key(client, cached, campaign):
    english = _get(client, campaign, lang="en").get_data(as_text=True)
    chinese = _get(client, campaign, lang="zh").get_data(as_text=True)
    assert english != chinese
    assert 'lang="zh-Hans"' in chinese
    assert 'lang="en"' in english
    assert _get(client, campaign, lang="en").get_data(as_text=True) == english


def test_anonymous_visitors_get_no_session_cookie(client, cached, campaign):
    client.get(f"/campaigns/{campaign.id}")
    response = client.get(f"/campaigns/{campaign.id}")
    assert "Set-Cookie" not in response.headers


def test_a_draft_is_never_cached_for_anyone(client, cached, db_session):
    from tests.support.campaigns import DraftCampaignFactory

    draft = DraftCampaignFactory()
    assert client.get(f"/campaigns/{draft.id}").status_code == 404
    assert client.get(f"/campaigns/{draft.id}").status_code == 404


def test_with_redis_the_cache_is_shared_and_expires(make_app, redis_url):  # type: ignore[no-untyped-def]
    import uuid

    from charity.web.caching import RedisPageCache

    cache = page_cache(make_app(REDIS_URL=redis_url))
    other_worker = page_cache(make_app(REDIS_URL=redis_url))
    assert isinstance(cache, RedisPageCache)
    shared, expiring = f"test:{uuid.uuid4().hex}", f"test:{uuid.uuid4().hex}"
    cache.set(shared, b"page", 30)
    cache.set(expiring, b"page", 0.2)
    # Another worker (another app object on the same Redis) sees the same entry.
    assert other_worker.get(shared) == b"page"
    # Redis itself expires the entry after its TTL (no wall-clock wait in the test).
    assert 0 < cache.connection.pttl(cache.prefix + expiring) <= 200
    assert 29_000 < cache.connection.pttl(cache.prefix + shared) <= 30_000
    cache.connection.delete(cache.prefix + expiring)
    cache.connection.delete(cache.prefix + shared)
    cache.connection.close()
    other_worker.connection.close()


def test_a_redis_outage_is_a_cache_miss(app):  # type: ignore[no-untyped-def]
    from redis import Redis

    from charity.web.caching import RedisPageCache
    from tests.support.ops import free_port

    down = Redis.from_url(f"redis://127.0.0.1:{free_port()}/0", socket_connect_timeout=0.2)
    cache = RedisPageCache(down)
    with app.app_context():
        cache.set("k", b"v", 1)
        assert cache.get("k") is None
    down.close()
