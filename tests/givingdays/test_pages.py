"""The giving-day pages: event page, teams and their links, hiding, the match on the
result page and receipt, the sponsor's page, admin events and pools, pledges; bad input
is a clear error with nothing changed (both databases)."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from charity.core.clock import today_cst
from charity.extensions import db
from charity.models import (
    AuditEntry,
    Donation,
    GivingDay,
    GivingDayCampaign,
    MatchingPool,
    Pledge,
    Team,
)
from charity.services import givingdays, receipts
from tests.support.factories import MembershipFactory, UserFactory
from tests.support.givingdays import company_uscc, give, make_day, succeed


def _team(day, name="越秀跑团"):  # type: ignore[no-untyped-def]
    return givingdays.create_team(
        db.session, UserFactory(), givingdays.NewTeam(day.campaign.id, name, 100_000, "一起来")
    )


def test_supporter_creates_a_team_and_a_gift_through_its_link_counts(client, login, day):  # type: ignore[no-untyped-def]
    supporter = UserFactory()
    login(supporter)
    page = client.get(f"/campaigns/{day.campaign.id}/teams/new")
    assert page.status_code == 200
    response = client.post(
        f"/campaigns/{day.campaign.id}/teams/new",
        data={"name": "越秀跑团", "goal": "1000", "message": "一起来！"},
    )
    assert response.status_code == 302
    team = db.session.scalars(sa.select(Team)).one()
    assert (team.creator_id, team.goal_fen) == (supporter.id, 100_000)
    html = client.get(f"/teams/{team.id}").get_data(as_text=True)
    assert f"/campaigns/{day.campaign.id}/donate?team={team.id}" in html
    assert "<svg" in html  # the QR code to share
    login(None)
    form = client.get(f"/campaigns/{day.campaign.id}/donate?team={team.id}")
    assert "越秀跑团" in form.get_data(as_text=True)
    response = client.post(
        f"/campaigns/{day.campaign.id}/donate?team={team.id}",
        data={
            "amount": "5000",
            "donor_name": "王小明",
            "donor_email": "wang@example.org",
            "receipt_wanted": "y",
            "method": "stripe",
        },
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    gift = db.session.scalars(sa.select(Donation)).one()
    assert gift.team_id == team.id
    gift.stripe_payment_intent_id = gift.stripe_payment_intent_id or f"pi_gd_{gift.id}"
    db.session.flush()
    succeed(gift)
    html = client.get(f"/teams/{team.id}").get_data(as_text=True)
    assert "¥50.00" in html


def test_bad_team_input_is_refused_without_a_500(client, login, day):  # type: ignore[no-untyped-def]
    login(UserFactory())
    response = client.post(
        f"/campaigns/{day.campaign.id}/teams/new", data={"name": "", "goal": "abc"}
    )
    assert response.status_code == 400
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Team)) == 0
    login(None)
    response = client.get(f"/campaigns/{day.campaign.id}/teams/new")
    assert response.status_code == 302  # to the login page


def test_a_bogus_team_param_gives_no_credit(client, day):  # type: ignore[no-untyped-def]
    for value in ("999999", "abc", "-1"):
        assert client.get(f"/campaigns/{day.campaign.id}/donate?team={value}").status_code == 200


def test_result_page_and_receipt_show_the_match(client, day):  # type: ignore[no-untyped-def]
    gift = give(day.campaign, 5000)
    html = client.get(f"/donations/{gift.public_token}").get_data(as_text=True)
    assert "Your ¥50.00 earned ¥50.00 in matching funds" in html
    assert "示例科技有限公司" in html
    lines = dict(receipts.receipt_lines(gift))
    assert any("¥50.00" in v and "示例科技有限公司" in v for v in lines.values())


@pytest.mark.chinese
def test_result_page_in_chinese(client, day):  # type: ignore[no-untyped-def]
    gift = give(day.campaign, 5000)
    html = client.get(f"/donations/{gift.public_token}").get_data(as_text=True)
    assert "您的 ¥50.00 获得 ¥50.00 配捐" in html


def test_campaign_page_shows_matched_money_and_team_board(client, day):  # type: ignore[no-untyped-def]
    team = _team(day)
    give(day.campaign, 5000, team_id=team.id)
    html = client.get(f"/campaigns/{day.campaign.id}").get_data(as_text=True)
    assert "plus ¥50.00 in matching funds" in html
    assert "越秀跑团" in html and f"/teams/{team.id}" in html


def test_event_page_totals_boards_and_overdue_pledge(client, day):  # type: ignore[no-untyped-def]
    team = _team(day)
    give(day.campaign, 5000, "a@example.org", team_id=team.id)
    give(day.campaign, 3000, "b@example.org")
    finance = MembershipFactory(organization=day.campaign.organization, role="finance").user
    for n, due in ((1, today_cst() - timedelta(days=3)), (2, today_cst() + timedelta(days=30))):
        givingdays.record_pledge(
            db.session,
            finance,
            givingdays.NewPledge(
                day.event.id,
                day.campaign.organization_id,
                f"示例企业{n}有限公司",
                company_uscc(n),
                1_000_000,
                due,
            ),
        )
    html = client.get(f"/events/{day.event.id}").get_data(as_text=True)
    assert 'class="event-raised">¥80.00' in html  # pledges are not raised
    assert 'class="event-gifts">2' in html
    assert 'class="event-matched">¥80.00' in html
    assert day.campaign.title in html and "越秀跑团" in html and "广东省" in html
    assert html.count("Overdue") == 1
    assert "示例企业1有限公司" in html


def test_event_page_is_cached_for_anonymous_visitors(client, app, day):  # type: ignore[no-untyped-def]
    app.config["PAGE_CACHE_SECONDS"] = 30
    try:
        first = client.get(f"/events/{day.event.id}")
        assert "public" in first.headers["Cache-Control"]
        give(day.campaign, 5000)
        second = client.get(f"/events/{day.event.id}")
        assert second.get_data() == first.get_data()  # at most PAGE_CACHE_SECONDS old
    finally:
        app.config.pop("PAGE_CACHE_SECONDS")
        from charity.web.caching import page_cache

        page_cache(app).clear()


def test_organization_hides_a_team_with_a_reason(client, login, day):  # type: ignore[no-untyped-def]
    team = _team(day)
    login(UserFactory())
    assert client.post(f"/teams/{team.id}/hide", data={"reason": "x"}).status_code == 403
    login(day.owner)
    response = client.post(f"/teams/{team.id}/hide", data={"reason": "名称含广告"})
    assert response.status_code == 302
    assert db.session.get(Team, team.id).hidden
    assert (
        db.session.scalar(
            sa.select(sa.func.count())
            .select_from(AuditEntry)
            .where(AuditEntry.event_type == "team.hidden")
        )
        == 1
    )
    login(None)
    assert client.get(f"/teams/{team.id}").status_code == 410


def test_sponsor_page_lists_every_match(client, day):  # type: ignore[no-untyped-def]
    gift = give(day.campaign, 5000)
    html = client.get(f"/pools/{day.pool.id}").get_data(as_text=True)
    assert f"#{gift.id}" in html and day.campaign.title in html
    assert "not spent yet: ¥50.00" in html


def test_admin_creates_an_event_accepts_a_campaign_and_adds_a_pool(client, login, db_session):  # type: ignore[no-untyped-def]
    day = make_day()
    login(day.admin)
    response = client.post(
        "/admin/events",
        data={
            "name": "九九公益日",
            "theme": "一起捐",
            "start_date": today_cst().isoformat(),
            "end_date": (today_cst() + timedelta(days=2)).isoformat(),
        },
    )
    assert response.status_code == 302
    event = db.session.scalars(sa.select(GivingDay).where(GivingDay.name == "九九公益日")).one()
    login(day.owner)
    response = client.post(
        f"/orgs/{day.campaign.organization_id}/events/{event.id}/apply",
        data={"campaign_id": day.campaign.id},
    )
    assert response.status_code == 302
    entry = db.session.scalars(
        sa.select(GivingDayCampaign).where(GivingDayCampaign.event_id == event.id)
    ).one()
    login(day.admin)
    client.post(
        f"/admin/events/{event.id}/decide", data={"entry_id": entry.id, "decision": "accept"}
    )
    db.session.refresh(entry)
    assert entry.status == "accepted"
    bad = client.post(
        f"/admin/events/{event.id}",
        data={
            "organization_id": day.pool.organization_id,
            "sponsor_name": "示例",
            "total": "1000",
            "ratio_percent": "100",
            "windows": "9-12",
        },
    )
    assert bad.status_code == 400
    response = client.post(
        f"/admin/events/{event.id}",
        data={
            "organization_id": day.pool.organization_id,
            "sponsor_name": "示例科技有限公司",
            "total": "1000",
            "ratio_percent": "50",
            "cap_per_gift": "20",
            "windows": "00:00-24:00",
            "campaign_ids": [day.campaign.id],
        },
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    pools = db.session.scalars(
        sa.select(MatchingPool).where(MatchingPool.event_id == event.id)
    ).all()
    assert [(p.total_fen, p.ratio_percent, p.cap_per_gift_fen, p.restricted) for p in pools] == [
        (100_000, 50, 2000, True)
    ]
    login(day.owner)
    assert client.get(f"/admin/events/{event.id}").status_code == 403


def test_organization_records_and_links_pledges(client, login, day):  # type: ignore[no-untyped-def]
    finance = MembershipFactory(organization=day.campaign.organization, role="finance").user
    login(finance)
    org_id = day.campaign.organization_id
    base = {
        "event_id": day.event.id,
        "company_name": "示例建材有限公司",
        "amount": "10000",
        "due_date": (today_cst() + timedelta(days=10)).isoformat(),
        "campaign_id": "0",
    }
    bad = client.post(f"/orgs/{org_id}/pledges", data={**base, "company_uscc": "123"})
    assert bad.status_code == 400
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Pledge)) == 0
    response = client.post(
        f"/orgs/{org_id}/pledges", data={**base, "company_uscc": company_uscc(5)}
    )
    assert response.status_code == 302
    pledge = db.session.scalars(sa.select(Pledge)).one()
    gift = give(day.campaign, 400_000, "co@example.com")
    client.post(
        f"/orgs/{org_id}/pledges/link", data={"pledge_id": pledge.id, "donation_id": gift.id}
    )
    db.session.refresh(gift)
    assert gift.pledge_id == pledge.id
    html = client.get(f"/orgs/{org_id}/pledges").get_data(as_text=True)
    assert "¥4,000.00" in html
    login(UserFactory())
    assert client.get(f"/orgs/{org_id}/pledges").status_code == 403


def test_organization_page_publishes_pledged_vs_received(client, day):  # type: ignore[no-untyped-def]
    finance = MembershipFactory(organization=day.campaign.organization, role="finance").user
    pledge = givingdays.record_pledge(
        db.session,
        finance,
        givingdays.NewPledge(
            day.event.id,
            day.campaign.organization_id,
            "示例建材有限公司",
            company_uscc(9),
            1_000_000,
            today_cst() - timedelta(days=1),
        ),
    )
    gift = give(day.campaign, 250_000, "co@example.com")
    givingdays.link_gift(db.session, finance, pledge.id, gift.id)
    html = client.get(f"/orgs/{day.campaign.organization_id}").get_data(as_text=True)
    assert "Pledged ¥10,000.00, received ¥2,500.00" in html
    assert "Overdue" in html and "示例建材有限公司" in html
