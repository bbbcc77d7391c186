"""Refunds above REFUND_FOUR_EYES_FEN need two different people (issue 15: four eyes for
every outflow, charity/services/four_eyes.py; 慈善法 art. 105). One owner or finance member
requests, a second one approves, and only then is the money given back at the provider
(real Stripe SDK against localstripe). Below the threshold nothing changed."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from charity.core import uow
from charity.extensions import db
from charity.models import AuditEntry, Refund, RefundRequest
from charity.services import donations, organizations, refund_approvals
from tests.support.factories import TOTP_SECRET, MembershipFactory, UserFactory, second_person
from tests.support.payments import give, pay

THRESHOLD = 5000  # ¥50: the gifts here are ¥88


@pytest.fixture
def paid(app, client, campaign, monkeypatch):  # type: ignore[no-untyped-def]
    monkeypatch.setitem(app.config, "REFUND_FOUR_EYES_FEN", THRESHOLD)
    donation = give(client, campaign)
    assert pay(client, donation).json["status"] == "succeeded"
    db.session.refresh(donation)
    return donation


@pytest.fixture
def people(paid):  # type: ignore[no-untyped-def]
    organization = paid.organization
    requester = MembershipFactory(organization=organization, role="finance").user
    second = second_person(MembershipFactory(organization=organization, role="owner").user)
    db.session.commit()
    return requester, second


def _as(app, user):  # type: ignore[no-untyped-def]
    from tests.support.factories import session_id

    client = app.test_client()
    with client.session_transaction() as session:
        session["_user_id"] = session_id(user)
        session["_fresh"] = True
    db.session.commit()
    return client


def _refund(client, donation, amount: str, reason: str = "捐赠人要求退款"):  # type: ignore[no-untyped-def]
    url = f"/orgs/{donation.organization_id}/donations/{donation.id}/refund"
    return client.post(url, data={"amount": amount, "reason": reason})


def _approve(client, request_row):  # type: ignore[no-untyped-def]
    org_id = request_row.donation.organization_id
    return client.post(f"/orgs/{org_id}/refund-requests/{request_row.id}/approve")


def _entries(event_type: str) -> list[AuditEntry]:
    return list(
        db.session.scalars(sa.select(AuditEntry).where(AuditEntry.event_type == event_type))
    )


def _refunds(donation) -> list[Refund]:  # type: ignore[no-untyped-def]
    return list(db.session.scalars(sa.select(Refund).where(Refund.donation_id == donation.id)))


def test_below_the_threshold_a_refund_is_made_at_once(app, paid, people):
    requester, _second = people
    answer = _refund(_as(app, requester), paid, "30")
    assert answer.status_code == 302 and answer.headers["Location"].endswith("/donations")
    db.session.refresh(paid)
    assert paid.status == "partially_refunded" and paid.refunded_fen == 3000
    assert db.session.scalar(sa.select(sa.func.count()).select_from(RefundRequest)) == 0


def test_above_the_threshold_one_person_requests_another_approves(app, paid, people, mail_outbox):
    requester, second = people
    mail_outbox.clear()
    answer = _refund(_as(app, requester), paid, "88")
    assert answer.status_code == 302 and answer.headers["Location"].endswith("/approvals")
    db.session.refresh(paid)
    assert paid.status == "succeeded" and paid.refunded_fen == 0 and _refunds(paid) == []
    [waiting] = db.session.scalars(sa.select(RefundRequest)).all()
    assert (waiting.status, waiting.amount_fen, waiting.requested_by_id) == (
        "pending",
        8800,
        requester.id,
    )
    [entry] = _entries("donation.refund_requested")
    assert '"amount_fen":8800' in entry.payload and "捐赠人要求退款" not in entry.payload
    # the donor hears of the refund when it is made; the other finance member now
    assert [m["To"] for m in mail_outbox] == [second.email]
    mail_outbox.clear()

    page = _as(app, second).get(f"/orgs/{paid.organization_id}/approvals")
    assert page.status_code == 200 and "退款" in page.get_data(as_text=True)

    assert _approve(_as(app, second), waiting).status_code == 303
    db.session.refresh(paid)
    db.session.refresh(waiting)
    assert paid.status == "refunded" and paid.refunded_fen == 8800
    [refund] = _refunds(paid)
    assert refund.provider_refund_id.startswith("re_")  # given back at Stripe (localstripe)
    assert refund.created_by_id == requester.id
    assert (waiting.status, waiting.approved_by_id, waiting.refund_id) == (
        "approved",
        second.id,
        refund.id,
    )
    assert len(_entries("donation.refunded")) == 1
    assert [m["To"] for m in mail_outbox] == ["donor@example.org"]


def test_the_requester_cannot_approve_their_own_refund(app, paid, people):
    requester, _second = people
    second_person(requester)  # qualified in every other way
    db.session.commit()
    client = _as(app, requester)
    _refund(client, paid, "88")
    waiting = db.session.scalars(sa.select(RefundRequest)).one()
    page = client.get(f"/orgs/{paid.organization_id}/approvals").get_data(as_text=True)
    assert "不能批准" in page or "cannot approve" in page
    answer = _approve(client, waiting)
    assert answer.status_code == 303
    db.session.refresh(waiting)
    db.session.refresh(paid)
    assert waiting.status == "pending" and paid.refunded_fen == 0 and _refunds(paid) == []
    # the database refuses it too
    waiting.approved_by_id = requester.id
    with pytest.raises(sa.exc.IntegrityError):
        db.session.flush()
    db.session.rollback()


def test_a_second_account_of_the_same_person_cannot_approve(app, paid, people):
    """The owner invites another address of their own as finance, turns 2FA on for it and
    approves with it: refused, the membership is too new (FOUR_EYES_MIN_MEMBERSHIP_DAYS)."""
    _requester, owner = people
    alias = UserFactory(email="owner.alias@example.org")
    result = organizations.invite_member(
        db.session, owner, paid.organization, alias.email, "finance"
    )
    organizations.accept_invitation(db.session, alias, result.token)
    alias.totp_secret, alias.totp_enabled_at = TOTP_SECRET, db.func.now()
    db.session.commit()
    _refund(_as(app, owner), paid, "88")
    waiting = db.session.scalars(sa.select(RefundRequest)).one()
    _approve(_as(app, alias), waiting)
    db.session.refresh(waiting)
    assert waiting.status == "pending" and _refunds(paid) == []


def test_a_large_refund_split_into_small_ones_still_needs_two_people(app, paid, people):
    requester, _second = people
    client = _as(app, requester)
    assert _refund(client, paid, "40").headers["Location"].endswith("/donations")
    assert _refund(client, paid, "40").headers["Location"].endswith("/approvals")
    db.session.refresh(paid)
    assert paid.refunded_fen == 4000
    # and the service refuses it on any other path
    command = donations.RefundCommand(paid.id, 4000, "再退")
    with pytest.raises(donations.DonationError, match="second person"):
        donations.refund_donation(db.session, requester, command)


def test_a_refund_request_is_turned_down_with_a_reason(app, paid, people):
    requester, second = people
    _refund(_as(app, requester), paid, "88")
    waiting = db.session.scalars(sa.select(RefundRequest)).one()
    url = f"/orgs/{paid.organization_id}/refund-requests/{waiting.id}/reject"
    client = _as(app, second)
    assert client.post(url, data={"reason": ""}).status_code == 303
    db.session.refresh(waiting)
    assert waiting.status == "pending"  # no reason: nothing decided
    assert client.post(url, data={"reason": "金额有误"}).status_code == 303
    db.session.refresh(waiting)
    assert (waiting.status, waiting.rejected_by_id) == ("rejected", second.id)
    assert len(_entries("donation.refund_rejected")) == 1
    assert _approve(client, waiting).status_code == 303  # decided: approving does nothing
    db.session.refresh(paid)
    assert paid.refunded_fen == 0 and _refunds(paid) == []


def test_one_waiting_request_per_gift_and_bad_input_changes_nothing(app, paid, people):
    requester, _second = people
    client = _as(app, requester)
    _refund(client, paid, "88")
    again = _refund(client, paid, "60")
    assert again.status_code == 400 and "等待" in again.get_data(as_text=True)
    for amount in ("88.01", "0", "abc"):
        assert _refund(client, paid, amount).status_code == 400
    assert db.session.scalar(sa.select(sa.func.count()).select_from(RefundRequest)) == 1
    # another organization's member cannot see or decide it
    outsider = second_person(MembershipFactory(role="owner").user)
    db.session.commit()
    waiting = db.session.scalars(sa.select(RefundRequest)).one()
    answer = _as(app, outsider).post(
        f"/orgs/{outsider.memberships[0].organization_id}/refund-requests/{waiting.id}/approve"
    )
    assert answer.status_code == 404
    db.session.refresh(waiting)
    assert waiting.status == "pending"


# --- the donor's refund mail: an after-commit effect of the refund itself --------------


def _donor_mails(outbox) -> list:  # type: ignore[no-untyped-def]
    return [m for m in outbox if m["To"] == "donor@example.org"]


def test_an_approved_refund_mails_the_donor_once_after_the_commit(app, paid, people, mail_outbox):
    requester, second = people
    _refund(_as(app, requester), paid, "88")
    waiting = db.session.scalars(sa.select(RefundRequest)).one()
    assert _donor_mails(mail_outbox) == []
    assert _approve(_as(app, second), waiting).status_code == 303
    [mail] = _donor_mails(mail_outbox)
    body = mail.get_body(("plain",)).get_content()
    assert "已退款" in mail["Subject"] or "退" in mail["Subject"]
    assert "¥88.00" in body and "捐赠人要求退款" in body
    # a provider's repeat notification of the same refund books nothing and mails nothing
    [refund] = _refunds(paid)
    with uow.unit_of_work():
        outcome = donations.record_provider_refund(
            db.session, paid.id, "stripe", refund.provider_refund_id, 8800
        )
    assert outcome == "unchanged" and len(_donor_mails(mail_outbox)) == 1


def test_an_approval_rolled_back_sends_no_mail(app, paid, people, mail_outbox):
    requester, second = people
    _refund(_as(app, requester), paid, "88")
    waiting = db.session.scalars(sa.select(RefundRequest)).one()
    org_id = paid.organization_id
    with pytest.raises(RuntimeError), uow.unit_of_work():
        made = refund_approvals.approve_request(db.session, second, org_id, waiting.id)
        assert made.refund_id is not None  # the refund was booked in this unit of work
        raise RuntimeError("something after it failed")
    assert _donor_mails(mail_outbox) == []
    assert _refunds(paid) == [] and db.session.get(RefundRequest, waiting.id).status == "pending"
    # the same approval, committed, sends it once
    with uow.unit_of_work():
        refund_approvals.approve_request(db.session, second, org_id, waiting.id)
    assert len(_donor_mails(mail_outbox)) == 1


def test_a_refund_the_provider_reports_mails_the_donor_once(app, paid, mail_outbox):
    for _attempt in range(2):
        with uow.unit_of_work():
            donations.record_provider_refund(db.session, paid.id, "stripe", "re_dashboard1", 1000)
    [mail] = _donor_mails(mail_outbox)
    assert "¥10.00" in mail.get_body(("plain",)).get_content()


def test_a_refund_made_at_once_mails_the_donor(app, paid, people, mail_outbox):
    requester, _second = people
    assert _refund(_as(app, requester), paid, "30").status_code == 302
    [mail] = _donor_mails(mail_outbox)
    assert "¥30.00" in mail.get_body(("plain",)).get_content()
