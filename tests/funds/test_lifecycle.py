"""Transfers with the host's unrestricted money, earmarking campaigns, closing a fund."""

from __future__ import annotations

import pytest

from charity.extensions import db
from charity.models import Donation
from charity.services import funds, ledger
from charity.services.allocation import check_allocations, compute_allocation
from charity.services.ledger import check_books
from charity.services.pools import Pool, pool_balance
from tests.support.factories import CampaignFactory, MembershipFactory, OrganizationFactory
from tests.support.funds import day, gift, new_fund_command, seats


def _unrestricted_gift(host, fen: int) -> None:  # type: ignore[no-untyped-def]
    donation = Donation(
        organization_id=host.id, amount_fen=fen, status="succeeded", succeeded_at=day(1)
    )
    db.session.add(donation)
    db.session.flush()
    ledger.post_donation(db.session, donation)


def test_transfers_both_ways_balanced_logged_and_allocated(people, fund, recorded_events):
    _unrestricted_gift(people.host, 20000)
    t_in = funds.transfer(
        db.session, people.finance, funds.TransferCommand(fund.id, "to_fund", 15000, "启动资金")
    )
    assert funds.host_unrestricted_fen(db.session, people.host.id) == 5000
    with pytest.raises(funds.FundError):
        funds.transfer(
            db.session, people.finance, funds.TransferCommand(fund.id, "to_fund", 5001, "再划")
        )
    t_out = funds.transfer(
        db.session, people.owner, funds.TransferCommand(fund.id, "to_host", 4000, "退回部分")
    )
    assert t_out.status == "requested"  # money leaving the fund waits for a second person
    assert pool_balance(db.session, Pool("fund", fund.id)) == 15000
    funds.approve_transfer(db.session, people.finance, t_out.id)
    assert pool_balance(db.session, Pool("fund", fund.id)) == 11000
    result = compute_allocation(db.session, Pool("fund", fund.id))
    assert result.unspent == {f"fund_transfer:{t_in.id}": 11000}
    logged = [e.data for e in recorded_events if e.type == "fund.transfer"]
    assert [(e["direction"], e["amount_fen"]) for e in logged] == [
        ("to_fund", 15000),
        ("to_host", 4000),
    ]
    assert t_out.id in [e["transfer_id"] for e in logged]
    problems, _notes = check_books(db.session)
    assert [p for p in problems if "log entries" not in p] == []
    assert check_allocations(db.session) == []
    for actor in (people.donor, people.regulator, people.other_editor):
        with pytest.raises(PermissionError):
            funds.transfer(db.session, actor, funds.TransferCommand(fund.id, "to_host", 1, "x"))


def test_close_only_when_empty_and_logged(people, fund, recorded_events):
    gift(fund, 3000, day(1))
    with pytest.raises(funds.FundError):
        funds.close_fund(db.session, people.owner, fund.id, "项目结束")
    back = funds.transfer(
        db.session, people.owner, funds.TransferCommand(fund.id, "to_host", 3000, "余额转回")
    )
    funds.approve_transfer(db.session, people.finance, back.id)
    with pytest.raises(PermissionError):
        funds.close_fund(db.session, people.finance, fund.id, "项目结束")
    funds.close_fund(db.session, people.owner, fund.id, "项目结束")
    assert fund.status == "closed"
    assert [e.type for e in recorded_events if e.type.startswith("fund.")][-1] == "fund.closed"
    with pytest.raises(funds.FundError):
        funds.open_fund_for_gifts(db.session, fund.id)


def test_earmark_campaign_only_to_same_hosts_fund(people, fund):
    campaign = CampaignFactory(organization=people.host)
    funds.earmark_campaign(db.session, people.finance, campaign.id, fund.id)
    assert campaign.fund_id == fund.id
    other_host = OrganizationFactory()
    other = CampaignFactory(organization=other_host)
    with pytest.raises(PermissionError):
        funds.earmark_campaign(db.session, people.finance, other.id, fund.id)
    MembershipFactory(organization=other_host, role="finance", user=people.finance)
    with pytest.raises(funds.FundError) as caught:  # finance there too, but not the same host
        funds.earmark_campaign(db.session, people.finance, other.id, fund.id)
    assert caught.value.field == "fund_id" and other.fund_id is None
    second = funds.create_fund(
        db.session,
        people.owner,
        new_fund_command(people.host, seats(), name=f"{people.host.name}第二社区慈善基金"),
    )
    funds.earmark_campaign(db.session, people.owner, campaign.id, second.id)
    assert campaign.fund_id == second.id


def test_earmark_through_the_view(client, people, fund):
    from tests.support.factories import log_in

    campaign = CampaignFactory(organization=people.host)
    db.session.commit()
    log_in(client, people.finance)
    url = f"/funds/earmark/{campaign.id}"
    assert fund.name in client.get(url).get_data(as_text=True)
    assert client.post(url, data={"fund_id": str(fund.id)}).status_code == 302
    db.session.refresh(campaign)
    assert campaign.fund_id == fund.id
    assert campaign.title in client.get(f"/funds/{fund.id}").get_data(as_text=True)
    assert client.post(url, data={"fund_id": "999999"}).status_code == 400
    assert client.post(url, data={"fund_id": ""}).status_code == 302
    db.session.refresh(campaign)
    assert campaign.fund_id is None
    client.post("/account/logout")
    log_in(client, people.other_editor)
    assert client.get(url).status_code == 403
