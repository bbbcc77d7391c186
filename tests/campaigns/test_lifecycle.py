"""draft -> published -> closed, the events each step records, and the frozen plan."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from flask_babel import force_locale
from sqlalchemy import select

from charity.core.events import build_payload
from charity.models import Campaign
from charity.models.campaign import CampaignFrozenError
from charity.services import campaigns as service
from tests.support.campaigns import DraftCampaignFactory, plan_form, sign_in
from tests.support.factories import CampaignFactory, MembershipFactory, QualifiedOrganizationFactory

#: The confirmation page answered (issue 17.4): publishing happens only with it.
CONFIRMED = {"confirmed": "yes"}


@pytest.fixture
def draft(qualified_org, today):  # type: ignore[no-untyped-def]
    return DraftCampaignFactory(
        organization=qualified_org,
        filing_date=today - timedelta(days=20),
        start_date=today - timedelta(days=5),
        end_date=today + timedelta(days=30),
    )


def test_owner_publishes_a_draft_and_the_log_hears_of_it(
    client, db_session, draft, owner, recorded_events
):
    sign_in(client, owner)
    response = client.post(f"/campaigns/{draft.id}/publish", data=CONFIRMED)
    assert response.status_code == 303
    db_session.refresh(draft)
    assert draft.status == "published" and draft.published_at is not None
    [event] = [e for e in recorded_events if e.type == "campaign.published"]
    assert event.subject_table == "campaigns" and event.subject_id == draft.id
    assert event.data == {
        "campaign_id": draft.id,
        "organization_id": draft.organization_id,
        "org_uscc": draft.organization.uscc,
        "partner_uscc": None,
        "filing_number": draft.filing_number,
        "filing_date": draft.filing_date.isoformat(),
        "expected_amount_fen": draft.expected_amount_fen,
        "currency": "CNY",
        "start_date": draft.start_date.isoformat(),
        "end_date": draft.end_date.isoformat(),
        "is_emergency": False,
    }
    assert build_payload(db_session, "campaign.published", draft.id) == event.data


def test_owner_closes_and_the_close_is_recorded_once(
    client, db_session, draft, owner, recorded_events
):
    sign_in(client, owner)
    client.post(f"/campaigns/{draft.id}/publish", data=CONFIRMED)
    response = client.post(f"/campaigns/{draft.id}/close")
    assert response.status_code == 303
    db_session.refresh(draft)
    assert draft.status == "closed"
    closed_at = draft.closed_at
    [event] = [e for e in recorded_events if e.type == "campaign.closed"]
    assert event.data["closed_at"] == closed_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert build_payload(db_session, "campaign.closed", draft.id) == event.data
    again = client.post(f"/campaigns/{draft.id}/close")
    assert again.status_code == 409
    db_session.refresh(draft)
    assert draft.closed_at == closed_at
    assert len([e for e in recorded_events if e.type == "campaign.closed"]) == 1


def test_a_closed_campaign_cannot_be_republished(client, db_session, draft, owner, recorded_events):
    sign_in(client, owner)
    client.post(f"/campaigns/{draft.id}/publish", data=CONFIRMED)
    client.post(f"/campaigns/{draft.id}/close")
    response = client.post(f"/campaigns/{draft.id}/publish", data=CONFIRMED)
    assert response.status_code == 409
    db_session.refresh(draft)
    assert draft.status == "closed"
    assert [e.type for e in recorded_events] == ["campaign.published", "campaign.closed"]


def test_only_the_owner_publishes(client, db_session, draft, editor, recorded_events):
    sign_in(client, editor)
    assert client.post(f"/campaigns/{draft.id}/publish", data=CONFIRMED).status_code == 403
    db_session.refresh(draft)
    assert draft.status == "draft" and recorded_events == []


def test_anonymous_publish_goes_to_login(client, draft):
    response = client.post(f"/campaigns/{draft.id}/publish", data=CONFIRMED)
    assert response.status_code == 302 and "/account/login" in response.headers["Location"]


def test_publish_needs_the_csrf_token(app, client, db_session, draft, owner):
    sign_in(client, owner)
    app.config["WTF_CSRF_ENABLED"] = True
    try:
        response = client.post(f"/campaigns/{draft.id}/publish", data=CONFIRMED)
    finally:
        app.config["WTF_CSRF_ENABLED"] = False
    assert response.status_code == 400
    db_session.refresh(draft)
    assert draft.status == "draft"


def test_an_org_that_lost_its_qualification_cannot_publish(
    client, db_session, draft, owner, recorded_events
):
    draft.organization.qualification_number = None
    db_session.flush()
    sign_in(client, owner)
    response = client.post(f"/campaigns/{draft.id}/publish?lang=en", data=CONFIRMED)
    assert response.status_code == 409
    assert "arts. 22 and 24" in response.get_data(as_text=True)
    db_session.refresh(draft)
    assert draft.status == "draft" and recorded_events == []


def test_an_ended_draft_cannot_be_published(db_session, draft, owner):
    now = datetime.combine(draft.end_date + timedelta(days=1), datetime.min.time(), UTC)
    with pytest.raises(service.CampaignError) as caught:
        service.publish_campaign(db_session, owner, draft, now=now)
    with force_locale("en"):
        assert "end date" in str(caught.value.errors[0][1])


class TestEditing:
    def test_a_draft_can_be_edited(self, client, db_session, draft, editor, today):
        sign_in(client, editor)
        form = client.get(f"/campaigns/{draft.id}/edit")
        assert form.status_code == 200
        assert 'value="500000.00"' in form.get_data(as_text=True)
        data = plan_form(today, title="改过的标题", filing_number=draft.filing_number)
        response = client.post(f"/campaigns/{draft.id}/edit", data=data)
        assert response.status_code == 303
        db_session.refresh(draft)
        assert draft.title == "改过的标题"

    def test_edit_errors_keep_the_draft(self, client, db_session, draft, editor, today):
        sign_in(client, editor)
        bad = plan_form(today, title="新", start_date=(today + timedelta(days=1)).isoformat())
        response = client.post(f"/campaigns/{draft.id}/edit", data=bad)
        assert response.status_code == 422
        db_session.refresh(draft)
        assert draft.title != "新"

    def test_a_published_plan_cannot_be_edited(self, client, db_session, owner, today):
        campaign = CampaignFactory()
        MembershipFactory(organization=campaign.organization, user=owner, role="owner")
        title = campaign.title
        sign_in(client, owner)
        data = plan_form(today, title="偷偷改", filing_number=campaign.filing_number)
        response = client.post(f"/campaigns/{campaign.id}/edit", data=data)
        assert response.status_code == 303
        db_session.refresh(campaign)
        assert campaign.title == title

    def test_the_model_refuses_to_change_a_published_plan(self, db_session):
        campaign = CampaignFactory()
        with pytest.raises(CampaignFrozenError):
            campaign.expected_amount_fen = 1
        with pytest.raises(CampaignFrozenError):
            campaign.status = "draft"

    def test_closed_at_is_recorded_once(self, db_session):
        campaign = CampaignFactory()
        service.close_campaign(db_session, None, campaign)
        with pytest.raises(CampaignFrozenError):
            campaign.closed_at = datetime.now(UTC) + timedelta(days=1)


class TestCloseEnded:
    def test_closes_only_what_ended_and_is_idempotent(
        self, app, db_session, recorded_events, today
    ):
        ended = CampaignFactory(
            start_date=today - timedelta(days=30), end_date=today - timedelta(days=1)
        )
        last_day = CampaignFactory(start_date=today - timedelta(days=30), end_date=today)
        running = CampaignFactory()
        old_draft = DraftCampaignFactory(end_date=today - timedelta(days=2))
        runner = app.test_cli_runner()
        first = runner.invoke(args=["campaigns", "close-ended"])
        assert first.exit_code == 0, first.output
        assert f"closed campaign {ended.id} " in first.output
        second = runner.invoke(args=["campaigns", "close-ended"])
        assert second.exit_code == 0 and "0 campaign(s) closed" in second.output
        db_session.expire_all()
        statuses = {c.id: c.status for c in db_session.scalars(select(Campaign))}
        assert statuses[ended.id] == "closed"
        assert statuses[last_day.id] == statuses[running.id] == "published"
        assert statuses[old_draft.id] == "draft"
        closes = [e.subject_id for e in recorded_events if e.type == "campaign.closed"]
        assert closes.count(ended.id) == 1 and last_day.id not in closes

    def test_the_end_date_is_a_day_in_china_standard_time(self, db_session):
        campaign = CampaignFactory(start_date=date(2026, 1, 1), end_date=date(2026, 3, 1))
        # 2026-03-01 23:30 in Beijing is 15:30 UTC: still the last day.
        assert (
            service.close_ended_campaigns(db_session, now=datetime(2026, 3, 1, 15, 30, tzinfo=UTC))
            == []
        )
        # 2026-03-02 00:30 in Beijing is 2026-03-01 16:30 UTC: ended.
        closed = service.close_ended_campaigns(
            db_session, now=datetime(2026, 3, 1, 16, 30, tzinfo=UTC)
        )
        assert campaign in closed


class TestUpdates:
    def test_owner_posts_an_update_with_inert_html(self, client, db_session, owner, today):
        campaign = CampaignFactory()
        MembershipFactory(organization=campaign.organization, user=owner, role="editor")
        sign_in(client, owner)
        body = "首批物资已送达 <script>alert(1)</script> **谢谢**"
        response = client.post(
            f"/campaigns/{campaign.id}/updates", data={"title": "进展", "body_md": body}
        )
        assert response.status_code == 302
        page = client.get(f"/campaigns/{campaign.id}").get_data(as_text=True)
        assert "进展" in page and "<strong>谢谢</strong>" in page
        assert "<script>alert(1)" not in page

    def test_bad_updates_are_refused(self, client, db_session, owner):
        campaign = CampaignFactory()
        MembershipFactory(organization=campaign.organization, user=owner, role="owner")
        sign_in(client, owner)
        for data in (
            {"title": "", "body_md": "x"},
            {"title": "t\x00", "body_md": "x"},
            {"title": "t", "body_md": "长" * 10_001},
        ):
            response = client.post(f"/campaigns/{campaign.id}/updates", data=data)
            assert response.status_code == 422
        assert campaign.updates == []

    def test_a_donor_cannot_post(self, client, db_session, donor):
        campaign = CampaignFactory()
        sign_in(client, donor)
        response = client.post(
            f"/campaigns/{campaign.id}/updates", data={"title": "x", "body_md": "y"}
        )
        assert response.status_code == 403

    def test_no_updates_on_drafts(self, db_session, owner, draft):
        with pytest.raises(service.CampaignError):
            service.post_update(db_session, owner, draft, service.UpdatePost("t", "b"))


def test_services_recheck_the_actor(db_session, draft, today):
    stranger = MembershipFactory(organization=QualifiedOrganizationFactory(), role="owner").user
    with pytest.raises(PermissionError):
        service.publish_campaign(db_session, stranger, draft)
    with pytest.raises(PermissionError):
        service.file_campaign(db_session, stranger, draft.organization, None)  # type: ignore[arg-type]


def test_a_cooperation_campaign_logs_its_partner(db_session, owner, today, recorded_events):
    from tests.support.factories import OrganizationFactory

    partner = OrganizationFactory()
    draft = DraftCampaignFactory(
        organization=owner.memberships[0].organization,
        partner=partner,
        is_emergency=True,
        start_date=today,
        end_date=today + timedelta(days=9),
    )
    service.publish_campaign(db_session, owner, draft)
    [event] = recorded_events
    assert event.data["partner_uscc"] == partner.uscc
    assert event.data["is_emergency"] is True
    assert "person_in_charge" not in event.data and "receiving_account" not in event.data
