"""A sponsor's bank transfers into its matching pool (issue 18 leftover): one person
records, a second person confirms (charity.services.four_eyes), and only the confirmation
posts ``match_receipt`` (Dr match_received / Cr match_commitment) and is logged. Through
the pages, with the real services and database."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from charity.core import uow
from charity.core.clock import today_cst
from charity.extensions import db
from charity.models import LedgerTransaction, SponsorPayment
from charity.services import givingdays, ledger, sponsor_payments
from tests.support.factories import MembershipFactory, second_person
from tests.support.givingdays import make_day


@pytest.fixture
def pool_people(db_session):  # type: ignore[no-untyped-def]
    day = make_day()  # a 1,000-yuan pool held by another organization than the campaign's
    host = day.pool.organization

    def member(role: str, days: int = 30):  # type: ignore[no-untyped-def]
        return second_person(MembershipFactory(organization=host, role=role).user, days=days)

    people = {
        "recorder": member("finance"),
        "checker": member("owner"),
        "fresh": member("finance", days=0),  # two-factor on, but invited today
        "editor": member("editor"),
        "outsider": second_person(MembershipFactory(role="owner").user),
        "admin": day.admin,
    }
    db.session.commit()
    return day, people


def _page(pool_id: int) -> str:
    return f"/pools/{pool_id}/sponsor-payments"


def _record(client, pool_id: int, amount: str = "600", **fields):  # type: ignore[no-untyped-def]
    data = {
        "amount": amount,
        "received_on": today_cst().isoformat(),
        "reference": "ICBC20260630-0001",
        "note": "捐赠协议第2期",
        **fields,
    }
    return client.post(_page(pool_id), data=data)


def _decide(client, pool_id: int, payment_id: int, decision: str, reason: str = ""):  # type: ignore[no-untyped-def]
    return client.post(
        f"{_page(pool_id)}/decide",
        data={"payment_id": str(payment_id), "decision": decision, "reason": reason},
    )


def _back(response, pool_id: int) -> bool:
    """Done, and back on the payments page (not sent to the login or two-factor page)."""
    return response.status_code == 302 and response.location.endswith(_page(pool_id))


def _received_fen(pool) -> int:  # type: ignore[no-untyped-def]
    _commitment, received, _pool = givingdays.pool_accounts(db.session, pool)
    return ledger.account_balance(db.session, received.id)


def _receipts() -> int:
    return db.session.scalar(
        sa.select(sa.func.count())
        .select_from(LedgerTransaction)
        .where(LedgerTransaction.kind == "match_receipt")
    )


def test_one_records_a_second_confirms_and_only_then_the_books_move(
    client, login, pool_people, recorded_events
):  # type: ignore[no-untyped-def]
    day, people = pool_people
    pool = day.pool
    login(people["recorder"])
    page = client.get(_page(pool.id))
    assert page.status_code == 200 and "1,000.00" in page.get_data(as_text=True)
    assert _back(_record(client, pool.id), pool.id)
    payment = db.session.scalars(sa.select(SponsorPayment)).one()
    assert (payment.status, payment.amount_fen) == ("recorded", 60_000)
    assert _received_fen(pool) == 0 and _receipts() == 0  # recorded is not received
    # the recorder cannot be the second pair of eyes
    _decide(client, pool.id, payment.id, "confirm")
    db.session.expire_all()
    assert payment.status == "recorded" and _receipts() == 0
    assert "own request" in client.get(_page(pool.id)).get_data(as_text=True)
    # nor a member invited today (the cheap second account)
    login(people["fresh"])
    _decide(client, pool.id, payment.id, "confirm")
    db.session.expire_all()
    assert payment.status == "recorded" and _receipts() == 0
    # a second, qualified person confirms: the books and the public log follow
    login(people["checker"])
    assert _back(_decide(client, pool.id, payment.id, "confirm"), pool.id)
    db.session.expire_all()
    assert payment.status == "confirmed" and payment.decided_by_id == people["checker"].id
    assert payment.transaction_id is not None
    assert _received_fen(pool) == 60_000 and _receipts() == 1
    logged = [e for e in recorded_events if e.type == "matching_pool.sponsor_paid"]
    assert [e.data["amount_fen"] for e in logged] == [60_000]
    assert "reference" not in logged[0].data  # the bank reference stays private
    assert sponsor_payments.outstanding_fen(db.session, pool) == 40_000
    # decided once: a second confirmation changes nothing
    _decide(client, pool.id, payment.id, "confirm")
    assert _receipts() == 1
    assert ledger.check_books(db.session)[0] == []


def test_never_more_than_the_sponsor_owes_and_bad_input_changes_nothing(client, login, pool_people):  # type: ignore[no-untyped-def]
    day, people = pool_people
    pool = day.pool
    login(people["recorder"])
    assert _back(_record(client, pool.id, "700"), pool.id)
    # 700 waiting + 400 would be more than the 1,000 committed
    response = _record(client, pool.id, "400")
    assert response.status_code == 400
    assert "more than the sponsor still owes" in response.get_data(as_text=True)
    tomorrow = (today_cst() + timedelta(days=1)).isoformat()
    assert _record(client, pool.id, "100", received_on=tomorrow).status_code == 400
    assert _record(client, pool.id, "100", reference="").status_code == 400
    assert _record(client, pool.id, "0").status_code == 400
    assert _record(client, pool.id, "abc").status_code == 400
    assert _record(client, pool.id, "100", reference="x" * 101).status_code == 400
    assert db.session.scalar(sa.select(sa.func.count()).select_from(SponsorPayment)) == 1
    # a rejection needs a reason and posts nothing; the recorder can then enter it again
    first = db.session.scalars(sa.select(SponsorPayment)).one()
    login(people["checker"])
    _decide(client, pool.id, first.id, "reject")
    db.session.expire_all()
    assert first.status == "recorded"
    _decide(client, pool.id, first.id, "reject", "对账单上没有这笔转账")
    db.session.expire_all()
    assert (first.status, first.reject_reason) == ("rejected", "对账单上没有这笔转账")
    assert _receipts() == 0
    login(people["recorder"])
    assert _back(_record(client, pool.id, "1000"), pool.id)  # the rejected 700 is free
    assert _decide(client, pool.id, first.id + 1, "nonsense").status_code == 400
    assert client.post(f"{_page(pool.id)}/decide", data={}).status_code == 400


def test_who_may_see_record_and_decide(client, login, pool_people):  # type: ignore[no-untyped-def]
    day, people = pool_people
    pool = day.pool
    login(people["recorder"])
    _record(client, pool.id)
    payment = db.session.scalars(sa.select(SponsorPayment)).one()
    for name in ("editor", "outsider"):
        login(people[name])
        assert client.get(_page(pool.id)).status_code == 403
        assert _record(client, pool.id, "100").status_code == 403
        assert _decide(client, pool.id, payment.id, "confirm").status_code == 403
    login(None)
    assert client.get(_page(pool.id)).status_code in (302, 303)
    db.session.expire_all()
    assert payment.status == "recorded"
    assert db.session.scalar(sa.select(sa.func.count()).select_from(SponsorPayment)) == 1
    # an admin holds no membership: two-factor is required, the membership age is not
    admin = people["admin"]
    login(admin)  # (the test login enrols roles that need two-factor: take it off again)
    admin.totp_enabled_at = None
    db.session.commit()
    _decide(client, pool.id, payment.id, "confirm")  # the gate sends them to set it up
    db.session.expire_all()
    assert payment.status == "recorded"  # no two-factor yet
    second_person(admin)
    db.session.commit()
    login(admin)  # a new session, past its second factor
    assert _back(_decide(client, pool.id, payment.id, "confirm"), pool.id)
    db.session.expire_all()
    assert payment.status == "confirmed" and _received_fen(pool) == 60_000
    # the public pool page links the payments page for those who may use it only
    assert _page(pool.id) in client.get(f"/pools/{pool.id}").get_data(as_text=True)
    login(people["editor"])
    assert _page(pool.id) not in client.get(f"/pools/{pool.id}").get_data(as_text=True)


def test_the_page_in_chinese(client, login, pool_people):  # type: ignore[no-untyped-def]
    day, people = pool_people
    login(people["recorder"])
    _record(client, day.pool.id)
    text = client.get(_page(day.pool.id) + "?lang=zh_Hans_CN").get_data(as_text=True)
    assert "配捐方到账款项" in text and "等待另一人确认" in text and "银行流水号" in text


def test_audit_verify_recomputes_the_sponsor_paid_entry(app, client, login, pool_people):  # type: ignore[no-untyped-def]
    day, people = pool_people
    login(people["recorder"])
    _record(client, day.pool.id)
    payment = db.session.scalars(sa.select(SponsorPayment)).one()
    login(people["checker"])
    _decide(client, day.pool.id, payment.id, "confirm")
    result = app.test_cli_runner().invoke(args=["audit", "verify"])
    assert result.exit_code == 0, result.stdout + result.stderr
    result = app.test_cli_runner().invoke(args=["ledger", "check"])
    assert result.exit_code == 0, result.stdout + result.stderr


def test_a_recorded_sponsor_payment_mails_those_who_may_confirm_it(
    client, login, pool_people, mail_outbox
):  # type: ignore[no-untyped-def]
    """The pool organization's owners and finance members and the platform's admins, not
    the recorder, not an editor, not another organization's owner; nothing on rollback."""
    day, people = pool_people
    pool = day.pool
    mail_outbox.clear()
    login(people["recorder"])
    assert _back(_record(client, pool.id), pool.id)
    told = sorted(m["To"] for m in mail_outbox)
    assert told == sorted(people[p].email for p in ("checker", "fresh", "admin"))
    body = mail_outbox[0].get_body(("plain",)).get_content()
    assert "¥600.00" in body and f"/pools/{pool.id}/sponsor-payments" in body
    assert "配捐" in body.split("----")[0]
    mail_outbox.clear()
    command = sponsor_payments.NewSponsorPayment(pool.id, 100, today_cst(), "ICBC-2")
    with pytest.raises(RuntimeError), uow.unit_of_work():
        sponsor_payments.record_payment(db.session, people["recorder"], command)
        raise RuntimeError("rolled back")
    assert mail_outbox == []
