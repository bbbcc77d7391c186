"""The campaign list: search, filters, sorting, pages; the home page; the query budget."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest

from charity.services.campaign_stats import campaign_stats
from tests.support.campaigns import DraftCampaignFactory, sign_in
from tests.support.factories import (
    CampaignFactory,
    GiftFactory,
    MembershipFactory,
    QualifiedOrganizationFactory,
)

MARK = "测序标记"  # every title in these tests carries it, so other rows never interfere


def _titles(client, **args) -> list[str]:  # type: ignore[no-untyped-def]
    args.setdefault("q", MARK)
    response = client.get("/campaigns/", query_string=args)
    assert response.status_code == 200
    return re.findall(rf">({MARK}[^<]*)</a></h3>", response.get_data(as_text=True))


@pytest.fixture
def three(db_session, today):  # type: ignore[no-untyped-def]
    hunan = QualifiedOrganizationFactory(province="湖南省", name="湖南省儿童基金会")
    running = CampaignFactory(
        title=f"{MARK}进行中",
        cause="education",
        start_date=today - timedelta(days=5),
        end_date=today + timedelta(days=40),
    )
    ending = CampaignFactory(
        title=f"{MARK}快结束",
        cause="health",
        organization=hunan,
        region="湖南省长沙市",
        start_date=today - timedelta(days=50),
        end_date=today + timedelta(days=2),
    )
    upcoming = CampaignFactory(
        title=f"{MARK}未开始",
        cause="education",
        summary="一个关于图书的项目",
        start_date=today + timedelta(days=5),
        end_date=today + timedelta(days=90),
    )
    closed = CampaignFactory(
        title=f"{MARK}已结束",
        start_date=today - timedelta(days=100),
        end_date=today - timedelta(days=10),
    )
    closed.status = "closed"
    closed.closed_at = datetime.now(UTC)
    DraftCampaignFactory(title=f"{MARK}草稿")
    GiftFactory(campaign=ending, amount_fen=90_000)
    GiftFactory(campaign=running, amount_fen=10_000)
    GiftFactory(campaign=closed, amount_fen=50_000)
    return running, ending, upcoming, closed


def test_the_list_shows_public_campaigns_only(client, three):
    titles = _titles(client)
    assert set(titles) == {f"{MARK}{s}" for s in ("进行中", "快结束", "未开始", "已结束")}


def test_newest_first_by_start_date(client, three):
    assert _titles(client) == [f"{MARK}{s}" for s in ("未开始", "进行中", "快结束", "已结束")]


def test_ending_soon_puts_finished_campaigns_last(client, three):
    assert _titles(client, sort="ending") == [
        f"{MARK}{s}" for s in ("快结束", "进行中", "未开始", "已结束")
    ]


def test_most_raised_first(client, three):
    assert _titles(client, sort="raised")[:3] == [
        f"{MARK}{s}" for s in ("快结束", "已结束", "进行中")
    ]


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        ({"status": "running"}, {"进行中", "快结束"}),
        ({"status": "upcoming"}, {"未开始"}),
        ({"status": "closed"}, {"已结束"}),
        ({"cause": "education"}, {"进行中", "未开始"}),
        ({"province": "湖南省"}, {"快结束"}),
        ({"q": "图书"}, {"未开始"}),
        ({"q": "湖南省儿童"}, {"快结束"}),
        (
            {"status": "nonsense", "cause": "<b>", "sort": "'; drop"},
            {"进行中", "快结束", "未开始", "已结束"},
        ),
    ],
)
def test_filters_and_search(client, three, args, expected):
    titles = _titles(client, **args)
    assert {t.removeprefix(MARK) for t in titles} == expected


def test_search_treats_wildcards_literally(client, three):
    assert _titles(client, q="%") == []
    assert _titles(client, q="_") == []


@pytest.mark.parametrize("args", [{"q": "\x00"}, {"province": "广东\x00省"}, {"q": "a" * 5000}])
def test_hostile_queries_are_harmless(client, three, args):
    assert client.get("/campaigns/", query_string=args).status_code == 200


def test_an_ended_but_unclosed_campaign_counts_as_closed(client, db_session, today):
    CampaignFactory(
        title=f"{MARK}过期",
        start_date=today - timedelta(days=9),
        end_date=today - timedelta(days=1),
    )
    assert _titles(client, status="closed") == [f"{MARK}过期"]
    assert _titles(client, status="running") == []


def test_pages(client, db_session, today):
    for n in range(14):
        CampaignFactory(title=f"{MARK}{n:02d}", start_date=today - timedelta(days=n))
    first = _titles(client)
    second = _titles(client, page=2)
    assert len(first) == 12 and len(second) == 2
    assert not set(first) & set(second)
    assert _titles(client, page="abc") == first
    assert _titles(client, page=-3) == first
    assert _titles(client, page=10**9) == []
    body = client.get("/campaigns/", query_string={"q": MARK, "page": 2}).get_data(as_text=True)
    assert 'rel="prev"' in body and 'rel="next"' not in body


def test_cards_show_progress_and_goal(client, db_session):
    campaign = CampaignFactory(title=f"{MARK}卡片", expected_amount_fen=200_000)
    GiftFactory(campaign=campaign, amount_fen=50_000)
    body = client.get("/campaigns/", query_string={"q": MARK}).get_data(as_text=True)
    assert "¥500.00" in body and "¥2,000.00" in body
    assert '<progress class="campaign-progress" max="100" value="25"' in body


def test_the_header_links_to_the_list(client):
    assert 'href="/campaigns/"' in client.get("/").get_data(as_text=True)


def test_home_features_running_campaigns(client, three):
    body = client.get("/").get_data(as_text=True)
    assert f"{MARK}进行中" in body and f"{MARK}快结束" in body
    assert f"{MARK}未开始" not in body and f"{MARK}已结束" not in body


class TestQueryBudget:
    def _make(self, n):  # type: ignore[no-untyped-def]
        campaigns = [CampaignFactory(title=f"{MARK}{i}") for i in range(n)]
        for campaign in campaigns:
            GiftFactory(campaign=campaign, amount_fen=1_000)
            GiftFactory(
                campaign=campaign, amount_fen=2_000, refunded_fen=500, status="partially_refunded"
            )
        return campaigns

    def test_stats_are_one_query_for_any_number_of_campaigns(self, db_session, count_statements):
        ids = [campaign.id for campaign in self._make(7)]
        db_session.expire_all()
        with count_statements() as counter:
            stats = campaign_stats(db_session, ids)
        assert len(counter.statements) == 1
        assert all(s.raised_fen == 2_500 and s.gift_count == 2 for s in stats.values())

    def test_the_list_page_does_not_grow_with_its_size(self, client, db_session, count_statements):
        self._make(2)
        db_session.expire_all()
        with count_statements() as small:
            client.get("/campaigns/", query_string={"q": MARK})
        self._make(10)
        db_session.expire_all()
        with count_statements() as large:
            body = client.get("/campaigns/", query_string={"q": MARK}).get_data(as_text=True)
        assert body.count('campaign-card"') == 12
        assert len(large.statements) == len(small.statements), large.statements

    def test_the_management_list_does_not_grow_either(self, client, db_session, count_statements):
        org = QualifiedOrganizationFactory()
        owner = MembershipFactory(organization=org, role="owner").user
        sign_in(client, owner)
        CampaignFactory(organization=org)
        db_session.expire_all()
        with count_statements() as small:
            client.get(f"/orgs/{org.id}/campaigns")
        for _ in range(6):
            campaign = CampaignFactory(organization=org)
            GiftFactory(campaign=campaign)
        db_session.expire_all()
        with count_statements() as large:
            assert client.get(f"/orgs/{org.id}/campaigns").status_code == 200
        assert len(large.statements) == len(small.statements)
