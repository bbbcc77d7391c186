"""Money waiting for a second person is mailed to those who can approve it (issue 15
follow-up, charity/services/approval_mail.py): every owner and finance member of the
organization except the person who asked, once, after the commit; never a member without
the role, never another organization's member, nothing when the request rolls back."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from charity.core import uow
from charity.extensions import db
from charity.models import RefundRequest
from charity.services import approval_mail, donations, refund_approvals
from tests.support.factories import MembershipFactory, session_id
from tests.support.payments import give, pay

THRESHOLD = 5000  # ¥50: the gifts here are ¥88


@pytest.fixture
def org(app, client, campaign, monkeypatch):  # type: ignore[no-untyped-def]
    """A paid ¥88 gift and the people around its organization."""
    monkeypatch.setitem(app.config, "REFUND_FOUR_EYES_FEN", THRESHOLD)
    donation = give(client, campaign)
    assert pay(client, donation).json["status"] == "succeeded"
    organization = donation.organization
    people = {
        "requester": MembershipFactory(organization=organization, role="finance").user,
        "owner": MembershipFactory(organization=organization, role="owner").user,
        "finance": MembershipFactory(organization=organization, role="finance").user,
        "editor": MembershipFactory(organization=organization, role="editor").user,
        "removed": MembershipFactory(organization=organization, role="finance").user,
        "outsider": MembershipFactory(role="finance").user,  # another organization's
    }
    people["removed"].memberships[0].ended_at = db.func.now()
    db.session.commit()
    db.session.refresh(donation)
    return donation, people


def _request(client, donation):  # type: ignore[no-untyped-def]
    url = f"/orgs/{donation.organization_id}/donations/{donation.id}/refund"
    return client.post(url, data={"amount": "88", "reason": "捐赠人要求退款"})


def _as(app, user):  # type: ignore[no-untyped-def]
    client = app.test_client()
    with client.session_transaction() as session:
        session["_user_id"] = session_id(user)
        session["_fresh"] = True
    db.session.commit()
    return client


def test_a_refund_request_mails_each_other_finance_member_once(app, org, mail_outbox):
    donation, people = org
    mail_outbox.clear()
    answer = _request(_as(app, people["requester"]), donation)
    assert answer.status_code == 302 and answer.headers["Location"].endswith("/approvals")
    recipients = sorted(m["To"] for m in mail_outbox)
    assert recipients == sorted([people["owner"].email, people["finance"].email])
    for left_out in ("requester", "editor", "removed", "outsider"):
        assert people[left_out].email not in recipients
    mail = mail_outbox[0]
    body = mail.get_body(("plain",)).get_content()
    chinese, english = body.split("----")
    assert "¥88.00" in mail["Subject"] and "等待" in mail["Subject"]
    assert "退款" in chinese and "¥88.00" in chinese and "捐赠人要求退款" in chinese
    assert "refund" in english and "¥88.00" in english
    assert f"http://localhost/orgs/{donation.organization_id}/approvals" in chinese
    assert people["requester"].name in body
    for code in ("refund_requested", "pending", "8800", "CNY"):
        assert code not in body


def test_a_refund_request_rolled_back_mails_no_one(app, org, mail_outbox):
    donation, people = org
    mail_outbox.clear()
    command = donations.RefundCommand(donation.id, 8800, "捐赠人要求退款")
    with pytest.raises(RuntimeError), uow.unit_of_work():
        refund_approvals.request_refund(db.session, people["requester"], command)
        raise RuntimeError("the request failed after it was queued")
    assert mail_outbox == []
    assert db.session.scalar(sa.select(sa.func.count()).select_from(RefundRequest)) == 0
    with uow.unit_of_work():
        refund_approvals.request_refund(db.session, people["requester"], command)
    assert len(mail_outbox) == 2


def test_a_request_decided_before_the_mail_is_built_is_not_announced(app, org, mail_outbox):
    donation, people = org
    command = donations.RefundCommand(donation.id, 8800, "捐赠人要求退款")
    request = refund_approvals.request_refund(db.session, people["requester"], command)
    refund_approvals.reject_request(
        db.session, people["finance"], donation.organization_id, request.id, "金额有误"
    )
    with app.test_request_context():
        assert approval_mail.build_mails(approval_mail.Waiting("refund", request.id)) == []
    with pytest.raises(ValueError):
        approval_mail.queue("payout", 1)
