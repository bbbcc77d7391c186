"""Teams (一起捐) and pledges (认捐) at the service level, with their log entries and the
refusals: bad input is a clear error and changes nothing (both databases)."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from charity.core.clock import today_cst
from charity.extensions import db
from charity.models import AuditEntry, Team
from charity.services import givingdays
from charity.services.ledger import campaign_raised_fen
from tests.support.factories import CampaignFactory, MembershipFactory, UserFactory
from tests.support.givingdays import company_uscc, give


def _team(day, **fields):  # type: ignore[no-untyped-def]
    supporter = UserFactory()
    command = givingdays.NewTeam(
        campaign_id=day.campaign.id,
        name=fields.get("name", "越秀跑团"),
        goal_fen=fields.get("goal_fen", 100_000),
        message=fields.get("message", "一起来！"),
    )
    return givingdays.create_team(db.session, supporter, command)


def test_gifts_through_a_team_link_are_credited_to_it(day):  # type: ignore[no-untyped-def]
    team = _team(day)
    gift = give(day.campaign, 5000, team_id=team.id)
    assert gift.team_id == team.id
    assert campaign_raised_fen(db.session, day.campaign.id) == 5000  # still the campaign's


def test_a_team_of_another_campaign_or_hidden_gets_no_credit(day):  # type: ignore[no-untyped-def]
    team = _team(day)
    other = CampaignFactory()
    assert give(other, 1000, team_id=team.id).team_id is None
    givingdays.hide_team(db.session, day.owner, team.id, "名称含广告")
    assert give(day.campaign, 1000, team_id=team.id).team_id is None


def test_hiding_needs_the_organization_and_a_reason_and_is_logged(day):  # type: ignore[no-untyped-def]
    team = _team(day)
    with pytest.raises(PermissionError):
        givingdays.hide_team(db.session, UserFactory(), team.id, "x")
    with pytest.raises(givingdays.GivingDayError):
        givingdays.hide_team(db.session, day.owner, team.id, "   ")
    assert db.session.get(Team, team.id).hidden is False
    givingdays.hide_team(db.session, day.owner, team.id, "名称含广告")
    entry = db.session.scalars(
        sa.select(AuditEntry).where(AuditEntry.event_type == "team.hidden")
    ).one()
    assert entry.subject_id == team.id


@pytest.mark.parametrize(
    ("fields", "field"),
    [({"name": ""}, "name"), ({"name": "x" * 61}, "name"), ({"goal_fen": 50}, "goal")],
)
def test_bad_team_input_is_refused(day, fields, field):  # type: ignore[no-untyped-def]
    with pytest.raises(givingdays.GivingDayError) as caught:
        _team(day, **fields)
    assert caught.value.field == field
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Team)) == 0


def test_pledge_counts_only_when_gifts_arrive(day):  # type: ignore[no-untyped-def]
    finance = MembershipFactory(organization=day.campaign.organization, role="finance").user
    pledge = givingdays.record_pledge(
        db.session,
        finance,
        givingdays.NewPledge(
            event_id=day.event.id,
            organization_id=day.campaign.organization_id,
            company_name="示例建材有限公司",
            company_uscc=company_uscc(777),
            amount_fen=1_000_000,
            due_date=today_cst() + timedelta(days=30),
            campaign_id=day.campaign.id,
        ),
    )
    assert campaign_raised_fen(db.session, day.campaign.id) == 0
    gift = give(day.campaign, 400_000, "pay@example.com")
    givingdays.link_gift(db.session, finance, pledge.id, gift.id)
    assert givingdays.pledge_received_fen(db.session, [pledge.id]) == {pledge.id: 400_000}
    with pytest.raises(givingdays.GivingDayError):
        givingdays.link_gift(db.session, finance, pledge.id, gift.id)  # once
    types = db.session.scalars(
        sa.select(AuditEntry.event_type).where(AuditEntry.event_type.like("pledge.%"))
    ).all()
    assert sorted(types) == ["pledge.gift_linked", "pledge.recorded"]


def test_pledge_refusals(day):  # type: ignore[no-untyped-def]
    finance = MembershipFactory(organization=day.campaign.organization, role="finance").user
    base = {
        "event_id": day.event.id,
        "organization_id": day.campaign.organization_id,
        "company_name": "示例建材有限公司",
        "company_uscc": company_uscc(1)[:-1] + ("0" if company_uscc(1)[-1] != "0" else "1"),
        "amount_fen": 100,
        "due_date": today_cst(),
    }
    with pytest.raises(givingdays.GivingDayError) as caught:
        givingdays.record_pledge(db.session, finance, givingdays.NewPledge(**base))
    assert caught.value.field == "company_uscc"
    with pytest.raises(PermissionError):
        givingdays.record_pledge(db.session, UserFactory(), givingdays.NewPledge(**base))


def test_only_admins_create_events_and_pools(day):  # type: ignore[no-untyped-def]
    with pytest.raises(PermissionError):
        givingdays.create_event(
            db.session,
            day.owner,
            givingdays.NewEvent("x", "", today_cst(), today_cst()),
        )
    with pytest.raises(givingdays.GivingDayError):
        givingdays.create_event(
            db.session,
            day.admin,
            givingdays.NewEvent("x", "", today_cst(), today_cst() - timedelta(days=1)),
        )
