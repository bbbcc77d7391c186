"""The organization's campaign list, and the demo loader."""

from __future__ import annotations

from sqlalchemy import func, select, update

from charity.core.clock import today_cst
from charity.demo.campaigns import load_campaigns
from charity.models import Campaign, Organization
from tests.support.campaigns import DraftCampaignFactory, sign_in
from tests.support.factories import CampaignFactory, MembershipFactory, QualifiedOrganizationFactory


def test_owner_sees_drafts_with_publish_and_close_buttons(client, db_session, qualified_org, owner):
    draft = DraftCampaignFactory(organization=qualified_org, title="草稿一号")
    live = CampaignFactory(organization=qualified_org, title="进行中一号")
    sign_in(client, owner)
    body = client.get(f"/orgs/{qualified_org.id}/campaigns").get_data(as_text=True)
    assert "草稿一号" in body and "进行中一号" in body
    assert f'href="/campaigns/{draft.id}/publish"' in body  # to the confirmation page
    assert f'action="/campaigns/{live.id}/close"' in body
    assert f"/orgs/{qualified_org.id}/campaigns/new" in body


def test_editor_sees_no_publish_button(client, db_session, qualified_org, editor):
    draft = DraftCampaignFactory(organization=qualified_org)
    sign_in(client, editor)
    body = client.get(f"/orgs/{qualified_org.id}/campaigns").get_data(as_text=True)
    assert f"/campaigns/{draft.id}/edit" in body
    assert f"/campaigns/{draft.id}/publish" not in body


def test_outsiders_cannot_see_the_management_list(client, db_session, qualified_org, donor):
    assert client.get(f"/orgs/{qualified_org.id}/campaigns").status_code == 302
    sign_in(client, donor)
    assert client.get(f"/orgs/{qualified_org.id}/campaigns").status_code == 403


def test_demo_is_idempotent_and_has_one_of_each(db_session, recorded_events):
    org = QualifiedOrganizationFactory(province="广东省")
    MembershipFactory(organization=org, role="owner")
    first = load_campaigns()
    second = load_campaigns()
    assert len(first) == len(second) == 3
    campaigns = list(db_session.scalars(select(Campaign).where(Campaign.organization_id == org.id)))
    assert len(campaigns) == 3
    today = today_cst()
    running = [c for c in campaigns if c.status == "published" and not c.is_emergency]
    assert len(running) == 1 and running[0].expected_amount_fen == 50_000_000
    assert running[0].start_date <= today <= running[0].end_date
    assert [c.is_emergency for c in campaigns].count(True) == 1
    assert [c.status for c in campaigns].count("closed") == 1
    types = [e.type for e in recorded_events]
    assert types.count("campaign.published") == 3 and types.count("campaign.closed") == 1


def test_demo_skips_quietly_without_a_qualified_organization(db_session):
    QualifiedOrganizationFactory(status="pending")
    db_session.execute(
        update(Organization)
        .where(Organization.status == "verified")
        .values(qualification_number=None)
    )
    before = db_session.scalar(select(func.count()).select_from(Campaign))
    assert load_campaigns() == []
    assert db_session.scalar(select(func.count()).select_from(Campaign)) == before


def test_members_find_their_management_list_from_the_campaign_list(
    client, db_session, qualified_org, editor
):
    assert f"/orgs/{qualified_org.id}/campaigns" not in client.get("/campaigns/").get_data(
        as_text=True
    )
    sign_in(client, editor)
    body = client.get("/campaigns/").get_data(as_text=True)
    assert f'href="/orgs/{qualified_org.id}/campaigns"' in body
