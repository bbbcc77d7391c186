"""Who may do what in the organizations area, for each role."""

from __future__ import annotations

import pytest

from charity.models import Membership
from tests.support.factories import MembershipFactory, OrganizationFactory, UserFactory


@pytest.fixture
def two_orgs(db_session):  # type: ignore[no-untyped-def]
    """Organization A with an owner and an editor; organization B (pending) with an owner."""
    org_a = OrganizationFactory()
    org_b = OrganizationFactory(status="pending")
    owner_a = MembershipFactory(organization=org_a, role="owner").user
    editor_a = MembershipFactory(organization=org_a, role="editor").user
    owner_b_membership = MembershipFactory(organization=org_b, role="owner")
    return org_a, org_b, owner_a, editor_a, owner_b_membership


def _change_requests(org_id: int, membership_id: int, form: dict) -> list[tuple[str, dict]]:
    return [
        (f"/orgs/{org_id}/edit", form),
        (f"/orgs/{org_id}/members/invite", {"email": "x@example.org", "role": "editor"}),
        (f"/orgs/{org_id}/members/{membership_id}/role", {"role": "editor"}),
        (f"/orgs/{org_id}/members/{membership_id}/remove", {}),
    ]


def test_editor_of_a_cannot_touch_b(client, db_session, login, two_orgs, application_form):
    _, org_b, _, editor_a, owner_b = two_orgs
    login(editor_a)
    assert client.get(f"/orgs/{org_b.id}/manage").status_code == 403
    assert client.get(f"/orgs/{org_b.id}/members").status_code == 403
    assert client.get(f"/orgs/{org_b.id}/edit").status_code == 403
    assert client.get(f"/orgs/{org_b.id}").status_code == 404  # pending: not public
    for url, data in _change_requests(org_b.id, owner_b.id, application_form):
        assert client.post(url, data=data).status_code == 403, url
    db_session.refresh(owner_b)
    assert owner_b.role == "owner" and owner_b.ended_at is None


def test_editor_may_look_but_not_change_own_org(
    client, db_session, login, two_orgs, application_form
):
    org_a, _, owner_a, editor_a, _ = two_orgs
    login(editor_a)
    assert client.get(f"/orgs/{org_a.id}/manage").status_code == 200
    assert client.get(f"/orgs/{org_a.id}/members").status_code == 200
    owner_membership = owner_a.memberships[0]
    for url, data in _change_requests(org_a.id, owner_membership.id, application_form):
        assert client.post(url, data=data).status_code == 403, url


def test_donor_cannot_open_the_review_queue(client, db_session, login, two_orgs):
    _, org_b, *_ = two_orgs
    login(UserFactory())
    assert client.get("/admin/organizations").status_code == 403
    assert client.get(f"/admin/organizations/{org_b.id}").status_code == 403
    response = client.post(f"/admin/organizations/{org_b.id}", data={"decision": "approve"})
    assert response.status_code == 403
    db_session.refresh(org_b)
    assert org_b.status == "pending"


def test_org_owner_cannot_review_either(client, db_session, login, two_orgs):
    _, org_b, _, _, owner_b = two_orgs
    login(owner_b.user)
    response = client.post(f"/admin/organizations/{org_b.id}", data={"decision": "approve"})
    assert response.status_code == 403


def test_regulator_cannot_change_anything(client, db_session, login, two_orgs, application_form):
    org_a, org_b, owner_a, _, owner_b = two_orgs
    login(UserFactory(platform_role="regulator", regulator_province="广东省"))
    assert client.post("/orgs/apply", data=application_form).status_code == 403
    response = client.post(f"/admin/organizations/{org_b.id}", data={"decision": "approve"})
    assert response.status_code == 403
    for org, membership in ((org_a, owner_a.memberships[0]), (org_b, owner_b)):
        for url, data in _change_requests(org.id, membership.id, application_form):
            assert client.post(url, data=data).status_code == 403, url
    db_session.refresh(org_b)
    assert org_b.status == "pending"


@pytest.mark.parametrize(
    "path",
    [
        "/orgs/apply",
        "/orgs/mine",
        "/orgs/{a}/manage",
        "/orgs/{a}/members",
        "/orgs/{a}/edit",
        "/admin/organizations",
        "/admin/organizations/{a}",
    ],
)
def test_anonymous_visitor_is_sent_to_log_in(client, db_session, two_orgs, path):
    org_a = two_orgs[0]
    response = client.get(path.format(a=org_a.id))
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/account/login")


def test_anonymous_posts_are_sent_to_log_in_and_change_nothing(
    client, db_session, two_orgs, application_form
):
    org_a, _, owner_a, _, _ = two_orgs
    membership = owner_a.memberships[0]
    for url, data in _change_requests(org_a.id, membership.id, application_form):
        response = client.post(url, data=data)
        assert response.status_code == 302, url
        assert "/account/login" in response.headers["Location"]
    assert db_session.get(Membership, membership.id).ended_at is None


def test_admin_may_see_pending_pages_but_not_manage_them(client, db_session, login, two_orgs):
    _, org_b, *_ = two_orgs
    login(UserFactory(platform_role="admin"))
    assert client.get(f"/orgs/{org_b.id}").status_code == 200
    assert client.get(f"/orgs/{org_b.id}/manage").status_code == 403
