"""Members: invitations the invitee accepts (existing accounts too: nobody is added without
consent, and the owner cannot tell who has an account), roles, removal, last-owner
protection."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from charity.models import Invitation, Membership, utcnow
from charity.services import organizations as service
from tests.support.factories import (
    MembershipFactory,
    OrganizationFactory,
    UserFactory,
    open_verification_link,
)


@pytest.fixture
def org_with_owner(db_session):  # type: ignore[no-untyped-def]
    org = OrganizationFactory(name="越秀测试慈善会")
    owner = MembershipFactory(organization=org, role="owner")
    return org, owner


def _token(mail_outbox) -> str:  # type: ignore[no-untyped-def]
    body = mail_outbox[-1].get_body(("plain",)).get_content()
    return re.search(r"http://\S+/orgs/invitations/(\S+)", body).group(1)


def test_inviting_an_existing_user_waits_for_their_acceptance(
    client, db_session, login, org_with_owner, recorded_events, mail_outbox
):
    org, owner = org_with_owner
    login(owner.user)
    colleague = UserFactory(email="colleague@example.org")
    response = client.post(
        f"/orgs/{org.id}/members/invite", data={"email": "Colleague@Example.org", "role": "finance"}
    )
    assert response.status_code == 302
    assert colleague.role_in(org.id) is None  # finding 5: no forced membership
    assert recorded_events == []
    # finding 11: the owner is told the same as for an address without an account
    page = client.get(f"/orgs/{org.id}/members").get_data(as_text=True)
    assert "An invitation was sent to Colleague@Example.org." in page
    assert [m["To"] for m in mail_outbox] == ["Colleague@Example.org"]
    login(colleague)
    assert client.post(f"/orgs/invitations/{_token(mail_outbox)}").status_code == 302
    assert colleague.role_in(org.id) == "finance"
    membership = db_session.scalar(select(Membership).where(Membership.user_id == colleague.id))
    assert [e.type for e in recorded_events] == ["organization.member_added"]
    assert recorded_events[0].data == {
        "organization_id": org.id,
        "org_uscc": org.uscc,
        "org_type": org.org_type,
        "membership_id": membership.id,
    }
    assert "colleague" not in str(recorded_events[0].data)  # no personal data


def test_inviting_by_email_then_accepting(client, db_session, login, org_with_owner, mail_outbox):
    org, owner = org_with_owner
    login(owner.user)
    response = client.post(
        f"/orgs/{org.id}/members/invite", data={"email": "new@example.org", "role": "editor"}
    )
    assert response.status_code == 302
    invitation = db_session.scalar(select(Invitation))
    assert invitation.email == "new@example.org" and invitation.role == "editor"
    body = mail_outbox[-1].get_body(("plain",)).get_content()
    link = re.search(r"http://\S+/orgs/invitations/(\S+)", body)
    assert link, body
    token = link.group(1)
    assert invitation.token_hash != token  # only the hash is stored
    # an anonymous visitor is asked to log in first
    login(None)
    assert client.get(f"/orgs/invitations/{token}").status_code == 302
    newcomer = UserFactory(email="new@example.org")
    login(newcomer)
    assert client.get(f"/orgs/invitations/{token}").status_code == 200
    response = client.post(f"/orgs/invitations/{token}")
    assert response.status_code == 302
    assert newcomer.role_in(org.id) == "editor"
    # used once only
    assert client.post(f"/orgs/invitations/{token}").status_code == 400


def test_invitation_for_someone_else_is_refused(client, db_session, org_with_owner, login):
    org, owner = org_with_owner
    result = service.invite_member(db_session, owner.user, org, "right@example.org", "editor")
    intruder = UserFactory(email="wrong@example.org")
    login(intruder)
    assert client.post(f"/orgs/invitations/{result.token}").status_code == 403
    assert intruder.role_in(org.id) is None


def test_expired_invitation_is_refused(client, db_session, org_with_owner, login):
    org, owner = org_with_owner
    result = service.invite_member(db_session, owner.user, org, "late@example.org", "editor")
    result.invitation.expires_at = utcnow() - timedelta(minutes=1)
    late = UserFactory(email="late@example.org")
    login(late)
    response = client.post(f"/orgs/invitations/{result.token}")
    assert response.status_code == 400
    assert "expired" in response.get_data(as_text=True)
    assert late.role_in(org.id) is None


def test_unknown_invitation_token_is_404(client, db_session, login):
    login(UserFactory())
    assert client.get("/orgs/invitations/not-a-token").status_code == 404


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"email": "not-an-email", "role": "editor"}, "email"),
        ({"email": "", "role": "editor"}, "email"),
        ({"email": "a@example.org", "role": "president"}, "role"),
    ],
)
def test_bad_invitations_are_field_errors(client, db_session, login, org_with_owner, data, field):
    org, owner = org_with_owner
    login(owner.user)
    response = client.post(f"/orgs/{org.id}/members/invite", data=data)
    assert response.status_code == 400
    assert f'id="{field}-error"' in response.get_data(as_text=True)
    assert db_session.scalar(select(func.count()).select_from(Invitation)) == 0


def test_inviting_a_current_member_again_is_a_field_error(
    client, db_session, login, org_with_owner
):
    org, owner = org_with_owner
    login(owner.user)
    response = client.post(
        f"/orgs/{org.id}/members/invite", data={"email": owner.user.email, "role": "editor"}
    )
    assert response.status_code == 400
    assert "already a member" in response.get_data(as_text=True)
    db_session.refresh(owner)
    assert owner.role == "owner"


def test_owner_changes_roles(client, db_session, login, org_with_owner):
    org, owner = org_with_owner
    editor = MembershipFactory(organization=org, role="editor")
    login(owner.user)
    response = client.post(f"/orgs/{org.id}/members/{editor.id}/role", data={"role": "finance"})
    assert response.status_code == 302
    db_session.refresh(editor)
    assert editor.role == "finance"
    response = client.post(f"/orgs/{org.id}/members/{editor.id}/role", data={"role": "boss"})
    assert response.status_code == 400


def test_the_last_owner_can_be_neither_demoted_nor_removed(
    client, db_session, login, org_with_owner
):
    org, owner = org_with_owner
    login(owner.user)
    response = client.post(f"/orgs/{org.id}/members/{owner.id}/role", data={"role": "editor"})
    assert response.status_code == 400
    assert "always keeps an owner" in response.get_data(as_text=True)
    response = client.post(f"/orgs/{org.id}/members/{owner.id}/remove")
    assert response.status_code == 400
    db_session.refresh(owner)
    assert owner.role == "owner" and owner.ended_at is None
    # with a second owner, the first may step down
    MembershipFactory(organization=org, role="owner")
    response = client.post(f"/orgs/{org.id}/members/{owner.id}/role", data={"role": "editor"})
    assert response.status_code == 302
    db_session.refresh(owner)
    assert owner.role == "editor"


def test_removal_ends_the_membership_and_keeps_the_row(
    client, db_session, login, org_with_owner, recorded_events
):
    org, owner = org_with_owner
    member = MembershipFactory(organization=org, role="finance")
    login(owner.user)
    response = client.post(f"/orgs/{org.id}/members/{member.id}/remove")
    assert response.status_code == 302
    db_session.refresh(member)
    assert member.ended_at is not None  # the row stays: the public log refers to it
    assert member.user.role_in(org.id) is None
    assert member not in org.active_memberships
    # the removed member has lost access
    login(member.user)
    assert client.get(f"/orgs/{org.id}/manage").status_code == 403
    # removing again is an error, not a 500
    login(owner.user)
    assert client.post(f"/orgs/{org.id}/members/{member.id}/remove").status_code == 400


def test_reinviting_a_removed_member_reactivates_the_same_row(
    client, db_session, login, org_with_owner, recorded_events
):
    org, owner = org_with_owner
    member = MembershipFactory(organization=org, role="finance")
    service.remove_member(db_session, owner.user, org, member.id)
    result = service.invite_member(db_session, owner.user, org, member.user.email, "editor")
    service.accept_invitation(db_session, member.user, result.token)
    db_session.refresh(member)
    assert member.ended_at is None and member.role == "editor"
    rows = db_session.scalar(
        select(func.count()).select_from(Membership).where(Membership.user_id == member.user_id)
    )
    assert rows == 1
    assert [e.data["membership_id"] for e in recorded_events] == [member.id]


def test_members_of_pending_organizations_are_logged_at_verification(db_session, recorded_events):
    org = OrganizationFactory(status="pending")
    owner = MembershipFactory(organization=org, role="owner")
    newcomer = UserFactory()
    result = service.invite_member(db_session, owner.user, org, newcomer.email, "editor")
    service.accept_invitation(db_session, newcomer, result.token)
    assert recorded_events == []  # a pending application is not public yet
    service.approve_organization(db_session, UserFactory(platform_role="admin"), org)
    assert [e.type for e in recorded_events] == [
        "organization.verified",
        "organization.member_added",
        "organization.member_added",
    ]


def test_forms_reject_a_missing_csrf_token(app, client, db_session, login, org_with_owner):
    org, owner = org_with_owner
    login(owner.user)
    app.config["WTF_CSRF_ENABLED"] = True
    try:
        response = client.post(
            f"/orgs/{org.id}/members/invite", data={"email": "a@example.org", "role": "editor"}
        )
    finally:
        app.config["WTF_CSRF_ENABLED"] = False
    assert response.status_code == 400
    assert db_session.scalar(select(func.count()).select_from(Invitation)) == 0


def test_a_regulator_cannot_be_made_a_member(client, db_session, login, org_with_owner):
    org, owner = org_with_owner
    regulator = UserFactory(platform_role="regulator")
    login(owner.user)
    response = client.post(
        f"/orgs/{org.id}/members/invite", data={"email": regulator.email, "role": "owner"}
    )
    assert response.status_code == 302  # the owner cannot tell what kind of account it is
    result = service.invite_member(db_session, owner.user, org, regulator.email, "editor")
    with pytest.raises(service.OrganizationError) as refused:
        service.accept_invitation(db_session, regulator, result.token)
    assert "Regulator accounts" in str(refused.value.message)
    assert regulator.role_in(org.id) is None


def test_owner_withdraws_an_invitation(client, db_session, login, org_with_owner):
    org, owner = org_with_owner
    result = service.invite_member(db_session, owner.user, org, "later@example.org", "editor")
    other_org = OrganizationFactory()
    other_owner = MembershipFactory(organization=other_org, role="owner").user
    login(other_owner)  # an owner elsewhere cannot withdraw it
    url = f"/orgs/{org.id}/invitations/{result.invitation.id}/revoke"
    assert client.post(url).status_code == 403
    login(owner.user)
    assert "later@example.org" in client.get(f"/orgs/{org.id}/members").get_data(as_text=True)
    assert client.post(url).status_code == 302
    assert result.invitation.revoked_at is not None
    assert client.post(url).status_code == 400
    assert "later@example.org" not in client.get(f"/orgs/{org.id}/members").get_data(as_text=True)
    login(UserFactory(email="later@example.org"))
    assert client.post(f"/orgs/invitations/{result.token}").status_code == 400


def test_a_newcomer_signs_up_from_the_invitation_and_lands_back_on_it(
    client, db_session, login, org_with_owner, mail_outbox
):
    """The invitation link → log in → "No account yet? Sign up" → back on the invitation."""
    org, owner = org_with_owner
    login(owner.user)
    client.post(
        f"/orgs/{org.id}/members/invite", data={"email": "nova@example.org", "role": "editor"}
    )
    body = mail_outbox[-1].get_body(("plain",)).get_content()
    token = re.search(r"/orgs/invitations/(\S+)", body).group(1)
    login(None)

    to_login = client.get(f"/orgs/invitations/{token}")
    assert to_login.status_code == 302
    login_page = client.get(to_login.headers["Location"]).get_data(as_text=True)
    signup_link = re.search(r'href="(/account/signup\?next=[^"]+)"', login_page)
    assert signup_link, "the log-in page's sign-up link keeps where the visitor was going"
    signup_url = signup_link.group(1).replace("&amp;", "&")
    assert "next=/account/login" not in signup_url
    signup_page = client.get(signup_url).get_data(as_text=True)
    assert "next=" in signup_page  # and the way back to log in keeps it too
    response = client.post(
        signup_url,
        data={
            "name": "新同事",
            "email": "nova@example.org",
            "password": "a-long-enough-passphrase-2026",
            "confirm": "a-long-enough-passphrase-2026",
        },
    )
    assert response.status_code == 200  # "check your email": the link finishes the sign-up
    response = open_verification_link(client, mail_outbox)
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/orgs/invitations/{token}")
    assert client.post(f"/orgs/invitations/{token}").status_code == 302
    newcomer = db_session.scalar(select(Membership).where(Membership.role == "editor"))
    assert newcomer.user.email == "nova@example.org"


def test_sign_up_never_redirects_off_site(client, db_session, mail_outbox):
    response = client.post(
        "/account/signup?next=//evil.example/x",
        data={
            "name": "访客",
            "email": "visitor@example.org",
            "password": "a-long-enough-passphrase-2026",
            "confirm": "a-long-enough-passphrase-2026",
        },
    )
    assert response.status_code == 200
    response = open_verification_link(client, mail_outbox)
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/account/")
