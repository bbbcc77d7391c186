"""Suspending a campaign (issue 16 point 15): a regulator of the organization's province
or an admin stops its gifts, online (every provider) and offline, the page says why in
plain words, donors who gave an e-mail are told, and the suspension can be lifted; a
payment already in flight that succeeds is recorded and flagged. Source: the regulator's
supervisory powers (CL 2023 supervision chapter; MCA Order 74 on public fundraising)."""

from __future__ import annotations

from datetime import date

import pytest
import time_machine
from sqlalchemy import select

from charity import payments
from charity.extensions import db
from charity.models import CampaignSuspension, Complaint
from charity.services import donations, offline, suspensions
from tests.support.compliance import cst_noon, login, make_campaign, make_org, make_pdf, member
from tests.support.factories import UserFactory

REASON = "涉嫌虚构受助人信息，暂停募捐待核查"


def _gift(campaign, email: str = "donor@example.org") -> donations.Donation:  # type: ignore[no-untyped-def]
    donation = donations.create_donation(
        db.session, None,
        donations.NewDonation(
            campaign_id=campaign.id, amount_fen=10_000, donor_name="王", donor_email=email,
            is_anonymous=False, consent_show_name=False, message="", receipt_wanted=False,
            max_amount_fen=10_000_000,
        ),
    )  # fmt: skip
    db.session.flush()  # the id
    donation.stripe_payment_intent_id = f"pi_susp_{donation.id}"
    db.session.flush()
    return donation


def _paid(donation) -> None:  # type: ignore[no-untyped-def]
    intent = payments.Intent(
        id=donation.stripe_payment_intent_id, status="succeeded", amount=donation.amount_fen,
        currency="cny", metadata={"donation_id": str(donation.id)}, client_secret="",
        latest_charge=f"ch_susp_{donation.id}", failure_message="",
    )  # fmt: skip
    assert donations.mark_donation_succeeded(db.session, donation, intent)


def test_suspension_stops_gifts_tells_donors_and_can_be_lifted(
    app, en_client, db_session, recorded_events, mail_outbox
):
    org = make_org(province="广东省")
    org.stripe_account_id = "acct_susp"
    finance = member(org, "finance")
    campaign = make_campaign(org, date(2026, 3, 1), date(2026, 12, 31))
    regulator = UserFactory(platform_role="regulator", regulator_province="广东省")
    with time_machine.travel(cst_noon(date(2026, 6, 1)), tick=False):
        _paid(_gift(campaign, "a@example.org"))
        _paid(_gift(campaign, "A@example.org"))  # the same donor: one mail
        _paid(_gift(campaign, "b@example.org"))
        in_flight = _gift(campaign, "c@example.org")  # paying when the suspension comes
        complaint = Complaint(
            reference="JB20260601-TESTTEST", check_code_hash="0" * 64, organization_id=org.id,
            campaign_id=campaign.id, category="false_information", body="x", is_anonymous=True,
            received_at=cst_noon(date(2026, 6, 1)), received_on=date(2026, 6, 1),
            reply_due_on=date(2026, 6, 8),
        )  # fmt: skip
        db_session.add(complaint)
        db_session.flush()
        mail_outbox.clear()
    with time_machine.travel(cst_noon(date(2026, 6, 2)), tick=False):
        login(en_client, regulator)
        response = en_client.post(
            f"/regulator/campaigns/{campaign.id}/suspend",
            data={"reason": REASON, "complaint": str(complaint.id)},
        )
        assert response.status_code == 302
        told = [m for m in mail_outbox if REASON in m.get_content()]
        assert sorted(m["To"] for m in told) == ["a@example.org", "b@example.org"]
        assert REASON in told[0].get_content()
        [event] = [e for e in recorded_events if e.type == "campaign.suspended"]
        assert event.data["complaint_id"] == complaint.id and event.data["reason"] == REASON
        # online: no new gift, no payment started for a gift already created
        with pytest.raises(donations.DonationError, match=REASON):
            _gift(campaign)
        with pytest.raises(donations.DonationError):
            donations.refuse_if_suspended(db_session, in_flight)
        # offline: refused too
        with pytest.raises(offline.OfflineGiftError):
            offline.record_offline_gift(
                db_session, finance,
                offline.NewOfflineGift(
                    organization_id=org.id, campaign_id=campaign.id, kind="bank_transfer",
                    amount_fen=5_000, received_on=date(2026, 6, 2), evidence=make_pdf("slip"),
                    payer_name="李", bank_reference="REF-SUSP",
                ),
                app.config["UPLOAD_DIR"],
            )  # fmt: skip
        # a payment in flight that succeeds is recorded, never lost, and flagged
        _paid(in_flight)
        assert [d.id for d in suspensions.gifts_while_suspended(db_session, campaign.id)] == [
            in_flight.id
        ]
        page = en_client.get(f"/campaigns/{campaign.id}").get_data(as_text=True)
        assert "campaign-gifts-stopped" in page and REASON in page
        assert "campaign-donate" not in page
        regulator_page = en_client.get(f"/regulator/campaigns/{campaign.id}").get_data(as_text=True)
        assert "campaign-suspended" in regulator_page and "100.00" in regulator_page
        # a second suspension is refused
        again = en_client.post(f"/regulator/campaigns/{campaign.id}/suspend", data={"reason": "x"})
        assert again.status_code == 400
    with time_machine.travel(cst_noon(date(2026, 6, 10)), tick=False):
        login(en_client, regulator)
        response = en_client.post(
            f"/regulator/campaigns/{campaign.id}/lift", data={"note": "已整改"}
        )
        assert response.status_code == 302
        assert suspensions.active_suspension(db_session, campaign.id) is None
        _paid(_gift(campaign))  # gifts again
        assert [e.type for e in recorded_events if e.type.startswith("campaign.susp")] == [
            "campaign.suspended",
            "campaign.suspension_lifted",
        ]


def test_only_the_regions_regulator_or_an_admin_suspends(en_client, db_session):
    org = make_org(province="广东省")
    campaign = make_campaign(org, date(2026, 3, 1), date(2026, 12, 31))
    with time_machine.travel(cst_noon(date(2026, 6, 2)), tick=False):
        for user in (
            UserFactory(platform_role="regulator", regulator_province="湖南省"),
            member(org, "owner"),
        ):
            login(en_client, user)
            response = en_client.post(
                f"/regulator/campaigns/{campaign.id}/suspend", data={"reason": REASON}
            )
            assert response.status_code in (403, 404)
        login(en_client, UserFactory(platform_role="admin"))
        response = en_client.post(
            f"/regulator/campaigns/{campaign.id}/suspend", data={"reason": ""}
        )
        assert response.status_code == 400
        assert db_session.scalar(select(CampaignSuspension)) is None
        response = en_client.post(
            f"/regulator/campaigns/{campaign.id}/suspend", data={"reason": REASON}
        )
        assert response.status_code == 302
