"""Receiving-account changes wait (issue 15 finding 12).

On the old code an owner alone pointed the organization's gifts at any Stripe account at
once: no second person, no notice, no delay. Now the change waits
PAYOUT_CHANGE_DELAY_HOURS (gifts keep going to the old account), every owner and finance
member is mailed at request time, a second person (four-eyes rule) may approve it sooner,
anyone of them may cancel it, and each step is kept.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine

from charity.extensions import db
from charity.models import Membership, PayoutChange
from charity.models.base import utcnow
from charity.services import approval_mail, payout_changes
from tests.support.factories import OrganizationFactory, UserFactory, second_person


@pytest.fixture
def staff(db_session):  # type: ignore[no-untyped-def]
    organization = OrganizationFactory(stripe_account_id="acct_OLDaccount01")
    people = {}
    for role in ("owner", "finance", "editor"):
        people[role] = UserFactory()
        db.session.add(Membership(user=people[role], organization=organization, role=role))
    people["alias"] = UserFactory(email="owner.second@example.org")  # the owner's own
    db.session.add(Membership(user=people["alias"], organization=organization, role="finance"))
    db.session.flush()
    second_person(people["finance"])
    second_person(people["alias"], days=0)  # two-factor on, but invited today
    db.session.commit()
    return organization, people


def _request(client, login, organization, owner, account="acct_NEWaccount99"):  # type: ignore[no-untyped-def]
    login(owner)
    url = f"/orgs/{organization.id}/payment-account"
    return client.post(url, data={"stripe_account_id": account})


def test_owner_alone_changes_nothing_for_48_hours(client, login, staff, mail_outbox):
    organization, people = staff
    response = _request(client, login, organization, people["owner"])
    assert response.status_code == 303 and response.headers["Location"].endswith("#changes")
    db.session.refresh(organization)
    assert organization.stripe_account_id == "acct_OLDaccount01"  # gifts still go there
    told = sorted(message["To"] for message in mail_outbox)
    assert told == sorted(people[r].email for r in ("owner", "finance", "alias"))
    assert "acct_NEWaccount99" in mail_outbox[0].get_content()
    page = client.get(f"/orgs/{organization.id}/payments").get_data(as_text=True)
    assert "acct_NEWaccount99" in page and "/cancel" in page
    (change,) = payout_changes.pending_changes(db.session, organization.id)
    assert change.effective_at - utcnow() > timedelta(hours=47)
    assert payout_changes.apply_due_changes(db.session) == []
    with time_machine.travel(change.effective_at + timedelta(minutes=1), tick=False):
        assert payout_changes.apply_due_changes(db.session) == [change]
    assert organization.stripe_account_id == "acct_NEWaccount99"
    assert change.status == "applied" and change.decided_by_id is None


def test_a_second_person_approves_at_once_but_not_the_owners_alias(
    client, login, staff, recorded_events
):
    organization, people = staff
    _request(client, login, organization, people["owner"])
    (change,) = payout_changes.pending_changes(db.session, organization.id)
    approve = f"/orgs/{organization.id}/payments/changes/{change.id}/approve"
    assert client.post(approve).status_code == 303  # the requester: refused with a message
    login(people["alias"])
    page = client.get(f"/orgs/{organization.id}/payments").get_data(as_text=True)
    assert approve not in page and "too new" in page
    client.post(approve)
    login(people["editor"])
    assert client.post(approve).status_code == 403
    db.session.refresh(organization)
    assert organization.stripe_account_id == "acct_OLDaccount01" and change.status == "pending"
    assert not [e for e in recorded_events if e.type == "organization.payment_account_set"]
    login(people["finance"])
    assert client.post(approve).status_code == 303
    db.session.refresh(organization)
    db.session.refresh(change)
    assert organization.stripe_account_id == "acct_NEWaccount99"
    assert (change.status, change.decided_by_id) == ("applied", people["finance"].id)
    (event,) = [e for e in recorded_events if e.type == "organization.payment_account_set"]
    assert event.data["stripe_account_id"] == "acct_NEWaccount99"


def test_anyone_of_them_cancels_and_a_new_request_replaces_the_old(client, login, staff):
    organization, people = staff
    _request(client, login, organization, people["owner"], "acct_FIRSTtry001")
    _request(client, login, organization, people["owner"], "acct_SECONDtry02")
    changes = db.session.query(PayoutChange).order_by(PayoutChange.id).all()
    assert [c.status for c in changes] == ["cancelled", "pending"]
    login(people["alias"])  # any owner or finance member may stop it
    cancel = f"/orgs/{organization.id}/payments/changes/{changes[1].id}/cancel"
    assert client.post(cancel).status_code == 303
    db.session.refresh(changes[1])
    assert changes[1].status == "cancelled" and changes[1].decided_by_id == people["alias"].id
    with time_machine.travel(changes[1].effective_at + timedelta(hours=1), tick=False):
        assert payout_changes.apply_due_changes(db.session) == []
    db.session.refresh(organization)
    assert organization.stripe_account_id == "acct_OLDaccount01"
    other = OrganizationFactory()
    elsewhere = f"/orgs/{other.id}/payments/changes/{changes[1].id}/cancel"
    assert client.post(elsewhere).status_code == 403


def test_the_delay_is_configurable(app, monkeypatch, client, login, staff):
    organization, people = staff
    monkeypatch.setitem(app.config, "PAYOUT_CHANGE_DELAY_HOURS", 0)
    _request(client, login, organization, people["owner"])
    applied = payout_changes.apply_due_changes(db.session)
    assert [c.public_id for c in applied] == ["acct_NEWaccount99"]


def test_a_removed_finance_member_is_not_told_of_payout_changes(db_session):
    organization = OrganizationFactory()
    current, removed, editor = UserFactory(), UserFactory(), UserFactory()
    db.session.add_all(
        [
            Membership(user=current, organization=organization, role="finance"),
            Membership(user=removed, organization=organization, role="owner", ended_at=utcnow()),
            Membership(user=editor, organization=organization, role="editor"),
        ]
    )
    db.session.flush()
    told = approval_mail.finance_people(db.session, organization.id)
    assert told == [current]
