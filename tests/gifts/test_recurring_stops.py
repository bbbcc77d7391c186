"""Monthly gifts stop when enforcement stops gifts (issue 16 points 8 and 15): a suspended
campaign (the regulator's supervisory powers, CL (2023) arts. 104 and 111) and an
organization that lost its public fundraising qualification (CL art. 22, MCA Order 74)
take no gifts, so their running monthly gifts are cancelled at Stripe (the real SDK
against localstripe), logged without the donor, and the donors mailed in Chinese."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
import stripe

from charity.core.clock import today_cst
from charity.extensions import db
from charity.models import AuditEntry, RecurringGift
from charity.services import recurring_stops
from tests.support.factories import CampaignFactory, UserFactory, session_id
from tests.support.gifts import give_monthly, set_up_card


def _regulator():  # type: ignore[no-untyped-def]
    # Enrolled in two-factor authentication (required of regulators), passed at login.
    return UserFactory(
        platform_role="regulator",
        totp_secret="JBSWY3DPEHPK3PXP",
        totp_enabled_at=datetime.now(UTC),
        email_verified_at=datetime.now(UTC),
    )


def _log_in(client, user) -> None:  # type: ignore[no-untyped-def]
    from flask import g

    g.pop("_login_user", None)
    with client.session_transaction() as session:
        session["_user_id"] = session_id(user)
        session["_fresh"] = True
    db.session.commit()


def _running(client, campaign, email: str) -> RecurringGift:  # type: ignore[no-untyped-def]
    gift = give_monthly(client, campaign, donor_email=email)
    assert set_up_card(client, gift).status_code == 200
    db.session.refresh(gift)
    assert gift.status == "active" and gift.stripe_subscription_id
    return gift


def _stripe_status(gift: RecurringGift) -> str:
    return stripe.Subscription.retrieve(
        gift.stripe_subscription_id, stripe_account=gift.stripe_account_id
    ).status


def _stopped_entries(gift_ids: list[int]) -> list[AuditEntry]:
    return list(
        db.session.scalars(
            sa.select(AuditEntry).where(
                AuditEntry.event_type == "recurring_gift.stopped",
                AuditEntry.subject_id.in_(gift_ids),
            )
        )
    )


def test_suspending_a_campaign_cancels_its_monthly_gifts_at_stripe(client, campaign, mail_outbox):
    first = _running(client, campaign, "first.monthly@example.org")
    second = _running(client, campaign, "second.monthly@example.org")
    pending = give_monthly(client, campaign, donor_email="never.paid@example.org")
    other_campaign = CampaignFactory(organization=campaign.organization)
    elsewhere = _running(client, other_campaign, "elsewhere@example.org")
    mail_outbox.clear()

    _log_in(client, _regulator())
    response = client.post(
        f"/regulator/campaigns/{campaign.id}/suspend", data={"reason": "涉嫌虚构受助人信息"}
    )
    assert response.status_code in (302, 303), response.get_data(as_text=True)[:300]

    for gift in (first, second, pending, elsewhere):
        db.session.refresh(gift)
    assert (first.status, second.status, pending.status) == ("canceled",) * 3
    assert first.canceled_at is not None
    assert _stripe_status(first) == "canceled" and _stripe_status(second) == "canceled"
    # Another campaign of the same organization is not suspended: its gift runs on.
    assert elsewhere.status == "active" and _stripe_status(elsewhere) == "active"

    entries = _stopped_entries([first.id, second.id, pending.id])
    assert len(entries) == 3
    payloads = [json.loads(entry.payload) for entry in entries]
    assert all(p["cause"] == "campaign_suspended" for p in payloads), payloads[0]
    text = " ".join(entry.payload for entry in entries)
    for private in ("first.monthly", "second.monthly", "never.paid", "李月捐", "5000"):
        assert private not in text

    stopped = [m for m in mail_outbox if "月捐已停止" in str(m["Subject"])]
    assert sorted(m["To"] for m in stopped) == [
        "first.monthly@example.org",
        "second.monthly@example.org",
    ]  # the pending gift was never charged: no mail
    body = stopped[0].get_body(("plain",)).get_content()
    assert "今后不会再扣款" in body and "涉嫌虚构受助人信息" in body and "¥50.00" in body


def test_losing_the_qualification_cancels_every_monthly_gift_of_the_organization(
    client, campaign, mail_outbox
):
    org = campaign.organization
    gift = _running(client, campaign, "one@example.org")
    other = _running(client, CampaignFactory(organization=org), "two@example.org")
    mail_outbox.clear()

    _log_in(client, _regulator())
    lost_on = today_cst() - timedelta(days=1)
    response = client.post(
        f"/regulator/orgs/{org.id}/qualification-loss",
        data={
            "lost_on": lost_on.isoformat(),
            "reason": "公开募捐资格被依法撤销",
            "source": "广东省民政厅 粤民函〔2026〕12号",
        },
    )
    assert response.status_code in (302, 303), response.get_data(as_text=True)[:300]

    for row in (gift, other):
        db.session.refresh(row)
        assert row.status == "canceled" and _stripe_status(row) == "canceled"
    entries = _stopped_entries([gift.id, other.id])
    assert len(entries) == 2 and all("qualification_lost" in e.payload for e in entries)
    bodies = [
        m.get_body(("plain",)).get_content()
        for m in mail_outbox
        if "月捐已停止" in str(m["Subject"])
    ]
    assert len(bodies) == 2
    assert all("不再具有公开募捐资格" in b and "粤民函〔2026〕12号" in b for b in bodies)


def test_a_retry_after_stripe_already_cancelled_is_done_not_an_error(client, campaign, mail_outbox):
    gift = _running(client, campaign, "retry@example.org")
    # The first attempt cancelled at Stripe, then its commit was lost.
    stripe.Subscription.cancel(gift.stripe_subscription_id, stripe_account=gift.stripe_account_id)
    assert recurring_stops.stop_gift(gift.id, "qualification_lost", campaign.organization_id)
    db.session.commit()
    db.session.refresh(gift)
    assert gift.status == "canceled"
    # Run again: nothing more happens.
    assert not recurring_stops.stop_gift(gift.id, "qualification_lost", campaign.organization_id)


def test_a_donor_cancelled_gift_is_left_alone(client, campaign):
    gift = _running(client, campaign, "gone@example.org")
    gift.status = "canceled"
    db.session.commit()
    assert recurring_stops.running_gift_ids(db.session, campaign_id=campaign.id) == []
