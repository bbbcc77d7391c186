"""Two approvals racing for the same money on PostgreSQL: exactly one wins.

Each approver works in its own connection and transaction (threads). The first holds its
transaction open after approving; without the pool's row lock the second would read the
same available balance and approve too, overdrawing the fund.
"""

from __future__ import annotations

import threading
import time

import sqlalchemy as sa

from charity.extensions import db
from charity.models import Disbursement, User
from charity.services import disbursements as svc
from charity.services import funds
from charity.services.pools import Pool, available_fen, pool_balance
from charity.services.uploads import store_file
from tests.support.factories import (
    MembershipFactory,
    OrganizationFactory,
    UserFactory,
    second_person,
)
from tests.support.funds import PDF, day, gift, new_fund_command, seats


def _setup(app):  # type: ignore[no-untyped-def]
    host = OrganizationFactory(name="广州市越秀区竞态测试慈善会")
    owner, requester, first, second = (
        second_person(MembershipFactory(organization=host, role=role, user=UserFactory()).user)
        for role in ("owner", "finance", "finance", "finance")
    )
    fund = funds.create_fund(db.session, owner, new_fund_command(host, seats()))
    gift(fund, 10000, day(1))
    evidence = store_file(app.config["UPLOAD_DIR"], PDF)
    requests = []
    for _ in range(2):
        command = svc.DisbursementRequest(
            pool=Pool("fund", fund.id),
            amount_fen=7000,
            purpose_category="epidemic_supplies",
            purpose="口罩",
            beneficiary_kind="organization",
            beneficiary_name="社区卫生站",
            evidence=evidence,
        )
        requests.append(svc.request_disbursement(db.session, requester, command).id)
    db.session.commit()
    return fund.id, requests, (first.id, second.id)


def test_racing_approvals_cannot_overdraw(app, committed_db, postgres_only):
    fund_id, requests, approvers = _setup(app)
    barrier = threading.Barrier(2)
    outcomes: dict[int, str] = {}
    engine = db.engine

    def approve(disbursement_id: int, approver_id: int, hold: float) -> None:
        with sa.orm.Session(engine) as session:
            barrier.wait()
            try:
                svc.approve_disbursement(session, session.get(User, approver_id), disbursement_id)
                time.sleep(hold)  # keep the transaction (and its lock) open
                session.commit()
                outcomes[disbursement_id] = "approved"
            except svc.DisbursementError:
                session.rollback()
                outcomes[disbursement_id] = "refused"

    threads = [
        threading.Thread(target=approve, args=(requests[0], approvers[0], 0.5)),
        threading.Thread(target=approve, args=(requests[1], approvers[1], 0.5)),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert sorted(outcomes.values()) == ["approved", "refused"]
    with sa.orm.Session(db.engine) as session:
        statuses = session.scalars(sa.select(Disbursement.status).order_by(Disbursement.id))
        assert sorted(statuses) == ["approved", "requested"]
        pool = Pool("fund", fund_id)
        assert pool_balance(session, pool) == 10000
        assert available_fen(session, pool) == 3000
