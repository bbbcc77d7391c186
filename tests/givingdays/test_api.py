"""Giving days in the public API and its OpenAPI document (both databases)."""

from __future__ import annotations

from datetime import timedelta

from charity.core.clock import today_cst
from charity.extensions import db
from charity.services import givingdays
from tests.support.factories import MembershipFactory, UserFactory
from tests.support.givingdays import company_uscc, give


def test_events_pools_teams_and_pledges(client, day):  # type: ignore[no-untyped-def]
    team = givingdays.create_team(
        db.session, UserFactory(), givingdays.NewTeam(day.campaign.id, "越秀跑团", 100_000)
    )
    hidden = givingdays.create_team(
        db.session, UserFactory(), givingdays.NewTeam(day.campaign.id, "广告队", 100_000)
    )
    givingdays.hide_team(db.session, day.owner, hidden.id, "广告")
    give(day.campaign, 5000, team_id=team.id)
    finance = MembershipFactory(organization=day.campaign.organization, role="finance").user
    givingdays.record_pledge(
        db.session,
        finance,
        givingdays.NewPledge(
            day.event.id,
            day.campaign.organization_id,
            "示例建材有限公司",
            company_uscc(3),
            1_000_000,
            today_cst() - timedelta(days=1),
        ),
    )
    db.session.commit()
    events = client.get("/api/v1/giving_days").get_json()["items"]
    assert [(e["id"], e["campaign_ids"]) for e in events] == [(day.event.id, [day.campaign.id])]
    pools = client.get(f"/api/v1/matching_pools?event={day.event.id}").get_json()["items"]
    assert [(p["total_fen"], p["allocated_fen"], p["remaining_fen"]) for p in pools] == [
        (100_000, 5000, 95_000)
    ]
    teams = client.get(f"/api/v1/teams?campaign={day.campaign.id}").get_json()["items"]
    assert [(t["name"], t["raised_fen"], t["gift_count"]) for t in teams] == [("越秀跑团", 5000, 1)]
    assert client.get(f"/api/v1/teams/{hidden.id}").status_code == 404
    pledges = client.get(f"/api/v1/pledges?event={day.event.id}").get_json()["items"]
    assert [(p["amount_fen"], p["received_fen"], p["overdue"]) for p in pledges] == [
        (1_000_000, 0, True)
    ]


def test_openapi_documents_the_giving_day_resources(client, db_session):  # type: ignore[no-untyped-def]
    document = client.get("/api/v1/openapi.json").get_json()
    for path in (
        "/api/v1/giving_days",
        "/api/v1/matching_pools",
        "/api/v1/teams",
        "/api/v1/pledges",
    ):
        assert path in document["paths"], path
    schema = document["components"]["schemas"]["MatchingPool"]
    assert "remaining_fen" in schema["properties"]
