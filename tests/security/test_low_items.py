"""Issue 15, low items checked here: a 405 names the allowed methods (Allow; the JSON 405s
of the API and the log lacked it), and a community fund's donation form has the same
creation limit as a campaign's (/funds/<id>/donate)."""

from __future__ import annotations

from charity.extensions import db
from charity.services import funds
from tests.support.factories import MembershipFactory, OrganizationFactory, UserFactory
from tests.support.funds import new_fund_command, seats
from tests.support.security import STRICT, client_from


def test_405_carries_allow(client, db_session):
    response = client.get("/disbursements/1/approve")
    assert response.status_code == 405
    assert "POST" in response.headers["Allow"]
    api = client.post("/api/v1/log/checkpoint")
    assert api.status_code == 405 and "GET" in api.headers["Allow"]


def test_fund_donations_are_limited_per_address(donating):
    app = donating(**STRICT)
    host = OrganizationFactory(stripe_account_id="acct_fundlimit01")
    owner = MembershipFactory(organization=host, role="owner", user=UserFactory()).user
    fund = funds.create_fund(db.session, owner, new_fund_command(host, seats()))
    db.session.commit()
    client = client_from(app, "198.51.100.9")
    data = {"amount": "8800", "donor_name": "王小明", "donor_email": "a@example.org"}
    first = client.post(f"/funds/{fund.id}/donate", data=data)
    assert first.status_code == 302, first.get_data(as_text=True)[:500]
    again = client.post(f"/funds/{fund.id}/donate", data={**data, "donor_email": "b@example.org"})
    assert again.status_code == 429 and int(again.headers["Retry-After"]) > 0
