"""SQLite as a real embedded default (issue 19, part 7): 50 gifts and 50 log-ins at once
against the threaded live server on SQLite, with no error and nothing lost.

In WAL mode a transaction that began by reading and then writes fails at once with
SQLITE_BUSY_SNAPSHOT ("database is locked") if another connection committed in between;
charity.core.db begins every writing request with BEGIN IMMEDIATE so writers queue on the
busy timeout instead. With plain BEGIN this test fails (set CHARITY_SQLITE_DEFERRED=1 to
see it: the hook then begins every transaction deferred).
"""

from __future__ import annotations

import threading
import urllib.error
import urllib.parse
import urllib.request
from concurrent.futures import ThreadPoolExecutor

import pytest
import sqlalchemy as sa
from werkzeug.serving import make_server

from charity.extensions import db, limiter
from charity.models import Donation, User
from charity.services import ledger
from tests.support.factories import PASSWORD, CampaignFactory, UserFactory
from tests.support.payments import event, intent_object, paid_donations, sign

GIFTS = 50
LOGINS = 50


@pytest.fixture
def sqlite_only(database_url: str) -> None:
    if database_url.startswith("postgresql"):
        pytest.skip("about SQLite's write lock (PostgreSQL has row locks and MVCC writes)")


def test_50_gifts_and_50_log_ins_at_once_on_sqlite(
    stripe_app, committed_db, sqlite_only, monkeypatch
):  # type: ignore[no-untyped-def]
    monkeypatch.setattr(limiter, "enabled", False)  # one client address for all 100
    campaign = CampaignFactory()
    users = [UserFactory() for _ in range(LOGINS)]
    committed_db.commit()
    emails = [user.email for user in users]
    paid = paid_donations(campaign, stripe_app, GIFTS)
    payloads = [event("payment_intent.succeeded", intent_object(d)) for d in paid]

    server = make_server("127.0.0.1", 0, stripe_app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{server.server_port}"
    start = threading.Barrier(GIFTS + LOGINS, timeout=60)

    def deliver(payload: str) -> int:
        request = urllib.request.Request(  # noqa: S310 - 127.0.0.1
            f"{base}/stripe/webhook",
            data=payload.encode(),
            headers={"Content-Type": "application/json", "Stripe-Signature": sign(payload)},
        )
        start.wait()
        with urllib.request.urlopen(request, timeout=120) as response:  # noqa: S310 - 127.0.0.1
            return response.status

    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args, **kwargs):  # type: ignore[no-untyped-def]
            return None

    def log_in(email: str) -> int:
        form = urllib.parse.urlencode({"email": email, "password": PASSWORD}).encode()
        opener = urllib.request.build_opener(NoRedirect)
        start.wait()
        try:
            with opener.open(f"{base}/account/login", data=form, timeout=120) as response:
                return response.status
        except urllib.error.HTTPError as answer:  # the 302 to the account page lands here
            return answer.code

    try:
        with ThreadPoolExecutor(max_workers=GIFTS + LOGINS) as pool:
            gifts = [pool.submit(deliver, payload) for payload in payloads]
            logins = [pool.submit(log_in, email) for email in emails]
            gift_statuses = [future.result() for future in gifts]
            login_statuses = [future.result() for future in logins]
    finally:
        server.shutdown()
        thread.join()

    assert gift_statuses == [200] * GIFTS
    assert login_statuses == [302] * LOGINS  # each one signed in, none "database is locked"
    session = db.session
    session.rollback()  # end the read snapshot this thread took before the requests
    rows = session.scalars(sa.select(Donation).where(Donation.campaign_id == campaign.id)).all()
    assert sorted(d.status for d in rows) == ["succeeded"] * GIFTS
    assert ledger.campaign_raised_fen(session, campaign.id) == sum(d.amount_fen for d in rows)
    assert sorted(d.receipt_seq for d in rows) == list(range(1, GIFTS + 1))
    assert ledger.check_books(session)[0] == []
    signed_in = session.scalars(sa.select(User).where(User.email.in_(emails))).all()
    assert len(signed_in) == LOGINS
