"""Quotas on mail a signed-in person makes the site send to an address they type: gift
claims and invitations, per sender and per recipient (issue 15, low)."""

from __future__ import annotations

from tests.support.factories import MembershipFactory, OrganizationFactory, UserFactory, log_in


def test_claim_mail_to_one_address_is_limited(limited_app, db_session, mail_outbox):
    app = limited_app(RATELIMIT_MAIL_RECIPIENT="2 per hour")
    client = app.test_client()
    log_in(client, UserFactory())
    for _ in range(2):
        answer = client.post("/account/gifts/claim", data={"email": "victim@example.org"})
        assert answer.status_code == 303
    answer = client.post("/account/gifts/claim", data={"email": "Victim@Example.org "})
    assert answer.status_code == 429
    assert len(mail_outbox) == 2


def test_refused_claim_forms_do_not_count(limited_app, db_session, mail_outbox):
    client = limited_app(RATELIMIT_MAIL_SENDER="1 per hour").test_client()
    log_in(client, UserFactory())
    for _ in range(3):
        refused = client.post("/account/gifts/claim", data={"email": "not-an-address"})
        assert refused.status_code == 400
    answer = client.post("/account/gifts/claim", data={"email": "me@example.org"})
    assert answer.status_code == 303 and len(mail_outbox) == 1


def test_invitations_per_sender_are_limited(limited_app, db_session, mail_outbox):
    client = limited_app(RATELIMIT_MAIL_SENDER="2 per hour").test_client()
    owner = UserFactory()
    organization = OrganizationFactory()
    MembershipFactory(user=owner, organization=organization, role="owner")
    log_in(client, owner)
    for n in range(2):
        answer = client.post(
            f"/orgs/{organization.id}/members/invite",
            data={"email": f"new{n}@example.org", "role": "editor"},
        )
        assert answer.status_code == 302, answer.get_data(as_text=True)[:300]
    answer = client.post(
        f"/orgs/{organization.id}/members/invite",
        data={"email": "new9@example.org", "role": "editor"},
    )
    assert answer.status_code == 429
    assert len(mail_outbox) == 2
