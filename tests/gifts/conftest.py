"""Gifts fixtures: the payments area's localstripe and app, plus monthly-gift helpers."""

from __future__ import annotations

import pytest

from charity.core import uow
from charity.core.clock import today_cst
from charity.extensions import db
from charity.services import offline
from tests.support.factories import CampaignFactory, MembershipFactory
from tests.support.gifts import real_pdf


@pytest.fixture
def setting(app, db_session, login, tmp_path, monkeypatch):  # type: ignore[no-untyped-def]
    monkeypatch.setitem(app.config, "UPLOAD_DIR", str(tmp_path / "uploads"))
    monkeypatch.setitem(app.config, "RECEIPT_EMAIL_PDF", False)  # receipt mails: link only
    target = CampaignFactory()
    member = MembershipFactory(organization=target.organization, role="finance")
    db.session.commit()  # a refused form rolls its request back, not the setting
    login(member.user)
    return target


@pytest.fixture
def gifts(app, db_session, tmp_path, monkeypatch):  # type: ignore[no-untyped-def]
    """Three guest gifts under guest@example.org, one under someone else's email (their
    receipt mails go out at the commit, without PDF)."""
    monkeypatch.setitem(app.config, "RECEIPT_EMAIL_PDF", False)
    target = CampaignFactory()
    finance = MembershipFactory(organization=target.organization, role="finance").user
    made = []
    for amount, email, payer in (
        (10000, "Guest@Example.org", "陈捐赠"),
        (25050, "guest@example.org", "陈捐赠"),
        (5000, "guest@example.org", "陈捐赠"),
        (7700, "other@example.org", "别人"),
    ):
        command = offline.NewOfflineGift(
            organization_id=target.organization_id,
            campaign_id=target.id,
            kind="bank_transfer",
            amount_fen=amount,
            received_on=today_cst(),
            evidence=real_pdf(),
            payer_name=payer,
            bank_reference=f"REF-{amount}",
            donor_email=email,
            receipt_wanted=True,
        )
        made.append(offline.record_offline_gift(db.session, finance, command, str(tmp_path)))
    uow.commit()
    return target, made
