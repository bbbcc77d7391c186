"""A small world for the security tests: organizations A and B, a pending one, a user for
each kind of actor, a campaign, a draft, an update, an invitation and a reset link."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from flask import Flask
from sqlalchemy import select

from charity.core.clock import today_cst
from charity.extensions import db
from charity.models import CampaignUpdate, Invitation, Membership, User
from charity.models.base import utcnow
from charity.services import accounts, uploads
from charity.services.organizations import hash_token
from tests.security import authz_table as table
from tests.support.factories import (
    PASSWORD,
    CampaignFactory,
    MembershipFactory,
    OrganizationFactory,
    QualifiedOrganizationFactory,
    UserFactory,
)

INVITATION_TOKEN = "matrix-invitation-token-0123456789abcdef"
_HASHES: list[str] = []


def _password_hash() -> str:
    """tests.support.factories.PASSWORD hashed once: the matrix seeds hundreds of worlds."""
    if not _HASHES:
        _HASHES.append(accounts.hash_password(PASSWORD))
    return _HASHES[0]


@dataclass
class World:
    users: dict[str, Any]
    names: dict[str, Any]


def world_user(world: World, role: str) -> User:
    """A user of a world whose ``users`` are ids (``shared_world`` in conftest.py), loaded
    into the test's session."""
    user = db.session.get(User, world.users[role])
    assert user is not None
    return user


def seed(app: Flask) -> World:
    org_a = QualifiedOrganizationFactory(name="机构甲")
    org_b = OrganizationFactory(name="机构乙")
    org_pending = OrganizationFactory(name="待审机构", status="pending")
    users = {
        role: UserFactory(platform_role=platform, password_hash=_password_hash())
        for role, platform in [
            (table.DONOR, "donor"), (table.OWNER_A, "donor"), (table.FINANCE_A, "donor"),
            (table.EDITOR_A, "donor"), (table.MEMBER_B, "donor"), (table.ADMIN, "admin"),
            (table.REGULATOR, "regulator"),
        ]
    }  # fmt: skip
    for role, org, member_role in [
        (table.OWNER_A, org_a, "owner"),
        (table.FINANCE_A, org_a, "finance"),
        (table.EDITOR_A, org_a, "editor"),
        (table.MEMBER_B, org_b, "owner"),
        (table.OWNER_A, org_pending, "owner"),
    ]:
        MembershipFactory(user=users[role], organization=org, role=member_role)
    users[table.OWNER_PENDING] = UserFactory(password_hash=_password_hash())
    MembershipFactory(user=users[table.OWNER_PENDING], organization=org_pending, role="owner")
    users[table.SECOND_A] = _second_account(org_a, users[table.OWNER_A])
    campaign = CampaignFactory(organization=org_a)
    invitation = _invitation(org_a, users[table.DONOR].email, users[table.OWNER_A])
    editor = db.session.scalar(
        select(Membership).where(Membership.user_id == users[table.EDITOR_A].id)
    )
    names = {
        "org_a": org_a.id,
        "org_b": org_b.id,
        "org_pending": org_pending.id,
        "campaign_a": campaign.id,
        "draft_a": CampaignFactory(organization=org_a, status="draft").id,
        "update_a": _update(campaign).id,
        "editor_membership": editor.id,
        "invitation": invitation.id,
        "invitation_token": INVITATION_TOKEN,
        "reset_token": accounts.make_reset_token(users[table.DONOR], app.config["SECRET_KEY"]),
        "verify_token": accounts.make_verification_token(
            users[table.DONOR], app.config["SECRET_KEY"]
        ),
        "language": "en",
        "overdue_name": "overdue",
        "version_2": 2,
        **_compliance(app, org_a),
        **_gift(campaign),
        **_fund(app, org_a, users[table.FINANCE_A]),
        "project_a": _project(org_a).id,
        "trust_a": _trust(org_a).id,
        **_payments(org_a, users[table.OWNER_A]),
        **_money_awaiting(campaign, users[table.OWNER_A]),
        **_giving_day(app, org_a, org_pending, campaign, users),
        **_cover(app, campaign),
    }
    names.update(_enforcement(app, org_a, campaign))
    return World(users, names)


