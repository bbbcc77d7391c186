"""Fund creation rules: the name, the committee (≥5, odd, unpaid, a supervisor), the host."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from charity.extensions import db
from charity.models import Fund, LedgerAccount
from charity.services import funds
from tests.support.factories import MembershipFactory, OrganizationFactory, UserFactory
from tests.support.funds import new_fund_command, seats


def _refused(people, field: str, **kw):  # type: ignore[no-untyped-def]
    committee = kw.pop("committee", seats())
    with pytest.raises(funds.FundError) as caught:
        funds.create_fund(db.session, people.owner, new_fund_command(people.host, committee, **kw))
    assert caught.value.field == field
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Fund)) == 0
    return caught.value


def test_valid_fund_is_created_with_ledger_account_and_event(people, recorded_events):
    fund = funds.create_fund(
        db.session, people.owner, new_fund_command(people.host, seats(people.committee))
    )
    assert fund.status == "active" and len(fund.active_committee) == 5
    assert [m.user for m in fund.active_committee] == people.committee
    account = db.session.scalars(sa.select(LedgerAccount).where(LedgerAccount.fund_id == fund.id))
    assert [a.key for a in account] == [f"fund:{fund.id}:restricted:CNY"]
    (created,) = [e for e in recorded_events if e.type == "fund.created"]
    assert created.data["org_uscc"] == people.host.uscc and created.data["fund_id"] == fund.id


def test_four_members_refused(people):
    error = _refused(people, "committee", committee=seats()[:4])
    assert "five" in error.message


def test_six_members_refused(people):
    error = _refused(people, "committee", committee=(*seats(), funds.Seat("第六人")))
    assert "odd" in error.message


def test_no_supervisor_refused(people):
    committee = tuple(funds.Seat(f"委员{i}", "member") for i in range(5))
    assert "supervisor" in _refused(people, "committee", committee=committee).message


def test_paid_member_refused(people):
    committee = (*seats()[:4], funds.Seat("周监事", "supervisor", unpaid=False))
    assert "unpaid" in _refused(people, "committee", committee=committee).message


def test_unknown_member_email_refused(people):
    committee = (*seats()[:4], funds.Seat("周监事", "supervisor", user_email="nobody@x.org"))
    _refused(people, "committee", committee=committee)


def test_name_must_start_with_host_and_end_with_suffix(people):
    _refused(people, "name", name=f"{people.host.name}长者关爱基金")
    _refused(people, "name", name=f"{people.host.name}社区慈善基金")  # no own name in between
    _refused(people, "sponsor_reason", name="某某科技社区慈善基金")


def test_sponsor_name_needs_a_reason(people):
    fund = funds.create_fund(
        db.session,
        people.owner,
        new_fund_command(
            people.host, seats(), name="某某科技社区慈善基金", sponsor_reason="由某某科技全额发起"
        ),
    )
    assert fund.sponsor_reason == "由某某科技全额发起"


def test_only_the_verified_hosts_owner_creates(people):
    for actor in (people.finance, people.donor, people.regulator, people.other_editor):
        with pytest.raises(PermissionError):
            funds.create_fund(db.session, actor, new_fund_command(people.host, seats()))
    applying = OrganizationFactory(status="pending")  # an application is never un-verified
    owner = MembershipFactory(organization=applying, role="owner", user=UserFactory()).user
    with pytest.raises(funds.FundError) as caught:
        funds.create_fund(db.session, owner, new_fund_command(applying, seats()))
    assert caught.value.field is None
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Fund)) == 0


def test_committee_change_checked_and_history_kept(people, fund):
    with pytest.raises(funds.FundError):
        funds.replace_committee(db.session, people.owner, fund.id, seats()[:4])
    assert len(fund.active_committee) == 5
    seven = (*seats(), funds.Seat("新委员甲"), funds.Seat("新委员乙", "supervisor"))
    funds.replace_committee(db.session, people.owner, fund.id, seven)
    assert len(fund.active_committee) == 7 and len(fund.committee) == 12
    with pytest.raises(PermissionError):
        funds.replace_committee(db.session, people.finance, fund.id, seven)


def test_database_refuses_a_paid_member(people, fund):
    fund.committee[0].unpaid = False
    with pytest.raises(sa.exc.IntegrityError):
        db.session.flush()
    db.session.rollback()
