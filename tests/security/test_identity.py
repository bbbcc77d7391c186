"""Who people are before they act for an organization (issue 15): invitations the invitee
accepts, no enumeration of accounts through invitations (findings 5, 11), and no squatting
on a USCC with an application (finding 10)."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from charity.models import Membership, Organization
from charity.services import organizations as service
from tests.support.factories import MembershipFactory, OrganizationFactory, UserFactory


@pytest.fixture
def owner_client(client, db_session, login):  # type: ignore[no-untyped-def]
    organization = OrganizationFactory()
    owner = MembershipFactory(organization=organization, role="owner").user
    login(owner)
    return client, organization


def test_whoever_registered_the_address_first_is_not_made_a_member(owner_client, db_session):
    """Finding 5: a squatter signed up with new-cfo@org.example before the owner invited it."""
    client, organization = owner_client
    squatter = UserFactory(email="new-cfo@org.example")
    answer = client.post(
        f"/orgs/{organization.id}/members/invite",
        data={"email": "new-cfo@org.example", "role": "finance"},
    )
    assert answer.status_code == 302
    assert squatter.role_in(organization.id) is None
    members = select(func.count()).select_from(Membership)
    assert db_session.scalar(members.where(Membership.user_id == squatter.id)) == 0


def test_inviting_says_the_same_whether_or_not_the_address_has_an_account(owner_client):
    """Finding 11: no enumeration of accounts through the invitation form."""
    client, organization = owner_client
    UserFactory(email="has-account@example.org")
    pages = []
    for email in ("has-account@example.org", "no-account@example.org"):
        answer = client.post(
            f"/orgs/{organization.id}/members/invite", data={"email": email, "role": "editor"}
        )
        assert answer.status_code == 302
        page = client.get(answer.headers["Location"]).get_data(as_text=True)
        pages.append(page.replace(email, "EMAIL"))
    flash = [p.split('class="flash', 1)[1].split("</", 1)[0] for p in pages]
    assert flash[0] == flash[1]


def _application(uscc: str) -> service.ApplicationData:
    return service.ApplicationData(
        name="海珠区邻里互助会",
        uscc=uscc,
        registration_authority="广州市海珠区民政局",
        province="广东省",
        city="广州市",
        district="海珠区",
        address="广州市海珠区江南大道 1 号",
        contact_name="林小姐",
        contact_phone="020-84440000",
        contact_email="contact@example.org",
        website="",
        description_md="邻里互助。",
    )


def test_a_pending_or_rejected_application_does_not_block_the_uscc(db_session):
    """Finding 10: the real organization can apply although a squatter applied first."""
    code = OrganizationFactory.build().uscc
    admin = UserFactory(platform_role="admin")
    squatter, real = UserFactory(), UserFactory()
    squatted = service.apply_for_organization(db_session, squatter, _application(code))
    genuine = service.apply_for_organization(db_session, real, _application(code))
    assert genuine.status == "pending"
    service.reject_organization(db_session, admin, squatted, "无法核实登记证书。")
    service.approve_organization(db_session, admin, genuine)
    assert genuine.status == "verified"
    # once verified, the code is taken: a new application and a second approval are refused
    with pytest.raises(service.OrganizationError):
        service.apply_for_organization(db_session, UserFactory(), _application(code))
    late = Organization(**{**vars(_application(code)), "status": "pending"})
    late.org_type = genuine.org_type
    db_session.add(late)
    db_session.flush()
    with pytest.raises(service.OrganizationError) as refused:
        service.approve_organization(db_session, admin, late)
    assert str(refused.value.message) == str(service.USCC_ALREADY_VERIFIED)


def test_one_applicant_holds_one_open_application_per_uscc(db_session):
    code = OrganizationFactory.build().uscc
    applicant = UserFactory()
    service.apply_for_organization(db_session, applicant, _application(code))
    with pytest.raises(service.OrganizationError):
        service.apply_for_organization(db_session, applicant, _application(code))


def test_an_unconfirmed_address_holds_no_organization_role(client, db_session, login):
    """Finding 5: e-mail verification before any organization role, approval or money act."""
    organization = OrganizationFactory()
    owner = UserFactory(email_verified_at=None)
    MembershipFactory(organization=organization, user=owner, role="owner")
    login(owner)
    for path in (
        f"/orgs/{organization.id}/members",
        f"/orgs/{organization.id}/donations",
        f"/orgs/{organization.id}/edit",
    ):
        answer = client.get(path)
        assert answer.status_code == 403, path
        assert "Confirm your email address first" in answer.get_data(as_text=True)
    answer = client.post(
        f"/orgs/{organization.id}/members/invite", data={"email": "x@example.org", "role": "owner"}
    )
    assert answer.status_code == 403
    with pytest.raises(service.NotAllowedError):
        service.invite_member(db_session, owner, organization, "y@example.org", "owner")


def test_an_unconfirmed_address_cannot_apply_or_review(client, db_session, login):
    login(UserFactory(email_verified_at=None))
    assert client.get("/orgs/apply").status_code == 403
    login(UserFactory(platform_role="admin", email_verified_at=None))
    assert client.get("/admin/organizations").status_code == 403


def test_accepting_an_invitation_confirms_the_address(db_session):
    organization = OrganizationFactory()
    owner = MembershipFactory(organization=organization, role="owner").user
    invitee = UserFactory(email="invitee@example.org", email_verified_at=None)
    result = service.invite_member(db_session, owner, organization, invitee.email, "editor")
    service.accept_invitation(db_session, invitee, result.token)
    assert invitee.email_verified_at is not None


def test_confirming_again_for_a_new_link(client, db_session, login, mail_outbox):
    user = UserFactory(email_verified_at=None)
    login(user)
    assert client.post("/account/verify").status_code == 303
    assert mail_outbox[-1]["To"] == user.email
    assert client.get("/account/verify/forged-token").status_code == 400
