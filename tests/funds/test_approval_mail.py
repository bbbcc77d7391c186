"""A disbursement or a fund-to-host transfer waiting for a second person is mailed to
those who may approve it (charity/services/approval_mail.py): the host's owners and
finance members, and for a fund's disbursement its committee members too; never the
person who asked, never another organization's member; nothing on rollback."""

from __future__ import annotations

import pytest

from charity.core import uow
from charity.extensions import db
from charity.services import disbursements as svc
from charity.services import funds
from charity.services.pools import Pool
from tests.support.funds import day, gift


def _to(outbox) -> list[str]:  # type: ignore[no-untyped-def]
    return sorted(m["To"] for m in outbox)


def test_a_disbursement_request_mails_the_deciders(people, fund, evidence, mail_outbox):
    gift(fund, 10000, day(1))
    db.session.commit()
    mail_outbox.clear()
    command = svc.DisbursementRequest(
        Pool("fund", fund.id), 5000, "food", "社区食堂食材", "organization", "街道食堂", evidence
    )
    with uow.unit_of_work():
        row = svc.request_disbursement(db.session, people.finance, command)
    deciders = [people.owner, people.finance2, *people.committee]
    assert _to(mail_outbox) == sorted(user.email for user in deciders)
    assert people.finance.email not in _to(mail_outbox)
    assert people.other_editor.email not in _to(mail_outbox)
    body = mail_outbox[0].get_body(("plain",)).get_content()
    assert "¥50.00" in body and "社区食堂食材" in body and "拨付" in body
    assert f"/disbursements/{row.id}" in body and "food" not in body.split("----")[0]


def test_a_fund_to_host_transfer_request_mails_the_other_finance_members(people, fund, mail_outbox):
    gift(fund, 10000, day(1))
    db.session.commit()
    mail_outbox.clear()
    command = funds.TransferCommand(fund.id, "to_host", 4000, "退回部分")
    with pytest.raises(RuntimeError), uow.unit_of_work():
        funds.transfer(db.session, people.owner, command)
        raise RuntimeError("rolled back")
    assert mail_outbox == []
    with uow.unit_of_work():
        funds.transfer(db.session, people.owner, command)
    assert _to(mail_outbox) == sorted([people.finance.email, people.finance2.email])
    body = mail_outbox[0].get_body(("plain",)).get_content()
    assert "¥40.00" in body and "退回部分" in body and f"/funds/{fund.id}/transfer" in body
