"""The admin review queue: approve, reject with a reason, events, resubmission."""

from __future__ import annotations

from charity.core.events import build_payload
from charity.models import Organization
from tests.support.factories import MembershipFactory, OrganizationFactory, UserFactory


def _pending_with_owner():  # type: ignore[no-untyped-def]
    org = OrganizationFactory(status="pending", name="待审核基金会")
    owner = MembershipFactory(organization=org, role="owner").user
    return org, owner


def test_queue_lists_pending_applications_only(client, db_session, login):
    pending, _ = _pending_with_owner()
    OrganizationFactory(name="已认证基金会")
    login(UserFactory(platform_role="admin"))
    page = client.get("/admin/organizations").get_data(as_text=True)
    assert pending.name in page
    assert "已认证基金会" not in page
    assert client.get(f"/admin/organizations/{pending.id}").status_code == 200


def test_approve_verifies_and_records_events(client, db_session, login, recorded_events):
    org, owner = _pending_with_owner()
    admin = UserFactory(platform_role="admin")
    login(admin)
    response = client.post(f"/admin/organizations/{org.id}", data={"decision": "approve"})
    assert response.status_code == 302
    db_session.refresh(org)
    assert org.status == "verified"
    assert org.reviewed_by_id == admin.id and org.reviewed_at is not None
    types = [event.type for event in recorded_events]
    assert types == ["organization.verified", "organization.member_added"]
    verified = recorded_events[0]
    assert verified.subject_table == "organizations" and verified.subject_id == org.id
    assert verified.data == {
        "organization_id": org.id,
        "org_uscc": org.uscc,
        "org_type": org.org_type,
    }
    added = recorded_events[1]
    assert added.data["membership_id"] == owner.memberships[0].id
    assert build_payload(db_session, "organization.verified", org.id) == verified.data
    # public now
    login(UserFactory())
    assert client.get(f"/orgs/{org.id}").status_code == 200


def test_reject_needs_a_reason(client, db_session, login, recorded_events):
    org, _ = _pending_with_owner()
    login(UserFactory(platform_role="admin"))
    response = client.post(f"/admin/organizations/{org.id}", data={"decision": "reject"})
    assert response.status_code == 400
    assert 'id="reason-error"' in response.get_data(as_text=True)
    db_session.refresh(org)
    assert org.status == "pending"
    assert recorded_events == []


def test_bad_decision_is_a_field_error(client, db_session, login):
    org, _ = _pending_with_owner()
    login(UserFactory(platform_role="admin"))
    response = client.post(f"/admin/organizations/{org.id}", data={"decision": "maybe"})
    assert response.status_code == 400
    db_session.refresh(org)
    assert org.status == "pending"


def test_rejection_reason_is_shown_and_the_owner_can_resubmit(
    client, db_session, login, recorded_events, application_form
):
    org, owner = _pending_with_owner()
    login(UserFactory(platform_role="admin"))
    reason = "登记证书与代码不一致"
    response = client.post(
        f"/admin/organizations/{org.id}", data={"decision": "reject", "reason": reason}
    )
    assert response.status_code == 302
    assert [event.type for event in recorded_events] == ["organization.rejected"]
    assert recorded_events[0].subject_id == org.id
    # the rejected application is not public
    login(UserFactory())
    assert client.get(f"/orgs/{org.id}").status_code == 404
    # the applicant sees the reason and may edit and resubmit
    login(owner)
    manage = client.get(f"/orgs/{org.id}/manage").get_data(as_text=True)
    assert reason in manage
    application_form["uscc"] = org.uscc
    application_form["name"] = "改正后的名称"
    response = client.post(f"/orgs/{org.id}/edit", data=application_form)
    assert response.status_code == 302
    db_session.refresh(org)
    assert org.status == "pending"
    assert org.name == "改正后的名称"


def test_already_reviewed_cannot_be_reviewed_again(client, db_session, login, recorded_events):
    org = OrganizationFactory(status="verified")
    login(UserFactory(platform_role="admin"))
    response = client.post(
        f"/admin/organizations/{org.id}", data={"decision": "reject", "reason": "x"}
    )
    assert response.status_code == 400
    db_session.refresh(org)
    assert org.status == "verified"
    assert recorded_events == []


def test_verified_registration_cannot_be_edited(client, db_session, login, application_form):
    org = OrganizationFactory(status="verified", name="原名")
    owner = MembershipFactory(organization=org, role="owner").user
    login(owner)
    application_form.update(uscc=org.uscc, name="新名")
    response = client.post(f"/orgs/{org.id}/edit", data=application_form)
    assert response.status_code == 302
    assert db_session.get(Organization, org.id).name == "原名"