_COVER: list[bytes] = []


def _cover(app: Flask, campaign) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    """A cover picture of campaign A (one small WebP, encoded once per test session)."""
    import io

    from PIL import Image as PILImage

    from charity.models import Image, ImageVariant
    from charity.services import uploads

    if not _COVER:
        output = io.BytesIO()
        PILImage.new("RGB", (480, 270), (180, 35, 42)).save(output, "WEBP")
        _COVER.append(output.getvalue())
    stored = uploads.store_file(app.config["UPLOAD_DIR"], _COVER[0])
    variant = db.session.get(ImageVariant, stored.sha256) or ImageVariant(
        sha256=stored.sha256, content_type="image/webp", width=480, height=270, size=stored.size
    )
    image = Image(kind="cover", organization_id=campaign.organization_id, width=480, height=270)
    image.variants = [variant]
    campaign.cover_image = image
    campaign.cover_alt = "红色的封面"
    db.session.flush()
    return {"cover_sha256": stored.sha256}


def _project(org):  # type: ignore[no-untyped-def]
    """A charitable project of A (CL art. 79)."""
    from datetime import date

    from charity.models import CharitableProject

    project = CharitableProject(
        organization_id=org.id, title="社区助餐项目", start_date=date(2025, 1, 1),
        planned_end_date=date(2026, 6, 30),
    )  # fmt: skip
    db.session.add(project)
    db.session.flush()
    return project


def _trust(org):  # type: ignore[no-untyped-def]
    """A charitable trust with A as trustee (Order 81 art. 12)."""
    from datetime import date

    from charity.models import CharitableTrust, TrustSettlor

    trust = CharitableTrust(
        name="示例助学慈善信托", filing_number="示例备案-0001", filing_date=date(2025, 3, 10),
        filing_authority="广州市民政局", province="广东省", trustee_org_id=org.id,
        purpose="助学", assets_fen=100_000, established_on=date(2025, 3, 1),
    )  # fmt: skip
    trust.settlors.append(TrustSettlor(name="示例公司", amount_fen=100_000))
    db.session.add(trust)
    db.session.flush()
    return trust


_MERCHANT_KEYS: list = []


