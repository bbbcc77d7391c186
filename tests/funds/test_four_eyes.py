"""Four eyes by two different PEOPLE (issue 15 finding 6).

On the old code an owner invited a second account of their own as finance and approved
their own disbursement with it the same minute, and a fund-to-host transfer needed no
second person at all. The second person must now be another user with a confirmed
address, two-factor on and a membership (or committee seat) older than
FOUR_EYES_MIN_MEMBERSHIP_DAYS — one rule, charity/services/four_eyes.py, for every outflow.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine

from charity.extensions import db
from charity.models import Membership
from charity.models.base import utcnow
from charity.services import disbursements as svc
from charity.services import four_eyes, funds, organizations
from charity.services.pools import Pool, pool_balance
from tests.support.factories import TOTP_SECRET, UserFactory, log_in, second_person
from tests.support.funds import day, gift


def _request(people, fund, evidence, actor):  # type: ignore[no-untyped-def]
    command = svc.DisbursementRequest(
        Pool("fund", fund.id), 5000, "food", "社区食堂食材", "organization", "街道食堂", evidence
    )
    return svc.request_disbursement(db.session, actor, command)


def _second_account_of_the_owner(people):  # type: ignore[no-untyped-def]
    """The owner invites another address of their own as finance and accepts it."""
    alias = UserFactory(email="owner.alias@example.org")
    result = organizations.invite_member(
        db.session, people.owner, people.host, alias.email, "finance"
    )
    organizations.accept_invitation(db.session, alias, result.token)
    return alias


def test_owner_cannot_approve_with_a_second_account_of_their_own(people, fund, evidence):
    gift(fund, 10000, day(1))
    alias = _second_account_of_the_owner(people)
    d = _request(people, fund, evidence, people.owner)
    with pytest.raises(svc.DisbursementError, match="two-factor"):
        svc.approve_disbursement(db.session, alias, d.id)
    alias.totp_secret, alias.totp_enabled_at = TOTP_SECRET, utcnow()
    with pytest.raises(svc.DisbursementError, match="too new"):
        svc.approve_disbursement(db.session, alias, d.id)
    assert d.status == "requested" and d.approved_by_id is None
    # The members have FOUR_EYES_MIN_MEMBERSHIP_DAYS to notice the new finance member;
    # after that the account counts as a second person.
    later = utcnow() + timedelta(days=four_eyes.DEFAULT_MIN_MEMBERSHIP_DAYS, minutes=1)
    with time_machine.travel(later, tick=False):
        svc.approve_disbursement(db.session, alias, d.id)
    assert d.approved_by_id == alias.id


def test_the_age_is_configurable(app, monkeypatch, people, fund, evidence):
    gift(fund, 10000, day(1))
    alias = second_person(_second_account_of_the_owner(people), days=0)
    d = _request(people, fund, evidence, people.owner)
    monkeypatch.setitem(app.config, "FOUR_EYES_MIN_MEMBERSHIP_DAYS", 0)
    svc.approve_disbursement(db.session, alias, d.id)
    assert d.status == "approved"


def test_an_unconfirmed_address_cannot_approve(people, fund, evidence):
    gift(fund, 10000, day(1))
    d = _request(people, fund, evidence, people.finance)
    people.finance2.email_verified_at = None
    with pytest.raises(svc.DisbursementError, match="e-mail"):
        svc.approve_disbursement(db.session, people.finance2, d.id)


def test_a_new_committee_seat_cannot_approve(people, fund, evidence):
    gift(fund, 10000, day(1))
    d = _request(people, fund, evidence, people.finance)
    newcomer = second_person(UserFactory())
    funds.replace_committee(
        db.session,
        people.owner,
        fund.id,
        (
            funds.Seat("新主任", "chair", user_email=newcomer.email),
            *(funds.Seat(f"委员{i}", "member") for i in range(3)),
            funds.Seat("监事", "supervisor"),
        ),
    )
    with pytest.raises(svc.DisbursementError, match="too new"):
        svc.approve_disbursement(db.session, newcomer, d.id)


def test_a_readmitted_member_starts_a_new_spell(people):
    membership = db.session.query(Membership).filter_by(user_id=people.finance2.id).one()
    organizations.remove_member(db.session, people.owner, people.host, membership.id)
    result = organizations.invite_member(
        db.session, people.owner, people.host, people.finance2.email, "finance"
    )
    organizations.accept_invitation(db.session, people.finance2, result.token)
    assert membership.since > utcnow() - timedelta(minutes=1)
    refusal = four_eyes.second_person_refusal(people.finance2, people.owner.id, people.host.id)
    assert refusal == four_eyes.TOO_NEW


def test_fund_to_host_transfer_waits_for_a_second_person(people, fund, recorded_events):
    gift(fund, 10000, day(1))
    pool = Pool("fund", fund.id)
    command = funds.TransferCommand(fund.id, "to_host", 4000, "退回部分")
    row = funds.transfer(db.session, people.owner, command)
    assert row.status == "requested" and pool_balance(db.session, pool) == 10000
    assert not [e for e in recorded_events if e.type == "fund.transfer"]
    with pytest.raises(funds.FundError, match="your own"):
        funds.approve_transfer(db.session, people.owner, row.id)
    alias = second_person(_second_account_of_the_owner(people), days=0)
    with pytest.raises(funds.FundError, match="too new"):
        funds.approve_transfer(db.session, alias, row.id)
    with pytest.raises(PermissionError):
        funds.approve_transfer(db.session, people.committee[0], row.id)  # not host staff
    funds.approve_transfer(db.session, people.finance, row.id)
    assert (row.status, row.decided_by_id) == ("posted", people.finance.id)
    assert pool_balance(db.session, pool) == 6000
    assert [e.data["amount_fen"] for e in recorded_events if e.type == "fund.transfer"] == [4000]
    with pytest.raises(funds.FundError, match="decided"):
        funds.approve_transfer(db.session, people.finance2, row.id)


def test_transfer_requests_never_overdraw_at_approval(people, fund):
    gift(fund, 10000, day(1))
    first = funds.transfer(
        db.session, people.owner, funds.TransferCommand(fund.id, "to_host", 7000, "一")
    )
    second = funds.transfer(
        db.session, people.owner, funds.TransferCommand(fund.id, "to_host", 7000, "二")
    )
    funds.approve_transfer(db.session, people.finance, first.id)
    with pytest.raises(funds.FundError, match="less than"):
        funds.approve_transfer(db.session, people.finance, second.id)
    funds.reject_transfer(db.session, people.owner, second.id)  # the requester withdraws
    assert second.status == "rejected" and second.decided_by_id is None


def test_pages_show_why_and_refuse(client, people, fund, evidence):
    gift(fund, 10000, day(1))
    alias = second_person(_second_account_of_the_owner(people), days=0)
    d = _request(people, fund, evidence, people.owner)
    db.session.commit()
    log_in(client, alias)
    page = client.get(f"/disbursements/{d.id}").get_data(as_text=True)
    assert f"/disbursements/{d.id}/approve" not in page and "too new" in page
    response = client.post(f"/disbursements/{d.id}/approve")
    assert response.status_code == 422 and "too new" in response.get_data(as_text=True)
    url = f"/funds/{fund.id}/transfer"
    data = {"direction": "to_host", "amount": "30", "reason": "退回"}
    assert client.post(url, data=data).status_code == 302
    (row,) = funds.pending_transfers(db.session, fund.id)
    page = client.get(url).get_data(as_text=True)
    assert f"/transfers/{row.id}/approve" not in page  # the requester's own
    log_in(client, people.finance)
    page = client.get(url).get_data(as_text=True)
    assert f"/transfers/{row.id}/approve" in page
    assert client.post(f"/funds/{fund.id}/transfers/{row.id}/approve").status_code == 302
    assert row.status == "posted" and pool_balance(db.session, Pool("fund", fund.id)) == 7000
    other = f"/funds/{fund.id + 1}/transfers/{row.id}/approve"
    assert client.post(other).status_code == 404
