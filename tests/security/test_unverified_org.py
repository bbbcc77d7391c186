"""Issue 15, finding 1: an organization that is only applying (or was rejected) takes no
money and issues nothing, whatever its members' roles: no offline gift, no in-kind gift,
no receipt, no campaign, no online gift. Each attempt is made over HTTP, as the tester did."""

from __future__ import annotations

import io

import pytest
import sqlalchemy as sa

from charity.extensions import db
from charity.models import AuditEntry, Campaign, Donation
from tests.support.factories import (
    CampaignFactory,
    MembershipFactory,
    OrganizationFactory,
    QualifiedOrganizationFactory,
)
from tests.support.gifts import real_pdf


@pytest.fixture(params=["pending", "rejected"])
def applying(request, app, db_session, login, tmp_path, monkeypatch):  # type: ignore[no-untyped-def]
    monkeypatch.setitem(app.config, "UPLOAD_DIR", str(tmp_path / "uploads"))
    organization = OrganizationFactory(status=request.param, stripe_account_id=None)
    owner = MembershipFactory(organization=organization, role="owner").user
    db.session.commit()
    login(owner)
    return organization


def _nothing_issued(organization) -> None:  # type: ignore[no-untyped-def]
    assert (
        db.session.scalars(
            sa.select(Donation).where(Donation.organization_id == organization.id)
        ).all()
        == []
    )
    assert (
        db.session.scalar(
            sa.select(sa.func.count())
            .select_from(AuditEntry)
            .where(AuditEntry.event_type == "donation.succeeded")
        )
        == 0
    )


def test_an_applying_organization_cannot_record_an_offline_gift_with_a_receipt(client, applying):
    response = client.post(
        f"/orgs/{applying.id}/offline-gifts/new",
        data={
            "kind": "bank_transfer",
            "campaign_id": "",
            "amount": "99999999.00",
            "received_on": "2026-11-20",
            "payer_name": "深圳某某科技有限公司",
            "bank_reference": "CMB-1",
            "donor_email": "finance@payer.example",
            "receipt_wanted": "y",
            "evidence": (io.BytesIO(real_pdf()), "slip.pdf"),
        },
        content_type="multipart/form-data",
    )
    assert response.status_code == 422
    assert "Only a verified organization" in response.get_data(as_text=True)
    _nothing_issued(applying)


def test_an_applying_organization_cannot_record_an_in_kind_gift(client, applying):
    response = client.post(
        f"/orgs/{applying.id}/in-kind-gifts/new",
        data={
            "campaign_id": "",
            "description": "大米",
            "quantity": "100",
            "unit": "袋",
            "valuation": "5000.00",
            "valuation_basis": "发票",
            "received_on": "2026-11-20",
            "donor_name": "某公司",
            "donor_email": "a@payer.example",
            "receipt_wanted": "y",
        },
    )
    assert response.status_code == 422
    assert "Only a verified organization" in response.get_data(as_text=True)
    _nothing_issued(applying)


def test_an_applying_organization_cannot_file_a_campaign(client, applying):
    page = client.get(f"/orgs/{applying.id}/campaigns/new")
    assert page.status_code in (200, 403)
    response = client.post(
        f"/orgs/{applying.id}/campaigns/new",
        data={"title": "假的募捐", "summary": "x", "expected_amount": "1000"},
    )
    assert response.status_code in (403, 422)
    assert (
        db.session.scalars(sa.select(Campaign).where(Campaign.organization_id == applying.id)).all()
        == []
    )


def test_a_campaign_of_an_organization_no_longer_verified_takes_no_online_gift(client, db_session):
    # A verified organization is never un-verified by a status move (charity.models.statuses);
    # its campaign is built for an organization whose status is not verified.
    campaign = CampaignFactory(organization=QualifiedOrganizationFactory(status="rejected"))
    db.session.commit()
    response = client.post(
        f"/campaigns/{campaign.id}/donate",
        data={
            "amount": "5000",
            "custom_amount": "",
            "donor_name": "李捐赠",
            "donor_email": "d@example.org",
            "message": "",
        },
    )
    assert response.status_code == 400
    assert "cannot receive online gifts" in response.get_data(as_text=True)
    _nothing_issued(campaign.organization)