def _payments(org, owner) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    """payments: an Alipay merchant account of A, a reconciliation run with a difference,
    a pending change of A's Stripe account requested by its owner (issue 15 finding 12)."""
    import json
    from datetime import date

    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    from charity.models import (
        MerchantAccount,
        PayoutChange,
        ReconciliationDifference,
        ReconciliationRun,
    )
    from charity.payments import vault

    if not _MERCHANT_KEYS:  # one key per session: making an RSA key costs ~0.1 s
        _MERCHANT_KEYS.append(rsa.generate_private_key(public_exponent=65537, key_size=2048))
    key = _MERCHANT_KEYS[0]
    private = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()  # fmt: skip
    public = (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    account = MerchantAccount(
        organization_id=org.id, provider="alipay", public_id="2021000000009999",
        settings_json=json.dumps({"alipay_public_key": public}),
        secrets_token=vault.seal({"app_private_key": private}),
    )  # fmt: skip
    run = ReconciliationRun(
        organization_id=org.id, provider="alipay", account=account.public_id,
        day=date(2025, 1, 2), status="ok", difference_count=1,
    )  # fmt: skip
    run.differences.append(
        ReconciliationDifference(kind="ours_only", line_kind="payment", reference="G1T1")
    )
    change = PayoutChange(
        organization_id=org.id, provider="stripe", public_id="acct_WORLDnew0001",
        requested_by_id=owner.id, effective_at=utcnow() + timedelta(hours=48),
    )  # fmt: skip
    db.session.add_all([account, run, change])
    db.session.flush()
    return {
        "payout_change": change.id,
        "alipay_account": account.id,
        "alipay": "alipay",
        "wechatpay": "wechatpay",
        "reconciliation_run": run.id,
        "reconciliation_difference": run.differences[0].id,
    }


def _giving_day(app: Flask, org, pending_org, campaign, users) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    """A giving day on now with campaign A applied to it, a matching pool held by A with a
    sponsor payment recorded by A's finance member (its bank slip on disk), a visible and a
    hidden team of campaign A, a pledge to A and one to the pending org."""
    from charity.models import (
        GivingDay,
        GivingDayCampaign,
        MatchingPool,
        Pledge,
        SponsorPayment,
        Team,
    )

    supporter = users[table.DONOR]

    today = utcnow().date()
    event = GivingDay(name="99 公益日", start_date=today, end_date=today + timedelta(days=2))
    db.session.add(event)
    db.session.flush()
    entry = GivingDayCampaign(event_id=event.id, campaign_id=campaign.id, status="applied")
    pool = MatchingPool(
        event_id=event.id, organization_id=org.id, sponsor_name="示例科技有限公司",
        total_fen=1_000_000,
    )  # fmt: skip
    team = Team(campaign_id=campaign.id, creator_id=supporter.id, name="越秀跑团", goal_fen=10_000)
    hidden = Team(
        campaign_id=campaign.id, creator_id=supporter.id, name="隐藏的队", goal_fen=10_000,
        hidden=True, hidden_reason="广告", hidden_at=utcnow(),
    )  # fmt: skip

    def pledge(organization_id: int) -> Pledge:
        return Pledge(
            event_id=event.id, organization_id=organization_id, company_name="示例建材有限公司",
            company_uscc="91440101MA0000001X", amount_fen=500_000,
            due_date=today + timedelta(days=30),
        )  # fmt: skip

    pledge_a, pledge_pending = pledge(org.id), pledge(pending_org.id)
    db.session.add_all([entry, pool, team, hidden, pledge_a, pledge_pending])
    db.session.flush()
    slip = uploads.store_file(app.config["UPLOAD_DIR"], b"%PDF-1.4\n% bank slip\n%%EOF\n")
    payment = SponsorPayment(
        pool_id=pool.id, amount_fen=100_000, received_on=today, reference="ICBC-SLIP-1",
        slip_sha256=slip.sha256, slip_content_type=slip.content_type, slip_size=slip.size,
        recorded_by_id=users[table.FINANCE_A].id,
    )  # fmt: skip
    db.session.add(payment)
    db.session.flush()
    return {
        "sponsor_payment_a": payment.id,
        "event_a": event.id,
        "event_entry": entry.id,
        "pool_a": pool.id,
        "team_a": team.id,
        "hidden_team": hidden.id,
        "pledge_a": pledge_a.id,
        "pending_pledge": pledge_pending.id,
    }


def _update(campaign):  # type: ignore[no-untyped-def]
    update = CampaignUpdate(campaign=campaign, title="进展", body_md="第一批", posted_at=utcnow())
    db.session.add(update)
    db.session.flush()
    return update


def _compliance(app: Flask, org) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    """A corrected disclosure with a PDF attachment on disk, and an obligation it fulfils."""
    import hashlib
    from pathlib import Path

    from charity.models.disclosure import (
        Disclosure,
        DisclosureAttachment,
        DisclosureVersion,
        Obligation,
    )
    from charity.services.disclosures import attachment_path

    pdf = b"%PDF-1.4\n% matrix test attachment\n%%EOF\n"
    sha = hashlib.sha256(pdf).hexdigest()
    path: Path = attachment_path(app.config["UPLOAD_DIR"], sha)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(pdf)
    disclosure = Disclosure(
        organization_id=org.id, disclosure_type="annual_work_report", subject_key="org",
        period_key="2024", latest_version=2, first_published_at=utcnow(),
    )  # fmt: skip
    for number in (1, 2):
        disclosure.versions.append(
            DisclosureVersion(version=number, title=f"报告 v{number}", body_md="正文",
                              fields_json="{}", content_hash=f"{number:02d}" * 32,
                              correction_note="更正" if number == 2 else "")
        )  # fmt: skip
    disclosure.versions[1].attachments.append(
        DisclosureAttachment(sha256=sha, filename="报告.pdf", size_bytes=len(pdf))
    )
    plain = Disclosure(
        organization_id=org.id, disclosure_type="annual_work_report", subject_key="org",
        period_key="2023", latest_version=1, first_published_at=utcnow(),
    )  # fmt: skip
    plain.versions.append(
        DisclosureVersion(version=1, title="2023 报告", body_md="正文", fields_json="{}",
                          content_hash="03" * 32)
    )  # fmt: skip
    db.session.add_all([disclosure, plain])
    db.session.flush()
    obligation = Obligation(
        key=f"{org.id}:annual_work_report:org:2024", organization_id=org.id,
        rule_code="CL78-annual", disclosure_type="annual_work_report", subject_key="org",
        period_key="2024", triggered_on=utcnow().date(), due_date=utcnow().date(),
        fulfilled_on=utcnow().date(), disclosure_id=disclosure.id,
    )  # fmt: skip
    db.session.add(obligation)
    db.session.flush()
    return {"disclosure_a": disclosure.id, "plain_disclosure": plain.id,
            "obligation_a": obligation.id,
            "attachment_sha256": sha}  # fmt: skip


def _gift(campaign) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    """A succeeded gift with a receipt, and the public log entry of an event."""
    from charity.core.events import record_event
    from charity.models import Donation

    donation = Donation(
        organization_id=campaign.organization_id, campaign_id=campaign.id, amount_fen=8800,
        status="succeeded", donor_name="王小明", donor_email="gift@example.org",
        succeeded_at=utcnow(), receipt_number="TEST-2025-000001", receipt_year=2025,
        receipt_seq=1,
    )  # fmt: skip
    db.session.add(donation)
    from charity.models.gifts import RecurringGift

    # A monthly gift that never reached Stripe (pending): its page is the token holder's.
    monthly = RecurringGift(
        organization_id=campaign.organization_id, campaign_id=campaign.id, amount_fen=3000,
        status="pending", donor_name="王小明", donor_email="gift@example.org",
    )  # fmt: skip
    db.session.add(monthly)
    db.session.flush()
    results = record_event(db.session, "matrix.seeded", {"n": 1})
    return {
        "gift": donation.id,
        "gift_token": donation.public_token,
        "monthly_token": monthly.public_token,
        "log_index": next((r for r in results if isinstance(r, int)), 0),
    }


def _second_account(org, owner):  # type: ignore[no-untyped-def]
    """The owner's second account: invited by the owner as finance and accepted today
    (through the real invitation service), address confirmed, two-factor on."""
    from charity.services import organizations
    from tests.support.factories import TOTP_SECRET

    alias = UserFactory(email="owner.alias@example.org", password_hash=_password_hash())
    result = organizations.invite_member(db.session, owner, org, alias.email, "finance")
    organizations.accept_invitation(db.session, alias, result.token)
    alias.totp_secret, alias.totp_enabled_at = TOTP_SECRET, utcnow()
    db.session.flush()
    return alias


def _money_awaiting(campaign, owner) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    """Four eyes (issue 15): a refund request and a recorded bank transfer, both of A's
    owner, waiting for a second person."""
    from datetime import date

    from charity.models import Donation, OfflineGiftDetail, RefundRequest

    paid = Donation(
        organization_id=campaign.organization_id, campaign_id=campaign.id, amount_fen=900_000,
        status="succeeded", donor_name="李大额", donor_email="big@example.org",
        succeeded_at=utcnow(),
    )  # fmt: skip
    transfer = Donation(
        organization_id=campaign.organization_id, campaign_id=campaign.id, amount_fen=800_000,
        channel="bank_transfer", status="pending", donor_name="某公司",
    )  # fmt: skip
    db.session.add_all([paid, transfer])
    db.session.flush()
    request = RefundRequest(
        donation_id=paid.id, amount_fen=900_000, reason="捐赠人要求退款", requested_by_id=owner.id
    )
    detail = OfflineGiftDetail(
        donation_id=transfer.id, kind="bank_transfer", received_on=date(2025, 1, 2),
        bank_reference="BANK-REF-1", evidence_sha256="0" * 64,
        evidence_content_type="application/pdf", evidence_size=10, recorded_by_id=owner.id,
    )  # fmt: skip
    db.session.add_all([request, detail])
    db.session.flush()
    return {"refund_request": request.id, "awaiting_gift": transfer.id}


def _fund(app: Flask, org, requester) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    """A community fund of A with a requested and an executed disbursement (evidence on disk)."""
    import hashlib

    from charity.models import FundTransfer
    from charity.models.disbursement import Disbursement
    from charity.services import uploads
    from tests.support.factories import FundFactory

    fund = FundFactory(organization=org)
    evidence = b"%PDF-1.4\n% evidence\n%%EOF\n"
    stored = uploads.store_file(app.config["UPLOAD_DIR"], evidence, 10_000)
    assert stored.sha256 == hashlib.sha256(evidence).hexdigest()

    def disbursement(status: str, kind: str = "organization") -> Disbursement:
        row = Disbursement(
            organization_id=org.id, fund_id=fund.id, amount_fen=100,
            purpose_category="elderly_care", purpose="长者午餐", beneficiary_kind=kind,
            beneficiary_name="北京街道长者饭堂", evidence_sha256=stored.sha256,
            evidence_content_type=stored.content_type, status=status,
            requested_by_id=requester.id,
        )  # fmt: skip
        db.session.add(row)
        return row

    requested, executed = disbursement("requested"), disbursement("executed")
    individual = disbursement("executed", "individual")  # evidence private (finding 7)
    # money leaving the fund waits for a second person (issue 15 finding 6)
    transfer = FundTransfer(
        fund=fund, direction="to_host", amount_fen=100, reason="退回", status="requested",
        created_by_id=requester.id,
    )  # fmt: skip
    db.session.add(transfer)
    db.session.flush()
    return {
        "fund_a": fund.id,
        "transfer_request": transfer.id,
        "requested_disbursement": requested.id,
        "executed_disbursement": executed.id,
        "executed_individual": individual.id,
        "this_year": today_cst().year,
    }


def _invitation(org, email: str, inviter) -> Invitation:  # type: ignore[no-untyped-def]
    invitation = Invitation(
        organization_id=org.id,
        email=email,
        role="editor",
        token_hash=hash_token(INVITATION_TOKEN),
        expires_at=utcnow() + timedelta(days=7),
        invited_by_id=inviter.id,
    )
    db.session.add(invitation)
    db.session.flush()
    return invitation


def _enforcement(app: Flask, org, campaign) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    """A complaint about A's campaign with evidence on disk (issue 16 point 15)."""
    from datetime import date

    from charity.models import Complaint
    from charity.services import uploads
    from charity.services.complaints import hash_code

    evidence = uploads.store_file(app.config["UPLOAD_DIR"], b"%PDF-1.4\n% evidence\n%%EOF\n")
    evidence_sha256 = evidence.sha256

    complaint = Complaint(
        reference="JB20260105-MATRIX00", check_code_hash=hash_code("CODE2345"),
        organization_id=org.id, campaign_id=campaign.id, category="other", body="一段描述",
        is_anonymous=True, evidence_sha256=evidence_sha256, evidence_type="application/pdf",
        received_at=utcnow(), received_on=date(2026, 1, 5), reply_due_on=date(2026, 1, 12),
    )  # fmt: skip
    db.session.add(complaint)
    db.session.flush()
    return {"complaint_a": complaint.id}
