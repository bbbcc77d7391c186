"""Offline and in-kind gifts recorded above OFFLINE_FOUR_EYES_FEN need a second person
(issue 15: four eyes for money asserted). One finance member records the gift with its
evidence; it is counted, its receipt number issued (公益事业捐赠票据 on request, 慈善法 art.
38) and its public ``donation.succeeded`` entry written only when a *different* person
confirms it under the four-eyes rule (charity/services/four_eyes.py). Below the threshold
a recorded gift succeeds at once, as before."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from charity.extensions import db
from charity.models import AuditEntry, Donation, InKindDetail, OfflineGiftDetail
from charity.services import ledger, offline
from tests.support.factories import MembershipFactory, second_person, session_id
from tests.support.gifts import post_offline, real_pdf

THRESHOLD = 100_000  # ¥1,000: the form's bank transfer is ¥1,234.50


@pytest.fixture
def four_eyes(app, setting, monkeypatch):  # type: ignore[no-untyped-def]
    monkeypatch.setitem(app.config, "OFFLINE_FOUR_EYES_FEN", THRESHOLD)
    campaign = setting
    recorder = (
        db.session.scalars(
            sa.select(MembershipFactory._meta.model).where(
                MembershipFactory._meta.model.organization_id == campaign.organization_id
            )
        )
        .one()
        .user
    )
    second = second_person(
        MembershipFactory(organization=campaign.organization, role="finance").user
    )
    db.session.commit()
    return campaign, recorder, second


def _as(app, user):  # type: ignore[no-untyped-def]
    client = app.test_client()
    with client.session_transaction() as session:
        session["_user_id"] = session_id(user)
        session["_fresh"] = True
    db.session.commit()
    return client


def _succeeded_entries(donation_id: int) -> int:
    return db.session.scalar(
        sa.select(sa.func.count())
        .select_from(AuditEntry)
        .where(AuditEntry.event_type == "donation.succeeded", AuditEntry.subject_id == donation_id)
    )


def _gift(campaign) -> Donation:  # type: ignore[no-untyped-def]
    return db.session.scalars(
        sa.select(Donation).where(Donation.campaign_id == campaign.id).order_by(Donation.id.desc())
    ).first()


def test_below_the_threshold_nothing_changed(client, four_eyes):
    campaign, _recorder, _second = four_eyes
    answer = post_offline(client, campaign, real_pdf(), amount="999")
    assert answer.status_code == 303 and answer.headers["Location"].endswith("/offline-gifts")
    gift = _gift(campaign)
    assert gift.status == "succeeded" and gift.receipt_number
    assert _succeeded_entries(gift.id) == 1


def test_a_large_bank_transfer_waits_for_a_second_person(app, client, four_eyes, mail_outbox):
    campaign, recorder, second = four_eyes
    answer = post_offline(client, campaign, real_pdf())  # ¥1,234.50 with a receipt asked for
    assert answer.status_code == 303 and answer.headers["Location"].endswith("/approvals")
    gift = _gift(campaign)
    assert gift.status == "pending" and gift.receipt_number is None
    assert _succeeded_entries(gift.id) == 0
    assert ledger.campaign_raised_fen(db.session, campaign.id) == 0
    # no receipt mailed; the other finance member is told it waits (not the recorder)
    assert [m["To"] for m in mail_outbox] == [second.email]
    [waiting_mail] = mail_outbox
    body = waiting_mail.get_body(("plain",)).get_content()
    assert body.index("¥1,234.50") < body.index("----") and "银行转账" in body
    assert f"/orgs/{campaign.organization_id}/approvals" in body and "bank_transfer" not in body
    mail_outbox.clear()
    listing = client.get(f"/orgs/{campaign.organization_id}/offline-gifts").get_data(as_text=True)
    assert "等待另一人确认" in listing or "awaiting a second person" in listing

    # the recorder cannot confirm it: their own record
    url = f"/orgs/{campaign.organization_id}/gifts/{gift.id}/confirm"
    second_person(recorder)
    db.session.commit()
    client = _as(app, recorder)  # signed in again, with its second step
    page = client.get(f"/orgs/{campaign.organization_id}/approvals").get_data(as_text=True)
    assert "不能批准" in page or "cannot approve" in page
    assert client.post(url).status_code == 303
    db.session.refresh(gift)
    assert gift.status == "pending" and gift.receipt_number is None

    # a second, qualified person confirms: receipt number, books, public entry, mail
    assert _as(app, second).post(url).status_code == 303
    db.session.refresh(gift)
    assert gift.status == "succeeded" and gift.receipt_number
    assert _succeeded_entries(gift.id) == 1
    assert ledger.campaign_raised_fen(db.session, campaign.id) == 123450
    assert ledger.check_books(db.session)[0] == []
    detail = db.session.get(OfflineGiftDetail, gift.id)
    assert (detail.recorded_by_id, detail.confirmed_by_id) == (recorder.id, second.id)
    assert [m["To"] for m in mail_outbox] == ["finance@payer.example"]
    # confirmed once: a second confirmation changes nothing
    assert _as(app, second).post(url).status_code == 303
    assert _succeeded_entries(gift.id) == 1


def test_a_second_person_without_two_factor_cannot_confirm(app, client, four_eyes):
    campaign, _recorder, _second = four_eyes
    newcomer = MembershipFactory(organization=campaign.organization, role="owner").user
    db.session.commit()
    post_offline(client, campaign, real_pdf())
    gift = _gift(campaign)
    _as(app, newcomer).post(f"/orgs/{campaign.organization_id}/gifts/{gift.id}/confirm")
    db.session.refresh(gift)
    assert gift.status == "pending" and _succeeded_entries(gift.id) == 0


def test_a_recorded_gift_can_be_declined_and_nothing_counts(app, client, four_eyes):
    campaign, _recorder, second = four_eyes
    post_offline(client, campaign, real_pdf())
    gift = _gift(campaign)
    url = f"/orgs/{campaign.organization_id}/gifts/{gift.id}/decline"
    other = _as(app, second)
    assert other.post(url, data={"reason": ""}).status_code == 303
    db.session.refresh(gift)
    assert gift.status == "pending"  # no reason: nothing decided
    assert other.post(url, data={"reason": "银行流水中没有这笔转账"}).status_code == 303
    db.session.refresh(gift)
    assert gift.status == "failed" and gift.receipt_number is None
    assert _succeeded_entries(gift.id) == 0
    assert ledger.campaign_raised_fen(db.session, campaign.id) == 0
    confirm = f"/orgs/{campaign.organization_id}/gifts/{gift.id}/confirm"
    assert other.post(confirm).status_code == 303
    db.session.refresh(gift)
    assert gift.status == "failed"


def test_large_in_kind_gifts_wait_too(app, client, four_eyes):
    campaign, recorder, second = four_eyes
    answer = client.post(
        f"/orgs/{campaign.organization_id}/in-kind-gifts/new",
        data={
            "campaign_id": str(campaign.id),
            "description": "冬季棉被",
            "quantity": "200",
            "unit": "床",
            "valuation": "30000",
            "valuation_basis": "供货发票单价 150 元",
            "received_on": "2026-11-18",
            "donor_name": "某某超市",
        },
    )
    assert answer.status_code == 303 and answer.headers["Location"].endswith("/approvals")
    goods = db.session.scalars(sa.select(Donation).where(Donation.channel == "in_kind")).one()
    assert goods.status == "pending" and _succeeded_entries(goods.id) == 0
    with pytest.raises(offline.OfflineGiftError):
        offline.confirm_gift(db.session, recorder, campaign.organization_id, goods.id)
    offline.confirm_gift(db.session, second, campaign.organization_id, goods.id)
    assert goods.status == "succeeded" and _succeeded_entries(goods.id) == 1
    assert db.session.get(InKindDetail, goods.id).confirmed_by_id == second.id


def test_another_organizations_gift_is_not_found(app, client, four_eyes):
    campaign, _recorder, _second = four_eyes
    post_offline(client, campaign, real_pdf())
    gift = _gift(campaign)
    outsider = second_person(MembershipFactory(role="finance").user)
    db.session.commit()
    other_org = outsider.memberships[0].organization_id
    answer = _as(app, outsider).post(f"/orgs/{other_org}/gifts/{gift.id}/confirm")
    assert answer.status_code == 404
    db.session.refresh(gift)
    assert gift.status == "pending"


def test_confirming_needs_a_fresh_code(app, client, four_eyes):
    """The second person proved who they are in the last REAUTH_MAX_AGE_SECONDS (issue 15:
    re-authentication before money is counted on their word), or is sent to do so."""
    from datetime import timedelta

    from charity.models import UserSession
    from charity.models.base import utcnow

    campaign, _recorder, second = four_eyes
    post_offline(client, campaign, real_pdf())
    gift = _gift(campaign)
    url = f"/orgs/{campaign.organization_id}/gifts/{gift.id}/confirm"
    stale = _as(app, second)
    db.session.execute(
        sa.update(UserSession)
        .where(UserSession.user_id == second.id)
        .values(confirmed_at=utcnow() - timedelta(seconds=601))
    )
    db.session.commit()
    sent = stale.post(
        url, headers={"Referer": f"http://localhost/orgs/{campaign.organization_id}/approvals"}
    )
    assert sent.status_code == 303 and "/account/2fa/confirm" in sent.headers["Location"]
    db.session.refresh(gift)
    assert gift.status == "pending" and gift.receipt_number is None
    assert _succeeded_entries(gift.id) == 0
