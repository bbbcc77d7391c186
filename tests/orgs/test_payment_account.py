"""The owner names the Stripe account that receives the organization's gifts."""

from __future__ import annotations

import pytest

from charity.extensions import db
from charity.services import payout_changes
from tests.support.factories import MembershipFactory, OrganizationFactory


@pytest.fixture
def org_with(db_session):  # type: ignore[no-untyped-def]
    organization = OrganizationFactory(stripe_account_id=None)

    def member(role: str):  # type: ignore[no-untyped-def]
        return MembershipFactory(organization=organization, role=role).user

    return organization, member


def test_owner_sets_the_account_and_it_is_logged(client, login, org_with, recorded_events):
    organization, member = org_with
    login(member("owner"))
    response = client.post(
        f"/orgs/{organization.id}/payment-account", data={"stripe_account_id": "acct_1AbCdEfGh"}
    )
    assert response.status_code == 303
    db.session.refresh(organization)
    assert organization.stripe_account_id is None  # it waits (issue 15 finding 12)
    (change,) = payout_changes.pending_changes(db.session, organization.id)
    payout_changes.apply_due_changes(db.session, now=change.effective_at)
    assert organization.stripe_account_id == "acct_1AbCdEfGh"
    [event] = [e for e in recorded_events if e.type == "organization.payment_account_set"]
    assert event.data["stripe_account_id"] == "acct_1AbCdEfGh"
    assert event.data["org_uscc"] == organization.uscc


@pytest.mark.parametrize("typed", ["", "acct_", "sk_live_abc123456", "acct_<script>", "x" * 70])
def test_bad_account_ids_are_field_errors(client, login, org_with, typed):
    organization, member = org_with
    login(member("owner"))
    response = client.post(
        f"/orgs/{organization.id}/payment-account", data={"stripe_account_id": typed}
    )
    assert response.status_code == 400
    db.session.refresh(organization)
    assert organization.stripe_account_id is None


@pytest.mark.parametrize("role", ["finance", "editor"])
def test_only_the_owner_may_set_it(client, login, org_with, role):
    organization, member = org_with
    login(member(role))
    response = client.post(
        f"/orgs/{organization.id}/payment-account", data={"stripe_account_id": "acct_1AbCdEfGh"}
    )
    assert response.status_code == 403
    db.session.refresh(organization)
    assert organization.stripe_account_id is None
